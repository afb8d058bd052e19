//! Inclusion and consistency proofs on a large log, and the audit against raw SHA-256.

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use std::time::Instant;

use crate::ledger::proof_cache::{self, ProofCache};
use crate::ledger::proofs;
use crate::storage::identity::{self, AgencyRow, UserRow};
use crate::storage::log_store::{self, CheckpointRow, NewEntry, NewNode, node_key};
use crate::storage::{self, DatabaseUrl};
use scelle_verifier::entry::{
    Actor, AgencyRecord, CaseLink, CaseRecord, CustodyRecord, Entry, Event, EvidenceRecord,
    FORMAT_VERSION, Hashes, UserRecord,
};
use scelle_verifier::merkle::{self, CompactRange, NodeId};
use scelle_verifier::model::{CustodyEventType, EvidenceKind, Jurisdiction, Role};
use scelle_verifier::note::Checkpoint;

use super::args::*;
use super::setup::*;

const BENCH_AGENCY: &str = "tg.police.bench";
const BENCH_ANALYST: &str = "8e3f7c1a-55b2-4d6e-9f10-2b7c3d4e5f60";
const BENCH_CASE: &str = "c0ffee00-0000-4000-8000-000000000000";
/// Entries before the first item: the agency, the analyst, the case.
const PREAMBLE: u64 = 3;
/// Entries per item: its registration, then examinations.
const ENTRIES_PER_ITEM: u64 = 20;

/// The event of the bench log's entry `seq`.
fn bench_event(seq: u64) -> Event {
    match seq {
        0 => Event::AgencyRegistered(AgencyRecord {
            id: BENCH_AGENCY.into(),
            state: Jurisdiction::Togo,
            name: "Banc d'essai".into(),
            lab: false,
        }),
        1 => Event::UserRegistered(UserRecord {
            id: BENCH_ANALYST.into(),
            role: Role::LabAnalyst,
            agency: BENCH_AGENCY.into(),
        }),
        2 => Event::CaseOpened(CaseRecord {
            id: BENCH_CASE.into(),
            reference: "TG-BENCH-2026-00001".into(),
            jurisdiction: Jurisdiction::Togo,
            offence: "budapest-art-7".into(),
            legal_basis: "REQ-2026-118".into(),
            agency: BENCH_AGENCY.into(),
            officer: BENCH_ANALYST.into(),
            title: None,
            jurisdiction_basis: None,
        }),
        _ => {
            let n = seq - PREAMBLE;
            let item = format!("{:08x}-1111-4000-8000-000000000000", n / ENTRIES_PER_ITEM);
            if n.is_multiple_of(ENTRIES_PER_ITEM) {
                return Event::EvidenceRegistered(EvidenceRecord {
                    id: item,
                    case: BENCH_CASE.into(),
                    exhibit_number: format!("P-{}", n / ENTRIES_PER_ITEM),
                    seal_number: format!("S-{}", n / ENTRIES_PER_ITEM),
                    kind: EvidenceKind::ForensicImage,
                    hashes: Hashes {
                        sha256: hex::encode(merkle::leaf_hash(&seq.to_be_bytes())),
                        sha512: None,
                        sha1: None,
                        md5: None,
                    },
                    size_bytes: Some(64 << 30),
                    collected_at: "2026-11-23T09:00:00+00:00".into(),
                    collector: BENCH_ANALYST.into(),
                    description: None,
                    location: None,
                    acquisition: None,
                    parent: None,
                });
            }
            Event::Custody(CustodyRecord {
                id: format!("{seq:08x}-0000-4000-8000-000000000000"),
                item,
                case: BENCH_CASE.into(),
                event_type: CustodyEventType::Examined,
                at: "2026-11-23T09:59:00+00:00".into(),
                place: None,
                reason: Some(scelle_verifier::commitment::Commitment {
                    record: format!("{seq:08x}-2222-4000-8000-000000000000"),
                    hmac: hex::encode(merkle::leaf_hash(&seq.to_le_bytes())),
                }),
                tool: Some("X-Ways Forensics 21.0".into()),
                authorization: Some("REQ-2026-118".into()),
                to_user: None,
                seal_intact: None,
                sha256: None,
                result: None,
                amends: None,
                derived_item: None,
            })
        }
    }
}

/// Builds a log of `args.entries` realistic entries straight into storage (proofs and audit read
/// storage; how the entries got there does not change what they cost): an agency, a user and a
/// case, then items of 20 entries each, a registration and 19 examinations. The registry is then
/// rebuilt from the log (untimed), so the audit finds every table the log's exact projection.
pub(super) fn proofs_and_audit(
    args: &BenchArgs,
    work: &std::path::Path,
    url: &DatabaseUrl,
) -> Result<(), String> {
    let dir = work.join("big");
    std::fs::create_dir_all(&dir).map_err(err)?;
    let signer = scelle_verifier::note::NoteSigner::generate("bench.scelle/big").map_err(err)?;
    let pool = storage::open_pool(url, 4).map_err(err)?;
    let mut c = storage::get_conn(&pool).map_err(err)?;
    let base = log_store::head(&mut c).map_err(err)?.0;
    if base != 0 {
        return Err("the proof/audit bench needs an empty database".into());
    }
    let started = Instant::now();
    let mut range = CompactRange::default();
    let mut prev = [0u8; 32];
    let mut seq = 0u64;
    let chunk = 20_000u64;
    let mut bodies_for_sha: Vec<Vec<u8>> = Vec::new();
    let keep_for_sha = args.entries.min(1_000_000);
    while seq < args.entries {
        let n = chunk.min(args.entries - seq);
        let mut entries = Vec::with_capacity(n as usize);
        let mut nodes = Vec::new();
        for _ in 0..n {
            let entry = Entry {
                version: FORMAT_VERSION,
                seq,
                prev,
                // Every entry from the case's opening on is the case's: each links to the one
                // before it.
                case_prev: (seq > PREAMBLE - 1).then_some(CaseLink {
                    seq: seq.saturating_sub(1),
                    leaf: prev,
                }),
                time: "2026-11-23T10:00:00.000000Z".into(),
                origin: "bench.scelle/big".into(),
                actor: Actor {
                    user: BENCH_ANALYST.into(),
                    agency: BENCH_AGENCY.into(),
                    role: Role::LabAnalyst,
                },
                event: bench_event(seq),
            };
            let body = entry.to_canonical_bytes().map_err(err)?;
            let leaf = merkle::leaf_hash(&body);
            range.append(leaf, |id, h| {
                nodes.push(NewNode {
                    node_key: node_key(id),
                    hash: h.to_vec(),
                })
            });
            if seq < keep_for_sha {
                bodies_for_sha.push(body.clone());
            }
            entries.push(NewEntry {
                seq: seq as i64,
                leaf_hash: leaf.to_vec(),
                body,
            });
            prev = leaf;
            seq += 1;
        }
        let cp = Checkpoint {
            origin: signer.name().into(),
            size: range.size(),
            root: range.root(),
        };
        let note = cp.sign(&signer).map_err(err)?;
        c.transaction(|c| -> Result<(), storage::StorageError> {
            log_store::insert_batch(c, &entries, &nodes)?;
            log_store::insert_checkpoint(
                c,
                &CheckpointRow {
                    tree_size: range.size() as i64,
                    root_hash: cp.root.to_vec(),
                    note,
                    created_at: "2026-11-23T10:00:00Z".into(),
                },
            )
        })
        .map_err(err)?;
    }
    // The node-local rows the sequencer writes beside identity entries, then the registry from
    // the log, as `scelle rebuild` makes it.
    let built = started.elapsed().as_secs_f64();
    identity::insert_agency(
        &mut c,
        &AgencyRow {
            id: BENCH_AGENCY.into(),
            state: "TG".into(),
            name: "Banc d'essai".into(),
            created_at: "2026-11-23T10:00:00Z".into(),
            is_lab: false,
        },
    )
    .map_err(err)?;
    identity::insert_user(
        &mut c,
        &UserRow {
            id: BENCH_ANALYST.into(),
            name: "Analyste".into(),
            role: Role::LabAnalyst.as_str().into(),
            agency_id: BENCH_AGENCY.into(),
            created_at: "2026-11-23T10:00:00Z".into(),
            login: None,
            password_hash: None,
            disabled_at: None,
        },
    )
    .map_err(err)?;
    let rebuilding = Instant::now();
    crate::ledger::rebuild::rebuild(&pool).map_err(err)?;
    println!(
        "built a log of {} entries in {built:.1} s, its registry in {:.1} s",
        args.entries,
        rebuilding.elapsed().as_secs_f64()
    );
    // Let the gigabytes just written reach the disk before timing reads, as on a node that has
    // been running: otherwise reads queue behind the kernel's write-back of the build.
    if let storage::DbConnection::Sqlite(_) = &*c {
        c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
            .map_err(err)?;
        std::fs::File::open(dir.join("scelle.db"))
            .and_then(|f| f.sync_all())
            .map_err(err)?;
    }
    let size = range.size();
    let root = range.root();
    // A serving node holds the tree's upper levels in memory from start-up (ledger::proof_cache).
    let started = Instant::now();
    let cache = ProofCache::new(proof_cache::CAPACITY);
    cache.warm(&mut c, size).map_err(err)?;
    println!(
        "node cache: {} upper-tree hashes read in {:.2} s",
        cache.len(),
        started.elapsed().as_secs_f64()
    );

    let mut rng = 0x9e3779b97f4a7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    // The first proofs after the build touch pages no request has read yet; a serving node has
    // long since read its hot pages. Both are printed: the first 2,000 random proofs, then the
    // next 4,000 (other random leaves, the same kind of requests).
    for (label, samples) in [
        ("first 2,000 after the build", 2_000),
        ("next 4,000", 4_000),
    ] {
        let mut inc = Vec::with_capacity(samples);
        let mut con = Vec::with_capacity(samples);
        for _ in 0..samples {
            let i = next() % size;
            let t = Instant::now();
            let p = proofs::inclusion_proof(&mut c, &cache, i, size).map_err(err)?;
            inc.push(t.elapsed().as_secs_f64() * 1e3);
            let leaf = log_store::fetch_nodes(&mut c, &[NodeId::new(0, i)]).map_err(err)?;
            let hashes = decode(&p.hashes)?;
            merkle::verify_inclusion(i, size, &leaf[&NodeId::new(0, i)], &hashes, &root)
                .map_err(err)?;
            let from = 1 + next() % (size - 1).max(1);
            let t = Instant::now();
            let p = proofs::consistency_proof(&mut c, &cache, from, size).map_err(err)?;
            con.push(t.elapsed().as_secs_f64() * 1e3);
            let old = merkle::root(
                &log_store::fetch_nodes(&mut c, &merkle::needed_nodes_for_root(from))
                    .map_err(err)?,
                from,
            )
            .map_err(err)?;
            merkle::verify_consistency(from, size, &old, &root, &decode(&p.hashes)?)
                .map_err(err)?;
        }
        inc.sort_by(f64::total_cmp);
        con.sort_by(f64::total_cmp);
        println!(
            "inclusion proof at {size} entries ({label}): p50 {:.3} ms, p99 {:.3} ms; consistency proof: p50 {:.3} ms, p99 {:.3} ms (all verified)",
            percentile(&inc, 0.5),
            percentile(&inc, 0.99),
            percentile(&con, 0.5),
            percentile(&con, 0.99)
        );
    }

    let verifier = signer.verifier().map_err(err)?;
    let report = crate::ledger::audit::audit(&pool, &verifier).map_err(err)?;
    let audit_mbs = report.entry_bytes as f64 / 1e6 / report.seconds;
    let sha_bytes: u64 = bodies_for_sha.iter().map(|b| b.len() as u64).sum();
    let t = Instant::now();
    for b in &bodies_for_sha {
        std::hint::black_box(Sha256::digest(b));
    }
    let sha_mbs = sha_bytes as f64 / 1e6 / t.elapsed().as_secs_f64();
    println!(
        "audit: {:.0} MB/s of entry bytes ({} entries, {} nodes, {} checkpoints in {:.2} s); raw SHA-256 on the same bytes {sha_mbs:.0} MB/s; ratio {:.2}",
        audit_mbs,
        report.entries,
        report.nodes,
        report.checkpoints,
        report.seconds,
        audit_mbs / sha_mbs
    );
    drop(c);
    drop(pool);
    if let DatabaseUrl::Postgres(_) = url {
        let mut c = url.connect().map_err(err)?;
        c.batch_execute(
            "TRUNCATE log_entries, tree_nodes, checkpoints, access_records, persons, \
             case_shares, custody_events, custody_states, evidence_items, cases, api_tokens, \
             users, agencies",
        )
        .map_err(err)?;
    }
    Ok(())
}

pub(super) fn decode(hashes: &[String]) -> Result<Vec<merkle::Hash>, String> {
    use base64::Engine as _;
    hashes
        .iter()
        .map(|h| {
            base64::engine::general_purpose::STANDARD
                .decode(h)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| "bad hash".to_string())
        })
        .collect()
}
