//! `scelle checkpoint verify` against a real node: trust on first use, growth proven by
//! consistency proofs, and a node caught when it shows a fork, a rollback or a foreign key.

use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::{Backend, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_scelle");

fn watch(app: &TestApp, key: &Path, state: &Path) -> Output {
    Command::new(BIN)
        .args([
            "checkpoint",
            "verify",
            "--server",
            &app.base,
            "--trusted-key",
        ])
        .arg(key)
        .arg("--state")
        .arg(state)
        .env("SCELLE_TOKEN", &app.prosecutor)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn checkpoint_monitor_proves_growth_and_catches_forks_and_rollbacks() {
    let app = TestApp::spawn(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("node.pub");
    std::fs::write(&key, &app.verifier_key).unwrap();
    let state = dir.path().join("state.txt");

    let out = watch(&app, &key, &state);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("First checkpoint verified"),
        "{}",
        text(&out)
    );
    let first = std::fs::read_to_string(&state).unwrap();

    let out = watch(&app, &key, &state);
    assert!(
        out.status.success() && text(&out).contains("Unchanged"),
        "{}",
        text(&out)
    );

    let case = app.open_case("TG-DCPJ-2026-00990");
    let case_id = case["case"]["id"].as_str().unwrap();
    app.register(case_id, "S-990", &"ef".repeat(32));
    let out = watch(&app, &key, &state);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("The log only grew"), "{}", text(&out));
    let grown = std::fs::read_to_string(&state).unwrap();
    assert_ne!(first, grown);

    // The node's own key signing another root at the current size: a split view.
    let signer = scelle::node::files::load_signer(&app.db.data_dir()).unwrap();
    let verifier = signer.verifier().unwrap();
    let current =
        scelle_verifier::note::Checkpoint::open(&grown, &verifier, signer.name()).unwrap();
    let forged = |size: u64| {
        scelle_verifier::note::Checkpoint {
            origin: signer.name().to_owned(),
            size,
            root: [7u8; 32],
        }
        .sign(&signer)
        .unwrap()
    };
    std::fs::write(&state, forged(current.size)).unwrap();
    let out = watch(&app, &key, &state);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("SPLIT VIEW") && text(&out).contains("VUES DIVERGENTES"));
    // The state is not overwritten by a failed check.
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        forged(current.size)
    );

    // A saved checkpoint larger than what the server now shows: a rollback.
    std::fs::write(&state, forged(current.size + 5)).unwrap();
    let out = watch(&app, &key, &state);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("ROLLBACK"), "{}", text(&out));

    // An earlier, smaller checkpoint with a root the log never had: the proof fails.
    std::fs::write(&state, forged(current.size - 1)).unwrap();
    let out = watch(&app, &key, &state);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("LOG REWRITTEN"), "{}", text(&out));

    // Another key: nothing the server signs is accepted.
    let other = scelle_verifier::note::NoteSigner::generate(signer.name()).unwrap();
    let other_key = dir.path().join("other.pub");
    std::fs::write(&other_key, other.verifier_key_string()).unwrap();
    std::fs::remove_file(&state).unwrap();
    let out = watch(&app, &other_key, &state);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(!state.exists());

    // No token: the server refuses, which is a failure to check, not a verdict.
    let out = Command::new(BIN)
        .args([
            "checkpoint",
            "verify",
            "--server",
            &app.base,
            "--trusted-key",
        ])
        .arg(&key)
        .arg("--state")
        .arg(&state)
        .env_remove("SCELLE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}
