//! The audit is exact: an honest log holding every kind of entry audits clean (a share's
//! revocation included, whose member sorts between `prev` and `seq`), the audit runs beside a
//! server taking 64 writers' appends and passes every time, a log changed in two places is
//! reported at both, and a registry row changed behind the node's back is named by table, row
//! and column, on both backends.

use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use scelle::ledger::audit::{audit, audit_in_chunks};
use scelle::storage::schema::log_entries;
use scelle_verifier::model::Role;
use scelle_verifier::note::NoteVerifier;

use crate::helpers::{BACKENDS, TestApp};

/// A node with a data-protection officer, so that every kind of entry can be written.
fn app_with_dpo(backend: crate::helpers::Backend) -> TestApp {
    TestApp::spawn_with(backend, |node| {
        let (_, token) =
            scelle::usecases::admin::add_user(node, "Afi D.", Role::Dpo, "tg.police.dcpj", None)
                .unwrap();
        [("dpo".to_owned(), token)].into()
    })
}

fn audit_app(app: &TestApp) -> Result<scelle::ledger::audit::AuditReport, String> {
    let verifier = NoteVerifier::from_verifier_key(&app.verifier_key).unwrap();
    let pool = scelle::storage::open_pool(&app.db.url, 3).unwrap();
    audit(&pool, &verifier).map_err(|e| e.to_string())
}

#[test]
fn an_honest_log_holding_every_kind_of_entry_audits_clean() {
    for backend in BACKENDS {
        let app = app_with_dpo(backend);
        let case = app.open_case("TG-DCPJ-2026-00777");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let item = app.register(&case_id, "S-777", &"ab".repeat(32));
        let item_id = item["evidence"]["id"].as_str().unwrap().to_owned();
        for event in [
            json!({"type": "sealed", "place": "DCPJ Lomé"}),
            json!({"type": "examined", "reason": "extraction des SMS", "tool": "UFED 7.6"}),
            json!({"type": "integrity_checked", "sha256": "ab".repeat(32)}),
            json!({"type": "stored"}),
        ] {
            let (s, b) = app.post(
                &app.investigator,
                &format!("/api/v1/evidence/{item_id}/events"),
                &event,
            );
            assert_eq!(s, 201, "{b}");
        }
        let (s, person) = app.post(
            &app.investigator,
            &format!("/api/v1/cases/{case_id}/persons"),
            &json!({"role": "suspect", "name": "K. M.", "phone": "+22890000000"}),
        );
        assert_eq!(s, 201, "{person}");
        let share = app.share_with_lab(&case_id);
        let share_id = share["share"]["id"].as_str().unwrap();
        let (s, b) = app.post(
            &app.investigator,
            &format!("/api/v1/cases/{case_id}/shares/{share_id}/revocation"),
            &json!({"reason": "fin de l'entraide \"urgente\" {fin}"}),
        );
        assert_eq!(s, 201, "{b}");
        // A read of personal data (allowed, recorded) and a refused one (recorded).
        let (s, _) = app.get(
            &app.investigator,
            &format!("/api/v1/cases/{case_id}?purpose=investigation"),
        );
        assert_eq!(s, 200);
        let (s, _) = app.get(&app.analyst, &format!("/api/v1/cases/{case_id}"));
        assert_eq!(s, 403);
        let record = person["person"]["commitment"]["record"].as_str().unwrap();
        let (s, b) = app.post(
            &app.extra["dpo"],
            &format!("/api/v1/vault/{record}/erasure"),
            &json!({"legal_reason": "Décision de l'IPDCP"}),
        );
        assert_eq!(s, 201, "{b}");

        let kinds: BTreeSet<String> = app
            .kinds_since(0)
            .into_iter()
            .map(|k| {
                if k.starts_with("custody.") {
                    "custody.*".into()
                } else {
                    k
                }
            })
            .collect();
        for kind in [
            "agency.registered",
            "user.registered",
            "case.opened",
            "evidence.registered",
            "custody.*",
            "person.recorded",
            "case.shared",
            "case.share_revoked",
            "access.allowed",
            "access.denied",
            "vault.erased",
        ] {
            assert!(kinds.contains(kind), "{backend:?}: no {kind} in {kinds:?}");
        }
        let report = audit_app(&app).unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        assert_eq!(report.entries, app.log_size());
        let verifier = NoteVerifier::from_verifier_key(&app.verifier_key).unwrap();
        let pool = scelle::storage::open_pool(&app.db.url, 3).unwrap();
        for rows in [1, 3, 7] {
            audit_in_chunks(&pool, &verifier, rows)
                .unwrap_or_else(|e| panic!("{backend:?}, chunks of {rows}: {e}"));
        }
        // And through the command line, as an operator runs it.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_scelle"))
            .args(["audit", "--data-dir"])
            .arg(app.db.data_dir())
            .args(app.db.cli_args())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{backend:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The audit fixes its end when it starts: appends landing meanwhile are for the next run.
#[test]
fn the_audit_passes_beside_a_server_taking_64_writers_appends() {
    for backend in BACKENDS {
        let app = Arc::new(TestApp::spawn(backend));
        let case = app.open_case("TG-DCPJ-2026-00888");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let items: Vec<String> = (0..64)
            .map(|i| {
                let item = app.register(&case_id, &format!("S-888-{i}"), &format!("{i:064x}"));
                item["evidence"]["id"].as_str().unwrap().to_owned()
            })
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let appended = Arc::new(AtomicU64::new(0));
        let writers: Vec<_> = items
            .into_iter()
            .map(|item| {
                let (app, stop, appended) = (app.clone(), stop.clone(), appended.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let (s, b) = app.post(
                            &app.investigator,
                            &format!("/api/v1/evidence/{item}/events"),
                            &json!({"type": "stored"}),
                        );
                        assert_eq!(s, 201, "{b}");
                        appended.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let mut audits = 0;
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(4) || audits < 5 {
            let report = audit_app(&app).unwrap_or_else(|e| panic!("{backend:?}: {e}"));
            assert!(report.entries > 0);
            audits += 1;
        }
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        assert!(
            appended.load(Ordering::Relaxed) > 64,
            "{backend:?}: the writers appended {} events",
            appended.load(Ordering::Relaxed)
        );
        let report = audit_app(&app).unwrap();
        assert_eq!(report.entries, app.log_size(), "{backend:?}");
    }
}

/// Two entries changed far apart: both are named, and a row deleted as well.
#[test]
fn every_bad_entry_is_reported_not_only_the_first() {
    use diesel::prelude::*;
    for backend in BACKENDS {
        let app = TestApp::spawn(backend);
        let case = app.open_case("TG-DCPJ-2026-00999");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        for i in 0..8 {
            app.register(&case_id, &format!("S-999-{i}"), &format!("{i:064x}"));
        }
        let size = app.log_size();
        assert!(size > 12, "{size}");
        let mut c = app.db.raw();
        for seq in [5i64, 11] {
            let mut body: Vec<u8> = log_entries::table
                .filter(log_entries::seq.eq(seq))
                .select(log_entries::body)
                .first(&mut c)
                .unwrap();
            let i = body.len() / 2;
            body[i] ^= 1;
            diesel::update(log_entries::table.filter(log_entries::seq.eq(seq)))
                .set(log_entries::body.eq(body))
                .execute(&mut c)
                .unwrap();
        }
        diesel::delete(log_entries::table.filter(log_entries::seq.eq(8)))
            .execute(&mut c)
            .unwrap();
        let verifier = NoteVerifier::from_verifier_key(&app.verifier_key).unwrap();
        let pool = scelle::storage::open_pool(&app.db.url, 3).unwrap();
        for rows in [1, 4, 1 << 14] {
            let err = audit_in_chunks(&pool, &verifier, rows).expect_err("tampered");
            let seqs = err.bad_seqs();
            for seq in [5, 8, 11] {
                assert!(
                    seqs.contains(&seq),
                    "{backend:?}, chunks of {rows}: seq {seq} not named in {err}"
                );
            }
            assert_eq!(err.first_bad_seq(), Some(5));
        }
    }
}

/// A registry row changed behind the node's back fails the audit, which names the table, the
/// row and (for a changed value) the column; `scelle rebuild` puts the tables back as the log
/// says, and the audit passes again.
#[test]
fn a_registry_row_changed_behind_the_nodes_back_is_named() {
    use diesel::connection::SimpleConnection as _;
    for backend in BACKENDS {
        let app = TestApp::spawn(backend);
        let case = app.open_case("TG-DCPJ-2026-01001");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let other = app.open_case("TG-DCPJ-2026-01002");
        let other_id = other["case"]["id"].as_str().unwrap().to_owned();
        let kept = app.register(&case_id, "S-1001-1", &"a1".repeat(32));
        let kept = kept["evidence"]["id"].as_str().unwrap().to_owned();
        let gone = app.register(&case_id, "S-1001-2", &"b2".repeat(32));
        let gone = gone["evidence"]["id"].as_str().unwrap().to_owned();
        for (item, event) in [
            (&kept, json!({"type": "sealed", "place": "DCPJ Lomé"})),
            (
                &kept,
                json!({"type": "examined", "reason": "extraction", "tool": "UFED 7.6"}),
            ),
            (
                &gone,
                json!({"type": "destroyed", "reason": "ordonnance de destruction"}),
            ),
        ] {
            let (s, b) = app.post(
                &app.investigator,
                &format!("/api/v1/evidence/{item}/events"),
                &event,
            );
            assert_eq!(s, 201, "{b}");
        }
        let (s, b) = app.post(
            &app.investigator,
            &format!("/api/v1/cases/{case_id}/persons"),
            &json!({"role": "witness", "name": "A. B.", "phone": "+22890000001"}),
        );
        assert_eq!(s, 201, "{b}");
        let person = b["person"]["id"].as_str().unwrap().to_owned();
        let share = app.share_with_lab(&case_id);
        let share_id = share["share"]["id"].as_str().unwrap().to_owned();
        let (s, b) = app.post(
            &app.investigator,
            &format!("/api/v1/cases/{case_id}/shares/{share_id}/revocation"),
            &json!({"reason": "fin de l'entraide"}),
        );
        assert_eq!(s, 201, "{b}");
        let (s, _) = app.get(
            &app.investigator,
            &format!("/api/v1/cases/{case_id}?purpose=investigation"),
        );
        assert_eq!(s, 200);
        audit_app(&app).unwrap_or_else(|e| panic!("{backend:?}: {e}"));

        let mut c = app.db.raw();
        let last_access: i64 = {
            use diesel::prelude::*;
            use scelle::storage::schema::access_records;
            access_records::table
                .select(diesel::dsl::max(access_records::seq))
                .first::<Option<i64>>(&mut c)
                .unwrap()
                .unwrap()
        };
        let analyst = &app.analyst_id;
        // (what an intruder does, what the audit must name)
        let tampers: Vec<(String, Vec<String>)> = vec![
            (
                format!("UPDATE custody_states SET last_event_seq = NULL WHERE item_id = '{gone}'"),
                vec![
                    "custody_states".into(),
                    gone.clone(),
                    "last_event_seq".into(),
                ],
            ),
            (
                format!(
                    "UPDATE custody_states SET custody_status = 'in_custody' WHERE item_id = '{gone}'"
                ),
                vec![
                    "custody_states".into(),
                    gone.clone(),
                    "custody_status".into(),
                    "destroyed".into(),
                ],
            ),
            (
                format!(
                    "UPDATE custody_states SET holder_id = '{analyst}' WHERE item_id = '{kept}'"
                ),
                vec!["custody_states".into(), kept.clone(), "holder_id".into()],
            ),
            (
                format!(
                    "UPDATE custody_events SET actor_id = '{analyst}' WHERE seq = \
                     (SELECT MAX(seq) FROM custody_events WHERE item_id = '{kept}')"
                ),
                vec!["custody_events".into(), "actor_id".into(), analyst.clone()],
            ),
            (
                format!(
                    "UPDATE custody_events SET item_prev_seq = NULL WHERE seq = \
                     (SELECT MAX(seq) FROM custody_events WHERE item_id = '{kept}')"
                ),
                vec![
                    "custody_events".into(),
                    "item_prev_seq".into(),
                    "NULL".into(),
                ],
            ),
            (
                format!("UPDATE evidence_items SET case_id = '{other_id}' WHERE id = '{kept}'"),
                vec!["evidence_items".into(), kept.clone(), "case_id".into()],
            ),
            (
                format!(
                    "DELETE FROM custody_events WHERE item_id = '{gone}'; \
                     DELETE FROM custody_states WHERE item_id = '{gone}'; \
                     DELETE FROM evidence_items WHERE id = '{gone}'"
                ),
                vec![
                    "evidence_items".into(),
                    gone.clone(),
                    "custody_events".into(),
                ],
            ),
            (
                format!("UPDATE case_shares SET revoked_at = NULL WHERE id = '{share_id}'"),
                vec!["case_shares".into(), share_id.clone(), "revoked_at".into()],
            ),
            (
                // How many refusals a record stands for: what the DPO's report adds up.
                format!("UPDATE access_records SET repeated = 40 WHERE seq = {last_access}"),
                vec![
                    "access_records".into(),
                    last_access.to_string(),
                    "repeated".into(),
                ],
            ),
            (
                format!("DELETE FROM access_records WHERE seq = {last_access}"),
                vec!["access_records".into(), last_access.to_string()],
            ),
            (
                format!("DELETE FROM persons WHERE id = '{person}'"),
                vec!["persons".into(), person.clone()],
            ),
            (
                "INSERT INTO cases (id, reference, jurisdiction, offence, legal_basis, agency_id, \
                 officer_id, title_record, opened_at, opened_seq) VALUES ('c-forged', \
                 'TG-DCPJ-2026-09999', 'TG', 'x', 'y', 'tg.police.dcpj', 'u', NULL, \
                 '2026-11-20T10:00:00Z', 3)"
                    .into(),
                vec!["cases".into(), "c-forged".into()],
            ),
        ];
        let pool = scelle::storage::open_pool(&app.db.url, 3).unwrap();
        for (sql, named) in &tampers {
            c.batch_execute(sql).unwrap();
            let err = audit_app(&app).expect_err(sql);
            for part in named {
                assert!(
                    err.contains(part.as_str()),
                    "{backend:?}: {sql}\n{part} not in\n{err}"
                );
            }
            scelle::ledger::rebuild::rebuild(&pool).unwrap();
            audit_app(&app).unwrap_or_else(|e| panic!("{backend:?}, rebuilt after {sql}: {e}"));
        }
        // A user's role is node-local, written beside its entry: a changed role is named too.
        c.batch_execute(&format!(
            "UPDATE users SET role = 'admin' WHERE id = '{analyst}'"
        ))
        .unwrap();
        let err = audit_app(&app).expect_err("role changed");
        for part in ["users", analyst.as_str(), "role", "admin", "lab_analyst"] {
            assert!(err.contains(part), "{backend:?}: {part} not in {err}");
        }
        // And through the command line: exit 3, the row named in both languages.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_scelle"))
            .args(["audit", "--data-dir"])
            .arg(app.db.data_dir())
            .args(app.db.cli_args())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{backend:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for part in [
            "AUDIT ÉCHOUÉ",
            "AUDIT FAILED",
            "table users",
            "le journal dit",
            "the log says",
        ] {
            assert!(stderr.contains(part), "{backend:?}: {part} not in {stderr}");
        }
    }
}
