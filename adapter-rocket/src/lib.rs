//! # adapter-rocket
//!
//! Sessions for [rocket](https://docs.rs/rocket) 0.5: the [`SessionFairing`]
//! and the [`Session`], [`Flash`] and [`Cookies`] request guards. All
//! session logic lives in `session-core`; this crate only moves headers.
//!
//! ```
//! use rocket::{get, routes};
//! use adapter_rocket::{MemoryStore, Session, SessionConfig, SessionError, SessionFairing};
//!
//! #[get("/login/<id>")]
//! fn login(id: &str, session: Session) -> Result<String, SessionError> {
//!     session.renew(); // a new id on login, against fixation
//!     session.insert("user", id)?;
//!     session.flash().set("notice", &format!("Welcome, {id}"))?;
//!     Ok(format!("User set to: {id}"))
//! }
//!
//! let rocket = rocket::build()
//!     .mount("/", routes![login])
//!     .attach(SessionFairing::new(MemoryStore::default(), SessionConfig::default()));
//! ```
//!
//! ## What the fairing does
//!
//! - Reads the `Cookie` headers and loads the session before routing.
//! - A timed-out session is answered `303 See Other` to the configured
//!   location when [`OnTimeout::Redirect`] is set.
//! - A store failure is answered `503` with a one-line body and logged.
//! - After the handler, commits the session; if that fails, the response
//!   is replaced by the error (no write is lost silently).
//! - Responses that set or clear the session cookie get
//!   `Cache-Control: no-store` unless the handler set its own; responses
//!   of handlers that used the session get `Vary: Cookie`.
//!
//! A fairing cannot answer a request by itself. On a timeout or a store
//! failure the session guards fail, so no handler that takes a session
//! runs, and the fairing replaces whatever answered (a catcher, or a route
//! without a session guard) with the `303` or the error. A replaced
//! response keeps only the headers rocket adds to every response (`Server`
//! and the [`Shield`](rocket::shield::Shield)'s); attach fairings that add
//! headers of their own after this one.
//!
//! ## Guards
//!
//! [`Session`], [`Flash`] and [`Cookies`] deref to the core's
//! [`session_core::Session`], [`session_core::Flash`] and
//! [`session_core::Cookies`]; all three are clones of one session. Your own
//! guards build on them with `request.guard::<Session>().await`. A route
//! that takes one of them on a rocket without the fairing stops the launch
//! (a [`Sentinel`](rocket::Sentinel)); a guard that slipped past the
//! sentinel (called from another guard) fails with a 500.
//!
//! ## Coming from rocket's private cookies and `Flash`
//!
//! Rocket's private cookies (the `secrets` feature, `secret_key`) seal each
//! value into its own cookie: the data travels with every request, cannot
//! be revoked, has no idle timeout and no id to renew on login. Rocket's
//! [`Flash`](rocket::response::Flash) responder and
//! [`FlashMessage`](rocket::request::FlashMessage) guard use a plain
//! `_flash` cookie that is **neither signed nor encrypted**: a client can
//! forge any flash message. Here the flash lives in the session, on the
//! server (or sealed with the cookie store), and the session cookie is
//! `HttpOnly`, `Secure`, `SameSite=Lax` by default. No `secret_key` is
//! needed (the cookie store takes its own key).
//!
//! | rocket | adapter-rocket |
//! |---|---|
//! | `secret_key` + the `secrets` feature | a store and a [`SessionConfig`] on [`SessionFairing::new`] |
//! | `jar: &CookieJar<'_>` | `session: Session`, `cookies: Cookies` |
//! | `jar.add_private(("user", id))` | `session.insert("user", &id)?` |
//! | `jar.get_private("user").map(\|c\| c.value().to_owned())` | `session.get::<String>("user")?` |
//! | `jar.remove_private("user")` | `session.remove("user")` |
//! | remove every private cookie | `session.destroy()` |
//! | (none) | `session.renew()` on login, `session.clear()` |
//! | `jar.add(Cookie::build(("k", "v")).path("/"))` | `cookies.add(Cookie::build(("k", "v")).path("/").build())?` |
//! | `jar.get("k").map(\|c\| c.value())` | `cookies.get("k")` |
//! | `jar.remove("k")` | `cookies.remove(Cookie::build("k").path("/").build())?` |
//! | `Flash::success(Redirect::to("/"), "Saved")` | `flash.set("notice", "Saved")?; Redirect::to("/")` |
//! | `flash: Option<FlashMessage<'_>>`, `flash.message()` | `flash: Flash`, `flash.get::<String>("notice")?` |
//! | (none) | `flash.now(..)` (this request only), `flash.keep(..)` |
//!
//! ```
//! use rocket::{get, response::Redirect};
//! use adapter_rocket::{Cookie, Cookies, Flash, Session, SessionError};
//!
//! #[get("/save")]
//! fn save(session: Session) -> Result<Redirect, SessionError> {
//!     session.insert("draft", "text")?; // was: jar.add_private(..)
//!     session.flash().set("notice", "Saved")?; // was: Flash::success(..)
//!     Ok(Redirect::to("/"))
//! }
//!
//! #[get("/")]
//! fn show(flash: Flash, cookies: Cookies) -> Result<String, SessionError> {
//!     let notice: Option<String> = flash.get("notice")?; // was: FlashMessage
//!     cookies.add(Cookie::build(("seen", "1")).path("/").build())?; // was: jar.add(..)
//!     Ok(notice.unwrap_or_default())
//! }
//! ```
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
pub use layer::SessionFairing;

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
