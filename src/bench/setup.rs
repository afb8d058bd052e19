//! A bench node with its writers, the closed loops that drive them, and the helpers every phase
//! shares.

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::authz::AuthUser;
use crate::ledger::sequencer::PipelineStats;
use crate::node::Node;
use crate::storage::{self, DatabaseUrl};
use crate::usecases::admin::{self, InitOptions};
use crate::usecases::cases::{self, NewCase};
use crate::usecases::custody::{self, NewCustodyEvent};
use crate::usecases::evidence::{self, NewEvidence};
use crate::usecases::log;
use scelle_verifier::model::{Jurisdiction, Role};

use super::args::*;
use super::machine::*;

pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub(super) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Where one phase keeps its log: a fresh SQLite file in its folder, or on PostgreSQL a fresh
/// schema of the given database (`scelle_bench_<phase>`, chosen through `search_path`), so the
/// phases never see each other's rows and the database is left as it was.
pub(super) fn phase_db(
    base: &DatabaseUrl,
    dir: &std::path::Path,
    phase: &str,
) -> Result<DatabaseUrl, String> {
    match base {
        DatabaseUrl::Sqlite(_) => {
            std::fs::create_dir_all(dir).map_err(err)?;
            Ok(DatabaseUrl::sqlite_in(dir))
        }
        DatabaseUrl::Postgres(url) => {
            let schema = format!("scelle_bench_{phase}");
            let mut c = base.connect().map_err(err)?;
            c.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
            ))
            .map_err(err)?;
            let sep = if url.contains('?') { '&' } else { '?' };
            Ok(DatabaseUrl::Postgres(format!(
                "{url}{sep}options=-csearch_path%3D{schema}"
            )))
        }
    }
}

pub(super) fn drop_phase_schema(base: &DatabaseUrl, phase: &str) {
    if let DatabaseUrl::Postgres(_) = base
        && let Ok(mut c) = base.connect()
    {
        let _ = c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS scelle_bench_{phase} CASCADE"
        ));
    }
}

pub(super) struct Setup {
    pub(super) ledger: Arc<Node>,
    pub(super) handle: std::thread::JoinHandle<()>,
    pub(super) writers: Vec<(AuthUser, String)>,
}

pub(super) fn setup(
    args: &BenchArgs,
    work: &std::path::Path,
    db: &DatabaseUrl,
) -> Result<Setup, String> {
    let data_dir = work.join("node");
    admin::init(&InitOptions {
        data_dir: data_dir.clone(),
        database: db.clone(),
        origin: "bench.scelle/log".into(),
        agency_id: "tg.police.bench".into(),
        agency_name: "Bench".into(),
    })
    .map_err(err)?;
    let (ledger, handle) =
        Node::open(&data_dir, db, (args.writers as u32).clamp(4, 32)).map_err(err)?;
    let mut writers = Vec::new();
    let mut case_id = String::new();
    for w in 0..args.writers {
        let user = bench_investigator(&ledger, &format!("bench {w}"))?;
        if case_id.is_empty() {
            let reference = format!("TG-BENCH-{}", std::process::id());
            let (case, _) = cases::open(
                &ledger,
                &user,
                NewCase {
                    reference,
                    title: None,
                    jurisdiction: "TG".into(),
                    offence: "bench".into(),
                    legal_basis: "bench".into(),
                    jurisdiction_basis: None,
                },
            )
            .map_err(err)?;
            case_id = case.id;
        }
        let (item, _) = evidence::register(
            &ledger,
            &user,
            &case_id,
            NewEvidence {
                kind: "forensic_image".into(),
                size_bytes: Some(1 << 30),
                ..bench_item(w as u64)
            },
        )
        .map_err(err)?;
        writers.push((user, item.id));
    }
    Ok(Setup {
        ledger: Arc::new(ledger),
        handle,
        writers,
    })
}

/// Runs `work` on every writer for `seconds`; operations per second.
pub(super) fn rate_of(
    s: &Setup,
    seconds: f64,
    work: impl Fn(&Node, &AuthUser, &str) -> bool + Send + Sync + Clone + 'static,
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = s
        .writers
        .iter()
        .cloned()
        .map(|(user, item)| {
            let (ledger, stop, done, work) =
                (s.ledger.clone(), stop.clone(), done.clone(), work.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if work(&ledger, &user, &item) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// An item numbered `n`, with a hash of its own.
pub(super) fn bench_item(n: u64) -> NewEvidence {
    NewEvidence {
        exhibit_number: format!("P{n}"),
        seal_number: format!("S{n}"),
        kind: "file".into(),
        description: None,
        sha256: hex::encode(Sha256::digest(n.to_le_bytes())),
        sha512: None,
        sha1: None,
        md5: None,
        size_bytes: Some(4096),
        collected_at: "2026-11-23T09:00:00+00:00".into(),
        location: None,
        acquisition_tool: None,
        acquisition_tool_version: None,
        acquisition_settings: None,
        parent_id: None,
    }
}

pub(super) fn examined() -> NewCustodyEvent {
    NewCustodyEvent {
        event_type: "examined".into(),
        reason: Some("analyse du contenu / content analysis".into()),
        tool: Some("X-Ways Forensics 21.0".into()),
        authorization: Some("REQ-2026-118".into()),
        ..Default::default()
    }
}

/// How the bench's closed-loop writers wait for their receipts.
#[derive(Clone, Copy)]
pub(super) enum Writers {
    /// One thread per writer, blocked on its answer (the CLI's and the service layer's way).
    Threads,
    /// Writers as tasks spread over this many threads, awaiting their answers (the HTTP way).
    Tasks(usize),
}

/// What one closed-loop run appended, in how long, and the CPU it took.
pub(super) struct LoopRun {
    pub(super) appended: u64,
    pub(super) elapsed: f64,
    pub(super) cpu: Option<String>,
}

/// `writers` append custody events as fast as their receipts come back, for `seconds`.
pub(super) fn closed_loop(s: &Setup, seconds: u64, writers: Writers) -> LoopRun {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let cpu_before = cpu_times();
    let started = Instant::now();
    let threads: Vec<_> = match writers {
        Writers::Threads => s
            .writers
            .iter()
            .cloned()
            .map(|(user, item)| {
                let (ledger, stop, done) = (s.ledger.clone(), stop.clone(), done.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        if custody::record(&ledger, &user, &item, examined()).is_ok() {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect(),
        Writers::Tasks(threads) => {
            let threads = threads.max(1);
            (0..threads)
                .map(|t| {
                    let mine: Vec<_> = s.writers.iter().skip(t).step_by(threads).cloned().collect();
                    let (ledger, stop, done) = (s.ledger.clone(), stop.clone(), done.clone());
                    // Named, so that `perf` and `top` tell the writers' thread from the node's.
                    let spawned = std::thread::Builder::new()
                        .name(format!("bench-writers-{t}"))
                        .spawn(move || {
                            let runtime =
                                match tokio::runtime::Builder::new_current_thread().build() {
                                    Ok(runtime) => runtime,
                                    Err(e) => return eprintln!("bench: no runtime: {e}"),
                                };
                            let local = tokio::task::LocalSet::new();
                            for (user, item) in mine {
                                let (ledger, stop, done) =
                                    (ledger.clone(), stop.clone(), done.clone());
                                local.spawn_local(async move {
                                    while !stop.load(Ordering::Relaxed) {
                                        let Ok(submitted) =
                                            custody::submit(&ledger, &user, &item, examined())
                                        else {
                                            // Let the thread's other writers run; this one retries.
                                            tokio::task::yield_now().await;
                                            continue;
                                        };
                                        if submitted.recorded().await.is_ok() {
                                            done.fetch_add(1, Ordering::Relaxed);
                                        }
                                    }
                                });
                            }
                            runtime.block_on(local);
                        });
                    spawned
                        .map_err(|e| eprintln!("bench: no writer thread: {e}"))
                        .ok()
                })
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default()
        }
    };
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_after = cpu_times();
    let appended = done.load(Ordering::Relaxed);
    let cpu = match (&cpu_before, &cpu_after) {
        (Some(before), Some(after)) => Some(cpu_report(before, after, appended, elapsed)),
        _ => None,
    };
    LoopRun {
        appended,
        elapsed,
        cpu,
    }
}

/// One line: where a batch's time went, and the writers' round trip it adds up to. With every
/// writer waiting on its own answer, appends/s = writers / round trip (Little's law), so the
/// round trip, not only the CPU per append, sets the rate.
pub(super) fn pipeline_report(p: &PipelineStats, run: &LoopRun, writers: usize) -> String {
    let micros = |nanos: u64, count: u64| nanos as f64 / 1e3 / count.max(1) as f64;
    let mut line = format!(
        "pipeline: a batch every {:.0} µs; the sequencer at work {:.0} µs per batch, waiting {:.0} µs",
        run.elapsed * 1e6 / p.batches.max(1) as f64,
        micros(p.batch_nanos, p.batches),
        micros(p.waiting_nanos, p.batches),
    );
    if p.syncs > 0 {
        line.push_str(&format!(
            "; fsync {:.0} µs, {:.2} batches each; commit to durable {:.0} µs",
            micros(p.sync_nanos, p.syncs),
            p.synced_batches as f64 / p.syncs as f64,
            micros(p.commit_to_durable_nanos, p.synced_batches),
        ));
    }
    if p.log_restarts > 0 {
        line.push_str(&format!(
            "; {} log restarts, each holding the sequencer {:.0} µs ({:.1}% of the time)",
            p.log_restarts,
            micros(p.log_restart_nanos, p.log_restarts),
            p.log_restart_nanos as f64 / 1e7 / run.elapsed.max(1e-9),
        ));
    }
    line.push_str(&format!(
        "; a writer's round trip {:.2} ms ({writers} writers / rate)",
        writers as f64 * run.elapsed * 1e3 / run.appended.max(1) as f64
    ));
    line
}

/// Runs `closed_loop` and prints its line (rate and mean batch) and its CPU line; the run and
/// its mean batch size.
pub(super) fn measured_loop(
    s: &Setup,
    seconds: u64,
    writers: Writers,
    description: &str,
) -> Result<(LoopRun, f64), String> {
    let checkpoints_before = count_checkpoints(&s.ledger)?;
    let pipeline_before = log::pipeline(&s.ledger);
    let run = closed_loop(s, seconds, writers);
    let pipeline = log::pipeline(&s.ledger).since(&pipeline_before);
    let batches = count_checkpoints(&s.ledger)? - checkpoints_before;
    let mean_batch = run.appended as f64 / batches.max(1) as f64;
    println!(
        "appends (sequencer, {description}): {} in {:.1} s = {:.0} appends/s (mean batch {mean_batch:.1})",
        run.appended,
        run.elapsed,
        run.appended as f64 / run.elapsed,
    );
    if let Some(cpu) = &run.cpu {
        println!("  {cpu}");
    }
    println!("  {}", pipeline_report(&pipeline, &run, s.writers.len()));
    Ok((run, mean_batch))
}

pub(super) fn count_checkpoints(ledger: &Node) -> Result<u64, String> {
    let mut c = storage::get_conn(ledger.pool()).map_err(err)?;
    let n: i64 = storage::schema::checkpoints::table
        .count()
        .get_result(&mut *c)
        .map_err(err)?;
    Ok(n as u64)
}

/// An investigator of the bench's agency (`tg.police.bench`), as the use cases see them.
pub(super) fn bench_investigator(node: &Node, name: &str) -> Result<AuthUser, String> {
    let (row, _) =
        admin::add_user(node, name, Role::Investigator, "tg.police.bench", None).map_err(err)?;
    Ok(AuthUser {
        id: row.id,
        name: row.name,
        role: Role::Investigator,
        agency: row.agency_id,
        state: Jurisdiction::Togo,
        agency_is_lab: false,
    })
}
