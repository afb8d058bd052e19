//! `scelle audit`: re-verifies everything stored, trusting nothing but the node's public key.
//!
//! One pass over the log in order: each entry's leaf hash, its `seq` and `prev` link, every
//! interior node recomputed and compared with the stored one, every checkpoint's signature and
//! root against the tree recomputed at that size, and no stored node or checkpoint beyond the
//! log. Two reader threads read alternate chunks and hash each entry as they read it; this one
//! takes the chunks in order and builds the tree. The first problem found is reported with the
//! `seq` it concerns.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Instant;

use crate::storage::log_store::{self, CheckpointRow};
use crate::storage::{Pool, ScanConn};
use scelle_verifier::entry::chain_link_matches;
use scelle_verifier::merkle::{self, CompactRange, Hash, NodeId};
use scelle_verifier::note::{Checkpoint, NoteVerifier};

use super::error::LedgerError;

/// Rows a reader reads and checks at a time.
const CHUNK: u64 = 1 << 14;

/// What an audit that found nothing wrong went over.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditReport {
    /// Log entries checked.
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

/// Why an audit failed: the first problem found, or a failure to read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A problem with the entry at `seq`, or with what the log holds at that size.
    #[error("seq {seq}: {reason}")]
    AtEntry { seq: u64, reason: String },
    /// The log as a whole is wrong (e.g. stored rows beyond its end).
    #[error("{0}")]
    Log(String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl AuditError {
    /// The `seq` the problem concerns, when there is one.
    pub fn first_bad_seq(&self) -> Option<u64> {
        match self {
            AuditError::AtEntry { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}

fn bad(seq: u64, reason: impl Into<String>) -> AuditError {
    AuditError::AtEntry {
        seq,
        reason: reason.into(),
    }
}

/// Stored interior nodes of one level, `(node_key, hash)` in order.
type StoredLevel = Vec<(i64, Vec<u8>)>;

/// What a reader found in one chunk of the log, hashed as it was read.
#[derive(Default)]
struct CheckedChunk {
    /// The `seq` of the chunk's first row.
    from: u64,
    /// The leaf hash of each row from `from` on that passed the reader's checks, in order.
    leaves: Vec<Hash>,
    /// The first row's bytes: its link to the previous chunk's last leaf is checked in order,
    /// by the thread that has that leaf.
    first_body: Vec<u8>,
    entry_bytes: u64,
    /// The first problem in the chunk, at the row right after the last of `leaves`.
    problem: Option<(u64, String)>,
    /// The stored interior nodes the chunk's leaves complete, per level.
    nodes: BTreeMap<u8, StoredLevel>,
}

type Chunk = Result<CheckedChunk, LedgerError>;

/// The stored nodes completed by appending leaves `from..to` to a tree of size `from`, per level:
/// node (level, index) is complete once leaf `(index + 1) << level` - 1 is in, and the nodes
/// are keyed by that leaf, so this is one range read.
fn nodes_completed_by(
    conn: &mut crate::storage::DbConnection,
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

/// Reads entries `from..from + rows` and checks each as it comes, while its bytes are still in
/// the cache: its `seq` follows the previous row's, its stored leaf hash is the hash of its
/// bytes, and (from the second row on) its `prev` is the previous row's leaf. Stops at the
/// first problem.
fn read_chunk(conn: &mut crate::storage::DbConnection, from: u64, rows: u64) -> Chunk {
    let mut chunk = CheckedChunk {
        from,
        leaves: Vec::with_capacity(rows as usize),
        ..CheckedChunk::default()
    };
    log_store::scan_entries(conn, from, from + rows, |seq, stored_leaf, body| {
        let expected = from + chunk.leaves.len() as u64;
        let seq = seq as u64;
        let leaf = merkle::leaf_hash(body);
        let problem = if seq != expected {
            Some(format!("entry missing (next stored entry is seq {seq})"))
        } else if stored_leaf != leaf {
            Some("stored leaf hash does not match the entry bytes".to_owned())
        } else if let Some(prev) = chunk.leaves.last()
            && !chain_link_matches(body, seq, prev)
        {
            Some(CHAIN_BROKEN.to_owned())
        } else {
            None
        };
        if let Some(reason) = problem {
            chunk.problem = Some((expected, reason));
            return false;
        }
        if chunk.leaves.is_empty() {
            chunk.first_body = body.to_vec();
        }
        chunk.entry_bytes += body.len() as u64;
        chunk.leaves.push(leaf);
        true
    })?;
    let to = from + chunk.leaves.len() as u64;
    chunk.nodes = nodes_completed_by(conn, from, to)?;
    Ok(chunk)
}

const CHAIN_BROKEN: &str =
    "entry bytes do not say this seq with `prev` linking to the previous entry";

/// Two readers take alternate chunks: reading and hashing the rows is most of the audit's work.
const READERS: usize = 2;

/// Reads chunks `first`, `first + READERS`, … of `rows` rows and sends them in order until the
/// log ends.
fn spawn_reader(
    pool: Pool,
    first: usize,
    rows: u64,
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
            loop {
                let chunk = read_chunk(&mut c, from, rows);
                // A chunk that ends short (end of the log, or a problem) is the last one needed.
                let done = !matches!(&chunk, Ok(k) if k.leaves.len() as u64 == rows);
                if chunks_tx.send(chunk).is_err() || done {
                    return;
                }
                from += READERS as u64 * rows;
            }
        })
        .map_err(|e| LedgerError::Internal(e.to_string()))
}

/// Re-verifies the whole log, its interior nodes and its checkpoints against `verifier`.
pub fn audit(pool: &Pool, verifier: &NoteVerifier) -> Result<AuditReport, AuditError> {
    audit_in_chunks(pool, verifier, CHUNK)
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
    let mut readers = Vec::new();
    let mut channels = Vec::new();
    for first in 0..READERS {
        let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
        readers.push(spawn_reader(pool.clone(), first, rows_per_chunk, tx)?);
        channels.push(rx);
    }
    let chunks = (0..).map_while(|i: usize| channels[i % READERS].recv().ok());

    let mut range = CompactRange::default();
    let mut prev: Hash = [0; 32];
    let mut entry_bytes = 0u64;
    let mut nodes_checked = 0u64;
    let mut pending_checkpoints: Vec<CheckpointRow> = Vec::new();
    let mut no_more_checkpoints = false;
    let mut checkpoints_checked = 0u64;
    let mut last_checkpoint_size = 0i64;
    let result = (|| -> Result<(), AuditError> {
        for chunk in chunks {
            let chunk = chunk?;
            if chunk.leaves.is_empty() && chunk.problem.is_none() {
                break;
            }
            if chunk.from != range.size() {
                // The rows between the previous chunk's last and this one are gone.
                return Err(bad(
                    range.size(),
                    format!("entry missing (next stored entry is seq {})", chunk.from),
                ));
            }
            if !chunk.leaves.is_empty() && !chain_link_matches(&chunk.first_body, chunk.from, &prev)
            {
                return Err(bad(chunk.from, CHAIN_BROKEN));
            }
            let mut expected: BTreeMap<u8, Vec<(u64, Hash)>> = BTreeMap::new();
            for leaf in &chunk.leaves {
                range.append(*leaf, |id, hash| {
                    expected.entry(id.level).or_default().push((id.index, hash))
                });
                prev = *leaf;
                check_checkpoints(
                    &mut conn,
                    verifier,
                    &range,
                    &mut pending_checkpoints,
                    &mut no_more_checkpoints,
                    &mut last_checkpoint_size,
                    &mut checkpoints_checked,
                )?;
            }
            if let Some((seq, reason)) = chunk.problem {
                return Err(bad(seq, reason));
            }
            entry_bytes += chunk.entry_bytes;
            nodes_checked += check_nodes(&chunk.nodes, &expected)?;
        }
        Ok(())
    })();
    drop(channels);
    for reader in readers {
        let _ = reader.join();
    }
    result?;

    let size = range.size();
    match log_store::entry_outside(&mut conn, size).map_err(LedgerError::from)? {
        // A row past the end: the entries between are missing (or that row was slipped in).
        Some(seq) if seq >= 0 => {
            return Err(bad(
                size,
                format!("entry missing (next stored entry is seq {seq})"),
            ));
        }
        Some(seq) => {
            return Err(AuditError::Log(format!(
                "an entry row at seq {seq}, outside the contiguous log of {size}"
            )));
        }
        None => {}
    }
    let beyond =
        log_store::checkpoints_after(&mut conn, size as i64, 1).map_err(LedgerError::from)?;
    if let Some(cp) = beyond.first() {
        return Err(bad(
            size,
            format!(
                "log truncated: a signed checkpoint covers {} entries but only {size} remain",
                cp.tree_size
            ),
        ));
    }
    let stored_nodes = log_store::count_nodes(&mut conn).map_err(LedgerError::from)?;
    if stored_nodes != nodes_checked {
        return Err(AuditError::Log(format!(
            "{stored_nodes} interior nodes stored but the log has {nodes_checked}: nodes beyond the log were inserted or left behind"
        )));
    }
    Ok(AuditReport {
        entries: size,
        entry_bytes,
        nodes: nodes_checked,
        checkpoints: checkpoints_checked,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Verifies every stored checkpoint whose size the recomputed tree has just reached.
fn check_checkpoints(
    conn: &mut crate::storage::DbConnection,
    verifier: &NoteVerifier,
    range: &CompactRange,
    pending: &mut Vec<CheckpointRow>,
    no_more: &mut bool,
    last_size: &mut i64,
    checked: &mut u64,
) -> Result<(), AuditError> {
    let size = range.size() as i64;
    loop {
        if pending.is_empty() {
            // Once the table has nothing beyond the last one checked, stop asking it for every
            // entry (the end of the audit still looks for checkpoints beyond the log).
            if *no_more {
                return Ok(());
            }
            *pending =
                log_store::checkpoints_after(conn, *last_size, 4096).map_err(LedgerError::from)?;
            *no_more = pending.is_empty();
            pending.reverse();
        }
        let Some(next) = pending.last() else {
            return Ok(());
        };
        if next.tree_size > size {
            return Ok(());
        }
        let Some(row) = pending.pop() else {
            return Ok(());
        };
        let at = (row.tree_size - 1).max(0) as u64;
        let cp = Checkpoint::open(&row.note, verifier, verifier.name())
            .map_err(|e| bad(at, format!("checkpoint for size {}: {e}", row.tree_size)))?;
        if cp.size as i64 != row.tree_size || row.root_hash.as_slice() != cp.root {
            return Err(bad(
                at,
                format!(
                    "checkpoint row for size {} does not match its signed note",
                    row.tree_size
                ),
            ));
        }
        if row.tree_size == size && cp.root != range.root() {
            return Err(bad(
                at,
                format!(
                    "signed checkpoint for size {size} does not match the log's recomputed root"
                ),
            ));
        }
        *last_size = row.tree_size;
        *checked += 1;
    }
}

/// Compares recomputed interior nodes with the stored ones the reader fetched for the chunk.
fn check_nodes(
    stored_nodes: &BTreeMap<u8, StoredLevel>,
    expected: &BTreeMap<u8, Vec<(u64, Hash)>>,
) -> Result<u64, AuditError> {
    let mut count = 0;
    for (level, nodes) in expected {
        let mut stored = stored_nodes.get(level).into_iter().flatten();
        for (index, hash) in nodes {
            let key = log_store::node_key(NodeId::new(*level, *index));
            let leaf_of_node = index << level;
            match stored.next() {
                Some((k, h)) if *k == key => {
                    if h.as_slice() != hash {
                        return Err(bad(
                            leaf_of_node,
                            format!(
                                "stored interior node (level {level}, index {index}) was changed"
                            ),
                        ));
                    }
                }
                _ => {
                    return Err(bad(
                        leaf_of_node,
                        format!(
                            "interior node (level {level}, index {index}) is missing or out of place"
                        ),
                    ));
                }
            }
            count += 1;
        }
    }
    Ok(count)
}
