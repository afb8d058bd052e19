//! The policies as operators handle them: `scelle policy check` validates a folder against the
//! schema, a bad policy stops `scelle serve` before it listens, and `scelle retention run`
//! erases what has outlived its period (then the log still audits clean and `scelle dpo report`
//! accounts for the data held, in French and English).

use diesel::prelude::*;
use std::process::Command;

use crate::helpers::{Backend, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_scelle");

fn copy_policies(dir: &std::path::Path) {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn policy_check_and_a_bad_policy_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    copy_policies(dir.path());
    let ok = Command::new(BIN)
        .args(["policy", "check", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("policies valid"));

    // A policy naming an attribute the schema does not have.
    std::fs::write(
        dir.path().join("zz_local.cedar"),
        "@id(\"local\")\npermit (principal, action == Scelle::Action::\"case.read\", resource)\nwhen { resource.classified == false };\n",
    )
    .unwrap();
    let bad = Command::new(BIN)
        .args(["policy", "check", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("classified"), "{err}");
    assert!(
        err.contains("Invalid access policies") && err.contains("Règles d'accès invalides"),
        "{err}"
    );

    let data = tempfile::tempdir().unwrap();
    let serve = Command::new(BIN)
        .arg("--data-dir")
        .arg(data.path().join("node"))
        .args(["serve", "--listen", "127.0.0.1:0", "--policies"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!serve.status.success(), "served with a bad policy");
    assert!(String::from_utf8_lossy(&serve.stderr).contains("classified"));
    assert!(
        !data.path().join("node").exists(),
        "started before checking its policies"
    );
}

#[test]
fn retention_erases_expired_records_and_the_dpo_report_accounts_for_them() {
    let app = TestApp::spawn(Backend::Sqlite);
    let case = app.open_case("TG-RET-1");
    let case_id = case["case"]["id"].as_str().unwrap().to_owned();
    let (s, p) = app.post(
        &app.investigator,
        &format!("/api/v1/cases/{case_id}/persons"),
        &serde_json::json!({"role": "witness", "name": "Yawa Dossou"}),
    );
    assert_eq!(s, 201, "{p}");
    let record = p["person"]["commitment"]["record"]
        .as_str()
        .unwrap()
        .to_owned();
    // Age the witness record past Togo's five-year period behind Scellé's back.
    {
        use scelle::storage::schema::vault_sealed;
        let mut c = app.db.raw();
        let scelle::storage::DbConnection::Sqlite(c) = &mut c else {
            unreachable!()
        };
        diesel::update(vault_sealed::table.filter(vault_sealed::id.eq(&record)))
            .set(vault_sealed::created_at.eq("2019-01-01T00:00:00Z"))
            .execute(c)
            .unwrap();
    }
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .arg("--data-dir")
            .arg(app.db.data_dir())
            .args(["retention", "run", "--json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let dry = run(&["--dry-run"]);
    let dry: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(dry["erased"].as_array().unwrap().len(), 1, "{dry}");
    assert_eq!(dry["erased"][0]["category"], "person.witness");
    assert!(dry["erased"][0]["seq"].is_null());
    let size = app.log_size();
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["erased"][0]["record"], record.as_str());
    // Only the expired record went: one erasure entry citing the rule; the title stays.
    assert_eq!(app.kinds_since(size), vec!["vault.erased"]);
    let entry = scelle::storage::log_store::entry_body(&mut app.db.raw(), size)
        .unwrap()
        .unwrap();
    let entry = String::from_utf8(entry).unwrap();
    assert!(
        entry.contains("loi 2019-014") && entry.contains("1825"),
        "{entry}"
    );
    let (_, view) = app.get(
        &app.prosecutor,
        &format!("/api/v1/cases/{case_id}?purpose=prosecution"),
    );
    assert_eq!(view["title"], "Escroquerie en ligne");
    let again = run(&[]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["erased"].as_array().unwrap().len(), 0);

    let audit = Command::new(BIN)
        .arg("--data-dir")
        .arg(app.db.data_dir())
        .arg("audit")
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );

    let dpo = Command::new(BIN)
        .arg("--data-dir")
        .arg(app.db.data_dir())
        .args(["dpo", "report", "--state", "TG"])
        .output()
        .unwrap();
    assert!(
        dpo.status.success(),
        "{}",
        String::from_utf8_lossy(&dpo.stderr)
    );
    let text = String::from_utf8_lossy(&dpo.stdout);
    assert!(
        text.contains("Registre des traitements") && text.contains("Records of processing"),
        "{text}"
    );
    assert!(
        text.contains("IPDCP") && text.contains("loi 2019-014"),
        "{text}"
    );
    // The title of the case is still held; the witness record is gone.
    let json = Command::new(BIN)
        .arg("--data-dir")
        .arg(app.db.data_dir())
        .args(["dpo", "report", "--state", "TG", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["records_held"]["case_text"], 1, "{json}");
    assert_eq!(json["records_held"]["person.witness"], 0, "{json}");
    assert_eq!(json["retention"].as_array().unwrap().len(), 5);
}
