//! Cases: opening one (`case.opened`) and reading it back as the reader may see it.

use serde::{Deserialize, Serialize};

use scelle_verifier::entry::{CaseRecord, Event};
use scelle_verifier::model::{self, Jurisdiction, Purpose};

use crate::authz::{self, Ask, AuthUser, Target};
use crate::error::ServiceError;
use crate::ledger::error::Missing;
use crate::ledger::sequencer::{Pending, Receipt};
use crate::node::Node;
use crate::node::ids::new_id;
use crate::policy::cedar::Action;
use crate::storage::DbConnection;
use crate::storage::registry::{self, CaseRow, EvidenceRow};

use super::paging::{self, PAGE_MAX, Page};
use super::sealing::{Sealing, seal_text, vault_text};

/// A case to open, as the investigator sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// The case reference (`TG-DCPJ-2026-00042`), unique on the node.
    pub reference: String,
    /// A title, which may name persons: sealed in the vault.
    #[serde(default)]
    pub title: Option<String>,
    /// The state whose law applies (`BJ`, `BF`, `CI`, `NE`, `TG`).
    pub jurisdiction: String,
    /// The offence (Budapest Convention article or national category).
    pub offence: String,
    /// The requisition or warrant the case rests on.
    pub legal_basis: String,
    /// The legal basis on which the case is under another state's law than the agency's (a
    /// transfer of proceedings, a joint investigation team...): the policies require it then.
    /// Sealed in the vault like the title; the log holds its commitment.
    #[serde(default)]
    pub jurisdiction_basis: Option<String>,
}

/// An item of a case, in a listing.
#[derive(Debug, Serialize)]
pub struct EvidenceSummary {
    /// The item's id.
    pub id: String,
    /// The exhibit number, unique in the case.
    pub exhibit_number: String,
    /// The number of the seal on the item, unique in the case.
    pub seal_number: String,
    /// `EvidenceKind` text (`device`, `forensic_image`, …).
    pub kind: String,
    /// SHA-256 of the item, lowercase hex.
    pub sha256: String,
}

impl EvidenceSummary {
    /// The summary of an item's row.
    pub fn of(e: EvidenceRow) -> Self {
        Self {
            id: e.id,
            exhibit_number: e.exhibit_number,
            seal_number: e.seal_number,
            kind: e.kind,
            sha256: e.sha256,
        }
    }
}

/// A case as a reader sees it.
#[derive(Debug, Serialize)]
pub struct CaseView {
    /// The case's id.
    pub id: String,
    /// The case reference, unique on the node.
    pub reference: String,
    /// In clear only when the reader stated a purpose the policies accept (`personal_data`).
    pub title: Option<String>,
    /// Whether personal data (the title) is shown in clear.
    pub personal_data: bool,
    /// The state whose law applies (`BJ`, `BF`, `CI`, `NE`, `TG`).
    pub jurisdiction: String,
    /// The offence (Budapest Convention article or national category).
    pub offence: String,
    /// The requisition or warrant the case rests on.
    pub legal_basis: String,
    /// The id of the agency that opened the case.
    pub agency: String,
    /// The id of the user who opened it.
    pub officer: String,
    /// When the log recorded the opening (RFC 3339, UTC).
    pub opened_at: String,
    /// The `case.opened` entry's seq.
    pub opened_seq: u64,
    /// The case's first items, at most [`PAGE_MAX`], in log order.
    pub evidence: Vec<EvidenceSummary>,
    /// When it has more items: the `after` that asks `…/evidence` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_next: Option<u64>,
}

/// Opens a case in the user's agency; the answer shows it with its title in clear.
pub fn open(
    node: &Node,
    user: &AuthUser,
    input: NewCase,
) -> Result<(CaseView, Receipt), ServiceError> {
    let reference = model::parse_label("reference", &input.reference, 64)?;
    let jurisdiction = Jurisdiction::parse(&input.jurisdiction)?;
    let offence = model::parse_text("offence", &input.offence, 200)?;
    let legal_basis = model::parse_text("legal_basis", &input.legal_basis, 200)?;
    let jurisdiction_basis = input
        .jurisdiction_basis
        .as_deref()
        .map(|b| model::parse_text("jurisdiction_basis", b, 500))
        .transpose()?;
    authz::authorize(
        node,
        user,
        Action::CaseOpen,
        Target::OwnAgency,
        &Ask {
            destination_state: Some(jurisdiction),
            legal_basis: jurisdiction_basis.clone(),
            ..Ask::default()
        },
    )?;
    let mut vault = Sealing::default();
    let id = new_id();
    let title = seal_text(node, input.title.as_deref(), "title", &id, &mut vault)?;
    let jurisdiction_basis = seal_text(
        node,
        jurisdiction_basis.as_deref(),
        "jurisdiction_basis",
        &id,
        &mut vault,
    )?;
    let record = CaseRecord {
        id,
        reference,
        jurisdiction,
        offence,
        legal_basis,
        agency: user.agency.clone(),
        officer: user.id.clone(),
        title,
        jurisdiction_basis,
    };
    let id = record.id.clone();
    let receipt = node.sequencer().append(Pending {
        actor: user.actor(),
        event: Event::CaseOpened(record),
        side: vault.side_writes(),
    })?;
    Ok((view_of(node, &id, true)?, receipt))
}

/// A case as `user` may see it: personal data in clear only with a purpose the policies
/// accept, and then the read is recorded in the log.
pub fn read(
    node: &Node,
    user: &AuthUser,
    id: &str,
    purpose: Option<Purpose>,
) -> Result<CaseView, ServiceError> {
    let id = model::parse_label("case_id", id, 64)?;
    let reveal = authz::authorize_read(
        node,
        user,
        Action::CaseRead,
        Target::Case(&id),
        &id,
        purpose,
        &id,
    )?;
    view_of(node, &id, reveal)
}

/// The case with this reference, as `user` may see it.
pub fn read_by_reference(
    node: &Node,
    user: &AuthUser,
    reference: &str,
    purpose: Option<Purpose>,
) -> Result<CaseView, ServiceError> {
    let reference = model::parse_label("reference", reference, 64)?;
    let id = registry::case_by_reference(&mut *node.connection()?, &reference)?
        .ok_or(ServiceError::NotFound(Missing::Case))?
        .id;
    read(node, user, &id, purpose)
}

/// A page of the items of case `id`, registered after `after`, in log order.
pub fn evidence(
    node: &Node,
    user: &AuthUser,
    id: &str,
    after: Option<u64>,
) -> Result<Page<EvidenceSummary>, ServiceError> {
    let id = model::parse_label("case_id", id, 64)?;
    let after = paging::cursor("after", after)?.unwrap_or(-1);
    authz::authorize_read(
        node,
        user,
        Action::CaseRead,
        Target::Case(&id),
        &id,
        None,
        &id,
    )?;
    evidence_page(&mut *node.connection()?, &id, after)
}

fn evidence_page(
    c: &mut DbConnection,
    id: &str,
    after: i64,
) -> Result<Page<EvidenceSummary>, ServiceError> {
    let rows = registry::evidence_of_case_after(c, id, after, paging::fetch_limit(PAGE_MAX))?;
    Ok(Page::cut(rows, PAGE_MAX, |r| r.registered_seq).map(EvidenceSummary::of))
}

/// The id of the case with this id or reference (operator tools).
pub fn id_for(node: &Node, id_or_reference: &str) -> Result<String, ServiceError> {
    let mut c = node.connection()?;
    if let Some(case) = registry::case_by_id(&mut c, id_or_reference)? {
        return Ok(case.id);
    }
    registry::case_by_reference(&mut c, id_or_reference)?
        .map(|case| case.id)
        .ok_or(ServiceError::NotFound(Missing::Case))
}

/// The case view without any policy check (write answers).
fn view_of(node: &Node, id: &str, reveal: bool) -> Result<CaseView, ServiceError> {
    let mut c = node.connection()?;
    let row = registry::case_by_id(&mut c, id)?.ok_or(ServiceError::NotFound(Missing::Case))?;
    view(&mut c, node, row, reveal)
}

fn view(
    c: &mut DbConnection,
    node: &Node,
    row: CaseRow,
    reveal: bool,
) -> Result<CaseView, ServiceError> {
    let evidence = evidence_page(c, &row.id, -1)?;
    Ok(CaseView {
        title: vault_text(c, node.vault(), row.title_record.as_deref(), reveal)?,
        personal_data: reveal,
        id: row.id,
        reference: row.reference,
        jurisdiction: row.jurisdiction,
        offence: row.offence,
        legal_basis: row.legal_basis,
        agency: row.agency_id,
        officer: row.officer_id,
        opened_at: row.opened_at,
        opened_seq: row.opened_seq as u64,
        evidence: evidence.items,
        evidence_next: evidence.next,
    })
}
