//! Evidence items: registering one (`evidence.registered`: hashes, kind, collection, parent
//! for copies and images) and reading it back with its derivations and custody timeline.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use scelle_verifier::commitment::Commitment;
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
use crate::storage::registry::{self, CustodyEventRow, CustodyEventWithEntry, EvidenceRow};
use crate::storage::{DbConnection, StorageError};

use super::cases::EvidenceSummary;
use super::custody::EventView;
use super::paging::{self, PAGE_MAX, Page};
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
    /// The first items copied or imaged from it, at most [`PAGE_MAX`] (full view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derivations: Option<Vec<EvidenceSummary>>,
    /// When it has more derivations: the `after` that asks `…/derivations` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derivations_next: Option<u64>,
    /// Its latest custody events, at most [`PAGE_MAX`], in log order (full view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<EventView>>,
    /// When it has earlier events: the `before` that asks `…/events` for the page before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline_earlier: Option<u64>,
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
    let (id, reveal) = authorize_item_read(node, user, id, purpose)?;
    view_of(node, &id, reveal)
}

/// The checked id of item `id` once `user` may read it, and whether personal data may be
/// shown (with a purpose the policies accept, then recorded).
fn authorize_item_read(
    node: &Node,
    user: &AuthUser,
    id: &str,
    purpose: Option<Purpose>,
) -> Result<(String, bool), ServiceError> {
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
    Ok((id, reveal))
}

/// Items with this SHA-256 in the cases `user` may read (others are left out, not refused: a
/// search is not an access to any one case), a page of at most [`PAGE_MAX`] registrations
/// after `after`. No personal data. No connection is held while the policies are asked (they
/// may need one of their own: 16 searches at once once starved a pool of 16).
pub fn by_sha256(
    node: &Node,
    user: &AuthUser,
    sha256: &str,
    after: Option<u64>,
) -> Result<Page<EvidenceView>, ServiceError> {
    let sha256 = model::parse_sha256("sha256", sha256)?;
    let after = paging::cursor("after", after)?.unwrap_or(-1);
    let rows = registry::evidence_by_sha256(
        &mut *node.connection()?,
        &sha256,
        after,
        paging::fetch_limit(PAGE_MAX),
    )?;
    let page = Page::cut(rows, PAGE_MAX, |r| r.registered_seq);
    let mut allowed = Vec::with_capacity(page.items.len());
    for row in page.items {
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
    Page {
        items: allowed,
        next: page.next,
    }
    .try_map(|row| view(&mut c, node.vault(), row, false, false))
}

/// A page of the items copied or imaged from item `id`, registered after `after`.
pub fn derivations(
    node: &Node,
    user: &AuthUser,
    id: &str,
    after: Option<u64>,
) -> Result<Page<EvidenceSummary>, ServiceError> {
    let after = paging::cursor("after", after)?.unwrap_or(-1);
    let (id, _) = authorize_item_read(node, user, id, None)?;
    derivations_page(&mut *node.connection()?, &id, after)
}

fn derivations_page(
    c: &mut DbConnection,
    id: &str,
    after: i64,
) -> Result<Page<EvidenceSummary>, ServiceError> {
    let rows = registry::children_of(c, id, after, paging::fetch_limit(PAGE_MAX))?;
    Ok(Page::cut(rows, PAGE_MAX, |r| r.registered_seq).map(EvidenceSummary::of))
}

/// A page of item `id`'s custody timeline: at most [`PAGE_MAX`] events, the latest before its
/// event `before` (the latest of all when none), in log order; `next` is the `before` for the
/// page before. Place and reason in clear only with a purpose the policies accept (recorded).
pub fn timeline(
    node: &Node,
    user: &AuthUser,
    id: &str,
    before: Option<u64>,
    purpose: Option<Purpose>,
) -> Result<Page<EventView>, ServiceError> {
    let before = paging::cursor("before", before)?;
    let (id, reveal) = authorize_item_read(node, user, id, purpose)?;
    timeline_page(&mut *node.connection()?, node.vault(), &id, before, reveal)
}

fn timeline_page(
    c: &mut DbConnection,
    vault: &Vault,
    id: &str,
    before: Option<i64>,
    reveal: bool,
) -> Result<Page<EventView>, ServiceError> {
    let mut events = registry::item_events_before(c, id, before, paging::fetch_limit(PAGE_MAX))?;
    // Read backwards: a row beyond the page is the oldest, and the page before ends at the
    // oldest event kept.
    let next = if events.len() > PAGE_MAX {
        events.remove(0);
        events.first().map(|e| e.event.seq as u64)
    } else {
        None
    };
    let events = events
        .into_iter()
        .map(|e| Ok((custody_record(&e)?, e.event)))
        .collect::<Result<Vec<_>, ServiceError>>()?;
    let texts = if reveal {
        let records: Vec<String> = events
            .iter()
            .flat_map(|(r, _)| [&r.place, &r.reason])
            .flatten()
            .map(|p| p.record.clone())
            .collect();
        open_texts(c, vault, &records)?
    } else {
        HashMap::new()
    };
    let items = events
        .into_iter()
        .map(|(record, row)| event_view(record, row, &texts))
        .collect();
    Ok(Page { items, next })
}

/// The item view without any policy check (write answers).
fn view_of(node: &Node, id: &str, reveal: bool) -> Result<EvidenceView, ServiceError> {
    let mut c = node.connection()?;
    let row =
        registry::evidence_by_id(&mut c, id)?.ok_or(ServiceError::NotFound(Missing::Evidence))?;
    view(&mut c, node.vault(), row, true, reveal)
}

/// The custody record an event's log entry holds (the entry is the source of truth).
fn custody_record(event: &CustodyEventWithEntry) -> Result<CustodyRecord, ServiceError> {
    /// The one member of a custody entry that a timeline shows (the rest is in the row).
    #[derive(serde::Deserialize)]
    struct CustodyMember {
        custody: CustodyRecord,
    }
    let row = &event.event;
    Ok(serde_json::from_slice::<CustodyMember>(&event.body)
        .map_err(|e| {
            StorageError::Corrupt(format!("custody event {} (seq {}): {e}", row.id, row.seq))
        })?
        .custody)
}

/// The clear texts of vault records, by id, read in one query (erased ones are absent).
fn open_texts(
    c: &mut DbConnection,
    vault: &Vault,
    records: &[String],
) -> Result<HashMap<String, String>, ServiceError> {
    registry::sealed_rows(c, records)?
        .into_iter()
        .map(|row| Ok((row.id.clone(), vault.open(&row)?.1)))
        .collect()
}

/// A timeline event from its record and row, its place and reason taken from `texts`.
fn event_view(
    record: CustodyRecord,
    row: CustodyEventRow,
    texts: &HashMap<String, String>,
) -> EventView {
    let text = |p: &Option<Commitment>| p.as_ref().and_then(|p| texts.get(&p.record).cloned());
    let (place, reason) = (text(&record.place), text(&record.reason));
    EventView::of(
        record,
        row.seq as u64,
        row.actor_id,
        row.recorded_at,
        (place, reason),
    )
}

fn view(
    c: &mut DbConnection,
    vault: &Vault,
    row: EvidenceRow,
    full: bool,
    reveal: bool,
) -> Result<EvidenceView, ServiceError> {
    let (derivations, timeline) = if full {
        (
            Some(derivations_page(c, &row.id, -1)?),
            Some(timeline_page(c, vault, &row.id, None, reveal)?),
        )
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
        derivations_next: derivations.as_ref().and_then(|p| p.next),
        derivations: derivations.map(|p| p.items),
        timeline_earlier: timeline.as_ref().and_then(|p| p.next),
        timeline: timeline.map(|p| p.items),
    })
}
