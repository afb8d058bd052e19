//! The dossier exchange's two tables (DESIGN §5): the outbox, a durable queue of what this node
//! owes its peers, and the inbox, every transfer a peer sent, imported or refused.
//!
//! An outbox row leaves `queued` once and only by a conditional update (`WHERE state =
//! 'queued'`), in the same transaction as the `dossier.sent` entry that records its delivery;
//! an inbox row is keyed by its sender and the transfer's id, written with the `dossier.received` or
//! `dossier.refused` entry. So across retries and restarts nothing is recorded twice.

use diesel::prelude::*;

use super::schema::{inbox, outbox};
use super::{DbConnection, StorageError};

/// An outbox row waiting to be delivered.
pub const QUEUED: &str = "queued";
/// Delivered: the receiver's receipt is verified and `dossier.sent` records it.
pub const DELIVERED: &str = "delivered";
/// Refused by the receiver, for the reason it gave: not sent again.
pub const REFUSED: &str = "refused";
/// Not sent: its share was revoked, or lapsed, before the link came back.
pub const WITHDRAWN: &str = "withdrawn";

/// A transfer to send, as queued.
#[derive(Insertable, Debug, Clone)]
#[diesel(table_name = outbox)]
pub struct NewOutboxRow {
    pub transfer_id: String,
    /// The peer's name in `peers.policy`.
    pub peer: String,
    /// The peer's log origin (the transfer's `to`).
    pub peer_origin: String,
    pub case_id: String,
    pub share_id: String,
    /// The dossier's own `dossier.issued` entry: what the peer holds of the case once delivered.
    pub as_of_seq: i64,
    /// SHA-256 of the dossier's signed manifest, hex.
    pub manifest: String,
    /// The checkpoint the dossier is proved to: size and root (hex).
    pub tree_size: i64,
    pub root: String,
    /// The transfer, JSON (`scelle-transfer/1`).
    pub body: String,
    pub queued_at: String,
    pub state: String,
}

/// An outbox row as kept.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    /// Its place in the queue.
    pub id: i64,
    pub transfer_id: String,
    pub peer: String,
    pub peer_origin: String,
    pub case_id: String,
    pub share_id: String,
    pub as_of_seq: i64,
    pub manifest: String,
    pub tree_size: i64,
    pub root: String,
    pub queued_at: String,
    /// `queued`, `delivered`, `refused` or `withdrawn`.
    pub state: String,
    /// Deliveries tried and failed (the peer unreachable, or an answer not understood).
    pub attempts: i64,
    /// The last failure, or the receiver's refusal.
    pub last_error: Option<String>,
    /// The receiver's receipt (JSON), once delivered.
    pub receipt: Option<String>,
    /// The `dossier.sent` entry, once delivered.
    pub sent_seq: Option<i64>,
    /// When it was delivered or refused.
    pub done_at: Option<String>,
}

/// Queues a transfer.
pub fn enqueue(conn: &mut DbConnection, row: &NewOutboxRow) -> Result<(), StorageError> {
    diesel::insert_into(outbox::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The transfers queued for `peer`, oldest first, at most `limit`, without their bodies (the
/// delivery reads each when its turn comes: `body`).
pub fn queued(
    conn: &mut DbConnection,
    peer: &str,
    limit: i64,
) -> Result<Vec<OutboxRow>, StorageError> {
    Ok(outbox::table
        .filter(outbox::state.eq(QUEUED))
        .filter(outbox::peer.eq(peer))
        .order(outbox::id)
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// A queued transfer's body (the transfer's JSON).
pub fn body(conn: &mut DbConnection, transfer_id: &str) -> Result<Option<String>, StorageError> {
    Ok(outbox::table
        .filter(outbox::transfer_id.eq(transfer_id))
        .select(outbox::body)
        .first(conn)
        .optional()?)
}

/// How many transfers are queued.
pub fn count_queued(conn: &mut DbConnection) -> Result<usize, StorageError> {
    let n: i64 = outbox::table
        .filter(outbox::state.eq(QUEUED))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Whether the transfer is still waiting to be delivered.
pub fn is_queued(conn: &mut DbConnection, transfer_id: &str) -> Result<bool, StorageError> {
    Ok(outbox::table
        .filter(outbox::transfer_id.eq(transfer_id))
        .filter(outbox::state.eq(QUEUED))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Counts a failed delivery and keeps why.
pub fn failed_attempt(
    conn: &mut DbConnection,
    transfer_id: &str,
    error: &str,
) -> Result<(), StorageError> {
    diesel::update(outbox::table.filter(outbox::transfer_id.eq(transfer_id)))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// Moves a queued transfer to `delivered` (with the receipt and the `dossier.sent` entry) or
/// `refused` (with the reason); false when it was not queued any more.
pub fn finish(
    conn: &mut DbConnection,
    transfer_id: &str,
    outcome: Outcome<'_>,
    at: &str,
) -> Result<bool, StorageError> {
    let target = outbox::table
        .filter(outbox::transfer_id.eq(transfer_id))
        .filter(outbox::state.eq(QUEUED));
    let changed = match outcome {
        Outcome::Delivered { receipt, sent_seq } => diesel::update(target)
            .set((
                outbox::state.eq(DELIVERED),
                outbox::receipt.eq(receipt),
                outbox::sent_seq.eq(sent_seq),
                outbox::done_at.eq(at),
            ))
            .execute(conn)?,
        Outcome::Withdrawn => diesel::update(target)
            .set((outbox::state.eq(WITHDRAWN), outbox::done_at.eq(at)))
            .execute(conn)?,
        Outcome::Refused { reason } => diesel::update(target)
            .set((
                outbox::state.eq(REFUSED),
                outbox::last_error.eq(reason),
                outbox::done_at.eq(at),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// How a queued transfer ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// The receiver recorded it; its receipt (JSON) and this node's `dossier.sent` entry.
    Delivered { receipt: &'a str, sent_seq: i64 },
    /// The receiver refused it, for this reason.
    Refused { reason: &'a str },
    /// Its share was revoked or lapsed before it went.
    Withdrawn,
}

/// The outbox, newest first, at most `limit` rows.
pub fn outbox_rows(conn: &mut DbConnection, limit: i64) -> Result<Vec<OutboxRow>, StorageError> {
    Ok(outbox::table
        .order(outbox::id.desc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// For each case and peer a transfer was delivered to or is queued for: whether one is still
/// queued, and the newest `as_of_seq` delivered. At most `limit` (case, peer) pairs, in case
/// order after `after` (a case id), so a sweep walks them a page at a time.
pub fn sent_cases(
    conn: &mut DbConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<SentCase>, StorageError> {
    use diesel::dsl::max;
    let rows: Vec<(String, String, String, String, Option<i64>)> = outbox::table
        .filter(outbox::state.eq_any([QUEUED, DELIVERED]))
        .filter(outbox::case_id.gt(after))
        .group_by((
            outbox::case_id,
            outbox::peer,
            outbox::peer_origin,
            outbox::state,
        ))
        .select((
            outbox::case_id,
            outbox::peer,
            outbox::peer_origin,
            outbox::state,
            max(outbox::as_of_seq),
        ))
        .order((outbox::case_id, outbox::peer))
        .limit(limit)
        .load(conn)?;
    let mut out: Vec<SentCase> = Vec::new();
    for (case_id, peer, peer_origin, state, as_of) in rows {
        let same = out
            .last()
            .is_some_and(|l| l.case_id == case_id && l.peer == peer);
        if !same {
            out.push(SentCase {
                case_id,
                peer,
                peer_origin,
                queued: false,
                delivered_as_of: None,
            });
        }
        if let Some(last) = out.last_mut() {
            if state == QUEUED {
                last.queued = true;
            } else {
                last.delivered_as_of = as_of;
            }
        }
    }
    Ok(out)
}

/// A case sent to a peer, as the update sweep sees it.
#[derive(Debug, Clone)]
pub struct SentCase {
    pub case_id: String,
    pub peer: String,
    pub peer_origin: String,
    /// A transfer of it to this peer is still waiting.
    pub queued: bool,
    /// The newest `as_of_seq` delivered to it.
    pub delivered_as_of: Option<i64>,
}

/// The transfers of one case, oldest first, at most `limit`.
pub fn outbox_of_case(
    conn: &mut DbConnection,
    case_id: &str,
    limit: i64,
) -> Result<Vec<OutboxRow>, StorageError> {
    Ok(outbox::table
        .filter(outbox::case_id.eq(case_id))
        .order(outbox::id)
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// A transfer a peer sent: imported (`refused` is none, the rest is there) or refused.
#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq, Default)]
#[diesel(table_name = inbox)]
pub struct InboxRow {
    /// What the list shows of it.
    #[diesel(embed)]
    pub summary: InboxSummary,
    /// The dossier, JSON, as received.
    pub dossier: Option<String>,
    /// What this node answered (JSON), answered again if the sender asks again.
    pub receipt: Option<String>,
}

/// A transfer received, without the dossier.
#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq, Default)]
#[diesel(table_name = inbox)]
pub struct InboxSummary {
    pub transfer_id: String,
    /// The sender's log origin.
    pub sender: String,
    /// The sender's case id.
    pub case_id: String,
    /// This node's `dossier.received` or `dossier.refused` entry.
    pub seq: i64,
    pub received_at: String,
    /// Why it was refused (a catalogue code); none when imported.
    pub refused: Option<String>,
    pub reference: Option<String>,
    /// The agency that opened the case, in the sender's state.
    pub owner_agency: Option<String>,
    pub owner_state: Option<String>,
    /// The sender's share, and its conditions, which this node's policies enforce.
    pub share_id: Option<String>,
    pub recipient_agency: Option<String>,
    pub recipient_state: Option<String>,
    /// Comma-separated codes, as `case_shares` keeps them.
    pub handling: Option<String>,
    pub purposes: Option<String>,
    pub confidential: Option<bool>,
    pub consent_for_court: Option<bool>,
    pub expires_at: Option<String>,
    /// SHA-256 of the dossier's signed manifest, hex.
    pub manifest: Option<String>,
    pub tree_size: Option<i64>,
}

/// Records a transfer received (with its entry, in the sequencer's transaction).
pub fn insert_inbox(conn: &mut DbConnection, row: &InboxRow) -> Result<(), StorageError> {
    diesel::insert_into(inbox::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The transfer with this id from `sender`, imported or refused.
pub fn inbox_row(
    conn: &mut DbConnection,
    sender: &str,
    transfer_id: &str,
) -> Result<Option<InboxRow>, StorageError> {
    Ok(inbox::table
        .find((sender, transfer_id))
        .select(InboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether `sender` sent a dossier with this manifest digest before (imported or refused).
pub fn by_manifest(
    conn: &mut DbConnection,
    sender: &str,
    manifest: &str,
) -> Result<bool, StorageError> {
    Ok(inbox::table
        .filter(inbox::sender.eq(sender))
        .filter(inbox::manifest.eq(manifest))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// The dossiers imported (not refused) after entry `after_seq`, in log order, at most `limit`.
pub fn imported_rows(
    conn: &mut DbConnection,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<InboxSummary>, StorageError> {
    Ok(inbox::table
        .filter(inbox::seq.gt(after_seq))
        .filter(inbox::refused.is_null())
        .order(inbox::seq)
        .limit(limit)
        .select(InboxSummary::as_select())
        .load(conn)?)
}

/// The dossier imported under this transfer id (an id names one imported dossier only).
pub fn imported(
    conn: &mut DbConnection,
    transfer_id: &str,
) -> Result<Option<InboxRow>, StorageError> {
    Ok(inbox::table
        .filter(inbox::transfer_id.eq(transfer_id))
        .filter(inbox::refused.is_null())
        .select(InboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// The transfers received after entry `after_seq`, in log order, at most `limit`, without the
/// dossiers themselves.
pub fn inbox_rows(
    conn: &mut DbConnection,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<InboxSummary>, StorageError> {
    Ok(inbox::table
        .filter(inbox::seq.gt(after_seq))
        .order(inbox::seq)
        .limit(limit)
        .select(InboxSummary::as_select())
        .load(conn)?)
}
