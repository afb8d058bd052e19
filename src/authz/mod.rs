//! The one authorization point: every use case asks here, and nowhere else, whether the
//! authenticated user may do what they ask, and leaves what the law requires in the log.
//!
//! [`authorize`] gathers the facts the policies need — the principal's agency and state, the
//! case's owner and state, the share through which the principal reaches it — from the node's
//! own records (never from the request), and asks the Cedar policies (`policy::cedar`). A denial
//! is appended to the log as an `access.denied` entry before the error goes back, and every read
//! of personal data that is allowed is appended as `access.allowed` with its purpose: the log
//! proves who saw what, and why.

use scelle_verifier::entry::{AccessDecision, AccessRecord, Actor, Event};
use scelle_verifier::model::{FieldError, HandlingCode, Jurisdiction, Purpose, Role};

use crate::clock::unix_of;
use crate::error::ServiceError;
use crate::ledger::sequencer::{Pending, Receipt, SideWrites};
use crate::node::Node;
use crate::node::denials::Refusal;
use crate::node::facts::CaseFacts;
use crate::policy::cedar::{AccessContext, Action, Principal, Resource, ShareConditions, Verdict};
use crate::storage::protection::{self, ShareRow};

/// The authenticated user, as every use case and the policies see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// The user's id.
    pub id: String,
    /// Their name, as shown to colleagues.
    pub name: String,
    /// What they do.
    pub role: Role,
    /// Their agency.
    pub agency: String,
    /// The state of the user's agency.
    pub state: Jurisdiction,
    /// Whether their agency is a forensic lab.
    pub agency_is_lab: bool,
}

impl AuthUser {
    /// The `actor` member of the entries this user's actions append.
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.id.clone(),
            agency: self.agency.clone(),
            role: self.role,
        }
    }
}

/// What a request is about, as the caller names it; the authorization point looks up the facts.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The principal's own agency (for `case.open`).
    OwnAgency,
    /// A case, by id.
    Case(&'a str),
    /// An evidence item, by id (its case is looked up).
    Evidence(&'a str),
    /// A person record of a case.
    Person {
        /// The person record's id.
        id: &'a str,
        /// Its case.
        case: &'a str,
    },
    /// The log (checkpoints, entries, proofs).
    Log,
    /// The node as a whole.
    Node,
    /// The node's records about one state (a DPO's report asks for a state's).
    StateRecords(Jurisdiction),
    /// A dossier a peer sent, by transfer id: the sender's case, reached through its share.
    Received(&'a str),
}

/// What the caller asks for beyond the action itself.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    /// The stated purpose of a read of personal data.
    pub purpose: Option<Purpose>,
    /// Where a share would send the case.
    pub destination_state: Option<Jurisdiction>,
    /// The handling codes a share would attach.
    pub destination_handling: Option<Vec<HandlingCode>>,
    /// The legal basis stated for a share.
    pub legal_basis: Option<String>,
}

impl Ask {
    /// Only a purpose.
    pub fn purpose(purpose: Option<Purpose>) -> Self {
        Self {
            purpose,
            ..Self::default()
        }
    }
}

fn codes<T>(text: &str, parse: impl Fn(&str) -> Result<T, FieldError>) -> Vec<T> {
    text.split(',')
        .filter(|c| !c.is_empty())
        .filter_map(|c| parse(c).ok())
        .collect()
}

/// A share's conditions as the policies see them, from its columns (comma-separated codes, an
/// RFC 3339 expiry; one that does not parse has lapsed).
fn share_conditions(
    handling: &str,
    purposes: &str,
    confidential: bool,
    consent_for_court: bool,
    expires_at: &str,
) -> ShareConditions {
    ShareConditions {
        handling: codes(handling, HandlingCode::parse),
        purposes: codes(purposes, Purpose::parse),
        confidential,
        consent_for_court,
        expires: unix_of(expires_at).unwrap_or(i64::MIN),
    }
}

/// The conditions under which `user` reaches a case they do not own: the newest share to
/// their agency or state that has not expired, else the newest one (whose expiry the policies
/// then refuse), else none.
fn share_for(
    node: &Node,
    user: &AuthUser,
    case_id: &str,
    facts: &CaseFacts,
    now: i64,
) -> Result<Option<ShareConditions>, ServiceError> {
    if user.agency == facts.agency {
        return Ok(None);
    }
    let rows = protection::shares_reaching(
        &mut *node.connection()?,
        case_id,
        &facts.agency,
        &user.agency,
        user.state.as_str(),
    )?;
    let conditions = |row: &ShareRow| {
        share_conditions(
            &row.handling,
            &row.purposes,
            row.confidential,
            row.consent_for_court,
            &row.expires_at,
        )
    };
    let all: Vec<ShareConditions> = rows.iter().map(conditions).collect();
    Ok(all
        .iter()
        .find(|s| s.expires > now)
        .or(all.first())
        .cloned())
}

/// A received dossier as the policies see it: the sender's case's owner and state, and the
/// sender's share when it names the user's agency or state.
struct ReceivedFacts {
    owner_agency: String,
    owner_state: Jurisdiction,
    share: Option<ShareConditions>,
}

fn received_facts(
    node: &Node,
    user: &AuthUser,
    transfer_id: &str,
) -> Result<ReceivedFacts, ServiceError> {
    let row = crate::storage::exchange::imported(&mut *node.connection()?, transfer_id)?
        .map(|row| row.summary)
        .ok_or(ServiceError::NotFound(
            crate::ledger::error::Missing::Transfer,
        ))?;
    let owner_state = row
        .owner_state
        .as_deref()
        .and_then(|s| Jurisdiction::parse(s).ok())
        .ok_or_else(|| ServiceError::Internal(format!("received {transfer_id}: owner state")))?;
    let reaches = row.recipient_agency.as_deref() == Some(user.agency.as_str())
        || row.recipient_state.as_deref() == Some(user.state.as_str());
    let share = reaches.then(|| {
        share_conditions(
            row.handling.as_deref().unwrap_or(""),
            row.purposes.as_deref().unwrap_or(""),
            row.confidential.unwrap_or(true),
            row.consent_for_court.unwrap_or(false),
            row.expires_at.as_deref().unwrap_or(""),
        )
    });
    Ok(ReceivedFacts {
        owner_agency: row.owner_agency.unwrap_or_default(),
        owner_state,
        share,
    })
}

/// What the policies answer, without recording anything (a search filters with it).
pub fn verdict(
    node: &Node,
    user: &AuthUser,
    action: Action,
    target: Target<'_>,
    ask: &Ask,
) -> Result<Verdict, ServiceError> {
    let now = node.clock().unix_now();
    let principal = Principal {
        user: &user.id,
        role: user.role,
        agency: &user.agency,
        state: user.state,
        agency_is_lab: user.agency_is_lab,
    };
    let mut context = AccessContext {
        now,
        purpose: ask.purpose,
        share: None,
        destination_state: ask.destination_state,
        destination_handling: ask.destination_handling.clone(),
        legal_basis: ask.legal_basis.clone(),
    };
    let facts;
    let item;
    let received;
    let resource = match target {
        Target::OwnAgency => Resource::Agency {
            id: &user.agency,
            state: user.state,
            is_lab: user.agency_is_lab,
        },
        Target::Case(id) => {
            facts = node.case_facts(id)?;
            context.share = share_for(node, user, id, &facts, now)?;
            Resource::Case {
                id,
                agency: &facts.agency,
                state: facts.state,
            }
        }
        Target::Evidence(id) => {
            item = node.item_facts(id)?;
            facts = node.case_facts(&item.case_id)?;
            context.share = share_for(node, user, &item.case_id, &facts, now)?;
            Resource::Evidence {
                id,
                case: &item.case_id,
                agency: &facts.agency,
                state: facts.state,
            }
        }
        Target::Person { id, case } => {
            facts = node.case_facts(case)?;
            context.share = share_for(node, user, case, &facts, now)?;
            Resource::Person {
                id,
                case,
                agency: &facts.agency,
                state: facts.state,
            }
        }
        Target::Log => Resource::Log,
        Target::Node => Resource::Node {
            state: node.state(),
        },
        Target::StateRecords(state) => Resource::Node { state },
        Target::Received(id) => {
            received = received_facts(node, user, id)?;
            context.share = received.share.clone();
            Resource::Case {
                id,
                agency: &received.owner_agency,
                state: received.owner_state,
            }
        }
    };
    Ok(node
        .policies()
        .decide(&principal, action, &resource, &context))
}

/// The one authorization point. A denial is recorded in the log (`access.denied`) and
/// returned as an error naming the policy and its reason.
pub fn authorize(
    node: &Node,
    user: &AuthUser,
    action: Action,
    target: Target<'_>,
    ask: &Ask,
) -> Result<Verdict, ServiceError> {
    let verdict = verdict(node, user, action, target, ask)?;
    if verdict.allowed {
        return Ok(verdict);
    }
    let (resource, case) = match target {
        Target::OwnAgency => (format!("agency:{}", user.agency), None),
        Target::Case(id) => (format!("case:{id}"), Some(id.to_owned())),
        Target::Evidence(id) => (format!("evidence:{id}"), Some(node.item_facts(id)?.case_id)),
        Target::Person { id, case } => (format!("person:{id}"), Some(case.to_owned())),
        Target::Log => ("log".to_owned(), None),
        Target::Node => ("node".to_owned(), None),
        Target::StateRecords(state) => (format!("node:{}", state.as_str()), None),
        Target::Received(id) => (format!("received:{id}"), None),
    };
    let record = AccessRecord {
        action: action.as_str().to_owned(),
        resource,
        case,
        purpose: ask.purpose,
        decision: AccessDecision::Denied,
        policies: verdict.policies.clone(),
        repeated: None,
    };
    // Past the first few in a window, refusals are counted, not appended (`node::denials`).
    match node.refusals().refused(
        &user.id,
        action.as_str(),
        (user.actor(), record.clone()),
        std::time::Instant::now(),
    ) {
        Refusal::Counted => {}
        Refusal::Append { summaries } => {
            for summary in summaries {
                append_summary(node, summary)?;
            }
            record_access(node, user, record)?;
        }
    }
    Err(ServiceError::PolicyDenied {
        action: action.as_str(),
        policies: verdict.policies,
        reason: verdict.reason,
    })
}

/// Authorizes a read of case content (`action` on `target`, of case `case_id`); with a
/// purpose, also the personal data in it, which is then recorded. Returns whether personal
/// data may be shown.
pub fn authorize_read(
    node: &Node,
    user: &AuthUser,
    action: Action,
    target: Target<'_>,
    case_id: &str,
    purpose: Option<Purpose>,
    resource_id: &str,
) -> Result<bool, ServiceError> {
    authorize(node, user, action, target, &Ask::purpose(purpose))?;
    if purpose.is_none() {
        return Ok(false);
    }
    authorize_personal_read(
        node,
        user,
        Target::Case(case_id),
        case_id,
        purpose,
        resource_id.to_owned(),
    )?;
    Ok(true)
}

/// Authorizes a read of personal data in a case (`person.read`, with the stated purpose) and
/// records it in the log as `access.allowed`: who, what, why.
pub fn authorize_personal_read(
    node: &Node,
    user: &AuthUser,
    target: Target<'_>,
    case_id: &str,
    purpose: Option<Purpose>,
    resource: String,
) -> Result<(), ServiceError> {
    let verdict = authorize(
        node,
        user,
        Action::PersonRead,
        target,
        &Ask::purpose(purpose),
    )?;
    record_access(
        node,
        user,
        AccessRecord {
            action: Action::PersonRead.as_str().to_owned(),
            resource,
            case: Some(case_id.to_owned()),
            purpose,
            decision: AccessDecision::Allowed,
            policies: verdict.policies,
            repeated: None,
        },
    )?;
    Ok(())
}

/// Authorizes reading a dossier a peer sent (`received.read`, under the sender's conditions,
/// for the stated purpose) and records the read in the log as `access.allowed`.
pub fn authorize_received_read(
    node: &Node,
    user: &AuthUser,
    transfer_id: &str,
    purpose: Purpose,
) -> Result<(), ServiceError> {
    let verdict = authorize(
        node,
        user,
        Action::ReceivedRead,
        Target::Received(transfer_id),
        &Ask::purpose(Some(purpose)),
    )?;
    record_access(
        node,
        user,
        AccessRecord {
            action: Action::ReceivedRead.as_str().to_owned(),
            resource: format!("received:{transfer_id}"),
            case: None,
            purpose: Some(purpose),
            decision: AccessDecision::Allowed,
            policies: verdict.policies,
            repeated: None,
        },
    )?;
    Ok(())
}

/// One entry for refusals that were counted: the last of them, with how many it stands for.
fn append_summary(
    node: &Node,
    ((actor, mut record), count): ((Actor, AccessRecord), u64),
) -> Result<Receipt, ServiceError> {
    record.repeated = Some(count);
    Ok(node.sequencer().append(Pending {
        actor,
        event: Event::Access(record),
        side: SideWrites::default(),
    })?)
}

/// Appends the summaries of the refusal windows that have ended (every one with `all`, when
/// the node stops); the server calls it as windows end. How many entries it appended.
pub fn close_refusal_windows(node: &Node, all: bool) -> Result<usize, ServiceError> {
    let summaries = node.refusals().close(std::time::Instant::now(), all);
    let n = summaries.len();
    for summary in summaries {
        append_summary(node, summary)?;
    }
    Ok(n)
}

fn record_access(
    node: &Node,
    user: &AuthUser,
    record: AccessRecord,
) -> Result<Receipt, ServiceError> {
    Ok(node.sequencer().append(Pending {
        actor: user.actor(),
        event: Event::Access(record),
        side: SideWrites::default(),
    })?)
}
