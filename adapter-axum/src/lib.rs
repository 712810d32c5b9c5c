//! # adapter-axum
//!
//! Sessions for [axum](https://docs.rs/axum) 0.8: a tower [`SessionLayer`]
//! and the [`Session`], [`Flash`] and [`Cookies`] extractors. All session
//! logic lives in `session-core`; this crate only moves headers.
//!
//! ```
//! use axum::{extract::Path, routing::get, Router};
//! use adapter_axum::{MemoryStore, Session, SessionConfig, SessionError, SessionLayer};
//!
//! async fn login(Path(id): Path<String>, session: Session) -> Result<String, SessionError> {
//!     session.renew(); // a new id on login, against fixation
//!     session.insert("user", &id)?;
//!     session.flash().set("notice", &format!("Welcome, {id}"))?;
//!     Ok(format!("User set to: {id}"))
//! }
//!
//! let app: Router = Router::new()
//!     .route("/login/{id}", get(login))
//!     .layer(SessionLayer::new(MemoryStore::default(), SessionConfig::default()));
//! ```
//!
//! ## What the layer does
//!
//! - Reads the `Cookie` headers and loads the session before the handler.
//! - A timed-out session is answered `303 See Other` to the configured
//!   location when [`OnTimeout::Redirect`] is set; the handler does not run.
//! - A store failure is answered `503` with a one-line body and logged.
//! - After the handler, commits the session; if that fails, the response
//!   is replaced by the error (no write is lost silently).
//! - Responses that set or clear the session cookie get
//!   `Cache-Control: no-store` unless the handler set its own; responses
//!   of handlers that used the session get `Vary: Cookie`.
//!
//! ## One layer around the whole router
//!
//! `Router::layer` wraps every route in a boxed service of its own, so each
//! request pays one more boxed future and one more service clone. Wrapping
//! the finished router once behaves the same and skips both; call
//! `with_state` first so the routes are built once, not per request:
//!
//! ```
//! use axum::{routing::get, Router, ServiceExt};
//! use adapter_axum::{MemoryStore, SessionConfig, SessionLayer};
//! use tower_layer::Layer;
//!
//! let routes: Router = Router::new().route("/", get(|| async { "hello" }));
//! let layer = SessionLayer::new(MemoryStore::default(), SessionConfig::default());
//! let app = layer.layer(routes.with_state(()));
//! // axum::serve(listener, app.into_make_service())
//! # let _ = ServiceExt::<axum::extract::Request>::into_make_service(app);
//! ```
//!
//! ## Crate features
//!
//! - `memory` (default): [`MemoryStore`].
//! - `cookie`: the sealed-cookie store, as [`session_store_cookie`].
//! - `redis`: the Redis store, as [`session_store_redis`];
//!   `redis-cluster` adds Redis Cluster.

mod convert;
mod error;
mod extract;
mod layer;

pub use error::SessionError;
pub use extract::{Cookies, Flash, Session};
pub use layer::{ResponseFuture, SessionLayer, SessionService};

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
