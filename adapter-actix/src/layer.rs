//! The `Transform` middleware: load before the handler, commit after it.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{HttpMessage, ResponseError};
use session_core::{Loaded, SessionConfig, SessionManager, SessionStore};

use crate::{convert, SessionError};

/// Adds sessions to every route of the `App` or scope it wraps.
///
/// Cheap to clone: build one before `HttpServer::new` and clone it into
/// each worker's `App`, so that all workers share one store.
///
/// ```
/// use actix_web::{web, App};
/// use adapter_actix::{MemoryStore, SessionConfig, SessionMiddleware};
///
/// let sessions = SessionMiddleware::new(MemoryStore::default(), SessionConfig::default());
/// let app = App::new()
///     .wrap(sessions.clone())
///     .route("/", web::get().to(|| async { "hello" }));
/// ```
#[derive(Clone, Debug)]
pub struct SessionMiddleware {
    manager: Arc<SessionManager>,
}

impl SessionMiddleware {
    /// A middleware over `store` with `config`.
    pub fn new(store: impl SessionStore, config: SessionConfig) -> Self {
        Self::from_manager(SessionManager::new(store, config))
    }

    /// A middleware over a configured driver (a custom clock or id source).
    pub fn from_manager(manager: SessionManager) -> Self {
        Self {
            manager: Arc::new(manager),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionService<S>;
    type InitError = ();
    type Future = Ready<Result<SessionService<S>, ()>>;

    fn new_transform(&self, inner: S) -> Self::Future {
        ready(Ok(SessionService {
            inner: Rc::new(inner),
            manager: self.manager.clone(),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around the routes.
pub struct SessionService<S> {
    inner: Rc<S>,
    manager: Arc<SessionManager>,
}

impl<S> std::fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService")
            .field("manager", &self.manager)
            .finish_non_exhaustive()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = BoxFuture<Self::Response>;

    forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let manager = self.manager.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            let loaded = manager.load(convert::cookie_headers(req.headers())).await;
            let session = match loaded {
                Ok(Loaded::Active(session)) => session,
                Ok(Loaded::Redirect(to)) => {
                    return Ok(req
                        .into_response(convert::redirect(to))
                        .map_into_right_body())
                }
                Err(e) => {
                    let resp = SessionError::from(e).error_response();
                    return Ok(req.into_response(resp).map_into_right_body());
                }
            };
            req.extensions_mut().insert(session.clone());
            let mut res = inner.call(req).await?;
            match manager.commit(&session, res.status().as_u16()).await {
                Ok(done) => {
                    convert::apply(res.headers_mut(), done);
                    Ok(res.map_into_left_body())
                }
                // The change was not stored: say so rather than lose it.
                Err(e) => {
                    let resp = SessionError::from(e).error_response();
                    Ok(res.into_response(resp).map_into_right_body())
                }
            }
        })
    }
}
