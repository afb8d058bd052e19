//! `scelle-verify`: checks a Scellé dossier offline — no network, no database, no trust in the
//! node that made it — and says in French and English what holds. The same checks as
//! `scelle verify`, in a binary that builds from this crate alone.
//!
//! Exit codes: 0 verified, 2 unreadable input or bad usage, 3 the dossier does not verify.

use std::path::PathBuf;

use scelle_verifier::i18n::Lang;
use scelle_verifier::{cli_text, court_report, offline};

#[derive(clap::Parser, Debug)]
#[command(name = "scelle-verify", version)]
struct Args {
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
    #[arg(long)]
    report: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "fr")]
    lang: Lang,
}

fn main() {
    let args: Args = cli_text::parse();
    std::process::exit(run(&args));
}

fn run(args: &Args) -> i32 {
    let report = match offline::verify_files(
        &args.dossier,
        &args.trusted_keys,
        &args.files,
        args.known_checkpoint.as_deref(),
        args.policy.as_deref(),
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    if let Some(path) = &args.report {
        if let Err(e) = std::fs::write(path, court_report::render(&report, args.lang)) {
            let error = offline::OfflineError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            };
            eprintln!("{error}");
            return 2;
        }
        eprintln!("{}", offline::report_written(path, report.ok).one_line());
    }
    if args.json {
        match serde_json::to_string_pretty(&offline::json_report(&report)) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("{e}");
                return 2;
            }
        }
    } else {
        print!("{}", offline::text_report(&report));
    }
    if report.ok { 0 } else { 3 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn every_command_and_argument_has_its_text_in_both_languages() {
        for key in cli_text::keys_of(&Args::command()) {
            for lang in Lang::ALL {
                assert!(
                    scelle_verifier::i18n::text_by_key(lang, &key).is_some(),
                    "{key} has no {lang:?} text"
                );
            }
        }
    }

    #[test]
    fn help_and_parse_errors_come_from_the_catalogue() {
        let help = cli_text::localize(Args::command())
            .render_help()
            .to_string();
        assert!(
            help.contains("Fichier dossier (JSON) / Dossier file (JSON)"),
            "{help}"
        );
        assert!(help.contains("Utilisation / Usage:"), "{help}");
        let mut cmd = cli_text::localize(Args::command());
        let err = cmd
            .try_get_matches_from_mut(["scelle-verify", "d.json", "--no-such-flag"])
            .unwrap_err();
        let text = cli_text::parse_error_text(&err, &mut cmd).unwrap();
        assert!(
            text.contains("Argument inconnu : --no-such-flag")
                && text.contains("Unknown argument: --no-such-flag"),
            "{text}"
        );
    }
}
