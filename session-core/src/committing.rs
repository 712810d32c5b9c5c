//! A handler's future followed by the session's commit, inline.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use crate::{CommitNow, Committed, Session, SessionError, SessionManager};

type BoxCommit = Pin<Box<dyn Future<Output = Result<Committed, SessionError>> + Send>>;

pin_project! {
    /// Runs a handler's future, then commits the session with the status
    /// of the response it gave; made by [`SessionManager::commit_after`].
    ///
    /// Resolves to the response and the commit's result, for the adapter
    /// to apply ([`Committed`]) or to answer in its place (the error). A
    /// commit the store answers at once (see
    /// [`SessionManager::commit_now`]) happens inside the last poll; only
    /// one that must wait on the store is boxed. A handler error is
    /// passed through and commits nothing.
    #[must_use = "futures do nothing unless polled"]
    pub struct Committing<F, R> {
        #[pin]
        state: State<F, R>,
        session: Session,
        manager: Arc<SessionManager>,
        status: fn(&R) -> u16,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, R> {
        Handler {
            #[pin]
            future: F,
        },
        Saving {
            commit: BoxCommit,
            response: Option<R>,
        },
        Done,
    }
}

impl<F, R> std::fmt::Debug for Committing<F, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committing")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl SessionManager {
    /// Runs `handler` (the future of the handler that got `session`), then
    /// commits `session` with the status `status` reads off its response.
    ///
    /// For an adapter that names its response future: the handler's
    /// future stays inline, and the same steps as
    /// [`commit`](Self::commit) run when it completes.
    pub fn commit_after<F, R, E>(
        self: &Arc<Self>,
        session: Session,
        handler: F,
        status: fn(&R) -> u16,
    ) -> Committing<F, R>
    where
        F: Future<Output = Result<R, E>>,
    {
        Committing {
            state: State::Handler { future: handler },
            session,
            manager: self.clone(),
            status,
        }
    }
}

impl<F, R, E> Future for Committing<F, R>
where
    F: Future<Output = Result<R, E>>,
{
    type Output = Result<(R, Result<Committed, SessionError>), E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.state.as_mut().project() {
                StateProj::Handler { future } => match ready!(future.poll(cx)) {
                    Err(e) => {
                        this.state.set(State::Done);
                        return Poll::Ready(Err(e));
                    }
                    Ok(response) => {
                        let status = (this.status)(&response);
                        match this.manager.commit_now(this.session, status) {
                            CommitNow::Done(done) => {
                                this.state.set(State::Done);
                                return Poll::Ready(Ok((response, done)));
                            }
                            CommitNow::Pending(pending) => {
                                let manager = this.manager.clone();
                                State::Saving {
                                    commit: Box::pin(async move {
                                        manager.finish_commit(pending).await
                                    }),
                                    response: Some(response),
                                }
                            }
                        }
                    }
                },
                StateProj::Saving { commit, response } => {
                    let done = ready!(commit.as_mut().poll(cx));
                    let response = response.take();
                    this.state.set(State::Done);
                    return match response {
                        Some(response) => Poll::Ready(Ok((response, done))),
                        None => panic!("`Committing` polled after it completed"),
                    };
                }
                StateProj::Done => panic!("`Committing` polled after it completed"),
            };
            this.state.set(next);
        }
    }
}
