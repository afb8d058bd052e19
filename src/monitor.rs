//! `scelle checkpoint verify`: an outsider's watch on a node (DESIGN §1, split views and
//! rollbacks). It keeps the newest checkpoint it has verified in a local file, fetches the node's
//! current one, checks the signature with a key it trusts, and proves with a consistency proof
//! that the log only grew since. A node that rewrote, forked or rolled back its log is caught.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

use scelle_verifier::i18n::Message;
use scelle_verifier::merkle::{self, Hash};
use scelle_verifier::note::{Checkpoint, NoteVerifier};
use scelle_verifier::t;

/// Why a watch failed: a failure to check, or evidence that the node misbehaved.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message().one_line())]
pub enum MonitorError {
    /// The server could not be reached, or answered nonsense.
    Http(String),
    /// The saved checkpoint could not be read or written.
    State { path: String, reason: String },
    /// The checkpoint is not signed by the trusted key.
    BadSignature(String),
    /// The log shrank.
    Rollback { old: u64, new: u64 },
    /// Two different roots were signed for one size.
    SplitView { size: u64 },
    /// The new log does not extend the old one.
    Inconsistent { old: u64, new: u64 },
}

impl MonitorError {
    /// What a person reads.
    pub fn message(&self) -> Message {
        match self {
            MonitorError::Http(detail) => t!("monitor-http", detail = detail),
            MonitorError::State { path, reason } => {
                t!("monitor-state", path = path, reason = reason)
            }
            MonitorError::BadSignature(detail) => t!("monitor-bad-signature", detail = detail),
            MonitorError::Rollback { old, new } => t!("monitor-rollback", old = old, new = new),
            MonitorError::SplitView { size } => t!("monitor-split-view", size = size),
            MonitorError::Inconsistent { old, new } => {
                t!("monitor-inconsistent", old = old, new = new)
            }
        }
    }

    /// Whether this is evidence that the node misbehaved (as opposed to a failure to check).
    pub fn is_misbehaviour(&self) -> bool {
        matches!(
            self,
            MonitorError::BadSignature(_)
                | MonitorError::Rollback { .. }
                | MonitorError::SplitView { .. }
                | MonitorError::Inconsistent { .. }
        )
    }
}

/// What a watch found when the node's checkpoint held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No checkpoint was saved yet: this one is now trusted on first use.
    First { size: u64 },
    /// The log has the size and root it had at the last watch.
    Unchanged { size: u64 },
    /// The log grew from `from` to `to` entries, and the consistency proof holds.
    Grew { from: u64, to: u64 },
}

#[derive(Deserialize)]
struct ConsistencyAnswer {
    hashes: Vec<String>,
}

/// Fetches `server`'s checkpoint, verifies it against `key` and the saved state in
/// `state_path`, and saves it there when it holds.
pub fn check(
    server: &str,
    token: Option<&str>,
    key: &NoteVerifier,
    state_path: &Path,
) -> Result<Outcome, MonitorError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::NativeTls)
                .build(),
        )
        .build()
        .into();
    let get = |path: &str| -> Result<String, MonitorError> {
        let mut request = agent.get(&format!("{}{path}", server.trim_end_matches('/')));
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        request
            .call()
            .map_err(|e| MonitorError::Http(e.to_string()))?
            .body_mut()
            .read_to_string()
            .map_err(|e| MonitorError::Http(e.to_string()))
    };
    let note = get("/log/checkpoint")?;
    let new = Checkpoint::open(&note, key, key.name())
        .map_err(|e| MonitorError::BadSignature(e.to_string()))?;

    let saved = match std::fs::read_to_string(state_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(MonitorError::State {
                path: state_path.display().to_string(),
                reason: e.to_string(),
            });
        }
    };
    let outcome = match saved {
        None => Outcome::First { size: new.size },
        Some(text) => {
            let old =
                Checkpoint::open(&text, key, key.name()).map_err(|e| MonitorError::State {
                    path: state_path.display().to_string(),
                    reason: e.to_string(),
                })?;
            if new.size < old.size {
                return Err(MonitorError::Rollback {
                    old: old.size,
                    new: new.size,
                });
            }
            if new.size == old.size {
                if new.root != old.root {
                    return Err(MonitorError::SplitView { size: new.size });
                }
                Outcome::Unchanged { size: new.size }
            } else {
                let answer = get(&format!(
                    "/log/proof/consistency?from={}&to={}",
                    old.size, new.size
                ))?;
                let answer: ConsistencyAnswer =
                    serde_json::from_str(&answer).map_err(|e| MonitorError::Http(e.to_string()))?;
                let proof: Option<Vec<Hash>> = answer
                    .hashes
                    .iter()
                    .map(|h| B64.decode(h).ok().and_then(|b| b.try_into().ok()))
                    .collect();
                let inconsistent = MonitorError::Inconsistent {
                    old: old.size,
                    new: new.size,
                };
                let proof = proof.ok_or_else(|| MonitorError::Http("bad proof hash".into()))?;
                merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof)
                    .map_err(|_| inconsistent)?;
                Outcome::Grew {
                    from: old.size,
                    to: new.size,
                }
            }
        }
    };
    save_state(state_path, &note)?;
    Ok(outcome)
}

/// Replaces the state file atomically (write beside it, then rename).
fn save_state(path: &Path, note: &str) -> Result<(), MonitorError> {
    let state_error = |e: std::io::Error| MonitorError::State {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, note).map_err(state_error)?;
    std::fs::rename(&tmp, path).map_err(state_error)
}
