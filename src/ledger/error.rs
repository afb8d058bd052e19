//! What the append path answers when it does not append: the request broke a rule the log
//! enforces (a rejection, which costs only that request), or the ledger could not write.
//!
//! The use cases turn these into their own `ServiceError`; the kinds of rejection
//! ([`Missing`], [`Conflict`], [`Denied`]) are shared with them so that the same refusal reads
//! the same whichever layer found it.

use scelle_verifier::custody::CustodyError;
use scelle_verifier::i18n::Message;
use scelle_verifier::t;

use crate::storage::StorageError;

/// A thing a request names that does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Case,
    Evidence,
    ParentEvidence,
    /// The item a copy or an acquisition names as made, in the event's case.
    DerivedEvidence,
    User,
    Agency,
    Entry,
    Checkpoint,
    /// No checkpoint of this node has been cosigned by a quorum of its witnesses yet.
    CosignedCheckpoint,
    VaultRecord,
    Token,
    Person,
    Share,
    /// A dossier a peer sent (by transfer id), or one imported.
    Transfer,
    /// A share of the case, live and reaching the peer's state, to send its dossier under.
    ShareToPeer,
    /// A peer of this name in `peers.policy`, with its address, log and certificate.
    Peer,
}

impl Missing {
    /// "Case not found." and its kin.
    pub fn message(self) -> Message {
        match self {
            Missing::Case => t!("not-found-case"),
            Missing::Evidence => t!("not-found-evidence"),
            Missing::ParentEvidence => t!("not-found-parent-evidence"),
            Missing::DerivedEvidence => t!("not-found-derived-evidence"),
            Missing::User => t!("not-found-user"),
            Missing::Agency => t!("not-found-agency"),
            Missing::Entry => t!("not-found-entry"),
            Missing::Checkpoint => t!("not-found-checkpoint"),
            Missing::CosignedCheckpoint => t!("not-found-cosigned-checkpoint"),
            Missing::VaultRecord => t!("not-found-vault-record"),
            Missing::Token => t!("not-found-token"),
            Missing::Person => t!("not-found-person"),
            Missing::Share => t!("not-found-share"),
            Missing::Transfer => t!("not-found-transfer"),
            Missing::ShareToPeer => t!("not-found-share-to-peer"),
            Missing::Peer => t!("not-found-peer"),
        }
    }
}

/// A request that would make two things one (a duplicate) or undo what is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    CaseReference,
    SealNumber,
    ExhibitNumber,
    Agency,
    /// A web login name another user has.
    Login,
    ShareRevoked,
    /// A transfer already recorded (received, or delivered).
    Transfer,
}

impl Conflict {
    /// The stable code an API answer carries.
    pub fn code(self) -> &'static str {
        match self {
            Conflict::CaseReference => "duplicate_reference",
            Conflict::SealNumber => "duplicate_seal",
            Conflict::ExhibitNumber => "duplicate_exhibit",
            Conflict::Agency => "duplicate_agency",
            Conflict::Login => "duplicate_login",
            Conflict::ShareRevoked => "share_revoked",
            Conflict::Transfer => "duplicate_transfer",
        }
    }

    /// What a person reads.
    pub fn message(self) -> Message {
        match self {
            Conflict::CaseReference => t!("conflict-case-reference"),
            Conflict::SealNumber => t!("conflict-seal-number"),
            Conflict::ExhibitNumber => t!("conflict-exhibit-number"),
            Conflict::Agency => t!("conflict-agency"),
            Conflict::Login => t!("conflict-login"),
            Conflict::ShareRevoked => t!("conflict-share-revoked"),
            Conflict::Transfer => t!("conflict-transfer"),
        }
    }
}

/// A request the rules of the log refuse whoever asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// A correction names an event of another item.
    AmendsOtherItem,
    /// An integrity check's result is not what its hash says against the registered one.
    IntegrityResultWrong,
}

impl Denied {
    /// Why, in the catalogue's words.
    pub fn message(self) -> Message {
        match self {
            Denied::AmendsOtherItem => t!("denied-amends-other-item"),
            Denied::IntegrityResultWrong => t!("denied-integrity-result-wrong"),
        }
    }
}

/// Why the ledger did not append (or could not say whether it did).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{0:?} not found")]
    NotFound(Missing),
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("forbidden: {0:?}")]
    Forbidden(Denied),
    #[error("illegal custody transition: {0}")]
    Custody(#[from] CustodyError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A proof asked of a tree it does not fit (a size beyond the log, a leaf beyond the size).
    #[error("bad proof request: {0}")]
    BadProofRequest(String),
    /// The sequencer has stopped (shut down, or its thread is gone).
    #[error("ledger unavailable")]
    Unavailable,
    /// A registry row disagrees with the log: the node decides nothing on it (`vouch`).
    #[error("registry row {table} {key} disagrees with the log")]
    Disagrees { table: &'static str, key: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<diesel::result::Error> for LedgerError {
    fn from(e: diesel::result::Error) -> Self {
        LedgerError::Storage(StorageError::Query(e))
    }
}

impl LedgerError {
    /// What a person reads: the catalogue's words for a rejection, the detail otherwise.
    pub fn message(&self) -> Message {
        match self {
            LedgerError::NotFound(missing) => missing.message(),
            LedgerError::Conflict(conflict) => conflict.message(),
            LedgerError::Forbidden(denied) => denied.message(),
            LedgerError::Custody(custody) => custody.message(),
            LedgerError::Disagrees { table, key } => {
                t!("error-registry-disagrees", table = table, key = key)
            }
            other => t!("ledger-failed", detail = other),
        }
    }

    /// Errors that say the request itself is wrong (the batch it rode in can go on without it).
    pub fn is_rejection(&self) -> bool {
        !matches!(
            self,
            LedgerError::Storage(_) | LedgerError::Internal(_) | LedgerError::Unavailable
        )
    }
}
