//! HTTP answers for errors, in one place: every error leaves as
//! `{"error": {code, message_fr, message_en}}` with the status `public_error` chose, the
//! extractors' own failures (bad JSON, bad path, bad query) included.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use crate::error::ServiceError;
use crate::public_error::{self, PublicError};

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
