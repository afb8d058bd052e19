//! Command-line texts from the catalogue: the help of every command and argument, the headings
//! clap prints, and clap's own parse errors, in French and English.
//!
//! clap's derive takes help texts from doc comments and prints its errors in English; both
//! binaries (`scelle`, `scelle-verify`) instead build their `clap::Command`, then [`localize`]
//! sets each text from the key `cli-<command path>` (a command's about) or
//! `cli-<command path>--<argument id>` (an argument's help), and [`parse_error`] turns clap's
//! error into a catalogue message. A test walks each binary's command tree and requires a key for
//! every command and argument, so a new flag cannot ship without its two texts.

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::i18n::Message;
use crate::t;

/// The key of a command's description: `cli-scelle-dossier-export`.
pub fn about_key(path: &str) -> String {
    format!("cli-{path}")
}

/// The key of an argument's help: `cli-scelle-dossier-export--case`.
pub fn help_key(path: &str, arg: &str) -> String {
    format!("cli-{path}--{arg}")
}

/// A catalogue text looked up by a key built at run time (command paths); the tests check that
/// every such key exists.
fn dynamic(key: &str) -> String {
    let fr = crate::i18n::text_by_key(crate::i18n::Lang::Fr, key);
    let en = crate::i18n::text_by_key(crate::i18n::Lang::En, key);
    match (fr, en) {
        (Some(fr), Some(en)) if fr == en => fr,
        (Some(fr), Some(en)) => format!("{fr} / {en}"),
        _ => key.to_owned(),
    }
}

/// Sets every command's and argument's text, and the headings, from the catalogue.
pub fn localize(cmd: clap::Command) -> clap::Command {
    let path = cmd.get_name().to_owned();
    localize_at(cmd, &path)
}

fn localize_at(mut cmd: clap::Command, path: &str) -> clap::Command {
    let usage = format!("{}:", dynamic("cli-usage-heading"));
    cmd = cmd
        .about(dynamic(&about_key(path)))
        .help_template(format!(
            "{{before-help}}{{about-with-newline}}\n{usage} {{usage}}\n\n{{all-args}}{{after-help}}"
        ))
        .subcommand_help_heading(dynamic("cli-commands-heading"))
        .next_help_heading(dynamic("cli-options-heading"))
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .arg(
            clap::Arg::new("help")
                .short('h')
                .long("help")
                .action(clap::ArgAction::Help)
                .help(t!("cli-help").one_line()),
        );
    if cmd.get_version().is_some() {
        cmd = cmd.disable_version_flag(true).arg(
            clap::Arg::new("version")
                .short('V')
                .long("version")
                .action(clap::ArgAction::Version)
                .help(t!("cli-version").one_line()),
        );
    }
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .filter(|id| id != "help" && id != "version")
        .collect();
    for id in ids {
        let text = dynamic(&help_key(path, &id));
        cmd = cmd.mut_arg(id, |a| a.help(text));
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        let sub_path = format!("{path}-{name}");
        cmd = cmd.mut_subcommand(name, |s| localize_at(s, &sub_path));
    }
    cmd
}

/// Every key a command tree needs (for the tests): its commands' and arguments' texts.
pub fn keys_of(cmd: &clap::Command) -> Vec<String> {
    let mut out = Vec::new();
    collect_keys(cmd, cmd.get_name(), &mut out);
    out
}

fn collect_keys(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
    out.push(about_key(path));
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if id != "help" && id != "version" {
            out.push(help_key(path, id));
        }
    }
    for sub in cmd.get_subcommands() {
        collect_keys(sub, &format!("{path}-{}", sub.get_name()), out);
    }
}

fn context(err: &clap::Error, kind: ContextKind) -> String {
    match err.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(list)) => list.join(", "),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::StyledStrs(list)) => list
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        Some(ContextValue::Number(n)) => n.to_string(),
        Some(ContextValue::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// What clap's parse error means, from the catalogue; `None` for help and version, which are
/// not errors and print as clap renders them.
pub fn parse_error(err: &clap::Error) -> Option<Message> {
    let arg = context(err, ContextKind::InvalidArg);
    let value = context(err, ContextKind::InvalidValue);
    let message = match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => return None,
        ErrorKind::UnknownArgument => t!("cli-error-unknown-argument", arg = arg),
        ErrorKind::InvalidSubcommand => {
            t!(
                "cli-error-unknown-command",
                command = context(err, ContextKind::InvalidSubcommand)
            )
        }
        ErrorKind::InvalidValue => t!(
            "cli-error-invalid-value",
            arg = arg,
            value = value,
            valid = context(err, ContextKind::ValidValue)
        ),
        ErrorKind::ValueValidation => {
            t!("cli-error-invalid-value-reason", arg = arg, value = value)
        }
        ErrorKind::MissingRequiredArgument => t!("cli-error-missing-argument", arg = arg),
        ErrorKind::MissingSubcommand => t!("cli-error-missing-command"),
        ErrorKind::ArgumentConflict => t!(
            "cli-error-conflict",
            arg = arg,
            other = context(err, ContextKind::PriorArg)
        ),
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            t!("cli-error-value-count", arg = arg)
        }
        ErrorKind::NoEquals => t!("cli-error-no-equals", arg = arg),
        ErrorKind::InvalidUtf8 => t!("cli-error-not-utf8"),
        _ => t!("cli-error-other", detail = err.kind()),
    };
    Some(message)
}

/// The text printed for a parse error: the message, then the command's usage line.
pub fn parse_error_text(err: &clap::Error, cmd: &mut clap::Command) -> Option<String> {
    let message = parse_error(err)?;
    let usage = cmd.render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim();
    Some(format!(
        "{}\n{}: {usage}\n",
        message.two_lines(),
        dynamic("cli-usage-heading")
    ))
}

/// Parses the process's arguments into `T` with every text from the catalogue. Help and version
/// print and exit 0; a parse error prints the catalogue's words for it and the usage, and exits 2.
pub fn parse<T: clap::Parser>() -> T {
    let mut cmd = localize(T::command());
    let matches = match cmd.try_get_matches_from_mut(std::env::args_os()) {
        Ok(m) => m,
        Err(e) => match parse_error_text(&e, &mut cmd) {
            Some(text) => {
                eprint!("{text}");
                std::process::exit(2);
            }
            None => e.exit(),
        },
    };
    match T::from_arg_matches(&matches) {
        Ok(parsed) => parsed,
        Err(e) => e.exit(),
    }
}
