//! `kill -9` of the server in the middle of concurrent appends loses no acknowledged entry, and
//! the log audits clean after restart, on both backends; and several `scelle serve` processes on
//! one PostgreSQL database never fork the log.

use base64::Engine as _;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_scelle");

use crate::helpers::{BACKENDS, Backend, TestDb};

fn start(dir: &std::path::Path, db: &TestDb, port: u16) -> Child {
    // `serve` makes a node on its own only in the default folder: these are explicit ones.
    if !dir.join("node.key").exists() {
        let init = Command::new(BIN)
            .args(["init", "--data-dir", dir.to_str().unwrap()])
            .args(db.cli_args())
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "{}",
            String::from_utf8_lossy(&init.stderr)
        );
    }
    let child = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(db.cli_args())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent
        .get(&format!("http://127.0.0.1:{port}/healthz"))
        .call()
        .is_err()
    {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn add_user(dir: &std::path::Path, db: &TestDb, name: &str) -> String {
    let out = Command::new(BIN)
        .args([
            "user",
            "add",
            "--data-dir",
            dir.to_str().unwrap(),
            "--name",
            name,
            "--role",
            "investigator",
            "--agency",
            "tg.police.dcpj",
        ])
        .args(db.cli_args())
        .output()
        .unwrap();
    crate::helpers::last_line_of(out)
}

fn audit(dir: &std::path::Path, db: &TestDb) {
    let audit = Command::new(BIN)
        .args(["audit", "--data-dir", dir.to_str().unwrap()])
        .args(db.cli_args())
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}{}",
        String::from_utf8_lossy(&audit.stdout),
        String::from_utf8_lossy(&audit.stderr)
    );
}

#[test]
fn kill_9_loses_no_acknowledged_entry() {
    for backend in BACKENDS {
        kill_9_on(backend);
    }
}

fn kill_9_on(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = db.dir.path().to_path_buf();
    let dir = dir.as_path();
    let port = free_port();
    let mut server = start(dir, &db, port);
    let token = add_user(dir, &db, "Kossi");
    let base = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |path: &str, body: serde_json::Value| -> Option<serde_json::Value> {
        let mut r = agent
            .post(&format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(&body)
            .ok()?;
        (r.status().as_u16() == 201)
            .then(|| r.body_mut().read_json().ok())
            .flatten()
    };
    let case = post("/api/v1/cases", json!({"reference": "TG-CRASH-1", "jurisdiction": "TG", "offence": "o", "legal_basis": "l"})).unwrap();
    let case_id = case["case"]["id"].as_str().unwrap().to_owned();
    let mut items = Vec::new();
    for i in 0..8 {
        let e = post(&format!("/api/v1/cases/{case_id}/evidence"), json!({"exhibit_number": format!("P{i}"), "seal_number": format!("S{i}"), "kind": "file", "sha256": "ab".repeat(32), "collected_at": "2026-11-20T10:00:00+00:00"})).unwrap();
        items.push(e["evidence"]["id"].as_str().unwrap().to_owned());
    }
    let acked: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    let writers: Vec<_> = items
        .into_iter()
        .map(|item| {
            let (acked, base, token) = (acked.clone(), base.clone(), token.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(5)))
                    .build()
                    .into();
                let deadline = Instant::now() + Duration::from_secs(20);
                while Instant::now() < deadline {
                    let Ok(mut r) = agent
                        .post(&format!("{base}/api/v1/evidence/{item}/events"))
                        .header("Authorization", &format!("Bearer {token}"))
                        .send_json(json!({"type": "stored", "reason": "rayonnage B"}))
                    else {
                        return; // the server is gone
                    };
                    if r.status().as_u16() != 201 {
                        eprintln!(
                            "append refused: {} {:?}",
                            r.status(),
                            r.body_mut().read_to_string()
                        );
                    }
                    if r.status().as_u16() == 201 {
                        let v: serde_json::Value = r.body_mut().read_json().unwrap();
                        let seq = v["receipt"]["seq"].as_u64().unwrap();
                        acked
                            .lock()
                            .unwrap()
                            .push((seq, v["receipt"]["leaf_hash"].as_str().unwrap().to_owned()));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "only {} appends acknowledged before the kill",
        acked.len()
    );

    let mut server = start(dir, &db, port);
    for (seq, leaf) in &acked {
        let mut r = agent
            .get(&format!("{base}/log/entries/{seq}"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "acknowledged seq {seq} lost");
        let body = r.body_mut().read_to_vec().unwrap();
        let got = base64::engine::general_purpose::STANDARD
            .encode(scelle_verifier::merkle::leaf_hash(&body));
        assert_eq!(&got, leaf, "acknowledged seq {seq} changed");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    audit(dir, &db);
}

/// Two `scelle serve` processes share one PostgreSQL database and node key. Writers hit both at
/// once, each request going to one or the other; the database lock decides who sequences. No
/// seq is handed out twice, every acknowledged entry is there, the log audits clean (so `prev`
/// never forks), and neither process acts on a stale view of custody written by the other.
#[test]
fn two_servers_on_one_postgres_database_never_fork_the_log() {
    let db = TestDb::new(Backend::Postgres);
    let (dir_a, dir_b) = (db.dir.path().join("a"), db.dir.path().join("b"));
    std::fs::create_dir_all(&dir_b).unwrap();
    let (port_a, port_b) = (free_port(), free_port());
    let mut server_a = start(&dir_a, &db, port_a);
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        // Both processes are one node: the same signing key and the same vault keys.
        for file in ["node.key", "vault.key", "vault-epochs.key"] {
            let key = std::fs::read(dir_a.join(file)).unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(dir_b.join(file))
                .unwrap()
                .write_all(&key)
                .unwrap();
        }
    }
    let mut server_b = start(&dir_b, &db, port_b);
    let token = add_user(&dir_a, &db, "Kossi");
    let other = add_user(&dir_a, &db, "Awa");
    let bases = [
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    ];
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |base: &str,
                token: &str,
                path: &str,
                body: serde_json::Value|
     -> (u16, serde_json::Value) {
        let mut r = agent
            .post(&format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(&body)
            .unwrap();
        (
            r.status().as_u16(),
            r.body_mut().read_json().unwrap_or_default(),
        )
    };
    let (s, case) = post(
        &bases[1],
        &token,
        "/api/v1/cases",
        json!({"reference": "TG-MULTI-1", "jurisdiction": "TG", "offence": "o", "legal_basis": "l"}),
    );
    assert_eq!(s, 201, "{case}");
    let case_id = case["case"]["id"].as_str().unwrap().to_owned();
    let mut items = Vec::new();
    for i in 0..8 {
        let (s, e) = post(
            &bases[i % 2],
            &token,
            &format!("/api/v1/cases/{case_id}/evidence"),
            json!({"exhibit_number": format!("P{i}"), "seal_number": format!("S{i}"), "kind": "file", "sha256": "ab".repeat(32), "collected_at": "2026-11-20T10:00:00+00:00"}),
        );
        assert_eq!(s, 201, "{e}");
        items.push(e["evidence"]["id"].as_str().unwrap().to_owned());
    }

    let acked: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    let writers: Vec<_> = items
        .iter()
        .cloned()
        .map(|item| {
            let (acked, bases, token) = (acked.clone(), bases.clone(), token.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                for n in 0..60 {
                    let mut r = agent
                        .post(&format!("{}/api/v1/evidence/{item}/events", bases[n % 2]))
                        .header("Authorization", &format!("Bearer {token}"))
                        .send_json(json!({"type": "stored", "reason": "rayonnage C"}))
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                    let v: serde_json::Value = r.body_mut().read_json().unwrap();
                    acked.lock().unwrap().push((
                        v["receipt"]["seq"].as_u64().unwrap(),
                        v["receipt"]["leaf_hash"].as_str().unwrap().to_owned(),
                    ));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), 8 * 60);
    let seqs: std::collections::BTreeSet<u64> = acked.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs.len(), acked.len(), "a seq was handed out twice");

    // Custody written through one process is what the other enforces.
    let item = &items[0];
    let other_id = {
        let mut c = db.raw();
        use diesel::prelude::*;
        scelle::storage::schema::users::table
            .filter(scelle::storage::schema::users::name.eq("Awa"))
            .select(scelle::storage::schema::users::id)
            .first::<String>(&mut c)
            .unwrap()
    };
    let events = format!("/api/v1/evidence/{item}/events");
    let (s, b) = post(
        &bases[0],
        &token,
        &events,
        json!({"type": "transferred", "to_user": other_id}),
    );
    assert_eq!(s, 201, "{b}");
    let (s, b) = post(
        &bases[1],
        &other,
        &events,
        json!({"type": "received", "seal_intact": true}),
    );
    assert_eq!(s, 201, "{b}");
    let (s, b) = post(
        &bases[0],
        &token,
        &events,
        json!({"type": "stored", "reason": "x"}),
    );
    assert_eq!(s, 409, "the old holder acted through a stale view: {b}");
    assert_eq!(b["error"]["code"], "not_holder");

    for (seq, leaf) in &acked {
        let mut r = agent
            .get(&format!("{}/log/entries/{seq}", bases[*seq as usize % 2]))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        let body = r.body_mut().read_to_vec().unwrap();
        let got = base64::engine::general_purpose::STANDARD
            .encode(scelle_verifier::merkle::leaf_hash(&body));
        assert_eq!(&got, leaf, "acknowledged seq {seq} differs");
    }
    server_a.kill().unwrap();
    server_b.kill().unwrap();
    server_a.wait().unwrap();
    server_b.wait().unwrap();
    audit(&dir_a, &db);
}
