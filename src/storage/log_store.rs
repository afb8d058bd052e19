//! Reads and writes of the log tables: entries, interior nodes, checkpoints.
//!
//! Node lookups are batched: a proof asks for its O(log n) nodes in two queries (leaves from
//! `log_entries`, interior hashes from `tree_nodes`), whatever the size of the log.

use diesel::prelude::*;
use std::collections::HashMap;

use super::registry::{self, CaseHeadRow, CustodyEventRow, EvidenceRow, SealedRow};
use super::schema::{checkpoints, log_entries, node_settings, tree_nodes};
use super::{DbConnection, StorageError};
use scelle_verifier::merkle::{Hash, NodeId};

/// Bits of a `tree_nodes` key that hold the node's level (1–63).
const LEVEL_BITS: u32 = 6;
const LEVEL_MASK: i64 = (1 << LEVEL_BITS) - 1;

/// The `tree_nodes` key of an interior node (migration 11): `completing_leaf << 6 | level`,
/// where the completing leaf is the last one the node covers, `((index + 1) << level) - 1`.
///
/// The nodes an append batch completes then have keys above every stored one, in the order the
/// batch makes them: they go to the end of the table (on SQLite a row-id table, appended
/// without rebalancing), and a chunk of leaves' nodes are one key range for the audit. Keyed
/// level by level, as levels 4 and up were before, each batch wrote at the tail of a dozen
/// ranges: 5.9 of a 22-entry commit's 23 WAL pages. Keys stay below 2^63 for logs under 2^57
/// entries.
pub fn node_key(id: NodeId) -> i64 {
    let completing_leaf = ((id.index + 1) << id.level) - 1;
    ((completing_leaf as i64) << LEVEL_BITS) | id.level as i64
}

/// The node a `tree_nodes` key names: the inverse of [`node_key`].
pub fn node_id_from_key(key: i64) -> NodeId {
    let level = (key & LEVEL_MASK) as u8;
    let completing_leaf = (key >> LEVEL_BITS) as u64;
    NodeId::new(level, ((completing_leaf + 1) >> level).saturating_sub(1))
}

/// A stored hash as 32 bytes; a stored hash of another length is corruption.
pub fn to_hash(bytes: &[u8]) -> Result<Hash, StorageError> {
    bytes.try_into().map_err(|_| {
        StorageError::Corrupt(format!("stored hash has {} bytes, not 32", bytes.len()))
    })
}

/// A log entry as written: its position, RFC 9162 leaf hash and canonical bytes.
#[derive(Insertable)]
#[diesel(table_name = log_entries)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewEntry {
    pub seq: i64,
    pub leaf_hash: Vec<u8>,
    pub body: Vec<u8>,
}

/// A stored interior node of the Merkle tree.
#[derive(Insertable)]
#[diesel(table_name = tree_nodes)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewNode {
    /// The node's key: see [`node_key`].
    pub node_key: i64,
    pub hash: Vec<u8>,
}

#[cfg(feature = "sqlite")]
impl super::AppendRow for NewEntry {
    type Owned = Self;
    const INSERT: &'static str = "INSERT OR FAIL INTO log_entries (seq, leaf_hash, body) VALUES ";
    fn bind_values<'b>(&'b self, values: &mut super::RowValues<'_, 'b>) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Binary};
        values.bind::<BigInt, _>(&self.seq)?;
        values.bind::<Binary, _>(&self.leaf_hash)?;
        values.bind::<Binary, _>(&self.body)
    }
}

#[cfg(feature = "sqlite")]
impl super::AppendRow for NewNode {
    type Owned = Self;
    const INSERT: &'static str = "INSERT OR FAIL INTO tree_nodes (node_key, hash) VALUES ";
    fn bind_values<'b>(&'b self, values: &mut super::RowValues<'_, 'b>) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Binary};
        values.bind::<BigInt, _>(&self.node_key)?;
        values.bind::<Binary, _>(&self.hash)
    }
}

/// A checkpoint as stored: the C2SP signed note of the tree at one size.
#[derive(Insertable, Queryable, Debug, Clone)]
#[diesel(table_name = checkpoints)]
pub struct CheckpointRow {
    pub tree_size: i64,
    /// The RFC 9162 root hash of the tree at `tree_size`.
    pub root_hash: Vec<u8>,
    /// The C2SP signed note, as served.
    pub note: String,
    /// When the checkpoint was signed (RFC 3339, UTC).
    pub created_at: String,
}

/// The sequencer's one checkpoint per batch, as a statement diesel keeps prepared under a static
/// id: diesel's own `INSERT` wrote its SQL text anew for every batch, to find it in the cache.
#[cfg(feature = "sqlite")]
impl super::AppendRow for CheckpointRow {
    type Owned = Self;
    const INSERT: &'static str =
        "INSERT OR FAIL INTO checkpoints (tree_size, root_hash, note, created_at) VALUES ";
    fn bind_values<'b>(&'b self, values: &mut super::RowValues<'_, 'b>) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Binary, Text};
        values.bind::<BigInt, _>(&self.tree_size)?;
        values.bind::<Binary, _>(&self.root_hash)?;
        values.bind::<Text, _>(&self.note)?;
        values.bind::<Text, _>(&self.created_at)
    }
}

/// Size of the log and the leaf hash of its last entry.
pub fn head(conn: &mut DbConnection) -> Result<(u64, Hash), StorageError> {
    let last: Option<(i64, Vec<u8>)> = log_entries::table
        .select((log_entries::seq, log_entries::leaf_hash))
        .order(log_entries::seq.desc())
        .first(conn)
        .optional()?;
    match last {
        None => Ok((0, [0; 32])),
        Some((seq, hash)) => Ok((seq as u64 + 1, to_hash(&hash)?)),
    }
}

/// Fetches the given nodes (leaves and interior) in at most two queries.
pub fn fetch_nodes(
    conn: &mut DbConnection,
    ids: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, StorageError> {
    let mut out = HashMap::with_capacity(ids.len());
    let leaves: Vec<i64> = ids
        .iter()
        .filter(|i| i.level == 0)
        .map(|i| i.index as i64)
        .collect();
    let interior: Vec<i64> = ids
        .iter()
        .filter(|i| i.level > 0)
        .map(|i| node_key(*i))
        .collect();
    // Chunked to stay under SQLite's bound-parameter limit (a dossier asks for many at once).
    for chunk in leaves.chunks(FETCH_CHUNK) {
        let rows: Vec<(i64, Vec<u8>)> = log_entries::table
            .select((log_entries::seq, log_entries::leaf_hash))
            .filter(log_entries::seq.eq_any(chunk))
            .load(conn)?;
        for (seq, h) in rows {
            out.insert(NodeId::new(0, seq as u64), to_hash(&h)?);
        }
    }
    for chunk in interior.chunks(FETCH_CHUNK) {
        let rows: Vec<(i64, Vec<u8>)> = tree_nodes::table
            .select((tree_nodes::node_key, tree_nodes::hash))
            .filter(tree_nodes::node_key.eq_any(chunk))
            .load(conn)?;
        for (key, h) in rows {
            out.insert(node_id_from_key(key), to_hash(&h)?);
        }
    }
    Ok(out)
}

const FETCH_CHUNK: usize = 10_000;

/// The entries with these `seq`s, in `seq` order.
pub fn entries_by_seqs(
    conn: &mut DbConnection,
    seqs: &[u64],
) -> Result<Vec<EntryRow>, StorageError> {
    let mut out = Vec::with_capacity(seqs.len());
    let seqs: Vec<i64> = seqs.iter().map(|s| *s as i64).collect();
    for chunk in seqs.chunks(FETCH_CHUNK) {
        let rows: Vec<EntryRow> = log_entries::table
            .filter(log_entries::seq.eq_any(chunk))
            .load(conn)?;
        out.extend(rows);
    }
    out.sort_by_key(|r| r.0);
    Ok(out)
}

/// Writes one batch of entries and the interior nodes they complete.
pub fn insert_batch(
    conn: &mut DbConnection,
    entries: &[NewEntry],
    nodes: &[NewNode],
) -> Result<(), StorageError> {
    insert_rows!(&mut *conn, log_entries::table, entries);
    insert_rows!(&mut *conn, tree_nodes::table, nodes);
    Ok(())
}

/// Stores a checkpoint.
pub fn insert_checkpoint(conn: &mut DbConnection, row: &CheckpointRow) -> Result<(), StorageError> {
    diesel::insert_into(checkpoints::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The newest checkpoint, if any.
pub fn latest_checkpoint(conn: &mut DbConnection) -> Result<Option<CheckpointRow>, StorageError> {
    latest_checkpoint_within(conn, None)
}

/// The latest checkpoint of a size up to `max_size` (any size when `None`).
pub fn latest_checkpoint_within(
    conn: &mut DbConnection,
    max_size: Option<u64>,
) -> Result<Option<CheckpointRow>, StorageError> {
    let max_size = max_size.map_or(i64::MAX, |m| i64::try_from(m).unwrap_or(i64::MAX));
    Ok(checkpoints::table
        .filter(checkpoints::tree_size.le(max_size))
        .order(checkpoints::tree_size.desc())
        .first(conn)
        .optional()?)
}

/// Checkpoints in order of size, `limit` at a time, after `after_size`.
pub fn checkpoints_after(
    conn: &mut DbConnection,
    after_size: i64,
    limit: i64,
) -> Result<Vec<CheckpointRow>, StorageError> {
    Ok(checkpoints::table
        .filter(checkpoints::tree_size.gt(after_size))
        .order(checkpoints::tree_size.asc())
        .limit(limit)
        .load(conn)?)
}

/// The canonical bytes of the entry at `seq`.
pub fn entry_body(conn: &mut DbConnection, seq: u64) -> Result<Option<Vec<u8>>, StorageError> {
    // A position the table cannot hold (beyond 2^63 - 1) holds no entry.
    let Ok(seq) = i64::try_from(seq) else {
        return Ok(None);
    };
    Ok(log_entries::table
        .select(log_entries::body)
        .filter(log_entries::seq.eq(seq))
        .first(conn)
        .optional()?)
}

/// A stored entry row: (seq, leaf hash, canonical bytes).
pub type EntryRow = (i64, Vec<u8>, Vec<u8>);

/// Entries with `from <= seq < to`, in order: (seq, leaf hash, body).
pub fn entries_range(
    conn: &mut DbConnection,
    from: u64,
    to: u64,
) -> Result<Vec<EntryRow>, StorageError> {
    Ok(log_entries::table
        .filter(
            log_entries::seq
                .ge(from as i64)
                .and(log_entries::seq.lt(to as i64)),
        )
        .order(log_entries::seq.asc())
        .load(conn)?)
}

/// Entries with `from <= seq < to`, in order, each handed to `visit` as (seq, stored leaf hash,
/// entry bytes) as soon as it is read, so the caller works on bytes still in the cache and the
/// memory in use stays one row's. Stops early once `visit` returns `false`.
pub fn scan_entries(
    conn: &mut DbConnection,
    from: u64,
    to: u64,
    mut visit: impl FnMut(i64, &[u8], &[u8]) -> bool,
) -> Result<(), StorageError> {
    let rows = log_entries::table
        .filter(
            log_entries::seq
                .ge(from as i64)
                .and(log_entries::seq.lt(to as i64)),
        )
        .order(log_entries::seq.asc())
        .load_iter::<EntryRow, diesel::connection::DefaultLoadingMode>(conn)?;
    for row in rows {
        let (seq, leaf, body) = row?;
        if !visit(seq, &leaf, &body) {
            break;
        }
    }
    Ok(())
}

/// Stored interior nodes of one level with `from <= index < to`, by key (a level's nodes are
/// spread over the whole table, one in `2^level` completing leaves).
pub fn level_nodes(
    conn: &mut DbConnection,
    level: u8,
    from: u64,
    to: u64,
) -> Result<Vec<(NodeId, Hash)>, StorageError> {
    let mut out = Vec::with_capacity(to.saturating_sub(from) as usize);
    let mut index = from;
    while index < to {
        let end = to.min(index + FETCH_CHUNK as u64);
        let keys: Vec<i64> = (index..end)
            .map(|i| node_key(NodeId::new(level, i)))
            .collect();
        let rows: Vec<(i64, Vec<u8>)> = tree_nodes::table
            .select((tree_nodes::node_key, tree_nodes::hash))
            .filter(tree_nodes::node_key.eq_any(&keys))
            .load(conn)?;
        for (key, hash) in rows {
            out.push((node_id_from_key(key), to_hash(&hash)?));
        }
        index = end;
    }
    Ok(out)
}

/// Stored interior nodes completed by the leaves `from..to` (every level), in key order: one
/// range read.
pub fn nodes_completed_by(
    conn: &mut DbConnection,
    from: u64,
    to: u64,
) -> Result<Vec<(i64, Vec<u8>)>, StorageError> {
    keys_between(conn, (from as i64) << LEVEL_BITS, (to as i64) << LEVEL_BITS)
}

fn keys_between(
    conn: &mut DbConnection,
    lo: i64,
    hi: i64,
) -> Result<Vec<(i64, Vec<u8>)>, StorageError> {
    Ok(tree_nodes::table
        .select((tree_nodes::node_key, tree_nodes::hash))
        .filter(tree_nodes::node_key.ge(lo).and(tree_nodes::node_key.lt(hi)))
        .order(tree_nodes::node_key.asc())
        .load(conn)?)
}

/// The first entry row, if any, outside `0..size`: what a scan of the contiguous log from 0
/// did not read. Two key probes, where counting the rows would read the whole table on SQLite
/// (`seq` is the table's row id: there is no smaller index to count).
pub fn entry_outside(conn: &mut DbConnection, size: u64) -> Result<Option<i64>, StorageError> {
    let below: Option<i64> = log_entries::table
        .select(log_entries::seq)
        .filter(log_entries::seq.lt(0))
        .order(log_entries::seq.asc())
        .first(conn)
        .optional()?;
    if below.is_some() {
        return Ok(below);
    }
    Ok(log_entries::table
        .select(log_entries::seq)
        .filter(log_entries::seq.ge(size as i64))
        .order(log_entries::seq.asc())
        .first(conn)
        .optional()?)
}

/// How many interior nodes are stored that the first `size` leaves complete (their key's
/// completing leaf is below `size`).
pub fn count_nodes_completed_before(
    conn: &mut DbConnection,
    size: u64,
) -> Result<u64, StorageError> {
    let n: i64 = tree_nodes::table
        .filter(tree_nodes::node_key.lt(node_key_bound(size)))
        .count()
        .get_result(conn)?;
    Ok(n as u64)
}

/// The completing leaf of every interior node stored whose completing leaf is `size` or beyond
/// (the nodes of entries appended since, and any the log does not account for).
pub fn node_leaves_from(conn: &mut DbConnection, size: u64) -> Result<Vec<u64>, StorageError> {
    let keys: Vec<i64> = tree_nodes::table
        .select(tree_nodes::node_key)
        .filter(tree_nodes::node_key.ge(node_key_bound(size)))
        .load(conn)?;
    Ok(keys.into_iter().map(|k| (k >> LEVEL_BITS) as u64).collect())
}

/// The smallest key of a node completed by leaf `size` (saturated for sizes no key can hold).
fn node_key_bound(size: u64) -> i64 {
    i64::try_from(size)
        .ok()
        .and_then(|s| s.checked_mul(1 << LEVEL_BITS))
        .unwrap_or(i64::MAX)
}

/// A node setting by name.
pub fn setting(conn: &mut DbConnection, name: &str) -> Result<Option<String>, StorageError> {
    Ok(node_settings::table
        .select(node_settings::value)
        .filter(node_settings::name.eq(name))
        .first(conn)
        .optional()?)
}

/// Sets a node setting, replacing its old value.
pub fn set_setting(conn: &mut DbConnection, name: &str, value: &str) -> Result<(), StorageError> {
    diesel::delete(node_settings::table.filter(node_settings::name.eq(name))).execute(conn)?;
    diesel::insert_into(node_settings::table)
        .values((node_settings::name.eq(name), node_settings::value.eq(value)))
        .execute(conn)?;
    Ok(())
}

/// Everything a committed batch writes at its end: the projections' deferred rows, the entries,
/// the interior nodes they complete and the checkpoint that signs them.
pub struct BatchRows<'a> {
    pub items: &'a [&'a EvidenceRow],
    pub events: &'a [CustodyEventRow],
    /// The newest entry of each case the batch added to.
    pub heads: &'a [CaseHeadRow],
    /// The vault rows of the batch's requests, written from the requests themselves.
    pub vault: &'a [&'a SealedRow],
    pub entries: &'a [NewEntry],
    pub nodes: &'a [NewNode],
    pub checkpoint: Option<&'a CheckpointRow>,
    /// The head the batch was built on, the log's size and last leaf hash, when it was not read
    /// under the append lock in the caller's transaction. PostgreSQL checks it in the batch's own
    /// statement (see `write_batch`). SQLite is never given one: its sequencer always writes in
    /// the transaction that read the head.
    pub follows: Option<(i64, &'a [u8])>,
}

impl BatchRows<'_> {
    fn is_empty(&self) -> bool {
        self.items.is_empty()
            && self.events.is_empty()
            && self.heads.is_empty()
            && self.vault.is_empty()
            && self.entries.is_empty()
            && self.nodes.is_empty()
            && self.checkpoint.is_none()
    }
}

/// Writes a batch's rows in the caller's transaction, if any. SQLite runs one statement per
/// table. PostgreSQL gets them all in one statement (data-modifying `WITH` clauses over `unnest`
/// of bound arrays): a batch costs one statement instead of a dozen, each of which waited its turn
/// on a server sharing the machine's cores.
///
/// That statement also takes the append lock and, where `rows.follows` is given, checks that the
/// log still ends there (no entry at that size, the one before it with that leaf hash); if not,
/// it writes nothing and this returns `false`. So it can run on its own, outside a transaction,
/// on a head the caller remembered instead of one read under the lock. If another node appended
/// since, either the check sees it, or that node committed after this statement's snapshot was
/// taken and the insert of an entry at its `seq` fails with a uniqueness violation: nothing is
/// written and the log cannot fork. (A batch with no entry, every request refused, is then
/// answered on the state as of that snapshot, taken after its requests arrived.)
pub fn write_batch(conn: &mut DbConnection, rows: &BatchRows<'_>) -> Result<bool, StorageError> {
    match conn {
        // With nothing to write, the statement still checks the head: a batch whose every
        // request was refused on a remembered state is answered only if that state was current.
        #[cfg(feature = "postgres")]
        DbConnection::Pg(c) => {
            if rows.is_empty() && rows.follows.is_none() {
                Ok(true)
            } else {
                write_batch_pg(c, rows)
            }
        }
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => {
            if !rows.is_empty() {
                write_batch_sqlite(c, rows)?;
            }
            Ok(true)
        }
    }
}

/// SQLite's batch: one statement per table and chunk size, each kept prepared (`InsertOrFail`).
#[cfg(feature = "sqlite")]
fn write_batch_sqlite(
    c: &mut diesel::sqlite::SqliteConnection,
    rows: &BatchRows<'_>,
) -> Result<(), StorageError> {
    registry::update_custody_states(c, rows.items)?;
    insert_rows!(@sqlite c, rows.events);
    registry::replace_case_heads(c, rows.heads)?;
    insert_rows!(@sqlite c, rows.vault);
    insert_rows!(@sqlite c, rows.entries);
    insert_rows!(@sqlite c, rows.nodes);
    if let Some(checkpoint) = rows.checkpoint {
        insert_rows!(@sqlite c, std::slice::from_ref(checkpoint));
    }
    Ok(())
}

#[cfg(feature = "postgres")]
const PG_BATCH_SQL: &str = concat!(
    "WITH \
 head AS (SELECT ($31::bigint IS NULL \
   OR (NOT EXISTS (SELECT 1 FROM log_entries WHERE seq = $31::bigint) \
   AND ($31::bigint = 0 OR EXISTS (SELECT 1 FROM log_entries \
   WHERE seq = $31::bigint - 1 AND leaf_hash = $32::bytea)))) AS follows \
   FROM (SELECT pg_advisory_xact_lock(",
    append_lock_key!(),
    ")) AS locked), \
 items AS (UPDATE custody_states SET holder_id = v.holder_id, custody_status = v.custody_status, \
   pending_to = v.pending_to, pending_event = v.pending_event, integrity = v.integrity, \
   last_event_seq = v.last_event_seq \
   FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
   $7::bigint[]) \
   AS v(id, holder_id, custody_status, pending_to, pending_event, integrity, last_event_seq) \
   WHERE custody_states.item_id = v.id AND (SELECT follows FROM head)), \
 events AS (INSERT INTO custody_events \
   (id, item_id, seq, event_type, actor_id, occurred_at, recorded_at, item_prev_seq) \
   SELECT * FROM unnest($8::text[], $9::text[], $10::bigint[], $11::text[], $12::text[], \
   $13::text[], $14::text[], $15::bigint[]) WHERE (SELECT follows FROM head)), \
 vault AS (INSERT INTO vault_sealed (id, sealed, wrapped_key, created_at, case_id, category) \
   SELECT * FROM unnest($16::text[], $17::bytea[], $18::bytea[], $19::text[], $20::text[], \
   $21::text[]) WHERE (SELECT follows FROM head)), \
 entries AS (INSERT INTO log_entries (seq, leaf_hash, body) \
   SELECT * FROM unnest($22::bigint[], $23::bytea[], $24::bytea[]) \
   WHERE (SELECT follows FROM head)), \
 nodes AS (INSERT INTO tree_nodes (node_key, hash) \
   SELECT * FROM unnest($25::bigint[], $26::bytea[]) WHERE (SELECT follows FROM head)), \
 checkpoint AS (INSERT INTO checkpoints (tree_size, root_hash, note, created_at) \
   SELECT * FROM unnest($27::bigint[], $28::bytea[], $29::text[], $30::text[]) \
   WHERE (SELECT follows FROM head)), \
 heads AS (INSERT INTO case_heads (case_id, seq, leaf) \
   SELECT * FROM unnest($33::text[], $34::bigint[], $35::bytea[]) \
   WHERE (SELECT follows FROM head) \
   ON CONFLICT (case_id) DO UPDATE SET seq = EXCLUDED.seq, leaf = EXCLUDED.leaf) \
 SELECT 1 FROM head WHERE follows"
);

/// The batch's rows, column by column, as the arrays `PG_BATCH_SQL` unnests.
#[cfg(feature = "postgres")]
struct PgBatch<'a> {
    item_id: Vec<&'a str>,
    holder_id: Vec<&'a str>,
    custody_status: Vec<&'a str>,
    pending_to: Vec<Option<&'a str>>,
    pending_event: Vec<Option<&'a str>>,
    integrity: Vec<&'a str>,
    last_event_seq: Vec<Option<i64>>,
    event_id: Vec<&'a str>,
    event_item: Vec<&'a str>,
    event_seq: Vec<i64>,
    event_type: Vec<&'a str>,
    event_actor: Vec<&'a str>,
    occurred_at: Vec<&'a str>,
    recorded_at: Vec<&'a str>,
    item_prev_seq: Vec<Option<i64>>,
    vault_id: Vec<&'a str>,
    sealed: Vec<&'a [u8]>,
    wrapped_key: Vec<&'a [u8]>,
    vault_created_at: Vec<&'a str>,
    vault_case: Vec<Option<&'a str>>,
    vault_category: Vec<&'a str>,
    entry_seq: Vec<i64>,
    leaf_hash: Vec<&'a [u8]>,
    body: Vec<&'a [u8]>,
    node_key: Vec<i64>,
    node_hash: Vec<&'a [u8]>,
    tree_size: Vec<i64>,
    root_hash: Vec<&'a [u8]>,
    note: Vec<&'a str>,
    checkpoint_at: Vec<&'a str>,
    follows_size: Option<i64>,
    follows_leaf: Option<&'a [u8]>,
    head_case: Vec<&'a str>,
    head_seq: Vec<i64>,
    head_leaf: Vec<&'a [u8]>,
}

#[cfg(feature = "postgres")]
impl<'a> PgBatch<'a> {
    fn of(rows: &BatchRows<'a>) -> Self {
        fn column<'r, T: 'r, U>(
            rows: impl IntoIterator<Item = &'r T>,
            f: impl Fn(&'r T) -> U,
        ) -> Vec<U> {
            rows.into_iter().map(f).collect()
        }
        let items = rows.items.iter().copied();
        let checkpoint = rows.checkpoint;
        Self {
            item_id: column(items.clone(), |r| r.id.as_str()),
            holder_id: column(items.clone(), |r| r.holder_id.as_str()),
            custody_status: column(items.clone(), |r| r.custody_status.as_str()),
            pending_to: column(items.clone(), |r| r.pending_to.as_deref()),
            pending_event: column(items.clone(), |r| r.pending_event.as_deref()),
            integrity: column(items.clone(), |r| r.integrity.as_str()),
            last_event_seq: column(items, |r| r.last_event_seq),
            event_id: column(rows.events, |r| r.id.as_str()),
            event_item: column(rows.events, |r| r.item_id.as_str()),
            event_seq: column(rows.events, |r| r.seq),
            event_type: column(rows.events, |r| r.event_type.as_str()),
            event_actor: column(rows.events, |r| r.actor_id.as_str()),
            occurred_at: column(rows.events, |r| r.occurred_at.as_str()),
            recorded_at: column(rows.events, |r| r.recorded_at.as_str()),
            item_prev_seq: column(rows.events, |r| r.item_prev_seq),
            vault_id: column(rows.vault, |r| r.id.as_str()),
            sealed: column(rows.vault, |r| r.sealed.as_slice()),
            wrapped_key: column(rows.vault, |r| r.wrapped_key.as_slice()),
            vault_created_at: column(rows.vault, |r| r.created_at.as_str()),
            vault_case: column(rows.vault, |r| r.case_id.as_deref()),
            vault_category: column(rows.vault, |r| r.category.as_str()),
            entry_seq: column(rows.entries, |r| r.seq),
            leaf_hash: column(rows.entries, |r| r.leaf_hash.as_slice()),
            body: column(rows.entries, |r| r.body.as_slice()),
            node_key: column(rows.nodes, |r| r.node_key),
            node_hash: column(rows.nodes, |r| r.hash.as_slice()),
            tree_size: column(checkpoint, |r| r.tree_size),
            root_hash: column(checkpoint, |r| r.root_hash.as_slice()),
            note: column(checkpoint, |r| r.note.as_str()),
            checkpoint_at: column(checkpoint, |r| r.created_at.as_str()),
            follows_size: rows.follows.map(|(size, _)| size),
            follows_leaf: rows.follows.map(|(_, leaf)| leaf),
            head_case: column(rows.heads, |r| r.case_id.as_str()),
            head_seq: column(rows.heads, |r| r.seq),
            head_leaf: column(rows.heads, |r| r.leaf.as_slice()),
        }
    }
}

/// `PG_BATCH_SQL` as a query diesel keeps prepared: its text never changes, so the server
/// parses it once per connection and, after its first few runs, keeps one generic plan
/// (`sql_query` is never kept: parsing and planning this six-part statement was about a third
/// of the server's work for a batch).
#[cfg(feature = "postgres")]
impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PgBatch<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Binary, Nullable, Text};
        let mut rest = PG_BATCH_SQL;
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - at - 1);
            let number: usize = rest[at + 1..at + 1 + digits]
                .parse()
                .map_err(|_| diesel::result::Error::QueryBuilderError("bad placeholder".into()))?;
            match number {
                1 => out.push_bind_param::<Array<Text>, _>(&self.item_id)?,
                2 => out.push_bind_param::<Array<Text>, _>(&self.holder_id)?,
                3 => out.push_bind_param::<Array<Text>, _>(&self.custody_status)?,
                4 => out.push_bind_param::<Array<Nullable<Text>>, _>(&self.pending_to)?,
                5 => out.push_bind_param::<Array<Nullable<Text>>, _>(&self.pending_event)?,
                6 => out.push_bind_param::<Array<Text>, _>(&self.integrity)?,
                7 => out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.last_event_seq)?,
                8 => out.push_bind_param::<Array<Text>, _>(&self.event_id)?,
                9 => out.push_bind_param::<Array<Text>, _>(&self.event_item)?,
                10 => out.push_bind_param::<Array<BigInt>, _>(&self.event_seq)?,
                11 => out.push_bind_param::<Array<Text>, _>(&self.event_type)?,
                12 => out.push_bind_param::<Array<Text>, _>(&self.event_actor)?,
                13 => out.push_bind_param::<Array<Text>, _>(&self.occurred_at)?,
                14 => out.push_bind_param::<Array<Text>, _>(&self.recorded_at)?,
                15 => out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.item_prev_seq)?,
                16 => out.push_bind_param::<Array<Text>, _>(&self.vault_id)?,
                17 => out.push_bind_param::<Array<Binary>, _>(&self.sealed)?,
                18 => out.push_bind_param::<Array<Binary>, _>(&self.wrapped_key)?,
                19 => out.push_bind_param::<Array<Text>, _>(&self.vault_created_at)?,
                20 => out.push_bind_param::<Array<Nullable<Text>>, _>(&self.vault_case)?,
                21 => out.push_bind_param::<Array<Text>, _>(&self.vault_category)?,
                22 => out.push_bind_param::<Array<BigInt>, _>(&self.entry_seq)?,
                23 => out.push_bind_param::<Array<Binary>, _>(&self.leaf_hash)?,
                24 => out.push_bind_param::<Array<Binary>, _>(&self.body)?,
                25 => out.push_bind_param::<Array<BigInt>, _>(&self.node_key)?,
                26 => out.push_bind_param::<Array<Binary>, _>(&self.node_hash)?,
                27 => out.push_bind_param::<Array<BigInt>, _>(&self.tree_size)?,
                28 => out.push_bind_param::<Array<Binary>, _>(&self.root_hash)?,
                29 => out.push_bind_param::<Array<Text>, _>(&self.note)?,
                30 => out.push_bind_param::<Array<Text>, _>(&self.checkpoint_at)?,
                31 => out.push_bind_param::<Nullable<BigInt>, _>(&self.follows_size)?,
                32 => out.push_bind_param::<Nullable<Binary>, _>(&self.follows_leaf)?,
                33 => out.push_bind_param::<Array<Text>, _>(&self.head_case)?,
                34 => out.push_bind_param::<Array<BigInt>, _>(&self.head_seq)?,
                35 => out.push_bind_param::<Array<Binary>, _>(&self.head_leaf)?,
                _ => {
                    return Err(diesel::result::Error::QueryBuilderError(
                        "placeholder out of range".into(),
                    ));
                }
            }
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

#[cfg(feature = "postgres")]
impl diesel::query_builder::QueryId for PgBatch<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

#[cfg(feature = "postgres")]
impl<Conn> RunQueryDsl<Conn> for PgBatch<'_> {}

#[cfg(feature = "postgres")]
fn write_batch_pg(
    c: &mut diesel::pg::PgConnection,
    rows: &BatchRows<'_>,
) -> Result<bool, StorageError> {
    Ok(PgBatch::of(rows).execute(c)? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nodes appending leaf `leaf` completes, lowest level first.
    fn completed_by(leaf: u64) -> impl Iterator<Item = NodeId> {
        (1u8..63)
            .take_while(move |level| (leaf + 1).is_multiple_of(1u64 << level))
            .map(move |level| NodeId::new(level, ((leaf + 1) >> level) - 1))
    }

    #[test]
    fn node_keys_round_trip_and_grow_in_append_order() {
        let mut seen = std::collections::HashSet::new();
        for level in 1u8..=40 {
            for index in (0u64..300).chain([(1u64 << 52) / (1u64 << level)]) {
                let id = NodeId::new(level, index);
                let key = node_key(id);
                assert!(key > 0);
                assert_eq!(node_id_from_key(key), id);
                assert!(seen.insert(key), "two nodes share key {key}");
            }
        }
        // Appending leaves one by one makes nodes whose keys only grow: each batch's nodes go to
        // the end of the table, in the order they are inserted.
        let mut last = 0i64;
        for leaf in 0u64..5_000 {
            for id in completed_by(leaf) {
                let key = node_key(id);
                assert!(key > last, "{id:?} after key {last}");
                last = key;
            }
        }
    }

    #[test]
    fn the_nodes_a_run_of_leaves_completes_are_one_key_range() {
        let (from, to) = (64u64, 128u64);
        let mut expected: Vec<i64> = (from..to).flat_map(completed_by).map(node_key).collect();
        expected.sort_unstable();
        // Every stored node of a 1,000-leaf tree: only those completed by leaves 64..128 fall in
        // the range nodes_completed_by reads: 32 + 16 + 8 + 4 + 2 + 1 of levels 1 to 6, and leaf
        // 127 also completes the level-7 node over leaves 0..128.
        let inside: Vec<i64> = (0u64..1_000)
            .flat_map(completed_by)
            .map(node_key)
            .filter(|k| ((from as i64) << LEVEL_BITS..(to as i64) << LEVEL_BITS).contains(k))
            .collect();
        assert_eq!(inside.len(), 64);
        assert_eq!(inside, expected);
    }
}
