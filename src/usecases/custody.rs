//! Custody events: the chain of custody of an item, one event at a time (DESIGN §3). The
//! state machine itself is checked by the sequencer against the item's state in the same
//! transaction (`ledger::apply`); here the request is validated, authorized and sealed.

use serde::{Deserialize, Serialize};

use scelle_verifier::entry::{CustodyRecord, Event};
use scelle_verifier::model::{self, CustodyEventType, FieldError, IntegrityResult};
use scelle_verifier::t;

use crate::authz::{self, Ask, AuthUser, Target};
use crate::clock::unix_of;
use crate::error::ServiceError;
use crate::ledger::error::Missing;
use crate::ledger::sequencer::{Pending, Receipt, Submitted};
use crate::node::Node;
use crate::node::ids::new_id;
use crate::policy::cedar::Action;
use crate::storage::identity;

use super::sealing::{Sealing, seal_text};
use super::tokens;

/// A custody event as the officer sends it (`type` and the members that event type takes).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewCustodyEvent {
    /// The custody event type (`transferred`, `received`, …).
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened, RFC 3339 with its zone; now when absent.
    #[serde(default)]
    pub at: Option<String>,
    /// Where it happened: free text, sealed in the vault.
    #[serde(default)]
    pub place: Option<String>,
    /// Why: free text, sealed in the vault. Required for `examined`, `returned`, `destroyed`,
    /// `corrected` and `shared_externally`.
    #[serde(default)]
    pub reason: Option<String>,
    /// The tool used, if any.
    #[serde(default)]
    pub tool: Option<String>,
    /// The order or warrant that authorizes it, if any.
    #[serde(default)]
    pub authorization: Option<String>,
    /// The receiving user's id; for `transferred` only, which requires it.
    #[serde(default)]
    pub to_user: Option<String>,
    /// Whether the seal arrived intact; for `received` only, which requires it.
    #[serde(default)]
    pub seal_intact: Option<bool>,
    /// The SHA-256 found now (hex); for `integrity_checked` only, which requires it.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The id of the earlier event of the same item it corrects; for `corrected` only, which
    /// requires it.
    #[serde(default)]
    pub amends: Option<String>,
    /// The id of an item this event made (a copy or an image), if any.
    #[serde(default)]
    pub derived_item: Option<String>,
}

/// A custody event as a timeline shows it.
#[derive(Debug, Serialize)]
pub struct EventView {
    /// The custody event's id.
    pub id: String,
    /// The log entry's seq.
    pub seq: u64,
    /// The custody event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The id of the user who recorded it.
    pub actor: String,
    /// When it happened, RFC 3339 with its zone.
    pub at: String,
    /// When the log recorded it (RFC 3339, UTC).
    pub recorded_at: String,
    /// Where it happened; in clear only to a reader allowed personal data.
    pub place: Option<String>,
    /// Why; in clear only to a reader allowed personal data.
    pub reason: Option<String>,
    /// The tool used.
    pub tool: Option<String>,
    /// The order or warrant that authorized it.
    pub authorization: Option<String>,
    /// The receiving user's id (`transferred`).
    pub to_user: Option<String>,
    /// Whether the seal arrived intact (`received`).
    pub seal_intact: Option<bool>,
    /// The SHA-256 found (`integrity_checked`), lowercase hex.
    pub sha256: Option<String>,
    /// `match` or `mismatch` against the item's registered SHA-256 (`integrity_checked`).
    pub result: Option<String>,
    /// The id of the event it corrects (`corrected`).
    pub amends: Option<String>,
    /// The id of an item this event made, if any.
    pub derived_item: Option<String>,
}

impl EventView {
    /// The view of a custody record at `seq`, with its place and reason in clear (if readable).
    pub fn of(
        record: CustodyRecord,
        seq: u64,
        actor: String,
        recorded_at: String,
        (place, reason): (Option<String>, Option<String>),
    ) -> Self {
        Self {
            id: record.id,
            seq,
            event_type: record.event_type.as_str().to_owned(),
            actor,
            at: record.at,
            recorded_at,
            place,
            reason,
            tool: record.tool,
            authorization: record.authorization,
            to_user: record.to_user,
            seal_intact: record.seal_intact,
            sha256: record.sha256,
            result: record.result.map(|r| r.as_str().to_owned()),
            amends: record.amends,
            derived_item: record.derived_item,
        }
    }
}

/// A custody event handed to the sequencer: what its view needs once the receipt comes.
struct EventDraft {
    record: CustodyRecord,
    actor: String,
    /// The place and reason in clear, as the caller sent them.
    clear: (Option<String>, Option<String>),
}

impl EventDraft {
    /// The view is what the sequencer stored, built from the same record without a re-read.
    fn recorded(self, receipt: Receipt) -> (EventView, Receipt) {
        let view = EventView::of(
            self.record,
            receipt.seq,
            self.actor,
            receipt.recorded_at.clone(),
            self.clear,
        );
        (view, receipt)
    }
}

/// A custody event on its way into the log (see [`submit`]).
pub struct SubmittedEvent {
    submitted: Submitted,
    draft: EventDraft,
}

impl SubmittedEvent {
    /// The id the event is recorded under (a later correction names it in `amends`).
    pub fn event_id(&self) -> &str {
        &self.draft.record.id
    }

    /// Waits, without holding a thread, until the event is durable; its view and receipt.
    pub async fn recorded(self) -> Result<(EventView, Receipt), ServiceError> {
        let receipt = self.submitted.receipt().await?;
        Ok(self.draft.recorded(receipt))
    }
}

/// Records a custody event on an item and waits until it is durable.
pub fn record(
    node: &Node,
    user: &AuthUser,
    item_id: &str,
    input: NewCustodyEvent,
) -> Result<(EventView, Receipt), ServiceError> {
    let (pending, draft) = prepare(node, user, item_id, input)?;
    let receipt = node.sequencer().append(pending)?;
    Ok(draft.recorded(receipt))
}

/// [`record`] for a caller that awaits: the checks and the sealing run now, on the caller's
/// thread; the returned handle resolves once the entry is durable.
pub fn submit(
    node: &Node,
    user: &AuthUser,
    item_id: &str,
    input: NewCustodyEvent,
) -> Result<SubmittedEvent, ServiceError> {
    let (pending, draft) = prepare(node, user, item_id, input)?;
    Ok(SubmittedEvent {
        submitted: node.sequencer().submit(pending)?,
        draft,
    })
}

/// Refuses a member the event type needs and lacks, or takes and is given.
fn require(present: bool, field: &'static str, needed: bool) -> Result<(), FieldError> {
    match (present, needed) {
        (false, true) => Err(FieldError::new(field, t!("field-required-for-event"))),
        (true, false) => Err(FieldError::new(field, t!("field-not-allowed-for-event"))),
        _ => Ok(()),
    }
}

/// The members each event type requires or refuses.
fn check_members(event_type: CustodyEventType, input: &NewCustodyEvent) -> Result<(), FieldError> {
    use CustodyEventType as T;
    require(
        input.to_user.is_some(),
        "to_user",
        event_type == T::Transferred,
    )?;
    require(
        input.seal_intact.is_some(),
        "seal_intact",
        event_type == T::Received,
    )?;
    require(
        input.sha256.is_some(),
        "sha256",
        event_type == T::IntegrityChecked,
    )?;
    require(input.amends.is_some(), "amends", event_type == T::Corrected)?;
    // Only an event that makes an item from another names the item it made.
    if input.derived_item.is_some() && !matches!(event_type, T::Copied | T::Acquired) {
        return Err(FieldError::new(
            "derived_item",
            t!("field-not-allowed-for-event"),
        ));
    }
    let needs_reason = matches!(
        event_type,
        T::Examined
            | T::Returned
            | T::Destroyed
            | T::Corrected
            | T::SharedExternally
            | T::TransferCancelled
    );
    if needs_reason && input.reason.is_none() {
        return Err(FieldError::new("reason", t!("field-required-for-event")));
    }
    Ok(())
}

fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    value.map(|v| model::parse_text(field, v, max)).transpose()
}

fn optional_label(field: &'static str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    value.map(|v| model::parse_label(field, v, 64)).transpose()
}

/// An event is not in the future (beyond the clock's skew) nor before its item was collected.
fn check_time(node: &Node, at: &str, collected_at: &str) -> Result<(), ServiceError> {
    if node.clock().is_future(at) {
        return Err(FieldError::new("at", t!("field-in-the-future")).into());
    }
    if let (Some(at), Some(collected)) = (unix_of(at), unix_of(collected_at))
        && at < collected
    {
        return Err(FieldError::new("at", t!("field-before-collection")).into());
    }
    Ok(())
}

/// A transfer goes only to a user who may then record custody on the item (the policies say
/// who): otherwise the item would wait for ever for a receipt no one can make.
fn check_recipient(node: &Node, to_user: &str, item_id: &str) -> Result<(), ServiceError> {
    let to_user = model::parse_label("to_user", to_user, 64)?;
    let Some((user, agency)) = identity::user_with_agency(&mut *node.connection()?, &to_user)?
    else {
        return Err(ServiceError::NotFound(Missing::User));
    };
    let recipient = tokens::auth_user(user, agency)?;
    let verdict = authz::verdict(
        node,
        &recipient,
        Action::CustodyRecord,
        Target::Evidence(item_id),
        &Ask::default(),
    )?;
    if verdict.allowed {
        Ok(())
    } else {
        Err(FieldError::new("to_user", t!("field-cannot-receive")).into())
    }
}

/// A custody event checked, sealed and ready for the sequencer, with what its view needs.
fn prepare(
    node: &Node,
    user: &AuthUser,
    item_id: &str,
    input: NewCustodyEvent,
) -> Result<(Pending, EventDraft), ServiceError> {
    let event_type = CustodyEventType::parse(&input.event_type)?;
    let item = node.item_facts(item_id)?;
    authz::authorize(
        node,
        user,
        Action::CustodyRecord,
        Target::Evidence(item_id),
        &Ask::default(),
    )?;
    check_members(event_type, &input)?;
    let sha256 = input
        .sha256
        .as_deref()
        .map(|h| model::parse_sha256("sha256", h))
        .transpose()?;
    let result = sha256.as_ref().map(|h| {
        if *h == item.sha256 {
            IntegrityResult::Match
        } else {
            IntegrityResult::Mismatch
        }
    });
    let at = match &input.at {
        Some(at) => model::parse_zoned_time("at", at)?,
        None => node.clock().now_rfc3339()?,
    };
    check_time(node, &at, &item.collected_at)?;
    if let Some(to) = input.to_user.as_deref() {
        check_recipient(node, to, item_id)?;
    }
    let mut vault = Sealing::default();
    let case = item.case_id.as_str();
    let record = CustodyRecord {
        id: new_id(),
        item: item_id.to_owned(),
        case: item.case_id.clone(),
        event_type,
        at,
        place: seal_text(node, input.place.as_deref(), "place", case, &mut vault)?,
        reason: seal_text(node, input.reason.as_deref(), "reason", case, &mut vault)?,
        tool: optional_text("tool", input.tool.as_deref(), 200)?,
        authorization: optional_text("authorization", input.authorization.as_deref(), 200)?,
        to_user: optional_label("to_user", input.to_user.as_deref())?,
        seal_intact: input.seal_intact,
        sha256,
        result,
        amends: optional_label("amends", input.amends.as_deref())?,
        derived_item: optional_label("derived_item", input.derived_item.as_deref())?,
    };
    let clear = (
        vault.clear_of(&record.place),
        vault.clear_of(&record.reason),
    );
    let pending = Pending {
        actor: user.actor(),
        event: Event::Custody(record.clone()),
        side: vault.side_writes(),
    };
    let draft = EventDraft {
        record,
        actor: user.id.clone(),
        clear,
    };
    Ok((pending, draft))
}
