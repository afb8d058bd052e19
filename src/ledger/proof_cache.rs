//! The upper levels of the Merkle tree, kept in memory for proofs.
//!
//! A stored interior node covers a complete subtree, so its hash never changes: a copy read once
//! can be served for ever. Every inclusion or consistency proof needs the nodes along one path
//! to the root; the upper ones are shared by all proofs and few (a 10,000,000-entry log has
//! 312,000 nodes at level 6 and above: 10 MB of hashes). Holding them leaves a proof with only
//! the leaf and the lowest levels to read from the database (a few pages instead of some
//! twenty-five scattered over a file of gigabytes), which keeps the proof latency's tail short.
//!
//! `scelle serve` fills it in the background at start-up, reading whole levels top down within
//! its capacity (by key: a level's nodes are spread over the table, one per `2^level` leaves);
//! proofs keep what they fetch within the same bound. The audit never reads through it.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::storage::log_store;
use crate::storage::{DbConnection, StorageError};
use scelle_verifier::merkle::{Hash, NodeId};

/// Nodes held at most (about 56 bytes each with the map's overhead: 28 MiB). Holding one more
/// level (2^20) was measured at 10M entries and shortened no proof: the tail is elsewhere.
pub const CAPACITY: usize = 1 << 19;

/// The levels below this one are always read from the database.
const LOWEST_CACHED_LEVEL: u8 = 4;

/// The upper levels of the Merkle tree, held in memory for proofs.
pub struct ProofCache {
    capacity: usize,
    held: RwLock<Held>,
}

struct Held {
    /// Nodes at this level or above are kept; set at warm-up so whole levels fit.
    min_level: u8,
    nodes: HashMap<NodeId, Hash>,
}

impl ProofCache {
    /// A cache holding nothing yet (levels from `LOWEST_CACHED_LEVEL` up, as proofs fetch them).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            held: RwLock::new(Held {
                min_level: LOWEST_CACHED_LEVEL,
                nodes: HashMap::new(),
            }),
        }
    }

    /// Reads every stored node of the upper levels of a log of `size` entries, from the root
    /// down while whole levels fit in the capacity. Proofs are served meanwhile (from the
    /// database for what is not held yet).
    pub fn warm(&self, conn: &mut DbConnection, size: u64) -> Result<(), StorageError> {
        let mut min_level = None;
        let mut count = 0usize;
        for level in (LOWEST_CACHED_LEVEL..64).rev() {
            let stored = (size >> level) as usize;
            if count + stored > self.capacity {
                break;
            }
            count += stored;
            if stored > 0 {
                min_level = Some(level);
            }
        }
        let Some(min_level) = min_level else {
            return Ok(());
        };
        let mut nodes = HashMap::with_capacity(count);
        for level in min_level..64 {
            let stored = size >> level;
            if stored == 0 {
                break;
            }
            nodes.extend(log_store::level_nodes(conn, level, 0, stored)?);
        }
        if let Ok(mut held) = self.held.write() {
            held.min_level = min_level;
            held.nodes.retain(|id, _| id.level >= min_level);
            for (id, hash) in nodes {
                if held.nodes.len() >= self.capacity {
                    break;
                }
                held.nodes.insert(id, hash);
            }
        }
        Ok(())
    }

    /// Nodes held now.
    pub fn len(&self) -> usize {
        self.held.read().map(|h| h.nodes.len()).unwrap_or(0)
    }

    /// Whether no node is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The given nodes: those held from memory, the others from the database (and kept, when of
    /// a cached level and there is room).
    pub fn fetch(
        &self,
        conn: &mut DbConnection,
        ids: &[NodeId],
    ) -> Result<HashMap<NodeId, Hash>, StorageError> {
        let mut out = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        match self.held.read() {
            Ok(held) => {
                for id in ids {
                    match held.nodes.get(id) {
                        Some(hash) => {
                            out.insert(*id, *hash);
                        }
                        None => missing.push(*id),
                    }
                }
            }
            Err(_) => missing.extend_from_slice(ids),
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let fetched = log_store::fetch_nodes(conn, &missing)?;
        if let Ok(mut held) = self.held.write() {
            for (id, hash) in &fetched {
                if id.level >= held.min_level && held.nodes.len() < self.capacity {
                    held.nodes.insert(*id, *hash);
                }
            }
        }
        out.extend(fetched);
        Ok(out)
    }
}
