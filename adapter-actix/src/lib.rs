//! # adapter-actix
//!
//! Sessions for [actix-web](https://docs.rs/actix-web) 4: a `Transform`
//! middleware, [`SessionMiddleware`], and the [`Session`], [`Flash`] and
//! [`Cookies`] extractors. All session logic lives in `session-core`; this
//! crate only moves headers.
//!
//! ```
//! use actix_web::{web, App};
//! use adapter_actix::{MemoryStore, Session, SessionConfig, SessionError, SessionMiddleware};
//!
//! async fn login(id: web::Path<String>, session: Session) -> Result<String, SessionError> {
//!     session.renew(); // a new id on login, against fixation
//!     session.insert("user", id.as_str())?;
//!     session.flash().set("notice", &format!("Welcome, {id}"))?;
//!     Ok(format!("User set to: {id}"))
//! }
//!
//! let app = App::new()
//!     .wrap(SessionMiddleware::new(MemoryStore::default(), SessionConfig::default()))
//!     .route("/login/{id}", web::get().to(login));
//! ```
//!
//! `HttpServer::new` builds one `App` per worker: make the middleware once
//! and clone it in, so every worker shares one store.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//! use adapter_actix::{MemoryStore, SessionConfig, SessionMiddleware};
//!
//! # fn main() -> std::io::Result<()> {
//! actix_web::rt::System::new().block_on(async {
//!     let sessions = SessionMiddleware::new(MemoryStore::default(), SessionConfig::default());
//!     HttpServer::new(move || {
//!         App::new()
//!             .wrap(sessions.clone())
//!             .route("/", web::get().to(|| async { "hello" }))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! })
//! # }
//! ```
//!
//! ## What the middleware does
//!
//! - Reads the `Cookie` headers and loads the session before the handler.
//! - A timed-out session is answered `303 See Other` to the configured
//!   location when [`OnTimeout::Redirect`] is set; the handler does not run.
//! - A store failure is answered `503` with a one-line body and logged.
//! - After the handler, commits the session; if that fails, the response
//!   is replaced by the error (no write is lost silently). An `Err` from an
//!   inner middleware passes through, uncommitted.
//! - Responses that set or clear the session cookie get
//!   `Cache-Control: no-store` unless the handler set its own; responses
//!   of handlers that used the session get `Vary: Cookie`.
//! - An extractor on a route without the middleware answers
//!   `500 Session error`; it does not panic.
//!
//! ## Moving from actix-session
//!
//! | actix-session (and actix-web-flash-messages) | adapter-actix |
//! |---|---|
//! | `SessionMiddleware::new(store, key)` | [`SessionMiddleware::new(store, SessionConfig::default())`](SessionMiddleware::new): no signing key, the id is 192 random bits; only the cookie store takes a secret |
//! | `SessionMiddleware::builder(store, key).cookie_name(..).cookie_secure(..).cookie_http_only(..).cookie_same_site(..).cookie_path(..).cookie_domain(..).build()` | [`SessionConfig::builder()`](SessionConfig::builder)`.cookie_name(..).secure(..).http_only(..).same_site(Some(..)).path(..).domain(..).build()?`, checked when built |
//! | `SessionLifecycle::BrowserSession` (`SessionLength::BrowserSession` before 0.7), `BrowserSession::state_ttl` | [`CookieLifetime::BrowserSession`] (the default) with `.idle_timeout(..)` |
//! | `PersistentSession::session_ttl` (`SessionLength::Predetermined`) | `.lifetime(`[`CookieLifetime::Persistent`]`)`: `Max-Age` follows the idle deadline |
//! | `TtlExtensionPolicy::OnEveryRequest` / `OnStateChanges` | `.touch_fraction(..)`: a cheap store touch once that fraction of the idle window has passed |
//! | none | `.absolute_timeout(Some(..))`, `.on_timeout(`[`OnTimeout::Redirect`]`(..))` |
//! | `storage::CookieSessionStore` | `session_store_cookie` (feature `cookie`): AES-256-GCM, key rotation |
//! | `storage::RedisSessionStore::new(url).await?` | `session_store_redis` (feature `redis`): `RedisStore::builder(url).build()?` |
//! | none | [`MemoryStore`] (feature `memory`, the default) |
//! | `session: Session`, `req.get_session()` | `session: `[`Session`] |
//! | `Session::get::<T>(key)?` | `Session::get::<T>(key)?` |
//! | `Session::insert(key, value)?` | `Session::insert(key, &value)?` |
//! | `Session::remove(key) -> Option<String>`, `remove_as::<T>` | `Session::remove(key) -> bool` (read it first with `get`) |
//! | `Session::clear()` | `Session::clear()`: a session left empty is deleted and its cookie expired |
//! | `Session::purge()` | `Session::destroy()` |
//! | `Session::renew()` | `Session::renew()` |
//! | `Session::status()` (`SessionStatus`) | none: the core decides what to commit; `Session::id()` tells a resumed session from a new one |
//! | `IncomingFlashMessages`, `FlashMessage::info(..).send()` | [`Flash`] or `session.flash()`: `set` (next request), `now` (this one), `get`, `keep`, `keep_all` |
//! | `SessionGetError`, `SessionInsertError` (500) | [`SessionError`]: 503 when the store is unreachable, 500 otherwise |
//! | `req.cookie(name)`, `HttpResponseBuilder::cookie(..)` | [`Cookies`] or `session.cookies()`: `get`, `add`, `remove`, every attribute |
//!
//! Behaviour that differs:
//!
//! - **A delta, not the whole state.** actix-session writes the whole map
//!   back when anything changed; here only the keys set and removed are
//!   committed, so two concurrent requests that change different keys both
//!   keep their change on server-side stores (the same key: last writer
//!   wins).
//! - **Renew writes first.** actix-session deletes the old state and then
//!   saves the new; here the new record is written before the old one is
//!   deleted, so a store failure in between never loses the session.
//! - **5xx does not commit.** actix-session saves whatever the response;
//!   here a 5xx response leaves the stored session as it was (see
//!   `commit_on_server_error`).
//! - **A failed commit is an error response**, never a success with a lost
//!   write; an unreachable store is `503`, not `500`.
//! - **Untouched sessions cost nothing**: a new session nothing was written
//!   to is never stored and gets no cookie; a read-only request rewrites
//!   nothing until a touch is due.
//! - **Secure, checked defaults**: `HttpOnly`, `Secure`, `SameSite=Lax`,
//!   `Path=/`, a 30-minute idle timeout (actix-session: a 1-day TTL), and
//!   configurations such as `SameSite=None` without `Secure` or a
//!   `__Host-` name with a `Domain` are refused when built.
//! - **Responses are marked**: `Cache-Control: no-store` when the session
//!   cookie changes and `Vary: Cookie` when the session was used.
//!
//! ## Crate features
//!
//! - `memory` (default): [`MemoryStore`].
//! - `cookie`: the sealed-cookie store, as `session_store_cookie`.
//! - `redis`: the Redis store, as `session_store_redis`;
//!   `redis-cluster` adds Redis Cluster.

mod convert;
mod error;
mod extract;
mod layer;

pub use error::SessionError;
pub use extract::{Cookies, Flash, Session};
pub use layer::{ResponseFuture, SessionMiddleware, SessionService};

pub use session_core;
pub use session_core::{
    Cookie, CookieLifetime, OnTimeout, SameSite, SessionConfig, SessionManager, SessionStore,
};

#[cfg(feature = "cookie")]
pub use session_store_cookie;
#[cfg(feature = "memory")]
pub use session_store_memory::{self, MemoryStore};
#[cfg(feature = "redis")]
pub use session_store_redis;
