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

/// An address no route answers.
pub async fn no_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError(public_error::route_not_found()))
}
