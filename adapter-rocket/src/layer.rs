//! The fairing: load on request, commit on response.

use std::sync::{Arc, OnceLock};

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::Status;
use rocket::{Build, Data, Ignite, Request, Response, Rocket};
use session_core::{Loaded, Redirect, SessionConfig, SessionManager, SessionStore};

use crate::{convert, SessionError};

/// Adds sessions to every route of a rocket.
///
/// On each request it reads the `Cookie` headers and loads the session
/// before routing; the guards hand it to handlers. On each response it
/// commits the session and writes `Set-Cookie`, `Cache-Control` and `Vary`.
///
/// A fairing cannot answer a request itself, so when the session timed out
/// or the store failed, every session guard fails (the handler does not
/// run) and the response, whatever produced it, is replaced by the `303`
/// or the error. It is a singleton: attaching another replaces it.
///
/// ```
/// use adapter_rocket::{MemoryStore, SessionConfig, SessionFairing};
///
/// let rocket = rocket::build()
///     .attach(SessionFairing::new(MemoryStore::default(), SessionConfig::default()));
/// ```
#[derive(Clone, Debug)]
pub struct SessionFairing {
    manager: Arc<SessionManager>,
}

impl SessionFairing {
    /// A fairing over `store` with `config`.
    pub fn new(store: impl SessionStore, config: SessionConfig) -> Self {
        Self::from_manager(SessionManager::new(store, config))
    }

    /// A fairing over a configured driver (a custom clock or id source).
    pub fn from_manager(manager: SessionManager) -> Self {
        Self {
            manager: Arc::new(manager),
        }
    }
}

/// What `on_request` found, for the guards and `on_response`.
pub(crate) enum State {
    Active(session_core::Session),
    Redirect(Redirect),
    Failed(Status, &'static str),
}

/// The request-local cache slot; empty when the fairing did not run. A
/// `OnceLock`, so a guard that runs before the fairing (from an earlier
/// fairing) cannot keep it empty.
#[derive(Default)]
pub(crate) struct Slot(pub(crate) OnceLock<State>);

/// Managed state that tells the guards' sentinels the fairing is attached.
struct Attached;

/// True (abort launch) when a session guard is used on a rocket without
/// the fairing.
pub(crate) fn missing(rocket: &Rocket<Ignite>) -> bool {
    let missing = rocket.state::<Attached>().is_none();
    if missing {
        tracing::error!("a session guard is used but SessionFairing is not attached");
    }
    missing
}

#[rocket::async_trait]
impl Fairing for SessionFairing {
    fn info(&self) -> Info {
        Info {
            name: "Sessions",
            kind: Kind::Ignite | Kind::Request | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        match rocket.state::<Attached>() {
            Some(_) => Ok(rocket),
            None => Ok(rocket.manage(Attached)),
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let state = match self.manager.load(convert::cookie_headers(req)).await {
            Ok(Loaded::Active(session)) => State::Active(session),
            Ok(Loaded::Redirect(to)) => State::Redirect(to),
            Err(e) => {
                let (status, message) = SessionError::from(e).logged();
                State::Failed(status, message)
            }
        };
        let _ = req.local_cache(Slot::default).0.set(state);
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, resp: &mut Response<'r>) {
        match req.local_cache(Slot::default).0.get() {
            None => {}
            Some(State::Active(session)) => {
                match self.manager.commit(session, resp.status().code).await {
                    Ok(done) => convert::apply(resp, done),
                    // The change was not stored: say so rather than lose it.
                    Err(e) => {
                        let (status, message) = SessionError::from(e).logged();
                        convert::replace(resp, status, message);
                    }
                }
            }
            Some(State::Redirect(to)) => convert::redirect(resp, to),
            Some(State::Failed(status, message)) => convert::replace(resp, *status, message),
        }
    }
}
