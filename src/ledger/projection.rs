//! The registry in the database as the sequencer and `rebuild` apply entries to it: the
//! tables, with the items the sequencer has checked or written kept in memory and its custody
//! writes deferred to the batch's end.
//!
//! Custody events are the hot path, so `Projection` keeps the evidence rows it has touched in
//! memory and defers the writes: one UPDATE per item and one multi-row INSERT of events and
//! vault rows per batch (`flush`), instead of a read and two writes per entry. Rarer events
//! (cases, items) flush first and write at once, so every query sees everything before them. An
//! item read from the tables enters the cache only once the log vouches for it (`vouch`).

use std::collections::{HashMap, HashSet};

use crate::storage::log_store::{self, BatchRows, CheckpointRow, NewEntry, NewNode};
use crate::storage::protection::{self, AccessRow, PersonRow, ShareRow};
use crate::storage::registry::{
    self, CaseHeadRow, CaseRow, CustodyEventRow, EvidenceRow, SealedRow,
};
use crate::storage::{DbConnection, identity};
use scelle_verifier::entry::CaseLink;

use super::apply::{EventRow, Registry};
use super::error::LedgerError;
use super::vouch;

/// Items kept in memory between batches at most; beyond it the cache starts again empty.
const MAX_CACHED_ITEMS: usize = 200_000;

/// The projections as the entries applied so far leave them, with writes deferred to `flush`.
///
/// The cached rows are valid only while no other process appends: the sequencer keeps a
/// `Projection` across batches only when the log head is the one it left.
#[derive(Default)]
pub struct Projection {
    items: HashMap<String, EvidenceRow>,
    dirty: HashSet<String>,
    events: Vec<CustodyEventRow>,
    /// The newest entry of each case's custody record read or written, and those to write.
    heads: HashMap<String, CaseLink>,
    dirty_heads: HashSet<String>,
}

impl Projection {
    /// The registry in the database as seen through this projection, on `conn`.
    pub fn on<'a>(&'a mut self, conn: &'a mut DbConnection) -> DbRegistry<'a> {
        DbRegistry {
            conn,
            projection: self,
        }
    }

    /// Writes everything deferred with the batch's log rows and vault records (on PostgreSQL,
    /// all in one statement), in the caller's transaction or, given the head they `follow`, in a
    /// statement of their own. Returns `false`, having written nothing, where the log no longer
    /// ends at `follows` (see `log_store::write_batch`).
    pub fn flush_with_log(
        &mut self,
        conn: &mut DbConnection,
        vault: &[&SealedRow],
        entries: &[NewEntry],
        nodes: &[NewNode],
        checkpoint: Option<&CheckpointRow>,
        follows: Option<(i64, &[u8])>,
    ) -> Result<bool, LedgerError> {
        let items: Vec<&EvidenceRow> = self
            .dirty
            .iter()
            .filter_map(|id| self.items.get(id))
            .collect();
        let heads: Vec<CaseHeadRow> = self
            .dirty_heads
            .iter()
            .filter_map(|case| {
                self.heads.get(case).map(|link| CaseHeadRow {
                    case_id: case.clone(),
                    seq: link.seq as i64,
                    leaf: link.leaf.to_vec(),
                })
            })
            .collect();
        let written = log_store::write_batch(
            conn,
            &BatchRows {
                items: &items,
                events: &self.events,
                heads: &heads,
                vault,
                entries,
                nodes,
                checkpoint,
                follows,
            },
        )?;
        if !written {
            return Ok(false);
        }
        self.dirty.clear();
        self.events.clear();
        self.dirty_heads.clear();
        if self.items.len() > MAX_CACHED_ITEMS {
            self.items.clear();
        }
        if self.heads.len() > MAX_CACHED_ITEMS {
            self.heads.clear();
        }
        Ok(true)
    }

    /// Writes everything deferred, in the caller's transaction.
    pub fn flush(&mut self, conn: &mut DbConnection) -> Result<(), LedgerError> {
        self.flush_with_log(conn, &[], &[], &[], None, None)
            .map(|_| ())
    }
}

/// The registry in the database, with the sequencer's items cached and its custody writes
/// deferred ([`Projection`]).
pub struct DbRegistry<'a> {
    conn: &'a mut DbConnection,
    projection: &'a mut Projection,
}

impl Registry for DbRegistry<'_> {
    fn before_other_event(&mut self) -> Result<(), LedgerError> {
        self.projection.flush(self.conn)
    }

    /// A case the registry lists is vouched for against its opening first.
    fn case_exists(&mut self, id: &str) -> Result<bool, LedgerError> {
        match registry::case_by_id(self.conn, id)? {
            Some(case) => vouch::case(self.conn, &case).map(|()| true),
            None => Ok(false),
        }
    }

    fn reference_taken(&mut self, reference: &str) -> Result<bool, LedgerError> {
        Ok(registry::case_by_reference(self.conn, reference)?.is_some())
    }

    fn insert_case(&mut self, row: CaseRow) -> Result<(), LedgerError> {
        Ok(registry::insert_case(self.conn, &row)?)
    }

    fn seal_or_exhibit_taken(
        &mut self,
        case: &str,
        seal: &str,
        exhibit: &str,
    ) -> Result<(bool, bool), LedgerError> {
        Ok(registry::seal_or_exhibit_taken(
            self.conn, case, seal, exhibit,
        )?)
    }

    /// Written at once, and kept in the cache: the sequencer wrote it, so vouches for it.
    fn insert_item(&mut self, row: EvidenceRow) -> Result<(), LedgerError> {
        registry::insert_evidence(self.conn, &row)?;
        self.projection.items.insert(row.id.clone(), row);
        Ok(())
    }

    /// From the cache, or read and vouched for against the log before it enters the cache.
    fn item(&mut self, id: &str) -> Result<Option<&mut EvidenceRow>, LedgerError> {
        let items = &mut self.projection.items;
        if !items.contains_key(id)
            && let Some(row) = registry::evidence_by_id(self.conn, id)?
        {
            vouch::item(self.conn, &row)?;
            items.insert(id.to_owned(), row);
        }
        Ok(items.get_mut(id))
    }

    fn user_exists(&mut self, id: &str) -> Result<bool, LedgerError> {
        Ok(identity::user(self.conn, id)?.is_some())
    }

    /// One of this batch's events (not yet written, searched only for a correction, which is
    /// rare) or one already on the item's chain.
    fn item_has_event(&mut self, item: &str, event: &str) -> Result<bool, LedgerError> {
        Ok(
            match self.projection.events.iter().find(|e| e.id == event) {
                Some(found) => found.item_id == item,
                None => registry::item_has_event(self.conn, item, event)?,
            },
        )
    }

    fn push_event(&mut self, row: &EventRow<'_>) -> Result<(), LedgerError> {
        let projection = &mut *self.projection;
        if !projection.dirty.contains(row.item_id) {
            projection.dirty.insert(row.item_id.to_owned());
        }
        projection.events.push(row.to_owned_row());
        Ok(())
    }

    fn share(&mut self, id: &str) -> Result<Option<ShareRow>, LedgerError> {
        Ok(protection::share(self.conn, id)?)
    }

    fn insert_share(&mut self, row: ShareRow) -> Result<(), LedgerError> {
        Ok(protection::insert_share(self.conn, &row)?)
    }

    fn revoke_share(&mut self, id: &str, at: &str) -> Result<bool, LedgerError> {
        Ok(protection::revoke_share(self.conn, id, at)?)
    }

    fn insert_person(&mut self, row: PersonRow) -> Result<(), LedgerError> {
        Ok(protection::insert_person(self.conn, &row)?)
    }

    fn insert_access(&mut self, row: AccessRow) -> Result<(), LedgerError> {
        Ok(protection::insert_access(self.conn, &row)?)
    }

    /// From the cache, or read and vouched for against the log before it enters the cache.
    fn case_head(&mut self, case: &str) -> Result<Option<CaseLink>, LedgerError> {
        if let Some(link) = self.projection.heads.get(case) {
            return Ok(Some(*link));
        }
        let Some(row) = registry::case_head(self.conn, case)? else {
            return Ok(None);
        };
        let link = vouch::case_head(self.conn, &row)?;
        self.projection.heads.insert(case.to_owned(), link);
        Ok(Some(link))
    }

    fn set_case_head(&mut self, case: &str, link: CaseLink) -> Result<(), LedgerError> {
        let projection = &mut *self.projection;
        projection.heads.insert(case.to_owned(), link);
        if !projection.dirty_heads.contains(case) {
            projection.dirty_heads.insert(case.to_owned());
        }
        Ok(())
    }
}
