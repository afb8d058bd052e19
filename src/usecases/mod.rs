//! What people do with a node, one module per area, each with its own request and answer
//! types and free functions that take the node context (`&Node`) and the authenticated user.
//!
//! Every use case validates its input, asks the one authorization point (`authz`), builds log
//! events and sends them through the sequencer, and reads the projections back. The HTTP API,
//! the pages and the CLI call these functions and nothing below them.
//!
//! - [`cases`], [`evidence`], [`custody`]: cases, items and the chain of custody.
//! - [`persons`]: persons of a case, sealed in the vault; [`sealing`] seals free text.
//! - [`sharing`]: shares of a case and their conditions.
//! - [`accounts`], [`tokens`]: web logins and sessions, bearer tokens.
//! - [`admin`]: making a node, its agencies and users; [`backup`]: backups and restores.
//! - [`dpo`]: erasure, retention, access records, records of processing.
//! - [`dossiers`]: a case's verifiable dossier; [`exchange`]: dossiers sent to and received
//!   from peers.
//! - [`log`]: checkpoints, entries and proofs.
//! - [`paging`]: the pages every list is cut into.

pub mod accounts;
pub mod admin;
pub mod backup;
pub mod cases;
pub mod custody;
pub mod dossiers;
pub mod dpo;
pub mod evidence;
pub mod exchange;
pub mod log;
pub mod paging;
pub mod persons;
pub mod sealing;
pub mod sharing;
pub mod tokens;
