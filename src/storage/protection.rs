//! Data-protection tables: case shares with their conditions, persons linked to cases, access
//! records (projections of the log), and the vault queries retention needs.

use diesel::prelude::*;

use super::schema::{access_records, case_shares, cases, persons, users, vault_sealed};
use super::{DbConnection, StorageError, param};

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
    /// How many refusals of the same user and action the record stands for, when counted in a
    /// window (see `node::denials`); none is one.
    pub repeated: Option<i64>,
}

impl ShareRow {
    /// Whether a dossier may go to a node of `state` under this share at `now`: it reaches the
    /// state (or one of its agencies), is not revoked, has not expired, and is not H3 (whose
    /// conditions, sealed in this node's vault, would not travel with the dossier).
    pub fn live_for(&self, state: scelle_verifier::model::Jurisdiction, now: i64) -> bool {
        use scelle_verifier::model::{HandlingCode, Jurisdiction};
        let reaches = self.recipient_state.as_deref() == Some(state.as_str())
            || self
                .recipient_agency
                .as_deref()
                .and_then(Jurisdiction::from_agency_id)
                == Some(state);
        reaches
            && self.revoked_at.is_none()
            && !self
                .handling
                .split(',')
                .any(|c| c == HandlingCode::H3.as_str())
            && crate::clock::unix_of(&self.expires_at).is_some_and(|t| t > now)
    }
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

/// The shares of cases of `state` (jurisdiction) after the entry `after_seq`, in log order, at
/// most `limit`: the transfers in the records of processing.
pub fn shares_from_state(
    conn: &mut DbConnection,
    state: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<ShareRow>, StorageError> {
    Ok(case_shares::table
        .inner_join(cases::table)
        .filter(cases::jurisdiction.eq(state))
        .filter(case_shares::seq.gt(after_seq))
        .order(case_shares::seq.asc())
        .limit(limit)
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

/// The persons linked to a case after the entry `after_seq`, in log order, at most `limit`.
pub fn persons_of_case(
    conn: &mut DbConnection,
    case_id: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<PersonRow>, StorageError> {
    Ok(persons::table
        .filter(persons::case_id.eq(case_id))
        .filter(persons::seq.gt(after_seq))
        .order(persons::seq.asc())
        .limit(limit)
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

/// Access records before the entry `before_seq` (all when none), newest first, optionally of
/// one case or one user, at most `limit`.
pub fn access_records(
    conn: &mut DbConnection,
    case_id: Option<&str>,
    actor_id: Option<&str>,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<AccessRow>, StorageError> {
    let mut q = access_records::table.into_boxed();
    if let Some(case_id) = case_id {
        q = q.filter(access_records::case_id.eq(case_id.to_owned()));
    }
    if let Some(actor_id) = actor_id {
        q = q.filter(access_records::actor_id.eq(actor_id.to_owned()));
    }
    if let Some(before) = before_seq {
        q = q.filter(access_records::seq.lt(before));
    }
    Ok(q.order(access_records::seq.desc())
        .limit(limit)
        .select(AccessRow::as_select())
        .load(conn)?)
}

/// How many access decisions about cases of one state there were, per role, decision, action
/// and stated purpose (a counted refusal adds up all it stands for).
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct AccessCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub role: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub decision: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub action: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub purpose: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// The access decisions about cases of `state`, counted by the database.
pub fn access_counts_of_state(
    conn: &mut DbConnection,
    state: &str,
) -> Result<Vec<AccessCount>, StorageError> {
    use diesel::sql_types::Text;
    Ok(on_backend!(conn, c => {
        diesel::sql_query(format!(
            "SELECT a.role, a.decision, a.action, a.purpose, \
                    CAST(SUM(COALESCE(a.repeated, 1)) AS BIGINT) AS n \
             FROM access_records a JOIN cases k ON a.case_id = k.id \
             WHERE k.jurisdiction = {} \
             GROUP BY a.role, a.decision, a.action, a.purpose",
            param(c, 1)
        ))
        .bind::<Text, _>(state)
        .load::<AccessCount>(c)
    })?)
}

/// How many sealed records of cases of one state the vault holds in a category.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct HeldCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub category: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// The sealed records of cases of `state`, counted per category by the database.
pub fn records_held_of_state(
    conn: &mut DbConnection,
    state: &str,
) -> Result<Vec<HeldCount>, StorageError> {
    use diesel::sql_types::Text;
    Ok(on_backend!(conn, c => {
        diesel::sql_query(format!(
            "SELECT v.category, CAST(COUNT(*) AS BIGINT) AS n \
             FROM vault_sealed v JOIN cases k ON v.case_id = k.id \
             WHERE k.jurisdiction = {} GROUP BY v.category",
            param(c, 1)
        ))
        .bind::<Text, _>(state)
        .load::<HeldCount>(c)
    })?)
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

/// Sealed records of cases, in the order of their ids after `after_id`, sealed before
/// `created_before` (RFC 3339 text compared as text: a pre-filter, the caller checks the exact
/// time), at most `limit`: what a retention run walks, a batch at a time, along the primary key.
pub fn vault_facts_after(
    conn: &mut DbConnection,
    after_id: &str,
    created_before: &str,
    limit: i64,
) -> Result<Vec<VaultFacts>, StorageError> {
    Ok(vault_sealed::table
        .inner_join(cases::table.on(vault_sealed::case_id.eq(cases::id.nullable())))
        .filter(vault_sealed::id.gt(after_id))
        .filter(vault_sealed::created_at.lt(created_before))
        .order(vault_sealed::id.asc())
        .limit(limit)
        .select((
            vault_sealed::id,
            vault_sealed::category,
            vault_sealed::created_at,
            cases::jurisdiction,
        ))
        .load(conn)?)
}

/// The shares of a case not revoked, newest first (the dossier exchange picks the one that
/// reaches a peer's state).
pub fn live_shares(conn: &mut DbConnection, case_id: &str) -> Result<Vec<ShareRow>, StorageError> {
    Ok(case_shares::table
        .filter(case_shares::case_id.eq(case_id))
        .filter(case_shares::revoked_at.is_null())
        .order(case_shares::seq.desc())
        .select(ShareRow::as_select())
        .load(conn)?)
}
