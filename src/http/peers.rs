//! The federation listener: what only peers' nodes reach, over mutual TLS with each peer's
//! certificate pinned (a client without a pinned certificate fails the handshake, before any
//! HTTP): C2SP tlog-witness `POST /witness/add-checkpoint`, and the dossier exchange's
//! `POST /exchange/transfers`, which knows the calling peer by its certificate.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use openssl::ssl::SslVerifyMode;

use crate::network::exchange::{self, ExchangeError};
use crate::network::peers::{Identity, Peers};
use crate::network::witness::{self, WitnessError};
use crate::node::Node;
use crate::public_error::PublicError;

use super::errors::{self, ApiError};

/// What the federation handlers need beside the node.
pub struct PeerContext {
    pub peers: Arc<Peers>,
    pub identity: Arc<Identity>,
    /// The peers whose transfer is being received: one at a time per peer, so a peer cannot
    /// hold many dossiers (up to 256 MiB each) in this node's memory at once.
    pub receiving: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl PeerContext {
    /// The context of a node's peers' listener.
    pub fn new(peers: Arc<Peers>, identity: Arc<Identity>) -> Self {
        Self {
            peers,
            identity,
            receiving: std::sync::Mutex::default(),
        }
    }
}

/// What `GET /log/checkpoint` publishes on a node with peers: the newest checkpoint its
/// witnesses cosigned (when its policy has a quorum), and how each witness answers.
#[derive(Clone)]
pub struct Published {
    pub cosigned: bool,
    pub status: std::sync::Arc<crate::network::cosigning::CosigningStatus>,
    /// The peers, for the dossiers users send them.
    pub peers: Arc<Peers>,
    /// How the outbox's delivery goes.
    pub deliveries: Arc<crate::network::exchange::Deliveries>,
}

impl Published {
    /// Where a dossier for the peer `name` goes: its log and its state (the first label of
    /// its origin, an agency id such as `tg.police.dcpj/scelle`).
    pub fn destination(
        &self,
        name: &str,
    ) -> Result<crate::usecases::exchange::Destination, crate::error::ServiceError> {
        destination(&self.peers, name)
    }
}

/// Where a dossier for the peer `name` goes, from `peers.policy`.
pub fn destination(
    peers: &Peers,
    name: &str,
) -> Result<crate::usecases::exchange::Destination, crate::error::ServiceError> {
    use crate::ledger::error::Missing;
    let missing = || crate::error::ServiceError::NotFound(Missing::Peer);
    let peer = peers.by_name(name).ok_or_else(missing)?;
    let origin = peer.log_origin.clone().ok_or_else(missing)?;
    if peer.base_url.is_none() || peer.cert_pem.is_none() {
        return Err(missing());
    }
    let state =
        scelle_verifier::model::Jurisdiction::from_agency_id(&origin).ok_or_else(missing)?;
    Ok(crate::usecases::exchange::Destination {
        peer: name.to_owned(),
        origin,
        state,
    })
}

/// How long a dossier export waits for its checkpoint to be cosigned by the quorum.
pub const COSIGNED_DOSSIER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The largest add-checkpoint body: 63 proof lines and a checkpoint with its signatures.
const WITNESS_BODY_LIMIT: usize = 64 * 1024;

/// The federation routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::default().limit(WITNESS_BODY_LIMIT))
        .service(
            // The same bounds as the routes open to anyone: a peer's request is answered, its
            // body read, within 10 s, and at most 256 are in flight.
            web::resource("/witness/add-checkpoint")
                .wrap(actix_web::middleware::from_fn(
                    super::limits::open_request_limits,
                ))
                .default_service(errors::wrong_method("POST"))
                .route(web::post().to(add_checkpoint)),
        )
        .service(
            // A dossier takes longer to read and verify than a checkpoint: its own bounds.
            web::resource("/exchange/transfers")
                .default_service(errors::wrong_method("POST"))
                .route(web::post().to(receive_transfer)),
        )
        .default_service(web::to(errors::no_route));
}

/// The SHA-256 of the certificate the connection's peer presented (hex), set when the TLS
/// handshake ends: the listener accepted only pinned ones.
#[derive(Clone)]
struct CallerPin(String);

/// A peer's turn to have a transfer received; the turn ends when this is dropped.
struct ReceivingTurn {
    context: web::Data<PeerContext>,
    pin: String,
}

impl Drop for ReceivingTurn {
    fn drop(&mut self) {
        if let Ok(mut receiving) = self.context.receiving.lock() {
            receiving.remove(&self.pin);
        }
    }
}

/// The calling peer's turn, or `None` while another of its transfers is being received.
fn turn(context: &web::Data<PeerContext>, pin: &str) -> Option<ReceivingTurn> {
    let mut receiving = context.receiving.lock().ok()?;
    receiving.insert(pin.to_owned()).then(|| ReceivingTurn {
        context: context.clone(),
        pin: pin.to_owned(),
    })
}

/// How long a peer may take to send one transfer's body.
const TRANSFER_READ_WITHIN: std::time::Duration = std::time::Duration::from_secs(120);

async fn receive_transfer(
    node: web::Data<Node>,
    context: web::Data<PeerContext>,
    request: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let refused = |e: ExchangeError| ApiError(PublicError::from(&e));
    let pin = request
        .conn_data::<CallerPin>()
        .map(|p| p.0.clone())
        .ok_or_else(|| refused(ExchangeError::UnknownSender))?;
    if context.peers.by_fingerprint(&pin).is_none() {
        return Err(refused(ExchangeError::UnknownSender));
    }
    // The turn before the body: a peer's second transfer at once is answered before it is read,
    // so no peer holds more than one body in this node's memory.
    let turn = turn(&context, &pin).ok_or_else(|| refused(ExchangeError::Busy))?;
    let read = payload.to_bytes_limited(exchange::TRANSFER_BODY_LIMIT);
    let body = match actix_web::rt::time::timeout(TRANSFER_READ_WITHIN, read).await {
        Ok(Ok(Ok(body))) => body,
        Ok(Ok(Err(e))) => return Err(refused(ExchangeError::Malformed(e.to_string()))),
        Ok(Err(_)) => return Err(refused(ExchangeError::TooLarge)),
        Err(_) => return Err(refused(ExchangeError::TooSlow)),
    };
    let answer = web::block(move || {
        let _turn = turn;
        let sender = context
            .peers
            .by_fingerprint(&pin)
            .ok_or(ExchangeError::UnknownSender)?;
        exchange::receive(&node, &context.peers, sender, &body)
    })
    .await
    .map_err(|_| ApiError::from(crate::error::ServiceError::Unavailable))?;
    match answer {
        Ok(receipt) => Ok(HttpResponse::Ok().json(receipt)),
        Err(e) => Err(refused(e)),
    }
}

async fn add_checkpoint(
    node: web::Data<Node>,
    context: web::Data<PeerContext>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let answer = web::block(move || {
        witness::add_checkpoint(&node, &context.peers, &context.identity, &body)
    })
    .await
    .map_err(|_| ApiError::from(crate::error::ServiceError::Unavailable))?;
    match answer {
        Ok(lines) => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(lines)),
        Err(WitnessError::Refused(scelle_verifier::witness::Refusal::Conflict(size))) => {
            Ok(HttpResponse::build(StatusCode::CONFLICT)
                .content_type("text/x.tlog.size")
                .body(format!("{size}\n")))
        }
        Err(WitnessError::Refused(refusal)) => Err(ApiError(PublicError::from(&refusal))),
        Err(WitnessError::Service(e)) => Err(ApiError::from(e)),
    }
}

/// The federation server on `listener`: TLS with this node's certificate between nodes, and a
/// client certificate required and accepted only if its SHA-256 is one of `peers.pins`.
pub fn build_peer_server(
    node: Arc<Node>,
    context: PeerContext,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let identity = &context.identity;
    let mut acceptor = super::tls::acceptor(&identity.tls_cert, &identity.tls_key)?;
    let pins = context.peers.pins.clone();
    // The peers' certificates are self-signed and pinned: the chain's own verdict does not
    // matter, the leaf's fingerprint does (OpenSSL asks about the leaf last, at depth 0).
    acceptor.set_verify_callback(
        SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
        move |_chain_ok, store| {
            if store.error_depth() != 0 {
                return true;
            }
            let Some(cert) = store.current_cert() else {
                return false;
            };
            let pinned = cert
                .digest(openssl::hash::MessageDigest::sha256())
                .is_ok_and(|digest| pins.iter().any(|pin| *pin == hex::encode(&*digest)));
            // Pinned, and within its dates: an expired peer certificate is refused too.
            let current = openssl::asn1::Asn1Time::days_from_now(0).is_ok_and(|now| {
                cert.not_before() <= now.as_ref() && now.as_ref() <= cert.not_after()
            });
            pinned && current
        },
    );
    let data = web::Data::from(node);
    let context = web::Data::new(context);
    let open_requests = web::Data::new(super::limits::OpenRequests::default());
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .app_data(context.clone())
            .app_data(open_requests.clone())
            .wrap(actix_web::middleware::from_fn(errors::bilingual_errors))
            .configure(routes)
    })
    .workers(2)
    // A peer's handshake takes milliseconds: one that has not ended in a second frees its slot,
    // and more slots are open than the default, so connections that never speak TLS (anyone
    // can open them before the certificate is asked) do not keep the peers out for long.
    .tls_handshake_timeout(std::time::Duration::from_secs(1))
    .max_connection_rate(2048)
    .disable_signals()
    .on_connect(|connection, data| {
        use actix_tls::accept::openssl::TlsStream;
        if let Some(tls) = connection.downcast_ref::<TlsStream<actix_web::rt::net::TcpStream>>()
            && let Some(cert) = tls.ssl().peer_certificate()
            && let Ok(digest) = cert.digest(openssl::hash::MessageDigest::sha256())
        {
            data.insert(CallerPin(hex::encode(&*digest)));
        }
    })
    .listen_openssl(listener, acceptor)?;
    Ok(server.run())
}
