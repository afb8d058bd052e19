//! Scellé's node: a verifiable evidence ledger for the chain of custody of digital evidence.
//!
//! Layers, outermost first; each imports only the ones below it (ARCHITECTURE.md):
//! `cli`, `http` and `app` → `usecases` → `authz` → `node` → `ledger` → `storage`, all on the
//! verifier crate (`scelle_verifier`: entries, proofs, checkpoints, dossiers, the message
//! catalogue). `policy` holds the Cedar policies and retention rules; `error` the use cases'
//! error, `public_error` what a person reads of it.

// First: its macros (one statement per backend) are used by the modules after it.
#[macro_use]
pub mod storage;

pub mod app;
pub mod authz;
#[cfg(feature = "bench")]
pub mod bench;
pub mod cli;
pub mod clock;
pub mod error;
pub mod http;
pub mod ledger;
pub mod monitor;
pub mod network;
pub mod node;
pub mod policy;
pub mod public_error;
pub mod usecases;
