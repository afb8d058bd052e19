//! Every registry row, read in key order a page at a time, for the audit that holds the tables
//! to the log (`ledger::registry_audit`): the rows exactly as stored, each table on its own, so
//! that an item's facts without a custody state, or a state without its item, show as such.

use diesel::prelude::*;

use super::identity::AgencyRow;
use super::protection::{AccessRow, PersonRow, ShareRow};
use super::registry::{CaseHeadRow, CaseRow, CustodyEventRow, EvidenceRow};
use super::schema::{
    access_records, agencies, case_heads, case_shares, cases, custody_events, custody_states,
    evidence_items, persons, users, vault_sealed,
};
use super::{DbConnection, StorageError};

/// Rows read at a time.
pub const PAGE: i64 = 10_000;

/// An item's registered facts, as `evidence_items` holds them.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = evidence_items)]
pub struct ItemFactsRow {
    pub id: String,
    pub case_id: String,
    pub exhibit_number: String,
    pub seal_number: String,
    pub kind: String,
    pub sha256: String,
    pub sha512: Option<String>,
    pub sha1: Option<String>,
    pub md5: Option<String>,
    pub size_bytes: Option<i64>,
    pub collected_at: String,
    pub collector_id: String,
    pub description_record: Option<String>,
    pub location_record: Option<String>,
    pub acquisition_tool: Option<String>,
    pub acquisition_version: Option<String>,
    pub acquisition_settings: Option<String>,
    pub parent_id: Option<String>,
    pub registered_seq: i64,
}

impl From<&EvidenceRow> for ItemFactsRow {
    fn from(row: &EvidenceRow) -> Self {
        Self {
            id: row.id.clone(),
            case_id: row.case_id.clone(),
            exhibit_number: row.exhibit_number.clone(),
            seal_number: row.seal_number.clone(),
            kind: row.kind.clone(),
            sha256: row.sha256.clone(),
            sha512: row.sha512.clone(),
            sha1: row.sha1.clone(),
            md5: row.md5.clone(),
            size_bytes: row.size_bytes,
            collected_at: row.collected_at.clone(),
            collector_id: row.collector_id.clone(),
            description_record: row.description_record.clone(),
            location_record: row.location_record.clone(),
            acquisition_tool: row.acquisition_tool.clone(),
            acquisition_version: row.acquisition_version.clone(),
            acquisition_settings: row.acquisition_settings.clone(),
            parent_id: row.parent_id.clone(),
            registered_seq: row.registered_seq,
        }
    }
}

/// An item's custody state, as `custody_states` holds it.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = custody_states)]
pub struct CustodyStateRow {
    pub item_id: String,
    pub holder_id: String,
    pub custody_status: String,
    pub pending_to: Option<String>,
    pub pending_event: Option<String>,
    pub integrity: String,
    pub last_event_seq: Option<i64>,
}

impl From<&EvidenceRow> for CustodyStateRow {
    fn from(row: &EvidenceRow) -> Self {
        Self {
            item_id: row.id.clone(),
            holder_id: row.holder_id.clone(),
            custody_status: row.custody_status.clone(),
            pending_to: row.pending_to.clone(),
            pending_event: row.pending_event.clone(),
            integrity: row.integrity.clone(),
            last_event_seq: row.last_event_seq,
        }
    }
}

/// A user as the log knows them: id, role and agency (name, login and password are node-local).
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = users)]
pub struct UserFactsRow {
    pub id: String,
    pub role: String,
    pub agency_id: String,
}

/// An agency as the log knows it (its row's creation time is node-local).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyFactsRow {
    pub id: String,
    pub state: String,
    pub name: String,
    pub is_lab: bool,
}

impl From<AgencyRow> for AgencyFactsRow {
    fn from(row: AgencyRow) -> Self {
        Self {
            id: row.id,
            state: row.state,
            name: row.name,
            is_lab: row.is_lab,
        }
    }
}

/// The cases after the id `after`, in id order.
pub fn cases_after(conn: &mut DbConnection, after: &str) -> Result<Vec<CaseRow>, StorageError> {
    Ok(cases::table
        .filter(cases::id.gt(after))
        .order(cases::id.asc())
        .limit(PAGE)
        .select(CaseRow::as_select())
        .load(conn)?)
}

/// The newest entries of the cases after the id `after`, in id order.
pub fn case_heads_after(
    conn: &mut DbConnection,
    after: &str,
) -> Result<Vec<CaseHeadRow>, StorageError> {
    Ok(case_heads::table
        .filter(case_heads::case_id.gt(after))
        .order(case_heads::case_id.asc())
        .limit(PAGE)
        .select(CaseHeadRow::as_select())
        .load(conn)?)
}

/// The items' facts after the id `after`, in id order.
pub fn item_facts_after(
    conn: &mut DbConnection,
    after: &str,
) -> Result<Vec<ItemFactsRow>, StorageError> {
    Ok(evidence_items::table
        .filter(evidence_items::id.gt(after))
        .order(evidence_items::id.asc())
        .limit(PAGE)
        .select(ItemFactsRow::as_select())
        .load(conn)?)
}

/// The custody states after the item id `after`, in id order.
pub fn custody_states_after(
    conn: &mut DbConnection,
    after: &str,
) -> Result<Vec<CustodyStateRow>, StorageError> {
    Ok(custody_states::table
        .filter(custody_states::item_id.gt(after))
        .order(custody_states::item_id.asc())
        .limit(PAGE)
        .select(CustodyStateRow::as_select())
        .load(conn)?)
}

/// The shares after the id `after`, in id order.
pub fn shares_after(conn: &mut DbConnection, after: &str) -> Result<Vec<ShareRow>, StorageError> {
    Ok(case_shares::table
        .filter(case_shares::id.gt(after))
        .order(case_shares::id.asc())
        .limit(PAGE)
        .select(ShareRow::as_select())
        .load(conn)?)
}

/// The persons after the id `after`, in id order.
pub fn persons_after(conn: &mut DbConnection, after: &str) -> Result<Vec<PersonRow>, StorageError> {
    Ok(persons::table
        .filter(persons::id.gt(after))
        .order(persons::id.asc())
        .limit(PAGE)
        .select(PersonRow::as_select())
        .load(conn)?)
}

/// The users after the id `after`, in id order.
pub fn users_after(
    conn: &mut DbConnection,
    after: &str,
) -> Result<Vec<UserFactsRow>, StorageError> {
    Ok(users::table
        .filter(users::id.gt(after))
        .order(users::id.asc())
        .limit(PAGE)
        .select(UserFactsRow::as_select())
        .load(conn)?)
}

/// The agencies after the id `after`, in id order.
pub fn agencies_after(
    conn: &mut DbConnection,
    after: &str,
) -> Result<Vec<AgencyFactsRow>, StorageError> {
    let rows: Vec<AgencyRow> = agencies::table
        .filter(agencies::id.gt(after))
        .order(agencies::id.asc())
        .limit(PAGE)
        .select(AgencyRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(AgencyFactsRow::from).collect())
}

/// The custody event rows of the entries `from..to`, in log order.
pub fn custody_events_between(
    conn: &mut DbConnection,
    from: u64,
    to: u64,
) -> Result<Vec<CustodyEventRow>, StorageError> {
    // Into a vector sized for every entry of the stretch, not grown row by row.
    let mut rows = Vec::with_capacity(to.saturating_sub(from) as usize);
    for row in custody_events::table
        .filter(custody_events::seq.ge(from as i64))
        .filter(custody_events::seq.lt(to as i64))
        .order(custody_events::seq.asc())
        .select(CustodyEventRow::as_select())
        .load_iter::<CustodyEventRow, diesel::connection::DefaultLoadingMode>(conn)?
    {
        rows.push(row?);
    }
    Ok(rows)
}

/// The access records of the entries `from..to`, in log order.
pub fn access_between(
    conn: &mut DbConnection,
    from: u64,
    to: u64,
) -> Result<Vec<AccessRow>, StorageError> {
    Ok(access_records::table
        .filter(access_records::seq.ge(from as i64))
        .filter(access_records::seq.lt(to as i64))
        .order(access_records::seq.asc())
        .select(AccessRow::as_select())
        .load(conn)?)
}

/// A custody event row and an access record outside the log's `0..end`, if any.
pub fn per_entry_rows_outside(
    conn: &mut DbConnection,
    end: u64,
) -> Result<(Option<i64>, Option<i64>), StorageError> {
    let end = end as i64;
    let event = custody_events::table
        .filter(custody_events::seq.lt(0).or(custody_events::seq.ge(end)))
        .select(custody_events::seq)
        .first::<i64>(conn)
        .optional()?;
    let access = access_records::table
        .filter(access_records::seq.lt(0).or(access_records::seq.ge(end)))
        .select(access_records::seq)
        .first::<i64>(conn)
        .optional()?;
    Ok((event, access))
}

/// Which of `ids` the vault still holds a sealed record for.
pub fn sealed_among(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<String>, StorageError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(PAGE as usize) {
        let rows: Vec<String> = vault_sealed::table
            .filter(vault_sealed::id.eq_any(chunk))
            .select(vault_sealed::id)
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}
