//! The Entente network with real node processes on loopback, each with its own database, keys
//! and certificates: they witness each other (C2SP tlog-witness over mutual TLS) and each
//! publishes only checkpoints a quorum of its peers cosigned; the cosignatures and the quorum
//! are checked with implementations we did not write (Cloudflare's `signed_note` for the
//! notes, ed25519-dalek through Mullvad's `sigsum` for the signatures, `sigsum::Policy` for
//! the quorum); a client without a pinned certificate is refused; a witness never cosigns
//! another tree of a size it already cosigned, nor one that does not extend it; one peer down
//! does not stop the others while the quorum holds.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::free_port;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_scelle");

/// Case references are unique per node: each new case of a test takes the next number.
pub(crate) static NEXT_CASE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

pub(crate) fn scelle(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scelle {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One state's node: its folder, its ports, its first admin token, its process.
pub(crate) struct StateNode {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) dir: PathBuf,
    pub(crate) agency: String,
    pub(crate) port: u16,
    pub(crate) peer_port: u16,
    pub(crate) token: String,
    pub(crate) verifier_key: String,
    pub(crate) child: Option<Child>,
}

impl StateNode {
    pub(crate) fn new(agency: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let out = scelle(
            &dir,
            &[
                "init",
                "--origin",
                &format!("{agency}/scelle"),
                "--agency",
                agency,
                "--agency-name",
                agency,
            ],
        );
        let token = out.lines().last().unwrap().trim().to_owned();
        let verifier_key = out.lines().nth(1).unwrap().trim().to_owned();
        let peer_port = free_port();
        scelle(
            &dir,
            &[
                "peer",
                "init",
                "--url",
                &format!("https://127.0.0.1:{peer_port}"),
            ],
        );
        Self {
            _dir: tmp,
            dir,
            agency: agency.to_owned(),
            port: free_port(),
            peer_port,
            token,
            verifier_key,
            child: None,
        }
    }

    /// The `scelle peer add …` line this node prints for its peers.
    pub(crate) fn card(&self) -> Vec<String> {
        let out = scelle(&self.dir, &["peer", "identity"]);
        let line = out
            .lines()
            .find(|l| l.starts_with("scelle peer add "))
            .unwrap();
        line.split_whitespace().skip(1).map(str::to_owned).collect()
    }

    pub(crate) fn start(&mut self) {
        let child = Command::new(BIN)
            .arg("--data-dir")
            .arg(&self.dir)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--peer-listen",
                &format!("127.0.0.1:{}", self.peer_port),
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join("serve.log")).unwrap())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while plain()
            .get(&format!("http://127.0.0.1:{}/healthz", self.port))
            .call()
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "{} did not start: {}",
                self.agency,
                std::fs::read_to_string(self.dir.join("serve.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `GET /log/checkpoint`: (status, body).
    pub(crate) fn published(&self) -> (u16, String) {
        let mut r = plain()
            .get(&format!("http://127.0.0.1:{}/log/checkpoint", self.port))
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_string().unwrap())
    }

    /// Appends an entry (a new agency) and answers the log size that covers it.
    pub(crate) fn append(&self, id: &str) -> u64 {
        let mut r = plain()
            .post(&format!("http://127.0.0.1:{}/api/v1/agencies", self.port))
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_json(json!({"id": id, "name": id}))
            .unwrap();
        let status = r.status().as_u16();
        let body: serde_json::Value = r.body_mut().read_json().unwrap();
        assert_eq!(status, 201, "{body}");
        body["receipt"]["seq"].as_u64().unwrap() + 1
    }

    /// Opens a case as a new investigator of this node and exports its dossier (JSON text).
    pub(crate) fn dossier_of_a_new_case(&self) -> String {
        let base = format!("http://127.0.0.1:{}", self.port);
        let mut r = plain()
            .post(&format!("{base}/api/v1/users"))
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_json(json!({"name": "Enquêtrice", "role": "investigator", "agency": self.agency}))
            .unwrap();
        let user: serde_json::Value = r.body_mut().read_json().unwrap();
        let token = user["token"].as_str().unwrap().to_owned();
        let state = self.agency[..2].to_uppercase();
        let mut r = plain()
            .post(&format!("{base}/api/v1/cases"))
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(
                json!({"reference": format!("{state}-2026-{:05}", NEXT_CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)), "jurisdiction": state,
                              "offence": "Budapest art. 8", "legal_basis": "Réquisition R-1"}),
            )
            .unwrap();
        let case: serde_json::Value = r.body_mut().read_json().unwrap();
        let id = case["case"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{case}"))
            .to_owned();
        let mut r = plain()
            .get(&format!("{base}/api/v1/cases/{id}/dossier"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.body_mut().read_to_string().unwrap()
    }

    pub(crate) fn policy_text(&self) -> String {
        std::fs::read_to_string(self.dir.join("peers.policy")).unwrap()
    }

    /// A client presenting this node's certificate between nodes and trusting `server`'s.
    pub(crate) fn peer_agent_to(&self, server: &StateNode) -> ureq::Agent {
        use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};
        let own_cert = std::fs::read(self.dir.join("peer-tls.pem")).unwrap();
        let own_key = std::fs::read(self.dir.join("peer-tls.key")).unwrap();
        let theirs = std::fs::read(server.dir.join("peer-tls.pem")).unwrap();
        let tls = TlsConfig::builder()
            .provider(TlsProvider::NativeTls)
            .root_certs(RootCerts::Specific(Arc::new(vec![
                Certificate::from_pem(&theirs).unwrap().to_owned(),
            ])))
            .client_cert(Some(ClientCert::new_with_certs(
                &[Certificate::from_pem(&own_cert).unwrap().to_owned()],
                PrivateKey::from_pem(&own_key).unwrap().to_owned(),
            )))
            .build();
        ureq::Agent::config_builder()
            .tls_config(tls)
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .build()
            .into()
    }

    pub(crate) fn witness_url(&self) -> String {
        format!(
            "https://127.0.0.1:{}/witness/add-checkpoint",
            self.peer_port
        )
    }
}

impl Drop for StateNode {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) fn plain() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

/// Four states' nodes, each the witness of the three others, each requiring 2 of its 3 peers.
pub(crate) fn network() -> Vec<StateNode> {
    network_of(&[
        "bj.police.ocrc",
        "bf.police.dpj",
        "ci.police.plcc",
        "tg.police.dcpj",
    ])
}

/// Nodes of these agencies, each the witness of all the others, each requiring 2 of them.
pub(crate) fn network_of(agencies: &[&str]) -> Vec<StateNode> {
    let mut nodes: Vec<StateNode> = agencies.iter().copied().map(StateNode::new).collect();
    let cards: Vec<Vec<String>> = nodes.iter().map(StateNode::card).collect();
    for (i, node) in nodes.iter().enumerate() {
        for (j, card) in cards.iter().enumerate() {
            if i != j {
                let args: Vec<&str> = card.iter().map(String::as_str).collect();
                scelle(&node.dir, &args);
            }
        }
        scelle(&node.dir, &["peer", "quorum", "2"]);
    }
    for node in &mut nodes {
        node.start();
    }
    nodes
}

pub(crate) fn wait_for<T>(what: &str, within: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The size of a checkpoint note.
pub(crate) fn size_of(note: &str) -> u64 {
    note.lines().nth(1).unwrap().parse().unwrap()
}

/// A cosignature v1 verifier written from the spec on ed25519-dalek (through `sigsum`), for
/// `signed_note`'s note verification.
struct CosignatureV1 {
    name: String,
    id: u32,
    key: sigsum::PublicKey,
}

impl signed_note::Verifier for CosignatureV1 {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = <[u8; 72]>::try_from(sig) else {
            return false;
        };
        let time = u64::from_be_bytes(sig[..8].try_into().unwrap());
        let mut signed = format!("cosignature/v1\ntime {time}\n").into_bytes();
        signed.extend_from_slice(msg);
        let signature = sigsum::Signature::from(<[u8; 64]>::try_from(&sig[8..]).unwrap());
        self.key.verify_signature(&signed, &signature)
    }
}

fn vkey_parts(vkey: &str) -> (String, [u8; 32]) {
    let mut parts = vkey.splitn(3, '+');
    let name = parts.next().unwrap().to_owned();
    let _id = parts.next().unwrap();
    let raw = B64.decode(parts.next().unwrap()).unwrap();
    (name, raw[1..].try_into().unwrap())
}

/// Whether `note` is signed by the policy's log of its origin and cosigned by a quorum of its
/// witnesses — decided by `signed_note` and `sigsum`, not by Scellé's own code.
fn independent_quorum(note: &str, policy: &str) -> bool {
    let mut verifiers: Vec<Box<dyn signed_note::Verifier>> = Vec::new();
    let mut sigsum_policy = String::new();
    let mut witness_keys = Vec::new();
    for line in policy.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["log", vkey, ..] => {
                verifiers.push(Box::new(signed_note::StandardVerifier::new(vkey).unwrap()));
                sigsum_policy.push_str(&format!("log {}\n", hex::encode(vkey_parts(vkey).1)));
            }
            ["witness", name, vkey, ..] => {
                let (key_name, key) = vkey_parts(vkey);
                let mut h = Sha256::new();
                h.update(key_name.as_bytes());
                h.update([b'\n', 0x04]);
                h.update(key);
                let id = u32::from_be_bytes(h.finalize()[..4].try_into().unwrap());
                verifiers.push(Box::new(CosignatureV1 {
                    name: key_name.clone(),
                    id,
                    key: sigsum::PublicKey::from(key),
                }));
                witness_keys.push((key_name, key));
                sigsum_policy.push_str(&format!("witness {name} {}\n", hex::encode(key)));
            }
            ["group", ..] | ["quorum", ..] => {
                sigsum_policy.push_str(line.trim());
                sigsum_policy.push('\n');
            }
            _ => {}
        }
    }
    let list = signed_note::VerifierList::new(verifiers);
    let Ok(parsed) = signed_note::Note::from_bytes(note.as_bytes()) else {
        return false;
    };
    let Ok((verified, _unknown)) = parsed.verify(&list) else {
        return false;
    };
    let origin = note.lines().next().unwrap();
    if !verified.iter().any(|s| s.name() == origin) {
        return false;
    }
    let keyhashes: Vec<sigsum::Hash> = witness_keys
        .iter()
        .filter(|(name, _)| verified.iter().any(|s| s.name() == name))
        .map(|(_, key)| sigsum::Hash::new(key))
        .collect();
    sigsum::Policy::parse(&sigsum_policy)
        .unwrap()
        .check_quorum(&keyhashes)
}

#[test]
fn four_states_witness_each_other_and_publish_only_what_a_quorum_cosigned() {
    let mut nodes = network();

    // Each node publishes a checkpoint cosigned by 2 of its 3 peers, within seconds of start.
    for node in &nodes {
        let note = wait_for("a cosigned checkpoint", Duration::from_secs(20), || {
            let (status, body) = node.published();
            (status == 200).then_some(body)
        });
        assert!(
            independent_quorum(&note, &node.policy_text()),
            "{}: {note}",
            node.agency
        );
        // Our own verifier agrees.
        let policy = scelle_verifier::policy::Policy::parse(&node.policy_text()).unwrap();
        let cosigned = policy.verify(&note).unwrap();
        assert!(cosigned.cosigned_by.len() >= 2, "{note}");
    }

    // A new entry is covered by a published, cosigned checkpoint within a second or two.
    let bj = &nodes[0];
    let needed = bj.append("bj.police.brigade-1");
    let started = Instant::now();
    let note = wait_for("the entry cosigned", Duration::from_secs(10), || {
        let (status, body) = bj.published();
        (status == 200 && size_of(&body) >= needed).then_some(body)
    });
    assert!(independent_quorum(&note, &bj.policy_text()));
    // The append's receipt (signed by bj alone) upgraded: the newest cosigned checkpoint and the
    // entry's inclusion proof to it.
    let mut r = plain()
        .get(&format!(
            "http://127.0.0.1:{}/log/receipt/{}",
            bj.port,
            needed - 1
        ))
        .header("Authorization", &format!("Bearer {}", bj.token))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let receipt: serde_json::Value = r.body_mut().read_json().unwrap();
    let cosigned = receipt["checkpoint"].as_str().unwrap();
    assert!(independent_quorum(cosigned, &bj.policy_text()), "{receipt}");
    let body = scelle_verifier::note::parse_note(cosigned).unwrap().text;
    let checkpoint = scelle_verifier::note::Checkpoint::parse_body(body).unwrap();
    assert_eq!(receipt["inclusion_proof"]["tree_size"], checkpoint.size);
    let hashes: Vec<[u8; 32]> = receipt["inclusion_proof"]["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();
    let leaf: [u8; 32] = B64
        .decode(receipt["leaf_hash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    scelle_verifier::merkle::verify_inclusion(
        needed - 1,
        checkpoint.size,
        &leaf,
        &hashes,
        &checkpoint.root,
    )
    .unwrap();
    eprintln!(
        "append to cosigned checkpoint: {} ms",
        started.elapsed().as_millis()
    );
    // Without a quorum's cosignatures it does not count: the log's signature alone fails.
    let bare: String = note
        .split_inclusive('\n')
        .take_while(|l| !l.contains("/witness "))
        .collect();
    assert!(!independent_quorum(&bare, &bj.policy_text()));

    // The federation listener refuses a client with no certificate, and one with a
    // certificate it does not pin, before any HTTP.
    let tg = &nodes[3];
    let no_cert: ureq::Agent = {
        use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
        let theirs = std::fs::read(tg.dir.join("peer-tls.pem")).unwrap();
        let tls = TlsConfig::builder()
            .provider(TlsProvider::NativeTls)
            .root_certs(RootCerts::Specific(Arc::new(vec![
                Certificate::from_pem(&theirs).unwrap().to_owned(),
            ])))
            .build();
        ureq::Agent::config_builder()
            .tls_config(tls)
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .build()
            .into()
    };
    assert!(no_cert.post(&tg.witness_url()).send("old 0\n\n").is_err());
    let stranger = StateNode::new("ne.police.dpj");
    assert!(
        stranger
            .peer_agent_to(tg)
            .post(&tg.witness_url())
            .send("old 0\n\n")
            .is_err()
    );
    // The user listener has no federation route.
    let (status, _) = {
        let mut r = plain()
            .post(&format!(
                "http://127.0.0.1:{}/witness/add-checkpoint",
                tg.port
            ))
            .send("old 0\n\n")
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    assert_eq!(status, 404);

    // A pinned peer speaks the witness protocol, with the spec's answers.
    let bf_to_tg = nodes[1].peer_agent_to(tg);
    let post = |body: String| {
        let mut r = bf_to_tg.post(&tg.witness_url()).send(body).unwrap();
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, ctype, r.body_mut().read_to_string().unwrap())
    };
    let (status, _, body) = post("not a request".into());
    assert_eq!(status, 400, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        error["error"]["message_fr"]
            .as_str()
            .unwrap()
            .contains("mal formée")
    );
    assert!(
        error["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("Malformed")
    );
    // bj's newest checkpoint as published by bj (log signature only, first lines).
    let bj_signed = bare;
    let witnessed = wait_for("tg to have cosigned bj", Duration::from_secs(5), || {
        let (s, ctype, body) = post(format!("old 0\n\n{bj_signed}"));
        (s == 409).then_some((ctype, body))
    });
    assert_eq!(witnessed.0.as_deref(), Some("text/x.tlog.size"));
    let held: u64 = witnessed.1.trim_end_matches('\n').parse().unwrap();
    assert!(held >= 1);
    // tg holds bj's newest size; the same checkpoint from that size is cosigned again (same
    // size, same root), with tg's witness key.
    assert_eq!(held, size_of(&bj_signed));
    let (s, _, lines) = post(format!("old {held}\n\n{bj_signed}"));
    assert_eq!(s, 200, "{lines}");
    assert!(
        lines.starts_with("\u{2014} tg.police.dcpj/scelle/witness "),
        "{lines}"
    );
    assert!(independent_quorum(
        &format!("{bj_signed}{lines}"),
        &bj.policy_text()
            .replace("quorum entente", "quorum tg.police.dcpj")
    ));
    // A fork of bj's log, signed with bj's own key, of the size tg already cosigned: 409, and
    // a larger fork with a proof that does not hold: 422. tg cosigns neither.
    let bj_key = std::fs::read_to_string(nodes[0].dir.join("node.key")).unwrap();
    let bj_signer = scelle_verifier::note::NoteSigner::from_private_key_string(&bj_key).unwrap();
    let forged = |size: u64| {
        scelle_verifier::note::Checkpoint {
            origin: "bj.police.ocrc/scelle".into(),
            size,
            root: [7; 32],
        }
        .sign(&bj_signer)
        .unwrap()
    };
    let (s, ctype, body) = post(format!("old {held}\n\n{}", forged(held)));
    assert_eq!(
        (s, ctype.as_deref()),
        (409, Some("text/x.tlog.size")),
        "{body}"
    );
    let (s, _, body) = post(format!(
        "old {held}\n{}\n\n{}",
        B64.encode([1u8; 32]),
        forged(held + 5)
    ));
    assert_eq!(s, 422, "{body}");
    // The split view is evidence (two signed checkpoints of one size): tg's log holds it
    // (`peer.misbehaved`, once even when sent again, and with another root of that size);
    // the failed proof alone is not (anyone can send one), `scelle peer status` says so, and
    // tg's log still audits clean.
    post(format!("old {held}\n\n{}", forged(held)));
    let other_root = scelle_verifier::note::Checkpoint {
        origin: "bj.police.ocrc/scelle".into(),
        size: held,
        root: [8; 32],
    }
    .sign(&bj_signer)
    .unwrap();
    assert_eq!(post(format!("old 0\n\n{other_root}")).0, 409);
    let listed = scelle(&tg.dir, &["peer", "status"]);
    let alerts: Vec<&str> = listed.lines().filter(|l| l.contains('\u{26a0}')).collect();
    assert_eq!(alerts.len(), 1, "{listed}");
    assert!(
        alerts[0].contains("bj.police.ocrc/scelle") && alerts[0].contains("split_view"),
        "{listed}"
    );
    scelle(&tg.dir, &["audit"]);
    // A log tg does not know: 404; bj's origin signed by another key: 403; old above new: 400.
    let other = scelle_verifier::note::NoteSigner::generate("ml.police/scelle").unwrap();
    let unknown = scelle_verifier::note::Checkpoint {
        origin: "ml.police/scelle".into(),
        size: 3,
        root: [1; 32],
    }
    .sign(&other)
    .unwrap();
    assert_eq!(post(format!("old 0\n\n{unknown}")).0, 404);
    let impostor = scelle_verifier::note::NoteSigner::generate("bj.police.ocrc/scelle").unwrap();
    let untrusted = scelle_verifier::note::Checkpoint {
        origin: "bj.police.ocrc/scelle".into(),
        size: 3,
        root: [1; 32],
    }
    .sign(&impostor)
    .unwrap();
    assert_eq!(post(format!("old 0\n\n{untrusted}")).0, 403);
    assert_eq!(post(format!("old 99\n\n{}", forged(3))).0, 400);
    // A GET is not the protocol: 405.
    let mut r = bf_to_tg.get(&tg.witness_url()).call().unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let _ = r.body_mut().read_to_string();

    // One peer down: bj still reaches its quorum (bf and tg) for a new entry.
    nodes[2].kill();
    let bj = &nodes[0];
    let needed = bj.append("bj.police.brigade-2");
    let note = wait_for("cosigned without ci", Duration::from_secs(15), || {
        let (status, body) = bj.published();
        (status == 200 && size_of(&body) >= needed).then_some(body)
    });
    assert!(independent_quorum(&note, &bj.policy_text()));
    assert!(
        !note.contains("\u{2014} ci.police.plcc/scelle/witness "),
        "{note}"
    );

    // A dossier of bj is proved to a checkpoint its quorum cosigned: `scelle verify --policy`
    // with bj's policy passes and says who cosigned; with a policy asking all three witnesses
    // (ci is down) it fails, naming the quorum.
    let dossier = bj.dossier_of_a_new_case();
    let dir = tempfile::tempdir().unwrap();
    let dossier_path = dir.path().join("dossier.json");
    std::fs::write(&dossier_path, &dossier).unwrap();
    let policy_path = dir.path().join("bj.policy");
    std::fs::write(&policy_path, bj.policy_text()).unwrap();
    let verify = |policy: &Path| {
        Command::new(BIN)
            .args(["verify", dossier_path.to_str().unwrap(), "--policy"])
            .arg(policy)
            .output()
            .unwrap()
    };
    let out = verify(&policy_path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Cosigné par le quorum de la politique"),
        "{text}"
    );
    assert!(text.contains("tg.police.dcpj ("), "{text}");
    let strict_path = dir.path().join("all.policy");
    std::fs::write(
        &strict_path,
        bj.policy_text()
            .replace("group entente 2 ", "group entente all "),
    )
    .unwrap();
    let out = verify(&strict_path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("quorum not met: cosigned only by [bf.police.dpj, tg.police.dcpj]"),
        "{text}"
    );
    // The Python verifier agrees, on both policies.
    let python = |policy: &Path| {
        Command::new("python3")
            .args([
                "tools/verify_dossier.py",
                dossier_path.to_str().unwrap(),
                "--json",
                "--policy",
            ])
            .arg(policy)
            .output()
            .unwrap()
    };
    let out = python(&policy_path);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = python(&strict_path);
    assert_eq!(out.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["findings"][0]["code"], "checkpoint_not_cosigned",
        "{report}"
    );
    assert_eq!(
        report["findings"][0]["reason"],
        "quorum not met: cosigned only by [bf.police.dpj, tg.police.dcpj]"
    );
    // Without a policy, the log's key alone still verifies it (cosignature lines are ignored),
    // and so does the Python verifier.
    let out = Command::new(BIN)
        .args(["verify", dossier_path.to_str().unwrap(), "--trusted-key"])
        .arg(&bj.verifier_key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = Command::new("python3")
        .args([
            "tools/verify_dossier.py",
            dossier_path.to_str().unwrap(),
            "--trusted-key",
        ])
        .arg(&bj.verifier_key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every line of `scelle peer status` that reports a contradiction.
fn alerts_of(node: &StateNode) -> Vec<String> {
    scelle(&node.dir, &["peer", "status"])
        .lines()
        .filter(|l| l.contains('\u{26a0}'))
        .map(str::to_owned)
        .collect()
}

/// Copies a stopped node's folder (database, WAL and keys) as an operator's backup would.
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_node_that_rewrites_its_history_is_caught_by_its_witnesses_and_its_dossiers_fail() {
    let mut nodes = network_of(&["bj.police.ocrc", "bf.police.dpj", "tg.police.dcpj"]);
    let first = nodes[0].append("bj.police.avant");
    wait_for(
        "the first history cosigned",
        Duration::from_secs(15),
        || {
            let (status, body) = nodes[0].published();
            (status == 200 && size_of(&body) >= first).then_some(())
        },
    );
    // The operator keeps a copy of the folder, lets the log grow and be cosigned...
    nodes[0].kill();
    let copy = tempfile::tempdir().unwrap();
    copy_folder(&nodes[0].dir, copy.path());
    nodes[0].start();
    let mut grown = 0;
    for i in 0..3 {
        grown = nodes[0].append(&format!("bj.police.vraie-{i}"));
    }
    wait_for("the true history cosigned", Duration::from_secs(15), || {
        let (status, body) = nodes[0].published();
        (status == 200 && size_of(&body) >= grown).then_some(())
    });
    // ...then puts the old copy back (its own record of what it published goes back with it)
    // and writes another history over the same positions, and beyond.
    nodes[0].kill();
    std::fs::remove_dir_all(&nodes[0].dir).unwrap();
    copy_folder(copy.path(), &nodes[0].dir);
    nodes[0].start();
    // The same number of entries as the true history had: another tree of a size its
    // witnesses cosigned.
    let mut forked = 0;
    for i in 0..3 {
        forked = nodes[0].append(&format!("bj.police.fausse-{i}"));
    }
    assert_eq!(forked, grown);
    // Within a round, each witness refuses it and keeps the evidence: both signed checkpoints.
    for witness in &nodes[1..] {
        let alerts = wait_for("the fork caught", Duration::from_secs(10), || {
            let alerts = alerts_of(witness);
            (!alerts.is_empty()).then_some(alerts)
        });
        assert!(alerts[0].contains("bj.police.ocrc/scelle"), "{alerts:?}");
        assert!(alerts[0].contains("split_view"), "{alerts:?}");
    }
    // And beyond it, no witness cosigns either.
    for i in 3..6 {
        nodes[0].append(&format!("bj.police.fausse-{i}"));
    }
    // The forked node publishes nothing of its new history as cosigned: its checkpoint stays
    // the old one, and a dossier it would prove to a cosigned checkpoint is refused.
    let (_, published) = nodes[0].published();
    assert!(size_of(&published) < grown, "{published}");
    // A dossier of the forked history, signed by its key alone (the operator dropped its peers
    // to export it), fails `scelle verify --policy` with the peers' policy.
    nodes[0].kill();
    std::fs::remove_file(nodes[0].dir.join("peers.policy")).unwrap();
    let child = Command::new(BIN)
        .arg("--data-dir")
        .arg(&nodes[0].dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{}", nodes[0].port)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    nodes[0].child = Some(child);
    wait_for("bj alone", Duration::from_secs(30), || {
        plain()
            .get(&format!("http://127.0.0.1:{}/healthz", nodes[0].port))
            .call()
            .ok()
    });
    let dossier = nodes[0].dossier_of_a_new_case();
    let dir = tempfile::tempdir().unwrap();
    let dossier_path = dir.path().join("forked.json");
    std::fs::write(&dossier_path, dossier).unwrap();
    let policy_path = dir.path().join("tg.policy");
    std::fs::write(&policy_path, nodes[2].policy_text()).unwrap();
    let out = Command::new(BIN)
        .args(["verify", dossier_path.to_str().unwrap(), "--policy"])
        .arg(&policy_path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("quorum not met"), "{text}");
}

#[test]
fn a_witness_killed_mid_request_never_cosigns_less_than_it_had() {
    let mut nodes = network_of(&["bj.police.ocrc", "bf.police.dpj", "tg.police.dcpj"]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (port, token, stop) = (nodes[0].port, nodes[0].token.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = plain()
                    .post(&format!("http://127.0.0.1:{port}/api/v1/agencies"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .send_json(json!({"id": format!("bj.police.w{i}"), "name": "w"}));
                i += 1;
            }
        })
    };
    let tg_key = "tg.police.dcpj/scelle/witness";
    let mut highest = 0u64;
    for round in 0..3 {
        std::thread::sleep(Duration::from_millis(700 + 200 * round));
        // The largest size of bj that tg is seen to have cosigned, from bj's published notes.
        let (_, note) = nodes[0].published();
        if note.contains(&format!("\u{2014} {tg_key} ")) {
            highest = highest.max(size_of(&note));
        }
        // kill -9 in the middle of bj's stream of add-checkpoint requests.
        if let Some(child) = nodes[2].child.as_mut() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        nodes[2].child = None;
        let listed = scelle(&nodes[2].dir, &["peer", "list"]);
        let stored: u64 = listed
            .lines()
            .find(|l| l.starts_with("bj.police.ocrc "))
            .and_then(|l| l.split(" jusqu'à ").nth(1))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            stored >= highest,
            "round {round}: tg restarts at {stored} after cosigning {highest}\n{listed}"
        );
        highest = highest.max(stored);
        nodes[2].start();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    // After the last restart, a smaller tree of bj from the start is refused with the size
    // tg holds, never cosigned.
    let bf_to_tg = nodes[1].peer_agent_to(&nodes[2]);
    let bj_key = std::fs::read_to_string(nodes[0].dir.join("node.key")).unwrap();
    let signer = scelle_verifier::note::NoteSigner::from_private_key_string(&bj_key).unwrap();
    let small = scelle_verifier::note::Checkpoint {
        origin: "bj.police.ocrc/scelle".into(),
        size: 1,
        root: [0; 32],
    }
    .sign(&signer)
    .unwrap();
    let mut r = bf_to_tg
        .post(&nodes[2].witness_url())
        .send(format!("old 0\n\n{small}"))
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let held: u64 = r
        .body_mut()
        .read_to_string()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(held >= highest && highest > 0, "{held} < {highest}");
}

#[test]
fn a_node_rotates_its_key_without_breaking_what_it_signed_before() {
    let mut nodes = network_of(&["bj.police.ocrc", "bf.police.dpj", "tg.police.dcpj"]);
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.json");
    std::fs::write(&before, nodes[0].dossier_of_a_new_case()).unwrap();
    // The policy bj publishes for its checkpoints (a recipient's copy), before the rotation.
    let old_policy = dir.path().join("old.policy");
    std::fs::write(&old_policy, nodes[0].policy_text()).unwrap();

    // bj makes its next key: from its restart both keys sign, and its peers are told.
    nodes[0].kill();
    let said = scelle(&nodes[0].dir, &["key", "rotate"]);
    assert!(said.contains("key-rotation.note"), "{said}");
    let again = Command::new(BIN)
        .arg("--data-dir")
        .arg(&nodes[0].dir)
        .args(["key", "rotate"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "one rotation at a time");
    let early = Command::new(BIN)
        .arg("--data-dir")
        .arg(&nodes[0].dir)
        .args(["key", "retire"])
        .output()
        .unwrap();
    assert_eq!(
        early.status.code(),
        Some(2),
        "nothing signed by the new key yet"
    );
    nodes[0].start();
    let size = nodes[0].append("bj.police.chevauchement");
    let overlap = wait_for(
        "a checkpoint of the overlap",
        Duration::from_secs(15),
        || {
            let (status, body) = nodes[0].published();
            (status == 200 && size_of(&body) >= size).then_some(body)
        },
    );
    assert_eq!(
        overlap.matches("\u{2014} bj.police.ocrc/scelle ").count(),
        2,
        "both keys sign: {overlap}"
    );
    let statement = nodes[0].dir.join("key-rotation.note");
    for peer in &mut nodes[1..] {
        let out = scelle(
            &peer.dir,
            &["peer", "rotate", "--statement", statement.to_str().unwrap()],
        );
        assert!(out.contains("bj.police.ocrc/scelle"), "{out}");
        peer.kill();
        peer.start();
    }
    // A statement the peers cannot trace to a key they trust is refused.
    let forged = scelle_verifier::note::NoteSigner::generate("bj.police.ocrc/scelle")
        .unwrap()
        .with_next(scelle_verifier::note::NoteSigner::generate("bj.police.ocrc/scelle").unwrap())
        .unwrap();
    let forged_path = dir.path().join("forged.note");
    std::fs::write(
        &forged_path,
        scelle_verifier::rotation::statement(&forged).unwrap(),
    )
    .unwrap();
    let refused = Command::new(BIN)
        .arg("--data-dir")
        .arg(&nodes[1].dir)
        .args([
            "peer",
            "rotate",
            "--statement",
            forged_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("rotation"));

    // bj retires the old key: it signs with the new one alone, its peers still cosign.
    nodes[0].kill();
    scelle(&nodes[0].dir, &["key", "retire"]);
    nodes[0].start();
    let size = nodes[0].append("bj.police.apres");
    let after = wait_for(
        "a checkpoint of the new key",
        Duration::from_secs(15),
        || {
            let (status, body) = nodes[0].published();
            (status == 200 && size_of(&body) >= size).then_some(body)
        },
    );
    assert_eq!(after.matches("\u{2014} bj.police.ocrc/scelle ").count(), 1);
    assert!(
        independent_quorum(&after, &nodes[0].policy_text()),
        "{after}"
    );
    // What the old key signed still verifies, and what the new one signs too, under the
    // peers' policy; a policy that never learnt of the rotation refuses the new checkpoints.
    let after_dossier = dir.path().join("after.json");
    std::fs::write(&after_dossier, nodes[0].dossier_of_a_new_case()).unwrap();
    let new_policy = dir.path().join("new.policy");
    std::fs::write(&new_policy, nodes[0].policy_text()).unwrap();
    assert!(
        nodes[2]
            .policy_text()
            .matches("log bj.police.ocrc/scelle+")
            .count()
            == 2
    );
    let verify = |dossier: &Path, policy: &Path| {
        Command::new(BIN)
            .args(["verify", dossier.to_str().unwrap(), "--policy"])
            .arg(policy)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(verify(&before, &new_policy), Some(0));
    assert_eq!(verify(&after_dossier, &new_policy), Some(0));
    assert_eq!(verify(&before, &old_policy), Some(0));
    assert_eq!(verify(&after_dossier, &old_policy), Some(3));
}

#[test]
fn a_peer_that_sends_its_request_slowly_is_cut_off() {
    use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};
    use std::io::{Read as _, Write as _};
    let nodes = network_of(&["bj.police.ocrc", "tg.police.dcpj"]);
    let (client, server) = (&nodes[0], &nodes[1]);
    let mut connector = SslConnector::builder(SslMethod::tls_client()).unwrap();
    connector
        .set_certificate_chain_file(client.dir.join("peer-tls.pem"))
        .unwrap();
    connector
        .set_private_key_file(client.dir.join("peer-tls.key"), SslFiletype::PEM)
        .unwrap();
    connector.set_verify(SslVerifyMode::NONE);
    let tcp = std::net::TcpStream::connect(("127.0.0.1", server.peer_port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut tls = connector.build().connect("127.0.0.1", tcp).unwrap();
    // Headers promise 100 bytes; 10 come, then nothing.
    tls.write_all(
        b"POST /witness/add-checkpoint HTTP/1.1\r\nHost: tg\r\nContent-Length: 100\r\n\r\nold 0\n\n--",
    )
    .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("message_fr"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(15));
}
