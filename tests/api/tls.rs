//! `scelle serve --tls-cert --tls-key` serves HTTPS with openssl: a client that trusts the
//! certificate gets through, one that does not is refused, plain HTTP is not answered, and an
//! unusable key stops start-up with a clear message.

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509, X509NameBuilder};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::helpers::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_scelle");

/// A self-signed certificate for 127.0.0.1 and its key, as PEM.
fn self_signed() -> (Vec<u8>, Vec<u8>) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "scelle-test").unwrap();
    let name = name.build();
    let mut cert = X509::builder().unwrap();
    cert.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    cert.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&key).unwrap();
    cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    cert.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .build(&cert.x509v3_context(None, None))
        .unwrap();
    cert.append_extension(san).unwrap();
    cert.sign(&key, MessageDigest::sha256()).unwrap();
    (
        cert.build().to_pem().unwrap(),
        key.private_key_to_pem_pkcs8().unwrap(),
    )
}

fn agent(trusted: Option<&[u8]>) -> ureq::Agent {
    use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
    let mut tls = TlsConfig::builder().provider(TlsProvider::NativeTls);
    if let Some(pem) = trusted {
        tls = tls.root_certs(RootCerts::Specific(Arc::new(vec![
            Certificate::from_pem(pem).unwrap(),
        ])));
    }
    ureq::Agent::config_builder()
        .tls_config(tls.build())
        .timeout_global(Some(Duration::from_secs(5)))
        .http_status_as_error(false)
        .build()
        .into()
}

#[test]
fn serve_speaks_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let port = free_port();
    let data = dir.path().join("data");
    let init = Command::new(BIN)
        .args(["init", "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(init.status.success());
    let mut server = Command::new(BIN)
        .args(["serve", "--data-dir", data.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--tls-cert")
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&key_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let trusting = agent(Some(&cert));
    let url = format!("https://127.0.0.1:{port}/healthz");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        match trusting.get(&url).call() {
            Ok(r) => break r.status().as_u16(),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("HTTPS never answered: {e}"),
        }
    };
    assert_eq!(status, 200);
    assert!(
        agent(None).get(&url).call().is_err(),
        "a client that does not trust the certificate must be refused"
    );
    let plain = agent(None)
        .get(&format!("http://127.0.0.1:{port}/healthz"))
        .call();
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status().as_u16() != 200));
    server.kill().unwrap();
    server.wait().unwrap();

    // A key that does not match the certificate: no server, a clear message, a failing exit.
    let (_, other_key) = self_signed();
    std::fs::write(&key_path, &other_key).unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--data-dir", data.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--tls-cert")
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&key_path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("key.pem"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
