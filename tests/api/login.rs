//! Web login: an Argon2id password set from the CLI, a signed HttpOnly SameSite session cookie
//! that works on the API, bilingual refusals for wrong passwords, and a throttle after five
//! failures (per login name and per client address).

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

    // The sign-in page is bilingual.
    let (s, page) = app.get_text("none", "/login");
    assert_eq!(s, 200);
    assert!(page.contains("Mot de passe") && page.contains("Password"));

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
    // A forged cookie (another user id under the same MAC) is refused.
    let forged = pair.replacen(&app.investigator_id, &app.analyst_id, 1);
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
    let (s, b, _) = login(&app, "kossi", "cheval correct pile agrafe");
    assert_error(s, &b, 429, "too_many_attempts");
    let (s, b, _) = login(&app, "personne", "cheval correct pile agrafe");
    assert_error(s, &b, 429, "too_many_attempts");
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
