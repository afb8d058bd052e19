//! Health that tells the truth (issue 29, item 6): `/healthz` and `/readyz` answer 200 while the
//! node takes entries, and 503 naming the reason once it cannot — here a PostgreSQL server that
//! drops the node's connections and refuses new ones, so its appends fail and nothing answers.

use diesel::prelude::*;
use serde_json::Value;

use crate::helpers::{BACKENDS, Backend, TestApp, assert_error, pg_server_url};

fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let mut resp = app
        .agent()
        .get(&format!("{}{path}", app.base))
        .call()
        .unwrap();
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap(),
    )
}

#[test]
fn a_healthy_node_says_so_with_its_sizes_on_both_backends() {
    for backend in BACKENDS {
        let app = TestApp::spawn(backend);
        app.open_case("TG-HEALTH-1");
        let (s, b) = get(&app, "/healthz");
        assert_eq!(s, 200, "{backend:?}: {b}");
        assert_eq!(b["status"], "ok");
        assert_eq!(b["log_size"], app.log_size());
        assert_eq!(b["durable_size"], app.log_size());
        let (s, b) = get(&app, "/readyz");
        assert_eq!((s, &b["status"]), (200, &Value::from("ready")), "{b}");
    }
}

#[test]
fn a_node_that_lost_its_database_answers_503_with_the_reason() {
    let app = TestApp::spawn(Backend::Postgres);
    app.open_case("TG-HEALTH-2");
    assert_eq!(get(&app, "/healthz").0, 200);
    let name = app.db.url.to_string();
    let name = name.rsplit('/').next().unwrap().to_owned();
    let mut admin = PgConnection::establish(&format!("{}/postgres", pg_server_url())).unwrap();
    let cut = |admin: &mut PgConnection, allow: bool| {
        diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}"))
            .execute(admin)
            .unwrap();
        if !allow {
            diesel::sql_query(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ))
            .execute(admin)
            .unwrap();
        }
    };
    cut(&mut admin, false);

    // A write now fails, and says so in both languages rather than hanging or lying.
    let (s, b) = app.post(
        &app.investigator,
        "/api/v1/cases",
        &serde_json::json!({"reference": "TG-HEALTH-3", "jurisdiction": "TG", "offence": "o", "legal_basis": "l"}),
    );
    assert!(s >= 500, "{s} {b}");
    assert!(b["error"]["message_fr"].is_string(), "{b}");

    let (s, b) = get(&app, "/healthz");
    assert_error(s, &b, 503, b["error"]["code"].as_str().unwrap_or("?"));
    assert_eq!(b["status"], "failing", "{b}");
    let code = b["error"]["code"].as_str().unwrap();
    assert!(
        ["sync_failed", "sequencer_stopped", "database_unreachable"].contains(&code),
        "{b}"
    );
    let (s, b) = get(&app, "/readyz");
    assert_eq!(s, 503, "{b}");
    assert_eq!(b["status"], "not_ready");
    cut(&mut admin, true);
}
