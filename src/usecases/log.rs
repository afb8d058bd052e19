//! Reading the log: the published checkpoint, entries, proofs, and what the append path is
//! doing. Reading the log is an action like any other, authorized by the policies; the functions
//! that take no user are the node operator's and its tasks'.

use scelle_verifier::entry::Entry;

use crate::authz::{self, Ask, AuthUser, Target};
use crate::error::ServiceError;
use crate::ledger::checkpoints;
use crate::ledger::error::Missing;
use crate::ledger::proofs::{self, ConsistencyProofResponse, InclusionProofResponse};
use crate::ledger::sequencer::{AppendHealth, InclusionProofView, PipelineStats, Receipt};
use crate::node::Node;
use crate::policy::cedar::Action;
use crate::storage::log_store;

/// Whether `user` may read the log (checkpoints, entries, proofs).
fn may_read(node: &Node, user: &AuthUser) -> Result<(), ServiceError> {
    authz::authorize(node, user, Action::LogRead, Target::Log, &Ask::default()).map(|_| ())
}

/// The newest published checkpoint, for `user`.
pub fn checkpoint(node: &Node, user: &AuthUser) -> Result<String, ServiceError> {
    may_read(node, user)?;
    latest_checkpoint(node)
}

/// The newest checkpoint a quorum of this node's witnesses cosigned, for `user`: what a node
/// with peers publishes (`peers.policy` with a quorum).
pub fn cosigned_checkpoint(node: &Node, user: &AuthUser) -> Result<String, ServiceError> {
    may_read(node, user)?;
    Ok(
        crate::storage::peers::latest_cosigned(&mut *node.connection()?)?
            .ok_or(ServiceError::NotFound(Missing::CosignedCheckpoint))?
            .1,
    )
}

/// The newest checkpoint this node publishes (never one a power loss could still take back),
/// with no policy check: the node's own operator and its tasks.
pub fn latest_checkpoint(node: &Node) -> Result<String, ServiceError> {
    let mut c = node.connection()?;
    Ok(checkpoints::publishable(&mut c, node.sequencer())?
        .ok_or(ServiceError::NotFound(Missing::Checkpoint))?
        .note)
}

/// The receipt of entry `seq` upgraded to the newest checkpoint a quorum of this node's
/// witnesses cosigned, with the entry's inclusion proof to it, for `user`: what a holder of an
/// append's receipt (signed by this node alone) asks for once the peers have cosigned.
pub fn cosigned_receipt(node: &Node, user: &AuthUser, seq: u64) -> Result<Receipt, ServiceError> {
    may_read(node, user)?;
    let mut c = node.connection()?;
    let (size, note) = crate::storage::peers::latest_cosigned(&mut c)?
        .ok_or(ServiceError::NotFound(Missing::CosignedCheckpoint))?;
    let size = u64::try_from(size)
        .map_err(|_| ServiceError::Internal("cosigned checkpoint size".into()))?;
    if seq >= size {
        // Appended after the newest cosigned checkpoint: its round has not ended yet.
        return Err(ServiceError::NotFound(Missing::CosignedCheckpoint));
    }
    let proof = proofs::inclusion_proof(&mut c, node.proofs(), seq, size)?;
    Ok(Receipt {
        seq,
        leaf_hash: proof.leaf_hash,
        checkpoint: note,
        inclusion_proof: InclusionProofView {
            tree_size: proof.tree_size,
            hashes: proof.hashes,
        },
        recorded_at: String::new(),
    })
}

/// Entries in the log now (committed, perhaps not yet durable).
pub fn size(node: &Node) -> Result<u64, ServiceError> {
    Ok(log_store::head(&mut *node.connection()?)?.0)
}

/// The size no power loss can take back (see `Sequencer::durable_size`).
pub fn durable_size(node: &Node) -> u64 {
    node.sequencer().durable_size()
}

/// Where the append path's time goes (see `Sequencer::pipeline`).
pub fn pipeline(node: &Node) -> PipelineStats {
    node.sequencer().pipeline()
}

/// The exact bytes of entry `seq`, for `user`.
///
/// An entry's bytes may name a case's reference, offence and legal basis: the node's auditors
/// (`log.entries.read`) read every entry; anyone else reads only the entries of a case they may
/// read (its opening, items, custody events, shares, persons and dossiers), and no other entry.
pub fn entry(node: &Node, user: &AuthUser, seq: u64) -> Result<Vec<u8>, ServiceError> {
    may_read(node, user)?;
    let body = log_store::entry_body(&mut *node.connection()?, seq)?
        .ok_or(ServiceError::NotFound(Missing::Entry))?;
    let every_entry = Action::LogEntriesRead;
    if authz::verdict(node, user, every_entry, Target::Node, &Ask::default())?.allowed {
        return Ok(body);
    }
    let entry = Entry::parse(&body)
        .map_err(|e| ServiceError::Internal(format!("stored entry {seq} does not parse: {e}")))?;
    match entry.event.about_case() {
        Some(case) => authz::authorize(
            node,
            user,
            Action::CaseRead,
            Target::Case(case),
            &Ask::default(),
        )?,
        None => authz::authorize(node, user, every_entry, Target::Node, &Ask::default())?,
    };
    Ok(body)
}

/// The inclusion proof of entry `seq` in the tree of `size` entries, for `user`.
pub fn inclusion_proof(
    node: &Node,
    user: &AuthUser,
    seq: u64,
    size: u64,
) -> Result<InclusionProofResponse, ServiceError> {
    may_read(node, user)?;
    let mut c = node.connection()?;
    Ok(proofs::inclusion_proof(&mut c, node.proofs(), seq, size)?)
}

/// The consistency proof between two sizes of the tree, for `user`.
pub fn consistency_proof(
    node: &Node,
    user: &AuthUser,
    from: u64,
    to: u64,
) -> Result<ConsistencyProofResponse, ServiceError> {
    may_read(node, user)?;
    let mut c = node.connection()?;
    Ok(proofs::consistency_proof(&mut c, node.proofs(), from, to)?)
}

/// Reads the tree's upper levels into memory (`scelle serve` does it in the background at
/// start-up); returns how many hashes are held.
pub fn warm_proof_cache(node: &Node) -> Result<usize, ServiceError> {
    let mut c = node.connection()?;
    let (size, _) = log_store::head(&mut c)?;
    node.proofs().warm(&mut c, size)?;
    Ok(node.proofs().len())
}

/// How long a health check waits for a database connection.
const HEALTH_DATABASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

pub use crate::error::HealthProblem;

/// The node's health, as `/healthz` and `/readyz` report it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    /// Entries in the log (none when the database did not answer).
    pub log_size: Option<u64>,
    /// Entries this node knows to be on disk.
    pub durable_size: u64,
    /// What is wrong, if anything.
    #[serde(skip)]
    pub problem: Option<HealthProblem>,
}

/// Whether the node can take entries now: its append path runs and its database answers.
pub fn health(node: &Node) -> Health {
    let log_size = node
        .connection_within(HEALTH_DATABASE_WAIT)
        .and_then(|mut c| Ok(log_store::head(&mut c)?.0))
        .ok();
    let problem = match node.sequencer().health() {
        AppendHealth::SyncFailed => Some(HealthProblem::SyncFailed),
        AppendHealth::Stopped => Some(HealthProblem::SequencerStopped),
        AppendHealth::Running if log_size.is_none() => Some(HealthProblem::DatabaseUnreachable),
        AppendHealth::Running => None,
    };
    Health {
        log_size,
        durable_size: node.sequencer().durable_size(),
        problem,
    }
}
