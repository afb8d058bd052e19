//! What every command group shares: where the node is (its folder and database), opening it
//! for one use case, printing JSON, and the error every command returns.

use std::path::PathBuf;

use scelle_verifier::i18n::Message;
use scelle_verifier::t;

use crate::error::ServiceError;
use crate::ledger::audit::AuditError;
use crate::node::Node;
use crate::public_error::PublicError;
use crate::storage::{self, DatabaseUrl};

/// Where the node a command works on lives: `--data-dir` and `--database-url`.
#[derive(Debug, Clone)]
pub struct NodePlace {
    /// The data folder (keys, and the SQLite database unless a URL is given).
    pub data_dir: PathBuf,
    /// A PostgreSQL URL instead of the folder's SQLite file.
    pub database_url: Option<String>,
}

/// The data folder when none is given.
pub const DEFAULT_DATA_DIR: &str = "./scelle-data";

impl NodePlace {
    /// Whether this is the default place: the default folder and its SQLite database, the only
    /// place `serve` makes a node on its own.
    pub fn is_default(&self) -> bool {
        self.database_url.is_none() && self.data_dir == std::path::Path::new(DEFAULT_DATA_DIR)
    }

    /// The database: `--database-url`, else the data folder's SQLite file.
    pub fn database(&self) -> Result<DatabaseUrl, CliError> {
        match &self.database_url {
            Some(url) => DatabaseUrl::parse(url).map_err(|_| {
                CliError::from(ServiceError::StartRefused(
                    crate::error::StartRefusal::UrlWithoutScheme,
                ))
            }),
            None => Ok(DatabaseUrl::sqlite_in(&self.data_dir)),
        }
    }

    /// Opens the node for one use case and shuts it down after, whatever the use case
    /// answered.
    pub fn with_node<T>(
        &self,
        run: impl FnOnce(&Node) -> Result<T, ServiceError>,
    ) -> Result<T, CliError> {
        let (node, handle) = Node::open_existing(&self.data_dir, &self.database()?, 2)?;
        let result = run(&node);
        node.shutdown(handle);
        Ok(result?)
    }
}

/// Why a command failed, and with which exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A use case refused, with its public message.
    #[error("{}", .0.two_lines())]
    Public(PublicError),
    /// A failure to report as it is (an I/O error, a storage failure).
    #[error("{0}")]
    Other(String),
    /// A failure with a catalogue message.
    #[error("{}", .0.two_lines())]
    Said(Message),
    /// `scelle audit` found the stored log inconsistent with itself.
    #[error("{}\n{}", t!("cli-audit-failed").count("findings", .0.finding_count()).count("entries", .0.bad_seqs().len() as u64).one_line(), .0)]
    Tampered(AuditError),
    /// Bad usage or unreadable input.
    #[error("{0}")]
    Usage(String),
    /// The dossier does not verify.
    #[error("{}", t!("verify-not-verified").two_lines())]
    NotVerified,
    /// The watched node misbehaved.
    #[error("{0}")]
    Misbehaviour(String),
}

impl From<ServiceError> for CliError {
    fn from(e: ServiceError) -> Self {
        match &e {
            ServiceError::Storage(_) | ServiceError::Internal(_) => CliError::Other(e.to_string()),
            _ => CliError::Public(PublicError::from(&e)),
        }
    }
}

impl From<storage::StorageError> for CliError {
    fn from(e: storage::StorageError) -> Self {
        CliError::Other(e.to_string())
    }
}

impl CliError {
    /// The process's exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Tampered(_) | CliError::NotVerified | CliError::Misbehaviour(_) => 3,
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Prints a value as pretty JSON on standard output.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Other(e.to_string()))?;
    println!("{text}");
    Ok(())
}
