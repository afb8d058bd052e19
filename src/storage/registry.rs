//! The custody registry tables: projections of the log (cases, items, custody events, vault).
//!
//! They exist for fast queries; the log is the truth and `scelle rebuild` regenerates them.

use diesel::prelude::*;

use super::schema::{cases, custody_events, evidence_items, vault_records};
use super::{DbConnection, StorageError};

#[derive(Insertable, Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: String,
    pub reference: String,
    pub jurisdiction: String,
    pub offence: String,
    pub legal_basis: String,
    pub agency_id: String,
    pub officer_id: String,
    pub title_record: Option<String>,
    pub opened_at: String,
    pub opened_seq: i64,
}

#[derive(Insertable, Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = evidence_items)]
pub struct EvidenceRow {
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
    pub holder_id: String,
    pub custody_status: String,
    pub pending_to: Option<String>,
    pub pending_event: Option<String>,
    pub integrity: String,
    pub registered_seq: i64,
}

#[derive(Insertable, Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = custody_events)]
pub struct CustodyEventRow {
    pub id: String,
    pub item_id: String,
    pub seq: i64,
    pub event_type: String,
    pub actor_id: String,
    pub occurred_at: String,
    pub recorded_at: String,
    pub details: String,
}

#[derive(Insertable, Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = vault_records)]
pub struct VaultRow {
    pub id: String,
    pub salt: Vec<u8>,
    pub value: String,
    pub created_at: String,
}

pub fn insert_case(conn: &mut DbConnection, row: &CaseRow) -> Result<(), StorageError> {
    diesel::insert_into(cases::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn case_by_id(conn: &mut DbConnection, id: &str) -> Result<Option<CaseRow>, StorageError> {
    Ok(cases::table
        .filter(cases::id.eq(id))
        .select(CaseRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn case_by_reference(
    conn: &mut DbConnection,
    reference: &str,
) -> Result<Option<CaseRow>, StorageError> {
    Ok(cases::table
        .filter(cases::reference.eq(reference))
        .select(CaseRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert_evidence(conn: &mut DbConnection, row: &EvidenceRow) -> Result<(), StorageError> {
    diesel::insert_into(evidence_items::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The columns a custody event can change; everything else about an item is fixed at
/// registration. Updating only these leaves the item's indexes untouched.
#[derive(AsChangeset)]
#[diesel(table_name = evidence_items, treat_none_as_null = true)]
struct CustodyColumns<'a> {
    holder_id: &'a str,
    custody_status: &'a str,
    pending_to: Option<&'a str>,
    pending_event: Option<&'a str>,
    integrity: &'a str,
}

/// Writes an item's custody state (holder, status, pending transfer, integrity).
pub fn update_custody_state(
    conn: &mut DbConnection,
    row: &EvidenceRow,
) -> Result<(), StorageError> {
    diesel::update(evidence_items::table.filter(evidence_items::id.eq(&row.id)))
        .set(CustodyColumns {
            holder_id: &row.holder_id,
            custody_status: &row.custody_status,
            pending_to: row.pending_to.as_deref(),
            pending_event: row.pending_event.as_deref(),
            integrity: &row.integrity,
        })
        .execute(conn)?;
    Ok(())
}

pub fn evidence_by_id(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<EvidenceRow>, StorageError> {
    Ok(evidence_items::table
        .filter(evidence_items::id.eq(id))
        .select(EvidenceRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn evidence_by_sha256(
    conn: &mut DbConnection,
    sha256: &str,
) -> Result<Vec<EvidenceRow>, StorageError> {
    Ok(evidence_items::table
        .filter(evidence_items::sha256.eq(sha256))
        .order(evidence_items::registered_seq.asc())
        .select(EvidenceRow::as_select())
        .load(conn)?)
}

pub fn evidence_of_case(
    conn: &mut DbConnection,
    case_id: &str,
) -> Result<Vec<EvidenceRow>, StorageError> {
    Ok(evidence_items::table
        .filter(evidence_items::case_id.eq(case_id))
        .order(evidence_items::registered_seq.asc())
        .select(EvidenceRow::as_select())
        .load(conn)?)
}

pub fn children_of(
    conn: &mut DbConnection,
    parent: &str,
) -> Result<Vec<EvidenceRow>, StorageError> {
    Ok(evidence_items::table
        .filter(evidence_items::parent_id.eq(parent))
        .order(evidence_items::registered_seq.asc())
        .select(EvidenceRow::as_select())
        .load(conn)?)
}

/// Whether a case already has an item with this seal or exhibit number.
pub fn seal_or_exhibit_taken(
    conn: &mut DbConnection,
    case_id: &str,
    seal: &str,
    exhibit: &str,
) -> Result<(bool, bool), StorageError> {
    let seal_taken: i64 = evidence_items::table
        .filter(
            evidence_items::case_id
                .eq(case_id)
                .and(evidence_items::seal_number.eq(seal)),
        )
        .count()
        .get_result(conn)?;
    let exhibit_taken: i64 = evidence_items::table
        .filter(
            evidence_items::case_id
                .eq(case_id)
                .and(evidence_items::exhibit_number.eq(exhibit)),
        )
        .count()
        .get_result(conn)?;
    Ok((seal_taken > 0, exhibit_taken > 0))
}

/// Inserts custody events, many rows per statement (chunked under SQLite's parameter limit).
pub fn insert_events(
    conn: &mut DbConnection,
    rows: &[CustodyEventRow],
) -> Result<(), StorageError> {
    for chunk in rows.chunks(2_000) {
        on_backend!(conn, c => diesel::insert_into(custody_events::table).values(chunk).execute(c))?;
    }
    Ok(())
}

pub fn event_by_id(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<CustodyEventRow>, StorageError> {
    Ok(custody_events::table
        .filter(custody_events::id.eq(id))
        .select(CustodyEventRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn events_of_item(
    conn: &mut DbConnection,
    item: &str,
) -> Result<Vec<CustodyEventRow>, StorageError> {
    Ok(custody_events::table
        .filter(custody_events::item_id.eq(item))
        .order(custody_events::seq.asc())
        .select(CustodyEventRow::as_select())
        .load(conn)?)
}

pub fn insert_vault(conn: &mut DbConnection, rows: &[VaultRow]) -> Result<(), StorageError> {
    for chunk in rows.chunks(4_000) {
        on_backend!(conn, c => diesel::insert_into(vault_records::table).values(chunk).execute(c))?;
    }
    Ok(())
}

pub fn vault_value(conn: &mut DbConnection, id: &str) -> Result<Option<String>, StorageError> {
    Ok(vault_records::table
        .select(vault_records::value)
        .filter(vault_records::id.eq(id))
        .first(conn)
        .optional()?)
}

/// The log positions of every custody event of a case's items.
pub fn event_seqs_of_case(
    conn: &mut DbConnection,
    case_id: &str,
) -> Result<Vec<i64>, StorageError> {
    Ok(custody_events::table
        .inner_join(evidence_items::table)
        .filter(evidence_items::case_id.eq(case_id))
        .select(custody_events::seq)
        .load(conn)?)
}

/// Vault rows by id (missing ids are simply absent: erased or never there).
pub fn vault_rows(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<VaultRow>, StorageError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        let rows: Vec<VaultRow> = vault_records::table
            .filter(vault_records::id.eq_any(chunk))
            .select(VaultRow::as_select())
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Empties the projections (not the vault, which the log cannot regenerate).
pub fn clear_projections(conn: &mut DbConnection) -> Result<(), StorageError> {
    diesel::delete(custody_events::table).execute(conn)?;
    diesel::update(evidence_items::table)
        .set(evidence_items::parent_id.eq(None::<String>))
        .execute(conn)?;
    diesel::delete(evidence_items::table).execute(conn)?;
    diesel::delete(cases::table).execute(conn)?;
    Ok(())
}
