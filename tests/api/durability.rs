//! An answer means durable, and a published checkpoint never runs ahead of the disk.
//!
//! The sequencer commits without waiting for the disk and a syncer thread flushes the log before
//! answering (`sequencer.rs`, `storage::LogFlush`). Between the two, a batch is visible to
//! readers but not yet durable: the checkpoint a node publishes must stay within what is flushed.

use diesel::prelude::*;
use diesel::sql_types::Bool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use scelle::node::Node;
use scelle::storage::{self, DbConnection, LogFlush, log_store};
use scelle::usecases::cases;
use scelle::usecases::custody::{self, NewCustodyEvent};
use scelle::usecases::{evidence, log};
use scelle_verifier::note::NoteVerifier;

use crate::helpers::{BACKENDS, Backend, TestDb, add_investigator, file_evidence, init, togo_case};
use crate::tamper::audit_of;

fn checkpoint_size(note: &str) -> u64 {
    note.lines().nth(1).unwrap().parse().unwrap()
}

/// An investigator named `name`, with a case `reference` and eight items in it to record
/// events on.
fn investigator_with_items(
    ledger: &Node,
    name: &str,
    reference: &str,
) -> (scelle::authz::AuthUser, Vec<String>) {
    let user = add_investigator(ledger, name);
    // The investigators are of the TG DCPJ: their cases are under Togo's law.
    let (case, _) = cases::open(ledger, &user, togo_case(reference)).unwrap();
    let items = (0..8)
        .map(|i| {
            evidence::register(ledger, &user, &case.id, file_evidence(i, &"cd".repeat(32)))
                .unwrap()
                .0
                .id
        })
        .collect();
    (user, items)
}

#[test]
fn published_checkpoints_and_receipts_never_run_ahead_of_the_fsync() {
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        let key = init(&db);
        let (ledger, handle) = Node::open(&db.data_dir(), &db.url, 6).unwrap();
        let (user, items) = investigator_with_items(&ledger, "Afi", "TG-DUR-1");
        let size_before = log::size(&ledger).unwrap();

        let ledger = Arc::new(ledger);
        let writing = Arc::new(AtomicBool::new(true));
        let reader = {
            let (ledger, writing) = (ledger.clone(), writing.clone());
            std::thread::spawn(move || {
                let mut sizes_seen = std::collections::BTreeSet::new();
                while writing.load(Ordering::Acquire) {
                    let published = checkpoint_size(&log::latest_checkpoint(&ledger).unwrap());
                    // Read after the checkpoint: the durable size only grows.
                    let durable = log::durable_size(&ledger);
                    assert!(
                        published <= durable,
                        "published checkpoint of size {published} ahead of the flush ({durable})"
                    );
                    sizes_seen.insert(published);
                }
                sizes_seen.len()
            })
        };
        // Half the writers block on their answers (`record_event`), half await them as the
        // HTTP handler does (`submit_event`); both must be answered only once durable.
        let writers: Vec<_> = items
            .iter()
            .cloned()
            .enumerate()
            .map(|(n, item)| {
                let (ledger, user) = (ledger.clone(), user.clone());
                std::thread::spawn(move || {
                    let stored = || NewCustodyEvent {
                        event_type: "stored".into(),
                        ..Default::default()
                    };
                    let runtime = actix_web::rt::System::new();
                    for _ in 0..150 {
                        let (_, receipt) = if n % 2 == 0 {
                            custody::record(&ledger, &user, &item, stored()).unwrap()
                        } else {
                            let submitted =
                                custody::submit(&ledger, &user, &item, stored()).unwrap();
                            runtime.block_on(submitted.recorded()).unwrap()
                        };
                        let covered = checkpoint_size(&receipt.checkpoint);
                        assert_eq!(covered, receipt.inclusion_proof.tree_size);
                        assert!(receipt.seq < covered);
                        assert!(
                            covered <= log::durable_size(&ledger),
                            "answered before its flush"
                        );
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        writing.store(false, Ordering::Release);
        let sizes_seen = reader.join().unwrap();
        assert!(
            sizes_seen > 3,
            "the reader saw the log grow ({sizes_seen} sizes)"
        );

        let size_after = log::size(&ledger).unwrap();
        assert_eq!(size_after, size_before + 8 * 150);
        assert_eq!(
            log::durable_size(&ledger),
            size_after,
            "the last batch is flushed"
        );
        assert_eq!(
            checkpoint_size(&log::latest_checkpoint(&ledger).unwrap()),
            size_after
        );
        let ledger = Arc::try_unwrap(ledger).ok().unwrap();
        ledger.shutdown(handle);
        let verifier = NoteVerifier::from_verifier_key(&key).unwrap();
        audit_of(&db, &verifier).unwrap();
    }
}

/// SQLite: the WAL checkpointer restarts the log while appends run (taking the sequencer's
/// turn for it, `storage::AppendTurn`), so the log file stays a fraction of what the appends
/// wrote, and nothing is lost: every append is in the log and the node audits clean.
#[test]
fn the_write_ahead_log_restarts_under_sustained_appends() {
    let db = TestDb::new(Backend::Sqlite);
    let key = init(&db);
    let (ledger, handle) = Node::open(&db.data_dir(), &db.url, 6).unwrap();
    let (user, items) = investigator_with_items(&ledger, "Kossi", "BJ-WAL-1");
    let size_before = log::size(&ledger).unwrap();
    let pipeline_before = log::pipeline(&ledger);
    let wal_path = match &db.url {
        scelle::storage::DatabaseUrl::Sqlite(path) => {
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            std::path::PathBuf::from(wal)
        }
        other => panic!("not SQLite: {other:?}"),
    };

    let ledger = Arc::new(ledger);
    const EVENTS_EACH: usize = 400;
    let writers: Vec<_> = items
        .iter()
        .cloned()
        .map(|item| {
            let (ledger, user, wal_path) = (ledger.clone(), user.clone(), wal_path.clone());
            std::thread::spawn(move || {
                let mut largest_wal = 0;
                for _ in 0..EVENTS_EACH {
                    custody::record(
                        &ledger,
                        &user,
                        &item,
                        NewCustodyEvent {
                            event_type: "stored".into(),
                            ..Default::default()
                        },
                    )
                    .unwrap();
                    if let Ok(meta) = std::fs::metadata(&wal_path) {
                        largest_wal = largest_wal.max(meta.len());
                    }
                }
                largest_wal
            })
        })
        .collect();
    let largest_wal = writers
        .into_iter()
        .map(|w| w.join().unwrap())
        .max()
        .unwrap();
    let appended = 8 * EVENTS_EACH as u64;
    assert_eq!(log::size(&ledger).unwrap(), size_before + appended);

    let pipeline = log::pipeline(&ledger).since(&pipeline_before);
    assert!(pipeline.log_restarts > 0, "the log was never restarted");
    // Every batch writes a page of at least four tables (entries, checkpoints, custody events,
    // items), each a frame of 4 KiB and its header: a log never restarted would hold at least
    // that much for every batch written since the test began.
    let never_restarted = pipeline.batches * 4 * 4120;
    assert!(
        largest_wal < never_restarted / 2,
        "the log file reached {largest_wal} bytes for {} batches ({} restarts)",
        pipeline.batches,
        pipeline.log_restarts
    );

    let ledger = Arc::try_unwrap(ledger).ok().unwrap();
    ledger.shutdown(handle);
    let verifier = NoteVerifier::from_verifier_key(&key).unwrap();
    audit_of(&db, &verifier).unwrap();
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

fn pg_flag(conn: &mut DbConnection, query: &str) -> bool {
    let DbConnection::Pg(c) = conn else {
        panic!("a PostgreSQL connection")
    };
    diesel::sql_query(query).get_result::<Flag>(c).unwrap().flag
}

/// PostgreSQL: a commit made without waiting (the sequencer's) is on disk once `LogFlush::sync`
/// returns: the server's flushed position has passed the end of that commit's record.
#[test]
fn the_postgres_flush_covers_every_commit_made_before_it() {
    let db = TestDb::new(Backend::Postgres);
    init(&db);
    let mut writer = db.url.connect().unwrap();
    storage::commit_without_fsync(&mut writer).unwrap();
    let mut flush = LogFlush::of(&db.url).unwrap();
    for round in 0..20 {
        log_store::set_setting(&mut writer, "durability_probe", &round.to_string()).unwrap();
        let DbConnection::Pg(c) = &mut writer else {
            panic!("a PostgreSQL connection")
        };
        let written: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
            "pg_current_wal_insert_lsn()::text",
        ))
        .get_result(c)
        .unwrap();
        flush.sync().unwrap();
        let mut reader = db.raw();
        assert!(
            pg_flag(
                &mut reader,
                &format!("SELECT pg_current_wal_flush_lsn() >= '{written}'::pg_lsn AS flag")
            ),
            "round {round}: the log was not flushed past {written}"
        );
    }
}

/// PostgreSQL: a second node on the same database publishes what the first appended, flushed
/// first (the second node's own syncer never saw those batches).
#[test]
fn a_peer_node_publishes_what_another_node_appended() {
    let db = TestDb::new(Backend::Postgres);
    init(&db);
    let (first, first_handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
    let (peer, peer_handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
    let (user, items) = investigator_with_items(&first, "Kossi", "BJ-DUR-2");
    for item in &items {
        custody::record(
            &first,
            &user,
            item,
            NewCustodyEvent {
                event_type: "stored".into(),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let size = log::size(&first).unwrap();
    assert!(
        log::durable_size(&peer) < size,
        "the peer's syncer has not seen these batches"
    );
    assert_eq!(
        checkpoint_size(&log::latest_checkpoint(&peer).unwrap()),
        size
    );
    assert_eq!(log::durable_size(&peer), size);
    first.shutdown(first_handle);
    peer.shutdown(peer_handle);
}
