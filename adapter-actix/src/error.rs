//! Session errors as actix-web responses.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// A session error, answered as a one-line `text/plain` response (503 when
/// the store is unreachable, 500 otherwise) and logged at error level.
///
/// Handlers return it with `?` from any session call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// An error from the session core or its store.
    #[error(transparent)]
    Session(#[from] session_core::SessionError),
    /// A `Session` extractor ran on a route without
    /// [`SessionMiddleware`](crate::SessionMiddleware).
    #[error("no SessionMiddleware on this route")]
    MissingMiddleware,
}

impl SessionError {
    fn parts(&self) -> (StatusCode, &'static str) {
        let (status, message) = match self {
            Self::Session(e) => (e.status(), e.public_message()),
            Self::MissingMiddleware => (500, "Session error"),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, message)
    }
}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, message) = self.parts();
        tracing::error!(error = %self, source = ?std::error::Error::source(self), "session request failed");
        text(status, message)
    }
}

/// A `text/plain` response.
pub(crate) fn text(status: StatusCode, body: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(body)
}
