//! The `Transform` middleware: load before the handler, commit after it.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{HttpMessage, ResponseError};
use pin_project_lite::pin_project;
use session_core::{
    Committed, Committing, LoadNow, Loaded, Redirect, SessionConfig, SessionError as CoreError,
    SessionManager, SessionStore,
};

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

pin_project! {
    /// The response future of [`SessionService`].
    ///
    /// When the store answers at once (reads and updates on the memory
    /// and cookie stores) the session is loaded in `call` and committed as
    /// the handler's future completes, with no allocation of its own. A
    /// store call that must be awaited (Redis, and on every store a new
    /// session's create, a touch, a delete) runs in a boxed future.
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Handler {
            #[pin]
            future: Committing<F, ServiceResponse<B>>,
        },
        Waiting {
            future: BoxFuture<ServiceResponse<EitherBody<B>>>,
        },
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = ResponseFuture<S::Future, B>;

    forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Built in place: the handler future is large, and a `let` then
        // a struct literal moved it once more (a memcpy per request).
        ResponseFuture {
            state: match self
                .manager
                .load_now(convert::cookie_headers(req.headers()))
            {
                LoadNow::Done(Ok(Loaded::Active(session))) => {
                    req.extensions_mut().insert(session.clone());
                    State::Handler {
                        future: self
                            .manager
                            .commit_after(session, self.inner.call(req), status),
                    }
                }
                // Rare answers without the handler: boxed like the waiting path.
                LoadNow::Done(Ok(Loaded::Redirect(to))) => answered(redirected(req, to)),
                LoadNow::Done(Err(e)) => answered(failed(req, e)),
                LoadNow::Pending(pending) => {
                    let manager = self.manager.clone();
                    let inner = self.inner.clone();
                    State::Waiting {
                        future: Box::pin(async move {
                            let session = match manager.finish_load(pending).await {
                                Ok(Loaded::Active(session)) => session,
                                Ok(Loaded::Redirect(to)) => return Ok(redirected(req, to)),
                                Err(e) => return Ok(failed(req, e)),
                            };
                            req.extensions_mut().insert(session.clone());
                            let res = inner.call(req).await?;
                            let done = manager.commit(&session, status(&res)).await;
                            Ok(committed(res, done))
                        }),
                    }
                }
            },
        }
    }
}

impl<F, B> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    B: MessageBody + 'static,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Handler { future } => {
                let (res, done) = ready!(future.poll(cx))?;
                Poll::Ready(Ok(committed(res, done)))
            }
            StateProj::Waiting { future } => future.as_mut().poll(cx),
        }
    }
}

fn answered<F, B: 'static>(res: ServiceResponse<EitherBody<B>>) -> State<F, B> {
    State::Waiting {
        future: Box::pin(std::future::ready(Ok(res))),
    }
}

fn status<B>(res: &ServiceResponse<B>) -> u16 {
    res.status().as_u16()
}

/// The timeout redirect in place of the handler's answer.
fn redirected<B>(req: ServiceRequest, to: Redirect) -> ServiceResponse<EitherBody<B>> {
    req.into_response(convert::redirect(to))
        .map_into_right_body()
}

/// The store's error in place of the handler's answer.
fn failed<B>(req: ServiceRequest, e: CoreError) -> ServiceResponse<EitherBody<B>> {
    let resp = SessionError::from(e).error_response();
    req.into_response(resp).map_into_right_body()
}

/// The handler's response with the commit's headers, or the commit's
/// error in its place: a change that was not stored is never lost silently.
fn committed<B>(
    mut res: ServiceResponse<B>,
    done: Result<Committed, CoreError>,
) -> ServiceResponse<EitherBody<B>> {
    match done {
        Ok(done) => {
            convert::apply(res.headers_mut(), done);
            res.map_into_left_body()
        }
        Err(e) => {
            let resp = SessionError::from(e).error_response();
            res.into_response(resp).map_into_right_body()
        }
    }
}
