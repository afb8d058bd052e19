//! What a person reads of an error, in one place: its stable code, its HTTP status, and its
//! French and English text from the message catalogue.
//!
//! Layers keep their own `thiserror` enums (`StorageError`, `LedgerError`, `ServiceError`, the
//! verifier's); the outer layers (HTTP, pages, CLI) turn a `ServiceError` into a
//! [`PublicError`] here and nowhere else. Internal details (SQL text, paths) go to the server
//! log, never to the client.

use serde::Serialize;

use scelle_verifier::dossier::shown;
use scelle_verifier::i18n::Message;
use scelle_verifier::t;

use crate::error::{BackupRefusal, HealthProblem, ServiceError, StartRefusal};
use crate::storage::StorageError;

/// The policy whose denial means "state a purpose" (its own error code, `purpose_required`).
const PURPOSE_POLICY: &str = "personal-data-needs-a-purpose";

/// An error as the client receives it: `{"error": {code, message_fr, message_en}}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicError {
    /// The HTTP status.
    #[serde(skip)]
    pub status: u16,
    /// A stable code programs can match on.
    pub code: &'static str,
    /// The text in French.
    pub message_fr: String,
    /// The text in English.
    pub message_en: String,
    /// Seconds before trying again (429), sent as `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl PublicError {
    /// An error with its status, code and catalogue message.
    pub fn new(status: u16, code: &'static str, message: Message) -> Self {
        Self {
            status,
            code,
            message_fr: message.fr(),
            message_en: message.en(),
            retry_after: None,
        }
    }

    /// French, then English, on two lines (the CLI's form).
    pub fn two_lines(&self) -> String {
        format!("{}\n{}", self.message_fr, self.message_en)
    }
}

/// A witness's refusal of a checkpoint (C2SP tlog-witness), with the spec's status; a 409 is
/// answered with the size alone (`text/x.tlog.size`) by the handler, as the spec requires.
impl From<&scelle_verifier::witness::Refusal> for PublicError {
    fn from(r: &scelle_verifier::witness::Refusal) -> Self {
        use scelle_verifier::witness::Refusal;
        let code = match r {
            Refusal::Malformed(_) => "witness_request_malformed",
            Refusal::OldAboveNew { .. } => "witness_old_above_new",
            Refusal::UnknownOrigin(_) => "witness_unknown_log",
            Refusal::Untrusted => "witness_untrusted_checkpoint",
            Refusal::Conflict(_) => "witness_size_conflict",
            Refusal::BadProof => "witness_bad_consistency_proof",
        };
        PublicError::new(r.status(), code, r.message())
    }
}

/// Why a peer's transfer is not imported: 422 for a verified refusal (the sender does not send
/// it again), 400 for a body that is not a transfer, 403 for a caller with no log here.
impl From<&crate::network::exchange::ExchangeError> for PublicError {
    fn from(e: &crate::network::exchange::ExchangeError) -> Self {
        use crate::network::exchange::ExchangeError;
        match e {
            ExchangeError::Refused(refusal) => {
                PublicError::new(422, refusal.code(), refusal.message())
            }
            ExchangeError::RefusedBefore(code) => PublicError::new(
                422,
                "transfer-refused-before",
                t!("transfer-refused-before", code = code),
            ),
            ExchangeError::Malformed(reason) => PublicError::new(
                400,
                "transfer_malformed",
                t!("transfer-malformed", reason = shown(reason)),
            ),
            ExchangeError::TooLarge => PublicError::new(
                413,
                "transfer_too_large",
                t!("transfer-too-large", bytes = "> 268435456"),
            ),
            ExchangeError::TooSlow => {
                PublicError::new(408, "transfer_too_slow", t!("transfer-too-slow"))
            }
            ExchangeError::Duplicate => {
                PublicError::new(422, "transfer-duplicate", t!("transfer-duplicate"))
            }
            ExchangeError::IdTaken => {
                PublicError::new(422, "transfer-id-taken", t!("transfer-id-taken"))
            }
            ExchangeError::Busy => PublicError {
                retry_after: Some(1),
                ..PublicError::new(429, "transfer_busy", t!("transfer-busy"))
            },
            ExchangeError::UnknownSender => PublicError::new(
                403,
                "transfer_unknown_sender",
                t!("transfer-unknown-sender"),
            ),
            ExchangeError::Service(e) => PublicError::from(e),
        }
    }
}

impl From<&ServiceError> for PublicError {
    fn from(e: &ServiceError) -> Self {
        match e {
            ServiceError::Field(f) => PublicError::new(400, "invalid_field", f.message()),
            ServiceError::Custody(c) => PublicError::new(409, c.code(), c.message()),
            ServiceError::NotFound(what) => PublicError::new(404, "not_found", what.message()),
            ServiceError::Conflict(what) => PublicError::new(409, what.code(), what.message()),
            ServiceError::Unauthenticated => {
                PublicError::new(401, "unauthenticated", t!("error-unauthenticated"))
            }
            ServiceError::TokenExpired => {
                PublicError::new(401, "token_expired", t!("error-token-expired"))
            }
            ServiceError::TokenRevoked => {
                PublicError::new(401, "token_revoked", t!("error-token-revoked"))
            }
            ServiceError::UserDisabled => {
                PublicError::new(401, "user_disabled", t!("error-user-disabled"))
            }
            ServiceError::CrossSite => {
                PublicError::new(403, "cross_site_request", t!("error-cross-site"))
            }
            ServiceError::Forbidden(why) => PublicError::new(
                403,
                "forbidden",
                t!("error-forbidden").nested("reason", why.message()),
            ),
            ServiceError::PolicyDenied {
                action,
                policies,
                reason,
            } => policy_denied(action, policies, reason.as_ref()),
            ServiceError::BadCredentials => {
                PublicError::new(401, "bad_credentials", t!("error-bad-credentials"))
            }
            ServiceError::TooManyAttempts { retry_after_secs } => PublicError {
                retry_after: Some(*retry_after_secs),
                ..PublicError::new(
                    429,
                    "too_many_attempts",
                    t!("error-too-many-attempts", seconds = retry_after_secs),
                )
            },
            ServiceError::Policy(e) => PublicError::new(
                500,
                "policy_error",
                t!("error-policies-invalid", detail = e),
            ),
            ServiceError::BadProofRequest(detail) => PublicError::new(
                400,
                "bad_proof_request",
                t!("error-bad-proof-request", detail = detail),
            ),
            ServiceError::BadEarlierCheckpoint(detail) => PublicError::new(
                400,
                "bad_earlier_checkpoint",
                t!("error-bad-earlier-checkpoint", detail = detail),
            ),
            ServiceError::Unavailable => {
                PublicError::new(503, "unavailable", t!("error-unavailable"))
            }
            ServiceError::Disagrees { table, key } => PublicError::new(
                500,
                "registry_disagrees_with_log",
                t!("error-registry-disagrees", table = table, key = shown(key)),
            ),
            ServiceError::Storage(e) if e.is_text_with_nul() => {
                malformed_body("text holds a NUL byte")
            }
            // Two requests raced for one name: the loser's, not the server's, fault.
            ServiceError::Storage(e) if e.is_unique_violation() => {
                PublicError::new(409, "duplicate", t!("conflict-duplicate"))
            }
            // The batch was committed but not made durable: it may be in the log.
            ServiceError::Storage(StorageError::Sync(_)) => {
                PublicError::new(503, "not_durable", t!("error-not-durable"))
            }
            ServiceError::PeerPolicy(why) => {
                PublicError::new(400, "peer_policy_invalid", why.message())
            }
            ServiceError::TransferTooLarge { bytes } => PublicError::new(
                413,
                "transfer_too_large",
                t!("transfer-too-large", bytes = bytes),
            ),
            ServiceError::Backup(why) => {
                PublicError::new(409, "backup_refused", backup_refusal(why))
            }
            ServiceError::StartRefused(why) => {
                PublicError::new(503, "node_refuses_to_start", start_refusal(why))
            }
            ServiceError::Storage(_) | ServiceError::Internal(_) => {
                PublicError::new(500, "internal", t!("error-internal"))
            }
        }
    }
}

/// A policy's refusal: the policy's own reason when a `forbid` denied, else the default deny.
fn policy_denied(
    action: &str,
    policies: &[String],
    reason: Option<&(String, String)>,
) -> PublicError {
    let code = if policies.iter().any(|p| p == PURPOSE_POLICY) {
        "purpose_required"
    } else {
        "forbidden"
    };
    let message = match reason {
        // The reason is the policy file's own text (`@reason_fr`, `@reason_en`).
        Some((fr, en)) => {
            let mut error = PublicError::new(403, code, t!("error-access-denied", action = action));
            error.message_fr = format!("{} : {fr}.", error.message_fr);
            error.message_en = format!("{}: {en}.", error.message_en);
            return error;
        }
        None => t!("error-access-denied-no-policy", action = action),
    };
    PublicError::new(403, code, message)
}

/// A request body that is not what the endpoint takes (HTTP layer).
pub fn malformed_body(detail: &str) -> PublicError {
    PublicError::new(
        400,
        "malformed_request",
        t!("error-malformed-request", detail = detail),
    )
}

/// A body over the limit.
pub fn body_too_large(limit: usize) -> PublicError {
    PublicError::new(
        413,
        "body_too_large",
        t!("error-body-too-large", limit = limit),
    )
}

/// A body that is not JSON where JSON is expected.
pub fn not_json() -> PublicError {
    PublicError::new(415, "unsupported_media_type", t!("error-not-json"))
}

/// A method the address does not answer; `allow` lists those it does.
pub fn method_not_allowed(allow: &str) -> PublicError {
    PublicError::new(
        405,
        "method_not_allowed",
        t!("error-method-not-allowed", allow = allow),
    )
}

/// Why a backup or restore is refused, in words.
fn backup_refusal(why: &BackupRefusal) -> Message {
    match why {
        BackupRefusal::Postgres => t!("backup-postgres"),
        BackupRefusal::TargetNotEmpty { dir } => t!("backup-target-not-empty", dir = dir),
        BackupRefusal::NotABackup { dir, detail } => {
            t!("backup-not-a-backup", dir = dir, detail = detail)
        }
        BackupRefusal::Corrupt { file } => t!("backup-corrupt", file = file),
        BackupRefusal::TargetHoldsDatabase { database } => {
            t!("backup-target-holds-database", database = database)
        }
        BackupRefusal::OtherNode => t!("backup-other-node"),
        BackupRefusal::AuditFailed { detail } => t!("backup-audit-failed", detail = detail),
    }
}

/// Why a node refuses to start, in words.
fn start_refusal(why: &StartRefusal) -> Message {
    match why {
        StartRefusal::NoNodeInFolder { dir } => t!("start-no-node-in-folder", dir = dir),
        StartRefusal::NoDatabase { database } => t!("start-no-database", database = database),
        StartRefusal::OlderThanPublished { size, published } => {
            t!(
                "start-older-than-published",
                size = size,
                published = published
            )
        }
        StartRefusal::DiffersFromPublished { published } => {
            t!("start-differs-from-published", published = published)
        }
        StartRefusal::KeyOpenToOthers { file, mode } => {
            t!(
                "start-key-open-to-others",
                file = file,
                mode = format!("{mode:o}")
            )
        }
        StartRefusal::UrlWithoutScheme => t!("start-url-without-scheme"),
        StartRefusal::NoPeers => t!("start-no-peers"),
    }
}

/// Why a node is not healthy.
pub fn unhealthy(problem: HealthProblem) -> PublicError {
    let (code, message) = match problem {
        HealthProblem::SyncFailed => ("sync_failed", t!("health-sync-failed")),
        HealthProblem::SequencerStopped => ("sequencer_stopped", t!("health-sequencer-stopped")),
        HealthProblem::DatabaseUnreachable => {
            ("database_unreachable", t!("health-database-unreachable"))
        }
    };
    PublicError::new(503, code, message)
}

/// An error answer actix made on its own, by its status alone (`body_limit`: the largest body
/// the server takes).
pub fn for_status(status: u16, body_limit: usize) -> PublicError {
    match status {
        404 => route_not_found(),
        405 => method_not_allowed("-"),
        408 => PublicError::new(408, "request_timeout", t!("error-request-timeout")),
        413 => body_too_large(body_limit),
        415 => not_json(),
        400..=499 => PublicError {
            status,
            ..malformed_body("-")
        },
        _ => PublicError::new(500, "internal", t!("error-internal")),
    }
}

/// An address no route answers.
pub fn route_not_found() -> PublicError {
    PublicError::new(404, "no_such_route", t!("error-no-such-route"))
}
