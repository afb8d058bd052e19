//! `scelle hash` against in-memory SHA-256, and a large dossier exported and verified.

use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;

use crate::node::Node;
use crate::storage::DatabaseUrl;
use crate::usecases::admin::{self, InitOptions};
use crate::usecases::cases::{self, NewCase};
use crate::usecases::custody::{self};
use crate::usecases::dossiers;
use crate::usecases::evidence::{self, NewEvidence};

use super::args::*;
use super::setup::*;

pub(super) fn hashing(args: &BenchArgs, work: &std::path::Path) -> Result<(), String> {
    use std::io::Write as _;
    let path = work.join("hash.bin");
    let block: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    {
        let mut f = std::fs::File::create(&path).map_err(err)?;
        for _ in 0..args.hash_mib {
            f.write_all(&block).map_err(err)?;
        }
        f.sync_all().map_err(err)?;
    }
    let bytes = args.hash_mib as f64 * 1048576.0;
    // Best of three runs each, so a stray writeback or scheduler hiccup does not decide it.
    let mut file_mbs = 0f64;
    let mut digest = [0u8; 32];
    for _ in 0..3 {
        let t = Instant::now();
        digest = scelle_verifier::filehash::sha256_file(&path, |_| {}).map_err(err)?;
        file_mbs = file_mbs.max(bytes / 1e6 / t.elapsed().as_secs_f64());
    }
    let mut mem_mbs = 0f64;
    let mut same = [0u8; 32];
    for _ in 0..3 {
        let t = Instant::now();
        let mut h = Sha256::new();
        for _ in 0..args.hash_mib {
            h.update(&block);
        }
        same = h.finalize().into();
        mem_mbs = mem_mbs.max(bytes / 1e6 / t.elapsed().as_secs_f64());
    }
    if same != digest {
        return Err("file and in-memory digests differ".into());
    }
    let _ = std::fs::remove_file(&path);
    println!(
        "scelle hash: {file_mbs:.0} MB/s on a {} MiB file (page cache warm); in-memory SHA-256 {mem_mbs:.0} MB/s; ratio {:.2}",
        args.hash_mib,
        file_mbs / mem_mbs
    );
    Ok(())
}

/// A case of `args.dossier_items` items with `args.dossier_events` custody events, appended
/// through the real path; then the time to export its dossier (to JSON bytes) and to verify it,
/// and the throughput of checking four evidence files at once against one.
pub(super) fn dossier_figures(
    args: &BenchArgs,
    work: &std::path::Path,
    db: &DatabaseUrl,
) -> Result<(), String> {
    let dir = work.join("dossier");
    admin::init(&InitOptions {
        data_dir: dir.clone(),
        database: db.clone(),
        origin: "bench.scelle/dossier".into(),
        agency_id: "tg.police.bench".into(),
        agency_name: "Bench".into(),
    })
    .map_err(err)?;
    let (ledger, handle) = Node::open(&dir, db, 16).map_err(err)?;
    let user = bench_investigator(&ledger, "bench")?;
    let reference = format!("TG-DOSSIER-{}", std::process::id());
    let (case, _) = cases::open(
        &ledger,
        &user,
        NewCase {
            reference,
            title: Some("Fraude au mobile money".into()),
            jurisdiction: "TG".into(),
            offence: "Budapest art. 8".into(),
            legal_basis: "R-2026-1".into(),
            jurisdiction_basis: None,
        },
    )
    .map_err(err)?;
    let started = Instant::now();
    let ledger = Arc::new(ledger);
    let items = args.dossier_items;
    let per_item = args.dossier_events / items.max(1);
    let threads: Vec<_> = (0..32u64)
        .map(|t| {
            let (ledger, user, case_id) = (ledger.clone(), user.clone(), case.id.clone());
            std::thread::spawn(move || -> Result<(), String> {
                for i in (t..items).step_by(32) {
                    let (item, _) = evidence::register(
                        &ledger,
                        &user,
                        &case_id,
                        NewEvidence {
                            description: Some(format!("Extraction {i}")),
                            acquisition_tool: Some("FTK Imager".into()),
                            ..bench_item(i)
                        },
                    )
                    .map_err(err)?;
                    for _ in 0..per_item {
                        custody::record(&ledger, &user, &item.id, examined()).map_err(err)?;
                    }
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "writer panicked".to_owned())??;
    }
    let built = started.elapsed().as_secs_f64();

    let t = Instant::now();
    let dossier = dossiers::export(
        &ledger,
        &case.id,
        &dossiers::ExportOptions {
            cosigned_within: None,
            personal_data: true,
            since_checkpoint: None,
            to_peer: None,
        },
    )
    .map_err(err)?;
    let bytes = serde_json::to_vec(&dossier).map_err(err)?;
    let export_s = t.elapsed().as_secs_f64();
    let trusted = ledger.note_verifier().map_err(err)?;
    let t = Instant::now();
    let parsed: scelle_verifier::dossier::Dossier = serde_json::from_slice(&bytes).map_err(err)?;
    let report = scelle_verifier::dossier::verify(&parsed, std::slice::from_ref(&trusted), &[]);
    let verify_s = t.elapsed().as_secs_f64();
    if !report.ok {
        return Err(format!(
            "bench dossier does not verify: {:?}",
            report.findings
        ));
    }
    println!(
        "dossier of {} items and {} custody events ({} entries, {:.1} MB; appended in {built:.1} s): export {export_s:.2} s, verify {verify_s:.2} s",
        report.items.len(),
        report
            .items
            .iter()
            .map(|i| i.events.len() - 1)
            .sum::<usize>(),
        report.entries,
        bytes.len() as f64 / 1e6
    );
    drop(parsed);
    if let Ok(ledger) = Arc::try_unwrap(ledger) {
        ledger.shutdown(handle);
    }

    // Evidence files: one alone, then four at once (one hashing thread per core).
    use std::io::Write as _;
    let block: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let mut files = Vec::new();
    for n in 0..4u8 {
        let path = work.join(format!("evidence-{n}.bin"));
        let mut f = std::fs::File::create(&path).map_err(err)?;
        for _ in 0..args.hash_mib {
            f.write_all(&block).map_err(err)?;
        }
        f.write_all(&[n]).map_err(err)?;
        f.sync_all().map_err(err)?;
        files.push(path);
    }
    let bytes_each = args.hash_mib as f64 * 1048576.0;
    let mut one = 0f64;
    let mut four = 0f64;
    for _ in 0..2 {
        let t = Instant::now();
        scelle_verifier::offline::hash_files(&files[..1], false).map_err(err)?;
        one = one.max(bytes_each / 1e6 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        scelle_verifier::offline::hash_files(&files, false).map_err(err)?;
        four = four.max(4.0 * bytes_each / 1e6 / t.elapsed().as_secs_f64());
    }
    for f in &files {
        let _ = std::fs::remove_file(f);
    }
    println!(
        "verify --file: one file {one:.0} MB/s, four files at once {four:.0} MB/s; ratio {:.2} ({} cores)",
        four / one,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    Ok(())
}
