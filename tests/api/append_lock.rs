//! The append lock (`storage::with_append_lock`): one holder at a time on each backend, a waiter
//! that gives up gets an error and a connection still fit for the next batch, and a batch that
//! fails leaves nothing behind.

use diesel::connection::SimpleConnection as _;
use scelle::storage::{DbConnection, StorageError, log_store, with_append_lock};
use std::sync::mpsc;

use crate::helpers::{BACKENDS, Backend, TestDb};

/// Makes `conn` give up on the append lock after a short wait instead of the usual 15 s.
fn wait_briefly(conn: &mut DbConnection, backend: Backend) {
    conn.batch_execute(match backend {
        Backend::Sqlite => "PRAGMA busy_timeout = 100",
        Backend::Postgres => "SET lock_timeout = '100ms'",
    })
    .unwrap();
}

#[test]
fn one_holder_at_a_time_and_a_refused_waiter_keeps_a_usable_connection() {
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        scelle::storage::run_migrations(&mut db.raw()).unwrap();
        let (held, release) = (mpsc::channel::<()>(), mpsc::channel::<()>());
        std::thread::scope(|scope| {
            let mut holder = db.raw();
            let (held_tx, release_rx) = (held.0, release.1);
            scope.spawn(move || {
                with_append_lock(&mut holder, |c| -> Result<(), StorageError> {
                    log_store::set_setting(c, "holder", "first")?;
                    held_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok(())
                })
                .unwrap();
            });
            held.1.recv().unwrap();

            let mut waiter = db.raw();
            wait_briefly(&mut waiter, backend);
            let refused = with_append_lock(&mut waiter, |c| -> Result<(), StorageError> {
                log_store::set_setting(c, "waiter", "too early")
            });
            assert!(refused.is_err(), "{backend:?}: the lock was taken twice");

            release.0.send(()).unwrap();
            // The holder commits; the same waiting connection now gets the lock and commits.
            let mut attempts = 0;
            loop {
                let result = with_append_lock(&mut waiter, |c| -> Result<(), StorageError> {
                    log_store::set_setting(c, "waiter", "after")
                });
                match result {
                    Ok(()) => break,
                    Err(e) if attempts < 50 => {
                        attempts += 1;
                        eprintln!("{backend:?}: still held ({e}); retrying");
                    }
                    Err(e) => panic!("{backend:?}: the waiter never got the lock: {e}"),
                }
            }
        });
        let mut reader = db.raw();
        assert_eq!(
            log_store::setting(&mut reader, "holder")
                .unwrap()
                .as_deref(),
            Some("first"),
            "{backend:?}"
        );
        assert_eq!(
            log_store::setting(&mut reader, "waiter")
                .unwrap()
                .as_deref(),
            Some("after"),
            "{backend:?}"
        );
    }
}

#[test]
fn a_failed_batch_is_rolled_back_and_the_next_one_commits() {
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        scelle::storage::run_migrations(&mut db.raw()).unwrap();
        let mut conn = db.raw();
        let failed = with_append_lock(&mut conn, |c| -> Result<(), StorageError> {
            log_store::set_setting(c, "batch", "half written")?;
            Err(StorageError::Connect(
                "the batch fails after a write".into(),
            ))
        });
        assert!(failed.is_err(), "{backend:?}");
        assert_eq!(
            log_store::setting(&mut db.raw(), "batch").unwrap(),
            None,
            "{backend:?}: a failed batch left a row"
        );
        with_append_lock(&mut conn, |c| -> Result<(), StorageError> {
            log_store::set_setting(c, "batch", "whole")
        })
        .unwrap();
        assert_eq!(
            log_store::setting(&mut db.raw(), "batch")
                .unwrap()
                .as_deref(),
            Some("whole"),
            "{backend:?}"
        );
    }
}
