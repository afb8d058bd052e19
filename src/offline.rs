//! Offline verification for prosecutors and defence experts: `scelle verify` reads a dossier and
//! evidence files, with no network and no database, and says in French and English what holds.
//!
//! The checks themselves are `core::dossier::verify`; this module reads the inputs, hashes the
//! files (several at once, one per core, with progress bars on a terminal) and prints the verdict
//! as text or JSON.

use serde::Serialize;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::core::dossier::{self, Dossier, FileDigest, Report};
use crate::core::note::NoteVerifier;
use crate::errors::finding_text;

#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error("{path}: lecture impossible / cannot read: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: ce n'est pas un dossier Scellé / not a Scellé dossier: {reason}")]
    NotADossier { path: String, reason: String },
    #[error("clé de confiance invalide / invalid trusted key « {key} »: {reason}")]
    BadTrustedKey { key: String, reason: String },
}

/// Reads and parses a dossier file.
pub fn read_dossier(path: &Path) -> Result<Dossier, OfflineError> {
    let bytes = std::fs::read(path).map_err(|e| OfflineError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| OfflineError::NotADossier {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// A trusted key given as a verifier-key string, or as the path of a file holding one.
pub fn trusted_key(arg: &str) -> Result<NoteVerifier, OfflineError> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).map_err(|e| OfflineError::Read {
            path: arg.to_owned(),
            reason: e.to_string(),
        })?
    } else {
        arg.to_owned()
    };
    let key = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    NoteVerifier::from_verifier_key(key).map_err(|e| OfflineError::BadTrustedKey {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

/// Hashes the files, as many at a time as there are cores; in the order given.
pub fn hash_files(files: &[PathBuf], progress: bool) -> Result<Vec<FileDigest>, OfflineError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len().max(1));
    let bars = progress.then(indicatif::MultiProgress::new);
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<FileDigest, OfflineError>>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = {
                        let Ok(mut n) = next.lock() else { return };
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(path) = files.get(index) else { return };
                    let result = hash_one(path, bars.as_ref());
                    if let Ok(mut all) = results.lock() {
                        all[index] = Some(result);
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    results
        .into_iter()
        .zip(files)
        .map(|(r, path)| {
            r.unwrap_or_else(|| {
                Err(OfflineError::Read {
                    path: path.display().to_string(),
                    reason: "not hashed".into(),
                })
            })
        })
        .collect()
}

fn hash_one(
    path: &Path,
    bars: Option<&indicatif::MultiProgress>,
) -> Result<FileDigest, OfflineError> {
    let read_error = |e: std::io::Error| OfflineError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let bar = match bars {
        Some(bars) => {
            let len = std::fs::metadata(path).map_err(read_error)?.len();
            let bar = bars.add(indicatif::ProgressBar::new(len));
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
            ) {
                bar.set_style(style);
            }
            bar.set_message(path.display().to_string());
            Some(bar)
        }
        None => None,
    };
    let digest = crate::filehash::sha256_file(path, |n| {
        if let Some(bar) = &bar {
            bar.inc(n);
        }
    })
    .map_err(read_error)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(FileDigest {
        name: path.display().to_string(),
        sha256: digest,
    })
}

/// Verifies a dossier file with trusted keys and evidence files: the report.
pub fn verify_files(
    dossier_path: &Path,
    trusted: &[String],
    files: &[PathBuf],
) -> Result<Report, OfflineError> {
    let dossier = read_dossier(dossier_path)?;
    let keys = trusted
        .iter()
        .map(|k| trusted_key(k))
        .collect::<Result<Vec<_>, _>>()?;
    let digests = hash_files(files, std::io::stderr().is_terminal())?;
    Ok(dossier::verify(&dossier, &keys, &digests))
}

/// The JSON report: the verifier's findings with their texts in both languages.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    #[serde(flatten)]
    pub report: &'a Report,
    pub messages: Vec<Message>,
}

#[derive(Serialize)]
pub struct Message {
    pub fr: String,
    pub en: String,
}

pub fn json_report(report: &Report) -> JsonReport<'_> {
    JsonReport {
        report,
        messages: report
            .findings
            .iter()
            .map(|f| {
                let (fr, en) = finding_text(f);
                Message { fr, en }
            })
            .collect(),
    }
}

/// The verdict as text, French then English on each line.
pub fn text_report(report: &Report) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "Dossier {} ({}) — journal / log {}",
        report.case_reference, report.case_id, report.origin
    ));
    if !report.key_id.is_empty() {
        line(format!(
            "Point de contrôle / checkpoint: taille / size {}, racine / root {}, clé / key {}",
            report.tree_size, report.root, report.key_id
        ));
    }
    line(format!(
        "Entrées / entries: {}; données ouvertes vérifiées / openings checked: {}",
        report.entries, report.openings_checked
    ));
    if let Some(size) = report.consistent_with_earlier {
        line(format!(
            "Le journal prolonge le point de contrôle antérieur (taille {size}) / the log extends the earlier checkpoint (size {size})"
        ));
    }
    for item in &report.items {
        let custody = if item.custody_unbroken {
            "chaîne de possession intacte / custody unbroken"
        } else {
            "CHAÎNE DE POSSESSION ROMPUE / CUSTODY BROKEN"
        };
        line(format!(
            "- Scellé / item {} (pièce / exhibit {}, scellé / seal {}), SHA-256 {}: {custody}; {} événement(s) / event(s); détenteur / holder {} ({})",
            item.id,
            item.exhibit_number,
            item.seal_number,
            item.sha256,
            item.events.len(),
            item.holder,
            item.status
        ));
        if item.integrity_mismatch_recorded {
            line("  ! un contrôle d'intégrité a constaté une empreinte différente / an integrity check recorded a different hash".into());
        }
        for file in &item.matching_files {
            line(format!("  fichier conforme / file matches: {file}"));
        }
    }
    if report.ok {
        line("VERDICT : VÉRIFIÉ — tout concorde / VERIFIED — everything holds".into());
    } else {
        line(format!(
            "VERDICT : ÉCHEC — {} constat(s) / FAILED — {} finding(s)",
            report.findings.len(),
            report.findings.len()
        ));
        for f in &report.findings {
            let (fr, en) = finding_text(f);
            line(format!("  × {fr}\n    {en}"));
        }
    }
    out
}
