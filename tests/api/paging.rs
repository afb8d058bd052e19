//! Issue #29 item 1: every list is answered a page at a time, with the cursor of the next page,
//! and walking the pages gives every row once, in order: a case's items, an item's derivations
//! and custody timeline, a case's persons, access records and the transfers of the records of
//! processing. Retention goes a bounded batch at a time and reports a record it cannot erase
//! while erasing the others. On both backends.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::{Value, json};

use scelle::usecases::{admin, cases, custody, evidence, persons, sharing, tokens};
use scelle_verifier::model::Role;

use crate::helpers::{BACKENDS, Backend, TestApp, file_evidence, togo_case};

const ITEMS: usize = 105;
const EVENTS: usize = 230;
const DERIVED: usize = 101;
const PERSONS: usize = 101;

/// A case with more of everything than one page holds, made in-process before the server
/// starts (a few seconds, where HTTP would take a minute): its ids and the maker's token.
fn crowded_case(node: &scelle::node::Node) -> HashMap<String, String> {
    let (_, token) =
        admin::add_user(node, "Afi M.", Role::Investigator, "tg.police.dcpj", None).unwrap();
    let me = tokens::authenticate(node, &token).unwrap();
    let (case, _) = cases::open(node, &me, togo_case("TG-PAGES-1")).unwrap();
    let mut items = Vec::new();
    for n in 0..ITEMS {
        let (item, _) =
            evidence::register(node, &me, &case.id, file_evidence(n, &"ab".repeat(32))).unwrap();
        items.push(item.id);
    }
    let phone = items[0].clone();
    for n in 0..DERIVED {
        let mut copy = file_evidence(1000 + n, &"cd".repeat(32));
        copy.parent_id = Some(phone.clone());
        evidence::register(node, &me, &case.id, copy).unwrap();
    }
    for n in 0..EVENTS {
        let event = serde_json::from_value(json!({
            "type": "examined",
            "reason": format!("examen {n}"),
            "place": format!("salle {n}"),
        }))
        .unwrap();
        custody::record(node, &me, &phone, event).unwrap();
    }
    for n in 0..PERSONS {
        let person =
            serde_json::from_value(json!({"role": "witness", "name": format!("Témoin {n}")}))
                .unwrap();
        persons::add(node, &me, &case.id, person).unwrap();
    }
    let (_, dpo) = admin::add_user(node, "Délégué", Role::Dpo, "tg.police.dcpj", None).unwrap();
    HashMap::from([
        ("dpo".into(), dpo),
        ("token".into(), token),
        ("case".into(), case.id),
        ("item".into(), phone),
        ("other".into(), items[1].clone()),
    ])
}

/// Walks a list from `first` (a path without its cursor) page by page: every item, and the
/// number of pages.
fn walk(app: &TestApp, token: &str, first: &str, cursor: &str, key: &str) -> (Vec<Value>, usize) {
    let mut all = Vec::new();
    let mut path = first.to_owned();
    for pages in 1.. {
        let (s, page) = app.get(token, &path);
        assert_eq!(s, 200, "{path}: {page}");
        all.extend(page[key].as_array().unwrap().iter().cloned());
        match page["next"].as_u64() {
            Some(next) => {
                let sep = if first.contains('?') { '&' } else { '?' };
                path = format!("{first}{sep}{cursor}={next}");
            }
            None => return (all, pages),
        }
        assert!(pages < 1000, "{first}: the pages never end");
    }
    unreachable!()
}

fn seqs(items: &[Value], key: &str) -> Vec<u64> {
    items.iter().map(|i| i[key].as_u64().unwrap()).collect()
}

fn strictly_increasing(seqs: &[u64]) -> bool {
    seqs.windows(2).all(|w| w[0] < w[1])
}

#[test]
fn every_list_comes_a_page_at_a_time_and_the_pages_hold_every_row_once() {
    for backend in BACKENDS {
        let app = TestApp::spawn_with(backend, crowded_case);
        let (token, case, item) = (&app.extra["token"], &app.extra["case"], &app.extra["item"]);

        // A case's items: the case shows the first page and the cursor of the next.
        let (s, view) = app.get(token, &format!("/api/v1/cases/{case}"));
        assert_eq!(s, 200, "{view}");
        assert_eq!(view["evidence"].as_array().unwrap().len(), 100);
        let next = view["evidence_next"]
            .as_u64()
            .expect("a next page of items");
        let (s, rest) = app.get(
            token,
            &format!("/api/v1/cases/{case}/evidence?after={next}"),
        );
        assert_eq!(s, 200, "{rest}");
        assert_eq!(rest["items"].as_array().unwrap().len(), 100);
        assert_eq!(rest["items"][0]["seal_number"], "S100", "{rest}");
        assert!(rest["next"].is_u64());
        let (items, pages) = walk(
            &app,
            token,
            &format!("/api/v1/cases/{case}/evidence"),
            "after",
            "items",
        );
        assert_eq!((items.len(), pages), (ITEMS + DERIVED, 3), "{backend:?}");
        let distinct: std::collections::HashSet<&str> =
            items.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(
            distinct.len(),
            ITEMS + DERIVED,
            "{backend:?}: an item twice"
        );

        // An item's derivations and timeline.
        let (s, phone) = app.get(token, &format!("/api/v1/evidence/{item}"));
        assert_eq!(s, 200, "{phone}");
        assert_eq!(phone["derivations"].as_array().unwrap().len(), 100);
        assert!(phone["derivations_next"].is_u64(), "{backend:?}");
        let timeline = phone["timeline"].as_array().unwrap();
        assert_eq!(timeline.len(), 100);
        assert!(strictly_increasing(&seqs(timeline, "seq")));
        // The item's view shows the latest events; the page before ends where they start.
        let earlier = phone["timeline_earlier"].as_u64().expect("earlier events");
        assert_eq!(earlier, timeline[0]["seq"].as_u64().unwrap());
        let (children, pages) = walk(
            &app,
            token,
            &format!("/api/v1/evidence/{item}/derivations"),
            "after",
            "items",
        );
        assert_eq!((children.len(), pages), (DERIVED, 2), "{backend:?}");

        let mut pages_back = Vec::new();
        let mut path = format!("/api/v1/evidence/{item}/events");
        loop {
            let (s, page) = app.get(token, &path);
            assert_eq!(s, 200, "{page}");
            let events = page["items"].as_array().unwrap().clone();
            assert!(events.len() <= 100);
            assert!(strictly_increasing(&seqs(&events, "seq")));
            // Without a purpose, no place in clear.
            assert!(events.iter().all(|e| e["place"].is_null()));
            pages_back.push(events);
            match page["next"].as_u64() {
                Some(before) => path = format!("/api/v1/evidence/{item}/events?before={before}"),
                None => break,
            }
        }
        let all: Vec<Value> = pages_back.into_iter().rev().flatten().collect();
        let all_seqs = seqs(&all, "seq");
        assert_eq!(all.len(), EVENTS, "{backend:?}: every examination, once");
        assert!(
            strictly_increasing(&all_seqs),
            "{backend:?}: pages overlap or leave gaps"
        );
        assert_eq!(all.last().unwrap()["seq"], timeline[99]["seq"]);

        // With a purpose, the places and reasons of a page come in clear (read in one query).
        let (s, page) = app.get(
            token,
            &format!("/api/v1/evidence/{item}/events?purpose=investigation&before={earlier}"),
        );
        assert_eq!(s, 200, "{page}");
        let places: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["place"].as_str())
            .collect();
        assert_eq!(places.len(), 100, "{backend:?}: {page}");
        assert!(places.iter().all(|p| p.starts_with("salle ")));
        // A cursor that is another item's event gives an empty page, not that item's events.
        let other = &app.extra["other"];
        let (s, page) = app.get(
            token,
            &format!("/api/v1/evidence/{other}/events?before={earlier}"),
        );
        assert_eq!(
            (s, page["items"].as_array().unwrap().len()),
            (200, 0),
            "{page}"
        );

        // A case's persons, in clear with a purpose, one access record per page.
        let before = app.log_size();
        let (persons, pages) = walk(
            &app,
            token,
            &format!("/api/v1/cases/{case}/persons?purpose=investigation"),
            "after",
            "persons",
        );
        assert_eq!((persons.len(), pages), (PERSONS, 2), "{backend:?}");
        assert!(strictly_increasing(&seqs(&persons, "seq")));
        assert_eq!(app.kinds_since(before), vec!["access.allowed"; 2]);

        // Access records, newest first, `before` the last one seen.
        let (records, pages) = walk(
            &app,
            &app.extra["dpo"],
            "/api/v1/access-records?limit=1",
            "before",
            "records",
        );
        let denied_or_allowed = seqs(&records, "seq");
        assert!(
            denied_or_allowed.windows(2).all(|w| w[0] > w[1]),
            "newest first"
        );
        assert_eq!(pages, records.len());
        assert!(records.len() >= 2, "{backend:?}");
        // The pages of one hold exactly what one page of all of them holds.
        let (s, whole) = app.get(&app.extra["dpo"], "/api/v1/access-records?limit=1000");
        assert_eq!(s, 200, "{whole}");
        assert!(whole["next"].is_null());
        assert_eq!(
            seqs(whole["records"].as_array().unwrap(), "seq"),
            denied_or_allowed,
            "{backend:?}"
        );

        // Another state's investigator reads none of these lists.
        for path in [
            format!("/api/v1/cases/{case}/evidence"),
            format!("/api/v1/evidence/{item}/derivations"),
            format!("/api/v1/evidence/{item}/events"),
            format!("/api/v1/cases/{case}/persons?purpose=investigation"),
        ] {
            let (s, b) = app.get(&app.other_agency, &path);
            crate::helpers::assert_error(s, &b, 403, "forbidden");
        }

        // Bad cursors are refused, not read as position −1.
        let (s, b) = app.get(
            token,
            &format!("/api/v1/evidence/{item}/events?before=18446744073709551615"),
        );
        crate::helpers::assert_error(s, &b, 400, "invalid_field");
        let (s, b) = app.get(token, &format!("/api/v1/cases/{case}/evidence?after=-1"));
        assert_eq!(s, 400, "{b}");
    }
}

#[test]
fn the_records_of_processing_list_transfers_a_page_at_a_time() {
    let app = TestApp::spawn_with(Backend::Sqlite, |node| {
        let (_, token) =
            admin::add_user(node, "Afi M.", Role::Investigator, "tg.police.dcpj", None).unwrap();
        let me = tokens::authenticate(node, &token).unwrap();
        let (_, dpo) = admin::add_user(node, "Délégué", Role::Dpo, "tg.police.dcpj", None).unwrap();
        for n in 0..(scelle::usecases::paging::PAGE_MAX + 3) {
            let (case, _) = cases::open(node, &me, togo_case(&format!("TG-TR-{n}"))).unwrap();
            let share = serde_json::from_value(json!({
                "agency": "bj.police.ocrc",
                "handling": ["H0"],
                "purposes": ["investigation"],
                "expires_at": "2030-01-01T00:00:00Z",
                "legal_basis": "Accord de coopération de l'Entente, art. 4",
            }))
            .unwrap();
            sharing::share(node, &me, &case.id, share).unwrap();
        }
        HashMap::from([("dpo".into(), dpo)])
    });
    let dpo = &app.extra["dpo"];
    let (s, report) = app.get(dpo, "/api/v1/dpo/report");
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["transfers"].as_array().unwrap().len(), 100);
    let next = report["transfers_next"].as_u64().expect("more transfers");
    let (s, rest) = app.get(dpo, &format!("/api/v1/dpo/transfers?after={next}"));
    assert_eq!(s, 200, "{rest}");
    assert_eq!(rest["items"].as_array().unwrap().len(), 3);
    assert!(
        rest["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["recipient_state"] == "BJ")
    );
    assert!(rest["next"].is_null());
    // Another state's transfers are another state's DPO's.
    let (s, b) = app.get(dpo, "/api/v1/dpo/transfers?state=BJ");
    assert_eq!(s, 403, "{b}");
}

/// Retention walks the vault in bounded runs that go on where the last stopped, and a record
/// it cannot erase (here a creation time someone mangled in the table) is reported with the
/// reason while the others are erased.
#[test]
fn retention_goes_in_bounded_runs_and_one_bad_record_does_not_stop_it() {
    for backend in BACKENDS {
        let app = TestApp::spawn_with(backend, |node| {
            let (_, dpo) =
                admin::add_user(node, "Délégué", Role::Dpo, "tg.police.dcpj", None).unwrap();
            HashMap::from([("dpo".into(), dpo)])
        });
        let case = app.open_case("TG-RET-PAGES");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        let mut records = Vec::new();
        for n in 0..5 {
            let (s, p) = app.post(
                &app.investigator,
                &format!("/api/v1/cases/{case_id}/persons"),
                &json!({"role": "witness", "name": format!("Témoin {n}")}),
            );
            assert_eq!(s, 201, "{p}");
            records.push(
                p["person"]["commitment"]["record"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        records.sort();
        {
            use scelle::storage::schema::vault_sealed;
            let age = |c: &mut scelle::storage::DbConnection, id: &str, at: &str| match c {
                scelle::storage::DbConnection::Sqlite(c) => {
                    diesel::update(vault_sealed::table.filter(vault_sealed::id.eq(id)))
                        .set(vault_sealed::created_at.eq(at))
                        .execute(c)
                        .unwrap()
                }
                scelle::storage::DbConnection::Pg(c) => {
                    diesel::update(vault_sealed::table.filter(vault_sealed::id.eq(id)))
                        .set(vault_sealed::created_at.eq(at))
                        .execute(c)
                        .unwrap()
                }
            };
            let mut c = app.db.raw();
            for id in &records {
                assert_eq!(age(&mut c, id, "2019-01-01T00:00:00Z"), 1);
            }
            // Old enough to be looked at, but not a time: it cannot be judged.
            assert_eq!(age(&mut c, &records[2], "2019-01-01 midi"), 1);
        }
        let dpo = &app.extra["dpo"];
        let (s, dry) = app.post(dpo, "/api/v1/retention/run?dry_run=true&max=2", &json!({}));
        assert_eq!(s, 200, "{dry}");
        assert_eq!(dry["erased"].as_array().unwrap().len(), 2, "{dry}");
        let next = dry["next"]
            .as_str()
            .expect("the run stopped at its maximum")
            .to_owned();
        assert_eq!(next, records[1]);
        let (s, dry2) = app.post(
            dpo,
            &format!("/api/v1/retention/run?dry_run=true&after={next}"),
            &json!({}),
        );
        assert_eq!(s, 200, "{dry2}");
        assert_eq!(dry2["erased"].as_array().unwrap().len(), 2, "{dry2}");
        assert!(dry2["next"].is_null());
        assert_eq!(dry2["failed"][0]["record"], records[2].as_str());

        let before = app.log_size();
        let (s, run) = app.post(dpo, "/api/v1/retention/run", &json!({}));
        assert_eq!(s, 200, "{run}");
        assert_eq!(
            run["erased"].as_array().unwrap().len(),
            4,
            "{backend:?}: {run}"
        );
        let failed = run["failed"].as_array().unwrap();
        assert_eq!(failed.len(), 1, "{run}");
        assert_eq!(failed[0]["record"], records[2].as_str());
        assert!(
            failed[0]["error"]["message_fr"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert!(
            failed[0]["error"]["message_en"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(app.kinds_since(before), vec!["vault.erased"; 4]);
    }
}
