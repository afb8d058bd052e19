//! The one ordered append path of a node (DESIGN §2): many writers, one committer.
//!
//! Writers hand a pending event to the sequencer thread and wait: a thread blocks on its answer
//! (`append`), a task awaits it (`submit`, the HTTP layer's way, so that a request in flight
//! holds no thread while its batch is synced). The thread takes every request
//! that is waiting (up to `MAX_BATCH`), and in one transaction under the append lock: reads the
//! head, checks and applies each event to the projections, writes the entries and the interior
//! nodes they complete, and signs a checkpoint for the new size. Only once the commit is durable
//! does each writer get its answer; the writer's own thread then builds its receipt (the
//! inclusion proof from the batch's nodes in memory), leaving the sequencer to the next batch.
//! The sequencer commits without waiting for the disk and hands the batch to a syncer thread,
//! which flushes the log once for every batch committed meanwhile (`storage::LogFlush`: an
//! `fdatasync` of SQLite's write-ahead log, a flushed commit on PostgreSQL) and only then answers
//! their writers: one batch's flush overlaps the writing of the next, and the sequencer never
//! spends its time waking writers. Until then a batch is committed but not durable, so the
//! node's published checkpoint (`durable_size`) only moves once the syncer has flushed it.
//! A request the rules refuse is answered with its error and leaves no trace; a storage failure
//! fails the batch, which is then retried one request at a time so no writer pays for another.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;
use tokio::sync::oneshot;

use crate::storage::exchange::{self, InboxRow};
use crate::storage::identity::{self, AgencyRow, TokenRow, UserRow};
use crate::storage::log_store::{self, CheckpointRow, NewEntry, NewNode, node_key};
use crate::storage::registry::{self, SealedRow};
use crate::storage::{self, DatabaseUrl, DbConnection, LogFlush, StorageError, with_append_lock};
use scelle_verifier::entry::{Actor, AppliedEntry, Event, PreparedEntry};
use scelle_verifier::merkle::{self, CompactRange, Hash, NodeId, NodeMap};
use scelle_verifier::note::{Checkpoint, NoteSigner, SigningSession};

use crate::clock::Clock;

use super::apply::{apply, case_link_for, record_case_entry};
use super::error::LedgerError;
use super::projection::Projection;

/// Requests committed in one batch at most.
pub const MAX_BATCH: usize = 4096;

/// Node-local rows written in the same transaction as the entry that accounts for them.
#[derive(Debug, Default, Clone)]
pub struct SideWrites {
    pub vault: Vec<SealedRow>,
    /// Kept alive until the batch that writes `vault` has committed (see [`HeldUntilCommitted`]).
    pub held: HeldUntilCommitted,
    /// A vault record to delete with the entry that records its erasure.
    pub erase: Option<String>,
    pub agency: Option<AgencyRow>,
    pub user: Option<UserRow>,
    pub token: Option<TokenRow>,
    /// A peer's transfer, imported or refused: its inbox row (its `seq` is the entry's).
    pub received: Option<InboxRow>,
    /// A queued transfer the receiver acknowledged: the outbox row to mark delivered.
    pub delivered: Option<DeliveredTransfer>,
}

/// An outbox row to mark delivered with the `dossier.sent` entry.
#[derive(Debug, Clone)]
pub struct DeliveredTransfer {
    pub transfer_id: String,
    /// The receiver's receipt, JSON.
    pub receipt: String,
}

/// A guard a writer hands over with its rows, dropped only once the batch that wrote them has
/// committed (the writer's job is dropped after its answer): the vault's hold on the epoch key
/// its rows are wrapped under, which an erasure's key rotation waits for (`node::vault`).
#[derive(Clone, Default)]
pub struct HeldUntilCommitted(Option<std::sync::Arc<dyn std::any::Any + Send + Sync>>);

impl HeldUntilCommitted {
    /// Holds `guard` until the rows are committed.
    pub fn new(guard: impl std::any::Any + Send + Sync) -> Self {
        Self(Some(std::sync::Arc::new(guard)))
    }
}

impl std::fmt::Debug for HeldUntilCommitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "held" } else { "none" })
    }
}

/// An event waiting to be appended, with who does it and the node-local rows it brings.
#[derive(Debug, Clone)]
pub struct Pending {
    pub actor: Actor,
    pub event: Event,
    /// Node-local rows written in the same transaction as the entry.
    pub side: SideWrites,
}

impl Pending {
    /// Whether applying it writes nothing before the batch's final write: a custody event (its
    /// rows are deferred to the batch's end, see `projection::Projection`) with no side write but
    /// vault rows (written with them).
    fn writes_at_end(&self) -> bool {
        let SideWrites {
            vault: _,
            held: _,
            erase,
            agency,
            user,
            token,
            received,
            delivered,
        } = &self.side;
        matches!(self.event, Event::Custody(_))
            && erase.is_none()
            && agency.is_none()
            && user.is_none()
            && token.is_none()
            && received.is_none()
            && delivered.is_none()
    }
}

/// An RFC 9162 inclusion proof, as the API serves it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InclusionProofView {
    /// The size of the tree the proof is against: the checkpoint's.
    pub tree_size: u64,
    /// The proof's hashes, base64, from the leaf up.
    pub hashes: Vec<String>,
}

/// What a writer gets back: proof that its entry is in the signed log.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Receipt {
    pub seq: u64,
    pub leaf_hash: String,
    pub checkpoint: String,
    pub inclusion_proof: InclusionProofView,
    /// When the sequencer recorded the entry (its `time`; in the entry bytes, not sent again).
    #[serde(skip)]
    pub recorded_at: String,
}

struct Job {
    work: Box<Work>,
    reply: Reply,
}

/// What a writer hands over to be appended; boxed, so that a batch moves pointers, and handed
/// back with the answer, so the writer's own thread, which made it, frees it (a free on the
/// allocating thread takes glibc's fast path; freed on the syncer, between two fsyncs, it was
/// 40% of that thread's time).
struct Work {
    pending: Pending,
    /// The entry's canonical members, prepared on the writer's thread.
    prepared: PreparedEntry,
}

/// Where a writer waits for its answer: a thread blocked on a channel, or a task that awaits it
/// (the HTTP layer's requests, so that appends in flight do not each hold a thread).
enum Reply {
    Blocking(mpsc::SyncSender<Delivered>),
    Awaiting(oneshot::Sender<Delivered>),
}

/// A writer's answer, and its request handed back to be freed by the writer.
type Delivered = (Result<Accepted, LedgerError>, Option<Box<Work>>);

impl Reply {
    /// Hands over the answer; a writer that has gone away no longer needs it.
    fn send(self, answer: Result<Accepted, LedgerError>) {
        self.deliver(answer, None);
    }

    fn deliver(self, answer: Result<Accepted, LedgerError>, work: Option<Box<Work>>) {
        match self {
            Self::Blocking(sender) => {
                let _ = sender.send((answer, work));
            }
            Self::Awaiting(sender) => {
                let _ = sender.send((answer, work));
            }
        }
    }
}

/// An append handed to the sequencer, answered once its entry is durable (or refused).
pub struct Submitted {
    answer: oneshot::Receiver<Delivered>,
}

impl Submitted {
    /// Waits, without holding a thread, until the entry is durable; its receipt.
    pub async fn receipt(self) -> Result<Receipt, LedgerError> {
        let (answer, _request) = self.answer.await.map_err(|_| LedgerError::Unavailable)?;
        answer?.receipt()
    }
}

/// What a committed batch's writers share: enough to build each receipt on the writer's own
/// thread, so the sequencer spends its time on the next batch rather than on proofs and base64.
struct BatchFacts {
    nodes: NodeMap,
    size: u64,
    note: String,
    time: String,
}

/// One durable entry, as the sequencer answers its writer.
struct Accepted {
    seq: u64,
    leaf: Hash,
    batch: Arc<BatchFacts>,
}

impl Accepted {
    fn receipt(&self) -> Result<Receipt, LedgerError> {
        let proof = merkle::inclusion_proof(&self.batch.nodes, self.seq, self.batch.size)
            .map_err(|e| LedgerError::Internal(e.to_string()))?;
        Ok(Receipt {
            seq: self.seq,
            leaf_hash: B64.encode(self.leaf),
            checkpoint: self.batch.note.clone(),
            inclusion_proof: InclusionProofView {
                tree_size: self.batch.size,
                hashes: proof.iter().map(|h| B64.encode(h)).collect(),
            },
            recorded_at: self.batch.time.clone(),
        })
    }
}

/// How far this node knows its log to be durable (a batch is committed before the syncer has
/// flushed it); readers that publish a checkpoint stay within it.
#[derive(Debug)]
struct Durability {
    size: AtomicU64,
    /// Set when an fsync failed: what it should have covered may be lost, and a later fsync
    /// cannot say otherwise, so the node stops appending until it is restarted.
    failed: AtomicBool,
    /// Set when the sequencer or the syncer thread has ended (shut down, or died): nothing is
    /// appended any more.
    stopped: AtomicBool,
    counters: PipelineCounters,
    /// SQLite: the turn the sequencer takes for each batch, shared with the WAL checkpointer.
    turn: Option<Arc<storage::AppendTurn>>,
}

/// Sets its flag when dropped: a thread holds one, so the flag says the thread has ended, by
/// returning or by a panic unwinding it.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Whether the append path can take an entry now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendHealth {
    Running,
    /// An fsync failed: appends stopped until the node restarts.
    SyncFailed,
    /// The sequencer or syncer thread has ended.
    Stopped,
}

/// Where the append path's time goes, counted as the node runs (a few relaxed additions per
/// batch): what `scelle bench` prints to say why appends go as fast as they do and no faster.
#[derive(Debug, Default)]
struct PipelineCounters {
    batches: AtomicU64,
    batch_nanos: AtomicU64,
    waiting_nanos: AtomicU64,
    syncs: AtomicU64,
    sync_nanos: AtomicU64,
    synced_batches: AtomicU64,
    commit_to_durable_nanos: AtomicU64,
}

fn add_elapsed(counter: &AtomicU64, since: Instant) {
    let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
    counter.fetch_add(nanos, Ordering::Relaxed);
}

/// Totals of the append path since the node started; `since` gives those of a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Batches the sequencer committed (or refused whole).
    pub batches: u64,
    /// Wall time from a batch's first request taken to its hand-over to the syncer: reading,
    /// applying, writing, signing, committing.
    pub batch_nanos: u64,
    /// Wall time the sequencer waited with no request to take.
    pub waiting_nanos: u64,
    /// Flushes of the log (`storage::LogFlush`) and the time spent in them.
    pub syncs: u64,
    pub sync_nanos: u64,
    /// Batches those syncs made durable, and their summed time from commit to durable.
    pub synced_batches: u64,
    pub commit_to_durable_nanos: u64,
    /// SQLite: times the WAL checkpointer restarted the log, and the wall time it held the
    /// sequencer's turn for them (`storage::AppendTurn`).
    pub log_restarts: u64,
    pub log_restart_nanos: u64,
}

impl PipelineStats {
    /// What happened between `earlier` and these totals.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            batches: self.batches - earlier.batches,
            batch_nanos: self.batch_nanos - earlier.batch_nanos,
            waiting_nanos: self.waiting_nanos - earlier.waiting_nanos,
            syncs: self.syncs - earlier.syncs,
            sync_nanos: self.sync_nanos - earlier.sync_nanos,
            synced_batches: self.synced_batches - earlier.synced_batches,
            commit_to_durable_nanos: self.commit_to_durable_nanos - earlier.commit_to_durable_nanos,
            log_restarts: self.log_restarts - earlier.log_restarts,
            log_restart_nanos: self.log_restart_nanos - earlier.log_restart_nanos,
        }
    }
}

/// The handle writers append through: it queues their events for the sequencer thread.
#[derive(Clone)]
pub struct Sequencer {
    jobs: mpsc::SyncSender<Job>,
    origin: Arc<str>,
    durability: Arc<Durability>,
}

impl Sequencer {
    /// Starts the sequencer thread with its own connection.
    pub fn start(
        url: &DatabaseUrl,
        signer: Arc<NoteSigner>,
    ) -> Result<(Self, JoinHandle<()>), LedgerError> {
        let origin: Arc<str> = signer.name().into();
        let mut conn = url.connect()?;
        let checkpointer = storage::start_wal_checkpointer(url)?;
        if checkpointer.is_some() {
            storage::disable_auto_checkpoint(&mut conn)?;
        }
        let (ticks, checkpoint_thread, turn) = match checkpointer {
            Some(c) => (Some(c.ticks), Some(c.thread), Some(c.turn)),
            None => (None, None, None),
        };
        let mut flush = LogFlush::of(url)?;
        // What an earlier process committed is made durable before it is published.
        flush.sync_at_start()?;
        storage::commit_without_fsync(&mut conn)?;
        let durability = Arc::new(Durability {
            size: AtomicU64::new(log_store::head(&mut conn)?.0),
            failed: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            counters: PipelineCounters::default(),
            turn,
        });
        let (jobs, incoming) = mpsc::sync_channel::<Job>(MAX_BATCH * 4);
        let shared = durability.clone();
        let handle = std::thread::Builder::new()
            .name("scelle-sequencer".into())
            .spawn(move || {
                let _ended = SetOnDrop(&shared.stopped);
                let (batches, committed) = mpsc::channel::<Release>();
                let syncer = std::thread::Builder::new()
                    .name("scelle-syncer".into())
                    .spawn({
                        let shared = shared.clone();
                        move || {
                            let _ended = SetOnDrop(&shared.stopped);
                            sync_and_answer(flush, committed, &shared)
                        }
                    });
                match syncer {
                    Ok(syncer) => {
                        run(conn, signer, incoming, ticks.as_ref(), &shared, |release| {
                            if let Err(mpsc::SendError(release)) = batches.send(release) {
                                release.answer_all_with(|| LedgerError::Unavailable);
                            }
                        });
                        drop(batches);
                        let _ = syncer.join();
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot start the syncer thread");
                    }
                }
                drop(ticks);
                if let Some(thread) = checkpoint_thread {
                    let _ = thread.join();
                }
            })
            .map_err(|e| LedgerError::Internal(e.to_string()))?;
        Ok((
            Self {
                jobs,
                origin,
                durability,
            },
            handle,
        ))
    }

    /// The size of the log up to which this node knows every entry to be on disk. A checkpoint
    /// this node publishes stays within it.
    pub fn durable_size(&self) -> u64 {
        self.durability.size.load(Ordering::Acquire)
    }

    /// Records that the log is durable up to `size` (a reader flushed it: see
    /// `storage::flush_committed`).
    pub fn mark_durable(&self, size: u64) {
        self.durability.size.fetch_max(size, Ordering::Release);
    }

    /// Whether appends can go on: not after an fsync failed, nor once a thread has ended.
    pub fn health(&self) -> AppendHealth {
        if self.durability.failed.load(Ordering::Acquire) {
            AppendHealth::SyncFailed
        } else if self.durability.stopped.load(Ordering::Acquire) {
            AppendHealth::Stopped
        } else {
            AppendHealth::Running
        }
    }

    /// The append path's totals since the node started (see `PipelineStats`).
    pub fn pipeline(&self) -> PipelineStats {
        let c = &self.durability.counters;
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let (log_restarts, log_restart_nanos) = self
            .durability
            .turn
            .as_deref()
            .map_or((0, 0), storage::AppendTurn::restarts);
        PipelineStats {
            batches: read(&c.batches),
            batch_nanos: read(&c.batch_nanos),
            waiting_nanos: read(&c.waiting_nanos),
            syncs: read(&c.syncs),
            sync_nanos: read(&c.sync_nanos),
            synced_batches: read(&c.synced_batches),
            commit_to_durable_nanos: read(&c.commit_to_durable_nanos),
            log_restarts,
            log_restart_nanos,
        }
    }

    /// Appends one event and waits until it is durable; returns its receipt.
    pub fn append(&self, pending: Pending) -> Result<Receipt, LedgerError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.enqueue(pending, Reply::Blocking(reply))?;
        let (answer, _request) = answer.recv().map_err(|_| LedgerError::Unavailable)?;
        answer?.receipt()
    }

    /// Hands one event to the sequencer and returns at once; the caller awaits the receipt.
    pub fn submit(&self, pending: Pending) -> Result<Submitted, LedgerError> {
        let (reply, answer) = oneshot::channel();
        self.enqueue(pending, Reply::Awaiting(reply))?;
        Ok(Submitted { answer })
    }

    fn enqueue(&self, pending: Pending, reply: Reply) -> Result<(), LedgerError> {
        let prepared = PreparedEntry::new(&self.origin, &pending.actor, &pending.event)
            .map_err(|e| LedgerError::Internal(e.to_string()))?;
        self.jobs
            .send(Job {
                work: Box::new(Work { pending, prepared }),
                reply,
            })
            .map_err(|_| LedgerError::Unavailable)
    }
}

/// The appender's view of the tree and projections between batches (dropped and re-read when
/// another process appended, or when a batch failed).
struct Cached {
    range: CompactRange,
    last: Hash,
    projection: Projection,
}

/// A committed batch's answers, released once the batch is durable.
struct Release {
    /// Where each writer waits, and its answer, in the same order (two vectors as the sequencer
    /// made them: zipping them into one copied every answer once more, 2% of its thread).
    replies: Vec<Reply>,
    results: Vec<Result<Accepted, LedgerError>>,
    /// The log size after the batch (0 when it appended nothing).
    size: u64,
    /// The batch's requests, in the order of `replies` (none after a batch retried one by one),
    /// handed back to their writers with the answers. (The boxes are the ones the writers made:
    /// unboxing them here would copy every request once more.)
    #[expect(
        clippy::vec_box,
        reason = "the writers' own boxes, moved rather than copied"
    )]
    spent: Vec<Box<Work>>,
    committed_at: Instant,
}

impl Release {
    #[expect(
        clippy::vec_box,
        reason = "the writers' own boxes, moved rather than copied"
    )]
    fn new(
        replies: Vec<Reply>,
        results: Vec<Result<Accepted, LedgerError>>,
        spent: Vec<Box<Work>>,
    ) -> Self {
        let size = results
            .iter()
            .filter_map(|result| result.as_ref().ok())
            .map(|accepted| accepted.batch.size)
            .max()
            .unwrap_or(0);
        Self {
            replies,
            results,
            size,
            spent,
            committed_at: Instant::now(),
        }
    }

    fn answer(self) {
        let Self {
            replies,
            results,
            spent,
            ..
        } = self;
        let mut spent = spent.into_iter();
        for (reply, result) in replies.into_iter().zip(results) {
            reply.deliver(result, spent.next());
        }
    }

    fn answer_all_with(self, error: impl Fn() -> LedgerError) {
        let Self { replies, spent, .. } = self;
        for reply in replies {
            reply.send(Err(error()));
        }
        drop(spent);
    }
}

/// The syncer thread: one fsync for every batch committed since the last, then their answers.
fn sync_and_answer(
    mut flush: LogFlush,
    committed: mpsc::Receiver<Release>,
    durability: &Durability,
) {
    while let Ok(first) = committed.recv() {
        let mut ready = vec![first];
        ready.extend(committed.try_iter());
        if durability.failed.load(Ordering::Acquire) {
            ready
                .into_iter()
                .for_each(|r| r.answer_all_with(|| LedgerError::Unavailable));
            continue;
        }
        let syncing = Instant::now();
        let synced = flush.sync();
        let counters = &durability.counters;
        add_elapsed(&counters.sync_nanos, syncing);
        counters.syncs.fetch_add(1, Ordering::Relaxed);
        counters
            .synced_batches
            .fetch_add(ready.len() as u64, Ordering::Relaxed);
        for release in &ready {
            add_elapsed(&counters.commit_to_durable_nanos, release.committed_at);
        }
        match synced {
            Ok(()) => {
                let size = ready.iter().map(|r| r.size).max().unwrap_or(0);
                durability.size.fetch_max(size, Ordering::Release);
                ready.into_iter().for_each(Release::answer);
            }
            Err(e) => {
                durability.failed.store(true, Ordering::Release);
                tracing::error!(error = %e, "the write-ahead log could not be synced; appends stop until the node restarts");
                let message = e.to_string();
                ready.into_iter().for_each(|r| {
                    r.answer_all_with(|| LedgerError::Storage(StorageError::Sync(message.clone())))
                });
            }
        }
    }
}

fn run(
    mut conn: DbConnection,
    signer: Arc<NoteSigner>,
    incoming: mpsc::Receiver<Job>,
    checkpoint_ticks: Option<&mpsc::SyncSender<()>>,
    durability: &Durability,
    release: impl Fn(Release),
) {
    let mut cached: Option<Cached> = None;
    let mut session = match signer.session() {
        Ok(session) => session,
        Err(e) => {
            tracing::error!(error = %e, "cannot set up the node key for signing; appends are refused");
            for job in incoming.iter() {
                job.reply.send(Err(LedgerError::Internal(e.to_string())));
            }
            return;
        }
    };
    let mut last_batch = 0;
    // The batch's requests, in one vector kept from batch to batch: allocated anew for each
    // batch it took 1.5% of the thread, large enough for glibc's slow path; kept, malloc's whole
    // share fell from 6.7% to 6.0% (`perf`).
    let mut jobs: Vec<Job> = Vec::new();
    let counters = &durability.counters;
    loop {
        let waiting = Instant::now();
        let Ok(first) = incoming.recv() else { break };
        add_elapsed(&counters.waiting_nanos, waiting);
        let batch_started = Instant::now();
        if let Some(ticks) = checkpoint_ticks {
            let _ = ticks.try_send(());
        }
        // Room for a batch like the last one and then some: a `Job` is large, and growing the
        // vector one doubling at a time copied every job again and again.
        jobs.reserve((last_batch * 2).clamp(16, MAX_BATCH));
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match incoming.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        last_batch = jobs.len();
        if durability.failed.load(Ordering::Acquire) {
            for job in jobs.drain(..) {
                job.reply.send(Err(LedgerError::Unavailable));
            }
            continue;
        }
        counters.batches.fetch_add(1, Ordering::Relaxed);
        let _turn = durability
            .turn
            .as_deref()
            .map(storage::AppendTurn::for_sequencer);
        let pendings: Vec<(&Pending, &PreparedEntry)> = jobs
            .iter()
            .map(|j| (&j.work.pending, &j.work.prepared))
            .collect();
        match commit_batch(&mut conn, &mut session, &mut cached, &pendings) {
            Ok(results) => {
                let (replies, spent): (Vec<Reply>, Vec<Box<Work>>) =
                    jobs.drain(..).map(|job| (job.reply, job.work)).unzip();
                release(Release::new(replies, results, spent));
                add_elapsed(&counters.batch_nanos, batch_started);
            }
            Err(batch_error) => {
                tracing::error!(error = %batch_error, size = jobs.len(), "append batch failed; retrying one by one");
                cached = None;
                let mut replies = Vec::with_capacity(jobs.len());
                let mut results = Vec::with_capacity(jobs.len());
                for job in jobs.drain(..) {
                    let result = commit_batch(
                        &mut conn,
                        &mut session,
                        &mut cached,
                        &[(&job.work.pending, &job.work.prepared)],
                    )
                    .and_then(|mut r| {
                        r.pop()
                            .ok_or_else(|| LedgerError::Internal("empty batch".into()))
                    })
                    .and_then(|r| r);
                    if result.is_err() {
                        cached = None;
                    }
                    replies.push(job.reply);
                    results.push(result);
                }
                release(Release::new(replies, results, Vec::new()));
                add_elapsed(&counters.batch_nanos, batch_started);
            }
        }
    }
}

struct Committed {
    accepted: Vec<Result<(u64, Hash), LedgerError>>,
    note: Option<String>,
    nodes: NodeMap,
    range: CompactRange,
    last: Hash,
    projection: Projection,
    time: String,
}

/// Commits what it can of `pendings` in one transaction; per-request results in order.
///
/// Where nothing in the batch writes until its end (custody events and their vault rows, the hot
/// path) and the sequencer remembers the head it left, a PostgreSQL batch is one statement in
/// autocommit that checks that head itself (`log_store::write_batch`): one round trip to the
/// server instead of four (the lock, the head, the rows, the commit). If another node appended
/// meanwhile, that statement writes nothing and the batch is built again under the lock.
fn commit_batch(
    conn: &mut DbConnection,
    session: &mut SigningSession<'_>,
    cached: &mut Option<Cached>,
    pendings: &[(&Pending, &PreparedEntry)],
) -> Result<Vec<Result<Accepted, LedgerError>>, LedgerError> {
    let unlocked = storage::is_postgres(conn) && pendings.iter().all(|(p, _)| p.writes_at_end());
    let committed = match cached.take() {
        Some(start) if unlocked => match build_and_write(conn, session, start, pendings, true) {
            Ok(Some(committed)) => committed,
            Ok(None) => commit_locked(conn, session, None, pendings)?,
            Err(LedgerError::Storage(e)) if e.is_unique_violation() => {
                commit_locked(conn, session, None, pendings)?
            }
            Err(e) => return Err(e),
        },
        start => commit_locked(conn, session, start, pendings)?,
    };

    let batch = Arc::new(BatchFacts {
        nodes: committed.nodes,
        size: committed.range.size(),
        note: committed.note.unwrap_or_default(),
        time: committed.time,
    });
    let results = committed
        .accepted
        .into_iter()
        .map(|r| {
            let (seq, leaf) = r?;
            Ok(Accepted {
                seq,
                leaf,
                batch: batch.clone(),
            })
        })
        .collect();
    *cached = Some(Cached {
        range: committed.range,
        last: committed.last,
        projection: committed.projection,
    });
    Ok(results)
}

/// Builds and commits the batch in a transaction under the append lock, on the head read there.
fn commit_locked(
    conn: &mut DbConnection,
    session: &mut SigningSession<'_>,
    remembered: Option<Cached>,
    pendings: &[(&Pending, &PreparedEntry)],
) -> Result<Committed, LedgerError> {
    with_append_lock(conn, |c| {
        let (size, last) = log_store::head(c)?;
        let start = match remembered {
            Some(k) if k.range.size() == size && k.last == last => k,
            _ => {
                let peaks = log_store::fetch_nodes(c, &CompactRange::peak_ids(size))?;
                Cached {
                    range: CompactRange::from_source(size, &peaks)
                        .map_err(|e| LedgerError::Internal(e.to_string()))?,
                    last,
                    projection: Projection::default(),
                }
            }
        };
        build_and_write(c, session, start, pendings, false)?.ok_or_else(|| {
            LedgerError::Internal("the log's head moved under the append lock".into())
        })
    })
}

/// Applies the batch's events on `start`, signs the checkpoint and writes every row. With
/// `check_head`, the write itself checks that the log still ends at `start` and, if not, writes
/// nothing and this returns `None` (the caller holds no lock: see `commit_batch`).
fn build_and_write(
    c: &mut DbConnection,
    session: &mut SigningSession<'_>,
    start: Cached,
    pendings: &[(&Pending, &PreparedEntry)],
    check_head: bool,
) -> Result<Option<Committed>, LedgerError> {
    let Cached {
        mut range,
        last: start_last,
        mut projection,
    } = start;
    let start_size = range.size();
    let mut prev = start_last;
    // The start's peaks, then each entry's leaf and the (about as many) nodes it completes.
    let mut nodes = NodeMap::with_capacity_and_hasher(
        range.peaks().len() + 2 * pendings.len(),
        Default::default(),
    );
    nodes.extend(range.peaks().iter().copied());
    let mut new_entries = Vec::with_capacity(pendings.len());
    let mut new_nodes = Vec::with_capacity(pendings.len());
    let mut accepted = Vec::with_capacity(pendings.len());
    // The vault rows go to the database from the writers' requests as they are, not copied.
    let mut vault = Vec::with_capacity(pendings.len());
    let time = Clock::system()
        .now_rfc3339()
        .map_err(|e| LedgerError::Internal(e.to_string()))?;
    for (pending, prepared) in pendings {
        // Two requests for one name can meet in a batch: the second is refused alone.
        if let Err(e) = check_side(c, &pending.side) {
            if e.is_rejection() {
                accepted.push(Err(e));
                continue;
            }
            return Err(e);
        }
        let entry = AppliedEntry {
            seq: range.size(),
            time: &time,
            actor: &pending.actor,
            event: &pending.event,
        };
        let applied = case_link_for(&mut projection.on(c), &pending.event).and_then(|link| {
            apply(&mut projection.on(c), &entry)?;
            Ok(link)
        });
        let case_prev = match applied {
            Ok(link) => link,
            Err(e) if e.is_rejection() => {
                accepted.push(Err(e));
                continue;
            }
            Err(e) => return Err(e),
        };
        vault.extend(&pending.side.vault);
        write_side(c, &pending.side, entry.seq, entry.time)?;
        let body = prepared
            .bytes(entry.seq, &prev, entry.time, case_prev.as_ref())
            .map_err(|e| LedgerError::Internal(e.to_string()))?;
        let leaf = merkle::leaf_hash(&body);
        record_case_entry(&mut projection.on(c), &pending.event, entry.seq, leaf)?;
        nodes.insert(NodeId::new(0, entry.seq), leaf);
        range.append(leaf, |id, hash| {
            nodes.insert(id, hash);
            new_nodes.push(NewNode {
                node_key: node_key(id),
                hash: hash.to_vec(),
            });
        });
        new_entries.push(NewEntry {
            seq: entry.seq as i64,
            leaf_hash: leaf.to_vec(),
            body,
        });
        accepted.push(Ok((entry.seq, leaf)));
        prev = leaf;
    }
    let mut note = None;
    let mut checkpoint_row = None;
    if !new_entries.is_empty() {
        let checkpoint = Checkpoint {
            origin: session.name().to_owned(),
            size: range.size(),
            root: range.root(),
        };
        let text = checkpoint
            .sign_in(session)
            .map_err(|e| LedgerError::Internal(e.to_string()))?;
        checkpoint_row = Some(CheckpointRow {
            tree_size: range.size() as i64,
            root_hash: checkpoint.root.to_vec(),
            note: text.clone(),
            created_at: time.clone(),
        });
        note = Some(text);
    }
    let follows = check_head.then_some((start_size as i64, &start_last[..]));
    if !projection.flush_with_log(
        c,
        &vault,
        &new_entries,
        &new_nodes,
        checkpoint_row.as_ref(),
        follows,
    )? {
        return Ok(None);
    }
    Ok(Some(Committed {
        accepted,
        note,
        nodes,
        range,
        last: prev,
        projection,
        time,
    }))
}

/// Writes the node-local identity rows at once (vault rows go with the projection's flush).
/// Refuses, before its entry is applied, a request whose rows cannot be written: an agency
/// that exists already, a vault record already erased (two requests raced past the use case's
/// check, maybe into one batch).
fn check_side(c: &mut DbConnection, side: &SideWrites) -> Result<(), LedgerError> {
    if let Some(record) = &side.erase
        && registry::sealed_row(c, record)?.is_none()
    {
        return Err(LedgerError::NotFound(super::error::Missing::VaultRecord));
    }
    if let Some(agency) = &side.agency
        && identity::agency(c, &agency.id)?.is_some()
    {
        return Err(LedgerError::Conflict(super::error::Conflict::Agency));
    }
    if let Some(row) = &side.received
        && (exchange::inbox_row(c, &row.summary.sender, &row.summary.transfer_id)?.is_some()
            || (row.summary.refused.is_none()
                && exchange::imported(c, &row.summary.transfer_id)?.is_some()))
    {
        return Err(LedgerError::Conflict(super::error::Conflict::Transfer));
    }
    if let Some(delivered) = &side.delivered
        && !exchange::is_queued(c, &delivered.transfer_id)?
    {
        return Err(LedgerError::Conflict(super::error::Conflict::Transfer));
    }
    Ok(())
}

fn write_side(
    c: &mut DbConnection,
    side: &SideWrites,
    seq: u64,
    time: &str,
) -> Result<(), LedgerError> {
    if let Some(record) = &side.erase
        && !registry::delete_sealed(c, record)?
    {
        return Err(LedgerError::NotFound(super::error::Missing::VaultRecord));
    }
    if let Some(agency) = &side.agency {
        identity::insert_agency(c, agency)?;
    }
    if let Some(user) = &side.user {
        identity::insert_user(c, user)?;
    }
    if let Some(token) = &side.token {
        identity::insert_token(c, token)?;
    }
    let seq = i64::try_from(seq).map_err(|_| LedgerError::Internal("seq".into()))?;
    if let Some(row) = &side.received {
        let mut row = row.clone();
        row.summary.seq = seq;
        row.summary.received_at = time.to_owned();
        exchange::insert_inbox(c, &row)?;
    }
    if let Some(delivered) = &side.delivered {
        let outcome = exchange::Outcome::Delivered {
            receipt: &delivered.receipt,
            sent_seq: seq,
        };
        if !exchange::finish(c, &delivered.transfer_id, outcome, time)? {
            return Err(LedgerError::Conflict(super::error::Conflict::Transfer));
        }
    }
    Ok(())
}
