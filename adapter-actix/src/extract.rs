//! Extractors: `Session`, `Flash`, `Cookies`.

use std::future::{ready, Ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::SessionError;

fn core_session(req: &HttpRequest) -> Result<session_core::Session, SessionError> {
    req.extensions()
        .get::<session_core::Session>()
        .cloned()
        .ok_or(SessionError::MissingMiddleware)
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

        impl FromRequest for $name {
            type Error = SessionError;
            type Future = Ready<Result<Self, SessionError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let make: fn(session_core::Session) -> $target = $make;
                ready(core_session(req).map(|s| Self(make(s))))
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
