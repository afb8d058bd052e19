//! HTTPS from this node to one peer: this node's certificate as the client's, the peer's pinned
//! certificate as the only one trusted (TLS through openssl, by ureq's native-tls).

use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};

use crate::error::ServiceError;
use crate::network::peers::Identity;

/// A connection pool to one peer.
pub struct PeerClient {
    agent: ureq::Agent,
}

/// A peer's answer: status, content type and body.
#[derive(Debug)]
pub struct PeerAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

impl PeerClient {
    /// A client that presents `identity` and trusts only `peer_cert_pem`; each request gives
    /// up after `timeout`.
    pub fn new(
        identity: &Identity,
        peer_cert_pem: &[u8],
        timeout: Duration,
    ) -> Result<Self, ServiceError> {
        let bad = |what: &std::path::Path, e: ureq::Error| {
            ServiceError::Internal(format!("{}: {e}", what.display()))
        };
        let own_cert = std::fs::read(&identity.tls_cert)
            .map_err(|e| ServiceError::Internal(format!("{}: {e}", identity.tls_cert.display())))?;
        let own_key = std::fs::read(&identity.tls_key)
            .map_err(|e| ServiceError::Internal(format!("{}: {e}", identity.tls_key.display())))?;
        let own_cert = Certificate::from_pem(&own_cert).map_err(|e| bad(&identity.tls_cert, e))?;
        let own_key = PrivateKey::from_pem(&own_key).map_err(|e| bad(&identity.tls_key, e))?;
        let pinned = Certificate::from_pem(peer_cert_pem)
            .map_err(|e| ServiceError::Internal(format!("pinned peer certificate: {e}")))?;
        let tls = TlsConfig::builder()
            .provider(TlsProvider::NativeTls)
            .root_certs(RootCerts::Specific(Arc::new(vec![pinned])))
            .client_cert(Some(ClientCert::new_with_certs(&[own_cert], own_key)))
            .build();
        Ok(Self {
            agent: ureq::Agent::config_builder()
                .tls_config(tls)
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .build()
                .into(),
        })
    }

    /// POSTs `body` (plain text) to `url`; an error is a peer that could not be reached or
    /// answered nothing readable (its words, for the node's log).
    pub fn post_text(&self, url: &str, body: String) -> Result<PeerAnswer, String> {
        self.post(
            url,
            "text/plain; charset=utf-8",
            body.into_bytes(),
            64 * 1024,
        )
    }

    /// POSTs a JSON `body` to `url` and reads at most `answer_limit` bytes of the answer.
    pub fn post_json(
        &self,
        url: &str,
        body: Vec<u8>,
        answer_limit: u64,
    ) -> Result<PeerAnswer, String> {
        self.post(url, "application/json", body, answer_limit)
    }

    fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
        answer_limit: u64,
    ) -> Result<PeerAnswer, String> {
        let mut answer = self
            .agent
            .post(url)
            .header("Content-Type", content_type)
            .send(body)
            .map_err(|e| e.to_string())?;
        let status = answer.status().as_u16();
        let content_type = answer
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = answer
            .body_mut()
            .with_config()
            .limit(answer_limit)
            .read_to_string()
            .map_err(|e| e.to_string())?;
        Ok(PeerAnswer {
            status,
            content_type,
            body,
        })
    }
}
