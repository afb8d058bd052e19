//! Applies log entries to the projections, after checking each against the current state.
//!
//! The sequencer applies a batch inside the append transaction (so custody rules are checked
//! against the state that includes every earlier entry of the same batch), and `rebuild` replays
//! the whole log the same way. All checks run before any change, so a rejected entry leaves
//! nothing behind.
//!
//! Custody events are the hot path, so `Projection` keeps the evidence rows it has touched in
//! memory and defers the writes: one UPDATE per item and one multi-row INSERT of events and
//! vault rows per batch (`flush`), instead of a read and two writes per entry. Rarer events
//! (cases, items) flush first and write at once, so every query sees everything before them.

use crate::storage::log_store::{self, BatchRows, CheckpointRow, NewEntry, NewNode};
use crate::storage::protection::{self, AccessRow, PersonRow, ShareRow};
use crate::storage::registry::{self, CaseRow, CustodyEventRow, EvidenceRow, SealedRow};
use crate::storage::{DbConnection, identity};
use scelle_verifier::custody::{CustodyError, CustodyState, CustodyStatus, ProposedEvent};
use scelle_verifier::entry::{
    AccessDecision, AccessRecord, AppliedEntry, CaseRecord, CustodyRecord, DisclosureRecord, Event,
    EvidenceRecord, PersonRecord, RevocationRecord,
};
use scelle_verifier::model::{CustodyEventType, IntegrityResult};
use std::collections::{HashMap, HashSet};

use super::error::{Conflict, Denied, LedgerError, Missing};

/// An item's custody state, as its row holds it.
pub fn custody_state_of(row: &EvidenceRow) -> CustodyState {
    let status = match row.custody_status.as_str() {
        "in_transit" => CustodyStatus::InTransit {
            to: row.pending_to.clone().unwrap_or_default(),
            transfer_event: row.pending_event.clone().unwrap_or_default(),
        },
        "returned" => CustodyStatus::Returned,
        "destroyed" => CustodyStatus::Destroyed,
        _ => CustodyStatus::InCustody,
    };
    CustodyState {
        holder: row.holder_id.clone(),
        status,
    }
}

/// Writes `state` into the item's row, touching only what changed: most events (examinations,
/// integrity checks) leave holder and status as they were, and copying them again was a fifth
/// of `apply`'s time in the sequencer.
fn write_state(row: &mut EvidenceRow, state: &CustodyState) {
    fn set(field: &mut String, value: &str) {
        if field != value {
            value.clone_into(field);
        }
    }
    fn set_pending(field: &mut Option<String>, value: Option<&str>) {
        if field.as_deref() != value {
            *field = value.map(str::to_owned);
        }
    }
    set(&mut row.holder_id, &state.holder);
    set(&mut row.custody_status, state.status.as_str());
    let (to, transfer_event) = match &state.status {
        CustodyStatus::InTransit { to, transfer_event } => {
            (Some(to.as_str()), Some(transfer_event.as_str()))
        }
        _ => (None, None),
    };
    set_pending(&mut row.pending_to, to);
    set_pending(&mut row.pending_event, transfer_event);
}

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
}

impl Projection {
    /// Makes sure `items` holds the evidence row `id` as of the last applied entry, if it exists.
    fn cache_item(&mut self, conn: &mut DbConnection, id: &str) -> Result<(), LedgerError> {
        if !self.items.contains_key(id)
            && let Some(row) = registry::evidence_by_id(conn, id)?
        {
            self.items.insert(id.to_owned(), row);
        }
        Ok(())
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
        let written = log_store::write_batch(
            conn,
            &BatchRows {
                items: &items,
                events: &self.events,
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
        if self.items.len() > MAX_CACHED_ITEMS {
            self.items.clear();
        }
        Ok(true)
    }

    /// Writes everything deferred, in the caller's transaction.
    pub fn flush(&mut self, conn: &mut DbConnection) -> Result<(), LedgerError> {
        self.flush_with_log(conn, &[], &[], &[], None, None)
            .map(|_| ())
    }
}

/// Checks `entry` against the projections and records its effect in `projection` (custody
/// events) or in the database (everything else, after flushing what is deferred).
///
/// Who may write is decided by the policies before an entry is submitted (`authz`); here only
/// the registry's own rules are checked, so that a replay of the log rebuilds what was decided
/// then, whatever the policies say now.
pub fn apply(
    conn: &mut DbConnection,
    projection: &mut Projection,
    entry: &AppliedEntry<'_>,
) -> Result<(), LedgerError> {
    if !matches!(entry.event, Event::Custody(_)) {
        projection.flush(conn)?;
    }
    match &entry.event {
        // Identity events only record that the agency or user exists; the rows are node-local.
        Event::AgencyRegistered(_) | Event::UserRegistered(_) => Ok(()),
        // The sealed row is deleted with the entry (a side write of the live path); a replay
        // finds it already gone, as it should.
        Event::VaultErased(_) => Ok(()),
        Event::CaseShared(share) => case_shared(conn, entry, share),
        Event::ShareRevoked(revocation) => share_revoked(conn, entry, revocation),
        Event::PersonRecorded(person) => person_recorded(conn, entry, person),
        Event::Access(access) => access_recorded(conn, entry, access),
        Event::CaseOpened(case) => case_opened(conn, entry, case),
        Event::EvidenceRegistered(item) => evidence_registered(conn, projection, entry, item),
        Event::Custody(event) => custody_event(conn, projection, entry, event),
    }
}

fn case_shared(
    conn: &mut DbConnection,
    entry: &AppliedEntry<'_>,
    share: &DisclosureRecord,
) -> Result<(), LedgerError> {
    if registry::case_by_id(conn, &share.case)?.is_none() {
        return Err(LedgerError::NotFound(Missing::Case));
    }
    let join = |codes: Vec<&str>| codes.join(",");
    protection::insert_share(
        conn,
        &ShareRow {
            id: share.id.clone(),
            case_id: share.case.clone(),
            seq: entry.seq as i64,
            shared_by: entry.actor.user.clone(),
            recipient_agency: share.agency.clone(),
            recipient_state: share.state.map(|s| s.as_str().to_owned()),
            handling: join(share.handling.iter().map(|h| h.as_str()).collect()),
            purposes: join(share.purposes.iter().map(|p| p.as_str()).collect()),
            confidential: share.confidential,
            consent_for_court: share.consent_for_court,
            expires_at: share.expires.clone(),
            conditions_record: share.conditions.as_ref().map(|c| c.record.clone()),
            shared_at: entry.time.to_owned(),
            revoked_at: None,
        },
    )?;
    Ok(())
}

fn share_revoked(
    conn: &mut DbConnection,
    entry: &AppliedEntry<'_>,
    revocation: &RevocationRecord,
) -> Result<(), LedgerError> {
    match protection::share(conn, &revocation.share)? {
        Some(row) if row.case_id == revocation.case => {}
        _ => return Err(LedgerError::NotFound(Missing::Share)),
    }
    if !protection::revoke_share(conn, &revocation.share, entry.time)? {
        return Err(LedgerError::Conflict(Conflict::ShareRevoked));
    }
    Ok(())
}

fn person_recorded(
    conn: &mut DbConnection,
    entry: &AppliedEntry<'_>,
    person: &PersonRecord,
) -> Result<(), LedgerError> {
    if registry::case_by_id(conn, &person.case)?.is_none() {
        return Err(LedgerError::NotFound(Missing::Case));
    }
    protection::insert_person(
        conn,
        &PersonRow {
            id: person.id.clone(),
            case_id: person.case.clone(),
            data_record: person.data.record.clone(),
            seq: entry.seq as i64,
            recorded_at: entry.time.to_owned(),
        },
    )?;
    Ok(())
}

fn access_recorded(
    conn: &mut DbConnection,
    entry: &AppliedEntry<'_>,
    access: &AccessRecord,
) -> Result<(), LedgerError> {
    let actor = &entry.actor;
    protection::insert_access(
        conn,
        &AccessRow {
            seq: entry.seq as i64,
            actor_id: actor.user.clone(),
            agency_id: actor.agency.clone(),
            role: actor.role.as_str().to_owned(),
            action: access.action.clone(),
            resource: access.resource.clone(),
            case_id: access.case.clone(),
            purpose: access.purpose.map(|p| p.as_str().to_owned()),
            decision: match access.decision {
                AccessDecision::Allowed => "allowed".into(),
                AccessDecision::Denied => "denied".into(),
            },
            policies: access.policies.join(","),
            at: entry.time.to_owned(),
        },
    )?;
    Ok(())
}

fn case_opened(
    conn: &mut DbConnection,
    entry: &AppliedEntry<'_>,
    case: &CaseRecord,
) -> Result<(), LedgerError> {
    if registry::case_by_reference(conn, &case.reference)?.is_some() {
        return Err(LedgerError::Conflict(Conflict::CaseReference));
    }
    registry::insert_case(
        conn,
        &CaseRow {
            id: case.id.clone(),
            reference: case.reference.clone(),
            jurisdiction: case.jurisdiction.as_str().to_owned(),
            offence: case.offence.clone(),
            legal_basis: case.legal_basis.clone(),
            agency_id: case.agency.clone(),
            officer_id: case.officer.clone(),
            title_record: case.title.as_ref().map(|c| c.record.clone()),
            opened_at: entry.time.to_owned(),
            opened_seq: entry.seq as i64,
        },
    )?;
    Ok(())
}

fn evidence_registered(
    conn: &mut DbConnection,
    projection: &mut Projection,
    entry: &AppliedEntry<'_>,
    ev: &EvidenceRecord,
) -> Result<(), LedgerError> {
    let actor = &entry.actor;
    if registry::case_by_id(conn, &ev.case)?.is_none() {
        return Err(LedgerError::NotFound(Missing::Case));
    }
    let (seal_taken, exhibit_taken) =
        registry::seal_or_exhibit_taken(conn, &ev.case, &ev.seal_number, &ev.exhibit_number)?;
    if seal_taken {
        return Err(LedgerError::Conflict(Conflict::SealNumber));
    }
    if exhibit_taken {
        return Err(LedgerError::Conflict(Conflict::ExhibitNumber));
    }
    if let Some(parent) = &ev.parent {
        projection.cache_item(conn, parent)?;
        let parent = projection
            .items
            .get(parent)
            .ok_or(LedgerError::NotFound(Missing::ParentEvidence))?;
        // A copy or image is of an item of the same case...
        if parent.case_id != ev.case {
            return Err(LedgerError::NotFound(Missing::ParentEvidence));
        }
        // ... made by whoever holds the original.
        if parent.holder_id != actor.user || parent.custody_status != "in_custody" {
            return Err(LedgerError::Custody(CustodyError::NotHolder));
        }
    }
    registry::insert_evidence(
        conn,
        &EvidenceRow {
            id: ev.id.clone(),
            case_id: ev.case.clone(),
            exhibit_number: ev.exhibit_number.clone(),
            seal_number: ev.seal_number.clone(),
            kind: ev.kind.as_str().to_owned(),
            sha256: ev.hashes.sha256.clone(),
            sha512: ev.hashes.sha512.clone(),
            sha1: ev.hashes.sha1.clone(),
            md5: ev.hashes.md5.clone(),
            size_bytes: ev.size_bytes.map(|s| s as i64),
            collected_at: ev.collected_at.clone(),
            collector_id: ev.collector.clone(),
            description_record: ev.description.as_ref().map(|c| c.record.clone()),
            location_record: ev.location.as_ref().map(|c| c.record.clone()),
            acquisition_tool: ev.acquisition.as_ref().map(|a| a.tool.clone()),
            acquisition_version: ev.acquisition.as_ref().and_then(|a| a.version.clone()),
            acquisition_settings: ev.acquisition.as_ref().and_then(|a| a.settings.clone()),
            parent_id: ev.parent.clone(),
            holder_id: actor.user.clone(),
            custody_status: "in_custody".into(),
            pending_to: None,
            pending_event: None,
            integrity: "registered".into(),
            registered_seq: entry.seq as i64,
            last_event_seq: None,
        },
    )?;
    Ok(())
}

/// Whether a correction names an event of the same item: one of this batch's (not yet written,
/// searched only for a correction, which is rare) or one already on the item's chain.
fn amends_same_item(
    conn: &mut DbConnection,
    projection: &Projection,
    item: &str,
    amended: &str,
) -> Result<bool, LedgerError> {
    Ok(match projection.events.iter().find(|e| e.id == amended) {
        Some(event) => event.item_id == item,
        None => registry::item_has_event(conn, item, amended)?,
    })
}

fn custody_event(
    conn: &mut DbConnection,
    projection: &mut Projection,
    entry: &AppliedEntry<'_>,
    ev: &CustodyRecord,
) -> Result<(), LedgerError> {
    let actor = &entry.actor;
    let seq = entry.seq as i64;
    // Checked against the cached row in place, then changed in place: no copy of the row per
    // event.
    projection.cache_item(conn, &ev.item)?;
    // The item an event made (a copy, an image) exists and is of the same case.
    if let Some(derived) = &ev.derived_item {
        projection.cache_item(conn, derived)?;
        match projection.items.get(derived) {
            Some(made) if made.case_id == ev.case => {}
            _ => return Err(LedgerError::NotFound(Missing::DerivedEvidence)),
        }
    }
    let item = projection
        .items
        .get(&ev.item)
        .ok_or(LedgerError::NotFound(Missing::Evidence))?;
    if item.case_id != ev.case {
        return Err(LedgerError::NotFound(Missing::Evidence));
    }
    if let Some(to) = &ev.to_user
        && identity::user(conn, to)?.is_none()
    {
        return Err(LedgerError::NotFound(Missing::User));
    }
    if let Some(amended) = &ev.amends
        && !amends_same_item(conn, projection, &ev.item, amended)?
    {
        return Err(LedgerError::Forbidden(Denied::AmendsOtherItem));
    }
    let after = custody_state_of(item).apply(&ProposedEvent {
        event_id: &ev.id,
        actor: &actor.user,
        event_type: ev.event_type,
        to_user: ev.to_user.as_deref(),
    })?;
    let item = projection
        .items
        .get_mut(&ev.item)
        .ok_or(LedgerError::NotFound(Missing::Evidence))?;
    write_state(item, &after);
    let item_prev_seq = item.last_event_seq.replace(seq);
    if ev.event_type == CustodyEventType::IntegrityChecked {
        item.integrity = match ev.result {
            Some(IntegrityResult::Mismatch) => "mismatch".into(),
            _ if item.integrity == "mismatch" => "mismatch".into(),
            _ => "verified".into(),
        };
    }
    if !projection.dirty.contains(&ev.item) {
        projection.dirty.insert(ev.item.clone());
    }
    projection.events.push(CustodyEventRow {
        seq,
        id: ev.id.clone(),
        item_id: ev.item.clone(),
        event_type: ev.event_type.as_str().to_owned(),
        actor_id: actor.user.clone(),
        occurred_at: ev.at.clone(),
        recorded_at: entry.time.to_owned(),
        item_prev_seq,
    });
    Ok(())
}
