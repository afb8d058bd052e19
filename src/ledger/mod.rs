//! The log as the node keeps it: the one ordered append path ([`sequencer`]), the registry
//! tables it projects from each entry ([`apply`]), the proofs' cache of the tree's upper levels
//! ([`proof_cache`]), and the checks that hold the stored log to its own content ([`audit`],
//! [`rebuild`]).
//!
//! It knows the entry format (the verifier crate) and the database (`storage`), and nothing of
//! who asks: authorization and use cases sit above it.

pub mod apply;
pub mod audit;
pub mod checkpoints;
pub mod error;
pub mod projection;
pub mod proof_cache;
pub mod proofs;
pub mod rebuild;
pub mod registry_audit;
pub mod sequencer;
pub mod vouch;
