//! Session errors as axum responses.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

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
    /// A `Session` extractor ran on a route without [`SessionLayer`](crate::SessionLayer).
    #[error("no SessionLayer on this route")]
    MissingLayer,
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Self::Session(e) => (e.status(), e.public_message()),
            Self::MissingLayer => (500, "Session error"),
        };
        tracing::error!(error = %self, source = ?std::error::Error::source(&self), "session request failed");
        text(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message,
        )
    }
}

/// A `text/plain` response.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
