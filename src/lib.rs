//! Scellé: a verifiable evidence ledger for the chain of custody of digital evidence.
//!
//! Layers, outermost first: `http` and `cli` → `service` (use cases, rules, the sequencer) →
//! `core` (pure ledger: canonical JSON, Merkle proofs, checkpoints, custody state machine) and
//! `storage` (diesel, SQLite or PostgreSQL). See ARCHITECTURE.md.

pub mod core;
#[macro_use]
pub mod storage;
pub mod bench;
pub mod case_uco;
pub mod cli;
pub mod errors;
pub mod filehash;
pub mod http;
pub mod monitor;
pub mod offline;
pub mod report;
pub mod service;
