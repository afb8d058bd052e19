//! Sharing a case with another agency or a whole state, under conditions that travel with it
//! (handling codes, purposes, expiry, legal basis) and that the policies enforce at the
//! receiver; and withdrawing a share.

use serde::{Deserialize, Serialize};

use scelle_verifier::entry::{DisclosureRecord, Event, Reason, RevocationRecord};
use scelle_verifier::model::{self, FieldError, HandlingCode, Jurisdiction, Purpose};
use scelle_verifier::t;

use crate::authz::{self, Ask, AuthUser, Target};
use crate::clock::unix_of;
use crate::error::ServiceError;
use crate::ledger::error::Missing;
use crate::ledger::sequencer::{Pending, Receipt};
use crate::node::Node;
use crate::node::ids::new_id;
use crate::policy::cedar::Action;
use crate::storage::{identity, protection};

use super::sealing::{Sealing, seal_reason, seal_text};

/// A share to make, as the case's owner sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    /// The receiving agency's id; give this or `state`.
    #[serde(default)]
    pub agency: Option<String>,
    /// The receiving state (`BJ`, `BF`, `CI`, `NE`, `TG`); give this or `agency`.
    #[serde(default)]
    pub state: Option<String>,
    /// Handling codes (`H0` to `H3`); `H3` needs `conditions`.
    #[serde(default)]
    pub handling: Vec<String>,
    /// What the recipient may use the case for (at least one purpose).
    pub purposes: Vec<String>,
    /// Budapest Convention Art. 28(2)(a): kept confidential by the receiver.
    #[serde(default)]
    pub confidential: bool,
    /// For H1: the sending state consents to use in court.
    #[serde(default)]
    pub consent_for_court: bool,
    /// When the share lapses, RFC 3339 with its zone; must be in the future.
    pub expires_at: String,
    /// The legal basis the sender states (required by the policies across a border).
    #[serde(default)]
    pub legal_basis: Option<String>,
    /// The H3 conditions in free text: sealed in the vault.
    #[serde(default)]
    pub conditions: Option<String>,
}

/// The recipient of a share: an agency (with its state) or a whole state.
fn recipient(
    node: &Node,
    input: &NewShare,
) -> Result<(Option<String>, Jurisdiction), ServiceError> {
    match (&input.agency, &input.state) {
        (Some(agency), None) => {
            let agency = agency.to_ascii_lowercase();
            let row = identity::agency(&mut *node.connection()?, &agency)?
                .ok_or(ServiceError::NotFound(Missing::Agency))?;
            let state = Jurisdiction::parse(&row.state)?;
            Ok((Some(agency), state))
        }
        (None, Some(state)) => Ok((None, Jurisdiction::parse(state)?)),
        _ => Err(FieldError::new("agency", t!("field-agency-or-state")).into()),
    }
}

/// Whether a list names something twice (a list of codes is a set: each at most once).
fn has_repeats<T: PartialEq>(list: &[T]) -> bool {
    list.iter().enumerate().any(|(i, x)| list[..i].contains(x))
}

/// Shares a case; the share is a `case.shared` entry.
pub fn share(
    node: &Node,
    user: &AuthUser,
    case_id: &str,
    input: NewShare,
) -> Result<(DisclosureRecord, Receipt), ServiceError> {
    let case_id = model::parse_label("case_id", case_id, 64)?;
    let (agency, state) = recipient(node, &input)?;
    let handling = input
        .handling
        .iter()
        .map(|h| HandlingCode::parse(h))
        .collect::<Result<Vec<_>, _>>()?;
    let purposes = input
        .purposes
        .iter()
        .map(|p| Purpose::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    if has_repeats(&handling) {
        return Err(FieldError::new("handling", t!("field-repeated")).into());
    }
    if has_repeats(&purposes) {
        return Err(FieldError::new("purposes", t!("field-repeated")).into());
    }
    if purposes.is_empty() {
        return Err(FieldError::new("purposes", t!("field-needs-a-purpose")).into());
    }
    let expires = model::parse_zoned_time("expires_at", &input.expires_at)?;
    if unix_of(&expires).is_none_or(|t| t <= node.clock().unix_now()) {
        return Err(FieldError::new("expires_at", t!("field-must-be-future")).into());
    }
    let legal_basis = input
        .legal_basis
        .as_deref()
        .map(|b| model::parse_text("legal_basis", b, 200))
        .transpose()?;
    if handling.contains(&HandlingCode::H3) != input.conditions.is_some() {
        return Err(FieldError::new("conditions", t!("field-conditions-with-h3")).into());
    }
    authz::authorize(
        node,
        user,
        Action::CaseShare,
        Target::Case(&case_id),
        &Ask {
            purpose: None,
            destination_state: Some(state),
            destination_handling: Some(handling.clone()),
            legal_basis: legal_basis.clone(),
        },
    )?;
    let mut sealing = Sealing::default();
    let conditions = seal_text(
        node,
        input.conditions.as_deref(),
        "conditions",
        &case_id,
        &mut sealing,
    )?;
    let record = DisclosureRecord {
        id: new_id(),
        case: case_id,
        state: if agency.is_none() { Some(state) } else { None },
        agency,
        handling,
        purposes,
        confidential: input.confidential,
        consent_for_court: input.consent_for_court,
        expires,
        legal_basis,
        conditions,
    };
    let receipt = node.sequencer().append(Pending {
        actor: user.actor(),
        event: Event::CaseShared(record.clone()),
        side: sealing.side_writes(),
    })?;
    Ok((record, receipt))
}

/// A share's withdrawal as its author sees it: the reason in clear, and the commitment the log
/// holds instead of it.
#[derive(Debug, Serialize)]
pub struct RevocationView {
    /// The share withdrawn.
    pub share: String,
    /// Its case.
    pub case: String,
    /// Why, as stated.
    pub reason: String,
    /// What the log holds for the reason.
    pub reason_commitment: Reason,
}

/// Withdraws a share (who may share the case may revoke its shares): a `case.share_revoked`
/// entry, after which the share reaches no one. The reason enters the log as a commitment.
pub fn revoke(
    node: &Node,
    user: &AuthUser,
    case_id: &str,
    share_id: &str,
    reason: &str,
) -> Result<(RevocationView, Receipt), ServiceError> {
    let case_id = model::parse_label("case_id", case_id, 64)?;
    let share_id = model::parse_label("share_id", share_id, 64)?;
    let reason = model::parse_text("reason", reason, 500)?;
    match protection::share(&mut *node.connection()?, &share_id)? {
        Some(row) if row.case_id == case_id => {}
        _ => return Err(ServiceError::NotFound(Missing::Share)),
    }
    authz::authorize(
        node,
        user,
        Action::CaseShare,
        Target::Case(&case_id),
        &Ask::default(),
    )?;
    let mut sealing = Sealing::default();
    let committed = seal_reason(node, &reason, "reason", Some(&case_id), &mut sealing)?;
    let record = RevocationRecord {
        share: share_id,
        case: case_id,
        reason: committed,
    };
    let receipt = node.sequencer().append(Pending {
        actor: user.actor(),
        event: Event::ShareRevoked(record.clone()),
        side: sealing.side_writes(),
    })?;
    let view = RevocationView {
        share: record.share,
        case: record.case,
        reason,
        reason_commitment: record.reason,
    };
    Ok((view, receipt))
}
