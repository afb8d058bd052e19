//! `scelle audit`: re-verifies everything stored, trusting nothing but the node's public key.
//!
//! One pass over the log in order: each entry's leaf hash, its `seq` and `prev` link, every
//! interior node recomputed and compared with the stored one, every checkpoint's signature and
//! root against the tree recomputed at that size, and no stored node or checkpoint beyond the
//! log. A reader thread fetches the next chunk while this one hashes. The first problem found is
//! reported with the `seq` it concerns.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Instant;

use crate::core::entry::chain_link_matches;
use crate::core::merkle::{self, CompactRange, Hash, NodeId};
use crate::core::note::{Checkpoint, NoteVerifier};
use crate::storage::log_store::{self, CheckpointRow, PackedEntries};
use crate::storage::{Pool, ScanConn};

use super::ServiceError;

const CHUNK: u64 = 1 << 14;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditReport {
    pub entries: u64,
    pub entry_bytes: u64,
    pub nodes: u64,
    pub checkpoints: u64,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("seq {seq}: {reason}")]
    AtEntry { seq: u64, reason: String },
    #[error("{0}")]
    Log(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl AuditError {
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

/// A chunk of entries with the stored interior nodes their leaves complete, per level.
type Chunk = Result<(PackedEntries, BTreeMap<u8, StoredLevel>), ServiceError>;

/// The stored nodes completed by appending leaves `from..to` to a tree of size `from`, per level:
/// node (level, index) is complete once leaf `(index + 1) << level` - 1 is in, and the nodes
/// are keyed by that leaf, so this is one range read.
fn nodes_completed_by(
    conn: &mut crate::storage::DbConnection,
    from: u64,
    to: u64,
) -> Result<BTreeMap<u8, StoredLevel>, ServiceError> {
    let mut levels: BTreeMap<u8, StoredLevel> = BTreeMap::new();
    for (key, hash) in log_store::nodes_completed_by(conn, from, to)? {
        let level = log_store::node_id_from_key(key).level;
        levels.entry(level).or_default().push((key, hash));
    }
    Ok(levels)
}

const READERS: usize = 2;

/// Reads chunks `first`, `first + READERS`, … and sends them in order until the log ends.
/// Buffers the main thread is done with come back on `recycled`, so a long audit reuses the
/// same few chunks of memory instead of faulting in fresh pages for every chunk.
fn spawn_reader(
    pool: Pool,
    first: usize,
    chunks_tx: mpsc::SyncSender<Chunk>,
    recycled: mpsc::Receiver<PackedEntries>,
) -> Result<std::thread::JoinHandle<()>, ServiceError> {
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
            let mut from = first as u64 * CHUNK;
            loop {
                let mut rows = recycled.try_recv().unwrap_or_default();
                let chunk = log_store::entries_range_packed(&mut c, from, from + CHUNK, &mut rows)
                    .map_err(ServiceError::from)
                    .and_then(|()| {
                        let to = from + rows.len() as u64;
                        Ok((rows, nodes_completed_by(&mut c, from, to)?))
                    });
                let done = matches!(&chunk, Ok((r, _)) if r.is_empty()) || chunk.is_err();
                if chunks_tx.send(chunk).is_err() || done {
                    return;
                }
                from += READERS as u64 * CHUNK;
            }
        })
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

pub fn audit(pool: &Pool, verifier: &NoteVerifier) -> Result<AuditReport, AuditError> {
    let started = Instant::now();
    let mut conn = ScanConn::get(pool).map_err(ServiceError::from)?;
    // Two readers take alternate chunks: decoding rows costs about as much as hashing them.
    let mut readers = Vec::new();
    let mut channels = Vec::new();
    let mut recyclers = Vec::new();
    for first in 0..READERS {
        let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
        let (recycle_tx, recycle_rx) = mpsc::channel::<PackedEntries>();
        readers.push(spawn_reader(pool.clone(), first, tx, recycle_rx)?);
        channels.push(rx);
        recyclers.push(recycle_tx);
    }
    let chunks = (0..).map_while(|i: usize| {
        channels[i % READERS]
            .recv()
            .ok()
            .map(|chunk| (i % READERS, chunk))
    });

    let mut range = CompactRange::default();
    let mut prev: Hash = [0; 32];
    let mut entry_bytes = 0u64;
    let mut nodes_checked = 0u64;
    let mut pending_checkpoints: Vec<CheckpointRow> = Vec::new();
    let mut no_more_checkpoints = false;
    let mut checkpoints_checked = 0u64;
    let mut last_checkpoint_size = 0i64;
    let result = (|| -> Result<(), AuditError> {
        for (reader, chunk) in chunks {
            let (rows, stored_nodes) = chunk?;
            if rows.is_empty() {
                break;
            }
            let mut expected: BTreeMap<u8, Vec<(u64, Hash)>> = BTreeMap::new();
            let leaves = leaf_hashes(&rows);
            for ((seq, stored_leaf, body), leaf) in rows.rows().zip(leaves) {
                let seq = seq as u64;
                if seq != range.size() {
                    return Err(bad(
                        range.size(),
                        format!("entry missing (next stored entry is seq {seq})"),
                    ));
                }
                if stored_leaf != leaf {
                    return Err(bad(seq, "stored leaf hash does not match the entry bytes"));
                }
                if !chain_link_matches(body, seq, &prev) {
                    return Err(bad(
                        seq,
                        "entry bytes do not say this seq with `prev` linking to the previous entry",
                    ));
                }
                entry_bytes += body.len() as u64;
                range.append(leaf, |id, hash| {
                    expected.entry(id.level).or_default().push((id.index, hash))
                });
                prev = leaf;
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
            nodes_checked += check_nodes(&stored_nodes, &expected)?;
            // The reader may have finished already; then the buffer is simply dropped.
            let _ = recyclers[reader].send(rows);
        }
        Ok(())
    })();
    drop(channels);
    for reader in readers {
        let _ = reader.join();
    }
    result?;

    let size = range.size();
    if let Some(seq) = log_store::entry_outside(&mut conn, size).map_err(ServiceError::from)? {
        return Err(AuditError::Log(format!(
            "an entry row at seq {seq}, outside the contiguous log of {size}"
        )));
    }
    let beyond =
        log_store::checkpoints_after(&mut conn, size as i64, 1).map_err(ServiceError::from)?;
    if let Some(cp) = beyond.first() {
        return Err(bad(
            size,
            format!(
                "log truncated: a signed checkpoint covers {} entries but only {size} remain",
                cp.tree_size
            ),
        ));
    }
    let stored_nodes = log_store::count_nodes(&mut conn).map_err(ServiceError::from)?;
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

/// Each entry's leaf hash, computed on both cores (hashing dominates the audit's own work).
fn leaf_hashes(rows: &PackedEntries) -> Vec<Hash> {
    let half = rows.len() / 2;
    let hash_rows = |range: std::ops::Range<usize>| -> Vec<Hash> {
        range.map(|i| merkle::leaf_hash(rows.row(i).2)).collect()
    };
    std::thread::scope(|scope| {
        let other = scope.spawn(|| hash_rows(half..rows.len()));
        let mut out = hash_rows(0..half);
        match other.join() {
            Ok(rest) => out.extend(rest),
            // A panic there is a bug; recompute here rather than lose the audit.
            Err(_) => out.extend(hash_rows(half..rows.len())),
        }
        out
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
                log_store::checkpoints_after(conn, *last_size, 4096).map_err(ServiceError::from)?;
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
