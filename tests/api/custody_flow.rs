//! The investigator's and prosecutor's path: case, item, copy, transfer, receipt, checks; every
//! receipt verified independently against the node's published key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use scelle_verifier::merkle::{self, Hash};
use scelle_verifier::note::{Checkpoint, NoteVerifier};
use serde_json::{Value, json};

use crate::helpers::{BACKENDS, Backend, TestApp, assert_error};

fn hash(v: &Value) -> Hash {
    B64.decode(v.as_str().unwrap()).unwrap().try_into().unwrap()
}

/// Checks a receipt the way an outside verifier would: signature, inclusion, and entry bytes.
fn verify_receipt(app: &TestApp, body: &Value) {
    let receipt = &body["receipt"];
    let verifier = NoteVerifier::from_verifier_key(&app.verifier_key).unwrap();
    let cp = Checkpoint::open(
        receipt["checkpoint"].as_str().unwrap(),
        &verifier,
        "tg.police.dcpj/scelle",
    )
    .unwrap();
    let seq = receipt["seq"].as_u64().unwrap();
    assert_eq!(
        receipt["inclusion_proof"]["tree_size"].as_u64().unwrap(),
        cp.size
    );
    let proof: Vec<Hash> = receipt["inclusion_proof"]["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(hash)
        .collect();
    let (status, entry) = app.get_text(&app.prosecutor, &format!("/log/entries/{seq}"));
    assert_eq!(status, 200);
    let leaf = merkle::leaf_hash(entry.as_bytes());
    assert_eq!(leaf, hash(&receipt["leaf_hash"]));
    merkle::verify_inclusion(seq, cp.size, &leaf, &proof, &cp.root).unwrap();
    assert!(scelle_verifier::jcs::is_canonical(entry.as_bytes()));
}

#[test]
fn custody_story_with_verified_receipts() {
    for backend in BACKENDS {
        let app = TestApp::spawn(backend);
        let case = app.open_case("TG-DCPJ-2026-00042");
        verify_receipt(&app, &case);
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        assert_eq!(case["case"]["title"], "Escroquerie en ligne");
        app.share_with_lab(&case_id);
        assert_eq!(case["case"]["officer"], app.investigator_id.as_str());
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let phone = app.register(&case_id, "S-001", sha);
        verify_receipt(&app, &phone);
        let phone_id = phone["evidence"]["id"].as_str().unwrap().to_owned();

        // Free text stays out of the log: the entry holds a commitment, not the words.
        let seq = phone["receipt"]["seq"].as_u64().unwrap();
        let (_, entry) = app.get_text(&app.prosecutor, &format!("/log/entries/{seq}"));
        assert!(
            !entry.contains("Tecno") && !entry.contains("Lomé"),
            "{entry}"
        );
        assert!(entry.contains("\"hmac\""));

        // A forensic image derived from the phone.
        let (s, image) = app.post(
            &app.investigator,
            &format!("/api/v1/cases/{case_id}/evidence"),
            &json!({"exhibit_number": "P-001-IMG", "seal_number": "S-001-IMG", "kind": "forensic_image",
                    "sha256": "AB".repeat(32), "md5": "0".repeat(32), "collected_at": "2026-11-21T08:00:00+00:00",
                    "parent_id": phone_id, "acquisition_tool": "FTK Imager", "acquisition_tool_version": "4.7"}),
        );
        assert_eq!(s, 201, "{image}");
        assert_eq!(image["evidence"]["hashes"]["sha256"], "ab".repeat(32));
        let events = format!("/api/v1/evidence/{phone_id}/events");
        let (s, b) = app.post(
            &app.investigator,
            &events,
            &json!({"type": "sealed", "at": "2026-11-20T12:00:00+01:00", "place": "DCPJ Lomé"}),
        );
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["event"]["at"], "2026-11-20T12:00:00+01:00");
        let (s, transfer) = app.post(
            &app.investigator,
            &events,
            &json!({"type": "transferred", "to_user": app.analyst_id, "reason": "expertise"}),
        );
        assert_eq!(s, 201, "{transfer}");
        verify_receipt(&app, &transfer);
        let (s, b) = app.post(
            &app.investigator,
            &events,
            &json!({"type": "examined", "reason": "x"}),
        );
        assert_error(s, &b, 409, "item_in_transit");
        let (s, b) = app.post(
            &app.analyst,
            &events,
            &json!({"type": "received", "seal_intact": true}),
        );
        assert_eq!(s, 201, "{b}");
        let (s, b) = app.post(
            &app.analyst,
            &events,
            &json!({"type": "integrity_checked", "sha256": sha}),
        );
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["event"]["result"], "match");
        let (s, b) = app.post(&app.analyst, &events, &json!({"type": "examined", "reason": "extraction des SMS", "tool": "Cellebrite UFED 7.6", "authorization": "ORD-2026-77"}));
        assert_eq!(s, 201, "{b}");
        let (s, b) = app.post(
            &app.investigator,
            &events,
            &json!({"type": "examined", "reason": "x"}),
        );
        assert_error(s, &b, 409, "not_holder");
        let (s, b) = app.post(
            &app.analyst,
            &events,
            &json!({"type": "integrity_checked", "sha256": "00".repeat(32)}),
        );
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["event"]["result"], "mismatch");
        let (s, b) = app.post(
            &app.analyst,
            &events,
            &json!({"type": "destroyed", "reason": "ordonnance de destruction"}),
        );
        assert_eq!(s, 201, "{b}");
        let destroyed_id = b["event"]["id"].as_str().unwrap().to_owned();
        let (s, b) = app.post(
            &app.analyst,
            &events,
            &json!({"type": "examined", "reason": "x"}),
        );
        assert_error(s, &b, 409, "item_destroyed");
        let (s, b) = app.post(
            &app.analyst,
            &events,
            &json!({"type": "corrected", "amends": destroyed_id, "reason": "heure erronée"}),
        );
        assert_eq!(s, 201, "{b}");
        // A correction names an event of its own item's chain: not another item's, not none.
        let image_id = image["evidence"]["id"].as_str().unwrap();
        let (s, sealed_image) = app.post(
            &app.investigator,
            &format!("/api/v1/evidence/{image_id}/events"),
            &json!({"type": "sealed", "place": "Laboratoire régional"}),
        );
        assert_eq!(s, 201, "{sealed_image}");
        let size = app.log_size();
        for amends in [
            sealed_image["event"]["id"].as_str().unwrap(),
            "01900000-0000-7000-8000-000000000000",
        ] {
            let (s, b) = app.post(
                &app.analyst,
                &events,
                &json!({"type": "corrected", "amends": amends, "reason": "x"}),
            );
            assert_error(s, &b, 403, "forbidden");
            let message = b["error"]["message_en"].as_str().unwrap();
            assert!(message.contains("an event of the same item"), "{message}");
        }
        assert_eq!(app.log_size(), size, "refused corrections write nothing");

        let (s, item) = app.get(
            &app.prosecutor,
            &format!("/api/v1/evidence/{phone_id}?purpose=prosecution"),
        );
        assert_eq!(s, 200);
        assert_eq!(item["custody"]["status"], "destroyed");
        assert_eq!(item["custody"]["holder"], app.analyst_id.as_str());
        assert_eq!(item["integrity"], "mismatch");
        assert_eq!(item["derivations"].as_array().unwrap().len(), 1);
        let types: Vec<&str> = item["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "sealed",
                "transferred",
                "received",
                "integrity_checked",
                "examined",
                "integrity_checked",
                "destroyed",
                "corrected"
            ]
        );
        assert_eq!(item["description"], "Téléphone Tecno Spark, écran fissuré");

        let (s, found) = app.get(
            &app.prosecutor,
            &format!("/api/v1/evidence?sha256={}", sha.to_uppercase()),
        );
        assert_eq!(s, 200);
        assert_eq!(found["items"].as_array().unwrap().len(), 1);
        let (s, by_ref) = app.get(
            &app.prosecutor,
            "/api/v1/cases?reference=TG-DCPJ-2026-00042",
        );
        assert_eq!(s, 200);
        assert_eq!(by_ref["evidence"].as_array().unwrap().len(), 2);

        // Log endpoints: the latest checkpoint, proofs between sizes.
        let verifier = NoteVerifier::from_verifier_key(&app.verifier_key).unwrap();
        let (s, note) = app.get_text(&app.auditor_token(), "/log/checkpoint");
        assert_eq!(s, 200);
        let latest = Checkpoint::open(&note, &verifier, "tg.police.dcpj/scelle").unwrap();
        let early = Checkpoint::open(
            case["receipt"]["checkpoint"].as_str().unwrap(),
            &verifier,
            "tg.police.dcpj/scelle",
        )
        .unwrap();
        let (s, c) = app.get(
            &app.prosecutor,
            &format!(
                "/log/proof/consistency?from={}&to={}",
                early.size, latest.size
            ),
        );
        assert_eq!(s, 200, "{c}");
        let proof: Vec<Hash> = c["hashes"].as_array().unwrap().iter().map(hash).collect();
        merkle::verify_consistency(early.size, latest.size, &early.root, &latest.root, &proof)
            .unwrap();
        let (s, p) = app.get(
            &app.prosecutor,
            &format!("/log/proof/inclusion?seq=1&size={}", latest.size),
        );
        assert_eq!(s, 200);
        let proof: Vec<Hash> = p["hashes"].as_array().unwrap().iter().map(hash).collect();
        merkle::verify_inclusion(1, latest.size, &hash(&p["leaf_hash"]), &proof, &latest.root)
            .unwrap();

        // The projections are exactly what the log rebuilds.
        let before = crate::tamper::projection_snapshot(&app.db);
        let pool = scelle::storage::open_pool(&app.db.url, 2).unwrap();
        scelle::ledger::rebuild::rebuild(&pool).unwrap();
        assert_eq!(
            crate::tamper::projection_snapshot(&app.db),
            before,
            "{backend:?}"
        );
    }
}

impl TestApp {
    fn auditor_token(&self) -> String {
        self.prosecutor.clone()
    }
}

#[test]
fn concurrent_writers_never_fork_the_log() {
    for backend in BACKENDS {
        let app = std::sync::Arc::new(TestApp::spawn(backend));
        let case = app.open_case("TG-DCPJ-2026-00077");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        app.share_with_lab(&case_id);
        let item = app.register(&case_id, "S-77", &"cd".repeat(32));
        let item_id = item["evidence"]["id"].as_str().unwrap().to_owned();
        // 16 writers race to release the same item: exactly one may win.
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (app, item_id) = (app.clone(), item_id.clone());
                std::thread::spawn(move || {
                    app.post(
                        &app.investigator,
                        &format!("/api/v1/evidence/{item_id}/events"),
                        &json!({"type": "transferred", "to_user": app.analyst_id}),
                    )
                    .0
                })
            })
            .collect();
        let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            15,
            "{statuses:?}"
        );
        let verifier = NoteVerifier::from_verifier_key(&app.verifier_key).unwrap();
        let pool = scelle::storage::open_pool(&app.db.url, 2).unwrap();
        scelle::ledger::audit::audit(&pool, &verifier).unwrap();
    }
}

/// A correction may amend an event of its own batch, still in memory and not yet written, as
/// long as the event is of the same item; one naming another item's event is refused whether
/// that event is in the batch or already on the log. Many events are queued first, so the
/// sequencer is busy while the event and its corrections queue behind it and leave together;
/// the receipts' tree sizes tell when they shared a batch, which must happen in some round.
#[test]
fn a_correction_may_amend_an_event_of_its_own_batch_only_on_the_same_item() {
    use crate::helpers::{TestDb, add_investigator, file_evidence, init};
    use scelle::error::ServiceError;
    use scelle::ledger::error::Denied;
    use scelle::node::Node;
    use scelle::usecases::cases::{self, NewCase};
    use scelle::usecases::custody::{self, NewCustodyEvent};
    use scelle::usecases::{evidence, log};

    let stored = || NewCustodyEvent {
        event_type: "stored".into(),
        ..Default::default()
    };
    let correction = |amends: &str| NewCustodyEvent {
        event_type: "corrected".into(),
        amends: Some(amends.into()),
        reason: Some("heure erronée / wrong time".into()),
        ..Default::default()
    };
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        init(&db);
        let (ledger, handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
        let user = add_investigator(&ledger, "Afi");
        let (case, _) = cases::open(
            &ledger,
            &user,
            NewCase {
                reference: "TG-7".into(),
                title: None,
                jurisdiction: "TG".into(),
                offence: "o".into(),
                legal_basis: "l".into(),
                jurisdiction_basis: None,
            },
        )
        .unwrap();
        let (first, _) =
            evidence::register(&ledger, &user, &case.id, file_evidence(1, &"cd".repeat(32)))
                .unwrap();
        let (second, _) =
            evidence::register(&ledger, &user, &case.id, file_evidence(2, &"ef".repeat(32)))
                .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let size_before = log::size(&ledger).unwrap();
        let mut rounds_in_one_batch = 0;
        for _ in 0..20 {
            let fillers: Vec<_> = (0..32)
                .map(|_| custody::submit(&ledger, &user, &second.id, stored()).unwrap())
                .collect();
            let event = custody::submit(&ledger, &user, &first.id, stored()).unwrap();
            let same_item =
                custody::submit(&ledger, &user, &first.id, correction(event.event_id())).unwrap();
            let other_item =
                custody::submit(&ledger, &user, &second.id, correction(event.event_id())).unwrap();
            runtime.block_on(async {
                for filler in fillers {
                    filler.recorded().await.unwrap();
                }
                let (_, event) = event.recorded().await.unwrap();
                let (_, corrected) = same_item
                    .recorded()
                    .await
                    .unwrap_or_else(|e| panic!("{backend:?}: the same item's correction: {e}"));
                assert!(
                    matches!(
                        other_item.recorded().await,
                        Err(ServiceError::Forbidden(Denied::AmendsOtherItem))
                    ),
                    "{backend:?}: a correction naming another item's event"
                );
                if event.inclusion_proof.tree_size == corrected.inclusion_proof.tree_size {
                    rounds_in_one_batch += 1;
                }
            });
        }
        assert!(
            rounds_in_one_batch > 0,
            "{backend:?}: an event and its correction never left in one batch"
        );
        // The refused corrections left nothing: 20 rounds of 32 fillers, an event, a correction.
        assert_eq!(
            log::size(&ledger).unwrap(),
            size_before + 20 * 34,
            "{backend:?}"
        );
        ledger.shutdown(handle);
    }
}

/// Issue #28 item 8: a sender takes back a transfer the recipient has not received — only the
/// sender, only with a reason, only while it is pending — and the item is again in its
/// custody; both verifiers replay it from the dossier.
#[test]
fn a_sender_takes_back_a_transfer_not_yet_received() {
    for backend in BACKENDS {
        let app = TestApp::spawn(backend);
        let case = app.open_case("TG-DCPJ-2026-00610");
        let case_id = case["case"]["id"].as_str().unwrap().to_owned();
        app.share_with_lab(&case_id);
        let item = app.register(&case_id, "S-610", &"ab".repeat(32));
        let item_id = item["evidence"]["id"].as_str().unwrap().to_owned();
        let events = format!("/api/v1/evidence/{item_id}/events");
        let (s, b) = app.post(
            &app.investigator,
            &events,
            &json!({"type": "transferred", "to_user": app.analyst_id}),
        );
        assert_eq!(s, 201, "{b}");

        let cancel = json!({"type": "transfer_cancelled", "reason": "mauvais destinataire"});
        let size = app.log_size();
        let (s, b) = app.post(&app.analyst, &events, &cancel);
        assert_error(s, &b, 409, "not_holder");
        let (s, b) = app.post(
            &app.investigator,
            &events,
            &json!({"type": "transfer_cancelled"}),
        );
        assert_error(s, &b, 400, "invalid_field");
        assert_eq!(app.log_size(), size, "refusals wrote nothing");

        let (s, b) = app.post(&app.investigator, &events, &cancel);
        assert_eq!(s, 201, "{b}");
        let (s, b) = app.post(
            &app.analyst,
            &events,
            &json!({"type": "received", "seal_intact": true}),
        );
        assert_error(s, &b, 409, "no_pending_transfer");
        let (s, b) = app.post(&app.investigator, &events, &cancel);
        assert_error(s, &b, 409, "no_pending_transfer");
        let (s, b) = app.post(
            &app.investigator,
            &events,
            &json!({"type": "examined", "reason": "contrôle après retour"}),
        );
        assert_eq!(s, 201, "the sender holds the item again: {b}");
        let (s, view) = app.get(&app.investigator, &format!("/api/v1/evidence/{item_id}"));
        assert_eq!(s, 200, "{view}");
        assert_eq!(view["custody"]["status"], "in_custody", "{view}");

        let (s, dossier) = app.get(
            &app.prosecutor,
            &format!("/api/v1/cases/{case_id}/dossier?personal_data=false"),
        );
        assert_eq!(s, 200, "{dossier}");
        let dir = tempfile::tempdir().unwrap();
        let (path, key) = (dir.path().join("d.json"), dir.path().join("node.pub"));
        std::fs::write(&path, serde_json::to_vec(&dossier).unwrap()).unwrap();
        std::fs::write(&key, &app.verifier_key).unwrap();
        let ((rc, rust), (pc, py)) = crate::dossier::verify_both(&path, &key, &[]);
        assert_eq!((rc, pc), (0, 0), "{backend:?}: rust {rust:?} python {py:?}");
    }
}

/// Issue #29 item 1, for the evidence search: a page at a time (100 registrations at most, a
/// cursor for the rest), and many searches at once on a small pool all answer — no search holds
/// a connection while the policies take another.
#[test]
fn a_search_answers_a_page_at_a_time_and_many_at_once_do_not_starve_the_pool() {
    let app = TestApp::spawn(Backend::Sqlite);
    let case = app.open_case("TG-SEARCH-1");
    let case_id = case["case"]["id"].as_str().unwrap().to_owned();
    let sha = "5f".repeat(32);
    for n in 0..101 {
        app.register(&case_id, &format!("S-SEARCH-{n}"), &sha);
    }
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|_| {
                let (app, sha) = (&app, &sha);
                scope.spawn(move || {
                    app.get(&app.prosecutor, &format!("/api/v1/evidence?sha256={sha}"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (s, page) in &answers {
        assert_eq!(*s, 200, "{page}");
        assert_eq!(page["items"].as_array().unwrap().len(), 100);
    }
    let next = answers[0].1["next"].as_u64().unwrap();
    let (s, rest) = app.get(
        &app.prosecutor,
        &format!("/api/v1/evidence?sha256={sha}&after={next}"),
    );
    assert_eq!(s, 200, "{rest}");
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next"].is_null(), "{rest}");
    let mut seen: Vec<String> = answers[0].1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|i| i["seal_number"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 101, "a page repeated or skipped an item");
    // Another agency's investigator finds none of them: left out, not refused.
    let (s, none) = app.get(&app.other_agency, &format!("/api/v1/evidence?sha256={sha}"));
    assert_eq!(s, 200);
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
}
