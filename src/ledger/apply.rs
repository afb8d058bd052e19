//! Applies log entries to the registry, after checking each against the current state: the
//! one place that says what each entry kind writes and which entries the registry's rules refuse.
//!
//! The registry is a [`Registry`]: the database (`projection::DbRegistry`) for the sequencer,
//! which applies a batch inside the append transaction (so custody rules are checked against the
//! state that includes every earlier entry of the same batch), and for `rebuild`, which replays
//! the whole log the same way; memory for the audit (`registry_audit`), which replays the log
//! there and compares the result with the stored tables. All checks run before any change, so a
//! rejected entry leaves nothing behind. Nothing here reads or writes the database.

use crate::storage::protection::{AccessRow, PersonRow, ShareRow};
use crate::storage::registry::{CaseRow, CustodyEventRow, EvidenceRow};
use scelle_verifier::custody::{CustodyError, CustodyState, CustodyStatus, ProposedEvent};
use scelle_verifier::entry::{
    AccessDecision, AccessRecord, AgencyRecord, AppliedEntry, CaseLink, CaseRecord, CustodyFacts,
    DisclosureRecord, DossierRecord, Event, EvidenceRecord, ExchangeRecord, PersonRecord,
    RevocationRecord, UserRecord,
};
use scelle_verifier::merkle::Hash;
use scelle_verifier::model::{CustodyEventType, IntegrityResult};

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
pub(super) fn write_state(row: &mut EvidenceRow, state: &CustodyState) {
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

/// The registry as [`apply`] reads and changes it. Every read answers the state after every
/// entry applied before, in the same batch or not.
pub trait Registry {
    /// Called before any entry that is not a custody event (the database writes what it deferred).
    fn before_other_event(&mut self) -> Result<(), LedgerError>;
    /// Whether the case exists.
    fn case_exists(&mut self, id: &str) -> Result<bool, LedgerError>;
    /// Whether a case already has this reference.
    fn reference_taken(&mut self, reference: &str) -> Result<bool, LedgerError>;
    /// Adds a case.
    fn insert_case(&mut self, row: CaseRow) -> Result<(), LedgerError>;
    /// Whether the case already has an item with this seal number, and one with this exhibit
    /// number.
    fn seal_or_exhibit_taken(
        &mut self,
        case: &str,
        seal: &str,
        exhibit: &str,
    ) -> Result<(bool, bool), LedgerError>;
    /// Adds an item, in custody of its registrant.
    fn insert_item(&mut self, row: EvidenceRow) -> Result<(), LedgerError>;
    /// The item `id` with its custody state, to read or change in place (a change is recorded by
    /// the [`push_event`](Registry::push_event) that follows it).
    fn item(&mut self, id: &str) -> Result<Option<&mut EvidenceRow>, LedgerError>;
    /// Whether the user exists.
    fn user_exists(&mut self, id: &str) -> Result<bool, LedgerError>;
    /// Whether `event` is one of the custody events already recorded for `item`.
    fn item_has_event(&mut self, item: &str, event: &str) -> Result<bool, LedgerError>;
    /// Records a custody event of an item changed in place.
    fn push_event(&mut self, row: &EventRow<'_>) -> Result<(), LedgerError>;
    /// The share `id`.
    fn share(&mut self, id: &str) -> Result<Option<ShareRow>, LedgerError>;
    /// Adds a share.
    fn insert_share(&mut self, row: ShareRow) -> Result<(), LedgerError>;
    /// Marks a share revoked at `at`; `false` if it already was.
    fn revoke_share(&mut self, id: &str, at: &str) -> Result<bool, LedgerError>;
    /// Adds a person.
    fn insert_person(&mut self, row: PersonRow) -> Result<(), LedgerError>;
    /// Adds an access record.
    fn insert_access(&mut self, row: AccessRow) -> Result<(), LedgerError>;
    /// An agency registered. Its row is node-local, written beside the entry by the sequencer.
    fn agency_registered(&mut self, _agency: &AgencyRecord) -> Result<(), LedgerError> {
        Ok(())
    }
    /// A user registered. Their row is node-local, written beside the entry by the sequencer.
    fn user_registered(&mut self, _user: &UserRecord) -> Result<(), LedgerError> {
        Ok(())
    }
    /// A vault record erased. The sealed row is deleted with the entry (a side write of the live
    /// path); a replay into the database finds it already gone, as it should.
    fn vault_erased(&mut self, _record: &str) -> Result<(), LedgerError> {
        Ok(())
    }
    /// The newest entry of the case's custody record.
    fn case_head(&mut self, case: &str) -> Result<Option<CaseLink>, LedgerError>;
    /// Records the newest entry of the case's custody record.
    fn set_case_head(&mut self, case: &str, link: CaseLink) -> Result<(), LedgerError>;
}

/// The link an entry of `event`, placed now, carries to its case's previous entry: none for an
/// entry outside a case's custody record, or that opens the case (DESIGN §8). Read before the
/// entry is applied, which it leaves unchanged when it refuses (a case with no entry yet is a
/// case that does not exist).
pub fn case_link_for(
    registry: &mut impl Registry,
    event: &Event,
) -> Result<Option<CaseLink>, LedgerError> {
    match event.case_chain() {
        Some(case) if event.links_to_case() => registry
            .case_head(case)?
            .map(Some)
            .ok_or(LedgerError::NotFound(Missing::Case)),
        _ => Ok(None),
    }
}

/// Once entry `seq` of `event` is placed with leaf hash `leaf`, it is its case's newest entry.
pub fn record_case_entry(
    registry: &mut impl Registry,
    event: &Event,
    seq: u64,
    leaf: Hash,
) -> Result<(), LedgerError> {
    match event.case_chain() {
        Some(case) => registry.set_case_head(case, CaseLink { seq, leaf }),
        None => Ok(()),
    }
}

/// Checks `entry` against the registry and records its effect there.
///
/// Who may write is decided by the policies before an entry is submitted (`authz`); here only
/// the registry's own rules are checked, so that a replay of the log rebuilds what was decided
/// then, whatever the policies say now.
pub fn apply(registry: &mut impl Registry, entry: &AppliedEntry<'_>) -> Result<(), LedgerError> {
    if !matches!(entry.event, Event::Custody(_)) {
        registry.before_other_event()?;
    }
    match &entry.event {
        // Identity events only record that the agency or user exists; the rows are node-local.
        Event::AgencyRegistered(agency) => registry.agency_registered(agency),
        Event::UserRegistered(user) => registry.user_registered(user),
        Event::VaultErased(erasure) => registry.vault_erased(&erasure.record),
        Event::CaseShared(share) => case_shared(registry, entry, share),
        Event::ShareRevoked(revocation) => share_revoked(registry, entry, revocation),
        Event::PersonRecorded(person) => person_recorded(registry, entry, person),
        Event::Access(access) => access_recorded(registry, entry, access),
        Event::CaseOpened(case) => case_opened(registry, entry, case),
        Event::EvidenceRegistered(item) => evidence_registered(registry, entry, item),
        Event::DossierIssued(DossierRecord { case, .. })
        | Event::DossierSent(ExchangeRecord { case, .. }) => {
            if registry.case_exists(case)? {
                Ok(())
            } else {
                Err(LedgerError::NotFound(Missing::Case))
            }
        }
        Event::Custody(event) => custody_event(
            registry,
            entry.seq,
            entry.time,
            &entry.actor.user,
            &event.facts(),
        ),
        // Evidence against a peer: the entry is the record (the node's index of its alerts,
        // `peer_alerts`, is node-local, as sessions are).
        Event::PeerMisbehaved(_) => Ok(()),
        // A peer's dossier, imported or refused: the entry is the record; the inbox row (node-
        // local, with the dossier itself) is written beside it.
        Event::DossierReceived(_) | Event::DossierRefused(_) => Ok(()),
    }
}

/// A custody event's registry row, borrowed from the event it records: built once per event on
/// the append path, and compared with the stored row, without a copy, on the audit's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRow<'a> {
    pub seq: i64,
    pub id: &'a str,
    pub item_id: &'a str,
    pub event_type: &'static str,
    pub actor_id: &'a str,
    pub occurred_at: &'a str,
    pub recorded_at: &'a str,
    /// The same item's previous custody event (none for its first).
    pub item_prev_seq: Option<i64>,
}

impl<'a> EventRow<'a> {
    /// The row of the event `facts`, entry `seq` recorded at `time` by `actor`, after the item's
    /// event `item_prev_seq`.
    pub fn of(
        seq: u64,
        time: &'a str,
        actor: &'a str,
        facts: &CustodyFacts<'a>,
        item_prev_seq: Option<i64>,
    ) -> Self {
        EventRow {
            seq: seq as i64,
            id: facts.id,
            item_id: facts.item,
            event_type: facts.event_type.as_str(),
            actor_id: actor,
            occurred_at: facts.at,
            recorded_at: time,
            item_prev_seq,
        }
    }

    /// The row to insert.
    pub fn to_owned_row(&self) -> CustodyEventRow {
        CustodyEventRow {
            seq: self.seq,
            id: self.id.to_owned(),
            item_id: self.item_id.to_owned(),
            event_type: self.event_type.to_owned(),
            actor_id: self.actor_id.to_owned(),
            occurred_at: self.occurred_at.to_owned(),
            recorded_at: self.recorded_at.to_owned(),
            item_prev_seq: self.item_prev_seq,
        }
    }

    /// The columns in which `stored` differs from this row, the item's previous event aside (it
    /// depends on the events before): `(column, this row's value, the stored value)`.
    pub fn differences_but_chain(
        &self,
        stored: &CustodyEventRow,
    ) -> Vec<(&'static str, &'a str, String)> {
        let mut out = Vec::new();
        for (column, want, have) in [
            ("id", self.id, &stored.id),
            ("item_id", self.item_id, &stored.item_id),
            ("event_type", self.event_type, &stored.event_type),
            ("actor_id", self.actor_id, &stored.actor_id),
            ("occurred_at", self.occurred_at, &stored.occurred_at),
            ("recorded_at", self.recorded_at, &stored.recorded_at),
        ] {
            if want != have {
                out.push((column, want, have.clone()));
            }
        }
        out
    }
}

fn case_shared(
    registry: &mut impl Registry,
    entry: &AppliedEntry<'_>,
    share: &DisclosureRecord,
) -> Result<(), LedgerError> {
    if !registry.case_exists(&share.case)? {
        return Err(LedgerError::NotFound(Missing::Case));
    }
    let join = |codes: Vec<&str>| codes.join(",");
    registry.insert_share(ShareRow {
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
    })
}

fn share_revoked(
    registry: &mut impl Registry,
    entry: &AppliedEntry<'_>,
    revocation: &RevocationRecord,
) -> Result<(), LedgerError> {
    match registry.share(&revocation.share)? {
        Some(row) if row.case_id == revocation.case => {}
        _ => return Err(LedgerError::NotFound(Missing::Share)),
    }
    if !registry.revoke_share(&revocation.share, entry.time)? {
        return Err(LedgerError::Conflict(Conflict::ShareRevoked));
    }
    Ok(())
}

fn person_recorded(
    registry: &mut impl Registry,
    entry: &AppliedEntry<'_>,
    person: &PersonRecord,
) -> Result<(), LedgerError> {
    if !registry.case_exists(&person.case)? {
        return Err(LedgerError::NotFound(Missing::Case));
    }
    registry.insert_person(PersonRow {
        id: person.id.clone(),
        case_id: person.case.clone(),
        data_record: person.data.record.clone(),
        seq: entry.seq as i64,
        recorded_at: entry.time.to_owned(),
    })
}

fn access_recorded(
    registry: &mut impl Registry,
    entry: &AppliedEntry<'_>,
    access: &AccessRecord,
) -> Result<(), LedgerError> {
    let actor = &entry.actor;
    registry.insert_access(AccessRow {
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
        repeated: access.repeated.map(|n| n.min(i64::MAX as u64) as i64),
    })
}

fn case_opened(
    registry: &mut impl Registry,
    entry: &AppliedEntry<'_>,
    case: &CaseRecord,
) -> Result<(), LedgerError> {
    if registry.reference_taken(&case.reference)? {
        return Err(LedgerError::Conflict(Conflict::CaseReference));
    }
    registry.insert_case(CaseRow {
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
    })
}

fn evidence_registered(
    registry: &mut impl Registry,
    entry: &AppliedEntry<'_>,
    ev: &EvidenceRecord,
) -> Result<(), LedgerError> {
    let actor = &entry.actor;
    if !registry.case_exists(&ev.case)? {
        return Err(LedgerError::NotFound(Missing::Case));
    }
    let (seal_taken, exhibit_taken) =
        registry.seal_or_exhibit_taken(&ev.case, &ev.seal_number, &ev.exhibit_number)?;
    if seal_taken {
        return Err(LedgerError::Conflict(Conflict::SealNumber));
    }
    if exhibit_taken {
        return Err(LedgerError::Conflict(Conflict::ExhibitNumber));
    }
    if let Some(parent) = &ev.parent {
        let parent = registry
            .item(parent)?
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
    registry.insert_item(registered_item(entry.seq, &actor.user, ev))
}

/// The registry row of an item as its registration (entry `seq`, by `actor`) leaves it: in
/// custody of its registrant, nothing checked yet.
pub fn registered_item(seq: u64, actor: &str, ev: &EvidenceRecord) -> EvidenceRow {
    EvidenceRow {
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
        holder_id: actor.to_owned(),
        custody_status: "in_custody".into(),
        pending_to: None,
        pending_event: None,
        integrity: "registered".into(),
        registered_seq: seq as i64,
        last_event_seq: None,
    }
}

/// An item's integrity after an event, if the event changes it: an integrity check says
/// `verified` or `mismatch`, and a mismatch stays for good.
pub fn integrity_after(current: &str, ev: &CustodyFacts<'_>) -> Option<&'static str> {
    if ev.event_type != CustodyEventType::IntegrityChecked {
        return None;
    }
    Some(
        if ev.result == Some(IntegrityResult::Mismatch) || current == "mismatch" {
            "mismatch"
        } else {
            "verified"
        },
    )
}

/// Applies the custody event `ev` of entry `seq`, recorded at `time` by `actor`.
pub fn custody_event(
    registry: &mut impl Registry,
    seq: u64,
    time: &str,
    actor: &str,
    ev: &CustodyFacts<'_>,
) -> Result<(), LedgerError> {
    // The item an event made (a copy, an image) exists and is of the same case.
    if let Some(derived) = ev.derived_item {
        match registry.item(derived)? {
            Some(made) if made.case_id == ev.case => {}
            _ => return Err(LedgerError::NotFound(Missing::DerivedEvidence)),
        }
    }
    match registry.item(ev.item)? {
        Some(item) if item.case_id == ev.case => {}
        _ => return Err(LedgerError::NotFound(Missing::Evidence)),
    }
    if let Some(to) = ev.to_user
        && !registry.user_exists(to)?
    {
        return Err(LedgerError::NotFound(Missing::User));
    }
    if let Some(amended) = ev.amends
        && !registry.item_has_event(ev.item, amended)?
    {
        return Err(LedgerError::Forbidden(Denied::AmendsOtherItem));
    }
    // Checked against the cached row in place, then changed in place: no copy of the row per
    // event.
    let item = registry
        .item(ev.item)?
        .ok_or(LedgerError::NotFound(Missing::Evidence))?;
    // An integrity check's result is what its hash says against the registered one.
    if let Some(found) = ev.sha256
        && ev.result
            != Some(if found == item.sha256 {
                IntegrityResult::Match
            } else {
                IntegrityResult::Mismatch
            })
    {
        return Err(LedgerError::Forbidden(Denied::IntegrityResultWrong));
    }
    let after = custody_state_of(item).apply(&ProposedEvent {
        event_id: ev.id,
        actor,
        event_type: ev.event_type,
        to_user: ev.to_user,
    })?;
    write_state(item, &after);
    let item_prev_seq = item.last_event_seq.replace(seq as i64);
    if let Some(integrity) = integrity_after(&item.integrity, ev)
        && item.integrity != integrity
    {
        integrity.clone_into(&mut item.integrity);
    }
    registry.push_event(&EventRow::of(seq, time, actor, ev, item_prev_seq))
}
