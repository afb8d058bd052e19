//! `scelle policy`, `retention` and `dpo`: the access rules, the retention run, and the records
//! of processing.

use clap::Subcommand;
use std::path::{Path, PathBuf};

use scelle_verifier::t;

use crate::policy::cedar::{BUILTIN_SCHEMA, PolicyEngine};
use crate::policy::retention::RetentionRules;
use crate::usecases::dpo;

use super::common::{CliError, NodePlace, print_json};

/// `scelle policy …`.
#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    Check {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// `scelle retention …`.
#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    Run {
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        policies: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// `scelle dpo …`.
#[derive(Subcommand, Debug)]
pub enum DpoCommand {
    Report {
        #[arg(long)]
        state: String,
        #[arg(long)]
        json: bool,
    },
}

/// The Cedar policies and retention rules of a folder, or the built-in ones. Anything wrong
/// stops here with the file and the reason.
pub fn load_rules(dir: Option<&Path>) -> Result<(PolicyEngine, RetentionRules), CliError> {
    let loaded = match dir {
        Some(dir) => {
            PolicyEngine::load_dir(dir).and_then(|engine| Ok((engine, RetentionRules::load(dir)?)))
        }
        None => PolicyEngine::builtin().and_then(|engine| Ok((engine, RetentionRules::builtin()?))),
    };
    loaded.map_err(|e| CliError::Said(t!("cli-policies-invalid", detail = e)))
}

/// `scelle policy check`.
pub fn policy(command: &PolicyCommand) -> Result<(), CliError> {
    let PolicyCommand::Check { dir } = command;
    let (engine, _retention) = load_rules(dir.as_deref())?;
    let source = match dir {
        Some(d) => t!("cli-out-folder", dir = d.display()),
        None => t!("cli-out-built-in"),
    };
    println!(
        "{}",
        t!("cli-out-policies-valid", schema = BUILTIN_SCHEMA.0)
            .count("count", engine.len() as u64)
            .nested("source", source)
            .one_line()
    );
    Ok(())
}

/// `scelle retention run`.
pub fn retention(place: &NodePlace, command: &RetentionCommand) -> Result<(), CliError> {
    let RetentionCommand::Run {
        dry_run,
        policies,
        json,
    } = command;
    let (engine, rules) = load_rules(policies.as_deref())?;
    let (node, handle) = crate::node::Node::open_existing(&place.data_dir, &place.database()?, 2)?;
    let node = node.with_policies(engine, rules);
    let result = retention_to_the_end(&node, *dry_run);
    node.shutdown(handle);
    let report = result?;
    for f in &report.failed {
        eprintln!("{}: {}", f.record, f.error.two_lines());
    }
    if *json {
        return print_json(&report);
    }
    let done = if *dry_run {
        t!("cli-out-retention-would-erase")
    } else {
        t!("cli-out-retention-erased")
    };
    println!(
        "{}",
        done.count("count", report.erased.len() as u64)
            .count("examined", report.examined as u64)
            .one_line()
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
    Ok(())
}

/// Runs retention batch after batch (each at most `dpo::RETENTION_MAX` records) until the
/// vault is walked to its end, as one report.
fn retention_to_the_end(
    node: &crate::node::Node,
    dry_run: bool,
) -> Result<dpo::RetentionReport, crate::error::ServiceError> {
    let mut report = dpo::run_retention(node, None, dry_run, None, None)?;
    while let Some(after) = report.next.take() {
        let more = dpo::run_retention(node, None, dry_run, Some(&after), None)?;
        report.examined += more.examined;
        report.erased.extend(more.erased);
        report.failed.extend(more.failed);
        report.disk = more.disk.or(report.disk);
        report.next = more.next;
    }
    Ok(report)
}

/// `scelle dpo report`.
pub fn dpo(place: &NodePlace, command: &DpoCommand) -> Result<(), CliError> {
    let DpoCommand::Report { state, json } = command;
    // The operator's copy is whole: every transfer, page after page.
    let report = place.with_node(|node| {
        let mut report = dpo::report(node, None, Some(state))?;
        while let Some(after) = report.transfers_next.take() {
            let page = dpo::transfers(node, None, Some(state), Some(after))?;
            report.transfers.extend(page.items);
            report.transfers_next = page.next;
        }
        Ok(report)
    })?;
    if *json {
        print_json(&report)
    } else {
        print!("{}", report.to_text());
        Ok(())
    }
}
