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

use crate::dossier::{self, Completeness, Dossier, FileDigest, Report, shown};
use crate::i18n::{Bilingual, Message};
use crate::note::NoteVerifier;
use crate::t;

/// Why the inputs of a verification could not be read (the verdict itself is a [`Report`]).
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message().two_lines())]
pub enum OfflineError {
    /// A file could not be read.
    Read {
        /// The file's path.
        path: String,
        /// Why it could not be read; empty when it was not hashed.
        reason: String,
    },
    /// The file is not a dossier.
    NotADossier {
        /// The file's path.
        path: String,
        /// Why it does not parse as a dossier.
        reason: String,
    },
    /// A trusted key given is not a verifier key.
    BadTrustedKey {
        /// The key string, as given or as read from its file.
        key: String,
        /// Why it was refused.
        reason: String,
    },
    /// The policy file given (`--policy`) is not a C2SP tlog-policy.
    BadPolicy {
        /// The file's path.
        path: String,
        /// What is wrong with it.
        error: crate::policy::PolicyError,
    },
}

impl OfflineError {
    /// What a person reads.
    pub fn message(&self) -> Message {
        match self {
            OfflineError::Read { path, reason } if reason.is_empty() => {
                t!("offline-not-hashed", path = path)
            }
            OfflineError::Read { path, reason } => {
                t!("offline-read-failed", path = path, reason = reason)
            }
            OfflineError::NotADossier { path, reason } => {
                t!("offline-not-a-dossier", path = path, reason = reason)
            }
            OfflineError::BadTrustedKey { key, reason } => {
                t!("offline-bad-trusted-key", key = key, reason = reason)
            }
            OfflineError::BadPolicy { path, error } => {
                t!("offline-bad-policy", path = path).nested("reason", error.message())
            }
        }
    }
}

/// Reads and parses a dossier file.
pub fn read_dossier(path: &Path) -> Result<Dossier, OfflineError> {
    let bytes = std::fs::read(path).map_err(|e| OfflineError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let not_a_dossier = |reason: String| OfflineError::NotADossier {
        path: path.display().to_string(),
        reason,
    };
    crate::strict_json::check(&bytes).map_err(not_a_dossier)?;
    serde_json::from_slice(&bytes).map_err(|e| not_a_dossier(e.to_string()))
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
                    reason: String::new(),
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

/// Verifies a dossier file with trusted keys and evidence files, and against the signed
/// checkpoint the recipient already holds (a file), if given: the report.
pub fn verify_files(
    dossier_path: &Path,
    trusted: &[String],
    files: &[PathBuf],
    known_checkpoint: Option<&Path>,
    policy: Option<&Path>,
) -> Result<Report, OfflineError> {
    let policy = policy
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| OfflineError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            crate::policy::Policy::parse(&text).map_err(|error| OfflineError::BadPolicy {
                path: path.display().to_string(),
                error,
            })
        })
        .transpose()?;
    let dossier = read_dossier(dossier_path)?;
    let keys = trusted
        .iter()
        .map(|k| trusted_key(k))
        .collect::<Result<Vec<_>, _>>()?;
    let known = known_checkpoint
        .map(|path| {
            std::fs::read_to_string(path).map_err(|e| OfflineError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        })
        .transpose()?;
    let digests = hash_files(files, std::io::stderr().is_terminal())?;
    Ok(dossier::verify_with_policy(
        &dossier,
        &keys,
        &digests,
        known.as_deref(),
        policy.as_ref(),
    ))
}

/// The line that says as of when the dossier speaks, and the one that says what its links
/// prove left out: what a reader must see first.
pub fn as_of_lines(report: &Report) -> Vec<Message> {
    let as_of = match &report.as_of {
        Some(as_of) => t!(
            "verify-as-of",
            time = shown(&as_of.time),
            seq = as_of.seq,
            size = as_of.tree_size
        ),
        None => t!("verify-as-of-unknown", size = report.tree_size),
    };
    let cosigned = (!report.cosigned_by.is_empty()).then(|| {
        let names: Vec<String> = report
            .cosigned_by
            .iter()
            .map(|c| format!("{} ({})", shown(&c.witness), unix_time(c.time)))
            .collect();
        t!("verify-cosigned-by", witnesses = names.join(", "))
    });
    let completeness = match report.completeness {
        Completeness::Whole => t!("verify-complete"),
        Completeness::From { seq } => t!("verify-complete-from", seq = seq),
        Completeness::Nothing => t!("verify-complete-unproven"),
    };
    let mut lines = vec![as_of];
    lines.extend(cosigned);
    lines.push(completeness);
    // Where earlier dossiers of the case went, as its own record says.
    lines.extend(report.sent_to.iter().map(|sent| {
        t!(
            "verify-sent-to",
            peer = shown(&sent.peer),
            seq = sent.seq,
            transfer = shown(&sent.transfer),
            received = sent
                .received_seq
                .map_or_else(|| "—".to_owned(), |s| s.to_string())
        )
    }));
    lines
}

/// A Unix time as RFC 3339 (UTC), or the number if it is out of range.
fn unix_time(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| seconds.to_string())
}

/// The JSON report: the verifier's findings with their texts in both languages.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    /// The verdict and everything established.
    #[serde(flatten)]
    pub report: &'a Report,
    /// Each finding in French and English, in the order of `findings`.
    pub messages: Vec<Bilingual>,
}

/// The JSON form of a verdict.
pub fn json_report(report: &Report) -> JsonReport<'_> {
    JsonReport {
        report,
        messages: report.findings.iter().map(|f| f.message().both()).collect(),
    }
}

/// The verdict as text, each line in French then in English.
pub fn text_report(report: &Report) -> String {
    let mut out = String::new();
    let mut line = |m: Message| {
        out.push_str(&m.one_line());
        out.push('\n');
    };
    line(t!(
        "verify-header",
        reference = shown(&report.case_reference),
        case = shown(&report.case_id),
        origin = shown(&report.origin)
    ));
    if !report.key_id.is_empty() {
        for message in as_of_lines(report) {
            line(message);
        }
    }
    if !report.key_id.is_empty() {
        line(t!(
            "verify-checkpoint",
            size = report.tree_size,
            root = &report.root,
            key = &report.key_id
        ));
    }
    line(t!(
        "verify-entries",
        entries = report.entries,
        openings = report.openings_checked
    ));
    if let Some(size) = report.consistent_with_earlier {
        line(t!("verify-extends-earlier", size = size));
    }
    for item in &report.items {
        let custody = if item.custody_unbroken {
            t!("verify-custody-unbroken")
        } else {
            t!("verify-custody-broken")
        };
        line(
            t!(
                "verify-item",
                item = shown(&item.id),
                exhibit = shown(&item.exhibit_number),
                seal = shown(&item.seal_number),
                sha256 = shown(&item.sha256),
                holder = shown(&item.holder),
                status = shown(&item.status)
            )
            .nested("custody", custody)
            .count("events", item.events.len() as u64),
        );
        if item.integrity_mismatch_recorded {
            line(t!("verify-integrity-mismatch"));
        }
        for file in &item.matching_files {
            line(t!("verify-file-matches", file = shown(file)));
        }
    }
    if report.ok {
        line(t!("verify-verdict-ok"));
    } else {
        line(t!("verify-verdict-failed").count("findings", report.findings.len() as u64));
        for f in &report.findings {
            let text = f.message();
            out.push_str(&format!("  × {}\n    {}\n", text.fr(), text.en()));
        }
    }
    out
}

/// "Report written: <path> (verified | FAILED)".
pub fn report_written(path: &Path, verified: bool) -> Message {
    let outcome = if verified {
        t!("verify-outcome-verified")
    } else {
        t!("verify-outcome-failed")
    };
    t!("verify-report-written", path = path.display()).nested("outcome", outcome)
}
