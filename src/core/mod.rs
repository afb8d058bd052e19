//! The ledger core: pure functions and types, no I/O, no actix, no diesel.
//!
//! Everything a verifier needs to trust lives here: canonical form, Merkle proofs, signed
//! checkpoints, the entry format and the custody rules. The service and storage layers call it;
//! it calls nothing of theirs.

pub mod commitment;
pub mod custody;
pub mod dossier;
pub mod entry;
pub mod jcs;
pub mod merkle;
pub mod model;
pub mod note;
pub mod random;
