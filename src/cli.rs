//! The `scelle` command line: parse arguments into validated values, run one command, and say
//! what happened in French and English. Exit codes: 0 success, 1 failure, 2 bad usage or
//! unreadable input, 3 tampering found (`audit`), a dossier that does not verify (`verify`,
//! `dossier report`) or a node caught rewriting its log (`checkpoint verify`).

use clap::{Parser, Subcommand};
use std::io::IsTerminal as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::core::model::{Jurisdiction, Role};
use crate::errors::PublicError;
use crate::service::audit::{self, AuditError};
use crate::service::dossier::ExportOptions;
use crate::service::ledger::{InitOptions, load_signer};
use crate::service::retention::RetentionRules;
use crate::service::{Ledger, ServiceError, rebuild};
use crate::storage::{self, DatabaseUrl};

#[derive(Parser, Debug)]
#[command(
    name = "scelle",
    version,
    about = "Scellé — registre vérifiable de la chaîne de garde des preuves numériques.\nScellé — verifiable ledger of the chain of custody of digital evidence."
)]
pub struct Cli {
    /// Dossier des données (base SQLite, clé du nœud) / data folder (SQLite database, node key)
    #[arg(
        long,
        global = true,
        env = "SCELLE_DATA_DIR",
        default_value = "./scelle-data"
    )]
    pub data_dir: PathBuf,
    /// Base PostgreSQL (postgres://…) au lieu du SQLite du dossier / PostgreSQL URL instead of the folder's SQLite
    #[arg(long, global = true, env = "SCELLE_DATABASE_URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Initialise un nœud : base, clé (0600), service, premier admin / initialize a node
    Init(InitArgs),
    /// Applique les migrations de la base / apply database migrations
    Migrate {
        /// Annule toutes les migrations / revert every migration
        #[arg(long)]
        revert_all: bool,
    },
    /// Lance le serveur HTTP (initialise le dossier s'il n'existe pas) / run the HTTP server
    Serve {
        /// Adresse d'écoute / listen address
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Certificat TLS (chaîne PEM) pour servir en HTTPS / TLS certificate chain (PEM) to serve HTTPS
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// Clé privée TLS (PEM) / TLS private key (PEM)
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Dossier des règles Cedar et de retention.json (défaut : règles intégrées) /
        /// folder of the Cedar policies and retention.json (default: the built-in ones)
        #[arg(long, env = "SCELLE_POLICIES")]
        policies: Option<PathBuf>,
        /// Fréquence de la purge de conservation, en heures (0 : jamais) /
        /// how often the retention run happens, in hours (0: never)
        #[arg(long, default_value_t = 24)]
        retention_every_hours: u64,
        #[command(flatten)]
        init: InitArgs,
    },
    /// Règles d'accès Cedar / Cedar access policies
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Durées de conservation / retention
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Délégué à la protection des données / data-protection officer
    #[command(subcommand)]
    Dpo(DpoCommand),
    /// Gestion des utilisateurs / user management
    #[command(subcommand)]
    User(UserCommand),
    /// Gestion des services / agency management
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Jetons d'accès : délivrance et révocation / access tokens: issue and revoke
    #[command(subcommand)]
    Token(TokenCommand),
    /// Revérifie tout le stocké (entrées, chaîne, nœuds, points de contrôle) / re-verify everything stored
    Audit,
    /// Reconstruit les tables du registre depuis le journal / rebuild the registry tables from the log
    Rebuild,
    /// SHA-256 de fichiers, au format sha256sum / SHA-256 of files, in sha256sum format
    Hash {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Dossiers de preuve pour le tribunal / evidence dossiers for court
    #[command(subcommand)]
    Dossier(DossierCommand),
    /// Vérifie un dossier hors ligne (sans réseau ni base) ; code 0 seulement si tout concorde /
    /// verify a dossier offline (no network, no database); exit 0 only if everything holds
    Verify {
        /// Fichier dossier (JSON) / dossier file (JSON)
        dossier: PathBuf,
        /// Clé de vérification de confiance (texte ou fichier), répétable / trusted verifier key (text or file), repeatable
        #[arg(long = "trusted-key")]
        trusted_keys: Vec<String>,
        /// Fichier de preuve à confronter aux empreintes enregistrées, répétable / evidence file to check against the registered hashes, repeatable
        #[arg(long = "file")]
        files: Vec<PathBuf>,
        /// Rapport JSON sur la sortie standard / JSON report on standard output
        #[arg(long)]
        json: bool,
    },
    /// Surveillance des points de contrôle d'un nœud / watching a node's checkpoints
    #[command(subcommand)]
    Checkpoint(CheckpointCommand),
    /// Mesures de performance / performance figures
    Bench(crate::bench::BenchArgs),
}

#[derive(Subcommand, Debug)]
pub enum CheckpointCommand {
    /// Vérifie que le journal du serveur n'a fait que croître depuis le dernier point de contrôle
    /// vérifié, puis mémorise le nouveau / check that the server's log only grew since the last
    /// verified checkpoint, then remember the new one
    Verify {
        /// Adresse du nœud, ex. https://scelle.dcpj.tg / node address
        #[arg(long)]
        server: String,
        /// Clé de vérification de confiance (texte ou fichier) / trusted verifier key (text or file)
        #[arg(long)]
        trusted_key: String,
        /// Fichier où est gardé le dernier point de contrôle vérifié / file keeping the last verified checkpoint
        #[arg(long, default_value = "scelle-checkpoint.txt")]
        state: PathBuf,
        /// Jeton d'accès au journal / access token for the log
        #[arg(long, env = "SCELLE_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Le dossier vérifiable (docs/FORMAT.md) / the verifiable dossier
    Json,
    /// CASE 1.4 / UCO JSON-LD pour les outils d'investigation / for forensic tools
    CaseUco,
}

#[derive(Subcommand, Debug)]
pub enum DossierCommand {
    /// Exporte le dossier d'une affaire / export a case's dossier
    Export {
        /// Référence ou identifiant de l'affaire / case reference or id
        #[arg(long)]
        case: String,
        /// Fichier de sortie (sortie standard sinon) / output file (standard output otherwise)
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        /// Point de contrôle déjà détenu par le destinataire / checkpoint the recipient already holds
        #[arg(long)]
        since_checkpoint: Option<PathBuf>,
        /// Sans les données personnelles / without personal data
        #[arg(long)]
        without_personal_data: bool,
        /// Format : dossier vérifiable (json) ou CASE 1.4 / UCO JSON-LD (case-uco) / format
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
    },
    /// Rapport HTML pour le tribunal (imprimable A4), après vérification /
    /// HTML court report (printable on A4), after verification
    Report {
        /// Fichier dossier (JSON) / dossier file (JSON)
        dossier: PathBuf,
        /// Langue du rapport / report language
        #[arg(long, value_enum, default_value = "fr")]
        lang: crate::report::Lang,
        /// Fichier HTML à écrire / HTML file to write
        #[arg(long, short = 'o')]
        output: PathBuf,
        /// Clé de vérification de confiance (texte ou fichier) / trusted verifier key (text or file)
        #[arg(long = "trusted-key")]
        trusted_keys: Vec<String>,
        /// Fichier de preuve à confronter / evidence file to check
        #[arg(long = "file")]
        files: Vec<PathBuf>,
    },
}

#[derive(clap::Args, Debug, Clone)]
pub struct InitArgs {
    /// Origine du journal (nom des points de contrôle) / log origin (checkpoint name)
    #[arg(long, default_value = "tg.police.dcpj/scelle")]
    pub origin: String,
    /// Service qui exploite le nœud / agency that runs the node
    #[arg(long, default_value = "tg.police.dcpj")]
    pub agency: String,
    /// Nom du service / agency name
    #[arg(long, default_value = "Direction centrale de la police judiciaire")]
    pub agency_name: String,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Ajoute un utilisateur et affiche son jeton en dernière ligne / add a user, print its token last
    Add {
        #[arg(long)]
        name: String,
        /// investigator | prosecutor | lab_analyst | auditor | admin
        #[arg(long)]
        role: String,
        /// Identifiant du service, ex. tg.police.dcpj / agency id
        #[arg(long)]
        agency: String,
        /// Validité du jeton en jours / token validity in days
        #[arg(long, default_value_t = 90)]
        token_days: u32,
    },
    /// Définit l'identifiant et le mot de passe web (lu sur l'entrée standard) /
    /// set the web login and password (read from standard input)
    Password {
        /// Identifiant de l'utilisateur / user id
        #[arg(long)]
        user: String,
        /// Nom de connexion / login name
        #[arg(long)]
        login: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Valide les règles contre le schéma, et retention.json / validate the policies against the schema, and retention.json
    Check {
        /// Dossier des règles (défaut : règles intégrées) / policy folder (default: built-in)
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    /// Efface ce dont la durée de conservation est échue, et le rapporte / erase what has expired and report it
    Run {
        /// Rapporte sans effacer / report without erasing
        #[arg(long)]
        dry_run: bool,
        /// Règles (défaut : intégrées) / rules folder (default: built-in)
        #[arg(long)]
        policies: Option<PathBuf>,
        /// Rapport JSON / JSON report
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum DpoCommand {
    /// Registre des traitements d'un État, en français et en anglais / records of processing for one state, in French and English
    Report {
        /// BJ | BF | CI | NE | TG
        #[arg(long)]
        state: String,
        /// Rapport JSON / JSON report
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Délivre un nouveau jeton à un utilisateur (dernière ligne) / issue a new token (last line)
    Issue {
        /// Identifiant de l'utilisateur / user id
        #[arg(long)]
        user: String,
        /// Validité en jours / validity in days
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// Révoque un jeton (la partie hexadécimale après sct_) / revoke a token (the hex part after sct_)
    Revoke {
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AgencyCommand {
    /// Ajoute un service / add an agency
    Add {
        /// ex. bj.police.ocrc
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// Laboratoire criminalistique (et non service de police) / a forensic lab (not a police service)
        #[arg(long)]
        lab: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{}\n{}", .0.message_fr, .0.message_en)]
    Public(PublicError),
    #[error("{0}")]
    Other(String),
    #[error("AUDIT ÉCHOUÉ / AUDIT FAILED: {0}")]
    Tampered(AuditError),
    #[error("{0}")]
    Usage(String),
    #[error("dossier non vérifié / dossier not verified")]
    NotVerified,
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
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Tampered(_) | CliError::NotVerified | CliError::Misbehaviour(_) => 3,
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

pub fn database_url(cli: &Cli) -> Result<DatabaseUrl, CliError> {
    match &cli.database_url {
        Some(url) => Ok(DatabaseUrl::parse(url)?),
        None => Ok(DatabaseUrl::sqlite_in(&cli.data_dir)),
    }
}

fn init_options(cli: &Cli, args: &InitArgs) -> Result<InitOptions, CliError> {
    Ok(InitOptions {
        data_dir: cli.data_dir.clone(),
        database: database_url(cli)?,
        origin: args.origin.clone(),
        agency_id: args.agency.clone(),
        agency_name: args.agency_name.clone(),
    })
}

fn print_init(report: &crate::service::ledger::InitReport) {
    println!(
        "Clé de vérification du nœud / node verifier key:\n{}",
        report.verifier_key
    );
    if let Some(token) = &report.admin_token {
        println!(
            "Jeton administrateur (affiché une seule fois) / admin token (shown once):\n{token}"
        );
    }
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Init(args) => {
            let report = Ledger::init(&init_options(&cli, args)?)?;
            print_init(&report);
            Ok(())
        }
        Command::Migrate { revert_all } => {
            let mut conn = database_url(&cli)?.connect()?;
            let n = if *revert_all {
                storage::revert_all_migrations(&mut conn)?
            } else {
                storage::run_migrations(&mut conn)?
            };
            println!(
                "{n} migration(s) {}",
                if *revert_all {
                    "annulée(s) / reverted"
                } else {
                    "appliquée(s) / applied"
                }
            );
            Ok(())
        }
        Command::Serve {
            listen,
            init,
            tls_cert,
            tls_key,
            policies,
            retention_every_hours,
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(crate::http::TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => None,
            };
            let rules = load_rules(policies.as_deref())?;
            serve(
                &cli,
                listen,
                init,
                tls.as_ref(),
                rules,
                *retention_every_hours,
            )
        }
        Command::Policy(PolicyCommand::Check { dir }) => {
            let (engine, retention) = load_rules(dir.as_deref())?;
            let _ = retention;
            println!(
                "Règles valides / policies valid: {} règles/policies, schéma/schema {}, retention.json ({})",
                engine.len(),
                crate::service::authz::BUILTIN_SCHEMA.0,
                dir.as_deref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| "intégrées / built-in".into())
            );
            Ok(())
        }
        Command::Retention(RetentionCommand::Run {
            dry_run,
            policies,
            json,
        }) => {
            let (engine, rules) = load_rules(policies.as_deref())?;
            let (ledger, handle) = Ledger::open(&cli.data_dir, &database_url(&cli)?, 2)?;
            let ledger = ledger.with_policies(engine, rules);
            let result = ledger.run_retention(None, *dry_run);
            ledger.shutdown(handle);
            let report = result?;
            if *json {
                print_json(&report)?;
            } else {
                println!(
                    "{} {} / {} {} ({} examinés / examined)",
                    report.erased.len(),
                    if *dry_run { "à effacer" } else { "effacés" },
                    report.erased.len(),
                    if *dry_run { "to erase" } else { "erased" },
                    report.examined
                );
                for e in &report.erased {
                    println!(
                        "  {} {} {} ({} j/d){}",
                        e.record,
                        e.state,
                        e.category,
                        e.days,
                        e.seq.map(|s| format!(" seq {s}")).unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        Command::Dpo(DpoCommand::Report { state, json }) => {
            let state = Jurisdiction::parse(state).map_err(ServiceError::from)?;
            let (ledger, handle) = Ledger::open(&cli.data_dir, &database_url(&cli)?, 2)?;
            let result = ledger.dpo_report(None, state);
            ledger.shutdown(handle);
            let report = result?;
            if *json {
                print_json(&report)?;
            } else {
                print!("{}", report.to_text());
            }
            Ok(())
        }
        Command::User(UserCommand::Password { user, login }) => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| CliError::Other(e.to_string()))?;
            let password = password.trim_end_matches(['\n', '\r']);
            let (ledger, handle) = Ledger::open(&cli.data_dir, &database_url(&cli)?, 2)?;
            let result = ledger.set_password(user, login, password);
            ledger.shutdown(handle);
            result?;
            println!("Mot de passe défini / password set for {login}");
            Ok(())
        }
        Command::User(UserCommand::Add {
            name,
            role,
            agency,
            token_days,
        }) => {
            let role = Role::parse(role).map_err(ServiceError::from)?;
            let (ledger, handle) = Ledger::open(&cli.data_dir, &database_url(&cli)?, 2)?;
            let result = ledger.add_user_with_token_days(name, role, agency, Some(*token_days));
            ledger.shutdown(handle);
            let (user, token) = result?;
            println!(
                "Utilisateur créé / user created: {} ({}, {})",
                user.id, user.role, user.agency_id
            );
            println!("{token}");
            Ok(())
        }
        Command::Token(command) => {
            let (ledger, handle) = Ledger::open(&cli.data_dir, &database_url(&cli)?, 2)?;
            let result = match command {
                TokenCommand::Issue { user, days } => {
                    ledger.issue_token(user, Some(*days)).map(|token| {
                        println!("Jeton délivré / token issued ({days} j/d)");
                        println!("{token}");
                    })
                }
                TokenCommand::Revoke { id } => ledger
                    .revoke_token(id)
                    .map(|()| println!("Jeton révoqué / token revoked: {id}")),
            };
            ledger.shutdown(handle);
            Ok(result?)
        }
        Command::Agency(AgencyCommand::Add { id, name, lab }) => {
            let (ledger, handle) = Ledger::open(&cli.data_dir, &database_url(&cli)?, 2)?;
            let result = ledger.add_agency_of_kind(id, None, name, *lab);
            ledger.shutdown(handle);
            let receipt = result?;
            println!("Service ajouté / agency added (seq {})", receipt.seq);
            Ok(())
        }
        Command::Audit => {
            let verifier = load_signer(&cli.data_dir)?
                .verifier()
                .map_err(|e| CliError::Other(e.to_string()))?;
            let pool = storage::open_pool(&database_url(&cli)?, 4)?;
            let report = audit::audit(&pool, &verifier).map_err(|e| match e {
                AuditError::Service(s) => CliError::from(s),
                other => CliError::Tampered(other),
            })?;
            println!(
                "Audit réussi / audit passed: {} entrées/entries, {} nœuds/nodes, {} points de contrôle/checkpoints, {:.1} MB en/in {:.2} s",
                report.entries,
                report.nodes,
                report.checkpoints,
                report.entry_bytes as f64 / 1e6,
                report.seconds
            );
            Ok(())
        }
        Command::Rebuild => {
            let pool = storage::open_pool(&database_url(&cli)?, 2)?;
            let n = rebuild::rebuild(&pool).map_err(|e| {
                CliError::Other(format!("reconstruction échouée / rebuild failed: {e}"))
            })?;
            println!("Registre reconstruit depuis {n} entrées / registry rebuilt from {n} entries");
            Ok(())
        }
        Command::Hash { files } => {
            for file in files {
                let digest = hash_file(file, std::io::stderr().is_terminal())
                    .map_err(|e| CliError::Other(format!("{}: {e}", file.display())))?;
                println!("{}  {}", hex::encode(digest), file.display());
            }
            Ok(())
        }
        Command::Dossier(DossierCommand::Export {
            case,
            output,
            since_checkpoint,
            without_personal_data,
            format,
        }) => {
            let since = match since_checkpoint {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| CliError::Other(format!("{}: {e}", path.display())))?,
                ),
                None => None,
            };
            let (ledger, handle) = Ledger::open(&cli.data_dir, &database_url(&cli)?, 2)?;
            let result = ledger.case_id_for(case).and_then(|id| {
                ledger.export_dossier(
                    &id,
                    &ExportOptions {
                        personal_data: !without_personal_data,
                        since_checkpoint: since,
                    },
                )
            });
            ledger.shutdown(handle);
            let dossier = result?;
            let json = match format {
                ExportFormat::Json => serde_json::to_vec_pretty(&dossier),
                ExportFormat::CaseUco => serde_json::to_vec_pretty(
                    &crate::case_uco::render(&dossier)
                        .map_err(|e| CliError::Other(e.to_string()))?,
                ),
            }
            .map_err(|e| CliError::Other(e.to_string()))?;
            match output {
                Some(path) => {
                    std::fs::write(path, &json)
                        .map_err(|e| CliError::Other(format!("{}: {e}", path.display())))?;
                    eprintln!(
                        "Dossier écrit / dossier written: {} ({} entrées / entries)",
                        path.display(),
                        dossier.entries.len()
                    );
                }
                None => {
                    use std::io::Write as _;
                    std::io::stdout()
                        .write_all(&json)
                        .map_err(|e| CliError::Other(e.to_string()))?;
                }
            }
            Ok(())
        }
        Command::Dossier(DossierCommand::Report {
            dossier,
            lang,
            output,
            trusted_keys,
            files,
        }) => {
            let report = crate::offline::verify_files(dossier, trusted_keys, files)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            std::fs::write(output, crate::report::render(&report, *lang))
                .map_err(|e| CliError::Other(format!("{}: {e}", output.display())))?;
            eprintln!(
                "Rapport écrit / report written: {} ({})",
                output.display(),
                if report.ok {
                    "vérifié / verified"
                } else {
                    "ÉCHEC / FAILED"
                }
            );
            if report.ok {
                Ok(())
            } else {
                Err(CliError::NotVerified)
            }
        }
        Command::Verify {
            dossier,
            trusted_keys,
            files,
            json,
        } => {
            let report = crate::offline::verify_files(dossier, trusted_keys, files)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            if *json {
                let text = serde_json::to_string_pretty(&crate::offline::json_report(&report))
                    .map_err(|e| CliError::Other(e.to_string()))?;
                println!("{text}");
            } else {
                print!("{}", crate::offline::text_report(&report));
            }
            if report.ok {
                Ok(())
            } else {
                Err(CliError::NotVerified)
            }
        }
        Command::Checkpoint(CheckpointCommand::Verify {
            server,
            trusted_key,
            state,
            token,
        }) => {
            use crate::monitor::Outcome;
            let key = crate::offline::trusted_key(trusted_key)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            match crate::monitor::check(server, token.as_deref(), &key, state) {
                Ok(Outcome::First { size }) => println!(
                    "Premier point de contrôle vérifié et mémorisé (taille {size}) / first checkpoint verified and saved (size {size})"
                ),
                Ok(Outcome::Unchanged { size }) => println!(
                    "Inchangé, même racine signée (taille {size}) / unchanged, same signed root (size {size})"
                ),
                Ok(Outcome::Grew { from, to }) => println!(
                    "Le journal n'a fait que croître : {from} → {to} entrées, preuve de cohérence vérifiée / the log only grew: {from} → {to} entries, consistency proof verified"
                ),
                Err(e) if e.is_misbehaviour() => return Err(CliError::Misbehaviour(e.to_string())),
                Err(e) => return Err(CliError::Other(e.to_string())),
            }
            Ok(())
        }
        Command::Bench(args) => crate::bench::run(args).map_err(CliError::Other),
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Other(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// The Cedar policies and retention rules of a folder, or the built-in ones. Anything wrong
/// stops here with the file and the reason.
fn load_rules(
    dir: Option<&Path>,
) -> Result<(crate::service::authz::PolicyEngine, RetentionRules), CliError> {
    use crate::service::authz::PolicyEngine;
    let loaded = match dir {
        Some(dir) => {
            PolicyEngine::load_dir(dir).and_then(|engine| Ok((engine, RetentionRules::load(dir)?)))
        }
        None => PolicyEngine::builtin().and_then(|engine| Ok((engine, RetentionRules::builtin()?))),
    };
    loaded.map_err(|e| {
        CliError::Other(format!(
            "Règles d'accès invalides ; le nœud ne démarre pas / invalid access policies; the node does not start:\n{e}"
        ))
    })
}

fn serve(
    cli: &Cli,
    listen: &str,
    init: &InitArgs,
    tls: Option<&crate::http::TlsFiles>,
    (policies, retention): (crate::service::authz::PolicyEngine, RetentionRules),
    retention_every_hours: u64,
) -> Result<(), CliError> {
    if !cli.data_dir.join(crate::service::ledger::KEY_FILE).exists() {
        println!(
            "Initialisation de / initializing {}",
            cli.data_dir.display()
        );
        print_init(&Ledger::init(&init_options(cli, init)?)?);
    }
    let database = database_url(cli)?;
    let (ledger, handle) = Ledger::open(&cli.data_dir, &database, 16)?;
    let ledger = ledger.with_policies(policies, retention);
    let listener =
        TcpListener::bind(listen).map_err(|e| CliError::Other(format!("{listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Other(e.to_string()))?;
    let ledger = Arc::new(ledger);
    start_proof_cache_warm_up(Arc::downgrade(&ledger));
    if retention_every_hours > 0 {
        start_retention_task(
            Arc::downgrade(&ledger),
            std::time::Duration::from_secs(retention_every_hours * 3600),
        );
    }
    let result = actix_web::rt::System::new().block_on(async {
        let server = crate::http::build_server_with_tls(ledger.clone(), listener, tls)?;
        println!(
            "Scellé écoute sur / listening on {}://{addr} ({database}, origin {})",
            if tls.is_some() { "https" } else { "http" },
            ledger.origin()
        );
        server.await
    });
    if let Ok(ledger) = Arc::try_unwrap(ledger) {
        ledger.shutdown(handle);
    }
    result.map_err(|e| CliError::Other(e.to_string()))
}

/// Runs retention now and then every `every`, while the node runs (the thread holds no strong
/// reference, so shutdown is not delayed by it).
/// Reads the tree's upper levels for proofs while the server already answers.
fn start_proof_cache_warm_up(ledger: std::sync::Weak<Ledger>) {
    let spawned = std::thread::Builder::new()
        .name("proof-cache".into())
        .spawn(move || {
            let Some(node) = ledger.upgrade() else { return };
            let started = std::time::Instant::now();
            match node.warm_proof_cache() {
                Ok(held) => tracing::info!(
                    hashes = held,
                    seconds = started.elapsed().as_secs_f64(),
                    "proof cache ready"
                ),
                Err(e) => tracing::error!(error = %e, "proof cache warm-up failed"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the proof cache warm-up");
    }
}

fn start_retention_task(ledger: std::sync::Weak<Ledger>, every: std::time::Duration) {
    let spawned = std::thread::Builder::new()
        .name("retention".into())
        .spawn(move || {
            loop {
                let Some(node) = ledger.upgrade() else { return };
                match node.run_retention(None, false) {
                    Ok(report) if !report.erased.is_empty() => tracing::info!(
                        erased = report.erased.len(),
                        examined = report.examined,
                        "retention run erased expired records"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "retention run failed"),
                }
                drop(node);
                let mut slept = std::time::Duration::ZERO;
                while slept < every {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    slept += std::time::Duration::from_secs(1);
                    if ledger.strong_count() == 0 {
                        return;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the retention task");
    }
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
    let digest = crate::filehash::sha256_file(path, |n| {
        if let Some(bar) = &bar {
            bar.inc(n);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(digest)
}
