//! Every role × every API action × where the case sits (own agency, another agency of the same
//! state, another state, shared with conditions), over real HTTP against the built-in Cedar
//! policies. The expected decisions are the table below, written to be read by a lawyer: a
//! request is "allowed" when it is not refused by the policies (it may still fail for another
//! reason, e.g. the custody state machine), "refused" when it gets a 403 in French and English,
//! and every refusal leaves exactly one `access.denied` record in the log and nothing else.
//!
//! The principals: each role in the Togolese DCPJ (`tg.police.dcpj`, the node's own agency),
//! except the lab analyst (regional lab `ci.lab.regional`, Côte d'Ivoire); plus a
//! data-protection officer of Benin, to show that a DPO acts only for their own state.
//! The cases, for a principal of agency A in state S:
//!   own      — opened by A
//!   agency   — opened by another agency of S
//!   state    — opened in another state (Benin), not shared
//!   shared   — opened in Benin and shared with A under H2 (no onward sharing), for the
//!              purposes investigation, prosecution and forensic analysis, until 2030

use scelle::node::Node;
use scelle::usecases::admin;
use scelle_verifier::model::Role;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::helpers::{BACKENDS, Backend, TestApp};

/// Y: allowed, N: refused, for the four places of the case (own, agency, state, shared).
const CASE_ACTIONS: &str = "
action              role          own agency state shared
case.read           investigator   Y    N     N     Y
case.read           prosecutor     Y    Y     N     Y
case.read           lab_analyst    N    N     N     Y
case.read           auditor        N    N     N     N
case.read           admin          N    N     N     N
case.read           dpo            N    N     N     N
case.share          investigator   Y    N     N     N
case.share          prosecutor     N    N     N     N
case.share          lab_analyst    N    N     N     N
case.share          auditor        N    N     N     N
case.share          admin          N    N     N     N
case.share          dpo            N    N     N     N
evidence.register   investigator   Y    N     N     Y
evidence.register   prosecutor     N    N     N     N
evidence.register   lab_analyst    N    N     N     N
evidence.register   auditor        N    N     N     N
evidence.register   admin          N    N     N     N
evidence.register   dpo            N    N     N     N
evidence.read       investigator   Y    N     N     Y
evidence.read       prosecutor     Y    Y     N     Y
evidence.read       lab_analyst    N    N     N     Y
evidence.read       auditor        N    N     N     N
evidence.read       admin          N    N     N     N
evidence.read       dpo            N    N     N     N
custody.record      investigator   Y    N     N     Y
custody.record      prosecutor     N    N     N     N
custody.record      lab_analyst    N    N     N     Y
custody.record      auditor        N    N     N     N
custody.record      admin          N    N     N     N
custody.record      dpo            N    N     N     N
dossier.export      investigator   Y    N     N     Y
dossier.export      prosecutor     Y    Y     N     Y
dossier.export      lab_analyst    N    N     N     Y
dossier.export      auditor        N    N     N     N
dossier.export      admin          N    N     N     N
dossier.export      dpo            N    N     N     N
person.add          investigator   Y    N     N     Y
person.add          prosecutor     N    N     N     N
person.add          lab_analyst    N    N     N     N
person.add          auditor        N    N     N     N
person.add          admin          N    N     N     N
person.add          dpo            N    N     N     N
person.read         investigator   Y    N     N     Y
person.read         prosecutor     Y    Y     N     Y
person.read         lab_analyst    N    N     N     N
person.read         auditor        N    N     N     N
person.read         admin          N    N     N     N
person.read         dpo            N    N     N     N
";

/// Actions on the node or the log (no case): Y / N per principal.
const NODE_ACTIONS: &str = "
action              investigator prosecutor lab_analyst auditor admin dpo dpo_bj
case.open           Y            N          N           N       N     N   N
log.read            Y            Y          Y           Y       Y     Y   Y
log.entries.read    N            N          N           Y       N     N   N
user.manage         N            N          N           N       Y     N   N
agency.manage       N            N          N           N       Y     N   N
vault.erase         N            N          N           N       N     Y   N
retention.run       N            N          N           N       N     Y   N
access.read         N            N          N           Y       N     Y   N
dpo.report          N            N          N           N       N     Y   N
dpo.report.BJ       N            N          N           N       N     N   Y
network.read        N            N          N           Y       Y     N   N
";

const ROLES: [(&str, Role, &str); 7] = [
    ("investigator", Role::Investigator, "tg.police.dcpj"),
    ("prosecutor", Role::Prosecutor, "tg.police.dcpj"),
    ("lab_analyst", Role::LabAnalyst, "ci.lab.regional"),
    ("auditor", Role::Auditor, "tg.police.dcpj"),
    ("admin", Role::Admin, "tg.police.dcpj"),
    ("dpo", Role::Dpo, "tg.police.dcpj"),
    ("dpo_bj", Role::Dpo, "bj.police.ocrc"),
];

fn parse_table(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(str::split_whitespace)
        .map(|w| w.map(str::to_owned).collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .skip(1)
        .collect()
}

fn yes(cell: &str) -> bool {
    match cell {
        "Y" => true,
        "N" => false,
        other => panic!("bad cell {other}"),
    }
}

/// Users for every principal, and an investigator in every agency that owns a test case.
fn setup(ledger: &Node) -> HashMap<String, String> {
    admin::add_agency(
        ledger,
        "tg.gendarmerie.sr",
        None,
        "Section de recherches",
        false,
    )
    .unwrap();
    admin::add_agency(ledger, "ci.police.plcc", None, "PLCC Abidjan", false).unwrap();
    let mut tokens = HashMap::new();
    for (name, role, agency) in ROLES {
        let (_, token) = admin::add_user(ledger, name, role, agency, None).unwrap();
        tokens.insert(name.to_owned(), token);
    }
    for agency in [
        "tg.police.dcpj",
        "tg.gendarmerie.sr",
        "bj.police.ocrc",
        "ci.lab.regional",
        "ci.police.plcc",
    ] {
        let (_, token) = admin::add_user(
            ledger,
            &format!("owner {agency}"),
            Role::Investigator,
            agency,
            None,
        )
        .unwrap();
        tokens.insert(format!("owner {agency}"), token);
    }
    tokens
}

/// A case opened by `agency`'s investigator, with one item they hold.
struct TestCase {
    id: String,
    item: String,
}

fn make_case(app: &TestApp, agency: &str, reference: &str, state: &str) -> TestCase {
    let owner = &app.extra[&format!("owner {agency}")];
    let (s, case) = app.post(
        owner,
        "/api/v1/cases",
        &json!({"reference": reference, "title": "Arnaque aux faux transferts", "jurisdiction": state,
                "offence": "Budapest art. 8", "legal_basis": "Réquisition"}),
    );
    assert_eq!(s, 201, "{case}");
    let id = case["case"]["id"].as_str().unwrap().to_owned();
    let (s, item) = app.post(
        owner,
        &format!("/api/v1/cases/{id}/evidence"),
        &json!({"exhibit_number": "P-1", "seal_number": "S-1", "kind": "device", "sha256": "ab".repeat(32),
                "collected_at": "2026-11-20T10:15:00+00:00"}),
    );
    assert_eq!(s, 201, "{item}");
    TestCase {
        id,
        item: item["evidence"]["id"].as_str().unwrap().to_owned(),
    }
}

fn share(app: &TestApp, case: &TestCase, owner_agency: &str, to: &str) {
    let (s, b) = app.post(
        &app.extra[&format!("owner {owner_agency}")],
        &format!("/api/v1/cases/{}/shares", case.id),
        &json!({"agency": to, "handling": ["H2"],
                "purposes": ["investigation", "prosecution", "forensic_analysis"],
                "expires_at": "2030-01-01T00:00:00Z",
                    "legal_basis": "Entraide judiciaire, Budapest art. 27"}),
    );
    assert_eq!(s, 201, "{b}");
}

/// Sends the request for `action` on `case` as `token`; the status.
fn attempt(app: &TestApp, token: &str, action: &str, case: &TestCase, n: usize) -> u16 {
    let (c, i) = (&case.id, &case.item);
    let (s, _) = match action {
        "case.read" => app.get(token, &format!("/api/v1/cases/{c}")),
        "case.share" => app.post(
            token,
            &format!("/api/v1/cases/{c}/shares"),
            &json!({"state": "NE", "handling": ["H1"], "purposes": ["investigation"],
                    "expires_at": "2030-01-01T00:00:00Z",
                    "legal_basis": "Entraide judiciaire, Budapest art. 27"}),
        ),
        "evidence.register" => app.post(
            token,
            &format!("/api/v1/cases/{c}/evidence"),
            &json!({"exhibit_number": format!("M-{n}"), "seal_number": format!("M-{n}"), "kind": "file",
                    "sha256": "cd".repeat(32), "collected_at": "2026-11-21T10:00:00+00:00"}),
        ),
        "evidence.read" => app.get(token, &format!("/api/v1/evidence/{i}")),
        "custody.record" => app.post(
            token,
            &format!("/api/v1/evidence/{i}/events"),
            &json!({"type": "examined", "reason": "analyse"}),
        ),
        "dossier.export" => app.get(token, &format!("/api/v1/cases/{c}/dossier")),
        "person.add" => app.post(
            token,
            &format!("/api/v1/cases/{c}/persons"),
            &json!({"role": "witness", "name": format!("Témoin {n}")}),
        ),
        "person.read" => app.get(
            token,
            &format!("/api/v1/cases/{c}/persons?purpose=investigation"),
        ),
        other => panic!("no request for {other}"),
    };
    s
}

fn attempt_node(app: &TestApp, token: &str, action: &str, n: usize) -> u16 {
    let (s, _) = match action {
        "case.open" => app.post(
            token,
            "/api/v1/cases",
            &json!({"reference": format!("MATRIX-{n}"), "jurisdiction": "TG", "offence": "x", "legal_basis": "y"}),
        ),
        "log.read" => {
            let (s, t) = app.get_text(token, "/log/checkpoint");
            (s, Value::String(t))
        }
        "user.manage" => app.post(
            token,
            "/api/v1/users",
            &json!({"name": format!("Nouvel agent {n}"), "role": "investigator", "agency": "tg.police.dcpj"}),
        ),
        "agency.manage" => app.post(
            token,
            "/api/v1/agencies",
            &json!({"id": format!("ne.police.matrix{n}"), "name": "Service de test"}),
        ),
        // An unknown record: allowed means 404 (nothing to erase), refused means 403.
        "vault.erase" => app.post(
            token,
            "/api/v1/vault/00000000-0000-7000-8000-000000000000/erasure",
            &json!({"legal_reason": "test"}),
        ),
        "retention.run" => app.post(token, "/api/v1/retention/run?dry_run=true", &json!({})),
        "access.read" => app.get(token, "/api/v1/access-records"),
        "dpo.report" => app.get(token, "/api/v1/dpo/report"),
        // A node without peers: allowed means 404 (no network), refused means 403.
        "network.read" => app.get(token, "/api/v1/network"),
        // Another state's records: only that state's DPO (the TG DPO asked for BJ's got them).
        "dpo.report.BJ" => app.get(token, "/api/v1/dpo/report?state=BJ"),
        // The raw bytes of an entry about no case (the node's agency): auditors of its state.
        "log.entries.read" => {
            let (s, t) = app.get_text(token, "/log/entries/0");
            (s, Value::String(t))
        }
        other => panic!("no request for {other}"),
    };
    s
}

/// Checks one decision: the status says allowed or refused as the table does, and a refusal
/// wrote its denial record and nothing else.
fn check(app: &TestApp, what: &str, expected: bool, status: u16, size_before: u64) {
    let kinds = app.kinds_since(size_before);
    if expected {
        assert!(
            matches!(status, 200 | 201 | 404 | 409),
            "{what}: expected allowed, got {status}"
        );
        assert!(
            !kinds.iter().any(|k| k == "access.denied"),
            "{what}: allowed but a denial was recorded"
        );
    } else {
        assert_eq!(status, 403, "{what}: expected refused");
        assert_eq!(
            kinds,
            vec!["access.denied"],
            "{what}: refusal wrote {kinds:?}"
        );
    }
}

#[test]
fn every_role_action_and_scope_decides_as_the_policies_state() {
    for backend in BACKENDS {
        let app = TestApp::spawn_with(backend, setup);
        // For the TG principals: own, agency, state, shared. For the lab (CI): its own case,
        // another CI agency's, Benin's, and Benin's shared with the lab.
        let tg_own = make_case(&app, "tg.police.dcpj", "TG-OWN", "TG");
        let tg_other = make_case(&app, "tg.gendarmerie.sr", "TG-SR", "TG");
        let bj = make_case(&app, "bj.police.ocrc", "BJ-1", "BJ");
        let bj_shared = make_case(&app, "bj.police.ocrc", "BJ-SHARED", "BJ");
        share(&app, &bj_shared, "bj.police.ocrc", "tg.police.dcpj");
        share(&app, &bj_shared, "bj.police.ocrc", "ci.lab.regional");
        let lab_own = make_case(&app, "ci.lab.regional", "CI-LAB", "CI");
        let ci_other = make_case(&app, "ci.police.plcc", "CI-PLCC", "CI");

        let mut n = 0;
        let mut checked = 0;
        for row in parse_table(CASE_ACTIONS) {
            let (action, role) = (&row[0], &row[1]);
            let token = &app.extra[role.as_str()];
            let places: [&TestCase; 4] = if role == "lab_analyst" {
                [&lab_own, &ci_other, &bj, &bj_shared]
            } else {
                [&tg_own, &tg_other, &bj, &bj_shared]
            };
            for (place, (case, cell)) in ["own", "agency", "state", "shared"]
                .iter()
                .zip(places.iter().zip(&row[2..6]))
            {
                n += 1;
                let before = app.log_size();
                let status = attempt(&app, token, action, case, n);
                check(
                    &app,
                    &format!("{backend:?} {role} {action} on {place}"),
                    yes(cell),
                    status,
                    before,
                );
                checked += 1;
            }
        }
        let node = parse_table(NODE_ACTIONS);
        for row in &node {
            for ((principal, _, _), cell) in ROLES.iter().zip(&row[1..]) {
                n += 1;
                let before = app.log_size();
                let status = attempt_node(&app, &app.extra[*principal], &row[0], n);
                check(
                    &app,
                    &format!("{backend:?} {principal} {}", row[0]),
                    yes(cell),
                    status,
                    before,
                );
                checked += 1;
            }
        }
        // 8 case actions × 6 roles × 4 places, 11 node rows × 7 principals: all 18 actions but
        // `received.read` (its own table below), and the DPO report asked for another state.
        assert_eq!(checked, 8 * 6 * 4 + 11 * 7);
    }
}

/// The conditions a sender attaches travel with the case and bind the receiver.
#[test]
fn sharing_conditions_bind_the_receiver() {
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, setup);
    let owner = "bj.police.ocrc";
    let inv = app.extra["investigator"].clone();
    let share_with = |case: &TestCase, extra: Value| {
        let mut body = json!({"agency": "tg.police.dcpj", "purposes": ["investigation", "prevention"],
                              "expires_at": "2030-01-01T00:00:00Z",
                    "legal_basis": "Entraide judiciaire, Budapest art. 27"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, b) = app.post(
            &app.extra[&format!("owner {owner}")],
            &format!("/api/v1/cases/{}/shares", case.id),
            &body,
        );
        (s, b)
    };
    let expect = |what: &str, status: u16, allowed: bool| {
        if allowed {
            assert!(matches!(status, 200 | 201 | 409), "{what}: got {status}");
        } else {
            assert_eq!(status, 403, "{what}");
        }
    };

    // H0: crime prevention only — reads for prevention, nothing else.
    let h0 = make_case(&app, owner, "BJ-H0", "BJ");
    assert_eq!(share_with(&h0, json!({"handling": ["H0"]})).0, 201);
    let (s, _) = app.get(
        &inv,
        &format!("/api/v1/cases/{}/persons?purpose=prevention", h0.id),
    );
    expect("H0 read for prevention", s, true);
    let (s, b) = app.get(
        &inv,
        &format!("/api/v1/cases/{}/persons?purpose=investigation", h0.id),
    );
    expect("H0 read for investigation", s, false);
    assert!(
        b["error"]["message_en"].as_str().unwrap().contains("H0"),
        "{b}"
    );
    assert!(
        b["error"]["message_fr"].as_str().unwrap().contains("H0"),
        "{b}"
    );
    let s = attempt(&app, &inv, "dossier.export", &h0, 1);
    expect("H0 dossier", s, false);
    let s = attempt(&app, &inv, "custody.record", &h0, 2);
    expect("H0 custody write", s, false);

    // H1: not for court without consent; with consent, a dossier may be made.
    let h1 = make_case(&app, owner, "BJ-H1", "BJ");
    assert_eq!(share_with(&h1, json!({"handling": ["H1"]})).0, 201);
    expect(
        "H1 dossier",
        attempt(&app, &inv, "dossier.export", &h1, 3),
        false,
    );
    expect("H1 read", attempt(&app, &inv, "case.read", &h1, 4), true);
    let h1c = make_case(&app, owner, "BJ-H1C", "BJ");
    assert_eq!(
        share_with(&h1c, json!({"handling": ["H1"], "consent_for_court": true})).0,
        201
    );
    expect(
        "H1 with consent, dossier",
        attempt(&app, &inv, "dossier.export", &h1c, 5),
        true,
    );

    // Use limitation (Budapest Art. 28): a purpose the sender did not list is refused.
    let (s, _) = app.get(
        &inv,
        &format!("/api/v1/cases/{}/persons?purpose=prosecution", h1c.id),
    );
    expect("purpose not listed", s, false);

    // Confidentiality: no onward sharing even without H2; H3 needs its conditions in text.
    let conf = make_case(&app, owner, "BJ-CONF", "BJ");
    assert_eq!(
        share_with(
            &conf,
            json!({"handling": ["H3"], "confidential": true,
                                  "conditions": "Ne pas communiquer à la presse"})
        )
        .0,
        201
    );
    expect(
        "confidential onward share",
        attempt(&app, &inv, "case.share", &conf, 6),
        false,
    );
    let (s, b) = share_with(&conf, json!({"handling": ["H3"]}));
    assert_eq!(s, 400, "{b}");

    // A case leaves its state only with a handling code.
    let tg = make_case(&app, "tg.police.dcpj", "TG-X", "TG");
    let (s, b) = app.post(
        &app.extra["owner tg.police.dcpj"],
        &format!("/api/v1/cases/{}/shares", tg.id),
        &json!({"state": "NE", "purposes": ["investigation"], "expires_at": "2030-01-01T00:00:00Z",
                    "legal_basis": "Entraide judiciaire, Budapest art. 27"}),
    );
    assert_eq!(s, 403, "{b}");
    assert!(
        b["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("handling code"),
        "{b}"
    );
    // ... and only on a stated legal basis.
    let (s, b) = app.post(
        &app.extra["owner tg.police.dcpj"],
        &format!("/api/v1/cases/{}/shares", tg.id),
        &json!({"state": "NE", "handling": ["H2"], "purposes": ["investigation"],
                "expires_at": "2030-01-01T00:00:00Z"}),
    );
    assert_eq!(s, 403, "{b}");
    assert!(
        b["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("legal basis"),
        "{b}"
    );
    assert!(
        b["error"]["message_fr"]
            .as_str()
            .unwrap()
            .contains("base légale"),
        "{b}"
    );

    // Revocation: the sender withdraws a share; the receiver is refused from then on, and the
    // withdrawal is in the log.
    let revoked = make_case(&app, owner, "BJ-REV", "BJ");
    let (s, share) = share_with(&revoked, json!({"handling": ["H2"]}));
    assert_eq!(s, 201, "{share}");
    let share_id = share["share"]["id"].as_str().unwrap();
    expect(
        "before revocation",
        attempt(&app, &inv, "case.read", &revoked, 8),
        true,
    );
    let revoke_path = format!("/api/v1/cases/{}/shares/{share_id}/revocation", revoked.id);
    let reason = json!({"reason": "Retrait de l'accord de l'autorité centrale"});
    // The receiver may not withdraw the sender's share (H2: it may not share either).
    let (s, _) = app.post(&inv, &revoke_path, &reason);
    expect("receiver revokes", s, false);
    let (s, b) = app.post(&app.extra[&format!("owner {owner}")], &revoke_path, &reason);
    assert_eq!(s, 201, "{b}");
    let seq = b["receipt"]["seq"].as_u64().unwrap();
    assert_eq!(app.kinds_since(seq)[0], "case.share_revoked");
    expect(
        "after revocation",
        attempt(&app, &inv, "case.read", &revoked, 9),
        false,
    );
    let (s, b) = app.post(&app.extra[&format!("owner {owner}")], &revoke_path, &reason);
    crate::helpers::assert_error(s, &b, 409, "share_revoked");

    // Expiry: a share ends on its date.
    let soon = make_case(&app, owner, "BJ-SOON", "BJ");
    let expires = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let expires = expires
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(
        share_with(&soon, json!({"handling": ["H2"], "expires_at": expires})).0,
        201
    );
    expect(
        "before expiry",
        attempt(&app, &inv, "case.read", &soon, 7),
        true,
    );
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let (s, b) = app.get(&inv, &format!("/api/v1/cases/{}", soon.id));
    expect("after expiry", s, false);
    assert!(
        b["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{b}"
    );
}

/// Who shares, who revokes, and what a recipient can never do, as a lawyer would read it:
///
/// | who                                   | does                                                  | decision |
/// |---------------------------------------|-------------------------------------------------------|----------|
/// | recipient of an H1 share (TG DCPJ)    | re-shares to its own agency: court consent, 2036      | refused  |
/// | recipient                             | shares onward to a third agency                       | refused  |
/// | recipient                             | revokes the owner's share to a third agency           | refused  |
/// | owner (BJ OCRC)                       | revokes that share                                    | allowed  |
/// | recipient, after the owner revokes    | reads the case                                        | refused  |
/// | TG investigator                       | opens a case under Benin's law, no basis stated       | refused  |
/// | TG investigator                       | opens a case under Benin's law, basis stated          | allowed  |
#[test]
fn shares_belong_to_the_owner_and_never_widen_for_the_recipient() {
    for backend in BACKENDS {
        let app = TestApp::spawn_with(backend, setup);
        let owner = "bj.police.ocrc";
        let owner_token = app.extra[&format!("owner {owner}")].clone();
        let recipient = app.extra["investigator"].clone();
        let case = make_case(&app, owner, "BJ-OWNED", "BJ");
        let shares = format!("/api/v1/cases/{}/shares", case.id);
        let (s, b) = app.post(
            &owner_token,
            &shares,
            &json!({"agency": "tg.police.dcpj", "handling": ["H1"], "purposes": ["investigation"],
                    "expires_at": "2030-01-01T00:00:00Z",
                    "legal_basis": "Entraide judiciaire, Budapest art. 27"}),
        );
        assert_eq!(s, 201, "{b}");
        let owner_share = b["share"]["id"].as_str().unwrap().to_owned();
        let expect = |what: &str, status: u16, allowed: bool, before: u64| {
            check(&app, what, allowed, status, before);
        };

        let before = app.log_size();
        let (s, b) = app.post(
            &recipient,
            &shares,
            &json!({"agency": "tg.police.dcpj", "handling": ["H1"], "consent_for_court": true,
                    "purposes": ["investigation", "prosecution", "prevention"],
                    "expires_at": "2036-01-01T00:00:00Z",
                    "legal_basis": "Entraide judiciaire, Budapest art. 27"}),
        );
        expect("recipient widens its own share", s, false, before);
        assert!(
            b["error"]["message_en"]
                .as_str()
                .unwrap()
                .contains("owns the case")
                && b["error"]["message_fr"]
                    .as_str()
                    .unwrap()
                    .contains("propriétaire"),
            "{b}"
        );
        let before = app.log_size();
        let (s, _) = app.post(
            &recipient,
            &shares,
            &json!({"agency": "ci.police.plcc", "handling": ["H1"], "purposes": ["investigation"],
                    "expires_at": "2030-01-01T00:00:00Z",
                    "legal_basis": "Entraide judiciaire, Budapest art. 27"}),
        );
        expect("recipient shares onward", s, false, before);

        let (s, b) = app.post(
            &owner_token,
            &shares,
            &json!({"agency": "ci.police.plcc", "handling": ["H2"], "purposes": ["investigation"],
                    "expires_at": "2030-01-01T00:00:00Z",
                    "legal_basis": "Entraide judiciaire, Budapest art. 27"}),
        );
        assert_eq!(s, 201, "{b}");
        let third = b["share"]["id"].as_str().unwrap().to_owned();
        let reason = json!({"reason": "Fin de l'entraide"});
        let before = app.log_size();
        let (s, _) = app.post(&recipient, &format!("{shares}/{third}/revocation"), &reason);
        expect("recipient revokes the owner's share", s, false, before);
        let before = app.log_size();
        let (s, _) = app.post(
            &owner_token,
            &format!("{shares}/{third}/revocation"),
            &reason,
        );
        expect("owner revokes its share", s, true, before);

        let before = app.log_size();
        let s = attempt(&app, &recipient, "case.read", &case, 40);
        expect("recipient reads while shared", s, true, before);
        let (s, b) = app.post(
            &owner_token,
            &format!("{shares}/{owner_share}/revocation"),
            &reason,
        );
        assert_eq!(s, 201, "{b}");
        let before = app.log_size();
        let s = attempt(&app, &recipient, "case.read", &case, 41);
        expect("recipient reads after the owner revokes", s, false, before);

        // A case is under its agency's state unless a legal basis says otherwise.
        let elsewhere = json!({"reference": "TG-IN-BJ", "jurisdiction": "BJ",
                               "offence": "Budapest art. 8", "legal_basis": "Réquisition"});
        let before = app.log_size();
        let (s, b) = app.post(&recipient, "/api/v1/cases", &elsewhere);
        expect(
            "TG opens a case under Benin's law, no basis",
            s,
            false,
            before,
        );
        assert!(
            b["error"]["message_en"]
                .as_str()
                .unwrap()
                .contains("jurisdiction_basis"),
            "{b}"
        );
        let mut with_basis = elsewhere.clone();
        with_basis["jurisdiction_basis"] =
            json!("Dénonciation officielle aux fins de poursuites, Budapest art. 27");
        let before = app.log_size();
        let (s, b) = app.post(&recipient, "/api/v1/cases", &with_basis);
        expect(
            "TG opens a case under Benin's law, basis stated",
            s,
            true,
            before,
        );
        assert_eq!(s, 201, "{b}");
    }
}

/// Issue #29 item 4, in a lawyer's words: an auditor of Benin, registered on Togo's node, reads
/// none of Togo's access records nor its raw log entries; Togo's auditor reads both; an
/// investigator reads the raw entries of their own case and not those about no case.
#[test]
fn oversight_stays_within_its_own_state() {
    let app = TestApp::spawn_with(Backend::Sqlite, |node| {
        let mut tokens = std::collections::HashMap::new();
        for (name, agency) in [
            ("auditor_tg", "tg.police.dcpj"),
            ("auditor_bj", "bj.police.ocrc"),
        ] {
            let (_, token) = admin::add_user(node, name, Role::Auditor, agency, None).unwrap();
            tokens.insert(name.to_owned(), token);
        }
        tokens
    });
    let case = app.open_case("TG-OVERSIGHT-1");
    let opened = case["receipt"]["seq"].as_u64().unwrap();
    let (tg, bj) = (&app.extra["auditor_tg"], &app.extra["auditor_bj"]);
    assert_eq!(app.get(tg, "/api/v1/access-records").0, 200);
    assert_eq!(app.get_text(tg, "/log/entries/0").0, 200);
    assert_eq!(app.get_text(tg, &format!("/log/entries/{opened}")).0, 200);
    let size = app.log_size();
    assert_eq!(app.get(bj, "/api/v1/access-records").0, 403);
    assert_eq!(app.get_text(bj, "/log/entries/0").0, 403);
    assert_eq!(app.get_text(bj, &format!("/log/entries/{opened}")).0, 403);
    assert_eq!(
        app.kinds_since(size),
        vec!["access.denied"; 3],
        "each refusal is recorded"
    );
    assert_eq!(
        app.get_text(&app.investigator, &format!("/log/entries/{opened}"))
            .0,
        200
    );
    assert_eq!(app.get_text(&app.investigator, "/log/entries/0").0, 403);
    assert_eq!(
        app.get_text(&app.other_agency, &format!("/log/entries/{opened}"))
            .0,
        403
    );
}

/// Issue #29 item 2: someone refused fifty times in a minute does not write fifty entries. The
/// first five refusals of a user and action in a window are appended as they happen; the rest
/// are counted, and one more entry — the last of them, with `repeated: 45` — records them when
/// the window closes. The log still audits clean, on both backends.
#[test]
fn repeated_refusals_are_counted_into_one_entry_not_appended_one_by_one() {
    use crate::helpers::{TestDb, add_investigator, init, togo_case};
    use scelle::usecases::{cases, tokens};
    use scelle_verifier::note::NoteVerifier;
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        let key = init(&db);
        let (node, handle) = Node::open(&db.data_dir(), &db.url, 4).unwrap();
        let investigator = add_investigator(&node, "Kossi A.");
        let (case, _) = cases::open(&node, &investigator, togo_case("TG-REFUS-1")).unwrap();
        admin::add_agency(&node, "bj.police.ocrc", None, "OCRC", false).unwrap();
        let (_, token) = admin::add_user(
            &node,
            "Ibrahim S.",
            Role::Investigator,
            "bj.police.ocrc",
            None,
        )
        .unwrap();
        let outsider = tokens::authenticate(&node, &token).unwrap();
        let size = || scelle::usecases::log::size(&node).unwrap();
        let before = size();
        for _ in 0..50 {
            assert!(cases::read(&node, &outsider, &case.id, None).is_err());
        }
        assert_eq!(
            size(),
            before + 5,
            "{backend:?}: every refusal was appended"
        );
        assert_eq!(
            scelle::authz::close_refusal_windows(&node, true).unwrap(),
            1,
            "{backend:?}"
        );
        assert_eq!(size(), before + 6);
        let last = scelle::storage::log_store::entry_body(&mut db.raw(), before + 5)
            .unwrap()
            .unwrap();
        let last: Value = serde_json::from_slice(&last).unwrap();
        assert_eq!(last["kind"], "access.denied");
        assert_eq!(last["access"]["repeated"], 45, "{last}");
        assert_eq!(last["access"]["action"], "case.read");
        assert_eq!(last["actor"]["user"], outsider.id.as_str());
        // The records of processing add up what the counted entry stands for, in SQL.
        let report = scelle::usecases::dpo::report(&node, None, Some("TG")).unwrap();
        assert_eq!(
            report.access_by_role.get("investigator").map(|c| c.1),
            Some(50),
            "{backend:?}: {:?}",
            report.access_by_role
        );
        node.shutdown(handle);
        let verifier = NoteVerifier::from_verifier_key(&key).unwrap();
        crate::tamper::audit_of(&db, &verifier).unwrap_or_else(|e| panic!("{backend:?}: {e}"));
    }
}

/// A dossier Benin's node sent, as this node's inbox keeps it (the import itself is tested on
/// real node processes in `exchange.rs`; here only the decision on reading it).
fn received_row(
    seq: i64,
    id: &str,
    agency: Option<&str>,
    state: Option<&str>,
    expires: &str,
) -> scelle::storage::exchange::InboxRow {
    use scelle::storage::exchange::{InboxRow, InboxSummary};
    InboxRow {
        summary: InboxSummary {
            transfer_id: id.into(),
            sender: "bj.police.ocrc/scelle".into(),
            case_id: format!("case-{id}"),
            seq,
            received_at: "2026-12-08T00:00:00Z".into(),
            refused: None,
            reference: Some(format!("BJ-{id}")),
            owner_agency: Some("bj.police.ocrc".into()),
            owner_state: Some("BJ".into()),
            share_id: Some(format!("share-{id}")),
            recipient_agency: agency.map(str::to_owned),
            recipient_state: state.map(str::to_owned),
            handling: Some("H1".into()),
            purposes: Some("investigation,prosecution".into()),
            confidential: Some(false),
            consent_for_court: Some(false),
            expires_at: Some(expires.into()),
            manifest: Some("00".repeat(32)),
            tree_size: Some(1),
        },
        dossier: Some("{}".into()),
        receipt: None,
    }
}

/// Who reads a dossier another state's node sent, for what purpose: only those its share
/// reaches (the agency or state named), for a purpose it lists, before it expires, and — H1
/// without consent — never for prosecution. Refusals leave one `access.denied`, reads one
/// `access.allowed`.
const RECEIVED: &str = "
dossier       role          purpose        decision
to-state      investigator  investigation  Y
to-state      investigator  prosecution    N
to-state      investigator  prevention     N
to-state      prosecutor    investigation  Y
to-state      prosecutor    prosecution    N
to-state      lab_analyst   investigation  N
to-state      auditor       investigation  N
to-state      admin         investigation  N
to-state      dpo           investigation  N
to-agency     investigator  investigation  Y
to-other      investigator  investigation  N
to-other      prosecutor    investigation  N
expired       investigator  investigation  N
expired       prosecutor    investigation  N
";

#[test]
fn received_dossiers_are_read_only_under_the_senders_conditions() {
    let app = TestApp::spawn_with(Backend::Sqlite, setup);
    {
        let mut c = app.db.raw();
        for row in [
            received_row(1, "to-state", None, Some("TG"), "2030-01-01T00:00:00Z"),
            received_row(
                2,
                "to-agency",
                Some("tg.police.dcpj"),
                None,
                "2030-01-01T00:00:00Z",
            ),
            received_row(
                3,
                "to-other",
                Some("tg.gendarmerie.sr"),
                None,
                "2030-01-01T00:00:00Z",
            ),
            received_row(4, "expired", None, Some("TG"), "2021-01-01T00:00:00Z"),
        ] {
            scelle::storage::exchange::insert_inbox(&mut c, &row).unwrap();
        }
    }
    for row in parse_table(RECEIVED) {
        let (id, role, purpose, cell) = (&row[0], &row[1], &row[2], &row[3]);
        let token = &app.extra[role.as_str()];
        let before = app.log_size();
        let (status, body) = app.get(token, &format!("/api/v1/received/{id}?purpose={purpose}"));
        let what = format!("received.read {id} {role} {purpose}");
        if yes(cell) {
            assert_eq!(status, 200, "{what}: {body}");
            assert_eq!(app.kinds_since(before), vec!["access.allowed"], "{what}");
        } else {
            assert_eq!(status, 403, "{what}: {body}");
            assert!(body["error"]["message_fr"].is_string(), "{what}: {body}");
            assert_eq!(app.kinds_since(before), vec!["access.denied"], "{what}");
        }
    }
    // The list shows each user only what they may read.
    let (status, page) = app.get(&app.extra["investigator"], "/api/v1/received");
    assert_eq!(status, 200, "{page}");
    let listed: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["transfer"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec!["to-state", "to-agency"]);
    let (_, page) = app.get(&app.extra["auditor"], "/api/v1/received");
    assert_eq!(page["items"], json!([]));
}
