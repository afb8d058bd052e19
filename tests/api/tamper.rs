//! Changes made behind Scellé's back are all caught by `audit`, on both backends.

use diesel::prelude::*;
use scelle::ledger::audit::{AuditError, audit, audit_in_chunks};
use scelle::node::Node;
use scelle::storage::schema::{
    cases, checkpoints, custody_events, evidence_items, log_entries, tree_nodes,
};
use scelle::usecases::cases::NewCase;
use scelle::usecases::custody::{self, NewCustodyEvent};
use scelle::usecases::evidence;
use scelle_verifier::note::NoteVerifier;

use crate::helpers::{BACKENDS, TestDb, add_investigator, file_evidence, init};

/// Every projection row, printed, in a stable order.
pub fn projection_snapshot(db: &TestDb) -> Vec<String> {
    use scelle::storage::registry::{CaseRow, CustodyEventRow, EvidenceRow};
    let mut c = db.raw();
    let mut out: Vec<String> = cases::table
        .select(CaseRow::as_select())
        .order(cases::id)
        .load(&mut c)
        .unwrap()
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    out.extend(
        scelle::storage::registry::evidence_with_state()
            .select(EvidenceRow::as_select())
            .order(evidence_items::id)
            .load(&mut c)
            .unwrap()
            .iter()
            .map(|r| format!("{r:?}")),
    );
    out.extend(
        custody_events::table
            .select(CustodyEventRow::as_select())
            .order(custody_events::id)
            .load(&mut c)
            .unwrap()
            .iter()
            .map(|r| format!("{r:?}")),
    );
    out
}

/// A node with about 30 entries written through the real use cases.
pub fn populated(backend: crate::helpers::Backend) -> (TestDb, NoteVerifier) {
    let db = TestDb::new(backend);
    let key = init(&db);
    let (ledger, handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
    let user = add_investigator(&ledger, "Kossi");
    let (case, _) = scelle::usecases::cases::open(
        &ledger,
        &user,
        NewCase {
            reference: "TG-1".into(),
            title: Some("t".into()),
            jurisdiction: "TG".into(),
            offence: "o".into(),
            legal_basis: "l".into(),
            jurisdiction_basis: None,
        },
    )
    .unwrap();
    for i in 0..5 {
        let (item, _) =
            evidence::register(&ledger, &user, &case.id, file_evidence(i, &"ab".repeat(32)))
                .unwrap();
        for _ in 0..4 {
            custody::record(
                &ledger,
                &user,
                &item.id,
                NewCustodyEvent {
                    event_type: "stored".into(),
                    ..Default::default()
                },
            )
            .unwrap();
        }
    }
    ledger.shutdown(handle);
    let verifier = NoteVerifier::from_verifier_key(&key).unwrap();
    (db, verifier)
}

pub fn audit_of(
    db: &TestDb,
    verifier: &NoteVerifier,
) -> Result<scelle::ledger::audit::AuditReport, AuditError> {
    let pool = scelle::storage::open_pool(&db.url, 3).unwrap();
    audit(&pool, verifier)
}

fn body(c: &mut scelle::storage::DbConnection, seq: i64) -> (Vec<u8>, Vec<u8>) {
    log_entries::table
        .filter(log_entries::seq.eq(seq))
        .select((log_entries::leaf_hash, log_entries::body))
        .first(c)
        .unwrap()
}

/// Stores a copy of entry `from`'s row at `seq`, outside the contiguous log.
fn copy_entry(c: &mut scelle::storage::DbConnection, from: i64, seq: i64) {
    let (leaf, body) = body(c, from);
    diesel::insert_into(log_entries::table)
        .values((
            log_entries::seq.eq(seq),
            log_entries::leaf_hash.eq(leaf),
            log_entries::body.eq(body),
        ))
        .execute(c)
        .unwrap();
}

#[test]
fn audit_catches_every_kind_of_tampering() {
    for backend in BACKENDS {
        let (db, verifier) = populated(backend);
        let clean = audit_of(&db, &verifier).unwrap();
        assert!(
            clean.entries == 29 && clean.checkpoints == 29 && clean.nodes == 25,
            "{clean:?}"
        );
        let pool = scelle::storage::open_pool(&db.url, 3).unwrap();
        for rows in [1, 4, 5, 29, 30] {
            let chunked = audit_in_chunks(&pool, &verifier, rows).unwrap();
            assert_eq!(
                (
                    chunked.entries,
                    chunked.entry_bytes,
                    chunked.nodes,
                    chunked.checkpoints
                ),
                (
                    clean.entries,
                    clean.entry_bytes,
                    clean.nodes,
                    clean.checkpoints
                ),
                "{backend:?}, chunks of {rows}"
            );
        }
        drop(pool);
        drop(db);

        type Tamper = fn(&mut scelle::storage::DbConnection);
        let cases: Vec<(&str, Tamper, Option<u64>)> = vec![
            (
                "one byte of an entry",
                |c| {
                    let (_, mut b) = body(c, 12);
                    let i = b.len() / 2;
                    b[i] ^= 1;
                    diesel::update(log_entries::table.filter(log_entries::seq.eq(12)))
                        .set(log_entries::body.eq(b))
                        .execute(c)
                        .unwrap();
                },
                Some(12),
            ),
            (
                "entry and its leaf hash rewritten together",
                |c| {
                    let (_, b) = body(c, 12);
                    let b = String::from_utf8(b)
                        .unwrap()
                        .replace("stored", "examined")
                        .into_bytes();
                    let leaf = scelle_verifier::merkle::leaf_hash(&b).to_vec();
                    diesel::update(log_entries::table.filter(log_entries::seq.eq(12)))
                        .set((log_entries::body.eq(b), log_entries::leaf_hash.eq(leaf)))
                        .execute(c)
                        .unwrap();
                },
                Some(12),
            ),
            (
                "a deleted row",
                |c| {
                    diesel::delete(log_entries::table.filter(log_entries::seq.eq(9)))
                        .execute(c)
                        .unwrap();
                },
                Some(9),
            ),
            (
                "two rows swapped",
                |c| {
                    let (l5, b5) = body(c, 5);
                    let (l6, b6) = body(c, 6);
                    diesel::update(log_entries::table.filter(log_entries::seq.eq(5)))
                        .set((log_entries::body.eq(b6), log_entries::leaf_hash.eq(l6)))
                        .execute(c)
                        .unwrap();
                    diesel::update(log_entries::table.filter(log_entries::seq.eq(6)))
                        .set((log_entries::body.eq(b5), log_entries::leaf_hash.eq(l5)))
                        .execute(c)
                        .unwrap();
                },
                Some(5),
            ),
            (
                "a stored interior hash changed",
                |c| {
                    let key: i64 = tree_nodes::table
                        .select(tree_nodes::node_key)
                        .order(tree_nodes::node_key.asc())
                        .offset(3)
                        .first(c)
                        .unwrap();
                    diesel::update(tree_nodes::table.filter(tree_nodes::node_key.eq(key)))
                        .set(tree_nodes::hash.eq(vec![7u8; 32]))
                        .execute(c)
                        .unwrap();
                },
                None,
            ),
            (
                "the log truncated",
                |c| {
                    diesel::delete(log_entries::table.filter(log_entries::seq.ge(20)))
                        .execute(c)
                        .unwrap();
                },
                Some(20),
            ),
            (
                "a row far beyond the end of the log",
                |c| copy_entry(c, 3, 1_000_000),
                Some(29),
            ),
            ("a row at a negative seq", |c| copy_entry(c, 3, -1), None),
            (
                "a checkpoint signature forged",
                |c| {
                    let (size, note): (i64, String) = checkpoints::table
                        .select((checkpoints::tree_size, checkpoints::note))
                        .order(checkpoints::tree_size.asc())
                        .offset(4)
                        .first(c)
                        .unwrap();
                    let forged = note.replacen(
                        "\u{2014} tg.police.dcpj/scelle ",
                        "\u{2014} tg.police.dcpj/scelle A",
                        1,
                    );
                    diesel::update(checkpoints::table.filter(checkpoints::tree_size.eq(size)))
                        .set(checkpoints::note.eq(forged))
                        .execute(c)
                        .unwrap();
                },
                None,
            ),
        ];
        for (what, tamper, want_seq) in cases {
            let (db, verifier) = populated(backend);
            tamper(&mut db.raw());
            let err = audit_of(&db, &verifier).expect_err(what);
            if let Some(seq) = want_seq {
                assert_eq!(err.first_bad_seq(), Some(seq), "{backend:?} {what}: {err}");
            }
            // The readers check a chunk's rows and the main thread each chunk's first link:
            // with chunks of 1, 4 and 5 rows, every tampered row falls at a chunk's start in
            // one run and inside a chunk in another, and the same first bad `seq` is named.
            let pool = scelle::storage::open_pool(&db.url, 3).unwrap();
            for rows in [1, 4, 5] {
                let small = audit_in_chunks(&pool, &verifier, rows).expect_err(what);
                assert_eq!(
                    small.first_bad_seq(),
                    err.first_bad_seq(),
                    "{backend:?} {what}, chunks of {rows}: {small} vs {err}"
                );
            }
        }
    }
}
