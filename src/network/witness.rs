//! This node as a witness of its peers' logs: C2SP tlog-witness v1.0.0 `add-checkpoint`.
//!
//! The spec's checks are the verifier crate's (`scelle_verifier::witness`); here the state is
//! read, checked and moved by compare-and-set (`storage::peers::advance_witnessed`), durable
//! before the cosignature is made: two requests racing cannot both move it, and a restart
//! never lets this node cosign a smaller or another tree than it already cosigned.

use scelle_verifier::entry::{Event, Misbehavior, PeerMisbehaviorRecord};
use scelle_verifier::witness::{AddCheckpoint, MalformedPart, Refusal, Witnessed};

use crate::ledger::sequencer::{Pending, SideWrites};

use crate::error::ServiceError;
use crate::network::peers::{Identity, Peers};
use crate::node::Node;
use crate::storage::peers::{self as store, WitnessedRow};

/// Why a checkpoint was not cosigned: the spec's refusal, or the node's own failure.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Checks a submitted checkpoint against what this node last cosigned for its log and, if it
/// extends it, records it and answers the cosignature line.
pub fn add_checkpoint(
    node: &Node,
    peers: &Peers,
    identity: &Identity,
    body: &[u8],
) -> Result<String, WitnessError> {
    let body = std::str::from_utf8(body).map_err(|_| Refusal::Malformed(MalformedPart::NotUtf8))?;
    let request = AddCheckpoint::parse(body)?;
    let (checkpoint, text) = request.open(&peers.policy)?;
    let size =
        i64::try_from(checkpoint.size).map_err(|_| Refusal::Malformed(MalformedPart::TreeSize))?;
    let mut c = node.connection()?;
    let last = store::witnessed(&mut c, &checkpoint.origin).map_err(ServiceError::from)?;
    let last_state = last.as_ref().map(state).transpose()?;
    if let Err(refusal) = request.extends(&checkpoint, last_state) {
        // A checkpoint the log signed that contradicts one it had this node cosign is evidence
        // of a fork: kept in this node's log before the refusal is answered.
        if let (Some(row), Some(seen)) = (&last, misbehavior(&checkpoint, last_state)) {
            record_misbehavior(node, peers, row, seen, &request)?;
        }
        return Err(refusal.into());
    }
    let new = WitnessedRow {
        origin: checkpoint.origin.clone(),
        size,
        root: checkpoint.root.to_vec(),
        // Only the log's own signature lines are kept: others are anyone's padding.
        checkpoint: peers
            .policy
            .log_signed_only(&checkpoint.origin, request.note)
            .unwrap_or_else(|| request.note.to_owned()),
        updated_at: node.clock().now_rfc3339().map_err(ServiceError::from)?,
    };
    let expected = last.as_ref().map(|row| (row.size, row.root.as_slice()));
    if !store::advance_witnessed(&mut c, expected, &new).map_err(ServiceError::from)? {
        // Another request moved the state first: the log must start again from that size.
        let now = store::witnessed(&mut c, &checkpoint.origin).map_err(ServiceError::from)?;
        let size = now.as_ref().map(state).transpose()?.map_or(0, |w| w.size);
        return Err(Refusal::Conflict(size).into());
    }
    let time = u64::try_from(node.clock().unix_now())
        .map_err(|_| ServiceError::Internal("the clock is before 1970".into()))?;
    Ok(identity
        .cosigner
        .cosign(text, time)
        .map_err(|e| ServiceError::Internal(format!("cosigning: {e}")))?)
}

/// What a refused checkpoint proves against its log, if anything: another tree of the size
/// this node cosigned, both under the log's signature. (A proof that fails proves nothing by
/// itself — anyone may send one — so it is refused, not recorded.)
fn misbehavior(
    checkpoint: &scelle_verifier::note::Checkpoint,
    last: Option<Witnessed>,
) -> Option<Misbehavior> {
    let last = last?;
    (last.size > 0 && checkpoint.size == last.size && checkpoint.root != last.root)
        .then_some(Misbehavior::SplitView)
}

/// The most contradictions recorded per log: past it, one more is only said in the node's log
/// output (a log that signs many histories is caught by the first; more would only fill the
/// witness's own log).
const ALERTS_PER_LOG: i64 = 16;

/// Appends `peer.misbehaved` with both signed checkpoints (once per contradicting
/// checkpoint), indexes it, and says so in the node's own log output.
fn record_misbehavior(
    node: &Node,
    peers: &Peers,
    cosigned: &WitnessedRow,
    seen: Misbehavior,
    request: &AddCheckpoint<'_>,
) -> Result<(), ServiceError> {
    use base64::Engine as _;
    use sha2::Digest as _;
    // One record per log and size: two roots at one size are the whole evidence.
    let digest = sha2::Sha256::digest(format!("{}\n{}\n", cosigned.origin, cosigned.size)).to_vec();
    let mut c = node.connection()?;
    if store::alert_recorded(&mut c, &digest)? {
        return Ok(());
    }
    if store::alerts_of_log(&mut c, &cosigned.origin)? >= ALERTS_PER_LOG {
        tracing::error!(log = %cosigned.origin, "a peer's log contradicts itself again (not recorded: too many already)");
        return Ok(());
    }
    drop(c);
    let offered = peers
        .policy
        .log_signed_only(&cosigned.origin, request.note)
        .unwrap_or_else(|| request.note.to_owned());
    let receipt = node.sequencer().append(Pending {
        actor: crate::node::system_actor(node.agency()),
        event: Event::PeerMisbehaved(PeerMisbehaviorRecord {
            log: cosigned.origin.clone(),
            seen,
            cosigned: cosigned.checkpoint.clone(),
            offered,
            proof: request
                .proof
                .iter()
                .map(|h| base64::engine::general_purpose::STANDARD.encode(h))
                .collect(),
        }),
        side: SideWrites::default(),
    })?;
    let seen_code = match seen {
        Misbehavior::SplitView => "split_view",
    };
    tracing::error!(
        log = %cosigned.origin,
        seen = seen_code,
        seq = receipt.seq,
        "a peer's log contradicts a checkpoint this node cosigned: evidence recorded"
    );
    let row = store::AlertRow {
        offered_digest: digest,
        log: cosigned.origin.clone(),
        seen: seen_code.to_owned(),
        seq: i64::try_from(receipt.seq).map_err(|_| ServiceError::Internal("seq".into()))?,
        at: node.clock().now_rfc3339()?,
    };
    Ok(store::insert_alert(&mut *node.connection()?, &row)?)
}

/// The contradictions this node caught, oldest first, for `scelle peer list`.
pub fn alerts(node: &Node) -> Result<Vec<store::AlertRow>, ServiceError> {
    Ok(store::alerts(&mut *node.connection()?)?)
}

fn state(row: &WitnessedRow) -> Result<Witnessed, ServiceError> {
    let corrupt = || {
        ServiceError::Internal(format!(
            "witnessed_logs row {} holds a bad size or root",
            row.origin
        ))
    };
    Ok(Witnessed {
        size: u64::try_from(row.size).map_err(|_| corrupt())?,
        root: row.root.as_slice().try_into().map_err(|_| corrupt())?,
    })
}

/// What this node has witnessed, log by log: (origin, size, when), for `scelle peer status`.
pub fn witnessed_logs(node: &Node) -> Result<Vec<WitnessedRow>, ServiceError> {
    Ok(store::all_witnessed(&mut *node.connection()?)?)
}
