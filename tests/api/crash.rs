//! `kill -9` of the server in the middle of concurrent appends loses no acknowledged entry, and
//! the log audits clean after restart.

use base64::Engine as _;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_scelle");

fn start(dir: &std::path::Path, port: u16) -> Child {
    let child = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn kill_9_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(dir.path(), port);
    let out = Command::new(BIN)
        .args([
            "user",
            "add",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--name",
            "Kossi",
            "--role",
            "investigator",
            "--agency",
            "tg.police.dcpj",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
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

    let mut server = start(dir.path(), port);
    for (seq, leaf) in &acked {
        let mut r = agent
            .get(&format!("{base}/log/entries/{seq}"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "acknowledged seq {seq} lost");
        let body = r.body_mut().read_to_vec().unwrap();
        let got = base64::engine::general_purpose::STANDARD
            .encode(scelle::core::merkle::leaf_hash(&body));
        assert_eq!(&got, leaf, "acknowledged seq {seq} changed");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let audit = Command::new(BIN)
        .args(["audit", "--data-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}{}",
        String::from_utf8_lossy(&audit.stdout),
        String::from_utf8_lossy(&audit.stderr)
    );
}
