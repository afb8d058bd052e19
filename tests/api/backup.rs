//! Backups that restore (issue 29, item 8): a backup taken while writers append restores into a
//! node that audits clean, starts and serves; the same backup put back into the node's own
//! folder after it published more is refused (it would fork); a damaged backup is refused.

use serde_json::json;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_scelle");

fn scelle(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &Output, fr: &str, en: &str) {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(fr) && err.contains(en), "{err}");
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// Starts `serve` on `dir`; the base URL and the process.
fn serve(dir: &Path) -> (String, std::process::Child) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent().get(&format!("{base}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (base, child)
}

fn stop(child: std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait_with_output();
}

#[test]
fn a_backup_taken_under_load_restores_into_a_node_that_audits_clean_and_does_not_fork() {
    let tmp = tempfile::tempdir().unwrap();
    let node = tmp.path().join("node");
    let admin = ok(&scelle(&node, &["init"]))
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let (base, server) = serve(&node);
    let (s, user) = {
        let mut r = agent()
            .post(&format!("{base}/api/v1/users"))
            .header("Authorization", &format!("Bearer {admin}"))
            .send_json(
                json!({"name": "Kossi A.", "role": "investigator", "agency": "tg.police.dcpj"}),
            )
            .unwrap();
        (
            r.status().as_u16(),
            serde_json::from_str::<serde_json::Value>(&r.body_mut().read_to_string().unwrap())
                .unwrap(),
        )
    };
    assert_eq!(s, 201, "{user}");
    let token = user["token"].as_str().unwrap().to_owned();

    // Four writers open cases while the backup is taken.
    let stop_writers = AtomicBool::new(false);
    let written = AtomicU64::new(0);
    let backup_dir = tmp.path().join("backup-1");
    std::thread::scope(|scope| {
        for w in 0..4 {
            let (base, token, stop_writers, written) = (&base, &token, &stop_writers, &written);
            scope.spawn(move || {
                let mut n = 0;
                while !stop_writers.load(Ordering::Relaxed) {
                    let r = agent()
                        .post(&format!("{base}/api/v1/cases"))
                        .header("Authorization", &format!("Bearer {token}"))
                        .send_json(
                            json!({"reference": format!("TG-BK-{w}-{n}"), "jurisdiction": "TG",
                                          "offence": "Budapest art. 8", "legal_basis": "R-1"}),
                        )
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                    written.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
            });
        }
        while written.load(Ordering::Relaxed) < 40 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = ok(&scelle(
            &node,
            &["backup", "--to", backup_dir.to_str().unwrap()],
        ));
        assert!(out.contains("entr"), "{out}");
        // The node goes on after the backup, and publishes beyond it.
        let after = written.load(Ordering::Relaxed);
        while written.load(Ordering::Relaxed) < after + 40 {
            std::thread::sleep(Duration::from_millis(20));
        }
        stop_writers.store(true, Ordering::Relaxed);
    });
    std::thread::sleep(Duration::from_millis(1500));
    stop(server);

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(backup_dir.join("backup.json")).unwrap())
            .unwrap();
    let backed_up = manifest["log_size"].as_u64().unwrap();
    assert!(backed_up > 40, "{manifest}");
    for file in ["scelle.db", "node.key", "vault.key", "vault-epochs.key"] {
        assert!(manifest["files"][file].is_string(), "{file}: {manifest}");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(backup_dir.join(file))
                .unwrap()
                .permissions(),
        ) & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }

    // Into a new folder: restored, audited, and the node serves.
    let fresh = tmp.path().join("restored");
    let out = ok(&scelle(
        &fresh,
        &["restore", "--from", backup_dir.to_str().unwrap()],
    ));
    assert!(out.contains(&backed_up.to_string()), "{out}");
    ok(&scelle(&fresh, &["audit"]));
    let (base, server) = serve(&fresh);
    let health: serde_json::Value = agent()
        .get(&format!("{base}/healthz"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(health["log_size"], backed_up);
    stop(server);

    // Into the node's own folder, after the node published more: refused, nothing replaced.
    std::fs::rename(node.join("scelle.db"), tmp.path().join("lost.db")).unwrap();
    for side in ["scelle.db-wal", "scelle.db-shm"] {
        let _ = std::fs::remove_file(node.join(side));
    }
    refused(
        &scelle(&node, &["restore", "--from", backup_dir.to_str().unwrap()]),
        "plus ancienne",
        "older database",
    );
    assert!(
        !node.join("scelle.db").exists(),
        "a refused restore left a database"
    );

    // A damaged backup, a non-empty target, another node's folder: each refused.
    let damaged = tmp.path().join("backup-damaged");
    std::fs::create_dir(&damaged).unwrap();
    for entry in std::fs::read_dir(&backup_dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, damaged.join(path.file_name().unwrap())).unwrap();
    }
    let mut bytes = std::fs::read(damaged.join("scelle.db")).unwrap();
    let last = bytes.len() - 100;
    bytes[last] ^= 1;
    std::fs::write(damaged.join("scelle.db"), bytes).unwrap();
    refused(
        &scelle(
            &tmp.path().join("x"),
            &["restore", "--from", damaged.to_str().unwrap()],
        ),
        "endommagée",
        "damaged",
    );
    refused(
        &scelle(&node, &["backup", "--to", backup_dir.to_str().unwrap()]),
        "pas vide",
        "not empty",
    );
    let other = tmp.path().join("other");
    ok(&scelle(&other, &["init"]));
    std::fs::remove_file(other.join("scelle.db")).unwrap();
    refused(
        &scelle(&other, &["restore", "--from", backup_dir.to_str().unwrap()]),
        "autre nœud",
        "another node",
    );
}
