//! The rules a node applies, as its operators write them in `policies/`: who may do what
//! (Cedar policies and their schema, [`cedar`]) and how long personal data is kept
//! ([`retention`]). Both are loaded and validated at start-up; a node with a bad rule file does
//! not start. Applying them to a request is the authorization point's job (`authz`).

pub mod cedar;
pub mod retention;

/// A rule file that cannot be used, with the file and the reason.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{file}: the schema does not parse: {reason}")]
    Schema { file: String, reason: String },
    #[error("{file}: the policies do not parse: {reason}")]
    Parse { file: String, reason: String },
    #[error("{file}: a policy has no @id annotation:\n{policy}")]
    MissingId { file: String, policy: String },
    #[error("{file}: policy id `{id}` is used twice")]
    DuplicateId { file: String, id: String },
    #[error(
        "{file}: forbid policy `{id}` needs its reason: the catalogue's `policy-{id}`, or @reason_fr and @reason_en"
    )]
    MissingReason { file: String, id: String },
    #[error("the policies do not match the schema:\n{0}")]
    Invalid(String),
    #[error("no policy file (*.cedar) in {0}")]
    NoPolicies(String),
}
