//! Bounds on what a client that has not signed in can hold: at most [`MAX_OPEN_REQUESTS`]
//! sign-in requests (`/login`, `/logout`, the only open routes that read a body) in flight at
//! once, each answered within [`OPEN_REQUEST_DEADLINE`], its body included; health checks stay
//! outside the bound, so a flood of sign-ins cannot make a node look dead. A thousand slow `POST /login` bodies once held
//! their connections for 30 s and multiplied `/healthz`'s latency by ten; now the extra ones are
//! refused at once (503) and the slow ones cut at the deadline (408). Authenticated routes are
//! bounded by who may call them.

use actix_web::web;
use std::time::Duration;

use crate::error::ServiceError;
use crate::public_error;

use super::errors::{ApiError, BODY_LIMIT};

/// Unauthenticated requests in flight at once, per server.
pub const MAX_OPEN_REQUESTS: usize = 256;
/// How long an unauthenticated request may take, reading its body included.
pub const OPEN_REQUEST_DEADLINE: Duration = Duration::from_secs(10);

/// The permits for unauthenticated requests, shared by the server's workers.
pub struct OpenRequests(tokio::sync::Semaphore);

impl Default for OpenRequests {
    fn default() -> Self {
        Self(tokio::sync::Semaphore::new(MAX_OPEN_REQUESTS))
    }
}

/// The middleware on the routes open to anyone.
pub async fn open_request_limits(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let gate = req.app_data::<web::Data<OpenRequests>>().cloned();
    let _permit = match &gate {
        Some(gate) => match gate.0.try_acquire() {
            Ok(permit) => Some(permit),
            Err(_) => return Err(ApiError::from(ServiceError::Unavailable).into()),
        },
        None => None,
    };
    match actix_web::rt::time::timeout(OPEN_REQUEST_DEADLINE, next.call(req)).await {
        Ok(answer) => answer,
        Err(_) => Err(ApiError(public_error::for_status(408, BODY_LIMIT)).into()),
    }
}
