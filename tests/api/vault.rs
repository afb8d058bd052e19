//! Personal data at rest and its erasure (DESIGN §4), on both backends: free text is sealed in
//! the database (never in clear, in the SQLite file, its WAL, or any PostgreSQL table); a reader
//! gets it back and can check it against the log; a data-protection officer's erasure deletes
//! value, salt and key for good — the sealed bytes are gone from the files — while the log still
//! audits clean and the case's dossier still verifies.

use diesel::prelude::*;
use serde_json::{Value, json};
use std::process::Command;

use crate::helpers::{BACKENDS, Backend, TestApp, assert_error};

const BIN: &str = env!("CARGO_BIN_EXE_scelle");
const TITLE: &str = "Escroquerie en ligne";
const PERSON: &str = "Komlan Mensah-Adjovi";
const PHONE: &str = "+228 90 12 34 56";

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(app.db.data_dir())
        .args(app.db.cli_args())
        .args(args)
        .output()
        .unwrap()
}

/// Every byte the database keeps on disk (SQLite) or every vault row (PostgreSQL).
fn stored_bytes(app: &TestApp, backend: Backend) -> Vec<u8> {
    match backend {
        Backend::Sqlite => {
            let mut all = Vec::new();
            for name in ["scelle.db", "scelle.db-wal"] {
                if let Ok(bytes) = std::fs::read(app.db.data_dir().join(name)) {
                    all.extend(bytes);
                }
            }
            all
        }
        Backend::Postgres => {
            // Every row of every table, as PostgreSQL prints it (bytea as hex), plus the raw
            // bytes of every bytea value, so both text and binary needles can be searched.
            #[derive(QueryableByName)]
            struct Dump {
                #[diesel(sql_type = diesel::sql_types::Text)]
                text: String,
            }
            let mut c = app.db.raw();
            let scelle::storage::DbConnection::Pg(pg) = &mut c else {
                unreachable!()
            };
            let tables: Vec<Dump> = diesel::sql_query(
                "SELECT table_name::text AS text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            )
            .load(pg)
            .unwrap();
            assert!(tables.len() >= 10, "only {} tables", tables.len());
            let mut all = Vec::new();
            for table in tables {
                let rows: Vec<Dump> =
                    diesel::sql_query(format!("SELECT t::text AS text FROM \"{}\" t", table.text))
                        .load(pg)
                        .unwrap();
                for row in rows {
                    all.extend(row.text.as_bytes());
                    // `\\x0a1b…` hex of bytea columns, decoded back to bytes as well.
                    for part in row.text.split("\\\\x").skip(1) {
                        let hex: String =
                            part.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
                        if let Ok(bytes) = hex::decode(&hex[..hex.len() & !1]) {
                            all.extend(bytes);
                        }
                    }
                }
            }
            all
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn personal_data_is_sealed_at_rest_and_erasure_keeps_the_log_verifiable() {
    for backend in BACKENDS {
        let app = TestApp::spawn(backend);
        let out = cli(
            &app,
            &[
                "user",
                "add",
                "--name",
                "Afi D.",
                "--role",
                "dpo",
                "--agency",
                "tg.police.dcpj",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dpo = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .to_owned();

        let case = app.open_case("TG-DCPJ-2026-00500");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let seq = case["receipt"]["seq"].as_u64().unwrap();
        let (_, entry) = app.get_text(&app.prosecutor, &format!("/log/entries/{seq}"));
        let entry: Value = serde_json::from_str(&entry).unwrap();
        let record = entry["case"]["title"]["record"]
            .as_str()
            .unwrap()
            .to_owned();

        // At rest: sealed, nowhere in clear; an authorized reader gets the value back.
        let at_rest = stored_bytes(&app, backend);
        assert!(
            !contains(&at_rest, TITLE.as_bytes()),
            "{backend:?}: the title is stored in clear"
        );
        // Without a purpose a reader gets the case but not the personal data in it.
        let (s, view) = app.get(&app.prosecutor, &format!("/api/v1/cases/{case_id}"));
        assert_eq!(s, 200);
        assert_eq!(view["title"], Value::Null);
        assert_eq!(view["personal_data"], false);
        let size = app.log_size();
        let (s, view) = app.get(
            &app.prosecutor,
            &format!("/api/v1/cases/{case_id}?purpose=prosecution"),
        );
        assert_eq!(s, 200);
        assert_eq!(view["title"], TITLE);
        // That read is in the log: who, what, why.
        assert_eq!(app.kinds_since(size), vec!["access.allowed"]);
        let (_, read) = app.get_text(&app.prosecutor, &format!("/log/entries/{size}"));
        let read: Value = serde_json::from_str(&read).unwrap();
        assert_eq!(read["access"]["purpose"], "prosecution");
        assert_eq!(read["access"]["action"], "person.read");
        assert_eq!(read["actor"]["role"], "prosecutor");

        // A person linked to the case: sealed, committed in the log, readable with a purpose
        // and checkable against the commitment.
        let (s, person) = app.post(
            &app.investigator,
            &format!("/api/v1/cases/{case_id}/persons"),
            &json!({"role": "suspect", "name": PERSON, "date_of_birth": "1990-04-12",
                    "phone": PHONE, "wallet": "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"}),
        );
        assert_eq!(s, 201, "{person}");
        let person_id = person["person"]["id"].as_str().unwrap().to_owned();
        let person_record = person["person"]["commitment"]["record"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, entry) = app.get_text(
            &app.prosecutor,
            &format!("/log/entries/{}", person["receipt"]["seq"]),
        );
        assert!(!entry.contains(PERSON) && !entry.contains(PHONE), "{entry}");
        let at_rest = stored_bytes(&app, backend);
        assert!(
            !contains(&at_rest, PERSON.as_bytes()),
            "{backend:?}: name in clear"
        );
        assert!(
            !contains(&at_rest, PHONE.as_bytes()),
            "{backend:?}: phone in clear"
        );
        let (s, b) = app.get(&app.prosecutor, &format!("/api/v1/persons/{person_id}"));
        assert_error(s, &b, 403, "purpose_required");
        let (s, read) = app.get(
            &app.prosecutor,
            &format!("/api/v1/persons/{person_id}?purpose=prosecution"),
        );
        assert_eq!(s, 200, "{read}");
        assert_eq!(read["opening"]["value"]["name"], PERSON);
        let salt = hex::decode(read["opening"]["salt"].as_str().unwrap()).unwrap();
        assert!(scelle_verifier::commitment::verify_opening(
            read["commitment"]["hmac"].as_str().unwrap(),
            &salt,
            &read["opening"]["value"],
        ));
        let (s, b) = app.post(
            &dpo,
            &format!("/api/v1/vault/{person_record}/erasure"),
            &json!({"legal_reason": "Réquisition de rectification IPDCP 2026-04"}),
        );
        assert_eq!(s, 201, "{b}");
        let after = stored_bytes(&app, backend);
        assert!(
            !contains(&after, PERSON.as_bytes()),
            "{backend:?}: name survived"
        );
        assert!(
            !contains(&after, PHONE.as_bytes()),
            "{backend:?}: phone survived"
        );
        let (s, read) = app.get(
            &app.prosecutor,
            &format!("/api/v1/persons/{person_id}?purpose=prosecution"),
        );
        assert_eq!(s, 200, "{read}");
        assert_eq!(read["erased"], true);
        assert!(read.get("opening").is_none(), "{read}");
        let sealed = {
            let mut c = app.db.raw();
            scelle::storage::registry::sealed_row(&mut c, &record)
                .unwrap()
                .unwrap()
        };
        assert!(contains(&stored_bytes(&app, backend), &sealed.wrapped_key));

        // Only a data-protection officer erases, with a legal reason, an existing record.
        let path = format!("/api/v1/vault/{record}/erasure");
        let body = json!({"legal_reason": "Ordonnance APDP n° 2026-17, art. 438"});
        let size = app.log_size();
        let (s, b) = app.post(&app.investigator, &path, &body);
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post(&dpo, &path, &json!({}));
        assert_error(s, &b, 400, "malformed_request");
        let (s, b) = app.post(&dpo, "/api/v1/vault/no-such-record/erasure", &body);
        assert_error(s, &b, 404, "not_found");
        assert_eq!(
            app.kinds_since(size),
            vec!["access.denied"],
            "refused erasures wrote only the denial record"
        );
        let (s, erased) = app.post(&dpo, &path, &body);
        assert_eq!(s, 201, "{erased}");
        assert_eq!(erased["erasure"]["record"], record.as_str());
        let erasure_seq = erased["receipt"]["seq"].as_u64().unwrap();
        let (_, e) = app.get_text(&app.prosecutor, &format!("/log/entries/{erasure_seq}"));
        // The reason may name the person: the log holds its commitment, the answer the text.
        assert!(e.contains("\"kind\":\"vault.erased\""), "{e}");
        assert!(
            !e.contains("APDP"),
            "the legal reason entered the log in clear: {e}"
        );
        let committed = &erased["erasure"]["legal_reason_commitment"];
        assert!(
            e.contains(committed["hmac"].as_str().unwrap())
                && e.contains(committed["record"].as_str().unwrap()),
            "{e} / {erased}"
        );
        assert!(
            erased["erasure"]["legal_reason"]
                .as_str()
                .unwrap()
                .contains("APDP"),
            "{erased}"
        );

        // Gone for good: no sealed bytes, no wrapped key, in the files or tables.
        let after = stored_bytes(&app, backend);
        assert!(
            !contains(&after, &sealed.wrapped_key),
            "{backend:?}: the wrapped key survived"
        );
        assert!(
            !contains(&after, &sealed.sealed),
            "{backend:?}: the sealed value survived"
        );
        let (_, view) = app.get(
            &app.prosecutor,
            &format!("/api/v1/cases/{case_id}?purpose=prosecution"),
        );
        assert_eq!(view["title"], Value::Null);
        let (s, b) = app.post(&dpo, &path, &body);
        assert_error(s, &b, 404, "not_found");

        // The log still verifies, and so does the case's dossier (without that opening).
        let audit = cli(&app, &["audit"]);
        assert!(
            audit.status.success(),
            "{}",
            String::from_utf8_lossy(&audit.stderr)
        );
        let (s, dossier) = app.get(
            &app.prosecutor,
            &format!("/api/v1/cases/{case_id}/dossier?purpose=prosecution"),
        );
        assert_eq!(s, 200);
        assert!(
            dossier["openings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o["record"] != record.as_str())
        );
        let dir = tempfile::tempdir().unwrap();
        let (key, file) = (dir.path().join("node.pub"), dir.path().join("d.json"));
        std::fs::write(&key, &app.verifier_key).unwrap();
        std::fs::write(&file, serde_json::to_vec(&dossier).unwrap()).unwrap();
        let verify = Command::new(BIN)
            .arg("verify")
            .arg(&file)
            .arg("--trusted-key")
            .arg(&key)
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "{}",
            String::from_utf8_lossy(&verify.stdout)
        );
    }
}
