//! Web accounts: Argon2id password hashes, signed session cookies, and the throttle on failed
//! logins (`node::throttle`).
//!
//! A session cookie is `v1.<user>.<expiry>.<mac>`, where the MAC (HMAC-SHA256 under a key derived
//! from the vault key) covers the user, the expiry and a fingerprint of the password hash: a
//! changed password ends every session. Nothing secret is ever logged: failed logins are
//! counted, not written down.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use sha2::{Digest, Sha256};

use scelle_verifier::model::{self, FieldError};
use scelle_verifier::t;

use crate::authz::AuthUser;
use crate::error::ServiceError;
use crate::ledger::error::Missing;
use crate::node::Node;
use crate::node::ids::random_bytes;
use crate::storage::identity;

use super::tokens;

/// How long a web session lasts.
pub const SESSION_SECONDS: i64 = 8 * 3600;
/// The name of the web session cookie.
pub const SESSION_COOKIE: &str = "scelle_session";

/// OWASP's first Argon2id setting: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Result<Argon2<'static>, ServiceError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string of a new password's Argon2id hash; refuses one under 12 characters.
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    if password.chars().count() < 12 {
        return Err(FieldError::new("password", t!("field-password-too-short")).into());
    }
    if password.len() > 1024 {
        return Err(FieldError::new("password", t!("field-too-long")).into());
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .to_string())
}

/// Whether `password` matches the PHC string.
pub fn verify_password(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A fixed hash to verify against when the login name is unknown, so that the answer takes as
/// long as for a known name with a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2NlbGxlLWR1bW15LXNhbHQ$3nWeGQ9eD3oSIVeaDkA4ec4p6yMU9Yy5i04qDBMmX6M";

/// Gives a user a web login name and password (Argon2id).
pub fn set_password(
    node: &Node,
    user_id: &str,
    login: &str,
    password: &str,
) -> Result<(), ServiceError> {
    let login = model::parse_label("login", &login.to_ascii_lowercase(), 64)?;
    let hash = hash_password(password)?;
    let mut c = node.connection()?;
    if identity::login_taken(&mut c, &login, user_id)? {
        return Err(FieldError::new("login", t!("field-login-taken")).into());
    }
    if !identity::set_password(&mut c, user_id, &login, &hash)? {
        return Err(ServiceError::NotFound(Missing::User));
    }
    Ok(())
}

fn session_key(node: &Node) -> Result<[u8; 32], ServiceError> {
    node.vault().derive(b"scelle session cookie v1")
}

fn session_mac(
    node: &Node,
    user_id: &str,
    expires: i64,
    password_hash: &str,
) -> Result<String, ServiceError> {
    let fingerprint = Sha256::digest(password_hash.as_bytes());
    let mac = scelle_verifier::commitment::hmac_sha256(
        &session_key(node)?,
        &[
            user_id.as_bytes(),
            b"\n",
            expires.to_string().as_bytes(),
            b"\n",
            &fingerprint,
        ],
    )
    .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(B64URL.encode(mac))
}

/// Checks a login and password; on success the user and a session cookie value. Failed
/// attempts are throttled per login name and per client address.
pub fn login(
    node: &Node,
    login: &str,
    password: &str,
    client: &str,
) -> Result<(AuthUser, String), ServiceError> {
    let login = login.trim().to_ascii_lowercase();
    let (login_key, client_key) = (format!("login:{login}"), format!("client:{client}"));
    node.logins().check(&login_key)?;
    node.logins().check(&client_key)?;
    let found = if login.is_empty() || login.len() > 64 {
        None
    } else {
        identity::user_by_login(&mut *node.connection()?, &login)?
    };
    let stored = found.as_ref().and_then(|(u, _)| u.password_hash.clone());
    let ok = verify_password(stored.as_deref().unwrap_or(DUMMY_HASH), password) && stored.is_some();
    let (Some((user, agency)), true) = (found, ok) else {
        node.logins().fail(&login_key);
        node.logins().fail(&client_key);
        return Err(ServiceError::BadCredentials);
    };
    node.logins().clear(&login_key);
    let expires = node.clock().unix_now() + SESSION_SECONDS;
    let mac = session_mac(
        node,
        &user.id,
        expires,
        stored.as_deref().unwrap_or_default(),
    )?;
    let cookie = format!("v1.{}.{expires}.{mac}", user.id);
    Ok((tokens::auth_user(user, agency)?, cookie))
}

/// The user of a session cookie, if it is genuine, unexpired and their password unchanged.
pub fn session_user(node: &Node, cookie: &str) -> Result<AuthUser, ServiceError> {
    let mut parts = cookie.split('.');
    let (Some("v1"), Some(user_id), Some(expires), Some(mac), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(ServiceError::Unauthenticated);
    };
    let expires: i64 = expires.parse().map_err(|_| ServiceError::Unauthenticated)?;
    if expires <= node.clock().unix_now() || user_id.len() > 64 {
        return Err(ServiceError::Unauthenticated);
    }
    let Some((user, agency)) = identity::user_with_agency(&mut *node.connection()?, user_id)?
    else {
        return Err(ServiceError::Unauthenticated);
    };
    let Some(hash) = user.password_hash.clone() else {
        return Err(ServiceError::Unauthenticated);
    };
    let expected = session_mac(node, user_id, expires, &hash)?;
    if expected.len() != mac.len() || !openssl::memcmp::eq(expected.as_bytes(), mac.as_bytes()) {
        return Err(ServiceError::Unauthenticated);
    }
    tokens::auth_user(user, agency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(&phc, "correct horse battery"));
        assert!(!verify_password(&phc, "correct horse batterY"));
        assert!(hash_password("short").is_err());
        // The dummy hash parses (so unknown logins cost a full verification) and matches nothing
        // a user could type here.
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password(DUMMY_HASH, "correct horse battery"));
    }
}
