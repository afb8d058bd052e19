//! Dossiers between the Entente's nodes (issue 30 items 7 and 8), on four real node processes
//! witnessing each other: a dossier pushed from Benin to Togo is verified, imported under the
//! sender's conditions (Togo's policies enforce them) and anchored in both logs; one that
//! breaks a condition, or comes from a peer that is not its log, is refused with its reason in
//! both languages and nothing imported; a transfer sent twice is recorded once; a link cut then
//! restored, across a `kill -9` of the sender, delivers everything queued, once, in order.

use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::network::{BIN, NEXT_CASE, StateNode, network, plain, wait_for};

/// `method path` on a node's users' API as `token`, with an optional JSON body.
fn call(
    node: &StateNode,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("http://127.0.0.1:{}{path}", node.port);
    let auth = format!("Bearer {token}");
    let answer = match (method, body) {
        ("POST", Some(body)) => plain()
            .post(&url)
            .header("Authorization", &auth)
            .send_json(body),
        ("POST", None) => plain()
            .post(&url)
            .header("Authorization", &auth)
            .send_empty(),
        _ => plain().get(&url).header("Authorization", &auth).call(),
    };
    let mut answer = answer.unwrap();
    let status = answer.status().as_u16();
    let text = answer.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A new user of the node's own agency, and their token.
fn user(node: &StateNode, role: &str) -> String {
    let (status, body) = call(
        node,
        &node.token,
        "POST",
        "/api/v1/users",
        Some(
            json!({"name": format!("{role} {}", node.agency), "role": role, "agency": node.agency}),
        ),
    );
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// Opens a case with one sealed item and shares it with `share` (a `shares` request body);
/// answers (case id, the share's entry seq).
fn shared_case(node: &StateNode, investigator: &str, share: Value) -> (String, u64) {
    let (case_id, seq, _) = shared_case_and_share(node, investigator, share);
    (case_id, seq)
}

/// [`shared_case`], and the share's id.
fn shared_case_and_share(
    node: &StateNode,
    investigator: &str,
    share: Value,
) -> (String, u64, String) {
    let state = node.agency[..2].to_uppercase();
    let n = NEXT_CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (status, case) = call(
        node,
        investigator,
        "POST",
        "/api/v1/cases",
        Some(
            json!({"reference": format!("{state}-2026-X{n:04}"), "jurisdiction": state,
                    "offence": "Budapest art. 8", "legal_basis": "Réquisition R-7"}),
        ),
    );
    assert_eq!(status, 201, "{case}");
    let case_id = case["case"]["id"].as_str().unwrap().to_owned();
    let (status, item) = call(
        node,
        investigator,
        "POST",
        &format!("/api/v1/cases/{case_id}/evidence"),
        Some(
            json!({"exhibit_number": format!("P-{n}"), "seal_number": format!("S-{n}"),
                    "kind": "device", "sha256": "ab".repeat(32), "size_bytes": 1024,
                    "collected_at": "2026-11-20T10:15:00+00:00"}),
        ),
    );
    assert_eq!(status, 201, "{item}");
    let item_id = item["evidence"]["id"].as_str().unwrap().to_owned();
    let (status, sealed) = call(
        node,
        investigator,
        "POST",
        &format!("/api/v1/evidence/{item_id}/events"),
        Some(json!({"type": "sealed"})),
    );
    assert_eq!(status, 201, "{sealed}");
    let (status, shared) = call(
        node,
        investigator,
        "POST",
        &format!("/api/v1/cases/{case_id}/shares"),
        Some(share),
    );
    assert_eq!(status, 201, "{shared}");
    (
        case_id,
        shared["receipt"]["seq"].as_u64().unwrap(),
        shared["share"]["id"].as_str().unwrap().to_owned(),
    )
}

/// A share to Togo: investigation and prosecution, H1 without consent for court.
fn share_to_togo() -> Value {
    json!({"state": "TG", "handling": ["H1"], "purposes": ["investigation", "prosecution"],
           "expires_at": "2031-01-01T00:00:00Z", "legal_basis": "Budapest art. 26"})
}

/// The entries of a dossier, parsed.
fn entries_of(dossier: &Value) -> Vec<Value> {
    dossier["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::from_slice(&B64.decode(e["entry"].as_str().unwrap()).unwrap()).unwrap()
        })
        .collect()
}

/// Waits until `node`'s publishes a checkpoint its quorum cosigned.
fn cosigned(node: &StateNode) {
    wait_for("a cosigned checkpoint", Duration::from_secs(30), || {
        (node.published().0 == 200).then_some(())
    });
}

/// The dossiers `token` may read on `node`, as listed.
fn received(node: &StateNode, token: &str) -> Vec<Value> {
    let (status, page) = call(node, token, "GET", "/api/v1/received", None);
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

/// `scelle verify --policy` on a dossier: (success, output).
fn verify_with_policy(dossier: &Value, policy: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dossier.json");
    std::fs::write(&path, serde_json::to_vec(dossier).unwrap()).unwrap();
    let policy_path = dir.path().join("peers.policy");
    std::fs::write(&policy_path, policy).unwrap();
    let out = Command::new(BIN)
        .args(["verify", path.to_str().unwrap(), "--policy"])
        .arg(&policy_path)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A transfer put together by hand from the sender's API: the case's cosigned dossier and the
/// share's entry with its inclusion proof to the dossier's checkpoint.
fn transfer_by_hand(
    node: &StateNode,
    investigator: &str,
    case_id: &str,
    share_seq: u64,
    to: &str,
    id: &str,
) -> Value {
    let (status, dossier) = call(
        node,
        investigator,
        "GET",
        &format!("/api/v1/cases/{case_id}/dossier"),
        None,
    );
    assert_eq!(status, 200, "{dossier}");
    let checkpoint = dossier["checkpoint"].as_str().unwrap();
    let size: u64 = checkpoint.lines().nth(1).unwrap().parse().unwrap();
    let mut r = plain()
        .get(&format!(
            "http://127.0.0.1:{}/log/entries/{share_seq}",
            node.port
        ))
        .header(
            "Authorization",
            &format!("Bearer {}", user(node, "auditor")),
        )
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let entry = r.body_mut().read_to_vec().unwrap();
    let (status, proof) = call(
        node,
        &node.token,
        "GET",
        &format!("/log/proof/inclusion?seq={share_seq}&size={size}"),
        None,
    );
    assert_eq!(status, 200, "{proof}");
    json!({
        "format": "scelle-transfer/1", "id": id, "to": to,
        "share": {"seq": share_seq, "entry": B64.encode(&entry), "leaf_hash": proof["leaf_hash"],
                  "inclusion_proof": proof["hashes"]},
        "dossier": dossier,
    })
}

/// POSTs a transfer to `to`'s federation listener with `from`'s certificate.
fn push(from: &StateNode, to: &StateNode, transfer: &Value) -> (u16, Value) {
    let mut r = from
        .peer_agent_to(to)
        .post(&format!(
            "https://127.0.0.1:{}/exchange/transfers",
            to.peer_port
        ))
        .send_json(transfer)
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The entry at `seq` of `node`'s log, parsed (an auditor reads raw entries).
fn entry_at(node: &StateNode, auditor: &str, seq: u64) -> Value {
    let mut r = plain()
        .get(&format!("http://127.0.0.1:{}/log/entries/{seq}", node.port))
        .header("Authorization", &format!("Bearer {auditor}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap()
}

/// The newest entries of `node`'s log (up to `n`), parsed.
fn last_entries(node: &StateNode, auditor: &str, n: u64) -> Vec<Value> {
    let size = crate::network::size_of(&node.published().1);
    (size.saturating_sub(n)..size)
        .map(|seq| entry_at(node, auditor, seq))
        .collect()
}

#[test]
fn a_dossier_pushed_from_benin_to_togo_is_verified_imported_under_its_conditions_and_anchored_in_both_logs()
 {
    let nodes = network();
    let (bj, bf, tg) = (&nodes[0], &nodes[1], &nodes[3]);
    cosigned(bj);
    cosigned(tg);
    let bj_investigator = user(bj, "investigator");
    let tg_prosecutor = user(tg, "prosecutor");
    let tg_investigator = user(tg, "investigator");

    // Benin shares a case with Togo (H1: not for court without consent) and sends its dossier.
    let (case_id, _) = shared_case(bj, &bj_investigator, share_to_togo());
    let (status, queued) = call(
        bj,
        &bj_investigator,
        "POST",
        &format!("/api/v1/cases/{case_id}/transfers"),
        Some(json!({"peer": "tg.police.dcpj"})),
    );
    assert_eq!(status, 202, "{queued}");
    let transfer = queued["transfer"].as_str().unwrap().to_owned();

    // Togo verified and imported it: its prosecutor lists it, with Benin's conditions.
    let listed = wait_for("the dossier in Togo", Duration::from_secs(30), || {
        received(tg, &tg_prosecutor)
            .into_iter()
            .find(|r| r["transfer"] == transfer.as_str())
    });
    assert_eq!(listed["sender"], "bj.police.ocrc/scelle");
    assert_eq!(listed["case"], case_id.as_str());
    assert_eq!(listed["handling"], json!(["H1"]));
    assert_eq!(listed["owner_agency"], "bj.police.ocrc");

    // Read for investigation: the whole dossier, which verifies under Togo's own peer policy.
    let (status, dossier) = call(
        tg,
        &tg_prosecutor,
        "GET",
        &format!("/api/v1/received/{transfer}?purpose=investigation"),
        None,
    );
    assert_eq!(status, 200, "{dossier}");
    let (ok, text) = verify_with_policy(&dossier, &tg.policy_text());
    assert!(ok, "{text}");
    assert!(text.contains("Cosigné par le quorum"), "{text}");
    // Benin's conditions hold in Togo: H1 without consent, so not for prosecution.
    let (status, refused) = call(
        tg,
        &tg_prosecutor,
        "GET",
        &format!("/api/v1/received/{transfer}?purpose=prosecution"),
        None,
    );
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["error"]["message_fr"]
            .as_str()
            .unwrap()
            .contains("H1")
            || refused["error"]["message_en"]
                .as_str()
                .unwrap()
                .contains("H1"),
        "{refused}"
    );
    // ... and a purpose the share does not list is refused too.
    let (status, _) = call(
        tg,
        &tg_investigator,
        "GET",
        &format!("/api/v1/received/{transfer}?purpose=prevention"),
        None,
    );
    assert_eq!(status, 403);
    // A reader must say why.
    let (status, _) = call(
        tg,
        &tg_prosecutor,
        "GET",
        &format!("/api/v1/received/{transfer}"),
        None,
    );
    assert_eq!(status, 400);

    // Anchored in Togo's log: `dossier.received` names Benin's log, case and manifest.
    let seq = listed["seq"].as_u64().unwrap();
    let tg_auditor = user(tg, "auditor");
    let received_entry = entry_at(tg, &tg_auditor, seq);
    assert_eq!(received_entry["kind"], "dossier.received");
    assert_eq!(received_entry["exchange"]["transfer"], transfer.as_str());
    assert_eq!(received_entry["exchange"]["peer"], "bj.police.ocrc/scelle");
    // ... and in Benin's: `dossier.sent`, in the case's own record, names Togo's entry. A new
    // dossier of the case carries it, and both verifiers accept it.
    let sent = wait_for(
        "dossier.sent in Benin's log",
        Duration::from_secs(30),
        || {
            let (_, dossier) = call(
                bj,
                &bj_investigator,
                "GET",
                &format!("/api/v1/cases/{case_id}/dossier"),
                None,
            );
            entries_of(&dossier)
                .into_iter()
                .find(|e| e["kind"] == "dossier.sent")
                .map(|e| (e, dossier))
        },
    );
    let (sent_entry, later_dossier) = sent;
    assert_eq!(sent_entry["exchange"]["transfer"], transfer.as_str());
    assert_eq!(sent_entry["exchange"]["peer"], "tg.police.dcpj/scelle");
    assert_eq!(sent_entry["exchange"]["receipt"]["seq"], seq);
    assert_eq!(
        sent_entry["exchange"]["manifest"],
        received_entry["exchange"]["manifest"]
    );
    // Before it left, Benin's log said where it was going: the dossier's own entry names Togo.
    assert!(
        entries_of(&later_dossier).iter().any(|e| e["kind"] == "dossier.issued"
            && e["dossier"]["to"] == "tg.police.dcpj/scelle"),
        "dossier.issued names the peer"
    );
    let (ok, text) = verify_with_policy(&later_dossier, &bj.policy_text());
    assert!(ok, "{text}");
    // ... and its verdict says where the case went, in both languages.
    assert!(
        text.contains("Envoyé à tg.police.dcpj/scelle")
            && text.contains(&format!("recorded there as entry {seq}")),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.json");
    std::fs::write(&path, serde_json::to_vec(&later_dossier).unwrap()).unwrap();
    let out = Command::new("python3")
        .args([
            "tools/verify_dossier.py",
            path.to_str().unwrap(),
            "--trusted-key",
            &bj.verifier_key,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Later events follow: an examination recorded in Benin goes to Togo as an update, a new
    // transfer of the case's new dossier, which Togo lists beside the first.
    let (status, case) = call(
        bj,
        &bj_investigator,
        "GET",
        &format!("/api/v1/cases/{case_id}"),
        None,
    );
    assert_eq!(status, 200, "{case}");
    let item_id = case["evidence"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{case}"))
        .to_owned();
    let (status, examined) = call(
        bj,
        &bj_investigator,
        "POST",
        &format!("/api/v1/evidence/{item_id}/events"),
        Some(
            json!({"type": "examined", "tool": "X-Ways Forensics 21.0", "reason": "analyse du contenu"}),
        ),
    );
    assert_eq!(status, 201, "{examined}");
    let update = wait_for("the update in Togo", Duration::from_secs(30), || {
        received(tg, &tg_prosecutor)
            .into_iter()
            .find(|r| r["case"] == case_id.as_str() && r["transfer"] != transfer.as_str())
    });
    let (status, updated) = call(
        tg,
        &tg_prosecutor,
        "GET",
        &format!(
            "/api/v1/received/{}?purpose=investigation",
            update["transfer"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!(status, 200, "{updated}");
    assert!(
        entries_of(&updated)
            .iter()
            .any(|e| e["kind"] == "custody.examined"),
        "the update carries the new event"
    );
    let (ok, text) = verify_with_policy(&updated, &tg.policy_text());
    assert!(ok, "{text}");
    // Once delivered, nothing more goes while the case does not change.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        received(tg, &tg_prosecutor)
            .iter()
            .filter(|r| r["case"] == case_id.as_str())
            .count(),
        2
    );

    // A case shared with Burkina Faso only: Benin's API will not send it to Togo ...
    let bf_share = json!({"state": "BF", "handling": ["H2"], "purposes": ["investigation"],
                          "expires_at": "2031-01-01T00:00:00Z", "legal_basis": "Budapest art. 26"});
    let (other_case, bf_share_seq) = shared_case(bj, &bj_investigator, bf_share);
    let (status, body) = call(
        bj,
        &bj_investigator,
        "POST",
        &format!("/api/v1/cases/{other_case}/transfers"),
        Some(json!({"peer": "tg.police.dcpj"})),
    );
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]["message_fr"]
            .as_str()
            .unwrap()
            .contains("partage"),
        "{body}"
    );
    // ... and Togo refuses it when pushed anyway, saying why, importing nothing, and keeping
    // only the refusal in its log.
    let forced = transfer_by_hand(
        bj,
        &bj_investigator,
        &other_case,
        bf_share_seq,
        "tg.police.dcpj/scelle",
        "0194f5c2-0000-7000-8000-00000000f001",
    );
    let (status, body) = push(bj, tg, &forced);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "transfer-not-shared-with-us");
    assert!(
        body["error"]["message_fr"]
            .as_str()
            .unwrap()
            .contains("partagée"),
        "{body}"
    );
    assert!(
        body["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("shared"),
        "{body}"
    );
    let (status, _) = call(
        tg,
        &tg_prosecutor,
        "GET",
        "/api/v1/received/0194f5c2-0000-7000-8000-00000000f001?purpose=investigation",
        None,
    );
    assert_eq!(status, 404);
    assert!(
        received(tg, &tg_prosecutor)
            .iter()
            .all(|r| r["transfer"] != "0194f5c2-0000-7000-8000-00000000f001"),
        "nothing of a refused transfer is listed"
    );
    // (Read once a cosigned checkpoint covers it: the newest entries of the published log.)
    let refusal = wait_for("the refusal in Togo's log", Duration::from_secs(10), || {
        last_entries(tg, &tg_auditor, 20).into_iter().find(|e| {
            e["kind"] == "dossier.refused"
                && e["exchange"]["transfer"] == "0194f5c2-0000-7000-8000-00000000f001"
        })
    });
    assert_eq!(
        refusal["exchange"]["case"], "",
        "no unchecked case id in the log"
    );
    assert_eq!(
        refusal["exchange"]["refused"],
        "transfer-not-shared-with-us"
    );

    // Burkina Faso cannot pass Benin's dossier off as its own.
    let (third_case, third_share) = shared_case(bj, &bj_investigator, share_to_togo());
    let body = transfer_by_hand(
        bj,
        &bj_investigator,
        &third_case,
        third_share,
        "tg.police.dcpj/scelle",
        "0194f5c2-0000-7000-8000-00000000a001",
    );
    let (status, answer) = push(bf, tg, &body);
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "transfer-not-the-senders-log");
    // From Benin, the same transfer is imported; sent again, it is answered with the same
    // receipt and recorded once.
    let (status, first) = push(bj, tg, &body);
    assert_eq!(status, 200, "{first}");
    let (status, again) = push(bj, tg, &body);
    assert_eq!(status, 200, "{again}");
    assert_eq!(first["entry"]["seq"], again["entry"]["seq"]);
    // The same dossier under a new id is not recorded again.
    let mut renamed = body.clone();
    renamed["id"] = json!("0194f5c2-0000-7000-8000-00000000a002");
    let (status, answer) = push(bj, tg, &renamed);
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "transfer-duplicate");
    // What is not a transfer from the sender's log is answered, not written down: a peer cannot
    // fill Togo's log with garbage.
    let mut garbage = body.clone();
    garbage["format"] = json!("x");
    garbage["id"] = json!("0194f5c2-0000-7000-8000-00000000dead");
    for _ in 0..20 {
        let (status, answer) = push(bj, tg, &garbage);
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["error"]["code"], "transfer-unsupported-format");
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        last_entries(tg, &tg_auditor, 30)
            .iter()
            .all(|e| e["kind"] != "dossier.refused"
                || e["exchange"]["transfer"] != "0194f5c2-0000-7000-8000-00000000dead"),
        "no refusal of garbage in the log"
    );
    assert_eq!(
        received(tg, &tg_prosecutor)
            .iter()
            .filter(|r| r["transfer"] == "0194f5c2-0000-7000-8000-00000000a001")
            .count(),
        1
    );
}

#[test]
fn a_link_cut_then_restored_delivers_everything_queued_once_in_order_and_nothing_withdrawn() {
    let mut nodes = network();
    cosigned(&nodes[0]);
    let bj_investigator = user(&nodes[0], "investigator");
    let tg_prosecutor = user(&nodes[3], "prosecutor");

    // Togo is down; Benin's quorum (2 of Burkina Faso, Côte d'Ivoire, Togo) still holds, so
    // Benin keeps working and queues what it owes Togo.
    nodes[3].kill();
    let mut sent = Vec::new();
    for _ in 0..3 {
        let (case_id, _) = shared_case(&nodes[0], &bj_investigator, share_to_togo());
        let (status, queued) = call(
            &nodes[0],
            &bj_investigator,
            "POST",
            &format!("/api/v1/cases/{case_id}/transfers"),
            Some(json!({"peer": "tg.police.dcpj"})),
        );
        assert_eq!(status, 202, "{queued}");
        sent.push((queued["transfer"].as_str().unwrap().to_owned(), case_id));
    }
    // A fourth is queued, then its share revoked while the link is down: it never goes.
    let (withdrawn_case, _, share_id) =
        shared_case_and_share(&nodes[0], &bj_investigator, share_to_togo());
    let (status, queued) = call(
        &nodes[0],
        &bj_investigator,
        "POST",
        &format!("/api/v1/cases/{withdrawn_case}/transfers"),
        Some(json!({"peer": "tg.police.dcpj"})),
    );
    assert_eq!(status, 202, "{queued}");
    let (status, revoked) = call(
        &nodes[0],
        &bj_investigator,
        "POST",
        &format!("/api/v1/cases/{withdrawn_case}/shares/{share_id}/revocation"),
        Some(json!({"reason": "Retrait ordonné par le juge"})),
    );
    assert_eq!(status, 201, "{revoked}");
    // Benin's administrator sees what waits, and why.
    let admin = nodes[0].token.clone();
    let status = wait_for("the failed delivery told", Duration::from_secs(10), || {
        let (code, status) = call(&nodes[0], &admin, "GET", "/api/v1/network", None);
        assert_eq!(code, 200, "{status}");
        status["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| {
                d["peer"] == "tg.police.dcpj"
                    && d["last_error"]["message_fr"].is_string()
                    && d["last_error"]["message_en"].is_string()
            })
            .then_some(status)
    });
    assert!(
        status["transfers_waiting"].as_u64().unwrap() >= 3,
        "{status}"
    );
    let (code, _) = call(&nodes[0], &bj_investigator, "GET", "/api/v1/network", None);
    assert_eq!(code, 403, "an investigator does not follow the network");
    std::thread::sleep(Duration::from_millis(1500));
    // Benin is killed (SIGKILL) with its queue full and starts again: the queue was durable.
    nodes[0].kill();
    nodes[0].start();
    std::thread::sleep(Duration::from_millis(500));
    nodes[3].start();

    // Togo gets the three, in the order Benin queued them, each once.
    let got = wait_for("three dossiers in Togo", Duration::from_secs(60), || {
        let list = received(&nodes[3], &tg_prosecutor);
        (list.len() >= 3).then_some(list)
    });
    let order: Vec<&str> = got
        .iter()
        .map(|r| r["transfer"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = sent.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(order, expected);
    // Benin records each delivery once: one `dossier.sent` in each case's record.
    for (transfer, case_id) in &sent {
        let sent_entries = wait_for("dossier.sent", Duration::from_secs(30), || {
            let (_, dossier) = call(
                &nodes[0],
                &bj_investigator,
                "GET",
                &format!("/api/v1/cases/{case_id}/dossier"),
                None,
            );
            let found: Vec<Value> = entries_of(&dossier)
                .into_iter()
                .filter(|e| e["kind"] == "dossier.sent")
                .collect();
            (!found.is_empty()).then_some(found)
        });
        assert_eq!(sent_entries.len(), 1, "{case_id}");
        assert_eq!(sent_entries[0]["exchange"]["transfer"], transfer.as_str());
    }
    // The one whose share was revoked stayed home, and its sender sees why.
    let (status, transfers) = call(
        &nodes[0],
        &bj_investigator,
        "GET",
        &format!("/api/v1/cases/{withdrawn_case}/transfers"),
        None,
    );
    assert_eq!(status, 200, "{transfers}");
    assert_eq!(transfers["items"][0]["state"], "withdrawn", "{transfers}");
    assert_eq!(received(&nodes[3], &tg_prosecutor).len(), 3);
    // The operator's view agrees, once the node is stopped: three delivered, one withdrawn,
    // none queued.
    nodes[0].kill();
    let out = crate::network::scelle(&nodes[0].dir, &["peer", "outbox"]);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4, "{out}");
    assert_eq!(
        rows.iter().filter(|r| r["state"] == "delivered").count(),
        3,
        "{out}"
    );
    assert_eq!(rows[0]["state"], "withdrawn", "{out}");
    assert!(
        rows.iter().any(|r| r["attempts"].as_i64().unwrap() > 0),
        "Togo was down: at least one delivery failed first: {out}"
    );
}
