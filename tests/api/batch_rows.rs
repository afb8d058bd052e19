//! The append path's multi-row inserts (SQLite: `INSERT OR FAIL`s of fixed sizes, kept
//! prepared; PostgreSQL: binary `COPY`) write every row, column for column, whatever the count;
//! a row that conflicts fails the statement, and the caller's transaction then keeps nothing.
//! The same for the items' custody update on SQLite (`UPDATE OR FAIL … FROM (VALUES …)`).

use diesel::prelude::*;

use crate::helpers::{BACKENDS, TestDb};
use scelle::storage::log_store::{self, NewEntry, NewNode};
use scelle::storage::registry::{self, CustodyEventRow, SealedRow};
use scelle::storage::{DbConnection, StorageError};

/// Counts that go through every chunk size: 256 at a time, then 128, 64, … 2 and a single row.
const COUNTS: [usize; 8] = [1, 2, 3, 7, 255, 256, 257, 300];

fn migrated(db: &TestDb) -> DbConnection {
    let mut c = db.raw();
    scelle::storage::run_migrations(&mut c).unwrap();
    c
}

fn entry(seq: i64) -> NewEntry {
    NewEntry {
        seq,
        leaf_hash: vec![(seq % 251) as u8; 32],
        body: format!("{{\"seq\":{seq}}}").into_bytes(),
    }
}

#[test]
fn every_row_of_every_chunk_size_is_written_column_for_column() {
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        let mut c = migrated(&db);
        let (mut entries, mut nodes, mut events, mut sealed) = (0i64, 0i64, 0i64, 0i64);
        let mut expected_entries = Vec::new();
        let mut expected_nodes = Vec::new();
        let mut expected_events = Vec::new();
        let mut expected_sealed = Vec::new();
        for count in COUNTS {
            let new_entries: Vec<NewEntry> = (entries..entries + count as i64).map(entry).collect();
            let new_nodes: Vec<NewNode> = (nodes..nodes + count as i64)
                .map(|key| NewNode {
                    node_key: key * 64 + 1,
                    hash: vec![(key % 253) as u8; 32],
                })
                .collect();
            log_store::insert_batch(&mut c, &new_entries, &new_nodes).unwrap();
            expected_entries.extend(
                new_entries
                    .iter()
                    .map(|e| (e.seq, e.leaf_hash.clone(), e.body.clone())),
            );
            expected_nodes.extend(new_nodes.iter().map(|n| (n.node_key, n.hash.clone())));
            entries += count as i64;
            nodes += count as i64;

            let new_events: Vec<CustodyEventRow> = (events..events + count as i64)
                .map(|seq| CustodyEventRow {
                    seq,
                    id: format!("event-{seq}"),
                    item_id: format!("item-{}", seq % 5),
                    event_type: "examined".into(),
                    actor_id: format!("actor-{}", seq % 3),
                    occurred_at: format!("2026-12-03T06:{:02}:00Z", seq % 60),
                    recorded_at: format!("2026-12-03T07:{:02}:00Z", seq % 60),
                    item_prev_seq: (seq % 2 == 1).then_some(seq - 1),
                })
                .collect();
            registry::insert_events(&mut c, &new_events).unwrap();
            expected_events.extend(new_events);
            events += count as i64;

            let new_sealed: Vec<SealedRow> = (sealed..sealed + count as i64)
                .map(|n| SealedRow {
                    id: format!("sealed-{n:06}"),
                    sealed: vec![(n % 249) as u8; 40 + (n % 7) as usize],
                    // Wrapped under epoch 1 (`node::vault`): the floor refuses any other form.
                    wrapped_key: [&1u32.to_be_bytes()[..], &[(n % 241) as u8; 60]].concat(),
                    created_at: format!("2026-12-03T06:{:02}:00Z", n % 60),
                    case_id: (n % 3 != 0).then(|| format!("case-{}", n % 4)),
                    category: "case_text".into(),
                })
                .collect();
            registry::insert_sealed(&mut c, &new_sealed).unwrap();
            expected_sealed.extend(new_sealed);
            sealed += count as i64;
        }

        assert_eq!(
            log_store::entries_range(&mut c, 0, entries as u64).unwrap(),
            expected_entries,
            "{backend:?}: entries"
        );
        let stored_nodes: Vec<(i64, Vec<u8>)> = {
            use scelle::storage::schema::tree_nodes::dsl::*;
            tree_nodes
                .select((node_key, hash))
                .order(node_key)
                .load(&mut c)
                .unwrap()
        };
        assert_eq!(stored_nodes, expected_nodes, "{backend:?}: tree nodes");
        let stored_events: Vec<CustodyEventRow> = {
            use scelle::storage::schema::custody_events::dsl::*;
            custody_events
                .select(CustodyEventRow::as_select())
                .order(seq)
                .load(&mut c)
                .unwrap()
        };
        assert_eq!(
            format!("{stored_events:?}"),
            format!("{expected_events:?}"),
            "{backend:?}: custody events"
        );
        let stored_sealed: Vec<SealedRow> = {
            use scelle::storage::schema::vault_sealed::dsl::*;
            vault_sealed
                .select(SealedRow::as_select())
                .order(id)
                .load(&mut c)
                .unwrap()
        };
        assert_eq!(stored_sealed, expected_sealed, "{backend:?}: sealed rows");
    }
}

#[test]
fn a_conflicting_row_fails_its_batch_and_the_transaction_keeps_nothing_of_it() {
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        let mut c = migrated(&db);
        let first: Vec<NewEntry> = (0..10).map(entry).collect();
        log_store::insert_batch(&mut c, &first, &[]).unwrap();
        // 300 rows (chunks of 256, 32, 8, 4): the 271st, in the second statement, repeats seq 5.
        let mut second: Vec<NewEntry> = (10..310).map(entry).collect();
        second[270] = entry(5);
        let result = c.transaction::<(), StorageError, _>(|c| {
            log_store::insert_batch(c, &second, &[])?;
            Ok(())
        });
        assert!(
            result.is_err(),
            "{backend:?}: a repeated seq must fail the batch"
        );
        assert_eq!(
            log_store::entries_range(&mut c, 0, 1_000).unwrap(),
            first
                .iter()
                .map(|e| (e.seq, e.leaf_hash.clone(), e.body.clone()))
                .collect::<Vec<_>>(),
            "{backend:?}: nothing of the failed batch is left, the rows before it are intact"
        );
    }
}

/// SQLite: the items' custody states (a multi-row `INSERT OR REPLACE` into `custody_states` in
/// chunks of fixed sizes, each kept prepared under its own query id) change exactly for the
/// items given, every custody column of each, and leave the other items, their states and
/// every registered fact as they were.
#[test]
fn custody_states_of_every_chunk_size_are_written_column_for_column() {
    use diesel::connection::SimpleConnection;
    use scelle::storage::registry::EvidenceRow;
    use scelle::storage::schema::evidence_items::dsl as e;

    let db = TestDb::new(crate::helpers::Backend::Sqlite);
    let mut c = migrated(&db);
    // The statement under test, not the keys to cases and agencies.
    c.batch_execute("PRAGMA foreign_keys = OFF").unwrap();
    let total = COUNTS.iter().sum::<usize>() + 10;
    let item = |n: usize| EvidenceRow {
        id: format!("item-{n:05}"),
        case_id: "case-1".into(),
        exhibit_number: format!("E{n}"),
        seal_number: format!("S{n}"),
        kind: "file".into(),
        sha256: format!("{n:064x}"),
        sha512: None,
        sha1: None,
        md5: None,
        size_bytes: Some(n as i64),
        collected_at: "2026-12-03T06:00:00Z".into(),
        collector_id: "user-1".into(),
        description_record: None,
        location_record: None,
        acquisition_tool: None,
        acquisition_version: None,
        acquisition_settings: None,
        parent_id: None,
        holder_id: "user-1".into(),
        custody_status: "held".into(),
        pending_to: None,
        pending_event: None,
        integrity: "unchecked".into(),
        registered_seq: n as i64,
        last_event_seq: None,
    };
    let mut expected: Vec<EvidenceRow> = (0..total).map(item).collect();
    for row in &expected {
        registry::insert_evidence(&mut c, row).unwrap();
    }

    let mut next = 0;
    for (round, count) in COUNTS.into_iter().enumerate() {
        for n in next..next + count {
            let row = &mut expected[n];
            row.holder_id = format!("user-{}", n % 7 + 2);
            row.custody_status = ["in_transfer", "held", "destroyed"][n % 3].into();
            row.pending_to = (n % 2 == 0).then(|| format!("user-{}", n % 5));
            row.pending_event = (n % 4 == 0).then(|| format!("event-{n}"));
            row.integrity = ["verified", "mismatch"][n % 2].into();
            row.last_event_seq = Some((round * 1000 + n) as i64);
        }
        let changed: Vec<&EvidenceRow> = expected[next..next + count].iter().collect();
        let DbConnection::Sqlite(inner) = &mut c else {
            unreachable!()
        };
        registry::update_custody_states(inner, &changed).unwrap();
        next += count;
    }

    let stored: Vec<EvidenceRow> = registry::evidence_with_state()
        .select(EvidenceRow::as_select())
        .order(e::id)
        .load(&mut c)
        .unwrap();
    assert_eq!(stored.len(), expected.len());
    for (stored, expected) in stored.iter().zip(&expected) {
        assert_eq!(format!("{stored:?}"), format!("{expected:?}"));
    }
}

/// PostgreSQL: a batch given the head it `follows` writes, in one statement outside any
/// transaction, only while the log still ends there; otherwise it writes nothing and says so.
/// An entry at a taken `seq` fails it with a uniqueness violation.
#[test]
fn a_batch_on_a_remembered_head_is_written_only_while_the_log_ends_there() {
    let db = TestDb::new(crate::helpers::Backend::Postgres);
    let mut c = migrated(&db);
    fn batch<'a>(
        entries: &'a [NewEntry],
        follows: Option<(i64, &'a [u8])>,
    ) -> log_store::BatchRows<'a> {
        log_store::BatchRows {
            items: &[],
            events: &[],
            heads: &[],
            vault: &[],
            entries,
            nodes: &[],
            checkpoint: None,
            follows,
        }
    }
    let stored = |c: &mut DbConnection| log_store::entries_range(c, 0, 1_000).unwrap().len();

    let first: Vec<NewEntry> = (0..3).map(entry).collect();
    assert!(log_store::write_batch(&mut c, &batch(&first, Some((0, &[])))).unwrap());
    assert_eq!(stored(&mut c), 3);

    let last_leaf = first[2].leaf_hash.clone();
    let next: Vec<NewEntry> = (3..5).map(entry).collect();
    let stale = [
        (
            "a size the log has grown past",
            2,
            first[1].leaf_hash.clone(),
        ),
        ("a size the log has not reached", 4, last_leaf.clone()),
        ("the right size with another last leaf", 3, vec![0xee; 32]),
    ];
    for (what, size, leaf) in &stale {
        assert!(
            !log_store::write_batch(&mut c, &batch(&next, Some((*size, leaf)))).unwrap(),
            "{what}: written"
        );
        assert!(
            !log_store::write_batch(&mut c, &batch(&[], Some((*size, leaf)))).unwrap(),
            "{what}: an empty batch passed the check"
        );
        assert_eq!(stored(&mut c), 3, "{what}: a row was left");
    }

    assert!(log_store::write_batch(&mut c, &batch(&[], Some((3, &last_leaf)))).unwrap());
    assert!(log_store::write_batch(&mut c, &batch(&next, Some((3, &last_leaf)))).unwrap());
    assert_eq!(stored(&mut c), 5);

    let taken = [entry(4)];
    let conflict = log_store::write_batch(&mut c, &batch(&taken, None)).unwrap_err();
    assert!(conflict.is_unique_violation(), "{conflict}");
    assert_eq!(stored(&mut c), 5);
}

/// A batch writes the newest entry of each case it added to, replacing the one before, on both
/// backends.
#[test]
fn a_batch_writes_and_replaces_the_newest_entry_of_each_case() {
    use scelle::storage::registry::CaseHeadRow;
    for backend in crate::helpers::BACKENDS {
        let db = TestDb::new(backend);
        let mut c = migrated(&db);
        let head = |case: &str, seq: i64| CaseHeadRow {
            case_id: case.into(),
            seq,
            leaf: vec![seq as u8; 32],
        };
        for heads in [
            vec![head("case-a", 3), head("case-b", 4)],
            vec![head("case-a", 9)],
        ] {
            let rows = log_store::BatchRows {
                items: &[],
                events: &[],
                heads: &heads,
                vault: &[],
                entries: &[],
                nodes: &[],
                checkpoint: None,
                follows: None,
            };
            assert!(log_store::write_batch(&mut c, &rows).unwrap());
        }
        for (case, seq) in [("case-a", 9), ("case-b", 4)] {
            assert_eq!(
                registry::case_head(&mut c, case).unwrap(),
                Some(head(case, seq)),
                "{backend:?}"
            );
        }
        assert_eq!(registry::case_head(&mut c, "case-c").unwrap(), None);
    }
}
