//! The audit is exact: an honest log holding every kind of entry audits clean (a share's
//! revocation included, whose member sorts between `prev` and `seq`), the audit runs beside a
//! server taking 64 writers' appends and passes every time, and a log changed in two places is
//! reported at both, on both backends.

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
