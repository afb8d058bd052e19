//! Cross-site request forgery: a browser sends the session cookie with any request, even one a
//! hostile page makes it send. Three checks stop that, as OWASP's cheat sheet advises:
//! the cookies are `SameSite=Strict`; every write authenticated by a cookie must come from this
//! node's own origin (`Origin`, else `Sec-Fetch-Site`); and a form (`/login`) carries a token
//! that must equal its `scelle_csrf` cookie (double submit), which another site can neither read
//! nor set. Requests with a bearer token carry no ambient credential and are not checked.

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;

use crate::node::ids::random_bytes;

/// The cookie that holds a form's anti-CSRF token.
pub const CSRF_COOKIE: &str = "scelle_csrf";

/// A new anti-CSRF token (32 random bytes, base64url).
pub fn new_token() -> String {
    B64URL.encode(random_bytes::<32>())
}

/// The request's anti-CSRF cookie, if it holds a well-formed token.
pub fn cookie_token(req: &HttpRequest) -> Option<String> {
    req.cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43 && B64URL.decode(v).is_ok())
}

/// Whether a form's token equals the request's anti-CSRF cookie.
pub fn form_token_matches(req: &HttpRequest, field: Option<&str>) -> bool {
    match (cookie_token(req), field) {
        (Some(cookie), Some(field)) => {
            cookie.len() == field.len() && openssl::memcmp::eq(cookie.as_bytes(), field.as_bytes())
        }
        _ => false,
    }
}

/// Whether the request comes from a page of this node (or from no page at all: a program).
/// A browser names the page's origin in `Origin` on every cross-origin request and on every
/// POST; older ones send `Sec-Fetch-Site`. `Origin: null` (a sandboxed or file page) is never
/// this node.
pub fn same_origin(req: &HttpRequest) -> bool {
    let headers = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let host = req.connection_info().host().to_owned();
        let scheme = req.connection_info().scheme().to_owned();
        return origin.eq_ignore_ascii_case(&format!("{scheme}://{host}"));
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}
