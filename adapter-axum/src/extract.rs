//! Extractors: `Session`, `Flash`, `Cookies`.

use std::ops::Deref;

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::SessionError;

fn core_session(parts: &Parts) -> Result<session_core::Session, SessionError> {
    parts
        .extensions
        .get::<session_core::Session>()
        .cloned()
        .ok_or(SessionError::MissingLayer)
}

macro_rules! extractor {
    ($(#[$doc:meta])* $name:ident => $target:ty, $make:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(pub $target);

        impl Deref for $name {
            type Target = $target;
            fn deref(&self) -> &$target {
                &self.0
            }
        }

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = SessionError;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, SessionError> {
                let make: fn(session_core::Session) -> $target = $make;
                core_session(parts).map(|s| Self(make(s)))
            }
        }
    };
}

extractor!(
    /// The request's session: `get`, `insert`, `remove`, `clear`, `destroy`,
    /// `renew`, `flash()`, `cookies()` (see [`session_core::Session`]).
    Session => session_core::Session, |s| s
);
extractor!(
    /// The request's flash (see [`session_core::Flash`]).
    Flash => session_core::Flash, |s| s.flash()
);
extractor!(
    /// Plain request cookies, and cookies to set on the response with every
    /// attribute (see [`session_core::Cookies`]).
    Cookies => session_core::Cookies, |s| s.cookies()
);
