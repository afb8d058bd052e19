//! Bearer tokens: `sct_<id>_<secret>`. Only SHA-256(secret) is stored; the row is found by id
//! and the secret compared in constant time, so neither the table nor timing reveals a token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::core::entry::Actor;
use crate::core::model::{Jurisdiction, Role, now_utc};
use crate::storage::identity::{self, AgencyRow, TokenRow, UserRow};
use crate::storage::{DbConnection, StorageError};

use super::ServiceError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub agency: String,
    /// The state of the user's agency.
    pub state: Jurisdiction,
    pub agency_is_lab: bool,
}

impl AuthUser {
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.id.clone(),
            agency: self.agency.clone(),
            role: self.role,
        }
    }
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], ServiceError> {
    crate::core::random::bytes().map_err(|e| ServiceError::Internal(e.to_string()))
}

/// A fresh id for cases, items, events and records: a UUID version 7 (RFC 9562), 48 bits of
/// Unix milliseconds then 74 random bits. Ids made one after the other sort together, so the
/// database indexes grow at their end instead of dirtying a random page per insert.
pub fn new_id() -> Result<String, ServiceError> {
    let mut b: [u8; 16] = random_bytes()?;
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    b[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    // 8-4-4-4-12 lowercase hex digits, written in place (every write builds ids: `format!`
    // over `hex::encode` cost as much as sealing the record they name).
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(char::from(DIGITS[usize::from(byte >> 4)]));
        id.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    Ok(id)
}

/// The expiry time (RFC 3339) `days` days from now, or none.
pub fn expiry_after_days(days: Option<u32>) -> Result<Option<String>, ServiceError> {
    let Some(days) = days else { return Ok(None) };
    if days == 0 {
        return Err(crate::core::model::FieldError::new("days", "must be at least 1").into());
    }
    let at = OffsetDateTime::now_utc() + time::Duration::days(i64::from(days));
    at.format(&Rfc3339)
        .map(Some)
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Creates a token for `user_id`; returns the secret text (shown once) and the row to store.
pub fn new_token(
    user_id: &str,
    expires_at: Option<String>,
) -> Result<(String, TokenRow), ServiceError> {
    let id = hex::encode(random_bytes::<8>()?);
    let secret = B64URL.encode(random_bytes::<32>()?);
    let row = TokenRow {
        id: id.clone(),
        user_id: user_id.to_owned(),
        secret_hash: Sha256::digest(secret.as_bytes()).to_vec(),
        created_at: now_utc(),
        expires_at,
        revoked_at: None,
    };
    Ok((format!("sct_{id}_{secret}"), row))
}

pub fn authenticate(conn: &mut DbConnection, token: &str) -> Result<AuthUser, ServiceError> {
    let rest = token
        .strip_prefix("sct_")
        .ok_or(ServiceError::Unauthenticated)?;
    let (id, secret) = rest.split_once('_').ok_or(ServiceError::Unauthenticated)?;
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ServiceError::Unauthenticated);
    }
    let Some((row, user, agency)) = identity::token_with_user(conn, id)? else {
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
        if expiry <= OffsetDateTime::now_utc() {
            return Err(ServiceError::TokenExpired);
        }
    }
    auth_user(user, agency)
}

/// The authenticated user as the service sees them, from their stored rows.
pub fn auth_user(user: UserRow, agency: AgencyRow) -> Result<AuthUser, ServiceError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tokens_have_their_shape() {
        let id = new_id().unwrap();
        assert_eq!(id.len(), 36);
        // 8-4-4-4-12 lowercase hex digits (RFC 9562 §4).
        for (i, c) in id.chars().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                assert_eq!(c, '-', "{id}");
            } else {
                assert!(matches!(c, '0'..='9' | 'a'..='f'), "{id}");
            }
        }
        assert_eq!(&id[14..15], "7");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        // Version 7: the first 48 bits are the Unix time in milliseconds, so ids sort by time.
        let millis = u64::from_str_radix(&id[..8], 16).unwrap() << 16
            | u64::from_str_radix(&id[9..13], 16).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(now.abs_diff(millis) < 60_000, "{id}");
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(new_id().unwrap() > id);
        let (token, row) = new_token("u", None).unwrap();
        assert!(token.starts_with(&format!("sct_{}_", row.id)));
        assert_eq!(row.secret_hash.len(), 32);
        assert_ne!(new_id().unwrap(), id);
    }
}
