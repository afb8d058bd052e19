//! `scelle bench`: the performance figures the README quotes, measured in one run on real
//! storage (a fresh SQLite folder, or `--database-url` for PostgreSQL).
//!
//! Each figure is printed next to its ceiling on the same machine and bytes: sequencer appends
//! vs. the same rows inserted raw with the same durability; audit vs. raw SHA-256 of the same
//! entry bytes; `scelle hash` vs. in-memory SHA-256; custody events over HTTP vs. the same
//! appends in-process.

mod appends;
mod args;
mod authz;
mod files;
mod http;
mod machine;
mod network;
mod proofs;
mod setup;
mod soak;

pub use args::{BenchArgs, Phase};

use crate::storage::DatabaseUrl;
use appends::appends;
use authz::authorization;
use files::{dossier_figures, hashing};
use http::http;
use proofs::proofs_and_audit;
use setup::{drop_phase_schema, err, phase_db};
use soak::soak;

/// Runs the phases `args` asks for and prints their figures, on PostgreSQL when given its
/// `database_url` (`--database-url` or `SCELLE_DATABASE_URL`), else on SQLite files of its own.
pub fn run(args: &BenchArgs, database_url: Option<&str>) -> Result<(), String> {
    let work = match &args.work_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("scelle-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work).map_err(err)?;
    let db_url = match database_url {
        Some(url) => DatabaseUrl::parse(url).map_err(err)?,
        None => DatabaseUrl::sqlite_in(&work.join("node")),
    };
    println!(
        "scelle bench — backend {}, work folder {}",
        db_url.backend_name(),
        work.display()
    );
    let wanted = |phase| args.phases.contains(&phase);
    let result = (|| {
        if wanted(Phase::Appends) {
            appends(
                args,
                &work,
                &db_url,
                &phase_db(&db_url, &work.join("node"), "appends")?,
            )?;
        }
        if wanted(Phase::Authz) {
            authorization(
                args,
                &work,
                &phase_db(&db_url, &work.join("authz"), "authz")?,
            )?;
        }
        if wanted(Phase::Proofs) {
            proofs_and_audit(args, &work, &phase_db(&db_url, &work.join("big"), "big")?)?;
        }
        if wanted(Phase::Hash) {
            hashing(args, &work)?;
        }
        if wanted(Phase::Dossier) {
            dossier_figures(
                args,
                &work,
                &phase_db(&db_url, &work.join("dossier"), "dossier")?,
            )?;
        }
        if wanted(Phase::Http) {
            // A node of its own (folder, key and database), beside the other phases' nodes.
            let http_work = work.join("http");
            http(
                args,
                &http_work,
                &phase_db(&db_url, &http_work.join("node"), "http")?,
            )?;
        }
        if wanted(Phase::Network) {
            network::network(args, &work.join("network"))?;
        }
        if wanted(Phase::Soak) {
            let soak_work = work.join("soak");
            soak(
                args,
                &soak_work,
                &phase_db(&db_url, &soak_work.join("node"), "soak")?,
            )?;
        }
        Ok(())
    })();
    for phase in [
        "appends", "all_rows", "authz", "big", "dossier", "http", "soak",
    ] {
        drop_phase_schema(&db_url, phase);
    }
    if args.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}
