//! The tower layer: load before the handler, commit after it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use session_core::{
    Committing, LoadNow, Loaded, SessionConfig, SessionError as CoreError, SessionManager,
    SessionStore,
};
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

type BoxFuture<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>;

pin_project! {
    /// The response future of [`SessionService`].
    ///
    /// When the store answers at once (reads and updates on the memory
    /// and cookie stores) the session is loaded in `call` and committed as
    /// the handler's future completes, with no allocation of its own. A
    /// store call that must be awaited (Redis, and on every store a new
    /// session's create, a touch, a delete) runs in a boxed future.
    pub struct ResponseFuture<F, E> {
        #[pin]
        state: State<F, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, E> {
        Handler {
            #[pin]
            future: Committing<F, Response>,
        },
        Waiting {
            future: BoxFuture<E>,
        },
    }
}

impl<F, E> std::fmt::Debug for ResponseFuture<F, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S> Service<Request> for SessionService<S>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        // The clone that was polled ready is the one that serves this call.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
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
                        future: self.manager.commit_after(session, inner.call(req), status),
                    }
                }
                // Rare answers without the handler: boxed like the waiting path.
                LoadNow::Done(Ok(Loaded::Redirect(to))) => answered(convert::redirect(to)),
                LoadNow::Done(Err(e)) => answered(SessionError::from(e).into_response()),
                LoadNow::Pending(pending) => {
                    let manager = self.manager.clone();
                    State::Waiting {
                        future: Box::pin(async move {
                            let session = match manager.finish_load(pending).await {
                                Ok(Loaded::Active(session)) => session,
                                Ok(Loaded::Redirect(to)) => return Ok(convert::redirect(to)),
                                Err(e) => return Ok(SessionError::from(e).into_response()),
                            };
                            req.extensions_mut().insert(session.clone());
                            let resp = inner.call(req).await?;
                            let done = manager.commit(&session, status(&resp)).await;
                            Ok(committed(resp, done))
                        }),
                    }
                }
            },
        }
    }
}

impl<F, E> Future for ResponseFuture<F, E>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Handler { future } => {
                let (resp, done) = ready!(future.poll(cx))?;
                Poll::Ready(Ok(committed(resp, done)))
            }
            StateProj::Waiting { future } => future.as_mut().poll(cx),
        }
    }
}

fn answered<F, E: 'static>(resp: Response) -> State<F, E> {
    State::Waiting {
        future: Box::pin(async move { Ok(resp) }),
    }
}

fn status(resp: &Response) -> u16 {
    resp.status().as_u16()
}

/// The handler's response with the commit's headers, or the commit's
/// error in its place: a change that was not stored is never lost silently.
fn committed(mut resp: Response, done: Result<session_core::Committed, CoreError>) -> Response {
    match done {
        Ok(done) => {
            convert::apply(&mut resp, done);
            resp
        }
        Err(e) => SessionError::from(e).into_response(),
    }
}
