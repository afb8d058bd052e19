//! The node decides nothing on a registry row it cannot vouch for from the log.
//!
//! The registry tables are what the node reads to decide (who holds an item, whether a case
//! exists) and what a dossier lists; an intruder with the database can edit them. So before the
//! sequencer decides on an item it has not seen since it started (its cache holds every item it
//! has checked or written since), and before a dossier is signed, the row is checked against the
//! log: an item's facts against its registration, its custody state against the replay of its
//! events, each event row against its entry; a case against its opening. A row that disagrees
//! is refused, naming it, and `scelle audit` says the rest.

use scelle_verifier::custody::ProposedEvent;
use scelle_verifier::entry::{Entry, Event};

use crate::storage::projection_rows::{CustodyStateRow, ItemFactsRow};
use crate::storage::registry::{self, CaseRow, EvidenceRow};
use crate::storage::{DbConnection, log_store};

use super::apply::{EventRow, custody_state_of, integrity_after, registered_item, write_state};
use super::error::LedgerError;

/// The entry at `seq`, parsed; `None` when there is none or it cannot be read.
fn entry_at(conn: &mut DbConnection, seq: i64) -> Result<Option<Entry>, LedgerError> {
    let Ok(seq) = u64::try_from(seq) else {
        return Ok(None);
    };
    Ok(log_store::entry_body(conn, seq)?.and_then(|body| Entry::parse_content(&body).ok()))
}

/// Checks an item's stored row (facts and custody state) and its custody event rows against the
/// log: its registration entry, then each of its events replayed in order. Answers the seqs of
/// those events, in order.
pub fn item(conn: &mut DbConnection, row: &EvidenceRow) -> Result<Vec<u64>, LedgerError> {
    let mut expected = registration(conn, row)?;
    let mut seqs = Vec::new();
    for stored in registry::events_of_item(conn, &row.id)? {
        let event_disagrees = || LedgerError::Disagrees {
            table: "custody_events",
            key: stored.event.seq.to_string(),
        };
        let entry = Entry::parse_content(&stored.body).map_err(|_| event_disagrees())?;
        let Event::Custody(custody) = &entry.event else {
            return Err(event_disagrees());
        };
        let facts = custody.facts();
        if facts.item != row.id || entry.seq as i64 != stored.event.seq {
            return Err(event_disagrees());
        }
        let after = custody_state_of(&expected)
            .apply(&ProposedEvent {
                event_id: facts.id,
                actor: &entry.actor.user,
                event_type: facts.event_type,
                to_user: facts.to_user,
            })
            .map_err(|_| event_disagrees())?;
        let link = expected.last_event_seq.replace(stored.event.seq);
        if EventRow::of(entry.seq, &entry.time, &entry.actor.user, &facts, link).to_owned_row()
            != stored.event
        {
            return Err(event_disagrees());
        }
        write_state(&mut expected, &after);
        seqs.push(entry.seq);
        if let Some(integrity) = integrity_after(&expected.integrity, &facts) {
            integrity.clone_into(&mut expected.integrity);
        }
    }
    if CustodyStateRow::from(&expected) != CustodyStateRow::from(row) {
        return Err(LedgerError::Disagrees {
            table: "custody_states",
            key: row.id.clone(),
        });
    }
    Ok(seqs)
}

/// Checks an item's registered facts (its case, hashes, collection) against its registration.
pub fn item_facts(conn: &mut DbConnection, row: &EvidenceRow) -> Result<(), LedgerError> {
    registration(conn, row).map(|_| ())
}

/// The item's row as its registration made it, once its stored facts are found to be those.
fn registration(conn: &mut DbConnection, row: &EvidenceRow) -> Result<EvidenceRow, LedgerError> {
    let disagrees = || LedgerError::Disagrees {
        table: "evidence_items",
        key: row.id.clone(),
    };
    let Some(registration) = entry_at(conn, row.registered_seq)? else {
        return Err(disagrees());
    };
    let Event::EvidenceRegistered(record) = &registration.event else {
        return Err(disagrees());
    };
    let expected = registered_item(registration.seq, &registration.actor.user, record);
    if record.id != row.id || ItemFactsRow::from(&expected) != ItemFactsRow::from(row) {
        return Err(disagrees());
    }
    Ok(expected)
}

/// Checks a case's stored row against its opening.
pub fn case(conn: &mut DbConnection, row: &CaseRow) -> Result<(), LedgerError> {
    let disagrees = || LedgerError::Disagrees {
        table: "cases",
        key: row.id.clone(),
    };
    let Some(opening) = entry_at(conn, row.opened_seq)? else {
        return Err(disagrees());
    };
    match &opening.event {
        Event::CaseOpened(case)
            if case.id == row.id
                && case.reference == row.reference
                && case.agency == row.agency_id
                && case.jurisdiction.as_str() == row.jurisdiction
                && case.officer == row.officer_id
                && opening.time == row.opened_at =>
        {
            Ok(())
        }
        _ => Err(disagrees()),
    }
}
