//! Scellé's trusted core, the part a prosecutor or a defence expert audits: what a log entry,
//! a proof, a checkpoint and a dossier are, and how each is checked.
//!
//! It reads files and nothing else: no database, no server, no network, no access policies. The
//! node (`scelle`) builds on it to write what this crate checks; this crate knows nothing of
//! the node. Everything here is tested against published vectors or independent
//! implementations (RFC 8785, RFC 9162 / transparency-dev, Go's `sumdb/note`, `ct-merkle`).
//!
//! - Formats: [`jcs`] (RFC 8785 canonical JSON), [`merkle`] (RFC 9162 trees and proofs),
//!   [`note`] (C2SP signed notes and checkpoints), [`entry`] (log entries), [`commitment`]
//!   (commitments to personal data), [`model`] (the custody vocabulary).
//! - Rules: [`custody`] (the chain-of-custody state machine).
//! - Dossiers: [`dossier`] (format and verification), [`strict_json`] (the JSON a dossier may
//!   be written in), [`offline`] (reading files, the verdict
//!   as text or JSON), [`court_report`] (the HTML report for court), [`case_uco`] (CASE/UCO).
//! - [`i18n`]: the message catalogue every text a person reads comes from, node included.

#![warn(missing_docs)]

pub mod i18n;

pub mod case_uco;
pub mod cli_text;
pub mod commitment;
pub mod cosignature;
pub mod court_report;
pub mod custody;
pub mod dossier;
pub mod entry;
pub mod exchange;
pub mod filehash;
pub mod jcs;
pub mod merkle;
pub mod model;
pub mod note;
pub mod offline;
pub mod policy;
pub mod rotation;
pub mod strict_json;
pub mod witness;
