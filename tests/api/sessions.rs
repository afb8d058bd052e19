//! Sessions that end (issue 29, item 3): the node holds each web session, so logging out, a new
//! password, revoking a user's tokens or disabling the user ends it server-side; the throttle
//! takes its slot before it checks a password, and keys on the client behind a trusted proxy
//! only; the first administrator's token expires; and no other site can make a browser sign in
//! or write with its cookie.

use serde_json::{Value, json};
use std::io::Write as _;
use std::process::{Command, Stdio};

use scelle::usecases::admin;
use scelle_verifier::model::Role;

use crate::helpers::{Backend, TestApp, assert_error};

const BIN: &str = env!("CARGO_BIN_EXE_scelle");
const PASSWORD: &str = "cheval correct pile agrafe";

fn cli(app: &TestApp, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(app.db.data_dir())
        .args(app.db.cli_args())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn read(mut resp: ureq::http::Response<ureq::Body>) -> (u16, Value, Option<String>) {
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(str::to_owned);
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        cookie,
    )
}

/// Signs in with JSON; the status, body and the `name=value` of the session cookie.
fn login(app: &TestApp, login: &str, password: &str) -> (u16, Value, Option<String>) {
    read(
        app.agent()
            .post(&format!("{}/login", app.base))
            .send_json(json!({"login": login, "password": password}))
            .unwrap(),
    )
}

/// A GET of `path` with a session cookie; the status.
fn get_with_cookie(app: &TestApp, cookie: &str, path: &str) -> (u16, Value) {
    let (s, b, _) = read(
        app.agent()
            .get(&format!("{}{path}", app.base))
            .header("Cookie", cookie)
            .call()
            .unwrap(),
    );
    (s, b)
}

fn with_admin(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |node| {
        let (_, token) =
            admin::add_user(node, "Admin", Role::Admin, "tg.police.dcpj", None).unwrap();
        [("admin".to_owned(), token)].into()
    })
}

#[test]
fn logout_a_new_password_a_revocation_and_disabling_each_end_the_session_on_the_node() {
    let app = with_admin(Backend::Sqlite);
    let inv = app.investigator_id.clone();
    ok(&cli(
        &app,
        &["user", "password", "--user", &inv, "--login", "kossi"],
        Some(&format!("{PASSWORD}\n")),
    ));
    let me = "/api/v1/cases?reference=NONE";

    // Logout: the very cookie the browser held is refused afterwards.
    let (s, b, cookie) = login(&app, "kossi", PASSWORD);
    assert_eq!(s, 200, "{b}");
    let cookie = cookie.unwrap();
    assert_eq!(get_with_cookie(&app, &cookie, me).0, 404);
    let (s, _, cleared) = read(
        app.agent()
            .post(&format!("{}/logout", app.base))
            .header("Cookie", &cookie)
            .send_empty()
            .unwrap(),
    );
    assert_eq!(s, 204);
    assert_eq!(cleared.as_deref(), Some("scelle_session="));
    let (s, b) = get_with_cookie(&app, &cookie, me);
    assert_error(s, &b, 401, "unauthenticated");

    // A cookie the node never gave, well-formed or not, opens nothing.
    for forged in [
        format!("scelle_session=v2.{}", "A".repeat(43)),
        "scelle_session=v1.x.9999999999.mac".into(),
    ] {
        assert_eq!(get_with_cookie(&app, &forged, me).0, 401, "{forged}");
    }

    // Revoking a user's tokens ends their tokens and sessions; the password still signs in.
    let (_, _, cookie) = login(&app, "kossi", PASSWORD);
    let cookie = cookie.unwrap();
    let out = ok(&cli(&app, &["token", "revoke", "--user", &inv], None));
    assert!(
        out.contains("1 token revoked") || out.contains("1 jeton révoqué"),
        "{out}"
    );
    assert_eq!(get_with_cookie(&app, &cookie, me).0, 401);
    let (s, b) = app.get(&app.investigator, me);
    assert_error(s, &b, 401, "token_revoked");
    let (s, _, cookie) = login(&app, "kossi", PASSWORD);
    assert_eq!(s, 200);
    let cookie = cookie.unwrap();

    // Disabling ends every way in: the new session, any token, the password.
    let new_token = ok(&cli(
        &app,
        &["token", "issue", "--user", &inv, "--days", "3"],
        None,
    ));
    let new_token = new_token.lines().last().unwrap().to_owned();
    assert_eq!(app.get(&new_token, me).0, 404);
    let out = ok(&cli(&app, &["user", "disable", "--user", &inv], None));
    assert!(out.contains(&inv), "{out}");
    assert_error(
        get_with_cookie(&app, &cookie, me).0,
        &get_with_cookie(&app, &cookie, me).1,
        401,
        "unauthenticated",
    );
    let (s, b) = app.get(&new_token, me);
    assert!(
        s == 401
            && (b["error"]["code"] == "user_disabled" || b["error"]["code"] == "token_revoked"),
        "{s} {b}"
    );
    let (s, b, c) = login(&app, "kossi", PASSWORD);
    assert_error(s, &b, 401, "user_disabled");
    assert!(c.is_none());
    let out = cli(&app, &["token", "issue", "--user", &inv], None);
    assert!(!out.status.success(), "a disabled user was issued a token");

    // Enabled again: the password works, the old tokens stay revoked.
    ok(&cli(&app, &["user", "enable", "--user", &inv], None));
    assert_eq!(login(&app, "kossi", PASSWORD).0, 200);
    assert_eq!(app.get(&new_token, me).0, 401);

    // Through the API: an administrator disables (not themself); an investigator may not.
    let admin = &app.extra["admin"];
    let (s, b) = app.post(
        &app.prosecutor,
        &format!("/api/v1/users/{inv}/disable"),
        &json!({}),
    );
    assert_eq!(s, 403, "{b}");
    let (s, b) = app.post(admin, &format!("/api/v1/users/{inv}/disable"), &json!({}));
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["disabled"], true);
    assert_error(
        login(&app, "kossi", PASSWORD).0,
        &login(&app, "kossi", PASSWORD).1,
        401,
        "user_disabled",
    );
    let (s, b) = app.post(admin, "/api/v1/users/nobody/disable", &json!({}));
    assert_error(s, &b, 404, "not_found");
    let admin_id = {
        use diesel::prelude::*;
        use scelle::storage::schema::users;
        let mut c = app.db.raw();
        let scelle::storage::DbConnection::Sqlite(c) = &mut c else {
            unreachable!()
        };
        users::table
            .filter(users::name.eq("Admin"))
            .select(users::id)
            .first::<String>(c)
            .unwrap()
    };
    let (s, b) = app.post(
        admin,
        &format!("/api/v1/users/{admin_id}/disable"),
        &json!({}),
    );
    assert_error(s, &b, 400, "invalid_field");
    let (s, b) = app.post(admin, &format!("/api/v1/users/{inv}/enable"), &json!({}));
    assert_eq!(s, 200, "{b}");
    assert_eq!(login(&app, "kossi", PASSWORD).0, 200);
}

#[test]
fn the_throttle_checks_five_of_sixty_four_parallel_guesses_and_keys_on_the_client_behind_a_trusted_proxy()
 {
    let proxies = scelle::http::TrustedProxies::parse(&["127.0.0.1".into()]).unwrap();
    let app = TestApp::spawn_behind(Backend::Sqlite, |_| Default::default(), proxies);
    let inv = app.investigator_id.clone();
    ok(&cli(
        &app,
        &["user", "password", "--user", &inv, "--login", "kossi"],
        Some(&format!("{PASSWORD}\n")),
    ));

    // 64 wrong passwords at once, each from its own client: five are checked, the rest wait.
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..64)
            .map(|i| {
                let app = &app;
                scope.spawn(move || {
                    app.agent()
                        .post(&format!("{}/login", app.base))
                        .header("X-Forwarded-For", &format!("198.51.100.{}", i + 1))
                        .send_json(json!({"login": "kossi", "password": format!("mauvais {i}")}))
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, throttled), (5, 59), "{statuses:?}");

    // One client behind the proxy guessing many names is stopped at its own limit; another
    // client behind the same proxy is not.
    let guess = |client: &str, name: &str| {
        read(
            app.agent()
                .post(&format!("{}/login", app.base))
                .header("X-Forwarded-For", client)
                .send_json(json!({"login": name, "password": "mauvais"}))
                .unwrap(),
        )
        .0
    };
    let answers: Vec<u16> = (0..25)
        .map(|n| guess("203.0.113.7", &format!("nom{n}")))
        .collect();
    assert_eq!(
        answers.iter().filter(|s| **s == 401).count(),
        20,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|s| **s == 429).count(),
        5,
        "{answers:?}"
    );
    assert_eq!(guess("203.0.113.8", "nom0"), 401);
}

#[test]
fn without_a_trusted_proxy_a_forwarded_address_is_not_believed() {
    let app = TestApp::spawn(Backend::Sqlite);
    let answers: Vec<u16> = (0..21)
        .map(|n| {
            read(
                app.agent()
                    .post(&format!("{}/login", app.base))
                    .header("X-Forwarded-For", &format!("198.51.100.{n}"))
                    .send_json(json!({"login": format!("nom{n}"), "password": "mauvais"}))
                    .unwrap(),
            )
            .0
        })
        .collect();
    assert_eq!(answers[..20], [401; 20], "{answers:?}");
    assert_eq!(
        answers[20], 429,
        "a forged X-Forwarded-For escaped the throttle"
    );
}

#[test]
fn no_other_site_signs_a_browser_in_or_writes_with_its_cookie() {
    let app = TestApp::spawn(Backend::Sqlite);
    let inv = app.investigator_id.clone();
    ok(&cli(
        &app,
        &["user", "password", "--user", &inv, "--login", "kossi"],
        Some(&format!("{PASSWORD}\n")),
    ));
    let host = app.base.trim_start_matches("http://").to_owned();
    let form = format!("login=kossi&password={}", PASSWORD.replace(' ', "+"));
    let post_form = |cookie: Option<&str>, body: &str| {
        let mut req = app
            .agent()
            .post(&format!("{}/login", app.base))
            .header("Content-Type", "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        read(req.send(body.as_bytes()).unwrap())
    };

    // A form without the page's token, or with another token, is refused.
    let (s, b, _) = post_form(None, &form);
    assert_error(s, &b, 403, "cross_site_request");
    let (s, b, _) = post_form(
        Some(&format!("scelle_csrf={}", "B".repeat(43))),
        &format!("{form}&csrf={}", "C".repeat(43)),
    );
    assert_error(s, &b, 403, "cross_site_request");

    // The sign-in page gives the token in a cookie and in the form; together they sign in.
    let mut page = app
        .agent()
        .get(&format!("{}/login", app.base))
        .call()
        .unwrap();
    let csrf_cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        csrf_cookie.contains("SameSite=Strict") && csrf_cookie.contains("HttpOnly"),
        "{csrf_cookie}"
    );
    let pair = csrf_cookie.split(';').next().unwrap().to_owned();
    let token = pair.split_once('=').unwrap().1.to_owned();
    let html = page.body_mut().read_to_string().unwrap();
    assert!(
        html.contains(&format!("name=\"csrf\" value=\"{token}\"")),
        "{html}"
    );
    let (s, b, session) = post_form(Some(&pair), &format!("{form}&csrf={token}"));
    assert_eq!(s, 200, "{b}");
    let session = session.unwrap();

    // A login or a write from another site's page is refused, whatever its cookies.
    let (s, b, _) = read(
        app.agent()
            .post(&format!("{}/login", app.base))
            .header("Origin", "https://evil.example")
            .send_json(json!({"login": "kossi", "password": PASSWORD}))
            .unwrap(),
    );
    assert_error(s, &b, 403, "cross_site_request");
    let case =
        json!({"reference": "TG-CSRF-1", "jurisdiction": "TG", "offence": "o", "legal_basis": "l"});
    let write = |origin: Option<&str>, auth: (&str, &str), reference: &str| {
        let mut body = case.clone();
        body["reference"] = reference.into();
        let mut req = app
            .agent()
            .post(&format!("{}/api/v1/cases", app.base))
            .header(auth.0, auth.1);
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        read(req.send_json(body).unwrap())
    };
    let size = app.log_size();
    let (s, b, _) = write(
        Some("https://evil.example"),
        ("Cookie", &session),
        "TG-CSRF-1",
    );
    assert_error(s, &b, 403, "cross_site_request");
    let (s, b, _) = write(Some("null"), ("Cookie", &session), "TG-CSRF-1");
    assert_error(s, &b, 403, "cross_site_request");
    let (s, b, _) = {
        let mut body = case.clone();
        body["reference"] = "TG-CSRF-1".into();
        read(
            app.agent()
                .post(&format!("{}/api/v1/cases", app.base))
                .header("Cookie", &session)
                .header("Sec-Fetch-Site", "cross-site")
                .send_json(body)
                .unwrap(),
        )
    };
    assert_error(s, &b, 403, "cross_site_request");
    assert_eq!(app.log_size(), size, "a cross-site request wrote");
    // The node's own pages, and programs with a bearer token, write.
    let (s, b, _) = write(
        Some(&format!("http://{host}")),
        ("Cookie", &session),
        "TG-CSRF-2",
    );
    assert_eq!(s, 201, "{b}");
    let bearer = format!("Bearer {}", app.investigator);
    let (s, b, _) = write(
        Some("https://evil.example"),
        ("Authorization", &bearer),
        "TG-CSRF-3",
    );
    assert_eq!(s, 201, "{b}");
}

#[test]
fn the_first_administrator_token_expires() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .env("LANG", "en")
        .args(["init", "--origin", "tg.police.dcpj/scelle"])
        .output()
        .unwrap();
    let text = ok(&out);
    assert!(
        text.contains("expires in 7 days") || text.contains("expire dans 7 jours"),
        "{text}"
    );
    let db = scelle::storage::DatabaseUrl::sqlite_in(dir.path());
    let expiry: Option<String> = {
        use diesel::prelude::*;
        use scelle::storage::schema::api_tokens;
        let mut c = db.connect().unwrap();
        let scelle::storage::DbConnection::Sqlite(c) = &mut c else {
            unreachable!()
        };
        api_tokens::table
            .select(api_tokens::expires_at)
            .first(c)
            .unwrap()
    };
    let expiry = time::OffsetDateTime::parse(
        &expiry.unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (expiry - time::OffsetDateTime::now_utc()).whole_hours();
    assert!((7 * 24 - 1..=7 * 24).contains(&days), "{days} hours");
}

/// Issue #29 item 1: a sign-in whose body never finishes is cut at the deadline with the
/// bilingual 408, and meanwhile the node answers its health checks at once.
#[test]
fn a_slow_sign_in_body_is_cut_at_the_deadline() {
    use std::io::{Read as _, Write as _};
    let app = TestApp::spawn(Backend::Sqlite);
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.write_all(
        format!(
            "POST /login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"login\": "
        )
        .as_bytes(),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let health = std::time::Instant::now();
    assert_eq!(app.get_text("none", "/healthz").0, 200);
    assert!(health.elapsed() < std::time::Duration::from_secs(2));
    slow.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = slow.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    let waited = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("request_timeout") && answer.contains("message_fr"),
        "{answer}"
    );
    assert!(
        waited >= scelle::http::limits::OPEN_REQUEST_DEADLINE
            && waited < scelle::http::limits::OPEN_REQUEST_DEADLINE * 2,
        "{waited:?}"
    );
}
