//! Which checkpoint a node may publish: the newest one that no power loss can take back.
//!
//! A batch is visible to readers once committed, but durable only once the syncer has flushed
//! it (`Sequencer::durable_size`); a checkpoint beyond the durable size is never served, put in
//! a dossier or handed to a peer.

use crate::storage::log_store::{self, CheckpointRow};
use crate::storage::{self, DbConnection};

use super::error::LedgerError;
use super::sequencer::Sequencer;

/// The newest checkpoint this node may publish. On PostgreSQL another node may have committed
/// a newer one that this node's syncer has not flushed: it is flushed here first (one more
/// round trip, only when there is one).
pub fn publishable(
    c: &mut DbConnection,
    sequencer: &Sequencer,
) -> Result<Option<CheckpointRow>, LedgerError> {
    let durable = sequencer.durable_size();
    if let Some(newest) = log_store::latest_checkpoint(c)? {
        let size = u64::try_from(newest.tree_size).unwrap_or(0);
        if size <= durable {
            return Ok(Some(newest));
        }
        if storage::flush_committed(c)? {
            sequencer.mark_durable(size);
            return Ok(Some(newest));
        }
    }
    Ok(log_store::latest_checkpoint_within(c, Some(durable))?)
}
