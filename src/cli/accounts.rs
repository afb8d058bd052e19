//! `scelle user`, `token` and `agency`: the people and agencies a node knows.

use clap::Subcommand;

use scelle_verifier::model::Role;
use scelle_verifier::t;

use crate::error::ServiceError;
use crate::storage::identity::Lockout;
use crate::usecases::{accounts, admin, tokens};

use super::common::{CliError, NodePlace};

/// `scelle user …`.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        agency: String,
        #[arg(long, default_value_t = 90)]
        token_days: u32,
    },
    Password {
        #[arg(long)]
        user: String,
        #[arg(long)]
        login: String,
    },
    Disable {
        #[arg(long)]
        user: String,
    },
    Enable {
        #[arg(long)]
        user: String,
    },
}

/// `scelle token …`.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    Issue {
        #[arg(long)]
        user: String,
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    #[command(group(clap::ArgGroup::new("which").required(true)))]
    Revoke {
        #[arg(long, group = "which")]
        id: Option<String>,
        #[arg(long, group = "which")]
        user: Option<String>,
    },
}

/// `scelle agency …`.
#[derive(Subcommand, Debug)]
pub enum AgencyCommand {
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        lab: bool,
    },
}

/// `scelle user add` (the token on the last line) and `scelle user password` (read from
/// standard input).
pub fn user(place: &NodePlace, command: &UserCommand) -> Result<(), CliError> {
    match command {
        UserCommand::Password { user, login } => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| CliError::Other(e.to_string()))?;
            let password = password.trim_end_matches(['\n', '\r']);
            place.with_node(|node| accounts::set_password(node, user, login, password))?;
            println!("{}", t!("cli-out-password-set", login = login).one_line());
        }
        UserCommand::Disable { user } => {
            let ended = place.with_node(|node| accounts::set_disabled(node, None, user, true))?;
            println!("{}", t!("cli-out-user-disabled", id = user).one_line());
            println!("{}", lockout_line(user, ended).one_line());
        }
        UserCommand::Enable { user } => {
            place.with_node(|node| accounts::set_disabled(node, None, user, false))?;
            println!("{}", t!("cli-out-user-enabled", id = user).one_line());
        }
        UserCommand::Add {
            name,
            role,
            agency,
            token_days,
        } => {
            let role = Role::parse(role).map_err(ServiceError::from)?;
            let (user, token) = place
                .with_node(|node| admin::add_user(node, name, role, agency, Some(*token_days)))?;
            println!(
                "{}",
                t!(
                    "cli-out-user-created",
                    id = &user.id,
                    role = &user.role,
                    agency = &user.agency_id
                )
                .one_line()
            );
            println!("{token}");
        }
    }
    Ok(())
}

/// `scelle token issue` (the token on the last line) and `scelle token revoke`.
pub fn token(place: &NodePlace, command: &TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Issue { user, days } => {
            let token = place.with_node(|node| tokens::issue(node, user, Some(*days)))?;
            println!(
                "{}",
                t!("cli-out-token-issued")
                    .count("days", u64::from(*days))
                    .one_line()
            );
            println!("{token}");
        }
        TokenCommand::Revoke { id: Some(id), .. } => {
            place.with_node(|node| tokens::revoke(node, id))?;
            println!("{}", t!("cli-out-token-revoked", id = id).one_line());
        }
        TokenCommand::Revoke {
            user: Some(user), ..
        } => {
            let ended = place.with_node(|node| accounts::revoke_all_tokens(node, user))?;
            println!("{}", lockout_line(user, ended).one_line());
        }
        TokenCommand::Revoke { .. } => {}
    }
    Ok(())
}

/// What ending a user's ways in did, in words.
fn lockout_line(user: &str, ended: Lockout) -> scelle_verifier::i18n::Message {
    t!("cli-out-ways-in-ended", id = user)
        .count("tokens", ended.tokens as u64)
        .count("sessions", ended.sessions as u64)
}

/// `scelle agency add`.
pub fn agency(place: &NodePlace, command: &AgencyCommand) -> Result<(), CliError> {
    let AgencyCommand::Add { id, name, lab } = command;
    let (_, receipt) = place.with_node(|node| admin::add_agency(node, id, None, name, *lab))?;
    println!(
        "{}",
        t!("cli-out-agency-added", seq = receipt.seq).one_line()
    );
    Ok(())
}
