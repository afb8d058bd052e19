//! `scelle audit`: re-verifies everything stored, trusting nothing but the node's public key.
//!
//! One pass over the log in order, up to its size when the audit starts (a server may go on
//! appending beside it): each entry's leaf hash, its `seq` and `prev` link, every interior node
//! recomputed and compared with the stored one, every checkpoint's signature and root against the
//! tree recomputed at that size, and no stored row that the log does not account for. Two reader
//! threads read alternate chunks and hash each entry as they read it; this one takes the chunks
//! in order and builds the tree. Every problem found is reported with the `seq` it concerns, not
//! only the first: past a missing entry the tree cannot be recomputed, but each later entry's
//! own hash and link are still checked.
//!
//! The readers also parse each entry, and this thread replays it into the registry as the log
//! says it must be (`registry_audit`), comparing every stored registry row with it.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Instant;

use crate::storage::log_store::{self, CheckpointRow};
use crate::storage::{DbConnection, Pool, ScanConn};
use scelle_verifier::entry::chain_link_matches;
use scelle_verifier::i18n::Message;
use scelle_verifier::merkle::{self, CompactRange, Hash, NodeId};
use scelle_verifier::note::{Checkpoint, NoteVerifier};
use scelle_verifier::t;

use super::error::LedgerError;
use super::registry_audit::{ReadEntries, RegistryAudit};

/// Rows a reader reads and checks at a time.
const CHUNK: u64 = 1 << 14;

/// Findings kept at most (a changed entry makes every later interior node and checkpoint of
/// its subtree wrong too); the rest are counted.
const MAX_FINDINGS: usize = 1_000;

/// What an audit went over.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditReport {
    /// Log entries checked (the log's size when the audit started).
    pub entries: u64,
    /// Bytes of those entries.
    pub entry_bytes: u64,
    /// Interior nodes recomputed and compared with the stored ones.
    pub nodes: u64,
    /// Checkpoints whose signature and root were checked.
    pub checkpoints: u64,
    /// How long the audit took (wall clock).
    pub seconds: f64,
}

/// One thing the audit found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFinding {
    /// The entry it concerns, or the size of the log it concerns; none for the log as a whole.
    pub seq: Option<u64>,
    /// What is wrong, in the audit's technical terms, from the message catalogue.
    pub problem: Message,
}

impl std::fmt::Display for AuditFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "seq {seq} : {}", self.problem.one_line()),
            None => f.write_str(&self.problem.one_line()),
        }
    }
}

/// Why an audit failed: what it found wrong (every finding, in log order), or a failure to read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The stored log does not hold up: each finding, and how many more were not kept.
    #[error("{}", findings_text(.findings, *.more))]
    Tampered {
        /// The findings, the first `MAX_FINDINGS`, in the order met.
        findings: Vec<AuditFinding>,
        /// Findings beyond those kept.
        more: u64,
    },
    /// The audit could not read what it needed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

fn findings_text(findings: &[AuditFinding], more: u64) -> String {
    let mut text = findings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    if more > 0 {
        text.push_str(&format!("\n(+{more})"));
    }
    text
}

impl AuditError {
    /// The lowest `seq` a finding concerns, when one concerns an entry.
    pub fn first_bad_seq(&self) -> Option<u64> {
        match self {
            AuditError::Tampered { findings, .. } => findings.iter().filter_map(|f| f.seq).min(),
            AuditError::Ledger(_) => None,
        }
    }

    /// How many findings there are, kept or only counted.
    pub fn finding_count(&self) -> u64 {
        match self {
            AuditError::Tampered { findings, more } => findings.len() as u64 + more,
            AuditError::Ledger(_) => 0,
        }
    }

    /// Every `seq` the findings concern, in order, each once.
    pub fn bad_seqs(&self) -> Vec<u64> {
        match self {
            AuditError::Tampered { findings, .. } => {
                let mut seqs: Vec<u64> = findings.iter().filter_map(|f| f.seq).collect();
                seqs.sort_unstable();
                seqs.dedup();
                seqs
            }
            AuditError::Ledger(_) => Vec::new(),
        }
    }
}

/// The findings gathered so far.
#[derive(Default)]
struct Findings {
    kept: Vec<AuditFinding>,
    more: u64,
}

impl Findings {
    fn add(&mut self, seq: Option<u64>, problem: Message) {
        if self.kept.len() < MAX_FINDINGS {
            self.kept.push(AuditFinding { seq, problem });
        } else {
            self.more += 1;
        }
    }
}

/// Stored interior nodes of one level, `(node_key, hash)` in order.
type StoredLevel = Vec<(i64, Vec<u8>)>;

/// What a reader found in one chunk of the log, hashed as it was read.
#[derive(Default)]
struct CheckedChunk {
    /// The `seq` of the chunk's first row.
    from: u64,
    /// The leaf hash of each row from `from` on, in order, up to the first missing row (the
    /// tree cannot be recomputed past it).
    leaves: Vec<Hash>,
    /// The first row's bytes, if it is at `from`: its link to the previous chunk's last leaf is
    /// checked in order, by the thread that has that leaf.
    first_body: Vec<u8>,
    entry_bytes: u64,
    /// Whether a row of the chunk is missing (then `leaves` stops before it).
    gap: bool,
    /// Whether the chunk's first row is missing (a gap that may have begun in the chunk before).
    starts_missing: bool,
    /// Whether the chunk's last row is missing (the gap may go on in the next chunk).
    ends_missing: bool,
    /// The problems of the chunk's rows, in order.
    problems: Vec<(u64, Message)>,
    /// The stored interior nodes the chunk's leaves complete, per level.
    nodes: BTreeMap<u8, StoredLevel>,
    /// The chunk's entries and the registry rows stored for them, read for the registry's
    /// replay.
    read: ReadEntries,
}

type Chunk = Result<CheckedChunk, LedgerError>;

/// The stored nodes completed by appending leaves `from..to` to a tree of size `from`, per level:
/// node (level, index) is complete once leaf `(index + 1) << level` - 1 is in, and the nodes
/// are keyed by that leaf, so this is one range read.
fn nodes_completed_by(
    conn: &mut DbConnection,
    from: u64,
    to: u64,
) -> Result<BTreeMap<u8, StoredLevel>, LedgerError> {
    let mut levels: BTreeMap<u8, StoredLevel> = BTreeMap::new();
    for (key, hash) in log_store::nodes_completed_by(conn, from, to)? {
        let level = log_store::node_id_from_key(key).level;
        levels.entry(level).or_default().push((key, hash));
    }
    Ok(levels)
}

/// Reads entries `from..to` and checks each as it comes, while its bytes are still in the
/// cache: its `seq` follows the previous row's, its stored leaf hash is the hash of its bytes,
/// and (from the second row on) its `prev` is the previous row's leaf. Every problem is noted
/// and the reading goes on.
fn read_chunk(conn: &mut DbConnection, from: u64, to: u64) -> Chunk {
    let mut chunk = CheckedChunk {
        from,
        leaves: Vec::with_capacity((to - from) as usize),
        read: ReadEntries::with_room_for((to - from) as usize),
        ..CheckedChunk::default()
    };
    let mut expected = from;
    let mut previous: Option<Hash> = None;
    log_store::scan_entries(conn, from, to, |seq, stored_leaf, body| {
        let seq = seq as u64;
        let leaf = merkle::leaf_hash(body);
        if seq != expected {
            chunk.starts_missing |= expected == from;
            chunk
                .problems
                .push((expected, t!("audit-entry-missing", next = seq)));
            chunk.gap = true;
            previous = None;
        }
        if stored_leaf != leaf {
            chunk.problems.push((seq, t!("audit-leaf-hash-changed")));
        }
        if let Some(prev) = previous
            && !chain_link_matches(body, seq, &prev)
        {
            chunk.problems.push((seq, t!("audit-chain-broken")));
        }
        if seq == from {
            chunk.first_body = body.to_vec();
        }
        chunk.read.push(seq, leaf, body);
        chunk.entry_bytes += body.len() as u64;
        if !chunk.gap {
            chunk.leaves.push(leaf);
        }
        previous = Some(leaf);
        expected = seq + 1;
        true
    })?;
    if expected < to {
        // The rows up to the chunk's end are gone (none follows in this chunk).
        chunk.starts_missing |= expected == from;
        chunk.ends_missing = true;
        chunk
            .problems
            .push((expected, t!("audit-entries-missing-to", size = to)));
        chunk.gap = true;
    }
    let end = from + chunk.leaves.len() as u64;
    chunk.nodes = nodes_completed_by(conn, from, end)?;
    chunk.read.check_stored(conn, from, to)?;
    Ok(chunk)
}

/// Two readers take alternate chunks: reading and hashing the rows is most of the audit's work.
const READERS: usize = 2;

/// Reads chunks `first`, `first + READERS`, … of `rows` rows of the log's first `end` entries,
/// and sends them in order.
fn spawn_reader(
    pool: Pool,
    first: usize,
    rows: u64,
    end: u64,
    chunks_tx: mpsc::SyncSender<Chunk>,
) -> Result<std::thread::JoinHandle<()>, LedgerError> {
    std::thread::Builder::new()
        .name(format!("scelle-audit-read-{first}"))
        .spawn(move || {
            let mut c = match ScanConn::get(&pool) {
                Ok(c) => c,
                Err(e) => {
                    let _ = chunks_tx.send(Err(e.into()));
                    return;
                }
            };
            let mut from = first as u64 * rows;
            while from < end {
                let chunk = read_chunk(&mut c, from, (from + rows).min(end));
                let failed = chunk.is_err();
                if chunks_tx.send(chunk).is_err() || failed {
                    return;
                }
                from += READERS as u64 * rows;
            }
        })
        .map_err(|e| LedgerError::Internal(e.to_string()))
}

/// Re-verifies the log as it stands when the audit starts, with its interior nodes and its
/// checkpoints, against `verifier`.
pub fn audit(pool: &Pool, verifier: &NoteVerifier) -> Result<AuditReport, AuditError> {
    audit_in_chunks(pool, verifier, CHUNK)
}

/// The tree as the chunks rebuild it, and what has been checked against it.
struct Rebuilt {
    range: CompactRange,
    /// The last leaf met, for the next chunk's first link (none after a missing entry).
    prev: Option<Hash>,
    /// Whether an entry is missing: the tree cannot be recomputed past it.
    broken: bool,
    entry_bytes: u64,
    nodes_checked: u64,
    checkpoints: CheckpointWalk,
    /// Whether the last chunk ended in missing rows (one gap over several chunks is one finding).
    in_gap: bool,
    /// The registry replayed from the entries so far, and compared with the stored rows.
    registry: RegistryAudit,
}

/// `audit`, reading `rows_per_chunk` rows at a time (at least one). Tests use small chunks so
/// that tampered rows fall at the start, the middle and the end of chunks.
pub fn audit_in_chunks(
    pool: &Pool,
    verifier: &NoteVerifier,
    rows_per_chunk: u64,
) -> Result<AuditReport, AuditError> {
    let rows_per_chunk = rows_per_chunk.max(1);
    let started = Instant::now();
    let mut conn = ScanConn::get(pool).map_err(LedgerError::from)?;
    let mut findings = Findings::default();
    // The end is fixed now, at the newest signed checkpoint: what a server appends beside the
    // audit is for the next one. Every batch writes its checkpoint with its entries, so entries
    // present before that checkpoint was read and beyond it are a tail no signature covers
    // (the head is read first: a batch committed in between moves the checkpoint too).
    let head = log_store::head(&mut conn).map_err(LedgerError::from)?.0;
    let end = log_store::latest_checkpoint(&mut conn)
        .map_err(LedgerError::from)?
        .map_or(0, |cp| u64::try_from(cp.tree_size).unwrap_or(0));
    if head > end {
        findings.add(
            Some(end),
            t!("audit-unsigned-tail", size = end, last = head - 1),
        );
    }
    let mut readers = Vec::new();
    let mut channels = Vec::new();
    for first in 0..READERS {
        let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
        readers.push(spawn_reader(pool.clone(), first, rows_per_chunk, end, tx)?);
        channels.push(rx);
    }
    let chunk_count = end.div_ceil(rows_per_chunk);
    let mut tree = Rebuilt {
        range: CompactRange::default(),
        prev: Some([0; 32]),
        broken: false,
        entry_bytes: 0,
        nodes_checked: 0,
        checkpoints: CheckpointWalk::default(),
        in_gap: false,
        registry: RegistryAudit::default(),
    };
    let result = (|| -> Result<(), AuditError> {
        for i in 0..chunk_count {
            let Ok(chunk) = channels[(i % READERS as u64) as usize].recv() else {
                return Err(LedgerError::Internal("an audit reader stopped".into()).into());
            };
            take_chunk(&mut conn, verifier, &mut tree, &mut findings, chunk?)?;
        }
        Ok(())
    })();
    drop(channels);
    for reader in readers {
        let _ = reader.join();
    }
    result?;
    check_what_lies_beyond(&mut conn, end, &mut tree, &mut findings)?;
    let mut differences = Vec::new();
    tree.registry
        .finish(&mut conn, &mut differences)
        .map_err(LedgerError::from)?;
    for (seq, difference) in differences {
        findings.add(seq, difference);
    }
    if !findings.kept.is_empty() {
        return Err(AuditError::Tampered {
            findings: findings.kept,
            more: findings.more,
        });
    }
    Ok(AuditReport {
        entries: end,
        entry_bytes: tree.entry_bytes,
        nodes: tree.nodes_checked,
        checkpoints: tree.checkpoints.checked,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Checks one chunk, in log order, against the tree rebuilt so far, and grows the tree.
fn take_chunk(
    conn: &mut DbConnection,
    verifier: &NoteVerifier,
    tree: &mut Rebuilt,
    findings: &mut Findings,
    chunk: CheckedChunk,
) -> Result<(), AuditError> {
    tree.entry_bytes += chunk.entry_bytes;
    if !chunk.first_body.is_empty()
        && let Some(prev) = tree.prev
        && !chain_link_matches(&chunk.first_body, chunk.from, &prev)
    {
        findings.add(Some(chunk.from), t!("audit-chain-broken"));
    }
    // A gap that began in an earlier chunk was reported there.
    let skip_first = chunk.starts_missing && tree.in_gap;
    for (seq, reason) in chunk.problems.into_iter().skip(usize::from(skip_first)) {
        findings.add(Some(seq), reason);
    }
    let mut differences = Vec::new();
    tree.registry.replay(chunk.read, &mut differences);
    for (seq, difference) in differences {
        findings.add(seq, difference);
    }
    tree.in_gap = chunk.ends_missing;
    tree.prev = (!chunk.gap).then(|| chunk.leaves.last().copied()).flatten();
    if tree.broken {
        return Ok(());
    }
    let mut expected: BTreeMap<u8, Vec<(u64, Hash)>> = BTreeMap::new();
    for leaf in &chunk.leaves {
        tree.range.append(*leaf, |id, hash| {
            expected.entry(id.level).or_default().push((id.index, hash))
        });
        tree.checkpoints
            .check_reached(conn, verifier, &tree.range, findings)?;
    }
    tree.nodes_checked += check_nodes(&chunk.nodes, &expected, findings);
    if chunk.gap {
        tree.broken = true;
    }
    Ok(())
}

/// What the log must not hold beyond its audited end: rows outside the contiguous log, a signed
/// checkpoint whose entries are gone, interior nodes no entry accounts for.
fn check_what_lies_beyond(
    conn: &mut DbConnection,
    end: u64,
    tree: &mut Rebuilt,
    findings: &mut Findings,
) -> Result<(), AuditError> {
    match log_store::entry_outside(conn, end).map_err(LedgerError::from)? {
        // Rows appended since the audit started begin at its end; anything else is a gap.
        Some(seq) if seq >= 0 && seq as u64 != end => {
            findings.add(Some(end), t!("audit-entry-missing", next = seq))
        }
        Some(seq) if seq < 0 => findings.add(None, t!("audit-row-outside", seq = seq, size = end)),
        _ => {}
    }
    let beyond = log_store::checkpoints_after(conn, end as i64, 1).map_err(LedgerError::from)?;
    if let Some(cp) = beyond.first() {
        // A checkpoint beyond the end is the server's newer one only if its entries are there.
        let last = (cp.tree_size - 1).max(0) as u64;
        if log_store::entry_body(conn, last)
            .map_err(LedgerError::from)?
            .is_none()
        {
            findings.add(
                Some(end),
                t!("audit-log-truncated", signed = cp.tree_size, remain = end),
            );
        }
    }
    if !tree.broken {
        let stored =
            log_store::count_nodes_completed_before(conn, end).map_err(LedgerError::from)?;
        if stored != tree.nodes_checked {
            findings.add(
                None,
                t!(
                    "audit-node-count",
                    stored = stored,
                    size = end,
                    expected = tree.nodes_checked
                ),
            );
        }
        // A node is written with the entry that completes it: nodes read first whose entry is
        // beyond the head read after are nodes no entry accounts for (a server appending
        // meanwhile only adds entries first and nodes with them).
        let leaves = log_store::node_leaves_from(conn, end).map_err(LedgerError::from)?;
        let (now, _) = log_store::head(conn).map_err(LedgerError::from)?;
        let orphans = leaves.iter().filter(|leaf| **leaf >= now).count();
        if orphans > 0 {
            findings.add(None, t!("audit-orphan-nodes", count = orphans));
        }
    }
    Ok(())
}

/// The stored checkpoints, walked in order of size as the rebuilt tree reaches each.
#[derive(Default)]
struct CheckpointWalk {
    /// Checkpoints read ahead, the next one last.
    pending: Vec<CheckpointRow>,
    /// Whether the table holds nothing beyond what was read.
    no_more: bool,
    last_size: i64,
    checked: u64,
}

impl CheckpointWalk {
    /// Verifies every stored checkpoint whose size the recomputed tree has just reached.
    fn check_reached(
        &mut self,
        conn: &mut DbConnection,
        verifier: &NoteVerifier,
        range: &CompactRange,
        findings: &mut Findings,
    ) -> Result<(), AuditError> {
        let size = range.size() as i64;
        loop {
            if self.pending.is_empty() {
                // Once the table has nothing beyond the last one checked, stop asking it for
                // every entry.
                if self.no_more {
                    return Ok(());
                }
                self.pending = log_store::checkpoints_after(conn, self.last_size, 4096)
                    .map_err(LedgerError::from)?;
                self.no_more = self.pending.is_empty();
                self.pending.reverse();
            }
            let Some(next) = self.pending.last() else {
                return Ok(());
            };
            if next.tree_size > size {
                return Ok(());
            }
            let Some(row) = self.pending.pop() else {
                return Ok(());
            };
            self.last_size = row.tree_size;
            self.checked += 1;
            let at = Some((row.tree_size - 1).max(0) as u64);
            let cp = match Checkpoint::open(&row.note, verifier, verifier.name()) {
                Ok(cp) => cp,
                Err(e) => {
                    findings.add(
                        at,
                        t!(
                            "audit-checkpoint-unreadable",
                            size = row.tree_size,
                            detail = e
                        ),
                    );
                    continue;
                }
            };
            if cp.size as i64 != row.tree_size || row.root_hash.as_slice() != cp.root {
                findings.add(
                    at,
                    t!("audit-checkpoint-row-mismatch", size = row.tree_size),
                );
            } else if row.tree_size == size && cp.root != range.root() {
                findings.add(at, t!("audit-checkpoint-root-mismatch", size = size));
            }
        }
    }
}

/// Compares recomputed interior nodes with the stored ones the reader fetched for the chunk;
/// the number of nodes compared.
fn check_nodes(
    stored_nodes: &BTreeMap<u8, StoredLevel>,
    expected: &BTreeMap<u8, Vec<(u64, Hash)>>,
    findings: &mut Findings,
) -> u64 {
    let mut count = 0;
    for (level, nodes) in expected {
        let mut stored = stored_nodes.get(level).into_iter().flatten().peekable();
        for (index, hash) in nodes {
            let key = log_store::node_key(NodeId::new(*level, *index));
            // Named by the entry whose append completed it (the last leaf under it).
            let leaf_of_node = Some(((index + 1) << level) - 1);
            // Stored keys below the one expected here are nodes no entry accounts for.
            while stored.next_if(|(k, _)| *k < key).is_some() {}
            match stored.next_if(|(k, _)| *k == key) {
                Some((_, h)) if h.as_slice() != hash => findings.add(
                    leaf_of_node,
                    t!("audit-node-changed", level = level, index = index),
                ),
                Some(_) => {}
                None => findings.add(
                    leaf_of_node,
                    t!("audit-node-missing", level = level, index = index),
                ),
            }
            count += 1;
        }
    }
    count
}
