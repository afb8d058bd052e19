//! Every kind of bad input gets a bilingual 4xx and writes nothing to the log.

use crate::helpers::{BACKENDS, TestApp, assert_error};
use serde_json::json;

#[test]
fn bad_input_is_refused_and_writes_nothing() {
    for backend in BACKENDS {
        let app = TestApp::spawn(backend);
        let case = app.open_case("TG-DCPJ-2026-00001");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let h = "ab".repeat(32);
        let item = app.register(&case_id, "S-1", &h);
        let item_id = item["evidence"]["id"].as_str().unwrap().to_owned();
        let before = app.log_size();
        let inv = app.investigator.clone();

        let (s, b) = app.post_raw(&inv, "/api/v1/cases", "application/json", b"{not json");
        assert_error(s, &b, 400, "malformed_request");
        let (s, b) = app.post(
            &inv,
            "/api/v1/cases",
            &json!({"reference": 42, "jurisdiction": "TG", "offence": "x", "legal_basis": "y"}),
        );
        assert_error(s, &b, 400, "malformed_request");
        let (s, b) = app.post(
            &inv,
            "/api/v1/cases",
            &json!({"reference": "R-1", "jurisdiction": "FR", "offence": "x", "legal_basis": "y"}),
        );
        assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.post(&inv, "/api/v1/cases", &json!({"reference": "R-1", "jurisdiction": "TG", "offence": "x", "legal_basis": "y", "extra": 1}));
        assert_error(s, &b, 400, "malformed_request");
        let (s, b) = app.post(&inv, "/api/v1/cases", &json!({"reference": "TG-DCPJ-2026-00001", "jurisdiction": "TG", "offence": "x", "legal_basis": "y"}));
        assert_error(s, &b, 409, "duplicate_reference");
        let (s, b) = app.post_raw(&inv, "/api/v1/cases", "text/plain", b"{}");
        assert_error(s, &b, 415, "unsupported_media_type");

        let evidence = |seal: &str, sha: &str| {
            json!({"exhibit_number": format!("P-{seal}"), "seal_number": seal, "kind": "device", "sha256": sha,
                   "collected_at": "2026-11-20T10:15:00+00:00"})
        };
        let path = format!("/api/v1/cases/{case_id}/evidence");
        let (s, b) = app.post(&inv, &path, &evidence("S-2", "zz"));
        assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.post(&inv, &path, &evidence("S-2", &"g".repeat(64)));
        assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.post(&inv, &path, &evidence("S-2", &"a".repeat(63)));
        assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.post(&inv, &path, &evidence("S-1", &h));
        assert_error(s, &b, 409, "duplicate_seal");
        let mut no_zone = evidence("S-3", &h);
        no_zone["collected_at"] = json!("2026-11-20T10:15:00");
        let (s, b) = app.post(&inv, &path, &no_zone);
        assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.post(
            &inv,
            "/api/v1/cases/00000000-0000-4000-8000-000000000000/evidence",
            &evidence("S-4", &h),
        );
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.post(&app.other_agency, &path, &evidence("S-5", &h));
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post(
            &app.prosecutor,
            "/api/v1/cases",
            &json!({"reference": "R-9", "jurisdiction": "TG", "offence": "x", "legal_basis": "y"}),
        );
        assert_error(s, &b, 403, "forbidden");

        let events = format!("/api/v1/evidence/{item_id}/events");
        let (s, b) = app.post(
            &inv,
            &events,
            &json!({"type": "received", "seal_intact": true}),
        );
        assert_error(s, &b, 409, "no_pending_transfer");
        let (s, b) = app.post(&inv, &events, &json!({"type": "transferred"}));
        assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.post(&inv, &events, &json!({"type": "teleported"}));
        assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.post(
            &inv,
            &events,
            &json!({"type": "transferred", "to_user": "00000000-0000-4000-8000-000000000000"}),
        );
        assert_error(s, &b, 404, "not_found");
        // The lab sees only what is shared with it: refused by the policies (one denial record).
        let (s, b) = app.post(&app.analyst, &events, &json!({"type": "sealed"}));
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post(
            &inv,
            "/api/v1/evidence/nope/events",
            &json!({"type": "sealed"}),
        );
        assert_error(s, &b, 404, "not_found");

        let (s, b) = app.post(
            &inv,
            &events,
            &json!({"type": "examined", "reason": "x".repeat(80 * 1024)}),
        );
        assert_error(s, &b, 413, "body_too_large");
        let (s, b) = app.post("sct_0000000000000000_wrong", "/api/v1/cases", &json!({}));
        assert_error(s, &b, 401, "unauthenticated");
        let resp = app
            .agent()
            .get(&format!("{}/api/v1/cases/{case_id}", app.base))
            .call()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401);
        let (s, b) = app.get(&inv, "/log/proof/inclusion?seq=abc&size=1");
        assert_error(s, &b, 400, "malformed_request");
        let (s, b) = app.get(
            &inv,
            &format!("/log/proof/inclusion?seq=0&size={}", before + 5),
        );
        assert_error(s, &b, 400, "bad_proof_request");
        let (s, b) = app.get(&inv, "/log/proof/consistency?from=0&to=1");
        assert_error(s, &b, 400, "bad_proof_request");
        let (s, b) = app.get(&inv, "/log/entries/999999");
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.get(&inv, "/api/v1/evidence?sha256=xyz");
        assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.get(&inv, "/nowhere");
        assert_error(s, &b, 404, "no_such_route");

        // The three requests the policies refused each left their denial record, and nothing
        // else was written.
        assert_eq!(
            app.kinds_since(before),
            vec!["access.denied"; 3],
            "{backend:?}: a refused request wrote to the log"
        );
    }
}

/// Input that would mislead a reader is refused with a bilingual 4xx and writes nothing: a label
/// in another script that reads as one of the case's, a label mixing scripts or with other
/// digits, a fullwidth copy of a label (it is the same label once normalized), a text with
/// bidirectional controls, an item derived on an event that derives nothing or from another case.
#[test]
fn input_that_misleads_is_refused() {
    for backend in BACKENDS {
        let app = TestApp::spawn(backend);
        let case = app.open_case("TG-DCPJ-2026-00002");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let other = app.open_case("TG-DCPJ-2026-00003");
        let other_id = other["case"]["id"].as_str().unwrap().to_owned();
        let item = app.register(&case_id, "S-1", &"ab".repeat(32));
        let item_id = item["evidence"]["id"].as_str().unwrap().to_owned();
        let foreign = app.register(&other_id, "S-9", &"cd".repeat(32));
        let foreign_id = foreign["evidence"]["id"].as_str().unwrap().to_owned();
        let before = app.log_size();
        let inv = app.investigator.clone();
        let register = |exhibit: &str, seal: &str, extra: serde_json::Value| {
            let mut body = json!({"exhibit_number": exhibit, "seal_number": seal, "kind": "device",
                                  "sha256": "ef".repeat(32), "collected_at": "2026-11-20T10:15:00+00:00"});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            app.post(&inv, &format!("/api/v1/cases/{case_id}/evidence"), &body)
        };

        // "Ѕ-1" with a Cyrillic Ѕ reads as the case's seal "S-1".
        let (s, b) = register("P-11", "\u{0405}-1", json!({}));
        assert_error(s, &b, 400, "invalid_field");
        assert!(
            b["error"]["message_en"]
                .as_str()
                .unwrap()
                .contains("reads as"),
            "{b}"
        );
        // A fullwidth "Ｐ-S-1" is "P-S-1" once normalized: the same label, a conflict.
        let (s, b) = register("\u{ff30}-S-1", "S-3", json!({}));
        assert_error(s, &b, 409, "duplicate_exhibit");
        // Arabic-Indic digits, and a Cyrillic letter among Latin ones.
        let (s, b) = register("P-7", "S-\u{0662}\u{0660}", json!({}));
        assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.post(
            &inv,
            "/api/v1/cases",
            &json!({"reference": "\u{0422}G-DCPJ-2026-00004", "jurisdiction": "TG",
                    "offence": "x", "legal_basis": "y"}),
        );
        assert_error(s, &b, 400, "invalid_field");
        // A right-to-left override in free text.
        let (s, b) = register(
            "P-8",
            "S-8",
            json!({"description": "t\u{e9}l\u{e9}phone \u{202e}1-P"}),
        );
        assert_error(s, &b, 400, "invalid_field");
        // A parent from another case.
        let (s, b) = register("P-10", "S-10", json!({"parent_id": foreign_id}));
        assert_error(s, &b, 404, "not_found");
        // A derived item on an event that derives nothing, or from another case.
        let events = format!("/api/v1/evidence/{item_id}/events");
        let (s, b) = app.post(
            &inv,
            &events,
            &json!({"type": "stored", "derived_item": foreign_id}),
        );
        assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.post(
            &inv,
            &events,
            &json!({"type": "copied", "derived_item": foreign_id}),
        );
        assert_error(s, &b, 404, "not_found");
        assert_eq!(
            app.log_size(),
            before,
            "{backend:?}: a refused request wrote"
        );
    }
}

/// Issue #29 item 5, first part: a NUL byte in an address or a login, a log position beyond
/// what the table can hold, and a token life of millions of days are the caller's errors (4xx,
/// in both languages), never a server error or a panic — on both backends.
#[test]
fn nul_bytes_and_out_of_range_numbers_are_refused_not_server_errors() {
    for backend in crate::helpers::BACKENDS {
        let app = TestApp::spawn(backend);
        let size = app.log_size();
        // Before and after authentication alike.
        for token in [app.investigator.as_str(), "none"] {
            let (s, b) = app.get(token, "/api/v1/cases/a%00b");
            assert_error(s, &b, 400, "malformed_request");
            assert!(
                b["error"]["message_fr"].as_str().unwrap().contains("%00"),
                "{b}"
            );
        }
        let (s, b) = app.get(&app.investigator, "/api/v1/evidence?sha256=%00");
        assert_error(s, &b, 400, "malformed_request");
        let resp = app
            .agent()
            .post(&format!("{}/login", app.base))
            .send_json(serde_json::json!({"login": "kossi\u{0}", "password": "x\u{0}"}))
            .unwrap();
        let status = resp.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "{backend:?}: a NUL in a login answered {status}"
        );
        let (s, b) = app.get(&app.prosecutor, &format!("/log/entries/{}", u64::MAX));
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.get(
            &app.prosecutor,
            &format!("/log/entries/{}", i64::MAX as u64 + 1),
        );
        assert_error(s, &b, 404, "not_found");

        let out = std::process::Command::new(env!("CARGO_BIN_EXE_scelle"))
            .arg("--data-dir")
            .arg(app.db.data_dir())
            .args(app.db.cli_args())
            .args([
                "user",
                "add",
                "--name",
                "Ama",
                "--role",
                "investigator",
                "--agency",
                "tg.police.dcpj",
                "--token-days",
                "2900000",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(
            out.status.code(),
            Some(101),
            "{backend:?}: panicked: {stderr}"
        );
        assert!(!out.status.success(), "{backend:?}: {stderr}");
        assert!(
            stderr.contains("trop") && stderr.contains("too large"),
            "{stderr}"
        );
        assert_eq!(app.log_size(), size, "{backend:?}: nothing was written");
    }
}

/// Issue #29 item 5: `/login` answers every bad body with the bilingual JSON error, a wrong
/// method gets 405 naming the methods the address answers, and two requests racing for one
/// name get one success and conflicts, never a server error — on both backends.
#[test]
fn login_bodies_wrong_methods_and_racing_duplicates_get_honest_answers() {
    for backend in crate::helpers::BACKENDS {
        let app = TestApp::spawn_with(backend, |node| {
            let (_, token) = scelle::usecases::admin::add_user(
                node,
                "Admin",
                scelle_verifier::model::Role::Admin,
                "tg.police.dcpj",
                None,
            )
            .unwrap();
            [("admin".to_owned(), token)].into()
        });
        let read = |mut resp: ureq::http::Response<ureq::Body>| {
            let status = resp.status().as_u16();
            let allow = resp
                .headers()
                .get("allow")
                .map(|v| v.to_str().unwrap().to_owned());
            let text = resp.body_mut().read_to_string().unwrap();
            let body: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{backend:?}: not JSON: {text}"));
            (status, body, allow)
        };
        let login = |content_type: &str, body: &[u8]| {
            read(
                app.agent()
                    .post(&format!("{}/login", app.base))
                    .header("Content-Type", content_type)
                    .send(body)
                    .unwrap(),
            )
        };
        let (s, b, _) = login("text/plain", b"login=kossi&password=x");
        assert_error(s, &b, 415, "unsupported_media_type");
        let (s, b, _) = login("application/json", b"{\"login\": ");
        assert_error(s, &b, 400, "malformed_request");
        let (s, b, _) = login(
            "application/json",
            b"{\"login\": \"k\", \"password\": \"p\", \"extra\": 1}",
        );
        assert_error(s, &b, 400, "malformed_request");
        let (s, b, _) = login("application/x-www-form-urlencoded", b"login=kossi");
        assert_error(s, &b, 400, "malformed_request");
        let (s, b, _) = login(
            "application/json",
            &vec![b' '; scelle::http::BODY_LIMIT + 1],
        );
        assert!(s == 413 || s == 400, "{backend:?}: {s} {b}");
        assert!(b["error"]["message_fr"].is_string(), "{b}");

        for (method, path, allow) in [
            ("DELETE", "/healthz", "GET"),
            ("PUT", "/login", "GET, POST"),
            ("GET", "/logout", "POST"),
            ("DELETE", "/api/v1/cases", "GET, POST"),
            ("PATCH", "/api/v1/evidence/x/events", "GET, POST"),
            ("POST", "/log/checkpoint", "GET"),
        ] {
            let resp = app
                .agent()
                .run(
                    ureq::http::Request::builder()
                        .method(method)
                        .uri(format!("{}{path}", app.base))
                        .header("Authorization", format!("Bearer {}", app.investigator))
                        .body(())
                        .unwrap(),
                )
                .unwrap();
            let (s, b, got) = read(resp);
            assert_error(s, &b, 405, "method_not_allowed");
            assert_eq!(got.as_deref(), Some(allow), "{method} {path}");
        }
        let (s, b) = app.get(&app.investigator, "/api/v1/nowhere");
        assert_error(s, &b, 404, "no_such_route");

        // Sixteen administrators' requests for one new agency at once: one is recorded.
        let admin = app.extra["admin"].clone();
        let size = app.log_size();
        let statuses: Vec<(u16, serde_json::Value)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    let (app, admin) = (&app, &admin);
                    scope.spawn(move || {
                        app.post(
                            admin,
                            "/api/v1/agencies",
                            &json!({"id": "ne.police.dst", "name": "DST Niamey"}),
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            statuses.iter().filter(|(s, _)| *s == 201).count(),
            1,
            "{backend:?}: {statuses:?}"
        );
        for (s, b) in statuses.iter().filter(|(s, _)| *s != 201) {
            assert_error(*s, b, 409, "duplicate_agency");
        }
        assert_eq!(app.log_size(), size + 1, "{backend:?}");

        // Two users racing for one login name: one gets it, the other a conflict.
        let ids = [app.investigator_id.clone(), app.analyst_id.clone()];
        let outs: Vec<std::process::Output> = std::thread::scope(|scope| {
            let handles: Vec<_> = ids
                .iter()
                .map(|id| {
                    let app = &app;
                    scope.spawn(move || {
                        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scelle"))
                            .arg("--data-dir")
                            .arg(app.db.data_dir())
                            .args(app.db.cli_args())
                            .args(["user", "password", "--user", id, "--login", "partage"])
                            .stdin(std::process::Stdio::piped())
                            .stdout(std::process::Stdio::piped())
                            .stderr(std::process::Stdio::piped())
                            .spawn()
                            .unwrap();
                        use std::io::Write as _;
                        child
                            .stdin
                            .take()
                            .unwrap()
                            .write_all(b"une phrase assez longue\n")
                            .unwrap();
                        child.wait_with_output().unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            outs.iter().filter(|o| o.status.success()).count(),
            1,
            "{backend:?}: {outs:?}"
        );
        let loser = outs.iter().find(|o| !o.status.success()).unwrap();
        let err = String::from_utf8_lossy(&loser.stderr);
        assert!(
            err.contains("déjà celui d'un autre utilisateur")
                && err.contains("already another user's"),
            "{backend:?}: {err}"
        );
    }
}
