//! HTTP: the JSON API ([`api`]), the pages ([`pages`]), who is calling and signing in
//! ([`auth`], [`client`], [`csrf`]), errors as answers ([`errors`]), and the server itself (TLS
//! through openssl). The whole route table is [`routes`].

pub mod api;
pub mod auth;
pub mod blocking;
pub mod client;
pub mod csrf;
pub mod errors;
pub mod limits;
pub mod pages;
pub mod peers;
mod tls;

use actix_web::dev::Server;
use actix_web::web;
use std::net::TcpListener;
use std::sync::Arc;

use crate::node::Node;
pub use client::TrustedProxies;

pub use errors::BODY_LIMIT;

/// An address and the methods it answers; any other method gets 405 with `Allow`.
fn at(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(errors::wrong_method(allow))
}

/// An address open to anyone, under the bounds of [`limits`].
fn open(
    path: &str,
    allow: &'static str,
) -> actix_web::Resource<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    at(path, allow).wrap(actix_web::middleware::from_fn(limits::open_request_limits))
}

/// The whole route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use web::{get, post};
    cfg.app_data(
        web::JsonConfig::default()
            .limit(BODY_LIMIT)
            .error_handler(errors::json_error),
    )
    .app_data(web::PathConfig::default().error_handler(errors::path_error))
    .app_data(web::QueryConfig::default().error_handler(errors::query_error))
    .app_data(web::PayloadConfig::default().limit(BODY_LIMIT))
    .service(at("/healthz", "GET").route(get().to(api::healthz)))
    .service(at("/readyz", "GET").route(get().to(api::readyz)))
    .service(at("/static/scelle.css", "GET").route(get().to(pages::style_sheet)))
    .service(
        open("/login", "GET, POST")
            .route(get().to(pages::login_page))
            .route(post().to(auth::login)),
    )
    .service(open("/logout", "POST").route(post().to(auth::logout)))
    .service(
        web::scope("/api/v1")
            .wrap(actix_web::middleware::from_fn(auth::require_auth))
            .service(
                at("/cases", "GET, POST")
                    .route(post().to(api::open_case))
                    .route(get().to(api::find_case)),
            )
            .service(at("/cases/{id}", "GET").route(get().to(api::get_case)))
            .service(at("/cases/{id}/dossier", "GET").route(get().to(api::case_dossier)))
            .service(
                at("/cases/{id}/evidence", "GET, POST")
                    .route(post().to(api::register_evidence))
                    .route(get().to(api::case_evidence)),
            )
            .service(
                at("/cases/{id}/persons", "GET, POST")
                    .route(post().to(api::add_person))
                    .route(get().to(api::case_persons)),
            )
            .service(at("/cases/{id}/shares", "POST").route(post().to(api::share_case)))
            .service(
                at("/cases/{id}/shares/{share}/revocation", "POST")
                    .route(post().to(api::revoke_share)),
            )
            .service(
                at("/cases/{id}/transfers", "GET, POST")
                    .route(post().to(api::send_dossier))
                    .route(get().to(api::case_transfers)),
            )
            .service(at("/received", "GET").route(get().to(api::received_list)))
            .service(at("/network", "GET").route(get().to(api::network_status)))
            .service(at("/received/{transfer}", "GET").route(get().to(api::received_dossier)))
            .service(at("/persons/{id}", "GET").route(get().to(api::get_person)))
            .service(at("/access-records", "GET").route(get().to(api::access_records)))
            .service(at("/users", "POST").route(post().to(api::create_user)))
            .service(at("/users/{id}/disable", "POST").route(post().to(api::disable_user)))
            .service(at("/users/{id}/enable", "POST").route(post().to(api::enable_user)))
            .service(at("/agencies", "POST").route(post().to(api::create_agency)))
            .service(at("/retention/run", "POST").route(post().to(api::run_retention)))
            .service(at("/dpo/report", "GET").route(get().to(api::dpo_report)))
            .service(at("/dpo/transfers", "GET").route(get().to(api::dpo_transfers)))
            .service(at("/evidence", "GET").route(get().to(api::find_evidence)))
            .service(at("/evidence/{id}", "GET").route(get().to(api::get_evidence)))
            .service(
                at("/evidence/{id}/events", "GET, POST")
                    .route(post().to(api::record_event))
                    .route(get().to(api::evidence_timeline)),
            )
            .service(
                at("/evidence/{id}/derivations", "GET").route(get().to(api::evidence_derivations)),
            )
            .service(
                at("/vault/{record}/erasure", "POST").route(post().to(api::erase_vault_record)),
            ),
    )
    .service(
        web::scope("/log")
            .wrap(actix_web::middleware::from_fn(auth::require_auth))
            .service(at("/checkpoint", "GET").route(get().to(api::checkpoint)))
            .service(at("/entries/{seq}", "GET").route(get().to(api::entry)))
            .service(at("/receipt/{seq}", "GET").route(get().to(api::cosigned_receipt)))
            .service(at("/proof/inclusion", "GET").route(get().to(api::inclusion)))
            .service(at("/proof/consistency", "GET").route(get().to(api::consistency))),
    )
    .default_service(web::to(errors::no_route));
}

/// Binds the listener (port 0 picks a free port) and builds the server; the caller awaits it.
pub fn build_server(node: Arc<Node>, listener: TcpListener) -> std::io::Result<Server> {
    build_server_with_tls(node, listener, None, TrustedProxies::default())
}

/// A PEM certificate chain and its private key, for HTTPS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// The server over HTTPS (openssl, Mozilla's "intermediate" settings: TLS 1.2 and 1.3) when
/// `tls` is given, plain HTTP otherwise. A certificate or key that cannot be used is an error
/// here, before anything listens.
pub fn build_server_with_tls(
    node: Arc<Node>,
    listener: TcpListener,
    tls: Option<&TlsFiles>,
    proxies: TrustedProxies,
) -> std::io::Result<Server> {
    build_node_server(node, listener, tls, proxies, None)
}

/// The node's server, publishing what `published` says (`None`: a node without peers).
pub fn build_node_server(
    node: Arc<Node>,
    listener: TcpListener,
    tls: Option<&TlsFiles>,
    proxies: TrustedProxies,
    published: Option<peers::Published>,
) -> std::io::Result<Server> {
    let data = web::Data::from(node);
    let published = web::Data::new(published);
    let proxies = web::Data::new(proxies);
    let open_requests = web::Data::new(limits::OpenRequests::default());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .app_data(proxies.clone())
            .app_data(open_requests.clone())
            .app_data(published.clone())
            .wrap(actix_web::middleware::from_fn(errors::refuse_nul_in_uri))
            .wrap(actix_web::middleware::from_fn(errors::bilingual_errors))
            .configure(routes)
    })
    .workers(workers);
    let server = match tls {
        None => server.listen(listener)?,
        Some(files) => server.listen_openssl(listener, tls::acceptor(&files.cert, &files.key)?)?,
    };
    Ok(server.run())
}
