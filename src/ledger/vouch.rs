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
use std::collections::HashMap;

use scelle_verifier::entry::{CaseLink, Entry, Event};
use scelle_verifier::merkle::{self, Hash};

use crate::storage::projection_rows::{CustodyStateRow, ItemFactsRow};
use crate::storage::registry::{self, CaseHeadRow, CaseRow, CustodyEventWithEntry, EvidenceRow};
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
/// log: its registration entry, then each of its events replayed in order.
pub fn item(conn: &mut DbConnection, row: &EvidenceRow) -> Result<(), LedgerError> {
    let registration = entry_at(conn, row.registered_seq)?;
    let events = registry::events_of_item(conn, &row.id)?;
    check_item(row, registration.as_ref(), &events)
}

/// [`item`] for every item of a case at once, in two reads (the registrations, then every
/// event with its entry): what a dossier export needs. Answers the bytes and leaf hash of every
/// entry read, by seq.
pub fn items_of_case(
    conn: &mut DbConnection,
    case_id: &str,
    items: &[EvidenceRow],
) -> Result<HashMap<u64, (Hash, Vec<u8>)>, LedgerError> {
    let mut read: HashMap<u64, (Hash, Vec<u8>)> = HashMap::new();
    let registrations: Vec<u64> = items
        .iter()
        .filter_map(|item| u64::try_from(item.registered_seq).ok())
        .collect();
    for (seq, _, body) in log_store::entries_by_seqs(conn, &registrations)? {
        read.insert(seq as u64, (merkle::leaf_hash(&body), body));
    }
    let mut events: HashMap<String, Vec<CustodyEventWithEntry>> = HashMap::new();
    for event in registry::events_of_case(conn, case_id)? {
        events
            .entry(event.event.item_id.clone())
            .or_default()
            .push(event);
    }
    for item in items {
        let registration = u64::try_from(item.registered_seq)
            .ok()
            .and_then(|seq| read.get(&seq))
            .and_then(|(_, body)| Entry::parse_content(body).ok());
        let own = events.remove(&item.id).unwrap_or_default();
        check_item(item, registration.as_ref(), &own)?;
        for event in own {
            if let Ok(seq) = u64::try_from(event.event.seq) {
                read.insert(seq, (merkle::leaf_hash(&event.body), event.body));
            }
        }
    }
    Ok(read)
}

/// The checks of [`item`], on its registration entry and its stored events (in log order).
fn check_item(
    row: &EvidenceRow,
    registration: Option<&Entry>,
    events: &[CustodyEventWithEntry],
) -> Result<(), LedgerError> {
    let mut expected = registered(row, registration)?;
    for stored in events {
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
    Ok(())
}

/// Checks an item's registered facts (its case, hashes, collection) against its registration.
pub fn item_facts(conn: &mut DbConnection, row: &EvidenceRow) -> Result<(), LedgerError> {
    let registration = entry_at(conn, row.registered_seq)?;
    registered(row, registration.as_ref()).map(|_| ())
}

/// The item's row as its registration made it, once its stored facts are found to be those.
fn registered(row: &EvidenceRow, registration: Option<&Entry>) -> Result<EvidenceRow, LedgerError> {
    let disagrees = || LedgerError::Disagrees {
        table: "evidence_items",
        key: row.id.clone(),
    };
    let Some(registration) = registration else {
        return Err(disagrees());
    };
    let Event::EvidenceRegistered(record) = &registration.event else {
        return Err(disagrees());
    };
    let expected = registered_item(registration.seq, &registration.actor.user, record);
    if record.id != row.id
        || registration.seq as i64 != row.registered_seq
        || ItemFactsRow::from(&expected) != ItemFactsRow::from(row)
    {
        return Err(disagrees());
    }
    Ok(expected)
}

/// Checks the stored newest entry of a case's custody record: an entry of that case, with that
/// leaf hash. (That no newer one exists only the whole log can say: the audit checks it.)
pub fn case_head(conn: &mut DbConnection, row: &CaseHeadRow) -> Result<CaseLink, LedgerError> {
    let disagrees = || LedgerError::Disagrees {
        table: "case_heads",
        key: row.case_id.clone(),
    };
    let seq = u64::try_from(row.seq).map_err(|_| disagrees())?;
    let body = log_store::entry_body(conn, seq)?.ok_or_else(disagrees)?;
    let leaf = merkle::leaf_hash(&body);
    let entry = Entry::parse_content(&body).map_err(|_| disagrees())?;
    if row.leaf.as_slice() != leaf || entry.event.case_chain() != Some(row.case_id.as_str()) {
        return Err(disagrees());
    }
    Ok(CaseLink { seq, leaf })
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
