//! Evidence items: registering one (`evidence.registered`: hashes, kind, collection, parent
//! for copies and images) and reading it back with its derivations and custody timeline.

use serde::{Deserialize, Serialize};

use scelle_verifier::entry::{Acquisition, CustodyRecord, Event, EvidenceRecord, Hashes};
use scelle_verifier::model::{self, EvidenceKind, FieldError, Purpose};
use scelle_verifier::t;

use crate::authz::{self, Ask, AuthUser, Target};
use crate::error::ServiceError;
use crate::ledger::error::Missing;
use crate::ledger::sequencer::{Pending, Receipt};
use crate::node::Node;
use crate::node::ids::new_id;
use crate::node::vault::Vault;
use crate::policy::cedar::Action;
use crate::storage::registry::{self, CustodyEventWithEntry, EvidenceRow};
use crate::storage::{DbConnection, StorageError};

use super::cases::EvidenceSummary;
use super::custody::EventView;
use super::sealing::{Sealing, seal_text, vault_text};

/// An item to register, as the investigator sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvidence {
    /// The exhibit number, unique in the case.
    pub exhibit_number: String,
    /// The number of the seal on the item, unique in the case.
    pub seal_number: String,
    /// `device`, `storage_medium`, `forensic_image`, `file`, `memory_capture`, `cloud_export`,
    /// `document` or `other`.
    pub kind: String,
    /// A description, which may name persons: sealed in the vault.
    #[serde(default)]
    pub description: Option<String>,
    /// SHA-256 of the item (hex).
    pub sha256: String,
    /// SHA-512 of the item (hex), if computed.
    #[serde(default)]
    pub sha512: Option<String>,
    /// SHA-1 of the item (hex), if computed.
    #[serde(default)]
    pub sha1: Option<String>,
    /// MD5 of the item (hex), if computed.
    #[serde(default)]
    pub md5: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// When it was collected, RFC 3339 with its zone.
    pub collected_at: String,
    /// Where it was collected: free text, sealed in the vault.
    #[serde(default)]
    pub location: Option<String>,
    /// The tool that acquired it (e.g. the imager).
    #[serde(default)]
    pub acquisition_tool: Option<String>,
    /// That tool's version.
    #[serde(default)]
    pub acquisition_tool_version: Option<String>,
    /// That tool's settings, as free text.
    #[serde(default)]
    pub acquisition_settings: Option<String>,
    /// The id of the item this one was copied or imaged from.
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// An item's custody state, from its last event.
#[derive(Debug, Serialize)]
pub struct CustodyView {
    /// The id of the user who holds the item.
    pub holder: String,
    /// `in_custody`, `in_transit`, `returned` or `destroyed`.
    pub status: String,
    /// The recipient of a transfer not yet received (`in_transit`).
    pub pending_to: Option<String>,
}

/// An item as a reader sees it.
#[derive(Debug, Serialize)]
pub struct EvidenceView {
    /// The item's id.
    pub id: String,
    /// The case's id.
    pub case_id: String,
    /// The exhibit number, unique in the case.
    pub exhibit_number: String,
    /// The number of the seal on the item, unique in the case.
    pub seal_number: String,
    /// `EvidenceKind` text (`device`, `forensic_image`, …).
    pub kind: String,
    /// In clear only when `personal_data`.
    pub description: Option<String>,
    /// Whether free text (description, location, places, reasons) is in clear.
    pub personal_data: bool,
    /// Its SHA-256 and any other digests, lowercase hex.
    pub hashes: Hashes,
    /// Size in bytes, if given.
    pub size_bytes: Option<u64>,
    /// When it was collected, RFC 3339 with its zone.
    pub collected_at: String,
    /// Where it was collected; in clear only when `personal_data`.
    pub location: Option<String>,
    /// The id of the user who registered (collected) it.
    pub collector: String,
    /// The acquisition tool, its version and settings, if given.
    pub acquisition: Option<Acquisition>,
    /// The id of the item this one was copied or imaged from.
    pub parent_id: Option<String>,
    /// Its custody state, from its last event.
    pub custody: CustodyView,
    /// `registered` until an integrity check; then `verified`, or `mismatch` for good once a check
    /// failed.
    pub integrity: String,
    /// The `evidence.registered` entry's seq.
    pub registered_seq: u64,
    /// The items copied or imaged from it (full view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derivations: Option<Vec<EvidenceSummary>>,
    /// Its custody events, in log order (full view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<EventView>>,
}

fn hashes_of(input: &NewEvidence) -> Result<Hashes, FieldError> {
    Ok(Hashes {
        sha256: model::parse_sha256("sha256", &input.sha256)?,
        sha512: input
            .sha512
            .as_deref()
            .map(model::parse_sha512)
            .transpose()?,
        sha1: input.sha1.as_deref().map(model::parse_sha1).transpose()?,
        md5: input.md5.as_deref().map(model::parse_md5).transpose()?,
    })
}

fn acquisition_of(input: &NewEvidence) -> Result<Option<Acquisition>, FieldError> {
    let Some(tool) = &input.acquisition_tool else {
        return Ok(None);
    };
    Ok(Some(Acquisition {
        tool: model::parse_text("acquisition_tool", tool, 200)?,
        version: input
            .acquisition_tool_version
            .as_deref()
            .map(|v| model::parse_text("acquisition_tool_version", v, 100))
            .transpose()?,
        settings: input
            .acquisition_settings
            .as_deref()
            .map(|v| model::parse_text("acquisition_settings", v, 2000))
            .transpose()?,
    }))
}

/// Registers an item in a case; its collector (the user) holds it from then on.
pub fn register(
    node: &Node,
    user: &AuthUser,
    case_id: &str,
    input: NewEvidence,
) -> Result<(EvidenceView, Receipt), ServiceError> {
    let exhibit_number = model::parse_label("exhibit_number", &input.exhibit_number, 64)?;
    let seal_number = model::parse_label("seal_number", &input.seal_number, 64)?;
    let kind = EvidenceKind::parse(&input.kind)?;
    let hashes = hashes_of(&input)?;
    if input.size_bytes.is_some_and(|s| s > model::MAX_SIZE_BYTES) {
        return Err(FieldError::new("size_bytes", t!("field-too-large")).into());
    }
    let collected_at = model::parse_zoned_time("collected_at", &input.collected_at)?;
    if node.clock().is_future(&collected_at) {
        return Err(FieldError::new("collected_at", t!("field-in-the-future")).into());
    }
    let acquisition = acquisition_of(&input)?;
    let case_id = model::parse_label("case_id", case_id, 64)?;
    authz::authorize(
        node,
        user,
        Action::EvidenceRegister,
        Target::Case(&case_id),
        &Ask::default(),
    )?;
    refuse_look_alikes(node, &case_id, &exhibit_number, &seal_number)?;
    let mut vault = Sealing::default();
    let description = seal_text(
        node,
        input.description.as_deref(),
        "description",
        &case_id,
        &mut vault,
    )?;
    let location = seal_text(
        node,
        input.location.as_deref(),
        "location",
        &case_id,
        &mut vault,
    )?;
    let record = EvidenceRecord {
        id: new_id(),
        case: case_id,
        exhibit_number,
        seal_number,
        kind,
        hashes,
        size_bytes: input.size_bytes,
        collected_at,
        collector: user.id.clone(),
        description,
        location,
        acquisition,
        parent: input
            .parent_id
            .as_deref()
            .map(|p| model::parse_label("parent_id", p, 64))
            .transpose()?,
    };
    let id = record.id.clone();
    let receipt = node.sequencer().append(Pending {
        actor: user.actor(),
        event: Event::EvidenceRegistered(record),
        side: vault.side_writes(),
    })?;
    Ok((view_of(node, &id, true)?, receipt))
}

/// Refuses an exhibit or seal number that reads as one already used in the case (`Р-1` in
/// Cyrillic beside `P-1`): a person would take the two for one. The same text twice is the
/// sequencer's conflict to answer.
fn refuse_look_alikes(
    node: &Node,
    case_id: &str,
    exhibit_number: &str,
    seal_number: &str,
) -> Result<(), ServiceError> {
    let (exhibit, seal) = (
        model::label_skeleton(exhibit_number),
        model::label_skeleton(seal_number),
    );
    for row in registry::evidence_of_case(&mut *node.connection()?, case_id)? {
        for (field, new, new_skeleton, old) in [
            (
                "exhibit_number",
                exhibit_number,
                &exhibit,
                &row.exhibit_number,
            ),
            ("seal_number", seal_number, &seal, &row.seal_number),
        ] {
            if old != new && model::label_skeleton(old) == *new_skeleton {
                return Err(FieldError::new(field, t!("field-confusable", other = old)).into());
            }
        }
    }
    Ok(())
}

/// An evidence item with its derivations and custody timeline, as `user` may see it.
pub fn read(
    node: &Node,
    user: &AuthUser,
    id: &str,
    purpose: Option<Purpose>,
) -> Result<EvidenceView, ServiceError> {
    let id = model::parse_label("evidence_id", id, 64)?;
    let item = node.item_facts(&id)?;
    let reveal = authz::authorize_read(
        node,
        user,
        Action::EvidenceRead,
        Target::Evidence(&id),
        &item.case_id,
        purpose,
        &id,
    )?;
    view_of(node, &id, reveal)
}

/// The most items a search looks at per page.
pub const SEARCH_PAGE: usize = 100;

/// A page of search results, and where the next page starts (the `after` to ask with).
#[derive(Debug, Serialize)]
pub struct SearchPage {
    pub items: Vec<EvidenceView>,
    /// The registration seq to pass as `after` for the next page; none on the last page.
    pub next: Option<u64>,
}

/// Items with this SHA-256 in the cases `user` may read (others are left out, not refused: a
/// search is not an access to any one case), a page of at most [`SEARCH_PAGE`] registrations
/// after `after`. No personal data. No connection is held while the policies are asked (they
/// may need one of their own: 16 searches at once once starved a pool of 16).
pub fn by_sha256(
    node: &Node,
    user: &AuthUser,
    sha256: &str,
    after: Option<u64>,
) -> Result<SearchPage, ServiceError> {
    let sha256 = model::parse_sha256("sha256", sha256)?;
    let after = after
        .map_or(Ok(-1), i64::try_from)
        .map_err(|_| ServiceError::Field(FieldError::new("after", t!("field-too-large"))))?;
    let mut rows = registry::evidence_by_sha256(
        &mut *node.connection()?,
        &sha256,
        after,
        SEARCH_PAGE as i64 + 1,
    )?;
    let next = (rows.len() > SEARCH_PAGE).then(|| {
        rows.truncate(SEARCH_PAGE);
        rows.last().map(|r| r.registered_seq as u64)
    });
    let mut allowed = Vec::with_capacity(rows.len());
    for row in rows {
        let verdict = authz::verdict(
            node,
            user,
            Action::EvidenceRead,
            Target::Evidence(&row.id),
            &Ask::default(),
        )?;
        if verdict.allowed {
            allowed.push(row);
        }
    }
    let mut c = node.connection()?;
    let items = allowed
        .into_iter()
        .map(|row| view(&mut c, node.vault(), row, false, false))
        .collect::<Result<_, _>>()?;
    Ok(SearchPage {
        items,
        next: next.flatten(),
    })
}

/// The item view without any policy check (write answers).
fn view_of(node: &Node, id: &str, reveal: bool) -> Result<EvidenceView, ServiceError> {
    let mut c = node.connection()?;
    let row =
        registry::evidence_by_id(&mut c, id)?.ok_or(ServiceError::NotFound(Missing::Evidence))?;
    view(&mut c, node.vault(), row, true, reveal)
}

/// A timeline event from its row and its log entry (the entry is the source of truth).
fn event_view(
    c: &mut DbConnection,
    vault: &Vault,
    event: CustodyEventWithEntry,
    reveal: bool,
) -> Result<EventView, ServiceError> {
    /// The one member of a custody entry that a timeline shows (the rest is in the row).
    #[derive(serde::Deserialize)]
    struct CustodyMember {
        custody: CustodyRecord,
    }
    let CustodyEventWithEntry { event: row, body } = event;
    let record = serde_json::from_slice::<CustodyMember>(&body)
        .map_err(|e| {
            StorageError::Corrupt(format!("custody event {} (seq {}): {e}", row.id, row.seq))
        })?
        .custody;
    let place = vault_text(
        c,
        vault,
        record.place.as_ref().map(|p| p.record.as_str()),
        reveal,
    )?;
    let reason = vault_text(
        c,
        vault,
        record.reason.as_ref().map(|p| p.record.as_str()),
        reveal,
    )?;
    Ok(EventView::of(
        record,
        row.seq as u64,
        row.actor_id,
        row.recorded_at,
        (place, reason),
    ))
}

fn view(
    c: &mut DbConnection,
    vault: &Vault,
    row: EvidenceRow,
    full: bool,
    reveal: bool,
) -> Result<EvidenceView, ServiceError> {
    let (derivations, timeline) = if full {
        let children = registry::children_of(c, &row.id)?
            .into_iter()
            .map(EvidenceSummary::of)
            .collect();
        let events = registry::events_of_item(c, &row.id)?
            .into_iter()
            .map(|e| event_view(c, vault, e, reveal))
            .collect::<Result<Vec<_>, _>>()?;
        (Some(children), Some(events))
    } else {
        (None, None)
    };
    Ok(EvidenceView {
        description: vault_text(c, vault, row.description_record.as_deref(), reveal)?,
        location: vault_text(c, vault, row.location_record.as_deref(), reveal)?,
        personal_data: reveal,
        id: row.id,
        case_id: row.case_id,
        exhibit_number: row.exhibit_number,
        seal_number: row.seal_number,
        kind: row.kind,
        hashes: Hashes {
            sha256: row.sha256,
            sha512: row.sha512,
            sha1: row.sha1,
            md5: row.md5,
        },
        size_bytes: row.size_bytes.map(|s| s as u64),
        collected_at: row.collected_at,
        collector: row.collector_id,
        acquisition: row.acquisition_tool.map(|tool| Acquisition {
            tool,
            version: row.acquisition_version,
            settings: row.acquisition_settings,
        }),
        parent_id: row.parent_id,
        custody: CustodyView {
            holder: row.holder_id,
            status: row.custody_status,
            pending_to: row.pending_to,
        },
        integrity: row.integrity,
        registered_seq: row.registered_seq as u64,
        derivations,
        timeline,
    })
}
