//! Each `down.sql` reverses its `up.sql`: up, down, up again gives the same schema.

use diesel::prelude::*;
use diesel::sql_types::Text;
use std::collections::BTreeMap;

use crate::helpers::{BACKENDS, Backend, TestDb};

#[derive(QueryableByName, Debug, PartialEq)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

fn schema(db: &TestDb, backend: Backend) -> Vec<String> {
    let mut c = db.raw();
    let q = match backend {
        Backend::Sqlite => {
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line FROM sqlite_master WHERE name NOT LIKE '__diesel%' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS line FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '__diesel%' ORDER BY table_name, column_name"
        }
    };
    diesel::sql_query(q)
        .load::<Line>(&mut c)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

#[test]
fn migrations_reverse_cleanly() {
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        let mut c = db.raw();
        assert!(scelle::storage::run_migrations(&mut c).unwrap() >= 1);
        let up = schema(&db, backend);
        assert!(up.iter().any(|l| l.contains("log_entries")), "{up:?}");
        scelle::storage::revert_all_migrations(&mut c).unwrap();
        assert_eq!(
            schema(&db, backend),
            Vec::<String>::new(),
            "{backend:?}: down left objects behind"
        );
        scelle::storage::run_migrations(&mut c).unwrap();
        assert_eq!(schema(&db, backend), up);
    }
}

/// The stored interior nodes, by key.
fn stored_nodes(db: &TestDb) -> BTreeMap<i64, Vec<u8>> {
    use scelle::storage::schema::tree_nodes;
    tree_nodes::table
        .select((tree_nodes::node_key, tree_nodes::hash))
        .load::<(i64, Vec<u8>)>(&mut db.raw())
        .unwrap()
        .into_iter()
        .collect()
}

/// Every entry row (`seq`, leaf hash, bytes) and every checkpoint row (size, root, note, time).
type EntryRows = Vec<(i64, Vec<u8>, Vec<u8>)>;
type CheckpointRows = Vec<(i64, Vec<u8>, String, String)>;

/// The log's own rows: every entry and every stored checkpoint, in order.
fn log_rows(db: &TestDb) -> (EntryRows, CheckpointRows) {
    use scelle::storage::schema::{checkpoints, log_entries};
    let mut c = db.raw();
    let entries = log_entries::table
        .select((log_entries::seq, log_entries::leaf_hash, log_entries::body))
        .order(log_entries::seq)
        .load(&mut c)
        .unwrap();
    let checkpoints = checkpoints::table
        .select((
            checkpoints::tree_size,
            checkpoints::root_hash,
            checkpoints::note,
            checkpoints::created_at,
        ))
        .order(checkpoints::tree_size)
        .load(&mut c)
        .unwrap();
    (entries, checkpoints)
}

/// The SQL that made each of `tables` and their indexes (SQLite), or their index names
/// (PostgreSQL).
fn definitions(db: &TestDb, backend: Backend, tables: &str) -> Vec<String> {
    let q = match backend {
        Backend::Sqlite => format!(
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line FROM sqlite_master \
             WHERE tbl_name IN ({tables}) ORDER BY name"
        ),
        Backend::Postgres => format!(
            "SELECT indexname AS line FROM pg_indexes WHERE schemaname = 'public' \
             AND tablename IN ({tables}) ORDER BY indexname"
        ),
    };
    diesel::sql_query(q)
        .load::<Line>(&mut db.raw())
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

/// Every sealed vault row, in id order: (id, sealed, wrapped key, created at, case, category).
type VaultRows = Vec<(String, Vec<u8>, Vec<u8>, String, Option<String>, String)>;

fn vault_rows(db: &TestDb) -> VaultRows {
    use scelle::storage::schema::vault_sealed::dsl::*;
    vault_sealed
        .select((id, sealed, wrapped_key, created_at, case_id, category))
        .order(id)
        .load(&mut db.raw())
        .unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Whether `custody_events` has a foreign key (to its item: the table's only one, until
/// migration 9 dropped it).
fn custody_events_have_a_foreign_key(db: &TestDb, backend: Backend) -> bool {
    let q = match backend {
        Backend::Sqlite => "SELECT COUNT(*) AS n FROM pragma_foreign_key_list('custody_events')",
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM pg_constraint \
             WHERE conrelid = 'custody_events'::regclass AND contype = 'f'"
        }
    };
    diesel::sql_query(q)
        .get_result::<Count>(&mut db.raw())
        .unwrap()
        .n
        > 0
}

/// Every item's custody state, in item order: (item, holder, status, pending to, pending event,
/// integrity, latest event). From `custody_states` since migration 12, from the items' own
/// columns before it.
type StateRows = Vec<(
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
)>;

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Text)]
    item: String,
    #[diesel(sql_type = Text)]
    holder_id: String,
    #[diesel(sql_type = Text)]
    custody_status: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pending_to: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pending_event: Option<String>,
    #[diesel(sql_type = Text)]
    integrity: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    last_event_seq: Option<i64>,
}

fn state_rows(db: &TestDb, table: &str, key: &str) -> StateRows {
    diesel::sql_query(format!(
        "SELECT {key} AS item, holder_id, custody_status, pending_to, pending_event, integrity, \
         last_event_seq FROM {table} ORDER BY {key}"
    ))
    .load::<StateRow>(&mut db.raw())
    .unwrap()
    .into_iter()
    .map(|r| {
        (
            r.item,
            r.holder_id,
            r.custody_status,
            r.pending_to,
            r.pending_event,
            r.integrity,
            r.last_event_seq,
        )
    })
    .collect()
}

/// The custody event rows, in log order (every layout since migration 6 has these columns).
fn event_rows(db: &TestDb) -> Vec<String> {
    use scelle::storage::registry::CustodyEventRow;
    use scelle::storage::schema::custody_events;
    custody_events::table
        .select(CustodyEventRow::as_select())
        .order(custody_events::seq)
        .load(&mut db.raw())
        .unwrap()
        .iter()
        .map(|r| format!("{r:?}"))
        .collect()
}

/// Every case's newest entry of its custody record: (case, seq, leaf hash).
fn case_heads(db: &TestDb) -> Vec<(String, i64, Vec<u8>)> {
    use scelle::storage::schema::case_heads::dsl::*;
    case_heads
        .select((case_id, seq, leaf))
        .order(case_id)
        .load(&mut db.raw())
        .unwrap()
}

#[derive(QueryableByName, Debug)]
struct RestoredDetails {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    details: String,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    body: Vec<u8>,
}

/// After the down of migration 6, every custody event row repeats its record again in
/// `details`, as the earlier code wrote and reads it: the entry's `custody` member.
fn assert_details_restored(db: &TestDb, backend: Backend) {
    let rows = diesel::sql_query(
        "SELECT e.seq AS seq, e.details AS details, l.body AS body \
         FROM custody_events e JOIN log_entries l ON l.seq = e.seq ORDER BY e.seq",
    )
    .load::<RestoredDetails>(&mut db.raw())
    .unwrap();
    assert!(rows.len() >= 3, "{backend:?}: custody events to restore");
    for row in rows {
        let entry: serde_json::Value = serde_json::from_slice(&row.body).unwrap();
        let details: serde_json::Value = serde_json::from_str(&row.details).unwrap();
        assert_eq!(
            details, entry["custody"],
            "{backend:?}: details of the event at seq {}",
            row.seq
        );
        let record: scelle_verifier::entry::CustodyRecord = serde_json::from_str(&row.details)
            .unwrap_or_else(|e| panic!("{backend:?}: seq {}: {e}", row.seq));
        assert!(!record.id.is_empty());
    }
}

/// Migrations 14 (the vault's epoch floor), 13 (each case's newest entry, worked out again on
/// the way up), 4 (the custody
/// chain), 5 (the low levels' node keys), 11 (every level's node keys by completing leaf; on
/// SQLite a row-id table), 6 (lean custody rows), 7
/// (checkpoints keyed by tree size, no vault case index), 8 (SQLite only: entries keyed by
/// `seq`), 9 (custody events without a foreign key to their item; on SQLite the table made
/// again), 10 (SQLite only: the sealed vault rows in a row-id table) and 12 (custody states in a
/// table of their own) rewrite stored rows or tables: on a node written through the real use
/// cases, stepping down through them gives the earlier layouts exactly (12: each item's state
/// back in its row, on SQLite the table as it was made; 11: migration 5's node keys, WITHOUT
/// ROWID again on SQLite; 10: the
/// same sealed rows, WITHOUT ROWID again; 9: the same rows,
/// with the foreign key back; 8: the same entries with `seq` indexed again
/// beside its table; 7: the same entries and checkpoints, with `tree_size` indexed again beside
/// its table on SQLite, and the vault's case index back; 6: each event's record back in
/// `details`; 5: the level-major node keys), and coming back up gives the same rows,
/// projections included, and a log that still audits.
/// Seven refusals of one outsider on the populated node's case: five appended as they come,
/// the other two counted into one more entry when the window closes.
fn counted_refusals(db: &TestDb) {
    use scelle::node::Node;
    use scelle::usecases::{admin, cases, tokens};
    let (node, handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
    admin::add_agency(&node, "bj.police.ocrc", None, "OCRC", false).unwrap();
    let (_, token) = admin::add_user(
        &node,
        "Ibrahim S.",
        scelle_verifier::model::Role::Investigator,
        "bj.police.ocrc",
        None,
    )
    .unwrap();
    let outsider = tokens::authenticate(&node, &token).unwrap();
    let case = scelle::storage::registry::case_by_reference(&mut db.raw(), "TG-1")
        .unwrap()
        .unwrap();
    for _ in 0..7 {
        assert!(cases::read(&node, &outsider, &case.id, None).is_err());
    }
    assert_eq!(
        scelle::authz::close_refusal_windows(&node, true).unwrap(),
        1
    );
    node.shutdown(handle);
}

#[test]
fn data_migrations_round_trip_on_a_populated_node() {
    use scelle::storage::log_store::node_id_from_key;
    for backend in BACKENDS {
        let (db, verifier) = crate::tamper::populated(backend);
        counted_refusals(&db);
        let nodes = stored_nodes(&db);
        let projections = crate::tamper::projection_snapshot(&db);
        assert!(
            projections
                .iter()
                .any(|row| row.contains("item_prev_seq: Some(")),
            "{backend:?}: the populated node has custody chains"
        );
        let log = log_rows(&db);
        assert!(log.0.len() >= 3 && !log.1.is_empty());
        let tables = "'log_entries', 'checkpoints', 'vault_sealed'";
        let keyed = definitions(&db, backend, tables);
        let vault = vault_rows(&db);
        assert!(
            !vault.is_empty(),
            "{backend:?}: the populated node has sealed rows"
        );
        // Migration 16: how many refusals an access record stands for. Its up fills the column
        // from the entries already in the log; its down drops it.
        let counted = || {
            diesel::sql_query(
                "SELECT CAST(seq AS TEXT) || ' ' || CAST(repeated AS TEXT) AS line \
                 FROM access_records WHERE repeated IS NOT NULL ORDER BY seq",
            )
            .load::<Line>(&mut db.raw())
            .unwrap()
        };
        let repeated = counted();
        assert_eq!(repeated.len(), 1, "{backend:?}: {repeated:?}");
        assert!(
            repeated[0].line.ends_with(" 2"),
            "{backend:?}: {repeated:?}"
        );
        let mut c = db.raw();
        // Migration 17: the witness's state per peer log and this node's cosigned checkpoints,
        // two new tables. Its down drops them, its up makes them again, and nothing else moves.
        let network_tables = |present: bool| {
            for table in ["witnessed_logs", "cosigned_checkpoints", "peer_alerts"] {
                let found = diesel::sql_query(format!("SELECT * FROM {table}"))
                    .execute(&mut db.raw())
                    .is_ok();
                assert_eq!(found, present, "{backend:?}: {table}");
            }
        };
        // Migration 18: the dossier exchange's outbox and inbox; its down drops them alone.
        let exchange_tables = |present: bool| {
            for table in ["outbox", "inbox"] {
                let found = diesel::sql_query(format!("SELECT * FROM {table}"))
                    .execute(&mut db.raw())
                    .is_ok();
                assert_eq!(found, present, "{backend:?}: {table}");
            }
        };
        exchange_tables(true);
        scelle::storage::revert_last_migration(&mut c).unwrap();
        exchange_tables(false);
        network_tables(true);
        scelle::storage::revert_last_migration(&mut c).unwrap();
        network_tables(false);
        assert_eq!(
            counted(),
            repeated,
            "{backend:?}: migration 17 left the rest"
        );
        scelle::storage::run_migrations(&mut c).unwrap();
        network_tables(true);
        exchange_tables(true);
        scelle::storage::revert_last_migration(&mut c).unwrap();
        scelle::storage::revert_last_migration(&mut c).unwrap();
        scelle::storage::revert_last_migration(&mut c).unwrap();
        assert!(
            diesel::sql_query("SELECT repeated FROM access_records")
                .execute(&mut db.raw())
                .is_err(),
            "{backend:?}: down of migration 16 drops the column"
        );
        scelle::storage::run_migrations(&mut c).unwrap();
        assert_eq!(
            counted(),
            repeated,
            "{backend:?}: up of migration 16 fills it from the log"
        );
        for _ in 0..3 {
            scelle::storage::revert_last_migration(&mut c).unwrap();
        }
        let events = event_rows(&db);

        // Migration 15: web sessions and disabled users. Its down drops the sessions' table and
        // the column; every user keeps its row, login and password hash.
        let users_now = || {
            diesel::sql_query(
                "SELECT id || ' ' || role || ' ' || COALESCE(login, '-') || ' ' || \
                 COALESCE(password_hash, '-') AS line FROM users ORDER BY id",
            )
            .load::<Line>(&mut db.raw())
            .unwrap()
        };
        let users = users_now();
        assert!(!users.is_empty());
        assert!(!definitions(&db, backend, "'web_sessions'").is_empty());
        scelle::storage::revert_last_migration(&mut c).unwrap();
        assert!(
            definitions(&db, backend, "'web_sessions'").is_empty(),
            "{backend:?}: down of migration 15 drops the sessions' table"
        );
        assert_eq!(users_now(), users, "{backend:?}: down of migration 15");

        // Migration 14: the vault's epoch floor. Its down drops the table (and, on SQLite, the
        // trigger that checks every new vault row against it); no stored row moves.
        assert!(!definitions(&db, backend, "'vault_epoch_floor'").is_empty());
        scelle::storage::revert_last_migration(&mut c).unwrap();
        assert!(
            definitions(&db, backend, "'vault_epoch_floor'").is_empty(),
            "{backend:?}: down of migration 14 drops the floor"
        );
        assert_eq!(vault_rows(&db), vault, "{backend:?}: down of migration 14");

        // Migration 13: the newest entry of each case's custody record. Its down drops the
        // table; its up works the heads out again from the projections, the same as the
        // sequencer wrote them.
        let heads = case_heads(&db);
        assert!(
            !heads.is_empty(),
            "{backend:?}: the populated node has cases"
        );
        scelle::storage::revert_last_migration(&mut c).unwrap();
        assert!(
            definitions(&db, backend, "'case_heads'").is_empty(),
            "{backend:?}: down of migration 13 drops the heads' table"
        );
        assert_eq!(log_rows(&db), log, "{backend:?}: down of migration 13");

        // Migration 12: custody states in a table of their own. Its down puts each state back
        // into its item's row (on SQLite, the table as migrations 1 and 4 made it, column for
        // column) and drops the table.
        let states = state_rows(&db, "custody_states", "item_id");
        assert!(
            states.iter().any(|s| s.6.is_some()),
            "{backend:?}: the populated node has items with events"
        );
        scelle::storage::revert_last_migration(&mut c).unwrap();
        assert_eq!(
            state_rows(&db, "evidence_items", "id"),
            states,
            "{backend:?}: down of migration 12"
        );
        assert!(
            definitions(&db, backend, "'custody_states'").is_empty(),
            "{backend:?}: down of migration 12 drops the states' table"
        );
        if backend == Backend::Sqlite {
            let items = definitions(&db, backend, "'evidence_items'").join("\n");
            assert!(
                items.contains(
                    "parent_id TEXT REFERENCES evidence_items (id),\n    holder_id TEXT NOT NULL,"
                ) && items.contains("registered_seq BIGINT NOT NULL, last_event_seq BIGINT,")
                    && items.contains("index evidence_items_sha256")
                    && items.contains("index evidence_items_parent"),
                "down of migration 12: {items}"
            );
        }
        assert_eq!(log_rows(&db), log, "{backend:?}: down of migration 12");

        // Migration 11: every level keyed by its completing leaf (a row-id table on SQLite).
        // Its down gives back migration 5's keys, worked out here from each node's id.
        let node_table = |db: &TestDb| definitions(db, backend, "'tree_nodes'").join("\n");
        assert!(
            !node_table(&db).contains("WITHOUT ROWID"),
            "{backend:?}: {}",
            node_table(&db)
        );
        let migration_5_keys: BTreeMap<i64, Vec<u8>> = nodes
            .iter()
            .map(|(key, hash)| {
                let id = node_id_from_key(*key);
                let (level, index) = (id.level as i64, id.index as i64);
                let old_key = if level >= 4 {
                    (level << 56) | index
                } else {
                    ((((index + 1) << level) - 1) << 2) | level
                };
                (old_key, hash.clone())
            })
            .collect();
        assert!(
            (1..=4).all(|level| nodes.keys().any(|k| k & 63 == level)),
            "{backend:?}: the populated node has nodes of levels 1 to 4"
        );
        scelle::storage::revert_last_migration(&mut c).unwrap();
        assert_eq!(
            stored_nodes(&db),
            migration_5_keys,
            "{backend:?}: down of migration 11"
        );
        if backend == Backend::Sqlite {
            assert!(
                node_table(&db).contains("WITHOUT ROWID"),
                "down of migration 11: {}",
                node_table(&db)
            );
        }
        assert_eq!(log_rows(&db), log, "{backend:?}: down of migration 11");

        if backend == Backend::Sqlite {
            let vault_table = |defs: &[String]| -> String {
                defs.iter()
                    .find(|l| l.starts_with("table vault_sealed "))
                    .cloned()
                    .unwrap_or_default()
            };
            assert!(
                !vault_table(&keyed).contains("WITHOUT ROWID"),
                "{keyed:?}: a row-id vault table"
            );
            scelle::storage::revert_last_migration(&mut c).unwrap();
            let without_rowid = definitions(&db, backend, tables);
            assert!(
                vault_table(&without_rowid).contains("WITHOUT ROWID"),
                "down of migration 10: {without_rowid:?}"
            );
            assert_eq!(vault_rows(&db), vault, "down of migration 10");
            assert_eq!(log_rows(&db), log, "down of migration 10");
        }

        assert!(!custody_events_have_a_foreign_key(&db, backend));
        scelle::storage::revert_last_migration(&mut c).unwrap();
        assert!(
            custody_events_have_a_foreign_key(&db, backend),
            "{backend:?}: down of migration 9 puts the item's foreign key back"
        );
        assert_eq!(log_rows(&db), log, "{backend:?}: down of migration 9");
        assert_eq!(
            event_rows(&db),
            events,
            "{backend:?}: custody events after the down of migration 9"
        );
        assert_eq!(
            state_rows(&db, "evidence_items", "id"),
            states,
            "{backend:?}: custody states after the down of migration 9"
        );

        if backend == Backend::Sqlite {
            scelle::storage::revert_last_migration(&mut c).unwrap();
            assert_eq!(log_rows(&db), log, "down of migration 8");
            let seq_indexed = definitions(&db, backend, tables);
            assert!(
                keyed.iter().any(|l| l.contains("seq INTEGER PRIMARY KEY"))
                    && seq_indexed
                        .iter()
                        .any(|l| l.contains("seq BIGINT PRIMARY KEY"))
                    && seq_indexed
                        .iter()
                        .any(|l| l.contains("sqlite_autoindex_log_entries")),
                "{keyed:?} then {seq_indexed:?}"
            );
        }
        scelle::storage::revert_last_migration(&mut c).unwrap();
        assert_eq!(log_rows(&db), log, "{backend:?}: down of migration 7");
        let indexed = definitions(&db, backend, tables);
        assert!(
            indexed.iter().any(|l| l.contains("vault_sealed_case"))
                && !keyed.iter().any(|l| l.contains("vault_sealed_case")),
            "{backend:?}: {keyed:?} then {indexed:?}"
        );
        if backend == Backend::Sqlite {
            assert!(
                keyed
                    .iter()
                    .any(|l| l.contains("tree_size INTEGER PRIMARY KEY"))
                    && indexed
                        .iter()
                        .any(|l| l.contains("tree_size BIGINT PRIMARY KEY")),
                "{keyed:?} then {indexed:?}"
            );
        }

        scelle::storage::revert_last_migration(&mut c).unwrap();
        assert_details_restored(&db, backend);

        scelle::storage::revert_last_migration(&mut c).unwrap();
        let level_major: BTreeMap<i64, Vec<u8>> = nodes
            .iter()
            .map(|(key, hash)| {
                let id = node_id_from_key(*key);
                (((id.level as i64) << 56) | id.index as i64, hash.clone())
            })
            .collect();
        assert_eq!(
            stored_nodes(&db),
            level_major,
            "{backend:?}: down of migration 5"
        );
        assert!(
            level_major.keys().any(|k| k >> 56 == 1) && level_major.keys().any(|k| k >> 56 == 4)
        );

        scelle::storage::revert_last_migration(&mut c).unwrap();
        scelle::storage::run_migrations(&mut c).unwrap();
        assert_eq!(stored_nodes(&db), nodes, "{backend:?}: node keys after up");
        assert!(
            !node_table(&db).contains("WITHOUT ROWID"),
            "{backend:?}: {}",
            node_table(&db)
        );
        assert_eq!(log_rows(&db), log, "{backend:?}: the log after up");
        assert_eq!(definitions(&db, backend, tables), keyed);
        assert_eq!(
            crate::tamper::projection_snapshot(&db),
            projections,
            "{backend:?}: the custody chain after up"
        );
        assert!(!custody_events_have_a_foreign_key(&db, backend));
        assert_eq!(vault_rows(&db), vault, "{backend:?}: sealed rows after up");
        assert_eq!(
            case_heads(&db),
            heads,
            "{backend:?}: the cases' newest entries after up"
        );
        crate::tamper::audit_of(&db, &verifier).unwrap();
    }
}

#[test]
fn unknown_database_schemes_are_refused() {
    use scelle::storage::DatabaseUrl;
    assert!(DatabaseUrl::parse("mysql://x").is_err());
    assert!(DatabaseUrl::parse("").is_err());
    assert!(matches!(
        DatabaseUrl::parse("sqlite:///tmp/a.db"),
        Ok(DatabaseUrl::Sqlite(_))
    ));
    // A bare path or name is an operator's slip (`--database-url x` made a file `./x`).
    assert!(DatabaseUrl::parse("data/a.db").is_err());
    assert!(DatabaseUrl::parse("x").is_err());
    assert!(matches!(
        DatabaseUrl::parse("postgresql://u@h/db"),
        Ok(DatabaseUrl::Postgres(_))
    ));
}
