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

use crate::core::entry::ChainFields;
use crate::core::merkle::{self, CompactRange, Hash, NodeId};
use crate::core::note::{Checkpoint, NoteVerifier};
use crate::storage::log_store::{self, CheckpointRow};
use crate::storage::{Pool, get_conn};

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

type Chunk = Result<Vec<log_store::EntryRow>, ServiceError>;

pub fn audit(pool: &Pool, verifier: &NoteVerifier) -> Result<AuditReport, AuditError> {
    let started = Instant::now();
    let mut conn = get_conn(pool).map_err(ServiceError::from)?;
    let total_rows = log_store::count_entries(&mut conn).map_err(ServiceError::from)?;
    let (chunks_tx, chunks) = mpsc::sync_channel::<Chunk>(2);
    let reader_pool = pool.clone();
    let reader = std::thread::spawn(move || {
        let mut c = match get_conn(&reader_pool) {
            Ok(c) => c,
            Err(e) => {
                let _ = chunks_tx.send(Err(e.into()));
                return;
            }
        };
        let mut from = 0u64;
        loop {
            let rows =
                log_store::entries_range(&mut c, from, from + CHUNK).map_err(ServiceError::from);
            let done = matches!(&rows, Ok(r) if r.is_empty()) || rows.is_err();
            if chunks_tx.send(rows).is_err() || done {
                return;
            }
            from += CHUNK;
        }
    });

    let mut range = CompactRange::default();
    let mut prev: Hash = [0; 32];
    let mut prev_hex = hex::encode(prev);
    let mut entry_bytes = 0u64;
    let mut nodes_checked = 0u64;
    let mut pending_checkpoints: Vec<CheckpointRow> = Vec::new();
    let mut checkpoints_checked = 0u64;
    let mut last_checkpoint_size = 0i64;
    let result = (|| -> Result<(), AuditError> {
        for chunk in chunks.iter() {
            let rows = chunk?;
            if rows.is_empty() {
                break;
            }
            let mut expected: BTreeMap<u8, Vec<(u64, Hash)>> = BTreeMap::new();
            for (seq, stored_leaf, body) in rows {
                let seq = seq as u64;
                if seq != range.size() {
                    return Err(bad(
                        range.size(),
                        format!("entry missing (next stored entry is seq {seq})"),
                    ));
                }
                let leaf = merkle::leaf_hash(&body);
                if stored_leaf.as_slice() != leaf {
                    return Err(bad(seq, "stored leaf hash does not match the entry bytes"));
                }
                let chain: ChainFields = serde_json::from_slice(&body)
                    .map_err(|e| bad(seq, format!("entry is not valid JSON: {e}")))?;
                if chain.seq != seq {
                    return Err(bad(seq, format!("entry bytes say seq {}", chain.seq)));
                }
                if chain.prev != prev_hex {
                    return Err(bad(seq, "`prev` does not link to the previous entry"));
                }
                entry_bytes += body.len() as u64;
                range.append(leaf, |id, hash| {
                    expected.entry(id.level).or_default().push((id.index, hash))
                });
                prev = leaf;
                prev_hex = hex::encode(prev);
                check_checkpoints(
                    &mut conn,
                    verifier,
                    &range,
                    &mut pending_checkpoints,
                    &mut last_checkpoint_size,
                    &mut checkpoints_checked,
                )?;
            }
            nodes_checked += check_nodes(&mut conn, &expected)?;
        }
        Ok(())
    })();
    drop(chunks);
    let _ = reader.join();
    result?;

    let size = range.size();
    if size != total_rows {
        return Err(AuditError::Log(format!(
            "{total_rows} entry rows but a contiguous log of {size}"
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

/// Verifies every stored checkpoint whose size the recomputed tree has just reached.
fn check_checkpoints(
    conn: &mut crate::storage::PooledConn,
    verifier: &NoteVerifier,
    range: &CompactRange,
    pending: &mut Vec<CheckpointRow>,
    last_size: &mut i64,
    checked: &mut u64,
) -> Result<(), AuditError> {
    let size = range.size() as i64;
    loop {
        if pending.is_empty() {
            *pending =
                log_store::checkpoints_after(conn, *last_size, 4096).map_err(ServiceError::from)?;
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

/// Compares recomputed interior nodes with the stored ones, one range query per level.
fn check_nodes(
    conn: &mut crate::storage::PooledConn,
    expected: &BTreeMap<u8, Vec<(u64, Hash)>>,
) -> Result<u64, AuditError> {
    let mut count = 0;
    for (level, nodes) in expected {
        let (Some(first), Some(last)) = (nodes.first(), nodes.last()) else {
            continue;
        };
        let stored = log_store::nodes_range(conn, *level, first.0, last.0 + 1)
            .map_err(ServiceError::from)?;
        let mut stored = stored.into_iter().peekable();
        for (index, hash) in nodes {
            let key = log_store::node_key(NodeId::new(*level, *index));
            let leaf_of_node = index << level;
            match stored.next() {
                Some((k, h)) if k == key => {
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
