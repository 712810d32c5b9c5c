//! Session errors as rocket responses.

use std::io::Cursor;

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

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
    /// A session guard ran on a rocket without [`SessionFairing`](crate::SessionFairing).
    #[error("no SessionFairing attached to this rocket")]
    MissingFairing,
    /// The request has no session: it timed out or its store failed. The
    /// fairing answers with the timeout redirect or the store error instead.
    #[error("the session of this request could not be loaded")]
    NotLoaded,
}

impl SessionError {
    /// The status and the public one-line body, after logging the error.
    pub(crate) fn logged(&self) -> (Status, &'static str) {
        let (status, message) = match self {
            Self::Session(e) => (e.status(), e.public_message()),
            Self::MissingFairing | Self::NotLoaded => (500, "Session error"),
        };
        tracing::error!(error = %self, source = ?std::error::Error::source(self), "session request failed");
        (
            Status::from_code(status).unwrap_or(Status::InternalServerError),
            message,
        )
    }
}

impl<'r> Responder<'r, 'static> for SessionError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let (status, message) = self.logged();
        Ok(text(status, message))
    }
}

/// A `text/plain; charset=utf-8` response.
pub(crate) fn text(status: Status, body: &'static str) -> Response<'static> {
    Response::build()
        .status(status)
        .header(ContentType::Plain)
        .sized_body(body.len(), Cursor::new(body))
        .finalize()
}
