//! `scelle audit`, `rebuild`, `hash` and `checkpoint verify`: holding the stored log to its own
//! content, and watching another node's.

use clap::Subcommand;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use scelle_verifier::offline;
use scelle_verifier::t;

use crate::ledger::audit::{self, AuditError};
use crate::ledger::rebuild;
use crate::monitor::{self, Outcome};
use crate::node::files::load_signer;
use crate::storage;

use super::common::{CliError, NodePlace};

/// `scelle checkpoint …`.
#[derive(Subcommand, Debug)]
pub enum CheckpointCommand {
    Verify {
        #[arg(long)]
        server: String,
        #[arg(long)]
        trusted_key: String,
        #[arg(long, default_value = "scelle-checkpoint.txt")]
        state: PathBuf,
        #[arg(long, env = "SCELLE_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

/// `scelle audit`: exit 3 on the first inconsistency, naming its entry.
pub fn audit(place: &NodePlace) -> Result<(), CliError> {
    let verifier = load_signer(&place.data_dir)?
        .verifier()
        .map_err(|e| CliError::Other(e.to_string()))?;
    let pool = storage::open_pool(&place.database()?, 4)?;
    let report = audit::audit(&pool, &verifier).map_err(|e| match e {
        AuditError::Ledger(s) => CliError::Other(s.to_string()),
        other => CliError::Tampered(other),
    })?;
    println!(
        "{}",
        t!(
            "cli-out-audit-passed",
            entries = report.entries,
            nodes = report.nodes,
            checkpoints = report.checkpoints,
            megabytes = format!("{:.1}", report.entry_bytes as f64 / 1e6),
            seconds = format!("{:.2}", report.seconds)
        )
        .one_line()
    );
    Ok(())
}

/// `scelle rebuild`: the registry tables again from the log alone.
pub fn rebuild(place: &NodePlace) -> Result<(), CliError> {
    let pool = storage::open_pool(&place.database()?, 2)?;
    let n = rebuild::rebuild(&pool)
        .map_err(|e| CliError::Said(t!("cli-rebuild-failed", detail = e)))?;
    println!("{}", t!("cli-out-rebuilt", entries = n).one_line());
    Ok(())
}

/// `scelle hash`: SHA-256 of files, in `sha256sum`'s format.
pub fn hash(files: &[PathBuf]) -> Result<(), CliError> {
    for file in files {
        let digest = hash_file(file, std::io::stderr().is_terminal())
            .map_err(|e| CliError::Other(format!("{}: {e}", file.display())))?;
        println!("{}  {}", hex::encode(digest), file.display());
    }
    Ok(())
}

/// `scelle checkpoint verify`: exit 3 when the node is caught rewriting its log.
pub fn checkpoint(command: &CheckpointCommand) -> Result<(), CliError> {
    let CheckpointCommand::Verify {
        server,
        trusted_key,
        state,
        token,
    } = command;
    let key = offline::trusted_key(trusted_key).map_err(|e| CliError::Usage(e.to_string()))?;
    let said = match monitor::check(server, token.as_deref(), &key, state) {
        Ok(Outcome::First { size }) => t!("monitor-first", size = size),
        Ok(Outcome::Unchanged { size }) => t!("monitor-unchanged", size = size),
        Ok(Outcome::Grew { from, to }) => t!("monitor-grew", from = from, to = to),
        Err(e) if e.is_misbehaviour() => return Err(CliError::Misbehaviour(e.to_string())),
        Err(e) => return Err(CliError::Other(e.to_string())),
    };
    println!("{}", said.one_line());
    Ok(())
}

/// Streams a file through SHA-256 with constant memory; a progress bar when `progress`.
pub fn hash_file(path: &Path, progress: bool) -> std::io::Result<[u8; 32]> {
    let len = std::fs::metadata(path)?.len();
    let bar = if progress {
        let bar = indicatif::ProgressBar::new(len);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg} {bar:40} {bytes}/{total_bytes} {bytes_per_sec}",
        ) {
            bar.set_style(style);
        }
        bar.set_message(path.display().to_string());
        Some(bar)
    } else {
        None
    };
    let digest = scelle_verifier::filehash::sha256_file(path, |n| {
        if let Some(bar) = &bar {
            bar.inc(n);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(digest)
}
