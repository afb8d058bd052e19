//! The custody registry tables: projections of the log (cases, items, custody events, vault).
//!
//! They exist for fast queries; the log is the truth and `scelle rebuild` regenerates them.

use diesel::prelude::*;

use super::schema::{
    access_records, case_heads, case_shares, cases, custody_events, custody_states, evidence_items,
    persons, vault_epoch_floor, vault_records, vault_sealed,
};
use super::{DbConnection, StorageError, param};

/// A case as opened in the log (`case.opened`).
#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: String,
    /// The case reference the agency gives it (unique on the node).
    pub reference: String,
    /// The state whose law the case falls under (jurisdiction code).
    pub jurisdiction: String,
    pub offence: String,
    pub legal_basis: String,
    /// The agency that opened the case.
    pub agency_id: String,
    /// The officer who opened the case.
    pub officer_id: String,
    /// The vault record's id of the case title, if it has one.
    pub title_record: Option<String>,
    /// The log entry's time (RFC 3339, UTC).
    pub opened_at: String,
    /// The log entry that opened the case.
    pub opened_seq: i64,
}

/// The newest entry of a case's custody record: the case's next entry links to it.
#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = case_heads)]
pub struct CaseHeadRow {
    pub case_id: String,
    /// The entry's seq.
    pub seq: i64,
    /// Its leaf hash.
    pub leaf: Vec<u8>,
}

/// An evidence item as the service sees it: the facts registered with it (`evidence_items`,
/// never changed) and its custody state as its latest event left it (`custody_states`, one narrow
/// row the sequencer rewrites at every event; migration 12). Read through
/// [`evidence_with_state`].
#[derive(Queryable, Selectable, Debug, Clone)]
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
    /// The vault record's id of the item's description, if any.
    pub description_record: Option<String>,
    /// The vault record's id of where it was collected, if any.
    pub location_record: Option<String>,
    pub acquisition_tool: Option<String>,
    pub acquisition_version: Option<String>,
    pub acquisition_settings: Option<String>,
    pub parent_id: Option<String>,
    /// The user who holds the item (after a return or destruction, the last one).
    #[diesel(select_expression = custody_states::holder_id)]
    pub holder_id: String,
    /// `in_custody`, `in_transit`, `returned` or `destroyed`.
    #[diesel(select_expression = custody_states::custody_status)]
    pub custody_status: String,
    /// The recipient of a transfer not yet received.
    #[diesel(select_expression = custody_states::pending_to)]
    pub pending_to: Option<String>,
    /// The id of that pending `transferred` event.
    #[diesel(select_expression = custody_states::pending_event)]
    pub pending_event: Option<String>,
    /// `registered`, `verified` or `mismatch` (for good once a check failed).
    #[diesel(select_expression = custody_states::integrity)]
    pub integrity: String,
    /// The `evidence.registered` entry's seq.
    pub registered_seq: i64,
    /// The item's latest custody event: the head of its chain of events.
    #[diesel(select_expression = custody_states::last_event_seq)]
    pub last_event_seq: Option<i64>,
}

/// The registered facts of an item, as inserted once.
#[derive(Insertable)]
#[diesel(table_name = evidence_items)]
struct RegisteredItem<'a> {
    id: &'a str,
    case_id: &'a str,
    exhibit_number: &'a str,
    seal_number: &'a str,
    kind: &'a str,
    sha256: &'a str,
    sha512: Option<&'a str>,
    sha1: Option<&'a str>,
    md5: Option<&'a str>,
    size_bytes: Option<i64>,
    collected_at: &'a str,
    collector_id: &'a str,
    description_record: Option<&'a str>,
    location_record: Option<&'a str>,
    acquisition_tool: Option<&'a str>,
    acquisition_version: Option<&'a str>,
    acquisition_settings: Option<&'a str>,
    parent_id: Option<&'a str>,
    registered_seq: i64,
}

/// An item's custody state, as inserted when the item is registered.
#[derive(Insertable)]
#[diesel(table_name = custody_states)]
#[diesel(treat_none_as_default_value = false)]
struct CustodyStateRow<'a> {
    item_id: &'a str,
    holder_id: &'a str,
    custody_status: &'a str,
    pending_to: Option<&'a str>,
    pending_event: Option<&'a str>,
    integrity: &'a str,
    last_event_seq: Option<i64>,
}

/// Items joined to their custody state: select [`EvidenceRow`] from it.
pub fn evidence_with_state() -> diesel::dsl::InnerJoin<evidence_items::table, custody_states::table>
{
    evidence_items::table.inner_join(custody_states::table)
}

/// A custody event's projection row: what an item's timeline walks and filters on.
#[derive(Insertable, Queryable, QueryableByName, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = custody_events)]
#[diesel(treat_none_as_default_value = false)]
pub struct CustodyEventRow {
    /// The event's place in the log: its entry holds the event itself.
    pub seq: i64,
    pub id: String,
    pub item_id: String,
    /// The custody event type (`CustodyEventType` text).
    pub event_type: String,
    pub actor_id: String,
    /// When it happened, with the zone where it happened (RFC 3339).
    pub occurred_at: String,
    /// When the log recorded it (RFC 3339, UTC).
    pub recorded_at: String,
    /// The same item's previous custody event (none for its first): the timeline is this chain.
    pub item_prev_seq: Option<i64>,
}

#[cfg(feature = "sqlite")]
impl super::AppendRow for CustodyEventRow {
    type Owned = Self;
    const INSERT: &'static str = "INSERT OR FAIL INTO custody_events (seq, id, item_id, \
        event_type, actor_id, occurred_at, recorded_at, item_prev_seq) VALUES ";
    fn bind_values<'b>(&'b self, values: &mut super::RowValues<'_, 'b>) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Nullable, Text};
        values.bind::<BigInt, _>(&self.seq)?;
        for text in [
            &self.id,
            &self.item_id,
            &self.event_type,
            &self.actor_id,
            &self.occurred_at,
            &self.recorded_at,
        ] {
            values.bind::<Text, _>(text)?;
        }
        values.bind::<Nullable<BigInt>, _>(&self.item_prev_seq)
    }
}

/// A custody event with the exact bytes of its log entry, where the event's record is read.
#[derive(QueryableByName, Debug)]
pub struct CustodyEventWithEntry {
    #[diesel(embed)]
    pub event: CustodyEventRow,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    pub body: Vec<u8>,
}

/// A clear-text vault record of older nodes, before the vault was sealed; only read to seal it.
#[derive(Insertable, Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = vault_records)]
pub struct VaultRow {
    /// The vault record's id.
    pub id: String,
    /// The commitment's salt.
    pub salt: Vec<u8>,
    /// The value in clear text.
    pub value: String,
    pub created_at: String,
}

/// Adds a case's projection row.
pub fn insert_case(conn: &mut DbConnection, row: &CaseRow) -> Result<(), StorageError> {
    diesel::insert_into(cases::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A case by id.
pub fn case_by_id(conn: &mut DbConnection, id: &str) -> Result<Option<CaseRow>, StorageError> {
    Ok(cases::table
        .filter(cases::id.eq(id))
        .select(CaseRow::as_select())
        .first(conn)
        .optional()?)
}

/// A case by its reference.
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

/// Registers an item: its facts and its first custody state.
pub fn insert_evidence(conn: &mut DbConnection, row: &EvidenceRow) -> Result<(), StorageError> {
    diesel::insert_into(evidence_items::table)
        .values(RegisteredItem {
            id: &row.id,
            case_id: &row.case_id,
            exhibit_number: &row.exhibit_number,
            seal_number: &row.seal_number,
            kind: &row.kind,
            sha256: &row.sha256,
            sha512: row.sha512.as_deref(),
            sha1: row.sha1.as_deref(),
            md5: row.md5.as_deref(),
            size_bytes: row.size_bytes,
            collected_at: &row.collected_at,
            collector_id: &row.collector_id,
            description_record: row.description_record.as_deref(),
            location_record: row.location_record.as_deref(),
            acquisition_tool: row.acquisition_tool.as_deref(),
            acquisition_version: row.acquisition_version.as_deref(),
            acquisition_settings: row.acquisition_settings.as_deref(),
            parent_id: row.parent_id.as_deref(),
            registered_seq: row.registered_seq,
        })
        .execute(conn)?;
    diesel::insert_into(custody_states::table)
        .values(CustodyStateRow {
            item_id: &row.id,
            holder_id: &row.holder_id,
            custody_status: &row.custody_status,
            pending_to: row.pending_to.as_deref(),
            pending_event: row.pending_event.as_deref(),
            integrity: &row.integrity,
            last_event_seq: row.last_event_seq,
        })
        .execute(conn)?;
    Ok(())
}

/// Writes the custody state of many items on SQLite (the sequencer's batch; PostgreSQL folds it
/// into its one batch statement, `log_store::write_batch`): a multi-row `INSERT OR REPLACE` of
/// whole state rows, in chunks of fixed sizes as `insert_rows!` does, 256 rows at a time, then
/// one each of 128, 64, … 1, so every statement is one prepared once and kept (see
/// `CustodyStates`). Every item in `rows` exists: `apply` found it in the same transaction.
#[cfg(feature = "sqlite")]
pub fn update_custody_states(
    conn: &mut diesel::sqlite::SqliteConnection,
    rows: &[&EvidenceRow],
) -> Result<(), StorageError> {
    let mut rest = rows;
    while let Some((chunk, tail)) = rest.split_first_chunk::<256>() {
        CustodyStates { rows: chunk }.execute(conn)?;
        rest = tail;
    }
    macro_rules! fixed {
        ($($size:literal),+) => {
            $(
                if let Some((chunk, tail)) = rest.split_first_chunk::<$size>() {
                    CustodyStates { rows: chunk }.execute(conn)?;
                    rest = tail;
                }
            )+
        };
    }
    fixed!(128, 64, 32, 16, 8, 4, 2, 1);
    debug_assert!(rest.is_empty());
    Ok(())
}

/// The custody states of `N` items, as a query diesel keeps prepared under a static query id
/// (the type and `N`): found in the statement cache without writing its text first, as a query
/// whose id is its text would be (~2% of the sequencer's thread). Replacing each item's row
/// whole is cheaper than the `UPDATE … FROM (VALUES …)` it replaced, which materialized the
/// values and joined them to the table (7% of the sequencer's thread against 12%, `perf`).
#[cfg(feature = "sqlite")]
struct CustodyStates<'a, const N: usize> {
    rows: &'a [&'a EvidenceRow; N],
}

#[cfg(feature = "sqlite")]
impl<const N: usize> diesel::query_builder::QueryId for CustodyStates<'_, N> {
    type QueryId = CustodyStates<'static, N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

#[cfg(feature = "sqlite")]
impl<const N: usize> diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite>
    for CustodyStates<'_, N>
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Nullable, Text};
        out.push_sql(
            "INSERT OR REPLACE INTO custody_states (item_id, holder_id, custody_status, \
             pending_to, pending_event, integrity, last_event_seq) VALUES ",
        );
        for (i, row) in self.rows.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ",(" });
            out.push_bind_param::<Text, str>(row.id.as_str())?;
            out.push_sql(",");
            out.push_bind_param::<Text, str>(row.holder_id.as_str())?;
            out.push_sql(",");
            out.push_bind_param::<Text, str>(row.custody_status.as_str())?;
            out.push_sql(",");
            out.push_bind_param::<Nullable<Text>, Option<String>>(&row.pending_to)?;
            out.push_sql(",");
            out.push_bind_param::<Nullable<Text>, Option<String>>(&row.pending_event)?;
            out.push_sql(",");
            out.push_bind_param::<Text, str>(row.integrity.as_str())?;
            out.push_sql(",");
            out.push_bind_param::<Nullable<BigInt>, Option<i64>>(&row.last_event_seq)?;
            out.push_sql(")");
        }
        Ok(())
    }
}

#[cfg(feature = "sqlite")]
impl<const N: usize> RunQueryDsl<diesel::sqlite::SqliteConnection> for CustodyStates<'_, N> {}

/// An item with its custody state, by id.
pub fn evidence_by_id(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<EvidenceRow>, StorageError> {
    Ok(evidence_with_state()
        .filter(evidence_items::id.eq(id))
        .select(EvidenceRow::as_select())
        .first(conn)
        .optional()?)
}

/// The items registered with this SHA-256 (lowercase hex) after the entry `after_seq`, in log
/// order, at most `limit` of them.
pub fn evidence_by_sha256(
    conn: &mut DbConnection,
    sha256: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<EvidenceRow>, StorageError> {
    Ok(evidence_with_state()
        .filter(evidence_items::sha256.eq(sha256))
        .filter(evidence_items::registered_seq.gt(after_seq))
        .order(evidence_items::registered_seq.asc())
        .limit(limit)
        .select(EvidenceRow::as_select())
        .load(conn)?)
}

/// The items of a case, in log order.
pub fn evidence_of_case(
    conn: &mut DbConnection,
    case_id: &str,
) -> Result<Vec<EvidenceRow>, StorageError> {
    Ok(evidence_with_state()
        .filter(evidence_items::case_id.eq(case_id))
        .order(evidence_items::registered_seq.asc())
        .select(EvidenceRow::as_select())
        .load(conn)?)
}

/// The items of a case registered after the entry `after_seq`, in log order, at most `limit`.
pub fn evidence_of_case_after(
    conn: &mut DbConnection,
    case_id: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<EvidenceRow>, StorageError> {
    Ok(evidence_with_state()
        .filter(evidence_items::case_id.eq(case_id))
        .filter(evidence_items::registered_seq.gt(after_seq))
        .order(evidence_items::registered_seq.asc())
        .limit(limit)
        .select(EvidenceRow::as_select())
        .load(conn)?)
}

/// The items derived from `parent` registered after the entry `after_seq`, in log order, at
/// most `limit`.
pub fn children_of(
    conn: &mut DbConnection,
    parent: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<EvidenceRow>, StorageError> {
    Ok(evidence_with_state()
        .filter(evidence_items::parent_id.eq(parent))
        .filter(evidence_items::registered_seq.gt(after_seq))
        .order(evidence_items::registered_seq.asc())
        .limit(limit)
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

/// Inserts custody events (chunked multi-row INSERTs on SQLite, one COPY on PostgreSQL).
pub fn insert_events(
    conn: &mut DbConnection,
    rows: &[CustodyEventRow],
) -> Result<(), StorageError> {
    insert_rows!(conn, custody_events::table, rows);
    Ok(())
}

/// Whether `event_id` is one of the custody events already recorded for `item` (walked along the
/// item's chain: corrections are rare, and the events table needs no index on ids for them).
pub fn item_has_event(
    conn: &mut DbConnection,
    item: &str,
    event_id: &str,
) -> Result<bool, StorageError> {
    use diesel::sql_types::{BigInt, Text};
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        #[expect(dead_code, reason = "only whether a row comes back matters")]
        seq: i64,
    }
    let found: Vec<Found> = on_backend!(conn, c => {
        let select = format!(
            "SELECT e.seq FROM custody_events e \
             WHERE e.seq IN (SELECT seq FROM chain) AND e.id = {}",
            param(c, 2)
        );
        let sql = chain_sql("item_id = {param}", &param(c, 1), &select);
        diesel::sql_query(sql)
            .bind::<Text, _>(item)
            .bind::<Text, _>(event_id)
            .load::<Found>(c)
    })?;
    Ok(!found.is_empty())
}

/// The chain of custody events that starts at the latest event of the items whose custody
/// states `states_sql` selects (a statement over `custody_states` with one bound text parameter,
/// written `{param}`), walked back through `item_prev_seq`: one statement on both backends, one
/// index probe per event.
fn chain_sql(states_sql: &str, param: &str, select: &str) -> String {
    format!(
        "WITH RECURSIVE chain(seq) AS ( \
           SELECT last_event_seq FROM custody_states WHERE {} AND last_event_seq IS NOT NULL \
           UNION ALL \
           SELECT e.item_prev_seq FROM custody_events e JOIN chain ON e.seq = chain.seq \
           WHERE e.item_prev_seq IS NOT NULL) \
         {select} ORDER BY seq",
        states_sql.replace("{param}", param)
    )
}

/// Every custody event of one item, in log order, each with its log entry.
pub fn events_of_item(
    conn: &mut DbConnection,
    item: &str,
) -> Result<Vec<CustodyEventWithEntry>, StorageError> {
    events_with_entries(conn, "item_id = {param}", item)
}

/// At most `limit` custody events of one item, the latest before its event `before_seq` (the
/// latest of all when none), in log order: a page of its timeline, read backwards along the
/// item's chain so that it costs one index probe per event shown, however long the chain. An
/// event `before_seq` of another item gives an empty page.
pub fn item_events_before(
    conn: &mut DbConnection,
    item: &str,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<CustodyEventWithEntry>, StorageError> {
    use diesel::sql_types::{BigInt, Text};
    Ok(on_backend!(conn, c => {
        let (item_p, limit_p, before_p) = (param(c, 1), param(c, 2), param(c, 3));
        let start = match before_seq {
            None => format!(
                "SELECT last_event_seq, 1 FROM custody_states \
                 WHERE item_id = {item_p} AND last_event_seq IS NOT NULL"
            ),
            Some(_) => format!(
                "SELECT item_prev_seq, 1 FROM custody_events \
                 WHERE seq = {before_p} AND item_id = {item_p} AND item_prev_seq IS NOT NULL"
            ),
        };
        let sql = format!(
            "WITH RECURSIVE chain(seq, depth) AS ( {start} \
               UNION ALL \
               SELECT e.item_prev_seq, chain.depth + 1 FROM custody_events e \
               JOIN chain ON e.seq = chain.seq \
               WHERE e.item_prev_seq IS NOT NULL AND chain.depth < {limit_p}) \
             SELECT e.seq AS seq, e.id, e.item_id, e.event_type, e.actor_id, \
               e.occurred_at, e.recorded_at, e.item_prev_seq, l.body \
             FROM custody_events e JOIN log_entries l ON l.seq = e.seq \
             WHERE e.seq IN (SELECT seq FROM chain) ORDER BY e.seq"
        );
        let query = diesel::sql_query(sql)
            .bind::<Text, _>(item)
            .bind::<BigInt, _>(limit);
        match before_seq {
            None => query.load::<CustodyEventWithEntry>(c),
            Some(before) => query.bind::<BigInt, _>(before).load::<CustodyEventWithEntry>(c),
        }
    })?)
}

/// Every custody event of a case's items, in log order, each with its log entry: each item's
/// chain walked from its state, all in one statement.
pub fn events_of_case(
    conn: &mut DbConnection,
    case_id: &str,
) -> Result<Vec<CustodyEventWithEntry>, StorageError> {
    events_with_entries(
        conn,
        "item_id IN (SELECT id FROM evidence_items WHERE case_id = {param})",
        case_id,
    )
}

/// The events of the chains [`chain_sql`] walks from the states `states_sql` selects with
/// `key`, each with its log entry, in log order.
fn events_with_entries(
    conn: &mut DbConnection,
    states_sql: &str,
    key: &str,
) -> Result<Vec<CustodyEventWithEntry>, StorageError> {
    use diesel::sql_types::Text;
    const SELECT: &str = "SELECT e.seq AS seq, e.id, e.item_id, e.event_type, e.actor_id, \
        e.occurred_at, e.recorded_at, e.item_prev_seq, l.body \
        FROM custody_events e JOIN log_entries l ON l.seq = e.seq \
        WHERE e.seq IN (SELECT seq FROM chain)";
    Ok(on_backend!(conn, c => {
        diesel::sql_query(chain_sql(states_sql, &param(c, 1), SELECT))
            .bind::<Text, _>(key)
            .load::<CustodyEventWithEntry>(c)
    })?)
}

/// A sealed vault record (see `node::vault`): nothing in it is readable without the keys.
#[derive(Insertable, Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = vault_sealed)]
#[diesel(treat_none_as_default_value = false)]
pub struct SealedRow {
    pub id: String,
    pub sealed: Vec<u8>,
    pub wrapped_key: Vec<u8>,
    pub created_at: String,
    /// The case the value belongs to (for retention by the case's state), when there is one.
    pub case_id: Option<String>,
    /// `DataCategory` text: which retention period applies.
    pub category: String,
}

#[cfg(feature = "sqlite")]
impl super::AppendRow for SealedRow {
    type Owned = Self;
    const INSERT: &'static str = "INSERT OR FAIL INTO vault_sealed (id, sealed, wrapped_key, \
        created_at, case_id, category) VALUES ";
    fn bind_values<'b>(&'b self, values: &mut super::RowValues<'_, 'b>) -> QueryResult<()> {
        use diesel::sql_types::{Binary, Nullable, Text};
        values.bind::<Text, _>(&self.id)?;
        values.bind::<Binary, _>(&self.sealed)?;
        values.bind::<Binary, _>(&self.wrapped_key)?;
        values.bind::<Text, _>(&self.created_at)?;
        values.bind::<Nullable<Text>, _>(&self.case_id)?;
        values.bind::<Text, _>(&self.category)
    }
}

/// Adds sealed vault records (chunked multi-row INSERTs on SQLite, one COPY on PostgreSQL).
pub fn insert_sealed(conn: &mut DbConnection, rows: &[SealedRow]) -> Result<(), StorageError> {
    insert_rows!(conn, vault_sealed::table, rows);
    Ok(())
}

/// A sealed vault record by id.
pub fn sealed_row(conn: &mut DbConnection, id: &str) -> Result<Option<SealedRow>, StorageError> {
    Ok(vault_sealed::table
        .filter(vault_sealed::id.eq(id))
        .select(SealedRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The wrapped data keys of the vault after `after` in id order, `limit` at a time (a
/// rotation re-wraps them all).
pub fn wrapped_keys_after(
    conn: &mut DbConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
    Ok(vault_sealed::table
        .filter(vault_sealed::id.gt(after))
        .order(vault_sealed::id.asc())
        .limit(limit)
        .select((vault_sealed::id, vault_sealed::wrapped_key))
        .load(conn)?)
}

/// Refuses, from now on, new vault rows wrapped under an epoch before `epoch` (a trigger checks
/// every insert against this floor; it only rises).
pub fn raise_vault_epoch_floor(conn: &mut DbConnection, epoch: u32) -> Result<(), StorageError> {
    let floor = epoch.to_be_bytes().to_vec();
    diesel::update(
        vault_epoch_floor::table
            .filter(vault_epoch_floor::id.eq(1))
            .filter(vault_epoch_floor::floor.lt(&floor)),
    )
    .set(vault_epoch_floor::floor.eq(&floor))
    .execute(conn)?;
    Ok(())
}

/// Replaces wrapped keys `(id, old, new)` in one transaction, each only if it is still `old`
/// (an erasure may have deleted the row meanwhile); the number replaced.
pub fn replace_wrapped_keys(
    conn: &mut DbConnection,
    changes: &[(String, Vec<u8>, Vec<u8>)],
) -> Result<u64, StorageError> {
    if changes.is_empty() {
        return Ok(0);
    }
    conn.transaction::<_, StorageError, _>(|c| {
        let mut replaced = 0u64;
        for (id, old, new) in changes {
            let n = diesel::update(
                vault_sealed::table
                    .filter(vault_sealed::id.eq(id))
                    .filter(vault_sealed::wrapped_key.eq(old)),
            )
            .set(vault_sealed::wrapped_key.eq(new))
            .execute(c)?;
            replaced += n as u64;
        }
        Ok(replaced)
    })
}

/// Sealed rows by id (missing ids are simply absent: erased or never there).
pub fn sealed_rows(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<SealedRow>, StorageError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        let rows: Vec<SealedRow> = vault_sealed::table
            .filter(vault_sealed::id.eq_any(chunk))
            .select(SealedRow::as_select())
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Whether the vault holds any sealed record.
pub fn any_sealed(conn: &mut DbConnection) -> Result<bool, StorageError> {
    Ok(vault_sealed::table
        .select(vault_sealed::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// Deletes a sealed record; whether it was there.
pub fn delete_sealed(conn: &mut DbConnection, id: &str) -> Result<bool, StorageError> {
    Ok(diesel::delete(vault_sealed::table.filter(vault_sealed::id.eq(id))).execute(conn)? > 0)
}

/// Clear-text rows left by nodes from before the vault was sealed, `limit` at a time.
pub fn legacy_vault_rows(
    conn: &mut DbConnection,
    limit: i64,
) -> Result<Vec<VaultRow>, StorageError> {
    Ok(vault_records::table
        .select(VaultRow::as_select())
        .limit(limit)
        .load(conn)?)
}

/// Deletes clear-text vault rows of older nodes once they are sealed.
pub fn delete_legacy_vault_rows(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<(), StorageError> {
    for chunk in ids.chunks(10_000) {
        diesel::delete(vault_records::table.filter(vault_records::id.eq_any(chunk)))
            .execute(conn)?;
    }
    Ok(())
}

/// The newest entry of a case's custody record, as stored.
pub fn case_head(
    conn: &mut DbConnection,
    case_id: &str,
) -> Result<Option<CaseHeadRow>, StorageError> {
    Ok(case_heads::table
        .filter(case_heads::case_id.eq(case_id))
        .select(CaseHeadRow::as_select())
        .first(conn)
        .optional()?)
}

/// Writes the newest entry of each case in `rows`, replacing what was there (SQLite; PostgreSQL
/// writes them in its batch statement, `log_store::write_batch`).
#[cfg(feature = "sqlite")]
pub fn replace_case_heads(
    conn: &mut diesel::sqlite::SqliteConnection,
    rows: &[CaseHeadRow],
) -> Result<(), StorageError> {
    for chunk in rows.chunks(256) {
        diesel::replace_into(case_heads::table)
            .values(chunk)
            .execute(conn)?;
    }
    Ok(())
}

/// Empties the projections (not the vault, which the log cannot regenerate).
pub fn clear_projections(conn: &mut DbConnection) -> Result<(), StorageError> {
    diesel::delete(case_heads::table).execute(conn)?;
    diesel::delete(access_records::table).execute(conn)?;
    diesel::delete(persons::table).execute(conn)?;
    diesel::delete(case_shares::table).execute(conn)?;
    diesel::delete(custody_events::table).execute(conn)?;
    diesel::delete(custody_states::table).execute(conn)?;
    diesel::update(evidence_items::table)
        .set(evidence_items::parent_id.eq(None::<String>))
        .execute(conn)?;
    diesel::delete(evidence_items::table).execute(conn)?;
    diesel::delete(cases::table).execute(conn)?;
    Ok(())
}
