//! `scelle rebuild`: regenerates the custody registry tables from the log alone.
//!
//! It replays every entry through the same `apply` the sequencer used, in one transaction under
//! the append lock, so the rules are re-checked on the way: a log that replays cleanly into the
//! same tables proves the tables are nothing but a projection of the log.

use crate::storage::{Pool, get_conn, log_store, registry, with_append_lock};
use scelle_verifier::entry::Entry;
use scelle_verifier::merkle;

use super::apply::{apply, record_case_entry};
use super::error::LedgerError;
use super::projection::Projection;

/// Why a rebuild stopped.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// An entry that does not parse or that the custody rules refuse.
    #[error("seq {seq}: {reason}")]
    AtEntry { seq: u64, reason: String },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl From<diesel::result::Error> for RebuildError {
    fn from(e: diesel::result::Error) -> Self {
        RebuildError::Ledger(e.into())
    }
}

/// Empties the projections and replays the whole log into them; the log's size.
pub fn rebuild(pool: &Pool) -> Result<u64, RebuildError> {
    let mut conn = get_conn(pool).map_err(LedgerError::from)?;
    with_append_lock(&mut conn, |c| {
        registry::clear_projections(c).map_err(LedgerError::from)?;
        let mut projection = Projection::default();
        let mut from = 0u64;
        loop {
            let rows =
                log_store::entries_range(c, from, from + 10_000).map_err(LedgerError::from)?;
            if rows.is_empty() {
                projection.flush(c)?;
                return Ok(from);
            }
            for (seq, _, body) in &rows {
                let seq = *seq as u64;
                let entry = Entry::parse(body).map_err(|e| RebuildError::AtEntry {
                    seq,
                    reason: e.to_string(),
                })?;
                if entry.seq != seq {
                    return Err(RebuildError::AtEntry {
                        seq,
                        reason: format!("entry says seq {}", entry.seq),
                    });
                }
                apply(&mut projection.on(c), &entry.applied())
                    .and_then(|()| {
                        record_case_entry(
                            &mut projection.on(c),
                            &entry.event,
                            seq,
                            merkle::leaf_hash(body),
                        )
                    })
                    .map_err(|e| RebuildError::AtEntry {
                        seq,
                        reason: e.to_string(),
                    })?;
                from = seq + 1;
            }
            projection.flush(c)?;
        }
    })
}
