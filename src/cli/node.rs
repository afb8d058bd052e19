//! `scelle init`, `migrate` and `serve`: making a node, its schema, and running it.

use std::net::TcpListener;
use std::time::Duration;

use scelle_verifier::t;

use crate::app::{self, ServeOptions};
use crate::error::ServiceError;
use crate::http::{TlsFiles, TrustedProxies};
use crate::node::files::KEY_FILE;
use crate::storage;
use crate::usecases::admin::{self, InitOptions, InitReport};

use super::common::{CliError, NodePlace};
use super::privacy::load_rules;

/// Who the node is, for `init` and a first `serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct InitArgs {
    #[arg(long, default_value = "tg.police.dcpj/scelle")]
    pub origin: String,
    #[arg(long, default_value = "tg.police.dcpj")]
    pub agency: String,
    #[arg(long, default_value = "Direction centrale de la police judiciaire")]
    pub agency_name: String,
}

/// How to serve.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    #[arg(long, env = "SCELLE_POLICIES")]
    pub policies: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 24)]
    pub retention_every_hours: u64,
    #[arg(long = "trusted-proxy", value_name = "IP")]
    pub trusted_proxies: Vec<String>,
    /// Where peers' nodes reach this one (mutual TLS, `peers.policy` and `peers/`).
    #[arg(long, value_name = "ADDR")]
    pub peer_listen: Option<String>,
    #[command(flatten)]
    pub init: InitArgs,
}

fn init_options(place: &NodePlace, args: &InitArgs) -> Result<InitOptions, CliError> {
    Ok(InitOptions {
        data_dir: place.data_dir.clone(),
        database: place.database()?,
        origin: args.origin.clone(),
        agency_id: args.agency.clone(),
        agency_name: args.agency_name.clone(),
    })
}

/// Where `serve` puts the first admin token of a node it makes on its own (mode 0600).
const FIRST_ADMIN_TOKEN_FILE: &str = "first-admin.token";

/// The verifier key on the line after its heading (scripts take line 2), and the first admin
/// token, shown once, on the line after its own.
fn print_init(report: &InitReport) {
    println!("{}", t!("cli-out-verifier-key").one_line());
    println!("{}", report.verifier_key);
    if let Some(token) = &report.admin_token {
        println!(
            "{}",
            t!("cli-out-admin-token", days = admin::FIRST_ADMIN_TOKEN_DAYS).one_line()
        );
        println!("{token}");
    }
}

/// `scelle init`.
pub fn init(place: &NodePlace, args: &InitArgs) -> Result<(), CliError> {
    print_init(&admin::init(&init_options(place, args)?)?);
    Ok(())
}

/// `scelle migrate [--revert-all [--yes]]`: reverting everything drops the evidence log, so it
/// asks first (`oui` or `yes` on standard input) unless `--yes` says so already.
pub fn migrate(place: &NodePlace, revert_all: bool, yes: bool) -> Result<(), CliError> {
    let database = place.database()?;
    if revert_all && !yes {
        eprintln!(
            "{}",
            t!("cli-revert-all-confirm", database = database.to_string()).two_lines()
        );
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim().to_lowercase().as_str(), "oui" | "yes") {
            return Err(CliError::Said(t!("cli-revert-all-not-confirmed")));
        }
    }
    let mut conn = database.connect()?;
    let message = if revert_all {
        let n = storage::revert_all_migrations(&mut conn)?;
        t!("cli-out-migrations-reverted").count("count", n as u64)
    } else {
        let n = storage::run_migrations(&mut conn)?;
        t!("cli-out-migrations-applied").count("count", n as u64)
    };
    println!("{}", message.one_line());
    Ok(())
}

/// `scelle serve`: initializes the folder the first time, then serves.
pub fn serve(place: &NodePlace, args: &ServeArgs) -> Result<(), CliError> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    let (policies, retention) = load_rules(args.policies.as_deref())?;
    // Only the default folder is made on its own: an explicit folder or database that holds
    // no node is a slip (a typo would make a second node with another key), refused below.
    if !place.data_dir.join(KEY_FILE).exists() && place.is_default() {
        println!(
            "{}",
            t!("cli-out-initializing", dir = place.data_dir.display()).one_line()
        );
        let report = admin::init(&init_options(place, &args.init)?)?;
        // A server's output ends up in a log (a container's, the journal): the first admin
        // token goes to a file only its owner reads, never to the output.
        println!("{}", t!("cli-out-verifier-key").one_line());
        println!("{}", report.verifier_key);
        if let Some(token) = &report.admin_token {
            let path = place.data_dir.join(FIRST_ADMIN_TOKEN_FILE);
            // One left from a node that is no longer there would block the new one's token.
            let _ = std::fs::remove_file(&path);
            crate::node::files::write_private_file(&path, &format!("{token}\n"))?;
            println!(
                "{}",
                t!(
                    "cli-out-admin-token-file",
                    days = admin::FIRST_ADMIN_TOKEN_DAYS,
                    path = path.display()
                )
                .one_line()
            );
        }
    }
    let database = place.database()?;
    let listener = TcpListener::bind(&args.listen)
        .map_err(|e| CliError::Other(format!("{}: {e}", args.listen)))?;
    let peer_listener = match &args.peer_listen {
        Some(addr) => {
            Some(TcpListener::bind(addr).map_err(|e| CliError::Other(format!("{addr}: {e}")))?)
        }
        None => None,
    };
    let retention_every = (args.retention_every_hours > 0)
        .then(|| Duration::from_secs(args.retention_every_hours.saturating_mul(3600)));
    Ok(app::serve(ServeOptions {
        data_dir: &place.data_dir,
        database: &database,
        listener,
        peer_listener,
        tls: tls.as_ref(),
        policies,
        retention,
        retention_every,
        trusted_proxies: TrustedProxies::parse(&args.trusted_proxies)
            .map_err(ServiceError::from)?,
    })?)
}

/// `scelle key …`: the node's keys.
#[derive(clap::Subcommand, Debug)]
pub enum KeyCommand {
    Show {
        #[arg(long, short, default_value = "node.pub")]
        output: std::path::PathBuf,
    },
    Rotate,
    Retire,
}

/// The rotation statement `scelle key rotate` writes, for the peers (`scelle peer rotate`).
const ROTATION_STATEMENT_FILE: &str = "key-rotation.note";

/// `scelle key show`: prints the node's verifier key (what anyone checks its signatures with)
/// and writes it to a file (`node.pub`) for the verifiers' `--trusted-key`.
pub fn key(place: &NodePlace, command: &KeyCommand) -> Result<(), CliError> {
    let output = match command {
        KeyCommand::Show { output } => output,
        KeyCommand::Rotate => return rotate_key(place),
        KeyCommand::Retire => return retire_key(place),
    };
    if !place.data_dir.join(KEY_FILE).exists() {
        return Err(
            ServiceError::StartRefused(crate::error::StartRefusal::NoNodeInFolder {
                dir: place.data_dir.display().to_string(),
            })
            .into(),
        );
    }
    let signer = crate::node::files::load_signer(&place.data_dir)?;
    let verifier_key = signer.verifier_key_string();
    std::fs::write(output, format!("{verifier_key}\n"))
        .map_err(|e| CliError::Other(format!("{}: {e}", output.display())))?;
    println!("{verifier_key}");
    eprintln!(
        "{}",
        t!("cli-out-node-pub-written", file = output.display()).one_line()
    );
    Ok(())
}

/// `scelle key rotate`: a next key beside the current one (both sign every note from the next
/// start of `serve`), and the statement, signed by both, that tells the peers.
fn rotate_key(place: &NodePlace) -> Result<(), CliError> {
    use crate::node::files::{NEXT_KEY_FILE, load_signer, write_private_file};
    let dir = &place.data_dir;
    let current = load_signer(dir)?;
    if current.next_verifier_key_string().is_some() {
        return Err(CliError::Usage(
            t!("cli-key-rotation-under-way", file = NEXT_KEY_FILE).two_lines(),
        ));
    }
    let next = scelle_verifier::note::NoteSigner::generate(current.name())
        .map_err(|e| CliError::Other(e.to_string()))?;
    let text = next
        .private_key_string()
        .map_err(|e| CliError::Other(e.to_string()))?;
    write_private_file(&dir.join(NEXT_KEY_FILE), &(text + "\n"))?;
    let both = load_signer(dir)?;
    let statement =
        scelle_verifier::rotation::statement(&both).map_err(|e| CliError::Other(e.to_string()))?;
    let path = dir.join(ROTATION_STATEMENT_FILE);
    std::fs::write(&path, &statement)
        .map_err(|e| CliError::Other(format!("{}: {e}", path.display())))?;
    // The node's own policy (which checks its cosigned checkpoints) takes the new key too.
    if dir.join(crate::network::peers::POLICY_FILE).exists() {
        crate::network::peers::rotate_peer_key(dir, &statement)?;
    }
    println!(
        "{}",
        t!(
            "cli-out-key-rotated",
            key = next.verifier_key_string(),
            statement = path.display()
        )
        .one_line()
    );
    Ok(())
}

/// `scelle key retire`: the next key becomes the node's only key and the old one is destroyed —
/// once the node's newest checkpoint is signed by the next key too (the overlap happened).
fn retire_key(place: &NodePlace) -> Result<(), CliError> {
    use crate::node::files::{KEY_FILE, NEXT_KEY_FILE, load_signer};
    let dir = &place.data_dir;
    let both = load_signer(dir)?;
    let Some(next_key) = both.next_verifier_key_string() else {
        return Err(CliError::Usage(t!("cli-key-no-rotation").two_lines()));
    };
    let next = scelle_verifier::note::NoteVerifier::from_verifier_key(&next_key)
        .map_err(|e| CliError::Other(e.to_string()))?;
    let newest = place.with_node(crate::usecases::log::latest_checkpoint)?;
    if next.open(&newest).is_err() {
        return Err(CliError::Usage(t!("cli-key-retire-too-early").two_lines()));
    }
    let old = dir.join(KEY_FILE);
    // The old private key is overwritten, then replaced by the next one: nobody signs with it
    // again, and what it signed still verifies with its public key.
    let length = std::fs::metadata(&old).map(|m| m.len()).unwrap_or(0);
    std::fs::write(&old, vec![0u8; usize::try_from(length).unwrap_or(0)])
        .and_then(|_| std::fs::rename(dir.join(NEXT_KEY_FILE), &old))
        .and_then(|_| std::fs::File::open(dir).and_then(|d| d.sync_all()))
        .map_err(|e| CliError::Other(format!("{}: {e}", old.display())))?;
    println!("{}", t!("cli-out-key-retired", key = next_key).one_line());
    Ok(())
}

/// `scelle backup --to DIR`.
pub fn backup(place: &NodePlace, to: &std::path::Path) -> Result<(), CliError> {
    let manifest = crate::usecases::backup::backup(&place.data_dir, &place.database()?, to)?;
    println!(
        "{}",
        t!(
            "cli-out-backup-taken",
            dir = to.display(),
            entries = manifest.log_size,
            origin = manifest.origin
        )
        .one_line()
    );
    Ok(())
}

/// `scelle restore --from DIR` into `--data-dir`.
pub fn restore(place: &NodePlace, from: &std::path::Path) -> Result<(), CliError> {
    if place.database_url.is_some() {
        return Err(ServiceError::Backup(crate::error::BackupRefusal::Postgres).into());
    }
    let report = crate::usecases::backup::restore(from, &place.data_dir)?;
    let line = match report.extends_published {
        Some(published) => t!(
            "cli-out-restored",
            entries = report.log_size,
            published = published
        ),
        None => t!("cli-out-restored-unpublished", entries = report.log_size),
    };
    println!("{}", line.one_line());
    Ok(())
}
