//! The HTTP API (actix-web): routes, extractors, and the mapping of errors to responses.
//!
//! Handlers only extract, call one use case on a blocking thread, and wrap the answer. The whole
//! route table is in [`routes`]. Every error leaves as `{"error": {code, message_fr, message_en}}`
//! with the status chosen in `errors.rs`.

use actix_web::dev::Server;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use serde::Deserialize;
use serde_json::json;
use std::net::TcpListener;
use std::sync::Arc;

use crate::core::model::{Jurisdiction, Purpose};
use crate::errors::{self, PublicError};
use crate::service::access::{NewAgency, NewPerson, NewShare, NewUser};
use crate::service::accounts::{SESSION_COOKIE, SESSION_SECONDS};
use crate::service::dossier::ExportOptions;
use crate::service::ledger::{NewCase, NewCustodyEvent, NewEvidence};
use crate::service::{Ledger, ServiceError, auth::AuthUser};

/// Largest request body accepted; anything above gets 413.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug)]
pub struct ApiError(pub PublicError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message_en)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Some(seconds) = self.0.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.json(json!({ "error": self.0 }))
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let public = PublicError::from(&e);
        if public.status >= 500 {
            tracing::error!(error = %e, "request failed");
        }
        ApiError(public)
    }
}

type ApiResult = Result<HttpResponse, ApiError>;

/// Runs a use case off the async workers (diesel and the sequencer block).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|_| ApiError::from(ServiceError::Unavailable))?
        .map_err(ApiError::from)
}

/// Authenticates every request of a protected scope before any extractor runs, so that an
/// unauthenticated caller learns nothing about what its request would have done.
async fn require_auth(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage as _;
    let ledger = req
        .app_data::<web::Data<Ledger>>()
        .map(|d| d.clone().into_inner());
    let token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let Some(ledger) = ledger else {
        return Err(ApiError::from(ServiceError::Unavailable).into());
    };
    let user = match (token, session) {
        (Some(token), _) => blocking(move || ledger.authenticate(&token)).await?,
        (None, Some(cookie)) => blocking(move || ledger.session_user(&cookie)).await?,
        (None, None) => return Err(ApiError::from(ServiceError::Unauthenticated).into()),
    };
    req.extensions_mut().insert(user);
    next.call(req).await
}

/// The authenticated caller, placed in the request by [`require_auth`].
pub struct Caller(pub AuthUser);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        use actix_web::HttpMessage as _;
        let user = req.extensions().get::<AuthUser>().cloned();
        std::future::ready(
            user.map(Caller)
                .ok_or_else(|| ServiceError::Unauthenticated.into()),
        )
    }
}

fn created(
    key: &str,
    object: impl serde::Serialize,
    receipt: impl serde::Serialize,
) -> HttpResponse {
    HttpResponse::Created().json(json!({ key: object, "receipt": receipt }))
}

async fn open_case(
    ledger: web::Data<Ledger>,
    caller: Caller,
    body: web::Json<NewCase>,
) -> ApiResult {
    let (case, receipt) = blocking(move || ledger.open_case(&caller.0, body.into_inner())).await?;
    Ok(created("case", case, receipt))
}

#[derive(Deserialize)]
struct CaseQuery {
    reference: String,
    purpose: Option<String>,
}

/// The stated purpose of a read (`?purpose=`), checked against the known purposes.
fn purpose_of(text: Option<&str>) -> Result<Option<Purpose>, ApiError> {
    text.map(Purpose::parse)
        .transpose()
        .map_err(|e| ApiError::from(ServiceError::Field(e)))
}

#[derive(Deserialize)]
struct PurposeQuery {
    purpose: Option<String>,
}

async fn find_case(
    ledger: web::Data<Ledger>,
    caller: Caller,
    q: web::Query<CaseQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let case = blocking(move || ledger.case_by_reference(&caller.0, &q.reference, purpose)).await?;
    Ok(HttpResponse::Ok().json(case))
}

async fn get_case(
    ledger: web::Data<Ledger>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<PurposeQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let case = blocking(move || ledger.case(&caller.0, &id, purpose)).await?;
    Ok(HttpResponse::Ok().json(case))
}

#[derive(Deserialize)]
struct DossierQuery {
    /// Include personal-data openings (default: when a purpose is stated).
    personal_data: Option<bool>,
    purpose: Option<String>,
    /// A signed checkpoint the caller already holds (URL-encoded note text).
    since_checkpoint: Option<String>,
}

async fn case_dossier(
    ledger: web::Data<Ledger>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<DossierQuery>,
) -> ApiResult {
    let q = q.into_inner();
    let purpose = purpose_of(q.purpose.as_deref())?;
    let opts = ExportOptions {
        personal_data: q.personal_data.unwrap_or(purpose.is_some()),
        since_checkpoint: q.since_checkpoint,
    };
    let dossier =
        blocking(move || ledger.export_dossier_for(&caller.0, &id, &opts, purpose)).await?;
    Ok(HttpResponse::Ok().json(dossier))
}

async fn add_person(
    ledger: web::Data<Ledger>,
    caller: Caller,
    case_id: web::Path<String>,
    body: web::Json<NewPerson>,
) -> ApiResult {
    let (person, receipt) =
        blocking(move || ledger.add_person(&caller.0, &case_id, body.into_inner())).await?;
    Ok(created("person", person, receipt))
}

async fn case_persons(
    ledger: web::Data<Ledger>,
    caller: Caller,
    case_id: web::Path<String>,
    q: web::Query<PurposeQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let persons = blocking(move || ledger.persons_of_case(&caller.0, &case_id, purpose)).await?;
    Ok(HttpResponse::Ok().json(json!({ "persons": persons })))
}

async fn get_person(
    ledger: web::Data<Ledger>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<PurposeQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let person = blocking(move || ledger.person(&caller.0, &id, purpose)).await?;
    Ok(HttpResponse::Ok().json(person))
}

async fn share_case(
    ledger: web::Data<Ledger>,
    caller: Caller,
    case_id: web::Path<String>,
    body: web::Json<NewShare>,
) -> ApiResult {
    let (share, receipt) =
        blocking(move || ledger.share_case(&caller.0, &case_id, body.into_inner())).await?;
    Ok(created("share", share, receipt))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevocationBody {
    reason: String,
}

async fn revoke_share(
    ledger: web::Data<Ledger>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<RevocationBody>,
) -> ApiResult {
    let (case_id, share_id) = path.into_inner();
    let (revocation, receipt) =
        blocking(move || ledger.revoke_share(&caller.0, &case_id, &share_id, &body.reason)).await?;
    Ok(created("revocation", revocation, receipt))
}

#[derive(Deserialize)]
struct AccessQuery {
    case: Option<String>,
    user: Option<String>,
    limit: Option<i64>,
}

async fn access_records(
    ledger: web::Data<Ledger>,
    caller: Caller,
    q: web::Query<AccessQuery>,
) -> ApiResult {
    let q = q.into_inner();
    let rows = blocking(move || {
        ledger.access_records(&caller.0, q.case.as_deref(), q.user.as_deref(), q.limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "records": rows })))
}

async fn create_user(
    ledger: web::Data<Ledger>,
    caller: Caller,
    body: web::Json<NewUser>,
) -> ApiResult {
    let (user, token) = blocking(move || ledger.create_user(&caller.0, body.into_inner())).await?;
    Ok(HttpResponse::Created().json(json!({
        "user": {"id": user.id, "name": user.name, "role": user.role, "agency": user.agency_id},
        "token": token,
    })))
}

async fn create_agency(
    ledger: web::Data<Ledger>,
    caller: Caller,
    body: web::Json<NewAgency>,
) -> ApiResult {
    let id = body.id.to_ascii_lowercase();
    let receipt = blocking(move || ledger.create_agency(&caller.0, body.into_inner())).await?;
    Ok(created("agency", json!({"id": id}), receipt))
}

#[derive(Deserialize)]
struct RetentionQuery {
    dry_run: Option<bool>,
}

async fn run_retention(
    ledger: web::Data<Ledger>,
    caller: Caller,
    q: web::Query<RetentionQuery>,
) -> ApiResult {
    let dry_run = q.dry_run.unwrap_or(false);
    let report = blocking(move || ledger.run_retention(Some(&caller.0), dry_run)).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize)]
struct DpoQuery {
    state: Option<String>,
}

async fn dpo_report(
    ledger: web::Data<Ledger>,
    caller: Caller,
    q: web::Query<DpoQuery>,
) -> ApiResult {
    let state = match &q.state {
        Some(s) => Jurisdiction::parse(s).map_err(|e| ApiError::from(ServiceError::Field(e)))?,
        None => ledger.node_state(),
    };
    let report = blocking(move || ledger.dpo_report(Some(&caller.0), state)).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
}

/// The sign-in page (French first, English beside it).
async fn login_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        ))
        .body(LOGIN_PAGE)
}

const LOGIN_PAGE: &str = r#"<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Scellé — Connexion / Sign in</title>
<style>body{font-family:sans-serif;max-width:28em;margin:4em auto}label{display:block;margin:.8em 0}input{width:100%;padding:.4em}</style>
</head><body>
<h1>Scellé</h1>
<form method="post" action="/login">
<label>Identifiant <span lang="en">/ Login</span><input name="login" autocomplete="username" required></label>
<label>Mot de passe <span lang="en">/ Password</span><input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Se connecter / Sign in</button>
</form></body></html>"#;

fn session_cookie(
    value: String,
    max_age_secs: i64,
    secure: bool,
) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(actix_web::cookie::SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age_secs))
        .finish()
}

async fn login(
    ledger: web::Data<Ledger>,
    req: HttpRequest,
    form: web::Either<web::Form<LoginForm>, web::Json<LoginForm>>,
) -> ApiResult {
    let form = match form {
        web::Either::Left(f) => f.into_inner(),
        web::Either::Right(j) => j.into_inner(),
    };
    let client = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let secure = req.connection_info().scheme() == "https";
    let (user, cookie) =
        blocking(move || ledger.login(&form.login, &form.password, &client)).await?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(cookie, SESSION_SECONDS, secure))
        .json(json!({"user": {"id": user.id, "name": user.name, "role": user.role, "agency": user.agency}})))
}

async fn logout(req: HttpRequest) -> HttpResponse {
    let secure = req.connection_info().scheme() == "https";
    HttpResponse::NoContent()
        .cookie(session_cookie(String::new(), 0, secure))
        .finish()
}

#[derive(Deserialize)]
struct ErasureBody {
    legal_reason: String,
}

async fn erase_vault_record(
    ledger: web::Data<Ledger>,
    caller: Caller,
    record: web::Path<String>,
    body: web::Json<ErasureBody>,
) -> ApiResult {
    let (erasure, receipt) =
        blocking(move || ledger.erase(&caller.0, &record, &body.legal_reason)).await?;
    Ok(created("erasure", erasure, receipt))
}

async fn register_evidence(
    ledger: web::Data<Ledger>,
    caller: Caller,
    case_id: web::Path<String>,
    body: web::Json<NewEvidence>,
) -> ApiResult {
    let (item, receipt) =
        blocking(move || ledger.register_evidence(&caller.0, &case_id, body.into_inner())).await?;
    Ok(created("evidence", item, receipt))
}

async fn get_evidence(
    ledger: web::Data<Ledger>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<PurposeQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let item = blocking(move || ledger.evidence(&caller.0, &id, purpose)).await?;
    Ok(HttpResponse::Ok().json(item))
}

#[derive(Deserialize)]
struct EvidenceQuery {
    sha256: String,
}

async fn find_evidence(
    ledger: web::Data<Ledger>,
    caller: Caller,
    q: web::Query<EvidenceQuery>,
) -> ApiResult {
    let items = blocking(move || ledger.evidence_by_sha256(&caller.0, &q.sha256)).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

async fn record_event(
    ledger: web::Data<Ledger>,
    caller: Caller,
    item_id: web::Path<String>,
    body: web::Json<NewCustodyEvent>,
) -> ApiResult {
    // The checks and the sealing run on a blocking thread; the wait for the durable batch holds
    // none, so requests in flight cost the sequencer's wake-up of this worker, not a thread each.
    let submitted =
        blocking(move || ledger.submit_event(&caller.0, &item_id, body.into_inner())).await?;
    let (event, receipt) = submitted.recorded().await?;
    Ok(created("event", event, receipt))
}

async fn checkpoint(ledger: web::Data<Ledger>, caller: Caller) -> ApiResult {
    let note = blocking(move || {
        ledger.may_read_log(&caller.0)?;
        ledger.latest_checkpoint()
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body(note))
}

async fn entry(ledger: web::Data<Ledger>, caller: Caller, seq: web::Path<u64>) -> ApiResult {
    let body = blocking(move || {
        ledger.may_read_log(&caller.0)?;
        ledger.entry(*seq)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}

#[derive(Deserialize)]
struct InclusionQuery {
    seq: u64,
    size: u64,
}

async fn inclusion(
    ledger: web::Data<Ledger>,
    caller: Caller,
    q: web::Query<InclusionQuery>,
) -> ApiResult {
    let proof = blocking(move || {
        ledger.may_read_log(&caller.0)?;
        ledger.inclusion_proof(q.seq, q.size)
    })
    .await?;
    Ok(HttpResponse::Ok().json(proof))
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    from: u64,
    to: u64,
}

async fn consistency(
    ledger: web::Data<Ledger>,
    caller: Caller,
    q: web::Query<ConsistencyQuery>,
) -> ApiResult {
    let proof = blocking(move || {
        ledger.may_read_log(&caller.0)?;
        ledger.consistency_proof(q.from, q.to)
    })
    .await?;
    Ok(HttpResponse::Ok().json(proof))
}

async fn healthz(ledger: web::Data<Ledger>) -> ApiResult {
    let size = blocking(move || ledger.log_size()).await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "log_size": size })))
}

async fn no_route() -> ApiResult {
    Err(ApiError(errors::route_not_found()))
}

fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let public = match &err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => errors::body_too_large(*limit),
        JsonPayloadError::ContentType => PublicError::new(
            415,
            "unsupported_media_type",
            "Le corps doit être du JSON (Content-Type: application/json).",
            "The body must be JSON (Content-Type: application/json).",
        ),
        JsonPayloadError::Deserialize(e) => errors::malformed_body(&e.to_string()),
        other => errors::malformed_body(&other.to_string()),
    };
    ApiError(public).into()
}

fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError(errors::malformed_body(&err.to_string())).into()
}

fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError(errors::malformed_body(&err.to_string())).into()
}

/// The whole route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(BODY_LIMIT)
            .error_handler(json_error),
    )
    .app_data(web::PathConfig::default().error_handler(path_error))
    .app_data(web::QueryConfig::default().error_handler(query_error))
    .app_data(web::PayloadConfig::default().limit(BODY_LIMIT))
    .route("/healthz", web::get().to(healthz))
    .route("/login", web::get().to(login_page))
    .route("/login", web::post().to(login))
    .route("/logout", web::post().to(logout))
    .service(
        web::scope("/api/v1")
            .wrap(actix_web::middleware::from_fn(require_auth))
            .route("/cases", web::post().to(open_case))
            .route("/cases", web::get().to(find_case))
            .route("/cases/{id}", web::get().to(get_case))
            .route("/cases/{id}/dossier", web::get().to(case_dossier))
            .route("/cases/{id}/evidence", web::post().to(register_evidence))
            .route("/cases/{id}/persons", web::post().to(add_person))
            .route("/cases/{id}/persons", web::get().to(case_persons))
            .route("/cases/{id}/shares", web::post().to(share_case))
            .route(
                "/cases/{id}/shares/{share}/revocation",
                web::post().to(revoke_share),
            )
            .route("/persons/{id}", web::get().to(get_person))
            .route("/access-records", web::get().to(access_records))
            .route("/users", web::post().to(create_user))
            .route("/agencies", web::post().to(create_agency))
            .route("/retention/run", web::post().to(run_retention))
            .route("/dpo/report", web::get().to(dpo_report))
            .route("/evidence", web::get().to(find_evidence))
            .route("/evidence/{id}", web::get().to(get_evidence))
            .route("/evidence/{id}/events", web::post().to(record_event))
            .route(
                "/vault/{record}/erasure",
                web::post().to(erase_vault_record),
            ),
    )
    .service(
        web::scope("/log")
            .wrap(actix_web::middleware::from_fn(require_auth))
            .route("/checkpoint", web::get().to(checkpoint))
            .route("/entries/{seq}", web::get().to(entry))
            .route("/proof/inclusion", web::get().to(inclusion))
            .route("/proof/consistency", web::get().to(consistency)),
    )
    .default_service(web::to(no_route));
}

/// Binds the listener (port 0 picks a free port) and builds the server; the caller awaits it.
pub fn build_server(ledger: Arc<Ledger>, listener: TcpListener) -> std::io::Result<Server> {
    build_server_with_tls(ledger, listener, None)
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
    ledger: Arc<Ledger>,
    listener: TcpListener,
    tls: Option<&TlsFiles>,
) -> std::io::Result<Server> {
    let data = web::Data::from(ledger);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
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
