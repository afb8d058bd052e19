//! Agencies, users, API tokens and web sessions (node-local; tokens and sessions never enter
//! the log).

use diesel::prelude::*;

use super::schema::{agencies, api_tokens, users, web_sessions};
use super::{DbConnection, StorageError};

/// A registered agency: a police service or a forensic lab.
#[derive(Insertable, Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = agencies)]
pub struct AgencyRow {
    /// The agency id; its prefix names the state (`tg.…`).
    pub id: String,
    /// The agency's state (jurisdiction code).
    pub state: String,
    pub name: String,
    pub created_at: String,
    /// A forensic lab rather than a police service.
    pub is_lab: bool,
}

/// A user of the node, with the role the policies read.
#[derive(Insertable, Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    /// The user's role (`Role` text).
    pub role: String,
    pub agency_id: String,
    pub created_at: String,
    /// Web login name (unique), for users who sign in with a password.
    pub login: Option<String>,
    /// Argon2id PHC string; never the password.
    pub password_hash: Option<String>,
    /// When an administrator disabled the user (RFC 3339): no way in works from then on.
    pub disabled_at: Option<String>,
}

/// A web session: only the SHA-256 of the cookie's secret is kept.
#[derive(Insertable, Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = web_sessions)]
pub struct SessionRow {
    /// SHA-256 of the session cookie's secret.
    pub id_hash: Vec<u8>,
    pub user_id: String,
    pub created_at: String,
    /// When the session ends (Unix seconds).
    pub expires_at: i64,
}

/// An API token: only the hash of its secret is kept.
#[derive(Insertable, Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = api_tokens)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    /// SHA-256 of the token's secret.
    pub secret_hash: Vec<u8>,
    pub created_at: String,
    /// When the token stops working (RFC 3339); `None` for never.
    pub expires_at: Option<String>,
    /// When the token was revoked (RFC 3339), if it was.
    pub revoked_at: Option<String>,
}

/// An agency by id.
pub fn agency(conn: &mut DbConnection, id: &str) -> Result<Option<AgencyRow>, StorageError> {
    Ok(agencies::table
        .filter(agencies::id.eq(id))
        .select(AgencyRow::as_select())
        .first(conn)
        .optional()?)
}

/// The agency registered first (the node's own, on nodes from before that was a setting).
pub fn first_agency(conn: &mut DbConnection) -> Result<Option<AgencyRow>, StorageError> {
    Ok(agencies::table
        .order(agencies::created_at.asc())
        .select(AgencyRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every agency, by id.
pub fn all_agencies(conn: &mut DbConnection) -> Result<Vec<AgencyRow>, StorageError> {
    Ok(agencies::table
        .order(agencies::id.asc())
        .select(AgencyRow::as_select())
        .load(conn)?)
}

/// Adds an agency.
pub fn insert_agency(conn: &mut DbConnection, row: &AgencyRow) -> Result<(), StorageError> {
    diesel::insert_into(agencies::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A user by id.
pub fn user(conn: &mut DbConnection, id: &str) -> Result<Option<UserRow>, StorageError> {
    Ok(users::table
        .filter(users::id.eq(id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// Adds a user.
pub fn insert_user(conn: &mut DbConnection, row: &UserRow) -> Result<(), StorageError> {
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Adds an API token.
pub fn insert_token(conn: &mut DbConnection, row: &TokenRow) -> Result<(), StorageError> {
    diesel::insert_into(api_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Marks a token revoked at `at`; whether there was such a token not yet revoked.
pub fn revoke_token(
    conn: &mut DbConnection,
    token_id: &str,
    at: &str,
) -> Result<bool, StorageError> {
    Ok(diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(token_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(at))
    .execute(conn)?
        > 0)
}

/// The token row, its user and the user's agency, by token id.
pub fn token_with_user(
    conn: &mut DbConnection,
    token_id: &str,
) -> Result<Option<(TokenRow, UserRow, AgencyRow)>, StorageError> {
    Ok(api_tokens::table
        .inner_join(users::table.inner_join(agencies::table))
        .filter(api_tokens::id.eq(token_id))
        .select((
            TokenRow::as_select(),
            UserRow::as_select(),
            AgencyRow::as_select(),
        ))
        .first(conn)
        .optional()?)
}

/// A user and their agency, by id.
pub fn user_with_agency(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<(UserRow, AgencyRow)>, StorageError> {
    Ok(users::table
        .inner_join(agencies::table)
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), AgencyRow::as_select()))
        .first(conn)
        .optional()?)
}

/// A user and their agency, by web login name.
pub fn user_by_login(
    conn: &mut DbConnection,
    login: &str,
) -> Result<Option<(UserRow, AgencyRow)>, StorageError> {
    Ok(users::table
        .inner_join(agencies::table)
        .filter(users::login.eq(login))
        .select((UserRow::as_select(), AgencyRow::as_select()))
        .first(conn)
        .optional()?)
}

/// Sets a user's login name and password hash and ends their web sessions, in one
/// transaction; whether the user exists.
pub fn set_password(
    conn: &mut DbConnection,
    user_id: &str,
    login: &str,
    password_hash: &str,
) -> Result<bool, StorageError> {
    conn.transaction(|c| {
        let changed = diesel::update(users::table.filter(users::id.eq(user_id)))
            .set((
                users::login.eq(login),
                users::password_hash.eq(password_hash),
            ))
            .execute(c)?;
        end_sessions_of(c, user_id)?;
        Ok(changed > 0)
    })
}

/// Whether another user already has this login name.
pub fn login_taken(
    conn: &mut DbConnection,
    login: &str,
    except_user: &str,
) -> Result<bool, StorageError> {
    Ok(users::table
        .filter(users::login.eq(login))
        .filter(users::id.ne(except_user))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// How many users the node has.
pub fn count_users(conn: &mut DbConnection) -> Result<i64, StorageError> {
    Ok(users::table.count().get_result(conn)?)
}

/// Adds a web session, first forgetting every session over at `now` (Unix seconds), so the
/// table holds only live ones.
pub fn insert_session(
    conn: &mut DbConnection,
    row: &SessionRow,
    now: i64,
) -> Result<(), StorageError> {
    diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(now))).execute(conn)?;
    diesel::insert_into(web_sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The user of a live session (unexpired at `now`, Unix seconds) and their agency, by the hash
/// of the cookie's secret.
pub fn session_user(
    conn: &mut DbConnection,
    id_hash: &[u8],
    now: i64,
) -> Result<Option<(UserRow, AgencyRow)>, StorageError> {
    Ok(web_sessions::table
        .inner_join(users::table.inner_join(agencies::table))
        .filter(web_sessions::id_hash.eq(id_hash))
        .filter(web_sessions::expires_at.gt(now))
        .select((UserRow::as_select(), AgencyRow::as_select()))
        .first(conn)
        .optional()?)
}

/// Ends one session; whether it existed.
pub fn end_session(conn: &mut DbConnection, id_hash: &[u8]) -> Result<bool, StorageError> {
    Ok(
        diesel::delete(web_sessions::table.filter(web_sessions::id_hash.eq(id_hash)))
            .execute(conn)?
            > 0,
    )
}

/// Ends every session of a user; how many there were.
pub fn end_sessions_of(conn: &mut DbConnection, user_id: &str) -> Result<usize, StorageError> {
    Ok(
        diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq(user_id)))
            .execute(conn)?,
    )
}

/// Revokes at `at` every token of a user not yet revoked; how many.
pub fn revoke_tokens_of(
    conn: &mut DbConnection,
    user_id: &str,
    at: &str,
) -> Result<usize, StorageError> {
    Ok(diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(at))
    .execute(conn)?)
}

/// What ending a user's ways in did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lockout {
    /// Tokens revoked now.
    pub tokens: usize,
    /// Web sessions ended now.
    pub sessions: usize,
}

/// Marks a user disabled at `at` (or enabled again with `None`) and, when disabling, revokes
/// their tokens and ends their sessions, in one transaction. `None` when there is no such user.
pub fn set_disabled(
    conn: &mut DbConnection,
    user_id: &str,
    at: Option<&str>,
) -> Result<Option<Lockout>, StorageError> {
    conn.transaction(|c| {
        let changed = diesel::update(users::table.filter(users::id.eq(user_id)))
            .set(users::disabled_at.eq(at))
            .execute(c)?;
        if changed == 0 {
            return Ok(None);
        }
        match at {
            Some(at) => lock_out(c, user_id, at).map(Some),
            None => Ok(Some(Lockout::default())),
        }
    })
}

/// Revokes at `at` every token of a user and ends every session of theirs, in one transaction.
pub fn lock_out(conn: &mut DbConnection, user_id: &str, at: &str) -> Result<Lockout, StorageError> {
    conn.transaction(|c| {
        Ok(Lockout {
            tokens: revoke_tokens_of(c, user_id, at)?,
            sessions: end_sessions_of(c, user_id)?,
        })
    })
}
