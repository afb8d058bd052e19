//! HTTP answers for errors, in one place: every error leaves as
//! `{"error": {code, message_fr, message_en}}` with the status `public_error` chose, the
//! extractors' own failures (bad JSON, bad path, bad query) included.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use crate::error::ServiceError;
use crate::public_error::{self, PublicError};

/// Largest request body accepted; anything above gets 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// An error on its way to the client.
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

/// A JSON body that could not be read.
pub fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let public = match &err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            public_error::body_too_large(*limit)
        }
        JsonPayloadError::ContentType => public_error::not_json(),
        JsonPayloadError::Deserialize(e) => public_error::malformed_body(&e.to_string()),
        other => public_error::malformed_body(&other.to_string()),
    };
    ApiError(public).into()
}

/// A path segment that could not be read.
pub fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError(public_error::malformed_body(&err.to_string())).into()
}

/// A query string that could not be read.
pub fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError(public_error::malformed_body(&err.to_string())).into()
}

/// Refuses, before routing or authentication, an address whose path or query holds a NUL byte
/// (`%00`): no id or parameter contains one, and PostgreSQL cannot even compare such text.
pub async fn refuse_nul_in_uri(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let uri = req.uri().to_string();
    if uri.contains('\0') || uri.to_ascii_lowercase().contains("%00") {
        return Err(ApiError(public_error::malformed_body("NUL (%00) in the address")).into());
    }
    next.call(req).await
}

/// An address no route answers.
pub async fn no_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError(public_error::route_not_found()))
}

/// A wrong method on a known address: 405 with the methods it answers (`Allow`).
pub fn wrong_method(allow: &'static str) -> actix_web::Route {
    web::route().to(move || async move {
        HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, allow))
            .json(json!({ "error": public_error::method_not_allowed(allow) }))
    })
}

/// Makes every error answer the bilingual JSON, including those actix writes itself in plain
/// text (a body over the limit on a raw body, a payload cut short): a client reads one shape.
pub async fn bilingual_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<
        actix_web::body::EitherBody<impl actix_web::body::MessageBody, actix_web::body::BoxBody>,
    >,
    actix_web::Error,
> {
    // An error the inner layers return as `Err` is one of ours, already in JSON (the request
    // cannot be kept to rebuild it here: routing needs it unshared).
    let response = next.call(req).await?;
    if response.status().as_u16() < 400 || is_ours(response.headers()) {
        return Ok(response.map_into_left_body());
    }
    let status = response.status();
    let (request, _) = response.into_parts();
    let answer = HttpResponse::build(status)
        .json(json!({ "error": public_error::for_status(status.as_u16(), BODY_LIMIT) }));
    Ok(actix_web::dev::ServiceResponse::new(request, answer).map_into_right_body())
}

/// An answer a handler wrote itself: JSON, or the size a witness holds (C2SP tlog-witness's
/// 409 body, `text/x.tlog.size`, which the spec fixes).
fn is_ours(headers: &actix_web::http::header::HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes() == b"text/x.tlog.size"
    })
}
