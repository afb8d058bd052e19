//! Use cases block (diesel, the sequencer's answer): handlers run them on actix's blocking
//! threads, and their errors come back as API errors.

use actix_web::web;

use crate::error::ServiceError;

use super::errors::ApiError;

/// Runs a use case off the async workers (diesel and the sequencer block).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f)
        .await
        .map_err(|_| ApiError::from(ServiceError::Unavailable))?
        .map_err(ApiError::from)
}
