//! Who is calling: a bearer token or a session cookie, checked for every request of a
//! protected scope before any extractor runs, so an unauthenticated caller learns nothing about
//! what its request would have done.

use actix_web::{FromRequest, HttpRequest, web};

use crate::authz::AuthUser;
use crate::error::ServiceError;
use crate::node::Node;
use crate::usecases::accounts::{self, SESSION_COOKIE};
use crate::usecases::tokens;

use super::blocking::blocking;
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
        (None, Some(cookie)) => blocking(move || accounts::session_user(&node, &cookie)).await?,
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
