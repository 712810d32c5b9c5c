//! The tower layer: load before the handler, commit after it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use session_core::{Loaded, SessionConfig, SessionManager, SessionStore};
use tower_layer::Layer;
use tower_service::Service;

use crate::{convert, SessionError};

/// Adds sessions to every route below it.
///
/// ```
/// use axum::{routing::get, Router};
/// use adapter_axum::{MemoryStore, SessionConfig, SessionLayer};
///
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(SessionLayer::new(MemoryStore::default(), SessionConfig::default()));
/// ```
#[derive(Clone, Debug)]
pub struct SessionLayer {
    manager: Arc<SessionManager>,
}

impl SessionLayer {
    /// A layer over `store` with `config`.
    pub fn new(store: impl SessionStore, config: SessionConfig) -> Self {
        Self::from_manager(SessionManager::new(store, config))
    }

    /// A layer over a configured driver (a custom clock or id source).
    pub fn from_manager(manager: SessionManager) -> Self {
        Self {
            manager: Arc::new(manager),
        }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            manager: self.manager.clone(),
        }
    }
}

/// The service [`SessionLayer`] wraps around the routes.
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    manager: Arc<SessionManager>,
}

impl<S> Service<Request> for SessionService<S>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let manager = self.manager.clone();
        // The clone that was polled ready is the one that serves this call.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        Box::pin(async move {
            let session = match manager.load(convert::cookie_headers(req.headers())).await {
                Ok(Loaded::Active(session)) => session,
                Ok(Loaded::Redirect(to)) => return Ok(convert::redirect(to)),
                Err(e) => return Ok(SessionError::from(e).into_response()),
            };
            req.extensions_mut().insert(session.clone());
            let mut resp = inner.call(req).await?;
            match manager.commit(&session, resp.status().as_u16()).await {
                Ok(done) => convert::apply(&mut resp, done),
                // The change was not stored: say so rather than lose it.
                Err(e) => return Ok(SessionError::from(e).into_response()),
            }
            Ok(resp)
        })
    }
}
