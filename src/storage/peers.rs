//! What the Entente network needs kept: as a witness, the checkpoint this node last cosigned for
//! each peer's log; as a log, its own checkpoints once a quorum of its witnesses cosigned them.
//!
//! The witness's state moves by compare-and-set (one `UPDATE … WHERE size AND root`, or one
//! `INSERT` that a second insert cannot pass), so two requests racing can never both win, and
//! the commit is durable (SQLite `synchronous = FULL`, PostgreSQL's synchronous commit) before
//! the node cosigns: a restart never lets it cosign a smaller or another tree.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::{cosigned_checkpoints, peer_alerts, witnessed_logs};
use super::{DbConnection, StorageError};

/// The checkpoint this node last cosigned for one log.
#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = witnessed_logs)]
pub struct WitnessedRow {
    /// The log's origin.
    pub origin: String,
    /// Its tree size.
    pub size: i64,
    /// Its root hash (32 bytes).
    pub root: Vec<u8>,
    /// The signed checkpoint note as it was submitted (the evidence, should the log fork).
    pub checkpoint: String,
    /// When it was cosigned (RFC 3339).
    pub updated_at: String,
}

/// What this node last cosigned for `origin`, if anything.
pub fn witnessed(
    conn: &mut DbConnection,
    origin: &str,
) -> Result<Option<WitnessedRow>, StorageError> {
    Ok(witnessed_logs::table
        .find(origin)
        .select(WitnessedRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every log this node witnesses, by origin.
pub fn all_witnessed(conn: &mut DbConnection) -> Result<Vec<WitnessedRow>, StorageError> {
    Ok(witnessed_logs::table
        .order(witnessed_logs::origin)
        .select(WitnessedRow::as_select())
        .load(conn)?)
}

/// Moves a log's state from `expected` (`None`: never witnessed) to `new`, only if it is still
/// `expected`: answers false when another request moved it first.
pub fn advance_witnessed(
    conn: &mut DbConnection,
    expected: Option<(i64, &[u8])>,
    new: &WitnessedRow,
) -> Result<bool, StorageError> {
    match expected {
        None => match diesel::insert_into(witnessed_logs::table)
            .values(new)
            .execute(conn)
        {
            Ok(_) => Ok(true),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
            Err(e) => Err(e.into()),
        },
        Some((size, root)) => {
            let moved = diesel::update(
                witnessed_logs::table
                    .filter(witnessed_logs::origin.eq(&new.origin))
                    .filter(witnessed_logs::size.eq(size))
                    .filter(witnessed_logs::root.eq(root)),
            )
            .set((
                witnessed_logs::size.eq(new.size),
                witnessed_logs::root.eq(&new.root),
                witnessed_logs::checkpoint.eq(&new.checkpoint),
                witnessed_logs::updated_at.eq(&new.updated_at),
            ))
            .execute(conn)?;
            Ok(moved == 1)
        }
    }
}

/// How many of this node's cosigned checkpoints are kept (the newest; older ones are dropped,
/// since the newest proves every earlier entry and the peers hold the history).
const COSIGNED_KEPT: i64 = 256;

/// Keeps one of this node's checkpoints with the cosignatures that made the quorum: a newer
/// round for the same size (a heartbeat, a witness back) replaces it, with fresher
/// cosignatures; only the newest [`COSIGNED_KEPT`] sizes stay.
pub fn insert_cosigned(
    conn: &mut DbConnection,
    tree_size: i64,
    note: &str,
    created_at: &str,
) -> Result<(), StorageError> {
    let replaced = diesel::update(cosigned_checkpoints::table.find(tree_size))
        .set((
            cosigned_checkpoints::note.eq(note),
            cosigned_checkpoints::created_at.eq(created_at),
        ))
        .execute(conn)?;
    if replaced == 0 {
        match diesel::insert_into(cosigned_checkpoints::table)
            .values((
                cosigned_checkpoints::tree_size.eq(tree_size),
                cosigned_checkpoints::note.eq(note),
                cosigned_checkpoints::created_at.eq(created_at),
            ))
            .execute(conn)
        {
            // Two rounds racing for one size: either note is a valid cosigned checkpoint.
            Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e.into()),
        }
        let oldest_kept: Option<i64> = cosigned_checkpoints::table
            .order(cosigned_checkpoints::tree_size.desc())
            .select(cosigned_checkpoints::tree_size)
            .offset(COSIGNED_KEPT - 1)
            .first(conn)
            .optional()?;
        if let Some(oldest) = oldest_kept {
            diesel::delete(
                cosigned_checkpoints::table.filter(cosigned_checkpoints::tree_size.lt(oldest)),
            )
            .execute(conn)?;
        }
    }
    Ok(())
}

/// The newest of this node's quorum-cosigned checkpoints, as (size, note).
pub fn latest_cosigned(conn: &mut DbConnection) -> Result<Option<(i64, String)>, StorageError> {
    Ok(latest_cosigned_at(conn)?.map(|(size, note, _)| (size, note)))
}

/// When the newest of this node's cosigned checkpoints was cosigned: (size, note, RFC 3339).
pub fn latest_cosigned_at(
    conn: &mut DbConnection,
) -> Result<Option<(i64, String, String)>, StorageError> {
    Ok(cosigned_checkpoints::table
        .order(cosigned_checkpoints::tree_size.desc())
        .select((
            cosigned_checkpoints::tree_size,
            cosigned_checkpoints::note,
            cosigned_checkpoints::created_at,
        ))
        .first(conn)
        .optional()?)
}

/// The oldest quorum-cosigned checkpoint at or above `size`, as (size, note): what upgrades a
/// receipt for an entry below `size` to a cosigned one.
pub fn cosigned_covering(
    conn: &mut DbConnection,
    size: i64,
) -> Result<Option<(i64, String)>, StorageError> {
    Ok(cosigned_checkpoints::table
        .filter(cosigned_checkpoints::tree_size.ge(size))
        .order(cosigned_checkpoints::tree_size.asc())
        .select((cosigned_checkpoints::tree_size, cosigned_checkpoints::note))
        .first(conn)
        .optional()?)
}

/// A peer's log caught contradicting itself: the index row of its `peer.misbehaved` entry.
#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = peer_alerts)]
pub struct AlertRow {
    /// SHA-256 of the log's origin and the size it contradicted (one alert per log and size).
    pub offered_digest: Vec<u8>,
    /// The peer log's origin.
    pub log: String,
    /// What it did (`split_view`, `not_an_extension`).
    pub seen: String,
    /// The seq of the `peer.misbehaved` entry holding the evidence.
    pub seq: i64,
    /// When it was caught (RFC 3339).
    pub at: String,
}

/// Whether this contradiction was already recorded.
pub fn alert_recorded(
    conn: &mut DbConnection,
    offered_digest: &[u8],
) -> Result<bool, StorageError> {
    Ok(peer_alerts::table
        .find(offered_digest)
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// How many contradictions of `log` were recorded.
pub fn alerts_of_log(conn: &mut DbConnection, log: &str) -> Result<i64, StorageError> {
    Ok(peer_alerts::table
        .filter(peer_alerts::log.eq(log))
        .count()
        .get_result(conn)?)
}

/// Indexes a recorded contradiction (a second record of the same one is ignored).
pub fn insert_alert(conn: &mut DbConnection, row: &AlertRow) -> Result<(), StorageError> {
    match diesel::insert_into(peer_alerts::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Every contradiction recorded, oldest first.
pub fn alerts(conn: &mut DbConnection) -> Result<Vec<AlertRow>, StorageError> {
    Ok(peer_alerts::table
        .order(peer_alerts::seq)
        .select(AlertRow::as_select())
        .load(conn)?)
}
