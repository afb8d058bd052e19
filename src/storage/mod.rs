//! Storage: diesel over embedded SQLite or PostgreSQL, chosen by the database URL.
//!
//! One `DbConnection` enum serves both backends; where SQL must differ (locks, pragmas) a single
//! match on the connection says so. Migrations are embedded per backend and run before the pool
//! serves anything. Nothing here knows HTTP or the custody rules.

/// Runs one diesel expression on the concrete backend connection, for the few statements
/// (batch inserts) that diesel's multi-backend type cannot express.
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            $crate::storage::DbConnection::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::storage::DbConnection::Pg($c) => $body,
        }
    };
}

/// How each backend writes a bound parameter of a raw statement (`?1` on SQLite, `$1` on
/// PostgreSQL).
pub(crate) trait Placeholder {
    const PREFIX: char;
}
#[cfg(feature = "sqlite")]
impl Placeholder for diesel::SqliteConnection {
    const PREFIX: char = '?';
}
#[cfg(feature = "postgres")]
impl Placeholder for diesel::PgConnection {
    const PREFIX: char = '$';
}

/// The `n`th (from 1) bound parameter of a raw statement on `c`'s backend.
pub(crate) fn param<C: Placeholder>(_: &C, n: usize) -> String {
    format!("{}{n}", C::PREFIX)
}

/// Inserts many rows of one table in the caller's transaction. SQLite: multi-row `INSERT OR
/// FAIL`s ([`InsertOrFail`]) of fixed sizes (256 rows at a time, then one each of 128, 64, … 1
/// as the rest needs), so each size is one statement diesel prepares once and keeps: a statement
/// for an arbitrary row count is parsed and planned anew every time, which cost the sequencer 7%
/// of its time. PostgreSQL: one binary `COPY` (no statement of hundreds of parameters to parse
/// and plan).
macro_rules! insert_rows {
    (@fixed $c:ident, $rest:ident, $($size:literal),+) => {
        $(
            if let Some((chunk, tail)) = $rest.split_first_chunk::<$size>() {
                $crate::storage::InsertOrFail::new(chunk).execute($c)?;
                $rest = tail;
            }
        )+
    };
    // The SQLite statements alone, on a `SqliteConnection` (rows, or references to rows).
    (@sqlite $c:ident, $rows:expr) => {{
        let mut rest = &$rows[..];
        while let Some((chunk, tail)) = rest.split_first_chunk::<256>() {
            $crate::storage::InsertOrFail::new(chunk).execute($c)?;
            rest = tail;
        }
        insert_rows!(@fixed $c, rest, 128, 64, 32, 16, 8, 4, 2);
        if let Some(row) = rest.first() {
            $crate::storage::InsertOrFail::new(std::array::from_ref(row)).execute($c)?;
        }
    }};
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            $crate::storage::DbConnection::Sqlite(c) => insert_rows!(@sqlite c, $rows),
            #[cfg(feature = "postgres")]
            $crate::storage::DbConnection::Pg(c) => {
                if !$rows.is_empty() {
                    diesel::copy_from($table)
                        .from_insertable($rows)
                        .execute(c)?;
                }
            }
        }
    };
}

/// A row of a table the sequencer appends to, as [`InsertOrFail`] writes it on SQLite.
#[cfg(feature = "sqlite")]
pub trait AppendRow {
    /// The owned row type: what names the statement in diesel's cache, whether the rows are
    /// given as values or as references (the sequencer writes its vault rows from the writers'
    /// requests, without copying them).
    type Owned: 'static;
    /// `INSERT OR FAIL INTO table (columns) VALUES `: the statement up to its rows.
    const INSERT: &'static str;
    /// Binds this row's values, in the columns' order.
    fn bind_values<'b>(&'b self, values: &mut RowValues<'_, 'b>) -> diesel::QueryResult<()>;
}

#[cfg(feature = "sqlite")]
impl<R: AppendRow> AppendRow for &R {
    type Owned = R::Owned;
    const INSERT: &'static str = R::INSERT;
    fn bind_values<'b>(&'b self, values: &mut RowValues<'_, 'b>) -> diesel::QueryResult<()> {
        (**self).bind_values(values)
    }
}

/// One row's `(?, ?, …)` as an [`AppendRow`] binds its values into it.
#[cfg(feature = "sqlite")]
pub struct RowValues<'a, 'b> {
    out: diesel::query_builder::AstPass<'a, 'b, diesel::sqlite::Sqlite>,
    bound: usize,
}

#[cfg(feature = "sqlite")]
impl<'b> RowValues<'_, 'b> {
    /// Binds one value of the row.
    pub fn bind<T, U>(&mut self, value: &'b U) -> diesel::QueryResult<()>
    where
        diesel::sqlite::Sqlite: diesel::sql_types::HasSqlType<T>,
        U: diesel::serialize::ToSql<T, diesel::sqlite::Sqlite> + ?Sized,
    {
        self.out.push_sql(if self.bound == 0 { "(" } else { ", " });
        self.bound += 1;
        self.out.push_bind_param::<T, U>(value)
    }
}

/// A multi-row `INSERT OR FAIL` of exactly `N` rows, kept prepared by diesel (its query id is
/// the row type and `N`).
///
/// Why not diesel's own `INSERT`: SQLite opens a statement journal for a multi-row statement
/// that could fail half-way with `ABORT` (the default conflict resolution), so that it alone
/// could be undone, and copies every page the statement first touches into it: 4% of the
/// sequencer's thread. A batch's statements never need that (any error rolls the whole
/// transaction back), and with `OR FAIL` SQLite keeps none. diesel cannot write `INSERT OR FAIL`.
#[cfg(feature = "sqlite")]
pub struct InsertOrFail<'a, R, const N: usize> {
    rows: &'a [R; N],
}

#[cfg(feature = "sqlite")]
impl<'a, R: AppendRow, const N: usize> InsertOrFail<'a, R, N> {
    /// The statement for these rows.
    pub fn new(rows: &'a [R; N]) -> Self {
        Self { rows }
    }
}

#[cfg(feature = "sqlite")]
impl<R: AppendRow, const N: usize> diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite>
    for InsertOrFail<'_, R, N>
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(R::INSERT);
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            let mut values = RowValues {
                out: out.reborrow(),
                bound: 0,
            };
            row.bind_values(&mut values)?;
            values.out.push_sql(")");
        }
        Ok(())
    }
}

#[cfg(feature = "sqlite")]
impl<R: AppendRow, const N: usize> diesel::query_builder::QueryId for InsertOrFail<'_, R, N> {
    type QueryId = InsertOrFail<'static, R::Owned, N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

#[cfg(feature = "sqlite")]
impl<R, const N: usize> diesel::RunQueryDsl<diesel::sqlite::SqliteConnection>
    for InsertOrFail<'_, R, N>
{
}

/// The key of the PostgreSQL advisory lock that orders appends (`with_append_lock`, and the batch
/// statement in `log_store::write_batch`), as SQL text.
macro_rules! append_lock_key {
    () => {
        "7310111661540226053"
    };
}

pub mod exchange;
pub mod identity;
pub mod log_store;
pub mod peers;
pub mod projection_rows;
pub mod protection;
pub mod registry;
pub mod schema;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(feature = "postgres")]
use diesel::pg::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::sqlite::SqliteConnection;

#[cfg(feature = "sqlite")]
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend, as the pool hands it out.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteConnection),
    #[cfg(feature = "postgres")]
    Pg(PgConnection),
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(
        "unsupported database URL scheme `{0}` (use sqlite://PATH, a file path, or postgres://…)"
    )]
    UnsupportedScheme(String),
    #[error("this build has no {0} support")]
    BackendNotBuilt(&'static str),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot make the database durable (fsync): {0}")]
    Sync(String),
}

impl StorageError {
    /// Text holding a NUL byte, which PostgreSQL refuses to store or compare (`invalid byte
    /// sequence for encoding "UTF8": 0x00`): the request's fault, not the server's.
    pub fn is_text_with_nul(&self) -> bool {
        matches!(
            self,
            StorageError::Query(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("0x00")
        )
    }

    /// A uniqueness violation: the caller turns it into a conflict, not a server error.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StorageError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Reads a database URL: `sqlite://PATH` or `postgres://…`; anything else (a bare path
    /// included, which would make a database where none is expected) is refused.
    pub fn parse(url: &str) -> Result<Self, StorageError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(StorageError::UnsupportedScheme(scheme.to_owned()));
        }
        Err(StorageError::UnsupportedScheme(String::new()))
    }

    /// The default database: `scelle.db` in the node's data directory.
    pub fn sqlite_in(data_dir: &Path) -> Self {
        DatabaseUrl::Sqlite(data_dir.join("scelle.db"))
    }

    /// The backend's name, as in messages.
    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }

    /// Opens one connection, with the SQLite pragmas the node relies on.
    pub fn connect(&self) -> Result<DbConnection, StorageError> {
        match self {
            #[cfg(feature = "sqlite")]
            DatabaseUrl::Sqlite(path) => {
                create_private_file(path)?;
                let path = path
                    .to_str()
                    .ok_or_else(|| StorageError::Connect("path is not UTF-8".into()))?;
                let mut conn = SqliteConnection::establish(path)
                    .map_err(|e| StorageError::Connect(e.to_string()))?;
                // WAL lets readers run beside the sequencer; FULL makes every commit durable (fsync).
                // Statement journals stay in memory (they only serve a statement's own rollback).
                // Reads copy pages (`pread`); only a whole-file scan maps the file (`ScanConn`).
                conn.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                     PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY; \
                     PRAGMA mmap_size = 0; PRAGMA secure_delete = ON;",
                ))
                .map_err(|e| StorageError::Connect(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres(url) => {
                let conn = PgConnection::establish(url)
                    .map_err(|e| StorageError::Connect(e.to_string()))?;
                Ok(DbConnection::Pg(conn))
            }
            #[allow(unreachable_patterns)]
            other => Err(StorageError::BackendNotBuilt(other.backend_name())),
        }
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            // Never print credentials.
            DatabaseUrl::Postgres(u) => match u.rsplit_once('@') {
                Some((_, host)) => write!(f, "postgres://…@{host}"),
                None => f.write_str(u),
            },
        }
    }
}

/// Runs the pending migrations of the connection's backend; how many ran.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, StorageError> {
    let applied = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        #[cfg(feature = "postgres")]
        DbConnection::Pg(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    };
    applied.map_err(|e| StorageError::Migration(e.to_string()))
}

/// Reverts every migration (used by the migration round-trip test and `scelle migrate --revert-all`).
pub fn revert_all_migrations(conn: &mut DbConnection) -> Result<usize, StorageError> {
    let reverted = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        #[cfg(feature = "postgres")]
        DbConnection::Pg(c) => c
            .revert_all_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    };
    reverted.map_err(|e| StorageError::Migration(e.to_string()))
}

/// Reverts the latest applied migration (the data-migration round-trip test steps down with it).
pub fn revert_last_migration(conn: &mut DbConnection) -> Result<(), StorageError> {
    let reverted = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map(|_| ()),
        #[cfg(feature = "postgres")]
        DbConnection::Pg(c) => c.revert_last_migration(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    reverted.map_err(|e| StorageError::Migration(e.to_string()))
}

/// Makes the pool's connections to one database.
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = StorageError;

    fn connect(&self) -> Result<DbConnection, StorageError> {
        self.url.connect()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StorageError> {
        conn.batch_execute("SELECT 1").map_err(StorageError::Query)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// The pool of database connections.
pub type Pool = r2d2::Pool<Manager>;
/// A connection checked out of the [`Pool`].
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The checkpointer's tick sender, its thread, and the turn it shares with the sequencer.
pub struct WalCheckpointer {
    pub ticks: std::sync::mpsc::SyncSender<()>,
    pub thread: std::thread::JoinHandle<()>,
    pub turn: std::sync::Arc<AppendTurn>,
}

/// Who writes to the database now: the sequencer, for each batch's transaction, or the WAL
/// checkpointer, while its `RESTART` holds SQLite's write lock. Taking turns in the process
/// matters because SQLite's own wait for a busy lock sleeps (1, 2, 5, 10 ms… between tries):
/// a sequencer that met the checkpointer's lock slept at least a millisecond with every
/// writer waiting on it, where the restart itself holds the lock for less. Here the sequencer
/// blocks only as long as the restart runs, and resumes the moment it ends.
#[derive(Debug, Default)]
pub struct AppendTurn {
    lock: std::sync::Mutex<()>,
    checkpointer_waiting: std::sync::atomic::AtomicBool,
    restarts: std::sync::atomic::AtomicU64,
    restart_nanos: std::sync::atomic::AtomicU64,
}

impl AppendTurn {
    /// The sequencer's turn, for one batch. If the checkpointer is waiting for a turn, it gets
    /// it first: a mutex alone would let the sequencer, which asks again within microseconds,
    /// take it back before the woken checkpointer runs.
    pub fn for_sequencer(&self) -> std::sync::MutexGuard<'_, ()> {
        use std::sync::atomic::Ordering;
        while self.checkpointer_waiting.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
        self.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn for_checkpointer(&self) -> std::sync::MutexGuard<'_, ()> {
        use std::sync::atomic::Ordering;
        self.checkpointer_waiting.store(true, Ordering::Release);
        let guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.checkpointer_waiting.store(false, Ordering::Release);
        guard
    }

    /// Log restarts so far, and the wall time the sequencer's turn was held for them.
    pub fn restarts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering;
        (
            self.restarts.load(Ordering::Relaxed),
            self.restart_nanos.load(Ordering::Relaxed),
        )
    }
}

/// Copies SQLite's write-ahead log into the database file on its own thread and connection, so
/// the sequencer's commits never wait for it. The sequencer turns its own automatic checkpoints
/// off (`disable_auto_checkpoint`) and sends a tick after each commit; ticks arriving while a
/// checkpoint runs coalesce. Each round copies without blocking anyone (`PASSIVE`), then takes
/// the sequencer's turn (`AppendTurn`) for a `RESTART`, which copies what arrived meanwhile and
/// waits for readers to leave the log, so the next commit writes the log file from its start
/// again. When the sender is dropped the thread runs a last full checkpoint and ends.
/// PostgreSQL needs none of this: `None`.
pub fn start_wal_checkpointer(url: &DatabaseUrl) -> Result<Option<WalCheckpointer>, StorageError> {
    use std::sync::atomic::Ordering;
    let DatabaseUrl::Sqlite(path) = url else {
        return Ok(None);
    };
    let mut conn = url.connect()?;
    let database = database_file(path)?;
    let (ticks, incoming) = std::sync::mpsc::sync_channel::<()>(1);
    let turn = std::sync::Arc::new(AppendTurn::default());
    let thread = std::thread::Builder::new()
        .name("scelle-wal-checkpoint".into())
        .spawn({
            let turn = turn.clone();
            move || {
                // RESTART waits this long for readers to leave the log (the sequencer does not
                // write meanwhile: it waits for its turn).
                let _ = conn.batch_execute("PRAGMA busy_timeout = 5");
                while incoming.recv().is_ok() {
                    let mut done = copy_while_long(&mut conn);
                    // SQLite syncs the database file only in a checkpoint that copied the whole
                    // log, which with appends arriving is the `RESTART` alone: it would flush
                    // every page copied since the last one while holding the sequencer. Flushed
                    // here first, the restart's own sync covers only its remainder.
                    // A failed sync may have lost copied pages for good, and a later one could
                    // succeed without them: the log, synced by the sequencer's syncer, is then
                    // the only sure copy, and this thread stops copying and restarting it.
                    if done.is_ok() {
                        if let Err(e) = database.sync_data() {
                            tracing::error!(error = %e, "database file sync failed; the write-ahead log is kept whole from now on");
                            return;
                        }
                        done = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)");
                    }
                    if done.is_ok() {
                        let _turn = turn.for_checkpointer();
                        let started = std::time::Instant::now();
                        done = conn.batch_execute("PRAGMA wal_checkpoint(RESTART)");
                        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        turn.restarts.fetch_add(1, Ordering::Relaxed);
                        turn.restart_nanos.fetch_add(nanos, Ordering::Relaxed);
                    }
                    if let Err(e) = done {
                        tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)") {
                    tracing::warn!(error = %e, "final WAL checkpoint failed");
                }
            }
        })
        .map_err(|e| StorageError::Connect(e.to_string()))?;
    Ok(Some(WalCheckpointer {
        ticks,
        thread,
        turn,
    }))
}

/// The database file at `path`, opened once per process and never closed. Closing any
/// descriptor of a file drops every POSIX lock the process holds on it, SQLite's included
/// (another process could then take the database for unused and remove its live log), so the
/// descriptor is kept for the process's life and shared by every checkpointer of that file.
fn database_file(path: &Path) -> Result<std::sync::Arc<std::fs::File>, StorageError> {
    static OPEN: std::sync::OnceLock<
        std::sync::Mutex<HashMap<PathBuf, std::sync::Arc<std::fs::File>>>,
    > = std::sync::OnceLock::new();
    let failed = |e: std::io::Error| StorageError::Connect(format!("{}: {e}", path.display()));
    let key = path.canonicalize().map_err(failed)?;
    let mut open = OPEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(file) = open.get(&key) {
        return Ok(file.clone());
    }
    let file = std::sync::Arc::new(std::fs::File::open(&key).map_err(failed)?);
    open.insert(key, file.clone());
    Ok(file)
}

/// `PASSIVE` rounds, again while a round took long: what arrives during a round is what the
/// next copies, and what the last leaves is what the `RESTART` copies with the sequencer held.
/// Rounds end once one is short (it had little to copy besides its fsync of the log), or after
/// a few.
fn copy_while_long(conn: &mut DbConnection) -> Result<(), diesel::result::Error> {
    const ROUNDS: u32 = 4;
    const SHORT: Duration = Duration::from_millis(2);
    for _ in 0..ROUNDS {
        let started = std::time::Instant::now();
        conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")?;
        if started.elapsed() < SHORT {
            break;
        }
    }
    Ok(())
}

/// Makes the sequencer's commits durable after the fact, on the syncer thread.
///
/// The sequencer's own connection commits without waiting for the disk (`commit_without_fsync`).
/// The syncer then flushes once for every batch committed meanwhile, and only then are their
/// writers answered: one batch's flush overlaps the writing of the next, and an answer still
/// means durable.
/// - SQLite: `fdatasync` of the write-ahead log file (`WalFile`).
/// - PostgreSQL: a connection of its own commits a transaction that writes to the server's log,
///   under the server's own `synchronous_commit`. Its commit record comes after every commit the
///   sequencer made before it, and the server answers only once the log is flushed (and, with
///   synchronous replication, replicated) up to that record, so up to all of those.
pub enum LogFlush {
    Sqlite(WalFile),
    #[cfg(feature = "postgres")]
    Postgres(Box<PgConnection>),
}

impl LogFlush {
    /// The flush for the database at `url`; on PostgreSQL, with a connection of its own.
    pub fn of(url: &DatabaseUrl) -> Result<Self, StorageError> {
        match url {
            DatabaseUrl::Sqlite(path) => Ok(Self::Sqlite(WalFile::of(path))),
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres(_) => match url.connect()? {
                DbConnection::Pg(conn) => Ok(Self::Postgres(Box::new(conn))),
                #[allow(unreachable_patterns)]
                _ => Err(StorageError::Connect("not a PostgreSQL connection".into())),
            },
            #[allow(unreachable_patterns)]
            other => Err(StorageError::BackendNotBuilt(other.backend_name())),
        }
    }

    /// Makes everything committed so far durable.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        match self {
            Self::Sqlite(wal) => wal.sync(),
            #[cfg(feature = "postgres")]
            Self::Postgres(conn) => flush_pg(conn),
        }
    }

    /// When the sequencer starts: makes durable what an earlier process committed without a
    /// flush (a node killed between a commit and its flush).
    pub fn sync_at_start(&mut self) -> Result<(), StorageError> {
        match self {
            Self::Sqlite(wal) => wal.sync_at_start(),
            #[cfg(feature = "postgres")]
            Self::Postgres(conn) => flush_pg(conn),
        }
    }
}

/// Commits, in autocommit, a transaction that writes a record to the server's log and so takes
/// a transaction id: the server answers once its log is flushed up to that commit (see
/// `LogFlush`). A transactional logical message is such a record, with no table to write: a
/// transaction that only took an id, with `pg_current_xact_id()`, commits without a flush,
/// because it wrote nothing else.
#[cfg(feature = "postgres")]
fn flush_pg(conn: &mut PgConnection) -> Result<(), StorageError> {
    conn.batch_execute("SELECT pg_logical_emit_message(true, 'scelle.flush', '')")
        .map_err(|e| StorageError::Sync(format!("PostgreSQL flush: {e}")))
}

/// Makes every commit made so far on the server durable, where commits may be reported before
/// they are (PostgreSQL, whose sequencers commit without waiting: see `LogFlush`). Returns
/// whether it did: SQLite's only writer is this process's sequencer, whose syncer alone knows.
pub fn flush_committed(conn: &mut DbConnection) -> Result<bool, StorageError> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(_) => Ok(false),
        #[cfg(feature = "postgres")]
        DbConnection::Pg(c) => flush_pg(c).map(|()| true),
    }
}

/// SQLite's write-ahead log file, held open so the sequencer's syncer thread can `fdatasync` it.
///
/// The sequencer's own connection commits with `synchronous = NORMAL` (`commit_without_fsync`):
/// its frames reach the operating system at commit but not the disk.
/// `fdatasync` covers every byte written to the file before it is called, whichever connection
/// wrote it, including a WAL header rewritten when the log restarts; the file itself stays while
/// the sequencer's connection is open (SQLite removes it only when the last connection closes).
#[derive(Debug)]
pub struct WalFile {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl WalFile {
    /// The log of the SQLite database at `database`.
    fn of(database: &Path) -> Self {
        let mut wal = database.to_path_buf().into_os_string();
        wal.push("-wal");
        Self {
            path: PathBuf::from(wal),
            file: None,
        }
    }

    /// Makes everything written to the log so far durable.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        let failed =
            |e: std::io::Error| StorageError::Sync(format!("{}: {e}", self.path.display()));
        if self.file.is_none() {
            self.file = Some(
                std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&self.path)
                    .map_err(failed)?,
            );
        }
        match &self.file {
            Some(file) => file.sync_data().map_err(failed),
            None => Ok(()),
        }
    }

    /// When the sequencer starts: makes durable what an earlier process committed without its
    /// fsync (a node killed between a commit and its sync), if there is a log at all. The main
    /// database file needs nothing: SQLite syncs it whenever a checkpoint writes to it. It is
    /// never opened here either: closing a second descriptor of it would drop every POSIX lock
    /// this process's connections hold on it, and another process could then delete the log
    /// under them.
    pub fn sync_at_start(&mut self) -> Result<(), StorageError> {
        match self.sync() {
            Err(StorageError::Sync(_)) if !self.path.exists() => Ok(()),
            other => other,
        }
    }
}

/// Lets a connection commit without waiting for the disk; for the sequencer's connection only,
/// whose writers wait for `LogFlush::sync` instead.
pub fn commit_without_fsync(conn: &mut DbConnection) -> Result<(), StorageError> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => c
            .batch_execute("PRAGMA synchronous = NORMAL")
            .map_err(StorageError::Query),
        #[cfg(feature = "postgres")]
        DbConnection::Pg(c) => c
            .batch_execute("SET synchronous_commit = off")
            .map_err(StorageError::Query),
    }
}

/// How long a SQLite connection waits for a lock before it answers busy.
#[cfg(feature = "sqlite")]
const SQLITE_BUSY_TIMEOUT_MS: u32 = 15_000;

/// Creates an empty SQLite database file readable by its owner only (0600), unless it exists:
/// SQLite would create it under the process's umask (0644), and its WAL and shared-memory
/// files take the database file's mode.
#[cfg(feature = "sqlite")]
fn create_private_file(path: &Path) -> Result<(), StorageError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    if path.as_os_str() == ":memory:" || path.exists() {
        return Ok(());
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StorageError::Connect(format!("{}: {e}", path.display()))),
    }
}

/// Writes a consistent copy of the SQLite database to the new file `to` (`VACUUM INTO`: one
/// read transaction, so the copy is the database as of one moment, while writers go on).
pub fn snapshot_into(conn: &mut DbConnection, to: &Path) -> Result<(), StorageError> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => {
            let path = to
                .to_str()
                .ok_or_else(|| StorageError::Connect("path is not UTF-8".into()))?;
            diesel::sql_query("VACUUM INTO ?")
                .bind::<diesel::sql_types::Text, _>(path)
                .execute(c)?;
            Ok(())
        }
        #[cfg(feature = "postgres")]
        DbConnection::Pg(_) => Err(StorageError::BackendNotBuilt("sqlite")),
    }
}

/// Whether the database holds the log's table (a database no node has used holds nothing).
pub fn has_log_table(conn: &mut DbConnection) -> Result<bool, StorageError> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let query = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(_) => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'log_entries'"
        }
        #[cfg(feature = "postgres")]
        DbConnection::Pg(_) => {
            "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'log_entries'"
        }
    };
    let found: Vec<Found> = diesel::sql_query(query).load(conn)?;
    Ok(found.first().is_some_and(|f| f.n > 0))
}

/// Folds SQLite's write-ahead log into the database and empties it (after an erasure, so no
/// old copy of an erased page stays in the log file), trying a few times while a reader holds
/// it: whether it is empty. `None` on PostgreSQL, which has no such file to clean from here.
pub fn empty_wal(conn: &mut DbConnection) -> Result<Option<bool>, StorageError> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => {
            #[derive(diesel::QueryableByName)]
            struct WalCheckpoint {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                busy: i32,
            }
            // A reader's snapshot makes the checkpoint wait in the busy handler: short waits,
            // a few times, then the connection's usual timeout again.
            c.batch_execute("PRAGMA busy_timeout = 100")?;
            let mut emptied = false;
            for attempt in 0..5u32 {
                let done: Result<Vec<WalCheckpoint>, _> =
                    diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").load(c);
                if done
                    .as_ref()
                    .is_ok_and(|r| r.first().is_some_and(|r| r.busy == 0))
                {
                    emptied = true;
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50 << attempt));
            }
            c.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))?;
            Ok(Some(emptied))
        }
        #[cfg(feature = "postgres")]
        DbConnection::Pg(_) => Ok(None),
    }
}

/// Stops a SQLite connection from checkpointing on commit (see `start_wal_checkpointer`).
pub fn disable_auto_checkpoint(conn: &mut DbConnection) -> Result<(), StorageError> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => c
            .batch_execute("PRAGMA wal_autocheckpoint = 0")
            .map_err(StorageError::Query),
        #[cfg(feature = "postgres")]
        DbConnection::Pg(_) => Ok(()),
    }
}

/// Runs migrations on one connection, then builds the pool.
pub fn open_pool(url: &DatabaseUrl, size: u32) -> Result<Pool, StorageError> {
    let mut conn = url.connect()?;
    run_migrations(&mut conn)?;
    drop(conn);
    // A SQLite file cannot drop a connection, so checking each one out with a query is pure
    // cost there; a PostgreSQL connection can die with its server and is checked.
    let remote = !matches!(url, DatabaseUrl::Sqlite(_));
    r2d2::Pool::builder()
        .max_size(size)
        .test_on_check_out(remote)
        .connection_timeout(Duration::from_secs(30))
        .build(Manager { url: url.clone() })
        .map_err(|e| StorageError::Pool(e.to_string()))
}

/// A connection from the pool.
pub fn get_conn(pool: &Pool) -> Result<PooledConn, StorageError> {
    pool.get().map_err(|e| StorageError::Pool(e.to_string()))
}

/// A connection from the pool, or an error once `wait` has passed (a health check must answer
/// quickly, not after the pool's 30 s).
pub fn get_conn_within(pool: &Pool, wait: Duration) -> Result<PooledConn, StorageError> {
    pool.get_timeout(wait)
        .map_err(|e| StorageError::Pool(e.to_string()))
}

/// Bytes of the database file SQLite maps for a connection that reads it whole: 1 TiB, the cap
/// our SQLite is built with (`SQLITE_MAX_MMAP_SIZE` in `.cargo/config.toml`; SQLite's default
/// cap of 2 GiB left most of a 10M-entry log to `pread`). SQLite clamps the pragma to its cap, so
/// the unit test below fails if the build flag is lost.
const SCAN_MMAP_BYTES: i64 = 1 << 40;

/// A pooled connection that maps the database file for one whole-file scan (the audit): a scan
/// reads every page in order, and mapped pages are not copied. Every other read uses `pread`: a
/// fault on a page of the mapping nobody had read yet made the kernel read ahead around it (8 MiB
/// on this disk) where `pread` reads the page, so cold random lookups took 18–21 ms at the 99th
/// percentile mapped against 0.32 ms unmapped. Dropped, the connection goes back to `pread`.
pub struct ScanConn(PooledConn);

impl ScanConn {
    /// A connection from the pool, mapped for a whole-file scan.
    pub fn get(pool: &Pool) -> Result<Self, StorageError> {
        let mut conn = get_conn(pool)?;
        set_mapped_bytes(&mut conn, SCAN_MMAP_BYTES)?;
        Ok(Self(conn))
    }
}

impl std::ops::Deref for ScanConn {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.0
    }
}

impl std::ops::DerefMut for ScanConn {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.0
    }
}

impl Drop for ScanConn {
    fn drop(&mut self) {
        if let Err(e) = set_mapped_bytes(&mut self.0, 0) {
            tracing::warn!(error = %e, "a pooled connection stays mapped after a scan");
        }
    }
}

fn set_mapped_bytes(conn: &mut DbConnection, bytes: i64) -> Result<(), StorageError> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => c
            .batch_execute(&format!("PRAGMA mmap_size = {bytes}"))
            .map_err(StorageError::Query),
        #[allow(unreachable_patterns)]
        _ => Ok(()),
    }
}

/// Whether `conn` is to PostgreSQL, where a batch may be written without a transaction of its
/// own (see `log_store::write_batch`).
pub fn is_postgres(conn: &DbConnection) -> bool {
    match conn {
        #[cfg(feature = "postgres")]
        DbConnection::Pg(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// Runs `f` in a write transaction that first takes the node's single append lock.
///
/// SQLite: `BEGIN IMMEDIATE` takes the database write lock before anything is read (no stale
/// snapshot, and `busy_timeout` applies to waiting), without writing a row for it.
/// PostgreSQL: a transaction-scoped advisory lock, so several `scelle serve` processes on one
/// database take turns and never fork the log.
pub fn with_append_lock<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::AnsiTransactionManager;
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(inner) => {
            // The transaction is the inner connection's; the outer one's manager commits or
            // rolls back that same transaction.
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            finish_transaction(conn, f)
        }
        // One round trip for both: the simple-query protocol runs the two statements in turn.
        #[cfg(feature = "postgres")]
        DbConnection::Pg(inner) => {
            if let Err(e) = AnsiTransactionManager::begin_transaction_sql(
                inner,
                concat!(
                    "BEGIN; SELECT pg_advisory_xact_lock(",
                    append_lock_key!(),
                    ")"
                ),
            ) {
                // The `BEGIN` may have run before the lock failed (a `lock_timeout`, a
                // cancel): diesel then knows of no transaction, so end it here, or the
                // connection would stay in an aborted one.
                let _ = inner.batch_execute("ROLLBACK");
                return Err(e.into());
            }
            finish_transaction(conn, f)
        }
    }
}

/// Runs `f` in a read-only transaction that sees one snapshot of the database throughout,
/// whatever commits meanwhile (the audit compares the tables with the log as of one moment).
///
/// SQLite: a deferred `BEGIN`; the snapshot is taken at the first read and kept (WAL mode).
/// PostgreSQL: `REPEATABLE READ`, whose snapshot is taken at the first statement.
pub fn with_read_snapshot<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::AnsiTransactionManager;
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN DEFERRED")?;
            finish_transaction(conn, f)
        }
        #[cfg(feature = "postgres")]
        DbConnection::Pg(inner) => {
            AnsiTransactionManager::begin_transaction_sql(
                inner,
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            )?;
            finish_transaction(conn, f)
        }
    }
}

/// Runs `f` in the transaction just begun on `conn`'s inner connection, then commits it, or
/// rolls it back if `f` failed.
fn finish_transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::TransactionManager;
    type Manager = <DbConnection as Connection>::TransactionManager;
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        // As diesel's own `transaction`: a rollback that fails for a broken manager still
        // reports the caller's error, the more telling one.
        Err(e) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::BigInt;

    #[derive(QueryableByName)]
    struct MappedBytes {
        #[diesel(sql_type = BigInt)]
        mmap_size: i64,
    }

    fn mapped_bytes(conn: &mut DbConnection) -> i64 {
        let DbConnection::Sqlite(c) = conn else {
            panic!("a SQLite connection")
        };
        diesel::sql_query("PRAGMA mmap_size")
            .get_result::<MappedBytes>(c)
            .unwrap()
            .mmap_size
    }

    #[test]
    fn only_a_scan_maps_the_file_and_its_connection_goes_back_to_pread() {
        let dir = tempfile::tempdir().unwrap();
        let pool = open_pool(&DatabaseUrl::sqlite_in(dir.path()), 1).unwrap();
        assert_eq!(mapped_bytes(&mut get_conn(&pool).unwrap()), 0);
        {
            let mut scan = ScanConn::get(&pool).unwrap();
            assert_eq!(mapped_bytes(&mut scan), SCAN_MMAP_BYTES);
        }
        // The pool's one connection, handed back by the scan.
        assert_eq!(mapped_bytes(&mut get_conn(&pool).unwrap()), 0);
    }
}
