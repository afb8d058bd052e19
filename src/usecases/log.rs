//! Reading the log: the published checkpoint, entries, proofs, and what the append path is
//! doing. Reading the log is an action like any other, authorized by the policies; the functions
//! that take no user are the node operator's and its tasks'.

use crate::authz::{self, Ask, AuthUser, Target};
use crate::error::ServiceError;
use crate::ledger::checkpoints;
use crate::ledger::error::Missing;
use crate::ledger::proofs::{self, ConsistencyProofResponse, InclusionProofResponse};
use crate::ledger::sequencer::PipelineStats;
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

/// The newest checkpoint this node publishes (never one a power loss could still take back),
/// with no policy check: the node's own operator and its tasks.
pub fn latest_checkpoint(node: &Node) -> Result<String, ServiceError> {
    let mut c = node.connection()?;
    Ok(checkpoints::publishable(&mut c, node.sequencer())?
        .ok_or(ServiceError::NotFound(Missing::Checkpoint))?
        .note)
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
pub fn entry(node: &Node, user: &AuthUser, seq: u64) -> Result<Vec<u8>, ServiceError> {
    may_read(node, user)?;
    log_store::entry_body(&mut *node.connection()?, seq)?
        .ok_or(ServiceError::NotFound(Missing::Entry))
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
