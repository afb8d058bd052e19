//! `scelle peer …`: this node's identity between nodes and the peers it names (the Entente
//! network). The files live in the data folder (`network::peers`); `serve --peer-listen`
//! reads them at start.

use clap::Subcommand;
use std::path::PathBuf;

use scelle_verifier::t;

use crate::network::peers::{self, NewPeer};
use crate::network::{cosigning, witness};
use crate::node::files::load_signer;

use super::common::{CliError, NodePlace};

/// `scelle peer …`.
#[derive(Subcommand, Debug)]
pub enum PeerCommand {
    Init {
        #[arg(long)]
        url: String,
        #[arg(long = "host", value_name = "NAME_OR_IP")]
        hosts: Vec<String>,
    },
    Identity,
    Add {
        name: String,
        #[arg(long)]
        log_key: String,
        #[arg(long)]
        witness_key: String,
        #[arg(long)]
        url: String,
        #[arg(long)]
        cert: PathBuf,
    },
    Quorum {
        threshold: String,
    },
    List,
    Status,
    Rotate {
        #[arg(long)]
        statement: PathBuf,
    },
    Outbox {
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    Inbox,
}

/// Runs one `scelle peer` command.
pub fn peer(place: &NodePlace, command: &PeerCommand) -> Result<(), CliError> {
    let dir = &place.data_dir;
    match command {
        PeerCommand::Init { url, hosts } => {
            let signer = load_signer(dir)?;
            let mut names = hosts.clone();
            if let Some(host) = host_of(url) {
                names.push(host);
            }
            names.extend(["localhost".to_owned(), "127.0.0.1".to_owned()]);
            names.sort();
            names.dedup();
            let identity = peers::ensure_identity(dir, signer.name(), &names)?;
            peers::init_policy(
                dir,
                &peers::OwnEntry {
                    name: &peer_name(signer.name()),
                    log_key: &signer.verifier_key_string(),
                    witness_key: &identity.cosigner.verifier_key_string(),
                    url: url.trim_end_matches('/'),
                },
            )?;
            println!(
                "{}",
                t!("cli-out-peer-initialized", dir = dir.display()).one_line()
            );
            print_identity(place)
        }
        PeerCommand::Identity => print_identity(place),
        PeerCommand::Add {
            name,
            log_key,
            witness_key,
            url,
            cert,
        } => {
            let cert_pem = std::fs::read(cert)
                .map_err(|e| CliError::Other(format!("{}: {e}", cert.display())))?;
            let base = url.trim_end_matches('/');
            peers::add_peer(
                dir,
                &NewPeer {
                    name,
                    log_key,
                    witness_key,
                    url: base,
                    cert_pem: &cert_pem,
                },
            )?;
            println!("{}", t!("cli-out-peer-added", name = name).one_line());
            Ok(())
        }
        PeerCommand::Rotate { statement } => {
            let text = std::fs::read_to_string(statement)
                .map_err(|e| CliError::Other(format!("{}: {e}", statement.display())))?;
            let origin = peers::rotate_peer_key(dir, &text)?;
            println!("{}", t!("cli-out-peer-rotated", log = origin).one_line());
            Ok(())
        }
        PeerCommand::Quorum { threshold } => {
            peers::set_quorum(dir, threshold)?;
            println!(
                "{}",
                t!("cli-out-peer-quorum", threshold = threshold).one_line()
            );
            Ok(())
        }
        PeerCommand::List => {
            let Some(loaded) = peers::load_peers(dir)? else {
                println!("{}", t!("cli-out-peer-none").one_line());
                return Ok(());
            };
            let witnessed = place.with_node(witness::witnessed_logs)?;
            for peer in &loaded.peers {
                let url = peer.witness.url.as_deref().unwrap_or("—");
                let base = url.trim_end_matches("/witness");
                let origin = loaded
                    .policy
                    .logs()
                    .iter()
                    .find(|l| l.url.as_deref() == Some(base))
                    .map(|l| l.key.name().to_owned());
                let seen = origin
                    .as_deref()
                    .and_then(|o| witnessed.iter().find(|w| w.origin == o));
                println!(
                    "{}",
                    t!(
                        "cli-out-peer-line",
                        name = &peer.witness.name,
                        url = base,
                        log = origin.as_deref().unwrap_or("—"),
                        pinned = if peer.cert_pem.is_some() {
                            "✓"
                        } else {
                            "✗"
                        },
                        witnessed = seen.map_or("—".to_owned(), |w| w.size.to_string()),
                        at = seen.map_or("—", |w| w.updated_at.as_str())
                    )
                    .one_line()
                );
            }
            Ok(())
        }
        PeerCommand::Outbox { limit } => {
            // One JSON object a line, newest first: what this node owes its peers, and how
            // each transfer ended.
            let rows = place.with_node(|node| crate::usecases::exchange::outbox(node, *limit))?;
            for row in rows {
                let line = serde_json::json!({
                    "transfer": row.transfer_id, "peer": row.peer, "case": row.case_id,
                    "share": row.share_id, "queued_at": row.queued_at, "state": row.state,
                    "attempts": row.attempts,
                    "last_error": row.last_error.as_deref().map(|e| {
                        serde_json::from_str::<serde_json::Value>(e)
                            .unwrap_or_else(|_| serde_json::Value::String(e.to_owned()))
                    }),
                    "sent_seq": row.sent_seq, "done_at": row.done_at,
                });
                println!("{line}");
            }
            Ok(())
        }
        PeerCommand::Inbox => {
            // One JSON object a line, in log order: every transfer peers sent, refusals too.
            let mut after = None;
            loop {
                let page = place.with_node(|node| crate::usecases::exchange::inbox(node, after))?;
                for row in &page.items {
                    println!(
                        "{}",
                        serde_json::to_string(row)
                            .map_err(|e| crate::error::ServiceError::Internal(e.to_string()))?
                    );
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => return Ok(()),
                }
            }
        }
        PeerCommand::Status => {
            let Some(loaded) = peers::load_peers(dir)? else {
                println!("{}", t!("cli-out-peer-none").one_line());
                return Ok(());
            };
            let (publication, alerts) = place.with_node(|node| {
                Ok((
                    cosigning::publication(node, &loaded)?,
                    witness::alerts(node)?,
                ))
            })?;
            match publication {
                Some(p) => {
                    let names: Vec<String> = p
                        .cosigned_by
                        .iter()
                        .map(|(name, time)| format!("{name} ({time})"))
                        .collect();
                    println!(
                        "{}",
                        t!(
                            "cli-out-peer-published",
                            size = p.size,
                            at = &p.at,
                            witnesses = names.join(", ")
                        )
                        .one_line()
                    );
                }
                None => println!("{}", t!("cli-out-peer-unpublished").one_line()),
            }
            if alerts.is_empty() {
                println!("{}", t!("cli-out-peer-no-alert").one_line());
            }
            let queued = place.with_node(crate::usecases::exchange::queued_count)?;
            println!("{}", t!("cli-out-peer-outbox", queued = queued).one_line());
            for alert in alerts {
                println!(
                    "{}",
                    t!(
                        "cli-out-peer-alert",
                        log = &alert.log,
                        seen = &alert.seen,
                        seq = alert.seq,
                        at = &alert.at
                    )
                    .one_line()
                );
            }
            Ok(())
        }
    }
}

/// What another node's operator needs to add this one: the command to run there.
fn print_identity(place: &NodePlace) -> Result<(), CliError> {
    let dir = &place.data_dir;
    let signer = load_signer(dir)?;
    let identity = peers::load_identity(dir)?;
    let url = peers::load_peers(dir)?
        .and_then(|p| p.policy.logs_of(signer.name()).find_map(|l| l.url.clone()))
        .unwrap_or_else(|| "https://HOST:PORT".to_owned());
    println!("{}", t!("cli-out-peer-identity").one_line());
    let name = peer_name(signer.name());
    println!(
        "scelle peer add {} --log-key {} --witness-key {} --url {} --cert {}",
        name,
        signer.verifier_key_string(),
        identity.cosigner.verifier_key_string(),
        url,
        identity.tls_cert.display()
    );
    println!(
        "{}",
        t!(
            "cli-out-peer-fingerprint",
            fingerprint = &identity.fingerprint
        )
        .one_line()
    );
    Ok(())
}

/// The name policies give a node: its origin without the usual `/scelle`, and any other '/'
/// made '_' (a file name under peers/ holds it; two origins stay two names).
fn peer_name(origin: &str) -> String {
    origin
        .strip_suffix("/scelle")
        .unwrap_or(origin)
        .replace('/', "_")
}

/// The host of an `https://host:port/…` URL.
fn host_of(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split('/').next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then(|| host.to_owned())
}
