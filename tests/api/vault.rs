//! Personal data at rest and its erasure (DESIGN §4), on both backends: free text is sealed in
//! the database (never in clear, in the SQLite file, its WAL, or any PostgreSQL table); a reader
//! gets it back and can check it against the log; a data-protection officer's erasure deletes
//! value, salt and key for good — the sealed bytes are gone from the files — while the log still
//! audits clean and the case's dossier still verifies.

use diesel::connection::SimpleConnection as _;
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
        let dpo = add_dpo(&app);

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
        let read = scelle::storage::log_store::entry_body(&mut app.db.raw(), size)
            .unwrap()
            .unwrap();
        let read: Value = serde_json::from_slice(&read).unwrap();
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
        let e = scelle::storage::log_store::entry_body(&mut app.db.raw(), erasure_seq)
            .unwrap()
            .unwrap();
        let e = String::from_utf8(e).unwrap();
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

/// A DPO of the test node and their token.
fn add_dpo(app: &TestApp) -> String {
    let out = cli(
        app,
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
    crate::helpers::last_line_of(out)
}

/// The 32-byte keys an intruder holding the node's folder finds in its key files.
fn keys_in_folder(dir: &std::path::Path) -> Vec<[u8; 32]> {
    let mut keys = Vec::new();
    for file in ["vault.key", "vault-epochs.key"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for word in text.split_whitespace() {
            if let Ok(Ok(key)) = hex::decode(word).map(<[u8; 32]>::try_from) {
                keys.push(key);
            }
        }
    }
    keys
}

/// Opens a wrapped data key as docs/FORMAT.md ("Vault") describes it, with OpenSSL's one-shot
/// API: `epoch ‖ nonce ‖ ciphertext ‖ tag` bound to `id ‖ 0x00 ‖ epoch`, or, before epochs,
/// `nonce ‖ ciphertext ‖ tag` bound to the id.
fn unwrap_with(key: &[u8; 32], id: &str, wrapped: &[u8]) -> Option<Vec<u8>> {
    let (aad, body) = if wrapped.len() == 64 {
        let mut aad = id.as_bytes().to_vec();
        aad.push(0);
        aad.extend_from_slice(&wrapped[..4]);
        (aad, &wrapped[4..])
    } else {
        (id.as_bytes().to_vec(), wrapped)
    };
    let (nonce, rest) = body.split_at(12);
    let (ct, tag) = rest.split_at(rest.len() - 16);
    openssl::symm::decrypt_aead(
        openssl::symm::Cipher::aes_256_gcm(),
        key,
        Some(nonce),
        &aad,
        ct,
        tag,
    )
    .ok()
}

/// Every file an intruder takes: the node's folder and, on PostgreSQL, the test database's
/// files and the server's WAL segments written since `since` (after a CHECKPOINT, so what the
/// server holds in memory is on disk too).
fn files_on_disk(
    app: &TestApp,
    backend: Backend,
    since: std::time::SystemTime,
) -> Vec<(String, Vec<u8>)> {
    let mut dirs = vec![(app.db.data_dir(), None)];
    if backend == Backend::Postgres {
        #[derive(QueryableByName)]
        struct Place {
            #[diesel(sql_type = diesel::sql_types::Text)]
            dir: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            oid: String,
        }
        let mut c = app.db.raw();
        let scelle::storage::DbConnection::Pg(pg) = &mut c else {
            unreachable!()
        };
        diesel::sql_query("CHECKPOINT").execute(pg).unwrap();
        let place: Place = diesel::sql_query(
            "SELECT current_setting('data_directory') AS dir, oid::text AS oid \
             FROM pg_database WHERE datname = current_database()",
        )
        .get_result(pg)
        .unwrap();
        let root = std::path::PathBuf::from(place.dir);
        assert!(
            std::fs::read_dir(root.join("pg_wal")).is_ok(),
            "this test reads PostgreSQL's data directory {}: run it as root or as postgres",
            root.display()
        );
        dirs.push((root.join("base").join(place.oid), None));
        dirs.push((root.join("pg_wal"), Some(since)));
    }
    let mut files = Vec::new();
    for (dir, newer_than) in dirs {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if !meta.is_file() || newer_than.is_some_and(|t| meta.modified().unwrap() < t) {
                continue;
            }
            if let Ok(bytes) = std::fs::read(entry.path()) {
                files.push((entry.path().display().to_string(), bytes));
            }
        }
    }
    files
}

fn found_in(files: &[(String, Vec<u8>)], needle: &[u8]) -> Vec<String> {
    files
        .iter()
        .filter(|(_, bytes)| memchr::memmem::find(bytes, needle).is_some())
        .map(|(name, _)| name.clone())
        .collect()
}

/// DESIGN §4, issue #28 item 5: after an erasure, whoever holds the node's folder (vault keys
/// included) and the database's files recovers neither the clear text nor a key that opens it —
/// on SQLite while a reader pins the write-ahead log (so the old pages stay in it), on
/// PostgreSQL in its heap files and WAL segments, where dead tuples keep old rows.
#[test]
fn an_erased_record_cannot_be_recovered_from_the_files_even_with_the_vault_keys() {
    for backend in BACKENDS {
        let started = std::time::SystemTime::now();
        let app = TestApp::spawn(backend);
        let dpo = add_dpo(&app);
        let case = app.open_case("TG-DCPJ-2026-00501");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let (s, person) = app.post(
            &app.investigator,
            &format!("/api/v1/cases/{case_id}/persons"),
            &json!({"role": "suspect", "name": PERSON, "phone": PHONE}),
        );
        assert_eq!(s, 201, "{person}");
        let record = person["person"]["commitment"]["record"]
            .as_str()
            .unwrap()
            .to_owned();
        // A second person stays: the rotation must keep it readable.
        let (s, kept) = app.post(
            &app.investigator,
            &format!("/api/v1/cases/{case_id}/persons"),
            &json!({"role": "witness", "name": "Ama K."}),
        );
        assert_eq!(s, 201, "{kept}");
        let kept_id = kept["person"]["id"].as_str().unwrap().to_owned();

        // What the intruder is after: the record's sealed bytes and wrapped key, and the data
        // key behind it (unwrapped here, before the erasure, with the folder's keys).
        let folder = app.db.data_dir();
        let row = scelle::storage::registry::sealed_row(&mut app.db.raw(), &record)
            .unwrap()
            .unwrap();
        let keys_before = keys_in_folder(&folder);
        let data_key = keys_before
            .iter()
            .find_map(|k| unwrap_with(k, &record, &row.wrapped_key))
            .expect("the folder's keys open the record before its erasure");

        // SQLite: a reader holds a snapshot through the erasure, so the WAL cannot be reset.
        let reader = (backend == Backend::Sqlite).then(|| {
            let mut r =
                diesel::SqliteConnection::establish(folder.join("scelle.db").to_str().unwrap())
                    .unwrap();
            r.batch_execute("BEGIN; SELECT count(*) FROM vault_sealed;")
                .unwrap();
            r
        });
        let (s, erased) = app.post(
            &dpo,
            &format!("/api/v1/vault/{record}/erasure"),
            &json!({"legal_reason": "Décision APDP 2026-31"}),
        );
        assert_eq!(s, 201, "{erased}");
        let disk = &erased["erasure"]["disk"];
        assert_eq!(disk["key_epoch"], 2, "{erased}");
        assert!(disk["rewrapped"].as_u64().unwrap() >= 1, "{erased}");
        // The answer says what it could not do, never silently.
        match backend {
            Backend::Sqlite => assert_eq!(disk["wal_emptied"], false, "{erased}"),
            Backend::Postgres => assert_eq!(disk["wal_emptied"], Value::Null, "{erased}"),
        }

        let files = files_on_disk(&app, backend, started);
        assert!(
            found_in(&files, PERSON.as_bytes()).is_empty(),
            "{backend:?}: clear text on disk"
        );
        assert!(
            found_in(&files, PHONE.as_bytes()).is_empty(),
            "{backend:?}: clear text on disk"
        );
        assert!(
            found_in(&files, &data_key).is_empty(),
            "{backend:?}: the data key on disk"
        );
        for old in keys_before.iter().skip(1) {
            let places = [
                found_in(&files, old),
                found_in(&files, hex::encode(old).as_bytes()),
            ];
            assert!(
                places.iter().all(Vec::is_empty),
                "{backend:?}: an old epoch key survives in {places:?}"
            );
        }
        // Old copies of the wrapped key may remain (on SQLite the pinned WAL keeps them): no
        // key the intruder holds opens any of them.
        if backend == Backend::Sqlite {
            assert!(
                !found_in(&files, &row.wrapped_key).is_empty(),
                "the test means something only if the old copy is still on disk"
            );
        }
        for key in keys_in_folder(&folder) {
            assert!(
                unwrap_with(&key, &record, &row.wrapped_key).is_none(),
                "{backend:?}: a key in the folder opens the erased record"
            );
        }

        // A row sealed under the destroyed key (by a slow request, or another process on the
        // same database) is refused, not stored unreadable.
        let mut late = row.clone();
        late.id = format!("{record}-late");
        assert!(
            scelle::storage::registry::insert_sealed(&mut app.db.raw(), &[late]).is_err(),
            "{backend:?}: a row under a retired epoch was stored"
        );

        // Everything else still opens, and the log and the node restart clean.
        let (s, read) = app.get(
            &app.prosecutor,
            &format!("/api/v1/persons/{kept_id}?purpose=prosecution"),
        );
        assert_eq!(s, 200, "{read}");
        assert_eq!(read["opening"]["value"]["name"], "Ama K.");
        drop(reader);
        let audit = cli(&app, &["audit"]);
        assert!(
            audit.status.success(),
            "{}",
            String::from_utf8_lossy(&audit.stderr)
        );
    }
}

/// A rotation a crash cut short (the new epoch key written, the old one not yet destroyed) is
/// finished when the node next opens: one epoch key left, a newer one, and every record opens.
#[test]
fn a_rotation_cut_short_is_finished_at_the_next_start() {
    for backend in BACKENDS {
        let (db, _) = crate::tamper::populated(backend);
        let file = db.data_dir().join("vault-epochs.key");
        let before = std::fs::read_to_string(&file).unwrap();
        assert_eq!(before.lines().count(), 1, "{before}");
        let epoch: u32 = before.split(' ').next().unwrap().parse().unwrap();
        // As the first step of a rotation leaves it: the old key and the next one.
        std::fs::write(
            &file,
            format!("{before}{} {}\n", epoch + 1, "cd".repeat(32)),
        )
        .unwrap();
        let (node, _handle) = scelle::node::Node::open(&db.data_dir(), &db.url, 2).unwrap();
        let after = std::fs::read_to_string(&file).unwrap();
        assert_eq!(after.lines().count(), 1, "{backend:?}: {after}");
        assert!(
            after.starts_with(&format!("{} ", epoch + 2)),
            "{backend:?}: {after}"
        );
        let mut c = db.raw();
        let ids: Vec<String> = {
            use scelle::storage::schema::vault_sealed::dsl::*;
            vault_sealed.select(id).load(&mut c).unwrap()
        };
        assert!(!ids.is_empty());
        for row in scelle::storage::registry::sealed_rows(&mut c, &ids).unwrap() {
            assert_eq!(
                row.wrapped_key[..4],
                (epoch + 2).to_be_bytes(),
                "{backend:?}"
            );
            node.vault().open(&row).unwrap();
        }
    }
}

/// A process started on the same database from a folder without the node's epoch keys (the
/// signing and vault keys copied, `vault-epochs.key` not) is refused: it would seal under an
/// "epoch 1" of its own that no other process can open. With the file copied, it starts.
#[test]
fn a_folder_without_the_nodes_epoch_keys_is_refused() {
    for backend in BACKENDS {
        let db = crate::helpers::TestDb::new(backend);
        crate::helpers::init(&db);
        let other = db.dir.path().join("other-folder");
        std::fs::create_dir_all(&other).unwrap();
        for file in ["node.key", "vault.key"] {
            std::fs::copy(db.data_dir().join(file), other.join(file)).unwrap();
        }
        let refused = scelle::node::Node::open(&other, &db.url, 2).err();
        let why = refused.map(|e| e.to_string()).unwrap_or_default();
        assert!(why.contains("vault-epochs.key"), "{backend:?}: {why:?}");
        std::fs::remove_file(other.join("vault-epochs.key")).unwrap();
        std::fs::copy(
            db.data_dir().join("vault-epochs.key"),
            other.join("vault-epochs.key"),
        )
        .unwrap();
        assert!(
            scelle::node::Node::open(&other, &db.url, 2).is_ok(),
            "{backend:?}"
        );
    }
}
