//! # session-core
//!
//! The sans-IO heart of the sessions workspace: ids, records, the
//! [`Session`] handle, flash, cookie attributes, expiry, the commit decision
//! and the [`SessionStore`] trait. No runtime, no network, no framework;
//! time comes in as an argument and ids from an injectable [`IdSource`].
//!
//! Most users never call this crate directly: they add one adapter
//! (`adapter-axum`, `adapter-actix`, `adapter-rocket`), which re-exports it.
//!
//! ## Layers
//!
//! - [`SessionCore`]: the machine. [`start`](SessionCore::start) reads the
//!   `Cookie` header, [`resume`](SessionCore::resume) builds the
//!   [`Session`] from the loaded [`Record`], [`finish`](SessionCore::finish)
//!   returns a [`Commit`]: the store write ([`Save`]), the delete, and the
//!   cookie.
//! - [`SessionManager`]: the driver. It runs the machine against a store
//!   and is the only reader of the [`Clock`].
//!
//! ## The canonical loop
//!
//! ```
//! use session_core::*;
//! # use std::sync::Mutex; use std::collections::HashMap;
//! # #[derive(Default)] struct Store(Mutex<HashMap<SessionId, Record>>);
//! # #[async_trait::async_trait] impl SessionStore for Store {
//! #   async fn load(&self, t: &str, now: Timestamp) -> Result<Option<Record>, StoreError> {
//! #     Ok(SessionId::parse(t).and_then(|id| self.0.lock().unwrap().get(&id).cloned()).filter(|r| r.is_kept_at(now))) }
//! #   async fn create(&self, r: &Record) -> Result<Option<String>, StoreError> {
//! #     self.0.lock().unwrap().insert(r.id, r.clone()); Ok(Some(r.id.to_string())) }
//! #   async fn update(&self, r: &Record, d: &Delta) -> Result<Option<String>, StoreError> {
//! #     let mut m = self.0.lock().unwrap(); let Some(s) = m.get_mut(&r.id) else { return Ok(None) };
//! #     s.apply(d, r); Ok(Some(r.id.to_string())) }
//! #   async fn touch(&self, r: &Record) -> Result<Option<String>, StoreError> { self.update(r, &Delta::default()).await }
//! #   async fn delete(&self, id: &SessionId) -> Result<(), StoreError> { self.0.lock().unwrap().remove(id); Ok(()) }
//! # }
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #   tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) }
//! # block_on(async {
//! let manager = SessionManager::new(Store::default(), SessionConfig::default());
//!
//! // Request 1: no cookie. The handler logs in.
//! let Loaded::Active(session) = manager.load([]).await? else { unreachable!() };
//! session.renew();
//! session.insert("user", "alice")?;
//! session.flash().set("notice", "Welcome, alice")?;
//! let done = manager.commit(&session, 200).await?;
//! let cookie = done.set_cookies[0].split(';').next().unwrap().to_owned();
//!
//! // Request 2: the cookie comes back; the flash is shown once.
//! let Loaded::Active(session) = manager.load([cookie.as_bytes()]).await? else { unreachable!() };
//! assert_eq!(session.get::<String>("user")?.as_deref(), Some("alice"));
//! assert_eq!(session.flash().get::<String>("notice")?.as_deref(), Some("Welcome, alice"));
//! let done = manager.commit(&session, 200).await?;
//! assert!(done.set_cookies.is_empty()); // same id, browser-session cookie
//!
//! // Request 3: the flash is gone.
//! let Loaded::Active(session) = manager.load([cookie.as_bytes()]).await? else { unreachable!() };
//! assert_eq!(session.flash().get::<String>("notice")?, None::<String>);
//! # let _ = manager.commit(&session, 200).await?;
//! # Ok::<(), SessionError>(()) }).unwrap();
//! ```
//!
//! ## Semantics worth knowing
//!
//! - A new session that nothing was written to is never stored and gets no
//!   cookie. An unknown, forged or malformed token gives a fresh session
//!   with a new id: a client can never choose its id.
//! - Changes are committed as a [`Delta`] of keys set and removed, so two
//!   concurrent requests that change different keys both keep their change
//!   on server-side stores. For the same key, the last writer wins.
//! - `renew` writes the new record before deleting the old one; `destroy`
//!   and a `clear` that leaves the session empty delete the record and
//!   expire the cookie.
//! - A read-only request rewrites nothing until a
//!   [touch fraction](SessionConfigBuilder::touch_fraction) of the idle
//!   window has passed; then the store gets a cheap `touch`.
//! - A 5xx response commits nothing unless
//!   [`commit_on_server_error`](SessionConfigBuilder::commit_on_server_error).
//! - A timed-out record is deleted and the request gets a fresh session, or
//!   a redirect ([`OnTimeout`]).
//!
//! MSRV: see `rust-version` in the workspace manifest.

mod clock;
mod committing;
mod config;
mod cookies;
mod data;
mod driver;
mod error;
mod id;
mod machine;
mod record;
mod session;
mod store;

pub use clock::{Clock, SystemClock, Timestamp};
pub use committing::Committing;
pub use config::{
    ConfigError, CookieLifetime, OnTimeout, SameSite, SessionConfig, SessionConfigBuilder,
    MAX_TIMEOUT, MIN_TIMED_OUT_GRACE,
};
pub use cookies::Cookies;
pub use data::DataMap;
pub use driver::{
    CommitNow, Committed, LoadNow, Loaded, PendingCommit, PendingLoad, Redirect, SessionManager,
};
pub use error::SessionError;
pub use id::{IdError, IdSource, RandomIds, SessionId, ID_BYTES, ID_CHARS};
pub use machine::{Commit, Resumed, Save, SessionCore, Start, TimedOut, MAX_TOKEN_LEN};
pub use record::{Data, DecodeError, Delta, Record, Value, RECORD_VERSION};
pub use session::{Flash, Session};
pub use store::{BoxError, SessionStore, StoreError, StoreErrorKind, Updated};

/// The `cookie` crate, for building response cookies.
pub use cookie;
pub use cookie::Cookie;
