//! Operators' mistakes (issue 29, item 7): each is refused with a reason in French and English,
//! and creates nothing — a typo in the folder, a database moved away or restored from an older
//! copy (either would fork the log), a database URL with no scheme, a `--revert-all` nobody
//! confirmed, key files others may read; and the folder, keys and database are made private.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestDb};

use crate::helpers::free_port;

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
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A refusal: a failing exit, and both languages on standard error, each holding `fr` / `en`.
fn refused(out: &Output, fr: &str, en: &str) -> String {
    assert!(
        !out.status.success(),
        "accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains(fr) && err.contains(en), "{err}");
    err
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Serves `dir` until `run` is done, then stops the server as an operator would (SIGTERM).
fn while_serving(dir: &Path, extra: &[String], run: impl FnOnce(&str)) -> String {
    let mut command = Command::new(BIN);
    command.arg("--data-dir").arg(dir).args(extra);
    serving(command, run)
}

/// Runs `scelle … serve` as `command` says until `run` is done, then stops it (SIGTERM); what
/// it printed.
fn serving(mut command: Command, run: impl FnOnce(&str)) -> String {
    let port = free_port();
    let child = command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent.get(&format!("{base}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    run(&base);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Issue #29 item 10: a server's output ends up in a log (a container's, the journal). The node
/// `serve` makes on its own in the default folder prints its verifier key, and writes the first
/// admin token to a file only its owner reads, which works.
#[test]
fn the_first_admin_token_of_a_node_serve_makes_goes_to_a_private_file_not_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let mut command = Command::new(BIN);
    command
        .current_dir(tmp.path())
        .env_remove("SCELLE_DATA_DIR");
    let token_file = tmp.path().join("scelle-data").join("first-admin.token");
    let mut token = String::new();
    let printed = serving(command, |base| {
        token = std::fs::read_to_string(&token_file)
            .unwrap()
            .trim()
            .to_owned();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let status = agent
            .post(&format!("{base}/api/v1/agencies"))
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(serde_json::json!({"id": "bj.police.ocrc", "name": "OCRC"}))
            .unwrap()
            .status();
        assert_eq!(status, 201, "the token in the file is the administrator's");
    });
    assert!(token.starts_with("sct_"), "{token}");
    assert!(
        !printed.contains(&token),
        "the token was printed: {printed}"
    );
    assert!(printed.contains("first-admin.token"), "{printed}");
    assert_eq!(mode(&token_file) & 0o077, 0, "the token file is private");
}

#[test]
fn a_folder_or_database_that_holds_no_node_is_refused_and_nothing_is_made() {
    let tmp = tempfile::tempdir().unwrap();
    let typo = tmp.path().join("scelle-dta");
    let err = refused(
        &scelle(&typo, &["serve", "--listen", "127.0.0.1:0"]),
        "scelle init",
        "scelle init",
    );
    assert!(
        err.contains("Aucun nœud") && err.contains("No node"),
        "{err}"
    );
    assert!(!typo.exists(), "serve made a folder for a typo");
    refused(
        &scelle(
            &typo,
            &[
                "user",
                "add",
                "--name",
                "X",
                "--role",
                "admin",
                "--agency",
                "tg.police.dcpj",
            ],
        ),
        "Aucun nœud",
        "No node",
    );
    assert!(!typo.exists());

    // A URL with no scheme is not a file name.
    let node = tmp.path().join("node");
    ok(&scelle(&node, &["init"]));
    let here = tmp.path().join("cwd");
    std::fs::create_dir(&here).unwrap();
    let out = Command::new(BIN)
        .current_dir(&here)
        .arg("--data-dir")
        .arg(&node)
        .args([
            "--database-url",
            "x",
            "user",
            "add",
            "--name",
            "X",
            "--role",
            "admin",
            "--agency",
            "tg.police.dcpj",
        ])
        .output()
        .unwrap();
    refused(&out, "sqlite://", "postgres://");
    assert_eq!(
        std::fs::read_dir(&here).unwrap().count(),
        0,
        "a file was made for the URL"
    );

    // The folder, its keys and its database are for the node's user alone.
    assert_eq!(mode(&node), 0o700);
    for file in ["node.key", "vault.key", "vault-epochs.key", "scelle.db"] {
        assert_eq!(mode(&node.join(file)), 0o600, "{file}");
    }

    // The database moved away: the node does not start on a new, empty one under its key.
    std::fs::rename(node.join("scelle.db"), tmp.path().join("elsewhere.db")).unwrap();
    for side in ["scelle.db-wal", "scelle.db-shm"] {
        let _ = std::fs::remove_file(node.join(side));
    }
    let err = refused(
        &scelle(&node, &["serve", "--listen", "127.0.0.1:0"]),
        "base",
        "database",
    );
    assert!(
        err.contains("fork") || err.contains("seconde histoire"),
        "{err}"
    );
    assert!(
        !node.join("scelle.db").exists(),
        "an empty database was made"
    );
    refused(
        &scelle(&node, &["token", "issue", "--user", "x"]),
        "base",
        "database",
    );
    assert!(!node.join("scelle.db").exists());

    // `scelle key show` prints the verifier key init printed, and writes node.pub.
    std::fs::rename(tmp.path().join("elsewhere.db"), node.join("scelle.db")).unwrap();
    let out = Command::new(BIN)
        .current_dir(&here)
        .arg("--data-dir")
        .arg(&node)
        .args(["key", "show"])
        .output()
        .unwrap();
    let key = ok(&out).trim().to_owned();
    assert!(key.starts_with("tg.police.dcpj/scelle+"), "{key}");
    assert_eq!(
        std::fs::read_to_string(here.join("node.pub"))
            .unwrap()
            .trim(),
        key
    );

    // A key file others may read: the node does not start, and says how to mend it.
    std::fs::set_permissions(
        node.join("vault.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let err = refused(
        &scelle(&node, &["serve", "--listen", "127.0.0.1:0"]),
        "chmod 600",
        "chmod 600",
    );
    assert!(err.contains("vault.key") && err.contains("644"), "{err}");
}

#[test]
fn a_database_older_than_what_the_node_published_or_another_history_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let node = tmp.path().join("node");
    let admin = ok(&scelle(&node, &["init"]))
        .lines()
        .last()
        .unwrap()
        .to_owned();
    // A copy taken now, while the log is short.
    std::fs::copy(node.join("scelle.db"), tmp.path().join("old.db")).unwrap();
    while_serving(&node, &[], |base| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        for n in 0..3 {
            let resp = agent
                .post(&format!("{base}/api/v1/agencies"))
                .header("Authorization", &format!("Bearer {admin}"))
                .send_json(serde_json::json!({"id": format!("bj.police.s{n}"), "name": "Service"}))
                .unwrap();
            assert_eq!(resp.status().as_u16(), 201);
        }
        // The node records what it published at most a second behind.
        std::thread::sleep(Duration::from_millis(1500));
    });
    let published = std::fs::read_to_string(node.join("published.checkpoint")).unwrap();
    let published_size: u64 = published.lines().nth(1).unwrap().parse().unwrap();
    assert!(published_size >= 4, "{published}");

    // The old copy put back: it would sign a second history from its shorter log.
    std::fs::copy(tmp.path().join("old.db"), node.join("scelle.db")).unwrap();
    for side in ["scelle.db-wal", "scelle.db-shm"] {
        let _ = std::fs::remove_file(node.join(side));
    }
    let err = refused(
        &scelle(&node, &["serve", "--listen", "127.0.0.1:0"]),
        "plus ancienne",
        "older database",
    );
    assert!(err.contains(&published_size.to_string()), "{err}");

    // The old copy grown to the same size by other appends: another history, refused too.
    {
        let db = scelle::storage::DatabaseUrl::sqlite_in(&node);
        let (ledger, handle) = scelle::node::Node::open(&node, &db, 2).unwrap();
        let mut n = 0;
        while scelle::usecases::log::size(&ledger).unwrap() < published_size {
            scelle::usecases::admin::add_agency(
                &ledger,
                &format!("ne.police.x{n}"),
                None,
                "Autre",
                false,
            )
            .unwrap();
            n += 1;
        }
        ledger.shutdown(handle);
    }
    refused(
        &scelle(&node, &["serve", "--listen", "127.0.0.1:0"]),
        "autre histoire",
        "another history",
    );
}

#[test]
fn revert_all_asks_first_and_the_listening_line_hides_the_database_password() {
    let db = TestDb::new(Backend::Postgres);
    let url = match &db.url {
        scelle::storage::DatabaseUrl::Postgres(u) => {
            u.replacen("postgres@", "postgres:motdepasse-secret@", 1)
        }
        _ => unreachable!(),
    };
    let dir = db.data_dir();
    let with_url = ["--database-url".to_owned(), url.clone()];
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write as _;
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(&dir)
            .args(&with_url)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    ok(&run(&["init"], ""));
    let listening = while_serving(&dir, &with_url, |_| {});
    assert!(!listening.is_empty());
    assert!(!listening.contains("motdepasse"), "{listening}");

    let size = || {
        let mut c = db.raw();
        scelle::storage::log_store::head(&mut c)
            .map(|h| h.0)
            .unwrap_or(0)
    };
    let before = size();
    assert!(before > 0);
    let out = run(&["migrate", "--revert-all"], "non\n");
    refused(&out, "Rien n'a été supprimé", "Nothing was dropped");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Tapez"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("motdepasse"));
    assert_eq!(size(), before, "the log was dropped without confirmation");
    ok(&run(&["migrate", "--revert-all", "--yes"], ""));
    assert_eq!(size(), 0);
}

/// A refused `init` (an agency outside the five states) writes nothing: the next `init` of the
/// same folder, with the right agency, makes the node it asks for.
#[test]
fn a_refused_init_leaves_no_half_made_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("node");
    let run = |origin: &str, agency: &str| {
        Command::new(BIN)
            .arg("--data-dir")
            .arg(&folder)
            .args(["init", "--origin", origin, "--agency", agency])
            .output()
            .unwrap()
    };
    let refused = run("ml.police/scelle", "ml.police");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("bj. bf. ci. ne. tg."));
    assert!(!folder.exists(), "nothing written");
    let made = run("bj.police.ocrc/scelle", "bj.police.ocrc");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let key = std::fs::read_to_string(folder.join("node.key")).unwrap();
    assert!(key.starts_with("PRIVATE+KEY+bj.police.ocrc/scelle+"));
}
