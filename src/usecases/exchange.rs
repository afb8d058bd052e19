//! Dossiers between the Entente's nodes (DESIGN §5), as people see them: sending a case's
//! dossier to a peer under a share made before, and reading the dossiers peers sent under the
//! conditions of their shares.
//!
//! Sending only queues: the dossier, proved to a checkpoint this node's witnesses cosigned, and
//! the share's entry proved to the same checkpoint go to the outbox in one row; the network's
//! delivery (`network::exchange`) takes it from there, in order, once the link is up. The
//! peer is named by the caller (the HTTP layer reads `peers.policy`); this module knows no
//! network.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;

use scelle_verifier::dossier::DossierEntry;
use scelle_verifier::exchange::{TRANSFER_FORMAT, Transfer};
use scelle_verifier::model::{self, HandlingCode, Jurisdiction, Purpose};

use crate::authz::{self, Ask, AuthUser, Target};
use crate::error::ServiceError;
use crate::ledger::error::Missing;
use crate::ledger::proofs;
use crate::node::Node;
use crate::node::ids::new_id;
use crate::policy::cedar::Action;
use crate::storage::exchange::{self, InboxSummary, NewOutboxRow, OutboxRow};
use crate::storage::{log_store, protection};

use super::dossiers::{self, ExportOptions};
use super::paging::{self, PAGE_MAX, Page};

/// Where a dossier goes: a peer as `peers.policy` names it.
#[derive(Debug, Clone)]
pub struct Destination {
    /// Its name in the policy.
    pub peer: String,
    /// Its log's origin (the transfer's `to`).
    pub origin: String,
    /// Its state: the share must reach it.
    pub state: Jurisdiction,
}

/// A transfer queued for delivery.
#[derive(Debug, Clone, Serialize)]
pub struct QueuedView {
    /// The transfer's id (the same in both logs once delivered).
    pub transfer: String,
    /// The peer it goes to.
    pub peer: String,
    /// The case.
    pub case: String,
    /// The share it goes under.
    pub share: String,
    /// How many entries the dossier holds.
    pub entries: usize,
    /// The size of the cosigned checkpoint the dossier is proved to.
    pub tree_size: u64,
}

/// Queues the dossier of `case` for `dest`, for `user`: they must be allowed to share it
/// (`case.share`, to that state under the share's codes) and to export it (`dossier.export`),
/// and the case must have a live share reaching the peer's state.
pub fn send_for(
    node: &Node,
    user: &AuthUser,
    case: &str,
    dest: &Destination,
    wait: Duration,
) -> Result<QueuedView, ServiceError> {
    let case_id = model::parse_label("case_id", case, 64)?;
    // Who may not share the case learns nothing of its shares (the refusal is recorded).
    authz::authorize(
        node,
        user,
        Action::CaseShare,
        Target::Case(&case_id),
        &Ask::default(),
    )?;
    let share = share_reaching(node, &case_id, dest.state)?;
    // Sending abroad is sharing: only who may share the case (its owner's investigators, not
    // a recipient, not under H2 or confidentiality), to that state, under that share's codes.
    authz::authorize(
        node,
        user,
        Action::CaseShare,
        Target::Case(&case_id),
        &Ask {
            purpose: None,
            destination_state: Some(dest.state),
            destination_handling: Some(share.handling.clone()),
            legal_basis: share.legal_basis.clone(),
        },
    )?;
    let dossier = dossiers::export_for(node, user, &case_id, &for_peer(dest, wait), None)?;
    queue(node, dossier, share, dest)
}

/// A dossier for `dest`: proved to a checkpoint the witnesses cosigned (waited for up to
/// `wait`), its `dossier.issued` naming the peer.
fn for_peer(dest: &Destination, wait: Duration) -> ExportOptions {
    ExportOptions {
        cosigned_within: Some(wait),
        to_peer: Some(dest.origin.clone()),
        ..ExportOptions::default()
    }
}

/// The share a dossier goes under: its id, its entry (seq and bytes), its handling codes and
/// legal basis.
#[derive(Debug, Clone)]
struct ShareToPeer {
    id: String,
    seq: u64,
    entry: Vec<u8>,
    handling: Vec<HandlingCode>,
    legal_basis: Option<String>,
}

/// The newest share of the case, not revoked and not expired, to `state` or to one of its
/// agencies. H3 shares do not go between nodes yet: their conditions are sealed in the
/// sender's vault and would not travel with the dossier.
fn share_reaching(
    node: &Node,
    case_id: &str,
    state: Jurisdiction,
) -> Result<ShareToPeer, ServiceError> {
    let now = node.clock().unix_now();
    protection::live_shares(&mut *node.connection()?, case_id)?
        .into_iter()
        .find(|row| row.live_for(state, now))
        .map(|row| ShareToPeer {
            id: row.id,
            seq: row.seq.max(0) as u64,
            handling: row
                .handling
                .split(',')
                .filter_map(|c| HandlingCode::parse(c).ok())
                .collect(),
            entry: Vec::new(),
            legal_basis: None,
        })
        .ok_or(ServiceError::NotFound(Missing::ShareToPeer))
        .and_then(|share| with_legal_basis(node, share))
}

/// The share's entry, and its legal basis as the entry states it.
fn with_legal_basis(node: &Node, mut share: ShareToPeer) -> Result<ShareToPeer, ServiceError> {
    share.entry = log_store::entry_body(&mut *node.connection()?, share.seq)?
        .ok_or(ServiceError::NotFound(Missing::Entry))?;
    share.legal_basis = match scelle_verifier::entry::Entry::parse(&share.entry)
        .map_err(|e| ServiceError::Internal(format!("share entry: {e}")))?
        .event
    {
        scelle_verifier::entry::Event::CaseShared(record) => record.legal_basis,
        _ => return Err(ServiceError::NotFound(Missing::Share)),
    };
    Ok(share)
}

/// Puts the transfer in the outbox: the dossier and the share's entry with its inclusion proof
/// to the dossier's own checkpoint.
fn queue(
    node: &Node,
    dossier: scelle_verifier::dossier::Dossier,
    share: ShareToPeer,
    dest: &Destination,
) -> Result<QueuedView, ServiceError> {
    let (share_id, share_seq, share_entry) = (share.id, share.seq, share.entry);
    let manifest = scelle_verifier::note::parse_note(&dossier.manifest)
        .ok()
        .and_then(|note| scelle_verifier::dossier::Manifest::parse_body(note.text))
        .ok_or_else(|| ServiceError::Internal("the dossier's own manifest".into()))?;
    let mut c = node.connection()?;
    let proof = proofs::inclusion_proof(&mut c, node.proofs(), share_seq, manifest.tree_size)?;
    let share = DossierEntry {
        seq: share_seq,
        entry: B64.encode(&share_entry),
        leaf_hash: proof.leaf_hash,
        inclusion_proof: proof.hashes,
    };
    let entries = dossier.entries.len();
    let case = dossier.case.id.clone();
    // The dossier's last entry is its own `dossier.issued`.
    let as_of_seq = dossier.entries.last().map_or(0, |e| e.seq as i64);
    let transfer = Transfer {
        format: TRANSFER_FORMAT.into(),
        id: new_id(),
        to: dest.origin.clone(),
        share,
        dossier,
    };
    let text = serde_json::to_string(&transfer)
        .map_err(|e| ServiceError::Internal(format!("transfer: {e}")))?;
    if text.len() > scelle_verifier::exchange::MAX_TRANSFER_BYTES {
        return Err(ServiceError::TransferTooLarge {
            bytes: text.len() as u64,
        });
    }
    exchange::enqueue(
        &mut c,
        &NewOutboxRow {
            transfer_id: transfer.id.clone(),
            peer: dest.peer.clone(),
            peer_origin: dest.origin.clone(),
            case_id: case.clone(),
            share_id: share_id.clone(),
            as_of_seq,
            manifest: scelle_verifier::exchange::manifest_digest(&transfer.dossier),
            tree_size: i64::try_from(manifest.tree_size)
                .map_err(|_| ServiceError::Internal("tree size".into()))?,
            root: hex::encode(manifest.root),
            body: text,
            queued_at: node.clock().now_rfc3339()?,
            state: exchange::QUEUED.into(),
        },
    )?;
    Ok(QueuedView {
        transfer: transfer.id,
        peer: dest.peer.clone(),
        case,
        share: share_id,
        entries,
        tree_size: manifest.tree_size,
    })
}

/// Later events follow as updates: every case delivered to a peer whose custody record has
/// gained an entry other than a dossier's since (a registration, a custody event), with no
/// transfer of it to that peer still queued and its share still live, is sent again — a new
/// transfer of its new dossier. `destination` names each peer's log and state (the caller
/// reads `peers.policy`). Answers how many updates were queued.
pub fn send_updates(
    node: &Node,
    destination: &dyn Fn(&str) -> Option<Destination>,
    wait: Duration,
) -> Result<usize, ServiceError> {
    let mut queued = 0;
    let mut after = String::new();
    loop {
        let page = exchange::sent_cases(&mut *node.connection()?, &after, 256)?;
        let Some(last) = page.last() else {
            return Ok(queued);
        };
        after = last.case_id.clone();
        for sent in page {
            let Some(as_of) = sent.delivered_as_of.filter(|_| !sent.queued) else {
                continue;
            };
            if !changed_since(node, &sent.case_id, as_of)? {
                continue;
            }
            let Some(dest) = destination(&sent.peer).filter(|d| d.origin == sent.peer_origin)
            else {
                continue;
            };
            let share = match share_reaching(node, &sent.case_id, dest.state) {
                Ok(share) => share,
                // No live share any more: nothing more goes.
                Err(ServiceError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let dossier = dossiers::export(node, &sent.case_id, &for_peer(&dest, wait))?;
            queue(node, dossier, share, &dest)?;
            queued += 1;
        }
    }
}

/// Whether the case's custody record holds, after entry `as_of`, an entry that is not a
/// dossier's (`dossier.issued`, `dossier.sent`): walked back from its newest entry along the
/// links, which only dossiers' own entries separate from the last change.
fn changed_since(node: &Node, case_id: &str, as_of: i64) -> Result<bool, ServiceError> {
    let mut c = node.connection()?;
    let Some(head) = crate::storage::registry::case_head(&mut c, case_id)? else {
        return Ok(false);
    };
    let mut at = Some(head.seq);
    while let Some(seq) = at.filter(|seq| *seq > as_of) {
        let body = log_store::entry_body(&mut c, seq as u64)?
            .ok_or(ServiceError::NotFound(Missing::Entry))?;
        let entry = scelle_verifier::entry::Entry::parse_content(&body)
            .map_err(|e| ServiceError::Internal(format!("entry {seq}: {e}")))?;
        match entry.event {
            scelle_verifier::entry::Event::DossierIssued(_)
            | scelle_verifier::entry::Event::DossierSent(_) => {
                at = entry.case_prev.map(|link| link.seq as i64);
            }
            _ => return Ok(true),
        }
    }
    Ok(false)
}

/// How many transfers wait for delivery, for `user` (who may follow the network:
/// `network.read`).
pub fn waiting_transfers(node: &Node, user: &AuthUser) -> Result<usize, ServiceError> {
    authz::authorize(
        node,
        user,
        Action::NetworkRead,
        Target::Node,
        &Ask::default(),
    )?;
    queued_count(node)
}

/// How many transfers wait for delivery (the node's operator).
pub fn queued_count(node: &Node) -> Result<usize, ServiceError> {
    Ok(exchange::count_queued(&mut *node.connection()?)?)
}

/// The outbox, newest first (the operator's and the administrators' view of what is owed).
pub fn outbox(node: &Node, limit: usize) -> Result<Vec<OutboxRow>, ServiceError> {
    Ok(exchange::outbox_rows(
        &mut *node.connection()?,
        limit.clamp(1, 1000) as i64,
    )?)
}

/// A transfer of a case, as its sender follows it.
#[derive(Debug, Clone, Serialize)]
pub struct SentView {
    pub transfer: String,
    pub peer: String,
    pub share: String,
    pub queued_at: String,
    /// `queued` (waiting for the link), `delivered` or `refused`.
    pub state: String,
    /// Failed attempts so far (the peer unreachable).
    pub attempts: i64,
    /// The last failure, or the receiver's refusal: `{code, message_fr, message_en}`.
    pub last_error: Option<serde_json::Value>,
    /// This node's `dossier.sent` entry, once delivered.
    pub sent_seq: Option<i64>,
    pub done_at: Option<String>,
}

/// The dossiers of a case sent (or waiting to go) to peers, for `user` (who may read the case).
pub fn sent_of_case(
    node: &Node,
    user: &AuthUser,
    case: &str,
) -> Result<Vec<SentView>, ServiceError> {
    let case_id = model::parse_label("case_id", case, 64)?;
    authz::authorize(
        node,
        user,
        Action::CaseRead,
        Target::Case(&case_id),
        &Ask::default(),
    )?;
    let rows = exchange::outbox_of_case(&mut *node.connection()?, &case_id, PAGE_MAX as i64)?;
    Ok(rows
        .into_iter()
        .map(|r| SentView {
            transfer: r.transfer_id,
            peer: r.peer,
            share: r.share_id,
            queued_at: r.queued_at,
            state: r.state,
            attempts: r.attempts,
            last_error: r
                .last_error
                .map(|e| serde_json::from_str(&e).unwrap_or(serde_json::Value::String(e))),
            sent_seq: r.sent_seq,
            done_at: r.done_at,
        })
        .collect())
}

/// A dossier a peer sent, as the list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReceivedView {
    pub transfer: String,
    /// The sender's log origin.
    pub sender: String,
    /// The sender's case id and reference.
    pub case: String,
    pub reference: Option<String>,
    /// The agency that owns the case, in the sender's state.
    pub owner_agency: Option<String>,
    /// This node's `dossier.received` (or `dossier.refused`) entry.
    pub seq: i64,
    pub received_at: String,
    /// Why it was refused (a catalogue code), if it was.
    pub refused: Option<String>,
    /// The sender's conditions.
    pub handling: Vec<String>,
    pub purposes: Vec<String>,
    pub expires_at: Option<String>,
    pub consent_for_court: Option<bool>,
}

fn received_view(row: InboxSummary) -> ReceivedView {
    let list = |s: Option<String>| -> Vec<String> {
        s.map(|s| {
            s.split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
    };
    ReceivedView {
        transfer: row.transfer_id,
        sender: row.sender,
        case: row.case_id,
        reference: row.reference,
        owner_agency: row.owner_agency,
        seq: row.seq,
        received_at: row.received_at,
        refused: row.refused,
        handling: list(row.handling),
        purposes: list(row.purposes),
        expires_at: row.expires_at,
        consent_for_court: row.consent_for_court,
    }
}

/// The dossiers peers sent that `user` may read (refusals are for the operator's list), after
/// entry `after`, a page at a time.
pub fn received_list(
    node: &Node,
    user: &AuthUser,
    after: Option<u64>,
) -> Result<Page<ReceivedView>, ServiceError> {
    let after = paging::cursor("after", after)?.unwrap_or(-1);
    let rows = exchange::imported_rows(
        &mut *node.connection()?,
        after,
        paging::fetch_limit(PAGE_MAX),
    )?;
    let page = Page::cut(rows, PAGE_MAX, |r| r.seq);
    let mut items = Vec::new();
    for row in page.items {
        if authz::verdict(
            node,
            user,
            Action::ReceivedRead,
            Target::Received(&row.transfer_id),
            &Ask::default(),
        )?
        .allowed
        {
            items.push(received_view(row));
        }
    }
    Ok(Page {
        items,
        next: page.next,
    })
}

/// Every transfer received, refusals included, after entry `after` (the node's operator).
pub fn inbox(node: &Node, after: Option<u64>) -> Result<Page<ReceivedView>, ServiceError> {
    let after = paging::cursor("after", after)?.unwrap_or(-1);
    let rows = exchange::inbox_rows(
        &mut *node.connection()?,
        after,
        paging::fetch_limit(PAGE_MAX),
    )?;
    Ok(Page::cut(rows, PAGE_MAX, |r| r.seq).map(received_view))
}

/// A received dossier, whole, for `user` and `purpose`: the sender's conditions decide
/// (`received.read`: the share's recipient, its purposes, its expiry, H0 and H1), and the read
/// is recorded in the log with its purpose.
pub fn received(
    node: &Node,
    user: &AuthUser,
    transfer: &str,
    purpose: Option<Purpose>,
) -> Result<serde_json::Value, ServiceError> {
    let transfer = model::parse_label("transfer", transfer, 64)?;
    let Some(purpose) = purpose else {
        return Err(scelle_verifier::model::FieldError::new(
            "purpose",
            scelle_verifier::t!("field-needs-a-purpose"),
        )
        .into());
    };
    authz::authorize_received_read(node, user, &transfer, purpose)?;
    let row = exchange::imported(&mut *node.connection()?, &transfer)?
        .ok_or(ServiceError::NotFound(Missing::Transfer))?;
    let text = row
        .dossier
        .ok_or(ServiceError::NotFound(Missing::Transfer))?;
    serde_json::from_str(&text)
        .map_err(|e| ServiceError::Internal(format!("received dossier {transfer}: {e}")))
}
