//! Applies one log entry to the projections, after checking it against the current state.
//!
//! The sequencer calls it inside the append transaction (so custody rules are checked against
//! the state that includes every earlier entry of the same batch), and `rebuild` replays the
//! whole log through it. All checks run before any write, so a rejected entry writes nothing.

use crate::core::custody::{CustodyState, CustodyStatus, ProposedEvent};
use crate::core::entry::{Entry, Event};
use crate::core::model::{CustodyEventType, IntegrityResult, Role};
use crate::storage::registry::{self, CaseRow, CustodyEventRow, EvidenceRow};
use crate::storage::{DbConnection, identity};

use super::{Conflict, Denied, Missing, ServiceError};

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

fn write_state(row: &mut EvidenceRow, state: &CustodyState) {
    row.holder_id = state.holder.clone();
    row.custody_status = state.status.as_str().to_owned();
    match &state.status {
        CustodyStatus::InTransit { to, transfer_event } => {
            row.pending_to = Some(to.clone());
            row.pending_event = Some(transfer_event.clone());
        }
        _ => {
            row.pending_to = None;
            row.pending_event = None;
        }
    }
}

fn can_write_custody(role: Role) -> bool {
    matches!(role, Role::Investigator | Role::LabAnalyst)
}

/// Checks `entry` against the projections and writes its effect.
pub fn apply(conn: &mut DbConnection, entry: &Entry) -> Result<(), ServiceError> {
    let actor = &entry.actor;
    let seq = entry.seq as i64;
    match &entry.event {
        // Identity events only record that the agency or user exists; the rows are node-local.
        Event::AgencyRegistered(_) | Event::UserRegistered(_) => Ok(()),
        Event::CaseOpened(case) => {
            if actor.role != Role::Investigator {
                return Err(ServiceError::Forbidden(Denied::RoleCannotWrite));
            }
            if case.agency != actor.agency {
                return Err(ServiceError::Forbidden(Denied::OtherAgencyCase));
            }
            if registry::case_by_reference(conn, &case.reference)?.is_some() {
                return Err(ServiceError::Conflict(Conflict::CaseReference));
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
                    opened_at: entry.time.clone(),
                    opened_seq: seq,
                },
            )?;
            Ok(())
        }
        Event::EvidenceRegistered(ev) => {
            if actor.role != Role::Investigator {
                return Err(ServiceError::Forbidden(Denied::RoleCannotWrite));
            }
            let case = registry::case_by_id(conn, &ev.case)?
                .ok_or(ServiceError::NotFound(Missing::Case))?;
            if case.agency_id != actor.agency {
                return Err(ServiceError::Forbidden(Denied::OtherAgencyCase));
            }
            let (seal_taken, exhibit_taken) = registry::seal_or_exhibit_taken(
                conn,
                &ev.case,
                &ev.seal_number,
                &ev.exhibit_number,
            )?;
            if seal_taken {
                return Err(ServiceError::Conflict(Conflict::SealNumber));
            }
            if exhibit_taken {
                return Err(ServiceError::Conflict(Conflict::ExhibitNumber));
            }
            if let Some(parent) = &ev.parent {
                let parent = registry::evidence_by_id(conn, parent)?
                    .ok_or(ServiceError::NotFound(Missing::ParentEvidence))?;
                // A copy or image is made by whoever holds the original.
                if parent.holder_id != actor.user || parent.custody_status != "in_custody" {
                    return Err(ServiceError::Custody(
                        crate::core::custody::CustodyError::NotHolder,
                    ));
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
                    registered_seq: seq,
                },
            )?;
            Ok(())
        }
        Event::Custody(ev) => {
            if !can_write_custody(actor.role) {
                return Err(ServiceError::Forbidden(Denied::RoleCannotWrite));
            }
            let mut item = registry::evidence_by_id(conn, &ev.item)?
                .ok_or(ServiceError::NotFound(Missing::Evidence))?;
            if item.case_id != ev.case {
                return Err(ServiceError::NotFound(Missing::Evidence));
            }
            if let Some(to) = &ev.to_user
                && identity::user(conn, to)?.is_none()
            {
                return Err(ServiceError::NotFound(Missing::User));
            }
            if let Some(amended) = &ev.amends {
                let target = registry::event_by_id(conn, amended)?
                    .ok_or(ServiceError::NotFound(Missing::Event))?;
                if target.item_id != ev.item {
                    return Err(ServiceError::Forbidden(Denied::AmendsOtherItem));
                }
            }
            let before = custody_state_of(&item);
            let after = before.apply(&ProposedEvent {
                event_id: &ev.id,
                actor: &actor.user,
                event_type: ev.event_type,
                to_user: ev.to_user.as_deref(),
            })?;
            write_state(&mut item, &after);
            if ev.event_type == CustodyEventType::IntegrityChecked {
                item.integrity = match ev.result {
                    Some(IntegrityResult::Mismatch) => "mismatch".into(),
                    _ if item.integrity == "mismatch" => "mismatch".into(),
                    _ => "verified".into(),
                };
            }
            registry::update_evidence(conn, &item)?;
            let details =
                serde_json::to_string(ev).map_err(|e| ServiceError::Internal(e.to_string()))?;
            registry::insert_event(
                conn,
                &CustodyEventRow {
                    id: ev.id.clone(),
                    item_id: ev.item.clone(),
                    seq,
                    event_type: ev.event_type.as_str().to_owned(),
                    actor_id: actor.user.clone(),
                    occurred_at: ev.at.clone(),
                    recorded_at: entry.time.clone(),
                    details,
                },
            )?;
            Ok(())
        }
    }
}
