//! Web login: an Argon2id password set from the CLI, an HttpOnly SameSite session cookie that
//! works on the API, bilingual refusals for wrong passwords, and a throttle after five failures
//! per login name (and twenty per client address: `sessions.rs`).

use serde_json::{Value, json};
use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::helpers::{Backend, TestApp, assert_error};

const BIN: &str = env!("CARGO_BIN_EXE_scelle");

fn set_password(app: &TestApp, user: &str, login: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(app.db.data_dir())
        .args(["user", "password", "--user", user, "--login", login])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn login(app: &TestApp, login: &str, password: &str) -> (u16, Value, Option<String>) {
    let mut resp = app
        .agent()
        .post(&format!("{}/login", app.base))
        .send_json(json!({"login": login, "password": password}))
        .unwrap();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::Null),
        cookie,
    )
}

#[test]
fn password_login_gives_a_session_and_wrong_passwords_are_throttled() {
    let app = TestApp::spawn(Backend::Sqlite);
    let case = app.open_case("TG-LOGIN-1");
    let case_id = case["case"]["id"].as_str().unwrap().to_owned();
    let out = set_password(&app, &app.investigator_id, "kossi", "trop court");
    assert!(!out.status.success(), "a short password was accepted");
    let out = set_password(
        &app,
        &app.investigator_id,
        "kossi",
        "cheval correct pile agrafe",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored: String = {
        use diesel::prelude::*;
        use scelle::storage::schema::users;
        let mut c = app.db.raw();
        let scelle::storage::DbConnection::Sqlite(c) = &mut c else {
            unreachable!()
        };
        users::table
            .filter(users::id.eq(&app.investigator_id))
            .select(users::password_hash)
            .first::<Option<String>>(c)
            .unwrap()
            .unwrap()
    };
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("cheval"));

    // The sign-in page is in French, English one click away, every text from the catalogue.
    let (s, page) = app.get_text("none", "/login");
    assert_eq!(s, 200);
    assert!(
        page.contains("<html lang=\"fr\">") && page.contains("Mot de passe"),
        "{page}"
    );
    assert!(!page.contains("Password"), "{page}");
    assert!(page.contains("href=\"?lang=en\""), "{page}");
    let (s, page) = app.get_text("none", "/login?lang=en");
    assert_eq!(s, 200);
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("Password"),
        "{page}"
    );

    // A good login: a session cookie, HttpOnly and SameSite=Strict, that the API accepts.
    let (s, b, cookie) = login(&app, "Kossi", "cheval correct pile agrafe");
    assert_eq!(s, 200, "{b}");
    let cookie = cookie.unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let mut resp = app
        .agent()
        .get(&format!("{}/api/v1/cases/{case_id}", app.base))
        .header("Cookie", &pair)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let view: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(view["id"], case_id.as_str());
    // A forged cookie (well-formed, but not a session the node holds) is refused.
    let forged = format!("scelle_session=v2.{}", "Z".repeat(43));
    assert_ne!(forged, pair);
    let resp = app
        .agent()
        .get(&format!("{}/api/v1/cases/{case_id}", app.base))
        .header("Cookie", &forged)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);

    // Wrong passwords: a bilingual 401 each, then 429 once five have failed; the throttle
    // holds even for the right password, and unknown names are refused the same way.
    let size = app.log_size();
    for _ in 0..5 {
        let (s, b, c) = login(&app, "kossi", "mauvais mot de passe");
        assert_error(s, &b, 401, "bad_credentials");
        assert!(c.is_none());
    }
    let throttled = app
        .agent()
        .post(&format!("{}/login", app.base))
        .send_json(json!({"login": "kossi", "password": "cheval correct pile agrafe"}))
        .unwrap();
    assert_eq!(throttled.status().as_u16(), 429);
    let wait: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&wait), "Retry-After {wait}");
    let (s, b, _) = login(&app, "kossi", "cheval correct pile agrafe");
    assert_error(s, &b, 429, "too_many_attempts");
    // Another name from the same address is still checked: the address has room for more.
    let (s, b, _) = login(&app, "personne", "cheval correct pile agrafe");
    assert_error(s, &b, 401, "bad_credentials");
    assert_eq!(app.log_size(), size, "failed logins wrote to the log");

    // Changing the password ends the existing sessions.
    let out = set_password(
        &app,
        &app.investigator_id,
        "kossi",
        "un tout autre mot de passe",
    );
    assert!(out.status.success());
    let resp = app
        .agent()
        .get(&format!("{}/api/v1/cases/{case_id}", app.base))
        .header("Cookie", &pair)
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

/// The real server at its most verbose log level (`SCELLE_LOG=trace`): after logins with right
/// and wrong passwords, a session and a bearer token in use, and refused requests, no password,
/// token secret or session cookie appears in any log line.
#[test]
fn no_secret_ever_reaches_a_log_line() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("node");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cli = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(&dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    cli(&["init", "--origin", "tg.police.dcpj/scelle"], None);
    let added = cli(
        &[
            "user",
            "add",
            "--name",
            "Kossi A.",
            "--role",
            "investigator",
            "--agency",
            "tg.police.dcpj",
        ],
        None,
    );
    let token = added.lines().last().unwrap().to_owned();
    let user_id = added
        .split("User created: ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    let password = "phrase secrète très longue 42";
    cli(
        &["user", "password", "--user", &user_id, "--login", "kossi"],
        Some(&format!("{password}\n")),
    );

    let mut server = Command::new(BIN)
        .arg("--data-dir")
        .arg(&dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("SCELLE_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while agent.get(&format!("{base}/healthz")).call().is_err() {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let wrong = "mauvais mot de passe 17";
    let r = agent
        .post(&format!("{base}/login"))
        .send_json(json!({"login": "kossi", "password": wrong}))
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = agent
        .post(&format!("{base}/login"))
        .send_json(json!({"login": "kossi", "password": password}))
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let r = agent
        .get(&format!("{base}/log/checkpoint"))
        .header("Cookie", &format!("scelle_session={session}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = agent
        .post(&format!("{base}/api/v1/cases"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"reference": "TG-LOG-1", "jurisdiction": "TG", "offence": "o", "legal_basis": "l"}))
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let r = agent
        .post(&format!("{base}/api/v1/users"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"name": "x", "role": "admin", "agency": "tg.police.dcpj"}))
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = agent
        .get(&format!("{base}/api/v1/cases"))
        .header(
            "Authorization",
            "Bearer sct_0123456789abcdef_forged-secret-value",
        )
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let _ = server.kill();
    let out = server.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(!logs.is_empty(), "trace logging produced nothing to check");
    // `sct_<id>_<secret>`: the secret is base64url and may itself hold `_`.
    let secret = token.splitn(3, '_').nth(2).unwrap();
    assert!(secret.len() >= 40, "{token}");
    for needle in [
        password,
        wrong,
        secret,
        session.as_str(),
        "forged-secret-value",
    ] {
        assert!(
            !logs.contains(needle),
            "a secret reached the logs: {needle}"
        );
    }
}
