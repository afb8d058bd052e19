//! API tokens end to end: issued with an expiry, refused once expired or revoked with their own
//! bilingual 401, and nothing written by a refused request.

use serde_json::json;
use std::process::Command;

use crate::helpers::{BACKENDS, TestApp, assert_error};

const BIN: &str = env!("CARGO_BIN_EXE_scelle");

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(app.db.data_dir());
    if let scelle::storage::DatabaseUrl::Postgres(url) = &app.db.url {
        cmd.arg("--database-url").arg(url);
    }
    cmd.args(args).output().unwrap()
}

fn last_line(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .to_owned()
}

#[test]
fn expired_and_revoked_tokens_are_refused_and_write_nothing() {
    for backend in BACKENDS {
        let app = TestApp::spawn(backend);
        let new_case = json!({"reference": "TG-TOK-1", "jurisdiction": "TG", "offence": "o", "legal_basis": "l"});

        // A token that expired yesterday, stored as the node stores tokens.
        let (expired, row) = scelle::usecases::tokens::new_token(
            &scelle::clock::Clock::system(),
            &app.investigator_id,
            Some("2026-01-01T00:00:00Z".into()),
        )
        .unwrap();
        scelle::storage::identity::insert_token(&mut app.db.raw(), &row).unwrap();
        let size = app.log_size();
        let (s, b) = app.post(&expired, "/api/v1/cases", &new_case);
        assert_error(s, &b, 401, "token_expired");
        let (s, b) = app.get(&expired, "/log/checkpoint");
        assert_error(s, &b, 401, "token_expired");

        // Issued from the CLI for a number of days; works until revoked.
        let token = last_line(&cli(
            &app,
            &[
                "token",
                "issue",
                "--user",
                &app.investigator_id,
                "--days",
                "7",
            ],
        ));
        let (s, b) = app.post(&token, "/api/v1/cases", &new_case);
        assert_eq!(s, 201, "{b}");
        let id = token
            .strip_prefix("sct_")
            .unwrap()
            .split('_')
            .next()
            .unwrap()
            .to_owned();
        let out = cli(&app, &["token", "revoke", "--id", &id]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let size_after_case = app.log_size();
        assert_eq!(size_after_case, size + 1);
        let new_case_2 = json!({"reference": "TG-TOK-2", "jurisdiction": "TG", "offence": "o", "legal_basis": "l"});
        let (s, b) = app.post(&token, "/api/v1/cases", &new_case_2);
        assert_error(s, &b, 401, "token_revoked");
        assert_eq!(
            app.log_size(),
            size_after_case,
            "a refused request wrote nothing"
        );

        // Bad requests to the CLI are clear errors, in both languages.
        let again = cli(&app, &["token", "revoke", "--id", &id]);
        assert_eq!(again.status.code(), Some(1));
        let text = String::from_utf8_lossy(&again.stderr);
        assert!(text.contains("Jeton") && text.contains("Token"), "{text}");
        let zero = cli(
            &app,
            &[
                "token",
                "issue",
                "--user",
                &app.investigator_id,
                "--days",
                "0",
            ],
        );
        assert_eq!(zero.status.code(), Some(1));
        let nobody = cli(&app, &["token", "issue", "--user", "nobody"]);
        assert_eq!(nobody.status.code(), Some(1));

        // `user add` gives a token with an expiry by default, which works now.
        let fresh = last_line(&cli(
            &app,
            &[
                "user",
                "add",
                "--name",
                "Yao K.",
                "--role",
                "prosecutor",
                "--agency",
                "tg.police.dcpj",
                "--token-days",
                "30",
            ],
        ));
        let (s, _) = app.get(&fresh, "/log/checkpoint");
        assert_eq!(s, 200);
    }
}
