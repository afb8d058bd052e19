//! HTTP: the JSON API ([`api`]), the pages ([`pages`]), who is calling ([`auth`]), errors as
//! answers ([`errors`]), and the server itself (TLS through openssl). The whole route table is
//! [`routes`].

pub mod api;
pub mod auth;
pub mod blocking;
pub mod errors;
pub mod pages;

use actix_web::dev::Server;
use actix_web::web;
use std::net::TcpListener;
use std::sync::Arc;

use crate::node::Node;

/// Largest request body accepted; anything above gets 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The whole route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(BODY_LIMIT)
            .error_handler(errors::json_error),
    )
    .app_data(web::PathConfig::default().error_handler(errors::path_error))
    .app_data(web::QueryConfig::default().error_handler(errors::query_error))
    .app_data(web::PayloadConfig::default().limit(BODY_LIMIT))
    .route("/healthz", web::get().to(api::healthz))
    .route("/login", web::get().to(pages::login_page))
    .route("/static/scelle.css", web::get().to(pages::style_sheet))
    .route("/login", web::post().to(api::login))
    .route("/logout", web::post().to(api::logout))
    .service(
        web::scope("/api/v1")
            .wrap(actix_web::middleware::from_fn(auth::require_auth))
            .route("/cases", web::post().to(api::open_case))
            .route("/cases", web::get().to(api::find_case))
            .route("/cases/{id}", web::get().to(api::get_case))
            .route("/cases/{id}/dossier", web::get().to(api::case_dossier))
            .route(
                "/cases/{id}/evidence",
                web::post().to(api::register_evidence),
            )
            .route("/cases/{id}/persons", web::post().to(api::add_person))
            .route("/cases/{id}/persons", web::get().to(api::case_persons))
            .route("/cases/{id}/shares", web::post().to(api::share_case))
            .route(
                "/cases/{id}/shares/{share}/revocation",
                web::post().to(api::revoke_share),
            )
            .route("/persons/{id}", web::get().to(api::get_person))
            .route("/access-records", web::get().to(api::access_records))
            .route("/users", web::post().to(api::create_user))
            .route("/agencies", web::post().to(api::create_agency))
            .route("/retention/run", web::post().to(api::run_retention))
            .route("/dpo/report", web::get().to(api::dpo_report))
            .route("/evidence", web::get().to(api::find_evidence))
            .route("/evidence/{id}", web::get().to(api::get_evidence))
            .route("/evidence/{id}/events", web::post().to(api::record_event))
            .route(
                "/vault/{record}/erasure",
                web::post().to(api::erase_vault_record),
            ),
    )
    .service(
        web::scope("/log")
            .wrap(actix_web::middleware::from_fn(auth::require_auth))
            .route("/checkpoint", web::get().to(api::checkpoint))
            .route("/entries/{seq}", web::get().to(api::entry))
            .route("/proof/inclusion", web::get().to(api::inclusion))
            .route("/proof/consistency", web::get().to(api::consistency)),
    )
    .default_service(web::to(errors::no_route));
}

/// Binds the listener (port 0 picks a free port) and builds the server; the caller awaits it.
pub fn build_server(node: Arc<Node>, listener: TcpListener) -> std::io::Result<Server> {
    build_server_with_tls(node, listener, None)
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
) -> std::io::Result<Server> {
    let data = web::Data::from(node);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(errors::refuse_nul_in_uri))
            .configure(routes)
    })
    .workers(workers);
    let server = match tls {
        None => server.listen(listener)?,
        Some(files) => {
            use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod};
            let bad = |what: &std::path::Path, e: openssl::error::ErrorStack| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{}: {e}", what.display()),
                )
            };
            let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
                .map_err(std::io::Error::other)?;
            acceptor
                .set_certificate_chain_file(&files.cert)
                .map_err(|e| bad(&files.cert, e))?;
            acceptor
                .set_private_key_file(&files.key, SslFiletype::PEM)
                .map_err(|e| bad(&files.key, e))?;
            acceptor
                .check_private_key()
                .map_err(|e| bad(&files.key, e))?;
            server.listen_openssl(listener, acceptor)?
        }
    };
    Ok(server.run())
}
