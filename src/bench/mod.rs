//! `scelle bench`: the performance figures the README quotes, measured in one run on real
//! storage (a fresh SQLite folder, or `--database-url` for PostgreSQL).
//!
//! Each figure is printed next to its ceiling on the same machine and bytes: sequencer appends
//! vs. the same rows inserted raw with the same durability; audit vs. raw SHA-256 of the same
//! entry bytes; `scelle hash` vs. in-memory SHA-256.

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::authz::{self, AuthUser, Target};
use crate::ledger::proof_cache::{self, ProofCache};
use crate::ledger::proofs;
use crate::ledger::sequencer::PipelineStats;
use crate::node::Node;
use crate::policy::cedar::{AccessContext, Action, Principal, Resource};
use crate::storage::log_store::{self, CheckpointRow, NewEntry, NewNode, node_key};
use crate::storage::registry::EvidenceRow;
use crate::storage::{self, DatabaseUrl};
use crate::usecases::admin::{self, InitOptions};
use crate::usecases::cases::{self, NewCase};
use crate::usecases::custody::{self, NewCustodyEvent};
use crate::usecases::evidence::{self, NewEvidence};
use crate::usecases::{dossiers, log};
use scelle_verifier::entry::{Actor, CustodyRecord, Entry, Event};
use scelle_verifier::merkle::{self, CompactRange, NodeId};
use scelle_verifier::model::{CustodyEventType, Jurisdiction, Role};
use scelle_verifier::note::Checkpoint;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: u64,
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    #[arg(long, default_value_t = 64)]
    pub writers: usize,
    #[arg(long)]
    pub writer_threads: Option<usize>,
    #[arg(long, default_value_t = 1024)]
    pub hash_mib: u64,
    #[arg(long, default_value_t = 1_000)]
    pub dossier_items: u64,
    #[arg(long, default_value_t = 20_000)]
    pub dossier_events: u64,
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    #[arg(long, value_delimiter = ',', default_values_t = Phase::ALL)]
    pub phases: Vec<Phase>,
}

/// One group of figures of the bench.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Appends,
    Authz,
    Proofs,
    Hash,
    Dossier,
}

impl Phase {
    const ALL: [Phase; 5] = [
        Phase::Appends,
        Phase::Authz,
        Phase::Proofs,
        Phase::Hash,
        Phase::Dossier,
    ];
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use clap::ValueEnum as _;
        match self.to_possible_value() {
            Some(v) => f.write_str(v.get_name()),
            None => Ok(()),
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// CPU time used so far, user and system, in seconds: by the whole process (all threads) and
/// by each of the node's named threads (sequencer, syncer, WAL checkpointer). Read from
/// `/proc/self/stat` and `/proc/self/task/*/stat`, in the kernel's ticks of 1/100 s; `None`
/// where there is no `/proc`. Appends per second move with whatever else the machine runs;
/// CPU per append, and how busy the one sequencer thread is, much less so.
struct CpuTimes {
    process: (f64, f64),
    named: Vec<(String, f64)>,
    /// Bytes the sequencer thread has handed to `write` calls (`wchar` of its
    /// `/proc/self/task/*/io`): on SQLite, the frames of its write-ahead log.
    sequencer_wrote: Option<u64>,
    /// The whole machine's CPU time so far, from the `cpu` line of `/proc/stat`.
    machine: Option<MachineTicks>,
}

/// All cores' time in ticks: in total, idle, and stolen (a virtual machine's cores kept waiting
/// while the hypervisor ran something else). Stolen time is one reason this machine's speed
/// swings from minute to minute; the bench prints its share beside each rate.
#[derive(Clone, Copy)]
struct MachineTicks {
    total: u64,
    idle: u64,
    steal: u64,
}

/// The `cpu` line of `/proc/stat`: user, nice, system, idle, iowait, irq, softirq, steal, …
fn machine_ticks(stat: &str) -> Option<MachineTicks> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // Guest time (fields 9 and 10) is already counted in user time.
    Some(MachineTicks {
        total: fields.iter().take(8).sum(),
        idle: fields.get(3)? + fields.get(4)?,
        steal: *fields.get(7)?,
    })
}

/// The `wchar` line of a `/proc/…/io` file.
fn written_of_io(io: &str) -> Option<u64> {
    io.lines()
        .find_map(|line| line.strip_prefix("wchar: "))
        .and_then(|bytes| bytes.trim().parse().ok())
}

fn cpu_of_stat(stat: &str) -> Option<(String, f64, f64)> {
    const TICKS_PER_SECOND: f64 = 100.0;
    // The command name is in parentheses and may hold spaces; `utime` and `stime` are fields
    // 14 and 15 of the line, 12 and 13 after the name.
    let name = stat.get(stat.find('(')? + 1..stat.rfind(')')?)?.to_owned();
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((
        name,
        ticks(11)? / TICKS_PER_SECOND,
        ticks(12)? / TICKS_PER_SECOND,
    ))
}

fn cpu_times() -> Option<CpuTimes> {
    let (_, user, system) = cpu_of_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    let mut named = Vec::new();
    let mut sequencer_wrote = None;
    let main_thread = std::process::id().to_string();
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        // The main thread bears the program's name, which may itself start with `scelle-`.
        if task.file_name().to_string_lossy() == main_thread.as_str() {
            continue;
        }
        if let Some((name, user, system)) = std::fs::read_to_string(task.path().join("stat"))
            .ok()
            .and_then(|s| cpu_of_stat(&s))
            && name.starts_with("scelle-")
        {
            if name.starts_with("scelle-sequence") {
                sequencer_wrote = std::fs::read_to_string(task.path().join("io"))
                    .ok()
                    .and_then(|io| written_of_io(&io));
            }
            named.push((name, user + system));
        }
    }
    Some(CpuTimes {
        process: (user, system),
        named,
        sequencer_wrote,
        machine: std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| machine_ticks(&s)),
    })
}

/// One line: CPU per append over the window, split by thread, and how busy each was.
fn cpu_report(before: &CpuTimes, after: &CpuTimes, appended: u64, elapsed: f64) -> String {
    let per_append = |seconds: f64| seconds * 1e6 / appended.max(1) as f64;
    let (user, system) = (
        after.process.0 - before.process.0,
        after.process.1 - before.process.1,
    );
    let mut line = format!(
        "CPU per append: {:.1} µs (user {:.1}, system {:.1}), {:.2} cores busy",
        per_append(user + system),
        per_append(user),
        per_append(system),
        (user + system) / elapsed
    );
    let mut rest = user + system;
    for (name, seconds) in &after.named {
        let start = before
            .named
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0.0, |(_, s)| *s);
        let used = seconds - start;
        rest -= used;
        line.push_str(&format!(
            "; {name} {:.1} µs ({:.0}% busy)",
            per_append(used),
            used / elapsed * 100.0
        ));
    }
    line.push_str(&format!("; writers {:.1} µs", per_append(rest)));
    if let (Some(before), Some(after)) = (before.sequencer_wrote, after.sequencer_wrote)
        && after > before
    {
        line.push_str(&format!(
            "; the sequencer wrote {:.2} KiB per append",
            (after - before) as f64 / 1024.0 / appended.max(1) as f64
        ));
    }
    if let (Some(before), Some(after)) = (before.machine, after.machine)
        && after.total > before.total
    {
        let share = |ticks: u64| ticks as f64 * 100.0 / (after.total - before.total) as f64;
        line.push_str(&format!(
            "; the machine's cores {:.0}% stolen by the hypervisor, {:.0}% idle",
            share(after.steal.saturating_sub(before.steal)),
            share(after.idle.saturating_sub(before.idle))
        ));
    }
    line
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub fn run(args: &BenchArgs) -> Result<(), String> {
    let work = match &args.work_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("scelle-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work).map_err(err)?;
    let db_url = match std::env::var("SCELLE_DATABASE_URL") {
        Ok(url) => DatabaseUrl::parse(&url).map_err(err)?,
        Err(_) => DatabaseUrl::sqlite_in(&work.join("node")),
    };
    println!(
        "scelle bench — backend {}, work folder {}",
        db_url.backend_name(),
        work.display()
    );
    let wanted = |phase| args.phases.contains(&phase);
    let result = (|| {
        if wanted(Phase::Appends) {
            appends(
                args,
                &work,
                &db_url,
                &phase_db(&db_url, &work.join("node"), "appends")?,
            )?;
        }
        if wanted(Phase::Authz) {
            authorization(
                args,
                &work,
                &phase_db(&db_url, &work.join("authz"), "authz")?,
            )?;
        }
        if wanted(Phase::Proofs) {
            proofs_and_audit(args, &work, &phase_db(&db_url, &work.join("big"), "big")?)?;
        }
        if wanted(Phase::Hash) {
            hashing(args, &work)?;
        }
        if wanted(Phase::Dossier) {
            dossier_figures(
                args,
                &work,
                &phase_db(&db_url, &work.join("dossier"), "dossier")?,
            )?;
        }
        Ok(())
    })();
    for phase in ["appends", "all_rows", "authz", "big", "dossier"] {
        drop_phase_schema(&db_url, phase);
    }
    if args.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}

/// Where one phase keeps its log: a fresh SQLite file in its folder, or on PostgreSQL a fresh
/// schema of the given database (`scelle_bench_<phase>`, chosen through `search_path`), so the
/// phases never see each other's rows and the database is left as it was.
fn phase_db(base: &DatabaseUrl, dir: &std::path::Path, phase: &str) -> Result<DatabaseUrl, String> {
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

fn drop_phase_schema(base: &DatabaseUrl, phase: &str) {
    if let DatabaseUrl::Postgres(_) = base
        && let Ok(mut c) = base.connect()
    {
        let _ = c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS scelle_bench_{phase} CASCADE"
        ));
    }
}

struct Setup {
    ledger: Arc<Node>,
    handle: std::thread::JoinHandle<()>,
    writers: Vec<(AuthUser, String)>,
}

fn setup(args: &BenchArgs, work: &std::path::Path, db: &DatabaseUrl) -> Result<Setup, String> {
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
        let (row, _) = admin::add_user(
            &ledger,
            &format!("bench {w}"),
            Role::Investigator,
            "tg.police.bench",
            None,
        )
        .map_err(err)?;
        let user = AuthUser {
            id: row.id,
            name: row.name,
            role: Role::Investigator,
            agency: row.agency_id,
            state: Jurisdiction::Togo,
            agency_is_lab: false,
        };
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
fn rate_of(
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

/// Rates measured in rounds, each round once with a feature and once without, back to back.
#[derive(Default)]
struct PairedRates {
    with: Vec<f64>,
    without: Vec<f64>,
}

impl PairedRates {
    fn add(&mut self, with: f64, without: f64) {
        self.with.push(with);
        self.without.push(without);
    }

    /// Each round's ratio, with over without, sorted (rounds where either side did nothing are
    /// left out).
    fn sorted_ratios(&self) -> Vec<f64> {
        let mut ratios: Vec<f64> = self
            .with
            .iter()
            .zip(&self.without)
            .filter(|(with, without)| **with > 0.0 && **without > 0.0)
            .map(|(with, without)| with / without)
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios
    }

    /// The median of the rounds' ratios (the mean of the middle two for an even count).
    fn median_ratio(&self) -> f64 {
        let ratios = self.sorted_ratios();
        match ratios.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => ratios[n / 2],
            n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
        }
    }

    /// "W with / O without (means), ratio R (median of N paired rounds, A–B)".
    fn summary(&self) -> String {
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let ratios = self.sorted_ratios();
        format!(
            "{:.0} with / {:.0} without (means), ratio {:.2} (median of {} paired rounds, {:.2}–{:.2})",
            mean(&self.with),
            mean(&self.without),
            self.median_ratio(),
            ratios.len(),
            ratios.first().copied().unwrap_or(f64::NAN),
            ratios.last().copied().unwrap_or(f64::NAN),
        )
    }
}

/// The cost of asking Cedar: appends and reads with the policies on, and on the same request
/// path with the Cedar call bypassed, in short paired phases.
fn authorization(args: &BenchArgs, work: &std::path::Path, db: &DatabaseUrl) -> Result<(), String> {
    let s = setup(args, work, db)?;
    let case_id = {
        let (user, item) = s.writers.first().ok_or("no writer")?;
        evidence::read(&s.ledger, user, item, None)
            .map_err(err)?
            .case_id
    };
    // Short phases, many rounds, the order flipped every round, and the ratio read in each round
    // from its two adjacent phases: drift on a shared machine (WAL checkpoints, other services)
    // then falls on both sides alike, and a phase that one of them hit moves one round's ratio,
    // not the median. (The ratio of the totals went from 0.86 to 1.03 over four runs of the
    // same binary.)
    const ROUNDS: usize = 8;
    let phase = (args.seconds as f64 / ROUNDS as f64).max(0.5);
    let append =
        |l: &Node, u: &AuthUser, item: &str| custody::record(l, u, item, examined()).is_ok();
    let read_case = case_id.clone();
    let read = move |l: &Node, u: &AuthUser, _: &str| cases::read(l, u, &read_case, None).is_ok();
    let mut appends = PairedRates::default();
    let mut reads = PairedRates::default();
    for round in 0..ROUNDS {
        let (mut append_round, mut read_round) = ([0.0; 2], [0.0; 2]);
        for bypass in [round % 2 == 0, round % 2 == 1] {
            s.ledger.policies().bypass_for_benchmark(bypass);
            append_round[usize::from(bypass)] = rate_of(&s, phase, append);
            read_round[usize::from(bypass)] = rate_of(&s, phase, read.clone());
        }
        appends.add(append_round[0], append_round[1]);
        reads.add(read_round[0], read_round[1]);
    }
    s.ledger.policies().bypass_for_benchmark(false);
    // One decision on its own, single-threaded.
    let (user, _) = s.writers.first().ok_or("no writer")?;
    let n = 20_000;
    let started = Instant::now();
    for _ in 0..n {
        let verdict = authz::verdict(
            &s.ledger,
            user,
            Action::CaseRead,
            Target::Case(&case_id),
            &Default::default(),
        )
        .map_err(err)?;
        if !verdict.allowed {
            return Err("the bench investigator was refused its own case".into());
        }
    }
    let per_decision_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    // The same decision without the verdict cache: what Cedar itself costs.
    let principal = Principal {
        user: &user.id,
        role: user.role,
        agency: &user.agency,
        state: user.state,
        agency_is_lab: user.agency_is_lab,
    };
    let resource = Resource::Case {
        id: &case_id,
        agency: &user.agency,
        state: user.state,
    };
    let started = Instant::now();
    for i in 0..n {
        let context = AccessContext {
            now: i64::from(i),
            ..Default::default()
        };
        let verdict =
            s.ledger
                .policies()
                .decide_uncached(&principal, Action::CaseRead, &resource, &context);
        if !verdict.allowed {
            return Err("the bench investigator was refused its own case".into());
        }
    }
    let uncached_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!(
        "authorization (Cedar, {} policies): appends/s {}; reads/s {} (target >= 0.9); one \
         decision {:.1} µs through the service ({:.1} µs for Cedar alone, uncached)",
        s.ledger.policies().len(),
        appends.summary(),
        reads.summary(),
        per_decision_us,
        uncached_us
    );
    let Setup { ledger, handle, .. } = s;
    if let Ok(ledger) = Arc::try_unwrap(ledger) {
        ledger.shutdown(handle);
    }
    Ok(())
}

/// An item numbered `n`, with a hash of its own.
fn bench_item(n: u64) -> NewEvidence {
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

fn examined() -> NewCustodyEvent {
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
enum Writers {
    /// One thread per writer, blocked on its answer (the CLI's and the service layer's way).
    Threads,
    /// Writers as tasks spread over this many threads, awaiting their answers (the HTTP way).
    Tasks(usize),
}

/// What one closed-loop run appended, in how long, and the CPU it took.
struct LoopRun {
    appended: u64,
    elapsed: f64,
    cpu: Option<String>,
}

/// `writers` append custody events as fast as their receipts come back, for `seconds`.
fn closed_loop(s: &Setup, seconds: u64, writers: Writers) -> LoopRun {
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
fn pipeline_report(p: &PipelineStats, run: &LoopRun, writers: usize) -> String {
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
fn measured_loop(
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

fn appends(
    args: &BenchArgs,
    work: &std::path::Path,
    base: &DatabaseUrl,
    db: &DatabaseUrl,
) -> Result<(), String> {
    let s = setup(args, work, db)?;
    // By default the writers share the cores the sequencer does not keep busy: all but one.
    let task_threads = args.writer_threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    });
    // First, for comparison, writers that each hold a thread while their batch is synced.
    measured_loop(
        &s,
        args.seconds,
        Writers::Threads,
        &format!(
            "{} writer threads, each blocked until durable",
            args.writers
        ),
    )?;
    // The figure: writers as tasks awaiting their receipts, as the HTTP layer's requests do.
    let size_before = log::size(&s.ledger).map_err(err)?;
    let vault_before = last_vault_id(&s)?;
    let (
        LoopRun {
            appended, elapsed, ..
        },
        mean_batch,
    ) = measured_loop(
        &s,
        args.seconds,
        Writers::Tasks(task_threads),
        &format!(
            "{} writers as tasks on {task_threads} thread{}, durable",
            args.writers,
            if task_threads == 1 { "" } else { "s" }
        ),
    )?;
    let rate = appended as f64 / elapsed;

    // The ceiling: the same entry rows, inserted raw in batches of the same size, same durability.
    let bodies: Vec<(Vec<u8>, Vec<u8>)> = {
        let mut c = storage::get_conn(s.ledger.pool()).map_err(err)?;
        log_store::entries_range(&mut c, size_before, size_before + appended)
            .map_err(err)?
            .into_iter()
            .map(|(_, leaf, body)| (leaf, body))
            .collect()
    };
    let raw_url = match db {
        DatabaseUrl::Sqlite(_) => DatabaseUrl::sqlite_in(&work.join("raw")),
        other => other.clone(),
    };
    std::fs::create_dir_all(work.join("raw")).map_err(err)?;
    let mut raw = raw_url.connect().map_err(err)?;
    raw.batch_execute("CREATE TABLE IF NOT EXISTS raw_entries (seq BIGINT PRIMARY KEY NOT NULL, leaf_hash BYTEA NOT NULL, body BYTEA NOT NULL); DELETE FROM raw_entries;")
        .map_err(err)?;
    let batch = (mean_batch.round() as usize).max(1);
    let started = Instant::now();
    for (i, chunk) in bodies.chunks(batch).enumerate() {
        let rows: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(j, (leaf, body))| RawRow {
                seq: (i * batch + j) as i64,
                leaf_hash: leaf.clone(),
                body: body.clone(),
            })
            .collect();
        // The same statements the sequencer uses: fixed-size multi-row inserts (`INSERT OR FAIL`
        // on SQLite), kept prepared.
        raw.transaction(|c| -> Result<(), diesel::result::Error> {
            insert_rows!(c, raw_entries::table, &rows);
            Ok(())
        })
        .map_err(err)?;
    }
    let raw_rate = bodies.len() as f64 / started.elapsed().as_secs_f64();
    let _ = raw.batch_execute("DROP TABLE raw_entries");
    println!(
        "raw batched inserts, same rows and durability (ceiling): {raw_rate:.0} rows/s; ratio {:.2}",
        rate / raw_rate
    );
    let all_rows_rate = all_rows_ceiling(
        &s,
        &phase_db(base, &work.join("all-rows"), "all_rows")?,
        size_before..size_before + bodies.len() as u64,
        vault_before.as_deref(),
        batch,
    )?;
    println!(
        "  every row those appends wrote (entries, tree nodes, checkpoints, custody events and states, vault records), written raw in batches of {batch} with the same durability by the storage layer's own batch write: {all_rows_rate:.0} appends/s; ratio {:.2}",
        rate / all_rows_rate
    );

    // Receipt latency at a fixed offered load: 2,000 appends/s spread over 16 paced writers.
    let offered = 2_000.0;
    let pacers = 16usize.min(s.writers.len());
    let interval = Duration::from_secs_f64(pacers as f64 / offered);
    let run_for = Duration::from_secs(args.seconds.max(3));
    let threads: Vec<_> = s.writers[..pacers]
        .iter()
        .cloned()
        .map(|(user, item)| {
            let ledger = s.ledger.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let start = Instant::now();
                let mut next = start;
                while start.elapsed() < run_for {
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                    }
                    let t = Instant::now();
                    if custody::record(&ledger, &user, &item, examined()).is_ok() {
                        lat.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                    next += interval;
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap_or_default())
        .collect();
    lat.sort_by(f64::total_cmp);
    println!(
        "receipt latency at {offered:.0} appends/s offered: p50 {:.2} ms, p99 {:.2} ms ({} receipts)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.len()
    );
    let Setup { ledger, handle, .. } = s;
    if let Ok(ledger) = Arc::try_unwrap(ledger) {
        ledger.shutdown(handle);
    }
    Ok(())
}

/// The id of the newest vault record (ids are UUIDv7, so later records sort after it).
fn last_vault_id(s: &Setup) -> Result<Option<String>, String> {
    use crate::storage::schema::vault_sealed;
    let mut c = storage::get_conn(s.ledger.pool()).map_err(err)?;
    vault_sealed::table
        .select(diesel::dsl::max(vault_sealed::id))
        .first::<Option<String>>(&mut c)
        .map_err(err)
}

/// The second ceiling: every row the appends of `seqs` wrote, read back from the node's
/// database and written again into a fresh one with the same schema (its case and items copied
/// first), `batch` appends per transaction, by `log_store::write_batch`, as the sequencer
/// writes them, with the same durability (one fsync per batch). What separates the sequencer
/// from this is its own work: checks, canonical bytes, hashes, signatures, hand-offs.
/// Appends per second.
fn all_rows_ceiling(
    s: &Setup,
    target: &DatabaseUrl,
    seqs: std::ops::Range<u64>,
    vault_after: Option<&str>,
    batch: usize,
) -> Result<f64, String> {
    use crate::storage::registry::{self, CustodyEventRow, SealedRow};
    use crate::storage::schema::{checkpoints, custody_events, vault_sealed};
    let mut c = storage::get_conn(s.ledger.pool()).map_err(err)?;
    let (lo, hi) = (seqs.start as i64, seqs.end as i64);
    let entries: Vec<NewEntry> = log_store::entries_range(&mut c, seqs.start, seqs.end)
        .map_err(err)?
        .into_iter()
        .map(|(seq, leaf_hash, body)| NewEntry {
            seq,
            leaf_hash,
            body,
        })
        .collect();
    let events: Vec<CustodyEventRow> = custody_events::table
        .filter(custody_events::seq.ge(lo).and(custody_events::seq.lt(hi)))
        .order(custody_events::seq.asc())
        .select(CustodyEventRow::as_select())
        .load(&mut c)
        .map_err(err)?;
    let vault: Vec<SealedRow> = vault_sealed::table
        .filter(vault_sealed::id.gt(vault_after.unwrap_or("")))
        .order(vault_sealed::id.asc())
        .select(SealedRow::as_select())
        .load(&mut c)
        .map_err(err)?;
    let checkpoint_rows: Vec<CheckpointRow> = checkpoints::table
        .filter(
            checkpoints::tree_size
                .gt(lo)
                .and(checkpoints::tree_size.le(hi)),
        )
        .order(checkpoints::tree_size.asc())
        .load(&mut c)
        .map_err(err)?;
    // The interior nodes each leaf completed, as the sequencer stored them.
    let completed: Vec<Vec<NodeId>> = (seqs.start..seqs.end)
        .map(|seq| {
            (1u8..64)
                .take_while(|level| (seq + 1) % (1u64 << level) == 0)
                .map(|level| NodeId::new(level, seq >> level))
                .collect()
        })
        .collect();
    let wanted: Vec<NodeId> = completed.iter().flatten().copied().collect();
    let hashes = log_store::fetch_nodes(&mut c, &wanted).map_err(err)?;
    let nodes: Vec<Vec<NewNode>> = completed
        .iter()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| {
                    hashes.get(id).map(|hash| NewNode {
                        node_key: node_key(*id),
                        hash: hash.to_vec(),
                    })
                })
                .collect()
        })
        .collect();
    let item_id = s
        .writers
        .first()
        .map(|(_, item)| item.clone())
        .unwrap_or_default();
    let case_id = registry::evidence_by_id(&mut c, &item_id)
        .map_err(err)?
        .map(|item| item.case_id)
        .ok_or("bench: its evidence item is gone")?;
    let case = registry::case_by_id(&mut c, &case_id)
        .map_err(err)?
        .ok_or("bench: its case is gone")?;
    let items: HashMap<String, EvidenceRow> = registry::evidence_of_case(&mut c, &case_id)
        .map_err(err)?
        .into_iter()
        .map(|item| (item.id.clone(), item))
        .collect();
    drop(c);

    let mut raw = target.connect().map_err(err)?;
    storage::run_migrations(&mut raw).map_err(err)?;
    registry::insert_case(&mut raw, &case).map_err(err)?;
    for item in items.values() {
        registry::insert_evidence(&mut raw, item).map_err(err)?;
    }
    let chunks = entries.len().div_ceil(batch.max(1));
    let started = Instant::now();
    for chunk in 0..chunks {
        let (from, to) = (chunk * batch, ((chunk + 1) * batch).min(entries.len()));
        let seq_range = seqs.start as i64 + from as i64..seqs.start as i64 + to as i64;
        let first_event = events.partition_point(|e| e.seq < seq_range.start);
        let last_event = events.partition_point(|e| e.seq < seq_range.end);
        let chunk_events = &events[first_event..last_event];
        let mut touched: Vec<&EvidenceRow> = Vec::new();
        for event in chunk_events {
            if let Some(item) = items.get(&event.item_id)
                && !touched.iter().any(|t| t.id == item.id)
            {
                touched.push(item);
            }
        }
        let chunk_nodes: Vec<NewNode> = nodes[from..to]
            .iter()
            .flatten()
            .map(|n| NewNode {
                node_key: n.node_key,
                hash: n.hash.clone(),
            })
            .collect();
        let vault_share: Vec<&SealedRow> = vault
            [vault.len() * from / entries.len().max(1)..vault.len() * to / entries.len().max(1)]
            .iter()
            .collect();
        let rows = log_store::BatchRows {
            items: &touched,
            events: chunk_events,
            vault: &vault_share,
            entries: &entries[from..to],
            nodes: &chunk_nodes,
            checkpoint: checkpoint_rows.get(chunk),
            follows: None,
        };
        raw.transaction(|c| log_store::write_batch(c, &rows))
            .map_err(err)?;
    }
    Ok(entries.len() as f64 / started.elapsed().as_secs_f64())
}

diesel::table! {
    raw_entries (seq) {
        seq -> BigInt,
        leaf_hash -> Binary,
        body -> Binary,
    }
}

#[derive(Insertable)]
#[diesel(table_name = raw_entries)]
#[diesel(treat_none_as_default_value = false)]
struct RawRow {
    seq: i64,
    leaf_hash: Vec<u8>,
    body: Vec<u8>,
}

#[cfg(feature = "sqlite")]
impl storage::AppendRow for RawRow {
    type Owned = Self;
    const INSERT: &'static str = "INSERT OR FAIL INTO raw_entries (seq, leaf_hash, body) VALUES ";
    fn bind_values<'b>(
        &'b self,
        values: &mut storage::RowValues<'_, 'b>,
    ) -> diesel::QueryResult<()> {
        use diesel::sql_types::{BigInt, Binary};
        values.bind::<BigInt, _>(&self.seq)?;
        values.bind::<Binary, _>(&self.leaf_hash)?;
        values.bind::<Binary, _>(&self.body)
    }
}

fn count_checkpoints(ledger: &Node) -> Result<u64, String> {
    let mut c = storage::get_conn(ledger.pool()).map_err(err)?;
    let n: i64 = storage::schema::checkpoints::table
        .count()
        .get_result(&mut *c)
        .map_err(err)?;
    Ok(n as u64)
}

/// Builds a log of `args.entries` realistic custody entries straight into storage (proofs and
/// audit read storage; how the entries got there does not change what they cost).
fn proofs_and_audit(
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
                seq,
                prev,
                time: "2026-11-23T10:00:00.000000Z".into(),
                origin: "bench.scelle/big".into(),
                actor: Actor {
                    user: "8e3f7c1a-55b2-4d6e-9f10-2b7c3d4e5f60".into(),
                    agency: "tg.police.bench".into(),
                    role: Role::LabAnalyst,
                },
                event: Event::Custody(CustodyRecord {
                    id: format!("{seq:08x}-0000-4000-8000-000000000000"),
                    item: format!("{:08x}-1111-4000-8000-000000000000", seq / 20),
                    case: "c0ffee00-0000-4000-8000-000000000000".into(),
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
                }),
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
    // Let the gigabytes just written reach the disk before timing reads, as on a node that has
    // been running: otherwise reads queue behind the kernel's write-back of the build.
    if let storage::DbConnection::Sqlite(_) = &*c {
        c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
            .map_err(err)?;
        std::fs::File::open(dir.join("scelle.db"))
            .and_then(|f| f.sync_all())
            .map_err(err)?;
    }
    println!(
        "built a log of {} entries in {:.1} s",
        args.entries,
        started.elapsed().as_secs_f64()
    );
    let size = range.size();
    let root = range.root();
    // A serving node holds the tree's upper levels in memory from start-up (service::node_cache).
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
        c.batch_execute("TRUNCATE log_entries, tree_nodes, checkpoints")
            .map_err(err)?;
    }
    Ok(())
}

fn decode(hashes: &[String]) -> Result<Vec<merkle::Hash>, String> {
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

fn hashing(args: &BenchArgs, work: &std::path::Path) -> Result<(), String> {
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
fn dossier_figures(
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
    let (row, _) = admin::add_user(
        &ledger,
        "bench",
        Role::Investigator,
        "tg.police.bench",
        None,
    )
    .map_err(err)?;
    let user = AuthUser {
        id: row.id,
        name: row.name,
        role: Role::Investigator,
        agency: row.agency_id,
        state: Jurisdiction::Togo,
        agency_is_lab: false,
    };
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
            personal_data: true,
            since_checkpoint: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_ticks_read_the_cpu_line_of_proc_stat() {
        let stat = "cpu  88378 0 9803 45284 711 0 220 9145 0 0\n\
                    cpu0 44000 0 4900 22000 300 0 100 4500 0 0\nintr 1 2 3\n";
        let ticks = machine_ticks(stat).unwrap();
        assert_eq!(
            (ticks.total, ticks.idle, ticks.steal),
            (88378 + 9803 + 45284 + 711 + 220 + 9145, 45284 + 711, 9145)
        );
        // A kernel without the steal column, or a garbled line, gives nothing rather than a guess.
        assert!(machine_ticks("cpu  1 2 3 4 5 6 7\n").is_none());
        assert!(machine_ticks("cpu  1 2 x 4 5 6 7 8\n").is_none());
        assert!(machine_ticks("intr 1 2 3\n").is_none());
    }

    #[test]
    fn paired_rates_read_the_median_of_each_rounds_ratio() {
        let mut rates = PairedRates::default();
        // One round whose "with" phase met a stall: its ratio, not the median, shows it.
        for (with, without) in [(90.0, 100.0), (50.0, 100.0), (100.0, 100.0), (95.0, 100.0)] {
            rates.add(with, without);
        }
        rates.add(10.0, 0.0); // a round where one side did nothing is left out
        assert_eq!(rates.sorted_ratios(), vec![0.5, 0.9, 0.95, 1.0]);
        assert!((rates.median_ratio() - 0.925).abs() < 1e-12);
        let summary = rates.summary();
        assert!(
            summary.contains("ratio 0.93 (median of 4 paired rounds, 0.50–1.00)"),
            "{summary}"
        );
        rates.add(80.0, 100.0);
        assert!((rates.median_ratio() - 0.9).abs() < 1e-12);
        assert!(PairedRates::default().median_ratio().is_nan());
    }
}
