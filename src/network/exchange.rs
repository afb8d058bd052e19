//! Dossiers between nodes on the wire (DESIGN §5, issue 30 items 7 and 8): receiving a peer's
//! transfer, and delivering this node's outbox.
//!
//! The receiver verifies everything with the verifier crate (`exchange::check`: the quorum,
//! the proofs, the completeness and custody of the dossier, and the share that lets it come
//! here), then records the transfer once, keyed by its id: imported with `dossier.received`, or
//! refused with `dossier.refused` and nothing of it kept. It answers the entry with its proof.
//!
//! The delivery takes the outbox in order, one peer at a time in its own thread; a peer down
//! holds its own queue only. A receipt is checked under the receiver's key before the node
//! records `dossier.sent`, in the same transaction that marks the row delivered: a transfer sent
//! again after a crash is answered from the receiver's inbox, and recorded once here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use scelle_verifier::dossier::DossierEntry;
use scelle_verifier::entry::{Event, ExchangeRecord};
use scelle_verifier::exchange::{self, Receiver, Transfer, TransferReceipt, TransferRefusal};

use crate::error::ServiceError;
use crate::ledger::error::{Conflict, LedgerError, Missing};
use crate::ledger::sequencer::{DeliveredTransfer, Pending, SideWrites};
use crate::ledger::{checkpoints, proofs};
use crate::network::client::PeerClient;
use crate::network::peers::{Identity, Peer, Peers};
use crate::node::{Node, system_actor};
use crate::storage::exchange::{self as store, InboxRow, InboxSummary, OutboxRow};
use crate::storage::{identity, log_store};

/// The largest transfer a peer may send: a dossier of some 100,000 events.
pub const TRANSFER_BODY_LIMIT: usize = exchange::MAX_TRANSFER_BYTES;
/// How long a peer may take to receive, verify and answer one transfer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the outbox is looked at.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// The first wait after a failed delivery to a peer, doubled at each failure up to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// The largest receipt or refusal a peer may answer.
const ANSWER_LIMIT: u64 = 1 << 20;

/// Why a transfer is not imported.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Verified and refused: recorded as `dossier.refused`.
    #[error("refused: {0}")]
    Refused(TransferRefusal),
    /// Refused before, when it was first sent (its code).
    #[error("refused before: {0}")]
    RefusedBefore(String),
    /// Not a transfer at all (not recorded: there is nothing to name).
    #[error("not a transfer: {0}")]
    Malformed(String),
    /// The calling peer has no log in this node's policy.
    #[error("the calling peer has no log in peers.policy")]
    UnknownSender,
    /// Another transfer of the same peer is being received: it sends one at a time.
    #[error("another transfer of this peer is being received")]
    Busy,
    /// A body larger than a transfer may be.
    #[error("transfer too large")]
    TooLarge,
    /// A body not sent within the time a transfer may take.
    #[error("transfer sent too slowly")]
    TooSlow,
    /// The same dossier (by its manifest) from this peer under another id: not recorded again.
    #[error("the same dossier was received under another id")]
    Duplicate,
    /// The id names another peer's dossier here.
    #[error("the transfer id is taken")]
    IdTaken,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Receives a transfer from `sender` (the peer whose pinned certificate made the connection):
/// answers the receipt of its import, or why it is refused. A transfer already received is
/// answered from what was recorded, never recorded twice.
pub fn receive(
    node: &Node,
    peers: &Peers,
    sender: &Peer,
    body: &[u8],
) -> Result<TransferReceipt, ExchangeError> {
    let origin = sender
        .log_origin
        .as_deref()
        .ok_or(ExchangeError::UnknownSender)?;
    scelle_verifier::strict_json::check(body).map_err(ExchangeError::Malformed)?;
    let malformed = |e: serde_json::Error| ExchangeError::Malformed(e.to_string());
    // The dossier is kept as it came (its text, not written again), and parsed once.
    let raw: RawTransfer<'_> = serde_json::from_slice(body).map_err(malformed)?;
    let dossier_text = raw.dossier.get();
    let transfer = Transfer {
        format: raw.format,
        id: raw.id,
        to: raw.to,
        share: raw.share,
        dossier: serde_json::from_str(dossier_text).map_err(malformed)?,
    };
    if let Some(done) = earlier(node, &transfer.id, origin)? {
        return done;
    }
    let digest = exchange::manifest_digest(&transfer.dossier);
    // The same dossier under another id is not recorded again (a peer cannot fill this log by
    // sending one dossier many times).
    let seen_before = |node: &Node| -> Result<bool, ExchangeError> {
        Ok(
            store::by_manifest(&mut *node.connection()?, origin, &digest)
                .map_err(ServiceError::from)?,
        )
    };
    // Only this state's own agencies: an agency of another state registered here (a liaison
    // office, say) is not who a share to that agency was meant for.
    let agencies: Vec<String> = identity::all_agencies(&mut *node.connection()?)
        .map_err(ServiceError::from)?
        .into_iter()
        .map(|a| a.id)
        .filter(|id| scelle_verifier::model::Jurisdiction::from_agency_id(id) == Some(node.state()))
        .collect();
    let receiver = Receiver {
        origin: node.origin(),
        state: node.state(),
        agencies: &agencies,
    };
    let now = node.clock().unix_now();
    match exchange::check(&transfer, origin, &peers.policy, &receiver, now) {
        Ok(accepted) => {
            if seen_before(node)? {
                return Err(ExchangeError::Duplicate);
            }
            let share = &accepted.share;
            let case = accepted.report.case.as_ref();
            let row = InboxRow {
                summary: InboxSummary {
                    transfer_id: transfer.id.clone(),
                    sender: origin.to_owned(),
                    case_id: transfer.dossier.case.id.clone(),
                    reference: Some(transfer.dossier.case.reference.clone()),
                    owner_agency: case.map(|c| c.agency.clone()),
                    owner_state: case.map(|c| c.jurisdiction.clone()),
                    share_id: Some(share.id.clone()),
                    recipient_agency: share.agency.clone(),
                    recipient_state: share.state.map(|s| s.as_str().to_owned()),
                    handling: Some(codes(share.handling.iter().map(|h| h.as_str()))),
                    purposes: Some(codes(share.purposes.iter().map(|p| p.as_str()))),
                    confidential: Some(share.confidential),
                    consent_for_court: Some(share.consent_for_court),
                    expires_at: Some(share.expires.clone()),
                    manifest: Some(accepted.record.manifest.clone()),
                    tree_size: i64::try_from(accepted.record.tree_size).ok(),
                    ..InboxSummary::default()
                },
                dossier: Some(dossier_text.to_owned()),
                receipt: None,
            };
            match record(node, Event::DossierReceived(accepted.record), row) {
                // The same transfer twice at once: the one recorded answers both.
                Ok(())
                | Err(ExchangeError::Service(ServiceError::Conflict(Conflict::Transfer))) => {
                    receipt_of(node, origin, &transfer.id)
                }
                Err(e) => Err(e),
            }
        }
        Err(refusal) => {
            // A refusal is recorded only for a dossier that verified (from the sender's log,
            // cosigned by its quorum) but breaks a condition: anything else proves nothing of
            // the sender and is answered, not written down (a peer cannot fill this log with
            // garbage). Only what was checked, or is a digest, enters the log.
            if refusal.after_verification() && !seen_before(node)? {
                let record_of = ExchangeRecord {
                    transfer: transfer.id.clone(),
                    peer: origin.to_owned(),
                    case: String::new(),
                    share: String::new(),
                    manifest: digest.clone(),
                    tree_size: 0,
                    root: String::new(),
                    receipt: None,
                    refused: Some(refusal.code().to_owned()),
                };
                let row = InboxRow {
                    summary: InboxSummary {
                        transfer_id: record_of.transfer.clone(),
                        sender: origin.to_owned(),
                        refused: Some(refusal.code().to_owned()),
                        manifest: Some(digest),
                        ..InboxSummary::default()
                    },
                    dossier: None,
                    receipt: None,
                };
                match record(node, Event::DossierRefused(record_of), row) {
                    // Recorded already (the same id twice at once): the refusal stands.
                    Ok(()) | Err(ExchangeError::Service(ServiceError::Conflict(_))) => {}
                    Err(e) => return Err(e),
                }
            }
            Err(ExchangeError::Refused(refusal))
        }
    }
}

/// A transfer as it arrives, its dossier still text (`Transfer`'s fields, in its format).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransfer<'a> {
    format: String,
    id: String,
    to: String,
    share: DossierEntry,
    #[serde(borrow)]
    dossier: &'a serde_json::value::RawValue,
}

/// A transfer this node answered before: its receipt again, or its refusal again.
fn earlier(
    node: &Node,
    transfer_id: &str,
    origin: &str,
) -> Result<Option<Result<TransferReceipt, ExchangeError>>, ExchangeError> {
    let Some(row) = store::inbox_row(&mut *node.connection()?, origin, transfer_id)
        .map_err(ServiceError::from)?
        .map(|row| row.summary)
    else {
        return Ok(None);
    };
    Ok(Some(match row.refused {
        Some(code) => Err(ExchangeError::RefusedBefore(code)),
        None => receipt_of(node, origin, transfer_id),
    }))
}

/// Appends the entry with its inbox row, in one transaction.
fn record(node: &Node, event: Event, row: InboxRow) -> Result<(), ExchangeError> {
    node.sequencer()
        .append(Pending {
            actor: system_actor(node.agency()),
            event,
            side: SideWrites {
                received: Some(row),
                ..SideWrites::default()
            },
        })
        .map_err(|e| ExchangeError::Service(e.into()))?;
    Ok(())
}

/// The receipt of a transfer imported: its `dossier.received` entry with the inclusion proof
/// to this node's newest durable checkpoint.
fn receipt_of(
    node: &Node,
    sender: &str,
    transfer_id: &str,
) -> Result<TransferReceipt, ExchangeError> {
    let mut c = node.connection()?;
    let row = store::inbox_row(&mut c, sender, transfer_id)
        .map_err(ServiceError::from)?
        .ok_or(ServiceError::NotFound(Missing::Transfer))?;
    let seq =
        u64::try_from(row.summary.seq).map_err(|_| ServiceError::Internal("inbox seq".into()))?;
    // The entry was appended and answered durable: a checkpoint covering it is publishable.
    let checkpoint = checkpoints::publishable(&mut c, node.sequencer())
        .map_err(ServiceError::from)?
        .filter(|cp| u64::try_from(cp.tree_size).is_ok_and(|size| size > seq))
        .ok_or(ServiceError::NotFound(Missing::Checkpoint))?;
    let size = u64::try_from(checkpoint.tree_size)
        .map_err(|_| ServiceError::Internal("checkpoint size".into()))?;
    let proof =
        proofs::inclusion_proof(&mut c, node.proofs(), seq, size).map_err(ServiceError::from)?;
    let body = log_store::entry_body(&mut c, seq)
        .map_err(ServiceError::from)?
        .ok_or(ServiceError::NotFound(Missing::Entry))?;
    Ok(TransferReceipt {
        transfer: transfer_id.to_owned(),
        entry: DossierEntry {
            seq,
            entry: B64.encode(&body),
            leaf_hash: proof.leaf_hash,
            inclusion_proof: proof.hashes,
        },
        checkpoint: checkpoint.note,
    })
}

fn codes<'a>(list: impl Iterator<Item = &'a str>) -> String {
    list.collect::<Vec<_>>().join(",")
}

/// How the delivery to each peer last went, for `scelle peer status`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DeliveryStatus {
    pub peer: String,
    /// Transfers delivered since the node started.
    pub delivered: u64,
    /// Transfers the peer refused since the node started.
    pub refused: u64,
    /// The last failure, while the link is down: `{code, message_fr, message_en}`.
    pub last_error: Option<serde_json::Value>,
}

/// The delivery's state, shared with whoever reports it.
#[derive(Default)]
pub struct Deliveries {
    peers: Mutex<HashMap<String, DeliveryStatus>>,
}

impl Deliveries {
    /// Each peer's deliveries, by name.
    pub fn status(&self) -> Vec<DeliveryStatus> {
        let mut all: Vec<DeliveryStatus> = self
            .peers
            .lock()
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by(|a, b| a.peer.cmp(&b.peer));
        all
    }

    fn record(&self, peer: &str, update: impl FnOnce(&mut DeliveryStatus)) {
        if let Ok(mut peers) = self.peers.lock() {
            let status = peers
                .entry(peer.to_owned())
                .or_insert_with(|| DeliveryStatus {
                    peer: peer.to_owned(),
                    ..DeliveryStatus::default()
                });
            update(status);
        }
    }
}

/// One peer's link, as the delivery keeps it.
struct Link {
    client: PeerClient,
    url: String,
    /// Not before this instant after a failure, and how long the next wait is.
    retry_at: Option<Instant>,
    backoff: Duration,
}

/// Starts delivering the outbox while the node runs: one thread per peer, each taking its own
/// queue in order, so a peer down or stuck (up to the 120 s a delivery may take) holds back
/// nobody else's.
pub fn start_delivery(
    node: Weak<Node>,
    peers: Arc<Peers>,
    identity: Arc<Identity>,
    status: Arc<Deliveries>,
) -> Result<(), ServiceError> {
    for peer in &peers.peers {
        let (Some(base), Some(pem)) = (&peer.base_url, &peer.cert_pem) else {
            continue;
        };
        let name = peer.witness.name.clone();
        let link = Link {
            client: PeerClient::new(&identity, pem, DELIVERY_TIMEOUT)?,
            url: format!("{}/exchange/transfers", base.trim_end_matches('/')),
            retry_at: None,
            backoff: BACKOFF_FIRST,
        };
        let (node, peers, status) = (node.clone(), peers.clone(), status.clone());
        std::thread::Builder::new()
            .name(format!("delivery-{name}"))
            .spawn(move || run_link(&node, &peers, &name, link, &status))
            .map_err(|e| ServiceError::Internal(format!("cannot start the delivery: {e}")))?;
    }
    Ok(())
}

/// One peer's delivery: its queue, in order, while the node runs.
fn run_link(node: &Weak<Node>, peers: &Peers, name: &str, mut link: Link, status: &Deliveries) {
    loop {
        std::thread::sleep(POLL_EVERY);
        if link.retry_at.is_some_and(|at| at > Instant::now()) {
            continue;
        }
        let Some(strong) = node.upgrade() else { return };
        let rows = match strong
            .connection()
            .and_then(|mut c| Ok(store::queued(&mut c, name, 64)?))
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(peer = %name, error = %e, "cannot read the outbox");
                continue;
            }
        };
        if !rows.is_empty() {
            deliver_in_order(&strong, peers, name, &mut link, rows, status);
        }
    }
}

/// Delivers one peer's queued transfers in order, stopping at the first that fails.
fn deliver_in_order(
    node: &Node,
    peers: &Peers,
    name: &str,
    link: &mut Link,
    rows: Vec<OutboxRow>,
    status: &Deliveries,
) {
    for row in rows {
        match deliver(node, peers, link, &row) {
            Ok(Delivery::Delivered) => {
                link.retry_at = None;
                link.backoff = BACKOFF_FIRST;
                status.record(name, |s| {
                    s.delivered += 1;
                    s.last_error = None;
                });
            }
            Ok(Delivery::Refused) => {
                status.record(name, |s| s.refused += 1);
            }
            Ok(Delivery::Withdrawn) => {}
            Err(failure) => {
                tracing::warn!(peer = %name, transfer = %row.transfer_id, ?failure, "delivery failed; will retry");
                let error = failure.to_json();
                if let Err(e) = node
                    .connection()
                    .and_then(|mut c| Ok(store::failed_attempt(&mut c, &row.transfer_id, &error)?))
                {
                    tracing::warn!(error = %e, "cannot count the failed delivery");
                }
                link.retry_at = Some(Instant::now() + link.backoff);
                link.backoff = (link.backoff * 2).min(BACKOFF_MAX);
                status.record(name, |s| s.last_error = serde_json::from_str(&error).ok());
                return;
            }
        }
    }
}

enum Delivery {
    Delivered,
    Refused,
    Withdrawn,
}

/// Why a delivery failed (the transfer stays queued), in words a person reads: kept as
/// `{"code", "message_fr", "message_en"}` in the outbox row and the network's status.
#[derive(Debug)]
enum DeliveryFailure {
    /// This node could not read or record (its storage, its clock).
    Local(String),
    /// The peer could not be reached, or its answer not read.
    Unreachable(String),
    /// The peer answered with a status that is neither a receipt nor a refusal.
    Answered { status: u16, body: String },
    /// The peer answered 200 with a receipt that does not check.
    BadReceipt(String),
}

impl DeliveryFailure {
    fn local(e: impl std::fmt::Display) -> Self {
        DeliveryFailure::Local(e.to_string())
    }

    fn code(&self) -> &'static str {
        match self {
            DeliveryFailure::Local(_) => "delivery_local_error",
            DeliveryFailure::Unreachable(_) => "delivery_peer_unreachable",
            DeliveryFailure::Answered { .. } => "delivery_peer_answer",
            DeliveryFailure::BadReceipt(_) => "delivery_bad_receipt",
        }
    }

    fn message(&self) -> scelle_verifier::i18n::Message {
        use scelle_verifier::t;
        match self {
            DeliveryFailure::Local(why) => t!("delivery-local-error", reason = why),
            DeliveryFailure::Unreachable(why) => t!("delivery-peer-unreachable", reason = why),
            DeliveryFailure::Answered { status, body } => t!(
                "delivery-peer-answer",
                status = status,
                body = scelle_verifier::dossier::shown(&body.chars().take(300).collect::<String>())
            ),
            DeliveryFailure::BadReceipt(why) => t!("delivery-bad-receipt", reason = why),
        }
    }

    /// The failure as kept: `{"code", "message_fr", "message_en"}`.
    fn to_json(&self) -> String {
        let message = self.message();
        serde_json::json!({
            "code": self.code(),
            "message_fr": message.fr(),
            "message_en": message.en(),
        })
        .to_string()
    }
}

/// Sends one transfer and records how it ended; an error leaves it queued.
fn deliver(
    node: &Node,
    peers: &Peers,
    link: &Link,
    row: &OutboxRow,
) -> Result<Delivery, DeliveryFailure> {
    let body = store::body(
        &mut *node.connection().map_err(DeliveryFailure::local)?,
        &row.transfer_id,
    )
    .map_err(DeliveryFailure::local)?
    .ok_or_else(|| DeliveryFailure::local("the queued transfer has no body"))?;
    // Sent as stored: what the receipt must name is in the row's own columns.
    if !share_still_live(node, row)? {
        // Revoked (or lapsed) while the link was down: it does not go.
        let at = node.clock().now_rfc3339().map_err(DeliveryFailure::local)?;
        let mut c = node.connection().map_err(DeliveryFailure::local)?;
        store::finish(&mut c, &row.transfer_id, store::Outcome::Withdrawn, &at)
            .map_err(DeliveryFailure::local)?;
        return Ok(Delivery::Withdrawn);
    }
    let answer = link
        .client
        .post_json(&link.url, body.into_bytes(), ANSWER_LIMIT)
        .map_err(DeliveryFailure::Unreachable)?;
    match answer.status {
        200 => {
            let receipt: TransferReceipt = serde_json::from_str(&answer.body)
                .map_err(|e| DeliveryFailure::BadReceipt(e.to_string()))?;
            let sent = exchange::Sent {
                id: &row.transfer_id,
                to: &row.peer_origin,
                from: node.origin(),
                case: &row.case_id,
                share: &row.share_id,
                manifest: &row.manifest,
            };
            let link_to = exchange::check_receipt(&receipt, &sent, &peers.policy)
                .map_err(|e| DeliveryFailure::BadReceipt(e.to_string()))?;
            let sent = Pending {
                actor: system_actor(node.agency()),
                event: Event::DossierSent(ExchangeRecord {
                    transfer: row.transfer_id.clone(),
                    peer: row.peer_origin.clone(),
                    case: row.case_id.clone(),
                    share: row.share_id.clone(),
                    manifest: row.manifest.clone(),
                    tree_size: u64::try_from(row.tree_size).map_err(DeliveryFailure::local)?,
                    root: row.root.clone(),
                    receipt: Some(link_to),
                    refused: None,
                }),
                side: SideWrites {
                    delivered: Some(DeliveredTransfer {
                        transfer_id: row.transfer_id.clone(),
                        receipt: answer.body,
                    }),
                    ..SideWrites::default()
                },
            };
            match node.sequencer().append(sent) {
                Ok(_) | Err(LedgerError::Conflict(Conflict::Transfer)) => Ok(Delivery::Delivered),
                Err(e) => Err(DeliveryFailure::local(e)),
            }
        }
        // The receiver verified it and said no (422), or cannot read it (400) or take it (413),
        // in both languages: final, not sent again. Its words are kept as it gave them.
        400 | 413 | 422 => {
            let at = node.clock().now_rfc3339().map_err(DeliveryFailure::local)?;
            let reason = serde_json::from_str::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|v| v.get("error").cloned())
                .filter(|e| e["message_fr"].is_string() && e["message_en"].is_string())
                .map(|e| e.to_string())
                .unwrap_or_else(|| {
                    DeliveryFailure::Answered {
                        status: answer.status,
                        body: answer.body,
                    }
                    .to_json()
                });
            let mut c = node.connection().map_err(DeliveryFailure::local)?;
            store::finish(
                &mut c,
                &row.transfer_id,
                store::Outcome::Refused { reason: &reason },
                &at,
            )
            .map_err(DeliveryFailure::local)?;
            Ok(Delivery::Refused)
        }
        status => Err(DeliveryFailure::Answered {
            status,
            body: answer.body,
        }),
    }
}

/// Whether the share the transfer goes under still lets it go: not revoked, not expired.
fn share_still_live(node: &Node, row: &OutboxRow) -> Result<bool, DeliveryFailure> {
    let state = scelle_verifier::model::Jurisdiction::from_agency_id(&row.peer_origin)
        .ok_or_else(|| DeliveryFailure::local("the peer's origin names no state"))?;
    let mut c = node.connection().map_err(DeliveryFailure::local)?;
    let share =
        crate::storage::protection::share(&mut c, &row.share_id).map_err(DeliveryFailure::local)?;
    Ok(share.is_some_and(|s| s.live_for(state, node.clock().unix_now())))
}
