//! The `scelle` command line: parse arguments into validated values, run one command, and say
//! what happened in French and English. Exit codes: 0 success, 1 failure, 2 bad usage or
//! unreadable input, 3 tampering found (`audit`), a dossier that does not verify (`verify`,
//! `dossier report`) or a node caught rewriting its log (`checkpoint verify`).
//!
//! One file per command group; every text, help and clap's own errors included, comes from
//! the message catalogue (`scelle_verifier::cli_text`).

mod accounts;
pub mod common;
mod dossier;
mod log;
mod node;
mod peer;
mod privacy;

use clap::{CommandFactory as _, Parser, Subcommand};
use std::path::PathBuf;

use scelle_verifier::cli_text;

use common::{CliError, NodePlace};

/// The whole command line.
#[derive(Parser, Debug)]
#[command(name = "scelle", version)]
pub struct Cli {
    #[arg(
        long,
        global = true,
        env = "SCELLE_DATA_DIR",
        default_value = common::DEFAULT_DATA_DIR
    )]
    pub data_dir: PathBuf,
    #[arg(long, global = true, env = "SCELLE_DATABASE_URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands, by group.
#[derive(Subcommand, Debug)]
pub enum Command {
    Init(node::InitArgs),
    Migrate {
        #[arg(long)]
        revert_all: bool,
        #[arg(long, requires = "revert_all")]
        yes: bool,
    },
    Serve(node::ServeArgs),
    #[command(subcommand)]
    Key(node::KeyCommand),
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    #[command(subcommand)]
    Policy(privacy::PolicyCommand),
    #[command(subcommand)]
    Retention(privacy::RetentionCommand),
    #[command(subcommand)]
    Dpo(privacy::DpoCommand),
    #[command(subcommand)]
    User(accounts::UserCommand),
    #[command(subcommand)]
    Agency(accounts::AgencyCommand),
    #[command(subcommand)]
    Token(accounts::TokenCommand),
    Audit,
    Rebuild,
    Hash {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    #[command(subcommand)]
    Dossier(dossier::DossierCommand),
    Verify(dossier::VerifyArgs),
    #[command(subcommand)]
    Checkpoint(log::CheckpointCommand),
    #[command(subcommand)]
    Peer(peer::PeerCommand),
    #[cfg(feature = "bench")]
    Bench(crate::bench::BenchArgs),
}

/// The command tree with every text from the catalogue.
pub fn command() -> clap::Command {
    cli_text::localize(Cli::command())
}

/// Parses the process's arguments (see `cli_text::parse`).
pub fn parse() -> Cli {
    cli_text::parse()
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let place = NodePlace {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
    };
    let place = &place;
    match &cli.command {
        Command::Init(args) => node::init(place, args),
        Command::Migrate { revert_all, yes } => node::migrate(place, *revert_all, *yes),
        Command::Serve(args) => node::serve(place, args),
        Command::Key(command) => node::key(place, command),
        Command::Backup { to } => node::backup(place, to),
        Command::Restore { from } => node::restore(place, from),
        Command::Policy(command) => privacy::policy(command),
        Command::Retention(command) => privacy::retention(place, command),
        Command::Dpo(command) => privacy::dpo(place, command),
        Command::User(command) => accounts::user(place, command),
        Command::Agency(command) => accounts::agency(place, command),
        Command::Token(command) => accounts::token(place, command),
        Command::Audit => log::audit(place),
        Command::Rebuild => log::rebuild(place),
        Command::Hash { files } => log::hash(files),
        Command::Dossier(command) => dossier::dossier(place, command),
        Command::Verify(args) => dossier::verify(args),
        Command::Checkpoint(command) => log::checkpoint(command),
        Command::Peer(command) => peer::peer(place, command),
        #[cfg(feature = "bench")]
        Command::Bench(args) => {
            crate::bench::run(args, place.database_url.as_deref()).map_err(CliError::Other)
        }
    }
}
