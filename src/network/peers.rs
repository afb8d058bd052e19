//! Who this node is to its peers, and who its peers are: files in the node's data folder.
//!
//! - `witness.key` (0600): the Ed25519 key this node cosigns its peers' checkpoints with
//!   (C2SP tlog-cosignature, named `<origin>/witness`);
//! - `peer-tls.pem`, `peer-tls.key` (0600): its TLS identity between nodes (a self-signed
//!   P-256 certificate, which peers pin);
//! - `peers.policy`: its peers in the C2SP tlog-policy grammar — each peer's log (`log <vkey>
//!   <url>`) and witness (`witness <name> <vkey> <url>`), the quorum — beginning with this
//!   node's own log, so the same file checks this node's cosigned checkpoints (`scelle verify
//!   --policy`);
//! - `peers/<name>.pem`: each peer's pinned certificate.
//!
//! An operator may edit `peers.policy` by hand (it is the standard format); `scelle peer add`
//! and `scelle peer quorum` edit it for them, and every change is parsed whole before it
//! replaces the file.

use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
use openssl::x509::{X509, X509NameBuilder};
use scelle_verifier::cosignature::{Cosigner, CosignerKey};
use scelle_verifier::note::NoteVerifier;
use scelle_verifier::policy::{Policy, PolicyWitness};

use crate::error::ServiceError;
use crate::node::files::write_private_file;

/// The node's witness key.
pub const WITNESS_KEY_FILE: &str = "witness.key";
/// The node's certificate between nodes.
pub const TLS_CERT_FILE: &str = "peer-tls.pem";
/// The private key of that certificate.
pub const TLS_KEY_FILE: &str = "peer-tls.key";
/// The peers and the quorum, in the C2SP tlog-policy grammar.
pub const POLICY_FILE: &str = "peers.policy";
/// The folder of the peers' pinned certificates.
pub const CERTS_DIR: &str = "peers";
/// The group `scelle peer quorum` maintains.
const QUORUM_GROUP: &str = "entente";
/// How long a node's certificate between nodes is valid.
const TLS_VALIDITY_DAYS: u32 = 730;

/// This node's identity towards its peers.
pub struct Identity {
    /// The key it cosigns with.
    pub cosigner: Cosigner,
    /// Its certificate (PEM file) and key (PEM file) between nodes.
    pub tls_cert: PathBuf,
    /// The certificate's private key.
    pub tls_key: PathBuf,
    /// The certificate's SHA-256 fingerprint (hex), which peers pin.
    pub fingerprint: String,
}

fn internal(what: &Path, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("{}: {e}", what.display()))
}

/// The SHA-256 of a certificate's DER form, in hex: what pinning compares.
pub fn fingerprint(cert: &X509) -> Result<String, ServiceError> {
    cert.digest(MessageDigest::sha256())
        .map(|d| hex::encode(&*d))
        .map_err(|e| ServiceError::Internal(format!("certificate digest: {e}")))
}

/// Creates the witness key and the TLS identity if they are missing (the certificate names
/// `hosts`: DNS names or IP addresses peers reach this node by), and loads them.
pub fn ensure_identity(
    data_dir: &Path,
    origin: &str,
    hosts: &[String],
) -> Result<Identity, ServiceError> {
    let key_path = data_dir.join(WITNESS_KEY_FILE);
    if !key_path.exists() {
        let cosigner =
            Cosigner::generate(&format!("{origin}/witness")).map_err(|e| internal(&key_path, e))?;
        let text = cosigner
            .private_key_string()
            .map_err(|e| internal(&key_path, e))?;
        write_private_file(&key_path, &(text + "\n"))?;
    }
    let cert_path = data_dir.join(TLS_CERT_FILE);
    if !cert_path.exists() {
        let (cert, key) = self_signed(origin, hosts).map_err(|e| internal(&cert_path, e))?;
        write_private_file(&data_dir.join(TLS_KEY_FILE), &key)?;
        write_private_file(&cert_path, &cert)?;
    }
    read_identity(data_dir)
}

/// Refuses, in words, a command that needs `scelle peer init` on a folder where it never ran.
fn require_init(data_dir: &Path) -> Result<(), ServiceError> {
    if data_dir.join(POLICY_FILE).exists() && data_dir.join(WITNESS_KEY_FILE).exists() {
        Ok(())
    } else {
        Err(ServiceError::StartRefused(
            crate::error::StartRefusal::NoPeers,
        ))
    }
}

/// Loads the witness key and the TLS identity (`scelle peer init` made them).
pub fn load_identity(data_dir: &Path) -> Result<Identity, ServiceError> {
    require_init(data_dir)?;
    read_identity(data_dir)
}

fn read_identity(data_dir: &Path) -> Result<Identity, ServiceError> {
    let key_path = data_dir.join(WITNESS_KEY_FILE);
    let text = std::fs::read_to_string(&key_path).map_err(|e| internal(&key_path, e))?;
    let cosigner = Cosigner::from_private_key_string(&text).map_err(|e| internal(&key_path, e))?;
    let tls_cert = data_dir.join(TLS_CERT_FILE);
    let pem = std::fs::read(&tls_cert).map_err(|e| internal(&tls_cert, e))?;
    let cert = X509::from_pem(&pem).map_err(|e| internal(&tls_cert, e))?;
    Ok(Identity {
        cosigner,
        fingerprint: fingerprint(&cert)?,
        tls_cert,
        tls_key: data_dir.join(TLS_KEY_FILE),
    })
}

/// A self-signed P-256 certificate for `origin`, valid for `hosts`, as PEM (cert, key).
fn self_signed(
    origin: &str,
    hosts: &[String],
) -> Result<(String, String), openssl::error::ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", origin)?;
    let name = name.build();
    let mut cert = X509::builder()?;
    cert.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    cert.set_serial_number(&serial)?;
    cert.set_subject_name(&name)?;
    cert.set_issuer_name(&name)?;
    cert.set_pubkey(&key)?;
    let (from, until) = (
        Asn1Time::days_from_now(0)?,
        Asn1Time::days_from_now(TLS_VALIDITY_DAYS)?,
    );
    cert.set_not_before(&from)?;
    cert.set_not_after(&until)?;
    let mut san = SubjectAlternativeName::new();
    for host in hosts {
        if host.parse::<std::net::IpAddr>().is_ok() {
            san.ip(host);
        } else {
            san.dns(host);
        }
    }
    let san = san.build(&cert.x509v3_context(None, None))?;
    cert.append_extension(san)?;
    cert.append_extension(BasicConstraints::new().critical().build()?)?;
    cert.sign(&key, MessageDigest::sha256())?;
    let cert = String::from_utf8_lossy(&cert.build().to_pem()?).into_owned();
    let key = String::from_utf8_lossy(&key.private_key_to_pem_pkcs8()?).into_owned();
    Ok((cert, key))
}

/// A peer as the policy and the pinned certificates name it.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Its witness entry in the policy.
    pub witness: PolicyWitness,
    /// Its pinned certificate (PEM), if one is kept.
    pub cert_pem: Option<Vec<u8>>,
    /// That certificate's SHA-256, hex: how the federation listener knows who is calling.
    pub fingerprint: Option<String>,
    /// The peer node's address (its witness prefix without `/witness`).
    pub base_url: Option<String>,
    /// Its log's origin: the `log` line at the same address (a dossier it sends is of this log).
    pub log_origin: Option<String>,
}

impl Peers {
    /// The peer whose pinned certificate has this SHA-256 (hex).
    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<&Peer> {
        self.peers
            .iter()
            .find(|p| p.fingerprint.as_deref() == Some(fingerprint))
    }

    /// The peer of this name in the policy.
    pub fn by_name(&self, name: &str) -> Option<&Peer> {
        self.peers.iter().find(|p| p.witness.name == name)
    }
}

/// The peers of this node: its policy and the certificates it pins.
#[derive(Debug, Clone)]
pub struct Peers {
    /// The parsed `peers.policy`.
    pub policy: Policy,
    /// Each witness of the policy with its certificate.
    pub peers: Vec<Peer>,
    /// The SHA-256 fingerprints of every pinned certificate: the clients the federation
    /// listener accepts.
    pub pins: Vec<String>,
}

/// Reads the peers' policy and their pinned certificates; `None` when the node has no
/// `peers.policy` (it runs alone).
pub fn load_peers(data_dir: &Path) -> Result<Option<Peers>, ServiceError> {
    let path = data_dir.join(POLICY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(internal(&path, e)),
    };
    let policy = Policy::parse(&text).map_err(ServiceError::PeerPolicy)?;
    // This node's own witness is in its policy (so a quorum of the states counts it when it
    // checks another state's checkpoint) but is nobody's peer: it never witnesses its own log.
    let own = own_witness_key(data_dir)?;
    let mut peers = Vec::new();
    let mut pins = Vec::new();
    for witness in policy.witnesses() {
        if own.as_ref() == Some(witness.key.public_key()) {
            continue;
        }
        let cert_path = cert_path(data_dir, &witness.name);
        let (cert_pem, pin) = match std::fs::read(&cert_path) {
            Ok(pem) => {
                let cert = X509::from_pem(&pem).map_err(|e| internal(&cert_path, e))?;
                let pin = fingerprint(&cert)?;
                pins.push(pin.clone());
                (Some(pem), Some(pin))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, None),
            Err(e) => return Err(internal(&cert_path, e)),
        };
        let base_url = witness
            .url
            .as_deref()
            .and_then(|u| u.strip_suffix("/witness"))
            .map(str::to_owned);
        let log_origin = base_url.as_deref().and_then(|base| {
            policy
                .logs()
                .iter()
                .find(|log| log.url.as_deref() == Some(base))
                .map(|log| log.key.name().to_owned())
        });
        peers.push(Peer {
            witness: witness.clone(),
            cert_pem,
            fingerprint: pin,
            base_url,
            log_origin,
        });
    }
    Ok(Some(Peers {
        policy,
        peers,
        pins,
    }))
}

/// The public key of this node's witness key, if it has one.
fn own_witness_key(data_dir: &Path) -> Result<Option<[u8; 32]>, ServiceError> {
    let path = data_dir.join(WITNESS_KEY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(internal(&path, e)),
    };
    let cosigner = Cosigner::from_private_key_string(&text).map_err(|e| internal(&path, e))?;
    let key = CosignerKey::from_verifier_key(&cosigner.verifier_key_string())
        .map_err(|e| internal(&path, e))?;
    Ok(Some(*key.public_key()))
}

fn cert_path(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join(CERTS_DIR).join(format!("{name}.pem"))
}

/// This node as its own policy names it.
pub struct OwnEntry<'a> {
    /// Its name among the witnesses (what its peers call it).
    pub name: &'a str,
    /// Its log's checkpoint key.
    pub log_key: &'a str,
    /// Its witness key.
    pub witness_key: &'a str,
    /// Where its peers reach it.
    pub url: &'a str,
}

/// Writes `peers.policy` for a node that has none: its own log and its own witness (a quorum of
/// the states counts it when this node checks another state's checkpoint; it never cosigns its
/// own), and no quorum yet.
pub fn init_policy(data_dir: &Path, own: &OwnEntry<'_>) -> Result<(), ServiceError> {
    let path = data_dir.join(POLICY_FILE);
    if path.exists() {
        return Ok(());
    }
    let text = format!(
        "# Peers of this node (C2SP tlog-policy). The first log and witness are this node's own.\n\
         log {} {}\n\
         witness {} {} {}/witness\n\
         quorum none\n",
        own.log_key, own.url, own.name, own.witness_key, own.url
    );
    replace_policy(data_dir, &text)
}

/// What a peer gives to be added: its name, its log and witness keys, its URL between nodes
/// and its certificate.
pub struct NewPeer<'a> {
    pub name: &'a str,
    pub log_key: &'a str,
    pub witness_key: &'a str,
    pub url: &'a str,
    pub cert_pem: &'a [u8],
}

/// Adds a peer: its `log` and `witness` lines before the group and quorum lines, its pinned
/// certificate under `peers/`. Refuses a malformed key, URL or certificate, or a name or key
/// already there, naming what is wrong; the file changes only if the whole result parses.
pub fn add_peer(data_dir: &Path, peer: &NewPeer<'_>) -> Result<(), ServiceError> {
    require_init(data_dir)?;
    use scelle_verifier::model::FieldError;
    use scelle_verifier::t;
    let bad = |field: &'static str, reason| ServiceError::Field(FieldError::new(field, reason));
    NoteVerifier::from_verifier_key(peer.log_key)
        .map_err(|_| bad("log_key", t!("field-peer-log-key")))?;
    CosignerKey::from_verifier_key(peer.witness_key)
        .map_err(|_| bad("witness_key", t!("field-peer-witness-key")))?;
    if !peer.url.starts_with("https://") || peer.url.chars().any(char::is_whitespace) {
        return Err(bad("url", t!("field-peer-url")));
    }
    if peer.name.is_empty()
        || !peer
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        || [QUORUM_GROUP, "none", "all", "any"].contains(&peer.name)
    {
        return Err(bad("name", t!("field-peer-name")));
    }
    if own_witness_key(data_dir)?.is_some_and(|own| {
        CosignerKey::from_verifier_key(peer.witness_key).is_ok_and(|k| *k.public_key() == own)
    }) {
        return Err(bad("witness_key", t!("field-peer-is-self")));
    }
    let cert = X509::from_pem(peer.cert_pem).map_err(|_| bad("cert", t!("field-peer-cert")))?;
    let path = data_dir.join(POLICY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| internal(&path, e))?;
    let mut head = Vec::new();
    let mut tail = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if first == "group" || first == "quorum" || !tail.is_empty() {
            // The quorum `scelle peer quorum` keeps is over every peer: the new one joins it
            // (`all` then includes it; a number stays the number the operator chose).
            if first == "group" && words.next() == Some(QUORUM_GROUP) {
                tail.push(format!("{} {}", line.trim_end(), peer.name));
            } else {
                tail.push(line.to_owned());
            }
        } else {
            head.push(line.to_owned());
        }
    }
    head.push(format!("log {} {}", peer.log_key.trim(), peer.url));
    // The witness's submission prefix (C2SP tlog-witness) under the peer's address.
    head.push(format!(
        "witness {} {} {}/witness",
        peer.name,
        peer.witness_key.trim(),
        peer.url
    ));
    let new_text = format!("{}\n{}\n", head.join("\n"), tail.join("\n"));
    Policy::parse(&new_text).map_err(ServiceError::PeerPolicy)?;
    let certs = data_dir.join(CERTS_DIR);
    std::fs::create_dir_all(&certs).map_err(|e| internal(&certs, e))?;
    let pem = cert.to_pem().map_err(|e| internal(&certs, e))?;
    let cert_file = cert_path(data_dir, peer.name);
    std::fs::write(&cert_file, pem).map_err(|e| internal(&cert_file, e))?;
    replace_policy(data_dir, &new_text)
}

/// Adds the new key a peer's rotation statement announces (signed by a key this policy trusts
/// for that log and by the new key) beside the old one, at the same URL. Answers the log's
/// origin. Past checkpoints keep verifying under the old key, which stays.
pub fn rotate_peer_key(data_dir: &Path, statement: &str) -> Result<String, ServiceError> {
    let path = data_dir.join(POLICY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| internal(&path, e))?;
    let policy = Policy::parse(&text).map_err(ServiceError::PeerPolicy)?;
    let trusted: Vec<NoteVerifier> = policy.logs().iter().map(|l| l.key.clone()).collect();
    let new = scelle_verifier::rotation::open(statement, &trusted).map_err(|e| {
        ServiceError::Field(scelle_verifier::model::FieldError::new(
            "statement",
            scelle_verifier::t!("field-rotation-statement", reason = e),
        ))
    })?;
    if policy
        .logs()
        .iter()
        .any(|l| l.key.public_key() == new.public_key())
    {
        return Ok(new.name().to_owned());
    }
    let url = policy
        .logs_of(new.name())
        .find_map(|l| l.url.clone())
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let last_of_log = lines
        .iter()
        .rposition(|l| {
            let mut words = l.split_whitespace();
            words.next() == Some("log")
                && words
                    .next()
                    .and_then(|k| NoteVerifier::from_verifier_key(k).ok())
                    .is_some_and(|k| k.name() == new.name())
        })
        .unwrap_or(0);
    lines.insert(last_of_log + 1, format!("log {}{url}", new.key_string()));
    let new_text = format!("{}\n", lines.join("\n"));
    Policy::parse(&new_text).map_err(ServiceError::PeerPolicy)?;
    replace_policy(data_dir, &new_text)?;
    Ok(new.name().to_owned())
}

/// Sets the quorum to `k` of all the policy's witnesses (`all`, `any`, a number, or `none`):
/// one `group entente` line over every witness and `quorum entente`.
pub fn set_quorum(data_dir: &Path, k: &str) -> Result<(), ServiceError> {
    if !(["all", "any", "none"].contains(&k)
        || (!k.is_empty() && k.bytes().all(|b| b.is_ascii_digit())))
    {
        return Err(ServiceError::Field(
            scelle_verifier::model::FieldError::new(
                "threshold",
                scelle_verifier::t!("field-peer-threshold"),
            ),
        ));
    }
    require_init(data_dir)?;
    let path = data_dir.join(POLICY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| internal(&path, e))?;
    let policy = Policy::parse(&text).map_err(ServiceError::PeerPolicy)?;
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            let mut words = line.split_whitespace();
            let first = words.next();
            !(first == Some("quorum")
                || (first == Some("group") && words.next() == Some(QUORUM_GROUP)))
        })
        .collect();
    let mut new_text = kept.join("\n");
    new_text.push('\n');
    if k == "none" {
        new_text.push_str("quorum none\n");
    } else {
        let names: Vec<&str> = policy.witnesses().iter().map(|w| w.name.as_str()).collect();
        new_text.push_str(&format!(
            "group {QUORUM_GROUP} {k} {}\nquorum {QUORUM_GROUP}\n",
            names.join(" ")
        ));
    }
    Policy::parse(&new_text).map_err(ServiceError::PeerPolicy)?;
    replace_policy(data_dir, &new_text)
}

/// Replaces `peers.policy` whole (written beside it, synced, renamed over it).
fn replace_policy(data_dir: &Path, text: &str) -> Result<(), ServiceError> {
    use std::io::Write as _;
    let path = data_dir.join(POLICY_FILE);
    let tmp = data_dir.join(format!("{POLICY_FILE}.new"));
    let mut f = std::fs::File::create(&tmp).map_err(|e| internal(&tmp, e))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| internal(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| internal(&path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use scelle_verifier::note::NoteSigner;

    fn add(dir: &Path, name: &str) {
        let log = NoteSigner::generate(&format!("{name}/scelle")).unwrap();
        let witness = Cosigner::generate(&format!("{name}/scelle/witness")).unwrap();
        let (cert, _) = self_signed(name, &["127.0.0.1".into()]).unwrap();
        add_peer(
            dir,
            &NewPeer {
                name,
                log_key: &log.verifier_key_string(),
                witness_key: &witness.verifier_key_string(),
                url: "https://127.0.0.1:9",
                cert_pem: cert.as_bytes(),
            },
        )
        .unwrap();
    }

    #[test]
    fn a_peer_added_after_the_quorum_was_set_joins_it() {
        let dir = tempfile::tempdir().unwrap();
        let own = NoteSigner::generate("bj.police.ocrc/scelle").unwrap();
        let identity = ensure_identity(dir.path(), own.name(), &["127.0.0.1".into()]).unwrap();
        init_policy(
            dir.path(),
            &OwnEntry {
                name: "bj.police.ocrc",
                log_key: &own.verifier_key_string(),
                witness_key: &identity.cosigner.verifier_key_string(),
                url: "https://127.0.0.1:1",
            },
        )
        .unwrap();
        add(dir.path(), "tg.police.dcpj");
        set_quorum(dir.path(), "all").unwrap();
        add(dir.path(), "ne.police.dpj");
        let peers = load_peers(dir.path()).unwrap().unwrap();
        // Its own witness is in the policy, not among its peers.
        assert_eq!(peers.policy.witnesses().len(), 3);
        assert_eq!(peers.peers.len(), 2);
        assert_eq!(peers.pins.len(), 2);
        // "all" now means all three: two cosignatures are not enough.
        assert!(!peers.policy.quorum_met(&[false, true, true]));
        assert!(peers.policy.quorum_met(&[true, true, true]));
        // A bad key, URL or name is refused and the file is left as it was.
        let before = std::fs::read_to_string(dir.path().join(POLICY_FILE)).unwrap();
        let refused = add_peer(
            dir.path(),
            &NewPeer {
                name: "ml/x",
                log_key: &own.verifier_key_string(),
                witness_key: "nope",
                url: "http://x",
                cert_pem: b"",
            },
        );
        assert!(matches!(refused, Err(ServiceError::Field(_))));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(POLICY_FILE)).unwrap(),
            before
        );
    }
}
