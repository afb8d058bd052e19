//! The node decides nothing on a registry row the log does not vouch for: rows edited while it
//! was stopped are refused, naming the row, for custody decisions and for dossiers, and only the
//! edited item is refused; a case's newest entry rewound so that it still vouches leaves a fork
//! in the log that the audit names; an integrity result must follow from its hash; on both
//! backends.

use diesel::connection::SimpleConnection as _;
use scelle::error::ServiceError;
use scelle::node::Node;
use scelle::usecases::cases::{self, NewCase};
use scelle::usecases::custody::{self, NewCustodyEvent};
use scelle::usecases::dossiers::{self, ExportOptions};
use scelle::usecases::evidence;

use crate::helpers::{BACKENDS, TestDb, add_investigator, file_evidence, init, togo_case};

fn event(kind: &str) -> NewCustodyEvent {
    NewCustodyEvent {
        event_type: kind.into(),
        reason: matches!(kind, "destroyed" | "examined").then(|| "ordonnance".into()),
        ..Default::default()
    }
}

fn disagrees(result: Result<impl std::fmt::Debug, ServiceError>, table: &str, key: &str) {
    match result {
        Err(ServiceError::Disagrees { table: t, key: k }) if t == table && k == key => {}
        other => panic!("expected {table} {key} to disagree, got {other:?}"),
    }
}

#[test]
fn rows_edited_behind_the_nodes_back_are_not_decided_on() {
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        init(&db);
        let (node, handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
        let holder = add_investigator(&node, "Kossi");
        let intruder = add_investigator(&node, "Yao");
        let new_case = togo_case;
        let (case, _) = cases::open(&node, &holder, new_case("TG-V-1")).unwrap();
        let (other, _) = cases::open(&node, &holder, new_case("TG-V-2")).unwrap();
        let mut items = Vec::new();
        for i in 0..3 {
            let (item, _) =
                evidence::register(&node, &holder, &case.id, file_evidence(i, &"ab".repeat(32)))
                    .unwrap();
            custody::record(&node, &holder, &item.id, event("sealed")).unwrap();
            items.push(item.id);
        }
        node.shutdown(handle);
        let (seized, moved, untouched) = (&items[0], &items[1], &items[2]);

        // While the node is stopped: the state of one item says another user holds it, another
        // item is moved to another case.
        let mut c = db.raw();
        c.batch_execute(&format!(
            "UPDATE custody_states SET holder_id = '{}' WHERE item_id = '{seized}'",
            intruder.id
        ))
        .unwrap();
        c.batch_execute(&format!(
            "UPDATE evidence_items SET case_id = '{}' WHERE id = '{moved}'",
            other.id
        ))
        .unwrap();

        let (node, handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
        let size = scelle::storage::log_store::head(&mut c).unwrap().0;
        // The table says the intruder holds it: the node does not take its word.
        disagrees(
            custody::record(&node, &intruder, seized, event("destroyed")),
            "custody_states",
            seized,
        );
        disagrees(
            custody::record(&node, &holder, moved, event("stored")),
            "evidence_items",
            moved,
        );
        assert_eq!(
            scelle::storage::log_store::head(&mut c).unwrap().0,
            size,
            "{backend:?}: an entry was written on a row that disagrees"
        );
        // The item no one touched goes on as before.
        custody::record(&node, &holder, untouched, event("stored")).unwrap();
        // No dossier is signed over the edited rows, of either case.
        disagrees(
            dossiers::export(&node, &case.id, &ExportOptions::default()),
            "custody_states",
            seized,
        );
        disagrees(
            dossiers::export(&node, &other.id, &ExportOptions::default()),
            "evidence_items",
            moved,
        );
        node.shutdown(handle);

        // Rebuilt from the log, the registry is believed again, and the custody rules apply.
        let pool = scelle::storage::open_pool(&db.url, 2).unwrap();
        scelle::ledger::rebuild::rebuild(&pool).unwrap();
        let (node, handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
        assert!(matches!(
            custody::record(&node, &intruder, seized, event("destroyed")),
            Err(ServiceError::Custody(_))
        ));
        custody::record(&node, &holder, seized, event("destroyed")).unwrap();
        dossiers::export(&node, &case.id, &ExportOptions::default()).unwrap();
        node.shutdown(handle);
    }
}

/// An integrity check signed with a result its hash does not give is refused, whatever the
/// caller computed.
#[test]
fn an_integrity_result_must_follow_from_the_hashes() {
    use scelle::ledger::error::{Denied, LedgerError};
    use scelle::ledger::sequencer::{Pending, SideWrites};
    use scelle_verifier::entry::{Actor, CustodyRecord, Event};
    use scelle_verifier::model::{CustodyEventType, IntegrityResult, Role};
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        init(&db);
        let (node, handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
        let user = add_investigator(&node, "Kossi");
        let (case, _) = cases::open(
            &node,
            &user,
            NewCase {
                reference: "TG-V-3".into(),
                title: None,
                jurisdiction: "TG".into(),
                offence: "o".into(),
                legal_basis: "l".into(),
                jurisdiction_basis: None,
            },
        )
        .unwrap();
        let (item, _) =
            evidence::register(&node, &user, &case.id, file_evidence(0, &"ab".repeat(32))).unwrap();
        let check = |sha256: &str, result: IntegrityResult| Pending {
            actor: Actor {
                user: user.id.clone(),
                agency: user.agency.clone(),
                role: Role::Investigator,
            },
            event: Event::Custody(CustodyRecord {
                id: scelle::node::ids::new_id(),
                item: item.id.clone(),
                case: case.id.clone(),
                event_type: CustodyEventType::IntegrityChecked,
                at: "2026-11-21T10:00:00+00:00".into(),
                place: None,
                reason: None,
                tool: None,
                authorization: None,
                to_user: None,
                seal_intact: None,
                sha256: Some(sha256.into()),
                result: Some(result),
                amends: None,
                derived_item: None,
            }),
            side: SideWrites::default(),
        };
        for (sha256, result) in [
            ("cd".repeat(32), IntegrityResult::Match),
            ("ab".repeat(32), IntegrityResult::Mismatch),
        ] {
            assert!(
                matches!(
                    node.sequencer().append(check(&sha256, result)),
                    Err(LedgerError::Forbidden(Denied::IntegrityResultWrong))
                ),
                "{backend:?}: {result:?} for {sha256}"
            );
        }
        node.sequencer()
            .append(check(&"cd".repeat(32), IntegrityResult::Mismatch))
            .unwrap();
        node.sequencer()
            .append(check(&"ab".repeat(32), IntegrityResult::Match))
            .unwrap();
        node.shutdown(handle);
    }
}

/// A case's newest entry rewound behind the node's back while it was stopped: the entry the node
/// writes next for the case links to the older one (it still is an entry of the case), so the
/// log itself now holds a fork of the case's record, signed by the node — and the audit names it
/// at that entry (DESIGN §8: a node that lied has signed its own proof of it).
#[test]
fn a_rewound_case_head_leaves_a_fork_the_audit_names() {
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        let key = init(&db);
        let (node, handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
        let user = add_investigator(&node, "Kossi");
        let (case, _) = cases::open(
            &node,
            &user,
            NewCase {
                reference: "TG-V-4".into(),
                title: None,
                jurisdiction: "TG".into(),
                offence: "o".into(),
                legal_basis: "l".into(),
                jurisdiction_basis: None,
            },
        )
        .unwrap();
        let (item, registered) =
            evidence::register(&node, &user, &case.id, file_evidence(0, &"ab".repeat(32))).unwrap();
        custody::record(&node, &user, &item.id, event("sealed")).unwrap();
        custody::record(&node, &user, &item.id, event("stored")).unwrap();
        node.shutdown(handle);
        let verifier = scelle_verifier::note::NoteVerifier::from_verifier_key(&key).unwrap();
        let pool = scelle::storage::open_pool(&db.url, 3).unwrap();
        scelle::ledger::audit::audit(&pool, &verifier).unwrap();

        let mut c = db.raw();
        let leaf = hex::encode(
            scelle::storage::log_store::entry_body(&mut c, registered.seq)
                .unwrap()
                .map(|body| scelle_verifier::merkle::leaf_hash(&body))
                .unwrap(),
        );
        let literal = match backend {
            crate::helpers::Backend::Sqlite => format!("X'{leaf}'"),
            crate::helpers::Backend::Postgres => format!("'\\x{leaf}'::bytea"),
        };
        c.batch_execute(&format!(
            "UPDATE case_heads SET seq = {}, leaf = {literal} WHERE case_id = '{}'",
            registered.seq, case.id
        ))
        .unwrap();

        let (node, handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
        let (_, forked) = custody::record(&node, &user, &item.id, event("stored")).unwrap();
        node.shutdown(handle);
        let err = scelle::ledger::audit::audit(&pool, &verifier).expect_err("a forked record");
        assert!(
            err.bad_seqs().contains(&forked.seq),
            "{backend:?}: {forked:?} not named in {err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("bifurque") && text.contains("forks") && text.contains(&case.id),
            "{backend:?}: {text}"
        );
    }
}
