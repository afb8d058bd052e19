//! The error of a use case, and of the authorization point use cases call: what went wrong, in
//! terms the caller can act on. `public_error` turns it into a status, a code and a catalogue
//! message; nothing below this layer chooses words or statuses.
//!
//! Which error to use where: the ledger answers with `ledger::error::LedgerError`, storage with
//! `StorageError`, the verifier's types with their own; a use case returns `ServiceError`,
//! which takes each of those in through `From`.

use scelle_verifier::custody::CustodyError;
use scelle_verifier::model::FieldError;

use crate::clock::ClockError;
use crate::ledger::error::{Conflict, Denied, LedgerError, Missing};
use crate::policy::PolicyError;
use crate::storage::StorageError;

/// Why a use case did not do what it was asked.
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
    /// The user was disabled by an administrator: no way in works.
    #[error("user disabled")]
    UserDisabled,
    /// A cookie-authenticated write sent from another site (CSRF), or a form without its token.
    #[error("cross-site request refused")]
    CrossSite,
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
    Policy(#[from] PolicyError),
    #[error("bad proof request: {0}")]
    BadProofRequest(String),
    #[error("the earlier checkpoint is not valid for this log: {0}")]
    BadEarlierCheckpoint(String),
    #[error("ledger unavailable")]
    Unavailable,
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A registry row disagrees with the log; the node refuses to decide on it.
    #[error("registry row {table} {key} disagrees with the log")]
    Disagrees { table: &'static str, key: String },
    /// The node will not start where it was pointed: it would make a new node by mistake, or
    /// sign a second history (a fork), or run with its keys open to others.
    #[error("the node refuses to start: {0:?}")]
    StartRefused(StartRefusal),
    /// A backup or a restore that cannot be done as asked.
    #[error("backup: {0:?}")]
    Backup(BackupRefusal),
    /// The node's `peers.policy` does not parse (C2SP tlog-policy), naming the line.
    #[error("peer policy: {0}")]
    PeerPolicy(scelle_verifier::policy::PolicyError),
    /// A dossier too large to go to a peer in one transfer.
    #[error("transfer of {bytes} bytes is too large")]
    TransferTooLarge { bytes: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a node refuses to start (`ServiceError::StartRefused`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartRefusal {
    /// An explicit data folder holds no node key.
    NoNodeInFolder { dir: String },
    /// The folder holds a node key but the database is missing or holds no log.
    NoDatabase { database: String },
    /// The database's log is shorter than the checkpoint this node has already published.
    OlderThanPublished { size: u64, published: u64 },
    /// The database's log, at the size this node published, has another root: another history.
    DiffersFromPublished { published: u64 },
    /// A secret key file others may read (or write).
    KeyOpenToOthers { file: String, mode: u32 },
    /// A database URL without `sqlite://` or `postgres://`.
    UrlWithoutScheme,
    /// A federation listener asked for on a node with no `peers.policy`.
    NoPeers,
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        ServiceError::Storage(StorageError::Query(e))
    }
}

impl From<LedgerError> for ServiceError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::NotFound(m) => ServiceError::NotFound(m),
            LedgerError::Conflict(c) => ServiceError::Conflict(c),
            LedgerError::Forbidden(d) => ServiceError::Forbidden(d),
            LedgerError::Custody(c) => ServiceError::Custody(c),
            LedgerError::BadProofRequest(r) => ServiceError::BadProofRequest(r),
            LedgerError::Storage(s) => ServiceError::Storage(s),
            LedgerError::Unavailable => ServiceError::Unavailable,
            LedgerError::Disagrees { table, key } => ServiceError::Disagrees { table, key },
            LedgerError::Internal(i) => ServiceError::Internal(i),
        }
    }
}

impl From<ClockError> for ServiceError {
    fn from(e: ClockError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

/// Why a backup or a restore is refused (`ServiceError::Backup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupRefusal {
    /// A PostgreSQL node is backed up with PostgreSQL's tools.
    Postgres,
    /// The backup's folder already holds files.
    TargetNotEmpty { dir: String },
    /// The folder is not a backup (no manifest, or a file missing).
    NotABackup { dir: String, detail: String },
    /// A file's digest differs from the manifest's.
    Corrupt { file: String },
    /// The data folder already holds a database.
    TargetHoldsDatabase { database: String },
    /// The data folder holds another node's key.
    OtherNode,
    /// The backup's log does not audit clean.
    AuditFailed { detail: String },
}

/// What is wrong with a node that cannot take entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthProblem {
    /// An fsync failed; appends stopped until the node restarts.
    SyncFailed,
    /// The sequencer thread has ended.
    SequencerStopped,
    /// The database did not answer.
    DatabaseUnreachable,
}
