//! Use cases: what investigators, prosecutors and operators do, with the rules that apply.
//!
//! Callers (HTTP, CLI) hand in validated-or-not input and an authenticated actor; this layer
//! checks permissions, builds log events, sends them through the one sequencer, and reads the
//! projections back. It knows diesel only through `storage` and nothing of actix.

pub mod access;
pub mod accounts;
pub mod apply;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod dossier;
pub mod dpo;
pub mod ledger;
pub mod node_cache;
pub mod rebuild;
pub mod retention;
pub mod sequencer;
pub mod vault;

pub use ledger::Ledger;

use crate::core::custody::CustodyError;
use crate::core::model::FieldError;
use crate::storage::StorageError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Case,
    Evidence,
    ParentEvidence,
    User,
    Agency,
    Entry,
    Checkpoint,
    VaultRecord,
    Token,
    Person,
    Share,
}

impl Missing {
    pub fn fr(self) -> &'static str {
        match self {
            Missing::Case => "Affaire",
            Missing::Evidence => "Scellé",
            Missing::ParentEvidence => "Scellé parent",
            Missing::User => "Utilisateur",
            Missing::Agency => "Service",
            Missing::Entry => "Entrée du journal",
            Missing::Checkpoint => "Point de contrôle",
            Missing::VaultRecord => "Donnée personnelle",
            Missing::Token => "Jeton",
            Missing::Person => "Personne",
            Missing::Share => "Partage",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Missing::Case => "Case",
            Missing::Evidence => "Evidence item",
            Missing::ParentEvidence => "Parent evidence item",
            Missing::User => "User",
            Missing::Agency => "Agency",
            Missing::Entry => "Log entry",
            Missing::Checkpoint => "Checkpoint",
            Missing::VaultRecord => "Personal-data record",
            Missing::Token => "Token",
            Missing::Person => "Person",
            Missing::Share => "Share",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    CaseReference,
    SealNumber,
    ExhibitNumber,
    Agency,
    ShareRevoked,
}

impl Conflict {
    pub fn messages(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Conflict::CaseReference => (
                "duplicate_reference",
                "Une affaire porte déjà cette référence.",
                "A case with this reference already exists.",
            ),
            Conflict::SealNumber => (
                "duplicate_seal",
                "Ce numéro de scellé est déjà utilisé dans cette affaire.",
                "This seal number is already used in this case.",
            ),
            Conflict::ExhibitNumber => (
                "duplicate_exhibit",
                "Ce numéro de pièce est déjà utilisé dans cette affaire.",
                "This exhibit number is already used in this case.",
            ),
            Conflict::Agency => (
                "duplicate_agency",
                "Ce service existe déjà.",
                "This agency already exists.",
            ),
            Conflict::ShareRevoked => (
                "share_revoked",
                "Ce partage est déjà révoqué.",
                "This share is already revoked.",
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    AmendsOtherItem,
}

impl Denied {
    pub fn fr(self) -> &'static str {
        match self {
            Denied::AmendsOtherItem => "la correction doit viser un événement du même scellé",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Denied::AmendsOtherItem => "a correction must amend an event of the same item",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("illegal custody transition: {0}")]
    Custody(#[from] CustodyError),
    #[error("{0:?} not found")]
    NotFound(Missing),
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("unauthenticated")]
    Unauthenticated,
    #[error("token expired")]
    TokenExpired,
    #[error("token revoked")]
    TokenRevoked,
    #[error("forbidden: {0:?}")]
    Forbidden(Denied),
    /// The policies refused (the denial itself is recorded in the log).
    #[error("denied by policy: {action} ({policies:?})")]
    PolicyDenied {
        action: &'static str,
        policies: Vec<String>,
        reason: Option<(String, String)>,
    },
    #[error("wrong login or password")]
    BadCredentials,
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("policies: {0}")]
    Policy(#[from] authz::PolicyError),
    #[error("bad proof request: {0}")]
    BadProofRequest(String),
    #[error("the earlier checkpoint is not valid for this log: {0}")]
    BadEarlierCheckpoint(String),
    #[error("ledger unavailable")]
    Unavailable,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        ServiceError::Storage(StorageError::Query(e))
    }
}

impl ServiceError {
    /// Errors that say the request itself is wrong (the batch it rode in can go on without it).
    pub fn is_rejection(&self) -> bool {
        !matches!(
            self,
            ServiceError::Storage(_) | ServiceError::Internal(_) | ServiceError::Unavailable
        )
    }
}
