//! `scelle checkpoint verify`: an outsider's watch on a node (DESIGN §1, split views and
//! rollbacks). It keeps the newest checkpoint it has verified in a local file, fetches the node's
//! current one, checks the signature with a key it trusts, and proves with a consistency proof
//! that the log only grew since. A node that rewrote, forked or rolled back its log is caught.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

use crate::core::merkle::{self, Hash};
use crate::core::note::{Checkpoint, NoteVerifier};

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("serveur injoignable ou réponse invalide / server unreachable or bad answer: {0}")]
    Http(String),
    #[error("état local illisible / local state unreadable ({path}): {reason}")]
    State { path: String, reason: String },
    #[error(
        "point de contrôle non signé par la clé de confiance / checkpoint not signed by the trusted key: {0}"
    )]
    BadSignature(String),
    #[error(
        "RETOUR EN ARRIÈRE : le serveur montre {new} entrées après en avoir signé {old} / ROLLBACK: the server shows {new} entries after signing {old}"
    )]
    Rollback { old: u64, new: u64 },
    #[error(
        "VUES DIVERGENTES : deux racines signées différentes pour la taille {size} / SPLIT VIEW: two different signed roots for size {size}"
    )]
    SplitView { size: u64 },
    #[error(
        "JOURNAL RÉÉCRIT : la preuve de cohérence de {old} à {new} échoue / LOG REWRITTEN: the consistency proof from {old} to {new} fails"
    )]
    Inconsistent { old: u64, new: u64 },
}

impl MonitorError {
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No checkpoint was saved yet: this one is now trusted on first use.
    First {
        size: u64,
    },
    Unchanged {
        size: u64,
    },
    Grew {
        from: u64,
        to: u64,
    },
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
