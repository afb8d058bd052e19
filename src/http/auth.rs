//! Who is calling: a bearer token or a session cookie, checked for every request of a
//! protected scope before any extractor runs, so an unauthenticated caller learns nothing about
//! what its request would have done; and signing in and out (`/login`, `/logout`).

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::authz::AuthUser;
use crate::error::ServiceError;
use crate::node::Node;
use crate::public_error;
use crate::usecases::accounts::{self, SESSION_COOKIE, SESSION_SECONDS};
use crate::usecases::tokens;

use super::blocking::blocking;
use super::client::client_address;
use super::csrf;
use super::errors::ApiError;

/// The middleware that authenticates a protected scope.
pub async fn require_auth(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage as _;
    let node = req
        .app_data::<web::Data<Node>>()
        .map(|d| d.clone().into_inner());
    let token = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let Some(node) = node else {
        return Err(ApiError::from(ServiceError::Unavailable).into());
    };
    let user = match (token, session) {
        (Some(token), _) => blocking(move || tokens::authenticate(&node, &token)).await?,
        (None, Some(cookie)) => {
            // A cookie rides along with any request a browser makes, even one another site
            // asked for: a write on a cookie must come from this node's pages.
            let reads = matches!(req.method().as_str(), "GET" | "HEAD");
            if !reads && !csrf::same_origin(req.request()) {
                return Err(ApiError::from(ServiceError::CrossSite).into());
            }
            blocking(move || accounts::session_user(&node, &cookie)).await?
        }
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

/// What `/login` takes, as a form (the sign-in page, with its anti-CSRF token) or as JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginForm {
    login: String,
    password: String,
    #[serde(default)]
    csrf: Option<String>,
}

/// The session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS); an empty value
/// with no lifetime removes it.
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

/// The anti-CSRF cookie a form's token is compared with.
pub fn csrf_cookie(value: String, secure: bool) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::build(csrf::CSRF_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(actix_web::cookie::SameSite::Strict)
        .finish()
}

/// Reads `/login`'s body by its content type, every failure as the bilingual JSON error. A
/// form must carry the token of its anti-CSRF cookie; any login must come from this node's
/// origin or from a program (no `Origin`).
fn login_form(req: &HttpRequest, body: &[u8]) -> Result<LoginForm, ApiError> {
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let malformed =
        |e: &dyn std::fmt::Display| ApiError(public_error::malformed_body(&e.to_string()));
    if !csrf::same_origin(req) {
        return Err(ServiceError::CrossSite.into());
    }
    match kind.as_str() {
        "application/json" => serde_json::from_slice(body).map_err(|e| malformed(&e)),
        "application/x-www-form-urlencoded" => {
            let form: LoginForm = serde_urlencoded::from_bytes(body).map_err(|e| malformed(&e))?;
            if !csrf::form_token_matches(req, form.csrf.as_deref()) {
                return Err(ServiceError::CrossSite.into());
            }
            Ok(form)
        }
        _ => Err(ApiError(public_error::not_json())),
    }
}

/// `POST /login`: a session for a right login and password.
pub(super) async fn login(
    node: web::Data<Node>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let form = login_form(&req, &body)?;
    let client = client_address(&req);
    let secure = req.connection_info().scheme() == "https";
    let (user, cookie) =
        blocking(move || accounts::login(&node, &form.login, &form.password, &client)).await?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(cookie, SESSION_SECONDS, secure))
        .json(json!({"user": {"id": user.id, "name": user.name, "role": user.role, "agency": user.agency}})))
}

/// `POST /logout`: the node ends the session, and the browser forgets its cookie.
pub(super) async fn logout(
    node: web::Data<Node>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !csrf::same_origin(&req) {
        return Err(ServiceError::CrossSite.into());
    }
    let secure = req.connection_info().scheme() == "https";
    if let Some(cookie) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) {
        blocking(move || accounts::logout(&node, &cookie)).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie(String::new(), 0, secure))
        .finish())
}
