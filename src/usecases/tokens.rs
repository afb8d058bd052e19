//! Bearer tokens: `sct_<id>_<secret>`. Only SHA-256(secret) is stored; the row is found by id
//! and the secret compared in constant time, so neither the table nor timing reveals a token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use scelle_verifier::model::{FieldError, Jurisdiction, Role};
use scelle_verifier::t;

use crate::authz::AuthUser;
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::ledger::error::Missing;
use crate::node::Node;
use crate::node::ids::random_bytes;
use crate::storage::StorageError;
use crate::storage::identity::{self, AgencyRow, TokenRow, UserRow};

/// A new token for an existing user, expiring after `days` days if given; the secret text.
pub fn issue(node: &Node, user_id: &str, days: Option<u32>) -> Result<String, ServiceError> {
    let mut c = node.connection()?;
    match identity::user(&mut c, user_id)? {
        None => return Err(ServiceError::NotFound(Missing::User)),
        Some(user) if user.disabled_at.is_some() => return Err(ServiceError::UserDisabled),
        Some(_) => {}
    }
    let (token, row) = new_token(node.clock(), user_id, expiry_after_days(node, days)?)?;
    identity::insert_token(&mut c, &row)?;
    Ok(token)
}

/// Revokes a token by its id (the hex part after `sct_`); refused from then on.
pub fn revoke(node: &Node, token_id: &str) -> Result<(), ServiceError> {
    let now = node.clock().now_rfc3339()?;
    if identity::revoke_token(&mut *node.connection()?, token_id, &now)? {
        Ok(())
    } else {
        Err(ServiceError::NotFound(Missing::Token))
    }
}

/// The longest a token may live: ten years.
pub const MAX_TOKEN_DAYS: u32 = 3_650;

/// The expiry time (RFC 3339) `days` days from now, or none.
pub fn expiry_after_days(node: &Node, days: Option<u32>) -> Result<Option<String>, ServiceError> {
    let Some(days) = days else { return Ok(None) };
    if days == 0 {
        return Err(FieldError::new("days", t!("field-at-least-one-day")).into());
    }
    if days > MAX_TOKEN_DAYS {
        return Err(FieldError::new("days", t!("field-too-large")).into());
    }
    let at = node
        .clock()
        .now()
        .checked_add(time::Duration::days(i64::from(days)))
        .ok_or_else(|| FieldError::new("days", t!("field-too-large")))?;
    at.format(&Rfc3339)
        .map(Some)
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Creates a token for `user_id`; returns the secret text (shown once) and the row to store.
pub fn new_token(
    clock: &Clock,
    user_id: &str,
    expires_at: Option<String>,
) -> Result<(String, TokenRow), ServiceError> {
    let id = hex::encode(random_bytes::<8>());
    let secret = B64URL.encode(random_bytes::<32>());
    let row = TokenRow {
        id: id.clone(),
        user_id: user_id.to_owned(),
        secret_hash: Sha256::digest(secret.as_bytes()).to_vec(),
        created_at: clock.now_rfc3339()?,
        expires_at,
        revoked_at: None,
    };
    Ok((format!("sct_{id}_{secret}"), row))
}

/// The user a bearer token stands for, if it is genuine, unrevoked and unexpired.
pub fn authenticate(node: &Node, token: &str) -> Result<AuthUser, ServiceError> {
    let rest = token
        .strip_prefix("sct_")
        .ok_or(ServiceError::Unauthenticated)?;
    let (id, secret) = rest.split_once('_').ok_or(ServiceError::Unauthenticated)?;
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ServiceError::Unauthenticated);
    }
    let Some((row, user, agency)) = identity::token_with_user(&mut *node.connection()?, id)? else {
        return Err(ServiceError::Unauthenticated);
    };
    let presented = Sha256::digest(secret.as_bytes());
    if row.secret_hash.len() != presented.len()
        || !openssl::memcmp::eq(&row.secret_hash, &presented)
    {
        return Err(ServiceError::Unauthenticated);
    }
    if row.revoked_at.is_some() {
        return Err(ServiceError::TokenRevoked);
    }
    if let Some(expiry) = &row.expires_at {
        let expiry = OffsetDateTime::parse(expiry, &Rfc3339)
            .map_err(|_| StorageError::Corrupt(format!("token {id} has a bad expiry")))?;
        if expiry <= node.clock().now() {
            return Err(ServiceError::TokenExpired);
        }
    }
    auth_user(user, agency)
}

/// The authenticated user as the service sees them, from their stored rows.
pub fn auth_user(user: UserRow, agency: AgencyRow) -> Result<AuthUser, ServiceError> {
    if user.disabled_at.is_some() {
        return Err(ServiceError::UserDisabled);
    }
    let role = Role::parse(&user.role)
        .map_err(|_| StorageError::Corrupt(format!("user {} has a bad role", user.id)))?;
    let state = Jurisdiction::parse(&agency.state)
        .map_err(|_| StorageError::Corrupt(format!("agency {} has a bad state", agency.id)))?;
    Ok(AuthUser {
        id: user.id,
        name: user.name,
        role,
        agency: user.agency_id,
        state,
        agency_is_lab: agency.is_lab,
    })
}
