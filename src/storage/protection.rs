//! Data-protection tables: case shares with their conditions, persons linked to cases, access
//! records (projections of the log), and the vault queries retention needs.

use diesel::prelude::*;

use super::schema::{access_records, case_shares, cases, persons, vault_sealed};
use super::{DbConnection, StorageError};

#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = case_shares)]
pub struct ShareRow {
    pub id: String,
    pub case_id: String,
    pub seq: i64,
    pub shared_by: String,
    pub recipient_agency: Option<String>,
    pub recipient_state: Option<String>,
    /// Handling codes, comma-separated (`H0,H2`).
    pub handling: String,
    /// Purposes, comma-separated.
    pub purposes: String,
    pub confidential: bool,
    pub consent_for_court: bool,
    pub expires_at: String,
    pub conditions_record: Option<String>,
    pub shared_at: String,
    /// When the sender withdrew the share (`case.share_revoked`); a revoked share reaches no one.
    pub revoked_at: Option<String>,
}

#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = persons)]
pub struct PersonRow {
    pub id: String,
    pub case_id: String,
    pub data_record: String,
    pub seq: i64,
    pub recorded_at: String,
}

#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[diesel(table_name = access_records)]
pub struct AccessRow {
    pub seq: i64,
    pub actor_id: String,
    pub agency_id: String,
    pub role: String,
    pub action: String,
    pub resource: String,
    pub case_id: Option<String>,
    pub purpose: Option<String>,
    pub decision: String,
    /// Policy ids, comma-separated.
    pub policies: String,
    pub at: String,
}

pub fn insert_share(conn: &mut DbConnection, row: &ShareRow) -> Result<(), StorageError> {
    diesel::insert_into(case_shares::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A share by id.
pub fn share(conn: &mut DbConnection, id: &str) -> Result<Option<ShareRow>, StorageError> {
    Ok(case_shares::table
        .filter(case_shares::id.eq(id))
        .select(ShareRow::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a share revoked at `at`; whether it was in force.
pub fn revoke_share(conn: &mut DbConnection, id: &str, at: &str) -> Result<bool, StorageError> {
    Ok(diesel::update(
        case_shares::table
            .filter(case_shares::id.eq(id))
            .filter(case_shares::revoked_at.is_null()),
    )
    .set(case_shares::revoked_at.eq(at))
    .execute(conn)?
        > 0)
}

/// The shares of a case in force (not revoked) that reach `agency` or its `state`, newest first.
pub fn shares_reaching(
    conn: &mut DbConnection,
    case_id: &str,
    agency: &str,
    state: &str,
) -> Result<Vec<ShareRow>, StorageError> {
    Ok(case_shares::table
        .filter(case_shares::case_id.eq(case_id))
        .filter(case_shares::revoked_at.is_null())
        .filter(
            case_shares::recipient_agency
                .eq(agency)
                .or(case_shares::recipient_state.eq(state)),
        )
        .order(case_shares::seq.desc())
        .select(ShareRow::as_select())
        .load(conn)?)
}

/// Every share of cases of `state` (jurisdiction), for the records of processing.
pub fn shares_from_state(
    conn: &mut DbConnection,
    state: &str,
) -> Result<Vec<ShareRow>, StorageError> {
    Ok(case_shares::table
        .inner_join(cases::table)
        .filter(cases::jurisdiction.eq(state))
        .order(case_shares::seq.asc())
        .select(ShareRow::as_select())
        .load(conn)?)
}

pub fn insert_person(conn: &mut DbConnection, row: &PersonRow) -> Result<(), StorageError> {
    diesel::insert_into(persons::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn person(conn: &mut DbConnection, id: &str) -> Result<Option<PersonRow>, StorageError> {
    Ok(persons::table
        .filter(persons::id.eq(id))
        .select(PersonRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn persons_of_case(
    conn: &mut DbConnection,
    case_id: &str,
) -> Result<Vec<PersonRow>, StorageError> {
    Ok(persons::table
        .filter(persons::case_id.eq(case_id))
        .order(persons::seq.asc())
        .select(PersonRow::as_select())
        .load(conn)?)
}

pub fn insert_access(conn: &mut DbConnection, row: &AccessRow) -> Result<(), StorageError> {
    diesel::insert_into(access_records::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Access records, newest first, optionally of one case or one user, at most `limit`.
pub fn access_records(
    conn: &mut DbConnection,
    case_id: Option<&str>,
    actor_id: Option<&str>,
    limit: i64,
) -> Result<Vec<AccessRow>, StorageError> {
    let mut q = access_records::table.into_boxed();
    if let Some(case_id) = case_id {
        q = q.filter(access_records::case_id.eq(case_id.to_owned()));
    }
    if let Some(actor_id) = actor_id {
        q = q.filter(access_records::actor_id.eq(actor_id.to_owned()));
    }
    Ok(q.order(access_records::seq.desc())
        .limit(limit)
        .select(AccessRow::as_select())
        .load(conn)?)
}

/// Access records about cases of `state`, for the records of processing.
pub fn access_records_of_state(
    conn: &mut DbConnection,
    state: &str,
) -> Result<Vec<AccessRow>, StorageError> {
    Ok(access_records::table
        .inner_join(cases::table.on(access_records::case_id.eq(cases::id.nullable())))
        .filter(cases::jurisdiction.eq(state))
        .select(AccessRow::as_select())
        .load(conn)?)
}

/// What retention needs to know of a sealed record: its id, category, creation time and the
/// state of its case.
#[derive(Queryable, Debug, Clone, PartialEq, Eq)]
pub struct VaultFacts {
    pub id: String,
    pub category: String,
    pub created_at: String,
    pub state: String,
}

/// The sealed records of cases of `state`.
pub fn vault_facts_of_state(
    conn: &mut DbConnection,
    state: &str,
) -> Result<Vec<VaultFacts>, StorageError> {
    Ok(vault_sealed::table
        .inner_join(cases::table.on(vault_sealed::case_id.eq(cases::id.nullable())))
        .filter(cases::jurisdiction.eq(state))
        .order(vault_sealed::created_at.asc())
        .select((
            vault_sealed::id,
            vault_sealed::category,
            vault_sealed::created_at,
            cases::jurisdiction,
        ))
        .load(conn)?)
}
