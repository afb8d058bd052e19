//! Inclusion and consistency proofs (RFC 9162 §2.1.3–2.1.4) from the stored tree: the nodes a
//! proof needs are named by the verifier crate's `merkle`, fetched through the proof cache (the
//! tree's upper levels in memory, the rest in a few key lookups), and combined there too.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use scelle_verifier::merkle::{self, Hash};

use crate::storage::{DbConnection, StorageError, log_store};

use super::error::{LedgerError, Missing};
use super::proof_cache::ProofCache;

/// An inclusion proof as the API serves it (base64 hashes).
#[derive(Debug, Serialize, Deserialize)]
pub struct InclusionProofResponse {
    pub seq: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub hashes: Vec<String>,
}

/// A consistency proof as the API serves it (base64 hashes).
#[derive(Debug, Serialize, Deserialize)]
pub struct ConsistencyProofResponse {
    pub from: u64,
    pub to: u64,
    pub hashes: Vec<String>,
}

fn check_size(c: &mut DbConnection, size: u64) -> Result<(), LedgerError> {
    let (current, _) = log_store::head(c)?;
    if size > current {
        return Err(LedgerError::BadProofRequest(format!(
            "size {size} > log size {current}"
        )));
    }
    Ok(())
}

/// A proof the stored tree cannot give: a missing node is corruption, anything else the
/// request's fault.
pub fn proof_error(e: merkle::ProofError) -> LedgerError {
    match e {
        merkle::ProofError::MissingNode(_) => {
            LedgerError::Storage(StorageError::Corrupt(e.to_string()))
        }
        other => LedgerError::BadProofRequest(other.to_string()),
    }
}

/// The inclusion proof of entry `seq` in the tree of `size` entries.
pub fn inclusion_proof(
    c: &mut DbConnection,
    cache: &ProofCache,
    seq: u64,
    size: u64,
) -> Result<InclusionProofResponse, LedgerError> {
    check_size(c, size)?;
    let mut ids = merkle::needed_nodes_for_inclusion(seq, size).map_err(proof_error)?;
    ids.push(merkle::NodeId::new(0, seq));
    let nodes = cache.fetch(c, &ids)?;
    let hashes = merkle::inclusion_proof(&nodes, seq, size).map_err(proof_error)?;
    let leaf_hash = nodes
        .get(&merkle::NodeId::new(0, seq))
        .copied()
        .ok_or(LedgerError::NotFound(Missing::Entry))?;
    Ok(InclusionProofResponse {
        seq,
        tree_size: size,
        leaf_hash: B64.encode(leaf_hash),
        hashes: encode_all(&hashes),
    })
}

/// The consistency proof from the tree of `from` entries to the tree of `to`.
pub fn consistency_proof(
    c: &mut DbConnection,
    cache: &ProofCache,
    from: u64,
    to: u64,
) -> Result<ConsistencyProofResponse, LedgerError> {
    let hashes = consistency_proof_hashes(c, cache, from, to)?;
    Ok(ConsistencyProofResponse {
        from,
        to,
        hashes: encode_all(&hashes),
    })
}

/// The consistency proof's hashes, raw.
pub fn consistency_proof_hashes(
    c: &mut DbConnection,
    cache: &ProofCache,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, LedgerError> {
    check_size(c, to)?;
    let ids = merkle::needed_nodes_for_consistency(from, to).map_err(proof_error)?;
    let nodes = cache.fetch(c, &ids)?;
    merkle::consistency_proof(&nodes, from, to).map_err(proof_error)
}

fn encode_all(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}
