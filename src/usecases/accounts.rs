//! Web accounts: Argon2id password hashes, sessions the node holds, the throttle on failed
//! logins (`node::throttle`), and ending a user's ways in.
//!
//! A session cookie is `v2.<secret>`, 32 random bytes; the node keeps only their SHA-256, with
//! the user and the expiry (`web_sessions`). Logging out ends that session; a new password,
//! revoking a user's tokens or disabling the user ends all of theirs. Nothing secret is ever
//! logged: failed logins are counted, not written down.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use sha2::{Digest, Sha256};

use scelle_verifier::model::{self, FieldError};
use scelle_verifier::t;

use crate::authz::AuthUser;
use crate::authz::{self, Ask, Target};
use crate::error::ServiceError;
use crate::ledger::error::{Conflict, Missing};
use crate::node::Node;
use crate::node::ids::random_bytes;
use crate::node::throttle::{MAX_FAILED_PER_CLIENT, MAX_FAILED_PER_LOGIN};
use crate::policy::cedar::Action;
use crate::storage::identity::{self, Lockout, SessionRow};

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
        return Err(ServiceError::Conflict(Conflict::Login));
    }
    match identity::set_password(&mut c, user_id, &login, &hash) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ServiceError::NotFound(Missing::User)),
        // Another user took the name between the check and the write.
        Err(e) if e.is_unique_violation() => Err(ServiceError::Conflict(Conflict::Login)),
        Err(e) => Err(e.into()),
    }
}

/// The version prefix of a session cookie's value.
const SESSION_PREFIX: &str = "v2.";

/// The stored form of a session cookie: SHA-256 of its secret, or none if it is not one.
fn session_hash(cookie: &str) -> Option<Vec<u8>> {
    let secret = cookie.strip_prefix(SESSION_PREFIX)?;
    (secret.len() == 43 && B64URL.decode(secret).is_ok_and(|b| b.len() == 32))
        .then(|| Sha256::digest(secret.as_bytes()).to_vec())
}

/// Checks a login and password; on success the user and a new session's cookie value. Every
/// attempt takes a slot of the throttle per login name and per client address before the
/// password is checked; a success gives its slots back.
pub fn login(
    node: &Node,
    login: &str,
    password: &str,
    client: &str,
) -> Result<(AuthUser, String), ServiceError> {
    let login = login.trim().to_ascii_lowercase();
    let (login_key, client_key) = (format!("login:{login}"), format!("client:{client}"));
    let reservation = node.logins().reserve(&[
        (&login_key, MAX_FAILED_PER_LOGIN),
        (&client_key, MAX_FAILED_PER_CLIENT),
    ])?;
    let found = if login.is_empty() || login.len() > 64 {
        None
    } else {
        identity::user_by_login(&mut *node.connection()?, &login)?
    };
    let stored = found.as_ref().and_then(|(u, _)| u.password_hash.clone());
    let ok = verify_password(stored.as_deref().unwrap_or(DUMMY_HASH), password) && stored.is_some();
    let (Some((user, agency)), true) = (found, ok) else {
        return Err(ServiceError::BadCredentials);
    };
    let user = tokens::auth_user(user, agency)?;
    node.logins().succeeded(reservation);
    let secret = B64URL.encode(random_bytes::<32>());
    let now = node.clock().unix_now();
    let row = SessionRow {
        id_hash: Sha256::digest(secret.as_bytes()).to_vec(),
        user_id: user.id.clone(),
        created_at: node.clock().now_rfc3339()?,
        expires_at: now + SESSION_SECONDS,
    };
    identity::insert_session(&mut *node.connection()?, &row, now)?;
    Ok((user, format!("{SESSION_PREFIX}{secret}")))
}

/// The user of a session cookie, if the node holds that session, unexpired, and the user is
/// not disabled.
pub fn session_user(node: &Node, cookie: &str) -> Result<AuthUser, ServiceError> {
    let hash = session_hash(cookie).ok_or(ServiceError::Unauthenticated)?;
    let now = node.clock().unix_now();
    let Some((user, agency)) = identity::session_user(&mut *node.connection()?, &hash, now)? else {
        return Err(ServiceError::Unauthenticated);
    };
    tokens::auth_user(user, agency)
}

/// Ends the session of a cookie (logging out); a cookie the node does not hold is already over.
pub fn logout(node: &Node, cookie: &str) -> Result<(), ServiceError> {
    if let Some(hash) = session_hash(cookie) {
        identity::end_session(&mut *node.connection()?, &hash)?;
    }
    Ok(())
}

/// Disables a user (`disable`) or enables them again. Disabling revokes every token and ends
/// every session of theirs, and from then on no token, session or password lets them in;
/// enabling gives back only the password: tokens are issued anew. The node's operator (no
/// `user`) or an administrator the policies allow.
pub fn set_disabled(
    node: &Node,
    user: Option<&AuthUser>,
    user_id: &str,
    disable: bool,
) -> Result<Lockout, ServiceError> {
    if let Some(user) = user {
        authz::authorize(
            node,
            user,
            Action::UserManage,
            Target::Node,
            &Ask::default(),
        )?;
        if disable && user.id == user_id {
            return Err(FieldError::new("user", t!("field-cannot-disable-self")).into());
        }
    }
    let at = node.clock().now_rfc3339()?;
    identity::set_disabled(
        &mut *node.connection()?,
        user_id,
        disable.then_some(at.as_str()),
    )?
    .ok_or(ServiceError::NotFound(Missing::User))
}

/// Revokes every token of a user and ends every session of theirs; their password still
/// signs them in (disable the user to end that too).
pub fn revoke_all_tokens(node: &Node, user_id: &str) -> Result<Lockout, ServiceError> {
    let mut c = node.connection()?;
    if identity::user(&mut c, user_id)?.is_none() {
        return Err(ServiceError::NotFound(Missing::User));
    }
    let at = node.clock().now_rfc3339()?;
    Ok(identity::lock_out(&mut c, user_id, &at)?)
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

    #[test]
    fn only_a_well_formed_session_cookie_is_looked_up() {
        let secret = B64URL.encode([7u8; 32]);
        assert!(session_hash(&format!("v2.{secret}")).is_some());
        for bad in [
            secret.clone(),
            format!("v1.{secret}"),
            format!("v2.{secret}x"),
            format!("v2.{}", &secret[1..]),
            "v2.".into(),
            format!("v2.{}", "!".repeat(43)),
        ] {
            assert!(session_hash(&bad).is_none(), "{bad}");
        }
    }
}
