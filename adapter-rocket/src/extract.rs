//! Request guards: `Session`, `Flash`, `Cookies`.

use std::ops::Deref;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Ignite, Rocket, Sentinel};

use crate::layer::{Slot, State};
use crate::SessionError;

fn core_session(req: &Request<'_>) -> Outcome<session_core::Session, SessionError> {
    match req.local_cache(Slot::default).0.get() {
        Some(State::Active(session)) => Outcome::Success(session.clone()),
        // The fairing replaces whatever answers this with the 303 or the error.
        Some(State::Redirect(_)) => Outcome::Error((Status::SeeOther, SessionError::NotLoaded)),
        Some(State::Failed(status, _)) => Outcome::Error((*status, SessionError::NotLoaded)),
        None => Outcome::Error((Status::InternalServerError, SessionError::MissingFairing)),
    }
}

macro_rules! guard {
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

        #[rocket::async_trait]
        impl<'r> FromRequest<'r> for $name {
            type Error = SessionError;

            async fn from_request(req: &'r Request<'_>) -> Outcome<Self, SessionError> {
                let make: fn(session_core::Session) -> $target = $make;
                core_session(req).map(|s| Self(make(s)))
            }
        }

        /// Refuses to launch a rocket that uses this guard without
        /// [`SessionFairing`](crate::SessionFairing).
        impl Sentinel for $name {
            fn abort(rocket: &Rocket<Ignite>) -> bool {
                crate::layer::missing(rocket)
            }
        }
    };
}

guard!(
    /// The request's session: `get`, `insert`, `remove`, `clear`, `destroy`,
    /// `renew`, `flash()`, `cookies()` (see [`session_core::Session`]).
    Session => session_core::Session, |s| s
);
guard!(
    /// The request's flash (see [`session_core::Flash`]).
    Flash => session_core::Flash, |s| s.flash()
);
guard!(
    /// Plain request cookies, and cookies to set on the response with every
    /// attribute (see [`session_core::Cookies`]).
    Cookies => session_core::Cookies, |s| s.cookies()
);
