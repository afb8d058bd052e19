//! Data-protection tables: case shares with their conditions, persons linked to cases, access
//! records (projections of the log), and the vault queries retention needs.

use diesel::prelude::*;

use super::schema::{access_records, case_shares, cases, persons, users, vault_sealed};
use super::{DbConnection, StorageError};

/// A case share (`case.shared`) as projected from the log: its recipient and the conditions that
/// travel with it.
#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = case_shares)]
pub struct ShareRow {
    pub id: String,
    pub case_id: String,
    /// The log entry that shared the case.
    pub seq: i64,
    /// The user who shared it.
    pub shared_by: String,
    /// The receiving agency, when the case is shared with one agency.
    pub recipient_agency: Option<String>,
    /// The receiving state (jurisdiction code), when the case is shared with a whole state.
    pub recipient_state: Option<String>,
    /// Handling codes, comma-separated (`H0,H2`).
    pub handling: String,
    /// Purposes, comma-separated.
    pub purposes: String,
    /// Budapest Convention Art. 28(2)(a): kept confidential by the receiver.
    pub confidential: bool,
    /// For H1: the sending state consents to use in court.
    pub consent_for_court: bool,
    /// When the share lapses (RFC 3339).
    pub expires_at: String,
    /// The vault record's id of the H3 conditions in free text, if any.
    pub conditions_record: Option<String>,
    /// The log entry's time (RFC 3339, UTC).
    pub shared_at: String,
    /// When the sender withdrew the share (`case.share_revoked`); a revoked share reaches no one.
    pub revoked_at: Option<String>,
}

/// A person linked to a case (`person.recorded`): the person's data stays sealed in the vault.
#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = persons)]
pub struct PersonRow {
    pub id: String,
    pub case_id: String,
    /// The vault record's id of the person's sealed data.
    pub data_record: String,
    /// The log entry that recorded the person.
    pub seq: i64,
    /// The log entry's time (RFC 3339, UTC).
    pub recorded_at: String,
}

/// An access record (`access.allowed` or `access.denied`) as projected from the log.
#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[diesel(table_name = access_records)]
pub struct AccessRow {
    /// The log entry that holds the record.
    pub seq: i64,
    pub actor_id: String,
    pub agency_id: String,
    pub role: String,
    /// The Cedar action asked for, e.g. `person.read`.
    pub action: String,
    /// The resource asked for, as the access record names it.
    pub resource: String,
    pub case_id: Option<String>,
    /// The purpose the user stated, if any.
    pub purpose: Option<String>,
    /// `allowed` or `denied`.
    pub decision: String,
    /// Policy ids, comma-separated.
    pub policies: String,
    /// The log entry's time (RFC 3339, UTC).
    pub at: String,
}

/// Adds a share's projection row.
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

/// The shares still in force (not revoked) that reach `agency` or its `state` for a case, newest
/// first — only those made by someone of `owner`, the agency that owns the case: a share a
/// recipient made (before the policies forbade it) grants nothing.
pub fn shares_reaching(
    conn: &mut DbConnection,
    case_id: &str,
    owner: &str,
    agency: &str,
    state: &str,
) -> Result<Vec<ShareRow>, StorageError> {
    let owners_people = users::table
        .filter(users::agency_id.eq(owner))
        .select(users::id);
    Ok(case_shares::table
        .filter(case_shares::case_id.eq(case_id))
        .filter(case_shares::revoked_at.is_null())
        .filter(case_shares::shared_by.eq_any(owners_people))
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

/// Adds a person's projection row.
pub fn insert_person(conn: &mut DbConnection, row: &PersonRow) -> Result<(), StorageError> {
    diesel::insert_into(persons::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A person linked to a case, by id.
pub fn person(conn: &mut DbConnection, id: &str) -> Result<Option<PersonRow>, StorageError> {
    Ok(persons::table
        .filter(persons::id.eq(id))
        .select(PersonRow::as_select())
        .first(conn)
        .optional()?)
}

/// The persons linked to a case, in log order.
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

/// Adds an access record's projection row.
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
