//! The upper levels of the Merkle tree, kept in memory for proofs.
//!
//! A stored interior node covers a complete subtree, so its hash never changes: a copy read once
//! can be served for ever. Every inclusion or consistency proof needs the nodes along one path
//! to the root; the upper ones are shared by all proofs and few (a 10,000,000-entry log has
//! 312,000 nodes at level 6 and above: 10 MB of hashes). Holding them leaves a proof with only the leaf
//! and the lowest levels to read from the database (a few pages instead of some twenty-five
//! scattered over a file of gigabytes), which is what keeps the proof latency's tail short.
//!
//! The cache is filled by reading whole levels at start-up (top down, within its capacity) and
//! then by the nodes proofs fetch; the audit never reads through it.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::core::merkle::{Hash, NodeId};
use crate::storage::log_store;
use crate::storage::{DbConnection, StorageError};

/// Nodes held at most (about 64 bytes each with the map's overhead: 32 MiB).
pub const CAPACITY: usize = 1 << 19;

/// The levels below this one are always read from the database.
const LOWEST_CACHED_LEVEL: u8 = 4;

pub struct NodeCache {
    /// Nodes at this level or above are kept; chosen at warm-up so whole levels fit.
    min_level: u8,
    capacity: usize,
    nodes: RwLock<HashMap<NodeId, Hash>>,
}

impl NodeCache {
    /// A cache holding nothing yet (levels from `LOWEST_CACHED_LEVEL` up, as fetched).
    pub fn empty() -> Self {
        Self {
            min_level: LOWEST_CACHED_LEVEL,
            capacity: CAPACITY,
            nodes: RwLock::new(HashMap::new()),
        }
    }

    /// Reads every stored node of the upper levels of a log of `size` entries, from the root
    /// down while whole levels fit in `capacity`.
    pub fn warm(conn: &mut DbConnection, size: u64, capacity: usize) -> Result<Self, StorageError> {
        let mut min_level = 64u8;
        let mut count = 0usize;
        let mut level = 63u8;
        while level >= LOWEST_CACHED_LEVEL {
            let stored = (size >> level) as usize;
            if count + stored > capacity {
                break;
            }
            count += stored;
            if stored > 0 {
                min_level = level;
            }
            level -= 1;
        }
        let mut nodes = HashMap::with_capacity(count);
        if min_level < 64 {
            for level in min_level..64 {
                let stored = size >> level;
                if stored == 0 {
                    break;
                }
                for (key, hash) in log_store::nodes_range(conn, level, 0, stored)? {
                    nodes.insert(log_store::node_id_from_key(key), log_store::to_hash(&hash)?);
                }
            }
        } else {
            min_level = LOWEST_CACHED_LEVEL.max(level.saturating_add(1));
        }
        Ok(Self {
            min_level,
            capacity,
            nodes: RwLock::new(nodes),
        })
    }

    /// Nodes held now.
    pub fn len(&self) -> usize {
        self.nodes.read().map(|n| n.len()).unwrap_or(0)
    }

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
        match self.nodes.read() {
            Ok(held) => {
                for id in ids {
                    match held.get(id) {
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
        if let Ok(mut held) = self.nodes.write() {
            for (id, hash) in &fetched {
                if id.level >= self.min_level && held.len() < self.capacity {
                    held.insert(*id, *hash);
                }
            }
        }
        out.extend(fetched);
        Ok(out)
    }
}
