//! `scelle dossier export|report` and `scelle verify`: a case's dossier out of the node, and
//! checked offline by the verifier crate (the same code as `scelle-verify`).

use clap::Subcommand;
use std::path::PathBuf;

use scelle_verifier::i18n::Lang;
use scelle_verifier::{case_uco, court_report, offline, t};

use crate::usecases::cases;
use crate::usecases::dossiers::{self, ExportOptions};

use super::common::{CliError, NodePlace, print_json};

/// The format of an exported dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    // The verifiable dossier (docs/FORMAT.md).
    Json,
    // CASE 1.4 / UCO JSON-LD, for forensic tools.
    CaseUco,
}

/// `scelle dossier …`.
#[derive(Subcommand, Debug)]
pub enum DossierCommand {
    Export {
        #[arg(long)]
        case: String,
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        #[arg(long)]
        since_checkpoint: Option<PathBuf>,
        #[arg(long)]
        without_personal_data: bool,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
    },
    Report {
        dossier: PathBuf,
        #[arg(long, value_enum, default_value = "fr")]
        lang: Lang,
        #[arg(long, short = 'o')]
        output: PathBuf,
        #[arg(long = "trusted-key")]
        trusted_keys: Vec<String>,
        #[arg(long = "file")]
        files: Vec<PathBuf>,
    },
}

/// `scelle verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    dossier: PathBuf,
    #[arg(long = "trusted-key")]
    trusted_keys: Vec<String>,
    #[arg(long = "file")]
    files: Vec<PathBuf>,
    #[arg(long)]
    known_checkpoint: Option<PathBuf>,
    #[arg(long)]
    policy: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// `scelle dossier export` and `scelle dossier report`.
pub fn dossier(place: &NodePlace, command: &DossierCommand) -> Result<(), CliError> {
    match command {
        DossierCommand::Export {
            case,
            output,
            since_checkpoint,
            without_personal_data,
            format,
        } => {
            let since = match since_checkpoint {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| CliError::Other(format!("{}: {e}", path.display())))?,
                ),
                None => None,
            };
            // A node whose peers must cosign what it publishes proves its dossiers to a
            // cosigned checkpoint (its server, which gathers the cosignatures, must be running).
            let cosigned = crate::network::peers::load_peers(&place.data_dir)?
                .is_some_and(|p| p.policy.requires_cosignatures());
            let opts = ExportOptions {
                personal_data: !without_personal_data,
                since_checkpoint: since,
                cosigned_within: cosigned.then_some(std::time::Duration::from_secs(10)),
                to_peer: None,
            };
            let dossier = place.with_node(|node| {
                let id = cases::id_for(node, case)?;
                dossiers::export(node, &id, &opts)
            })?;
            let json = match format {
                ExportFormat::Json => serde_json::to_vec_pretty(&dossier),
                ExportFormat::CaseUco => serde_json::to_vec_pretty(
                    &case_uco::render(&dossier).map_err(|e| CliError::Other(e.to_string()))?,
                ),
            }
            .map_err(|e| CliError::Other(e.to_string()))?;
            write_output(output.as_ref(), &json)?;
            if let Some(path) = output {
                eprintln!(
                    "{}",
                    t!("cli-out-dossier-written", path = path.display())
                        .count("entries", dossier.entries.len() as u64)
                        .one_line()
                );
            }
            Ok(())
        }
        DossierCommand::Report {
            dossier,
            lang,
            output,
            trusted_keys,
            files,
        } => {
            let report = offline::verify_files(dossier, trusted_keys, files, None, None)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            std::fs::write(output, court_report::render(&report, *lang))
                .map_err(|e| CliError::Other(format!("{}: {e}", output.display())))?;
            eprintln!("{}", offline::report_written(output, report.ok).one_line());
            if report.ok {
                Ok(())
            } else {
                Err(CliError::NotVerified)
            }
        }
    }
}

fn write_output(output: Option<&PathBuf>, bytes: &[u8]) -> Result<(), CliError> {
    match output {
        Some(path) => std::fs::write(path, bytes)
            .map_err(|e| CliError::Other(format!("{}: {e}", path.display()))),
        None => {
            use std::io::Write as _;
            std::io::stdout()
                .write_all(bytes)
                .map_err(|e| CliError::Other(e.to_string()))
        }
    }
}

/// `scelle verify`: exit 0 only if everything holds, 3 if the dossier does not verify.
pub fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let report = offline::verify_files(
        &args.dossier,
        &args.trusted_keys,
        &args.files,
        args.known_checkpoint.as_deref(),
        args.policy.as_deref(),
    )
    .map_err(|e| CliError::Usage(e.to_string()))?;
    if args.json {
        print_json(&offline::json_report(&report))?;
    } else {
        print!("{}", offline::text_report(&report));
    }
    if report.ok {
        Ok(())
    } else {
        Err(CliError::NotVerified)
    }
}
