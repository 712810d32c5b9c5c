//! The driver: runs the machine against a store. The only clock reader.

use std::sync::Arc;

use crate::machine::Finished;
use crate::{
    Clock, Commit, Record, Resumed, Save, Session, SessionConfig, SessionCore, SessionError,
    SessionStore, Start, StoreErrorKind, SystemClock, TimedOut, Timestamp, Updated,
};

/// How many times a create is retried when the new id is taken.
const CREATE_ATTEMPTS: usize = 3;

/// Runs sessions for an application: the machine, a store and a clock.
///
/// Adapters call [`load`](Self::load) before the handler and
/// [`commit`](Self::commit) after it; they hold no session logic. Each is
/// also two steps ([`load_now`](Self::load_now) then
/// [`finish_load`](Self::finish_load), [`commit_now`](Self::commit_now)
/// then [`finish_commit`](Self::finish_commit)) for an adapter that keeps
/// the handler's future inline and awaits only when the store must.
///
/// ```
/// # use session_core::*;
/// # async fn run(store: impl SessionStore) -> Result<(), SessionError> {
/// let manager = SessionManager::new(store, SessionConfig::default());
/// let session = match manager.load([&b"session=abc"[..]]).await? {
///     Loaded::Active(session) => session,
///     Loaded::Redirect(to) => { /* answer 303 to `to.location` */ return Ok(()) }
/// };
/// session.insert("user", "alice")?;
/// let done = manager.commit(&session, 200).await?;
/// for header in &done.set_cookies { /* add a Set-Cookie header */ }
/// # Ok(()) }
/// ```
pub struct SessionManager {
    core: SessionCore,
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

/// The session for a request, or the timeout redirect to answer instead.
#[derive(Debug)]
#[must_use]
pub enum Loaded {
    /// Run the handler with this session.
    Active(Session),
    /// The session timed out: answer this instead of running the handler.
    Redirect(Redirect),
}

/// A `303 See Other` answer for a timed-out session.
#[derive(Debug, Clone)]
pub struct Redirect {
    /// The `Location` header.
    pub location: String,
    /// A `Set-Cookie` header value that expires the session cookie.
    pub set_cookie: String,
}

/// What [`SessionManager::load_now`] did.
#[derive(Debug)]
#[must_use]
pub enum LoadNow {
    /// Loaded without waiting (or failed).
    Done(Result<Loaded, SessionError>),
    /// The store must be awaited: pass this to
    /// [`SessionManager::finish_load`].
    Pending(PendingLoad),
}

/// A load that waits on the store; see [`SessionManager::finish_load`].
#[derive(Debug)]
#[must_use]
pub struct PendingLoad(LoadStep);

#[derive(Debug)]
enum LoadStep {
    /// The store could not answer at once: load the token.
    Fetch(Start, Timestamp),
    /// The loaded session timed out: delete it, then go on with the
    /// fresh session (or redirect).
    Expire(Session, TimedOut),
}

/// What [`SessionManager::commit_now`] did.
///
/// The session is finished either way: dropping a
/// [`Pending`](Self::Pending) step instead of awaiting it loses the write.
#[derive(Debug)]
#[must_use]
// A value returned and matched at once, never stored: boxing the pending
// commit would cost an allocation on every write that waits on the store.
#[allow(clippy::large_enum_variant)]
pub enum CommitNow {
    /// Committed without waiting (or failed).
    Done(Result<Committed, SessionError>),
    /// The store must be awaited: pass this to
    /// [`SessionManager::finish_commit`].
    Pending(PendingCommit),
}

/// A commit that waits on the store; see [`SessionManager::finish_commit`].
#[derive(Debug)]
#[must_use]
pub struct PendingCommit {
    commit: Commit,
    now: Timestamp,
}

/// What an adapter adds to the response after a commit.
#[derive(Default)]
#[must_use]
pub struct Committed {
    /// `Set-Cookie` header values, the session cookie last.
    pub set_cookies: Vec<String>,
    /// The session cookie was set or cleared: add `Cache-Control: no-store`
    /// unless the handler set its own `Cache-Control`.
    pub no_store: bool,
    /// The handler used the session: add `Vary: Cookie`.
    pub vary_cookie: bool,
}

impl std::fmt::Debug for Committed {
    // The session cookie carries the token: show only the cookie names.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .set_cookies
            .iter()
            .map(|c| c.split('=').next().unwrap_or(""))
            .collect();
        f.debug_struct("Committed")
            .field("set_cookies", &names)
            .field("no_store", &self.no_store)
            .field("vary_cookie", &self.vary_cookie)
            .finish()
    }
}

impl SessionManager {
    /// A manager over `store` with `config` and the system clock.
    pub fn new(store: impl SessionStore, config: SessionConfig) -> Self {
        Self::from_arc(Arc::new(store), config)
    }

    /// As [`new`](Self::new), for a store already shared.
    pub fn from_arc(store: Arc<dyn SessionStore>, config: SessionConfig) -> Self {
        let core = SessionCore::new(config, store.client_side())
            .with_delta_updates(store.applies_deltas());
        Self {
            core,
            store,
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the machine (for example to inject an id source).
    pub fn with_core(mut self, core: SessionCore) -> Self {
        self.core = core;
        self
    }

    /// Replaces the clock (tests use a manual one).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The machine.
    pub fn core(&self) -> &SessionCore {
        &self.core
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    // Calls go to the store itself: through the `Arc`'s own forwarding
    // impl each call would box a second future.
    fn dyn_store(&self) -> &dyn SessionStore {
        &*self.store
    }

    /// Reads the session for a request with these `Cookie` header values.
    ///
    /// A timed-out session is deleted here; the result says whether to go
    /// on or redirect. A store failure is an error (answer 503).
    pub async fn load<'a>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Loaded, SessionError> {
        match self.load_now(cookie_headers) {
            LoadNow::Done(loaded) => loaded,
            LoadNow::Pending(pending) => self.finish_load(pending).await,
        }
    }

    /// [`load`](Self::load) without waiting, where the store can answer at
    /// once (the memory and cookie stores can); otherwise the step to
    /// finish with [`finish_load`](Self::finish_load).
    ///
    /// An adapter that calls this first needs no boxed future for a
    /// request whose store never waits.
    pub fn load_now<'a>(&self, cookie_headers: impl IntoIterator<Item = &'a [u8]>) -> LoadNow {
        let start = self.core.start(cookie_headers);
        let now = self.clock.now();
        let record = match start.token() {
            Some(token) => match self.dyn_store().load_now(token, start.id(), now) {
                Some(Ok(record)) => record,
                Some(Err(e)) => return LoadNow::Done(Err(e.into())),
                None => return LoadNow::Pending(PendingLoad(LoadStep::Fetch(start, now))),
            },
            None => None,
        };
        match resumed(self.core.resume(start, record, now)) {
            Ok(session) => LoadNow::Done(Ok(Loaded::Active(session))),
            // The timed-out record is deleted before anything else, and
            // the store's delete may wait.
            Err((session, timed_out)) => {
                LoadNow::Pending(PendingLoad(LoadStep::Expire(session, timed_out)))
            }
        }
    }

    /// Finishes a load that [`load_now`](Self::load_now) could not.
    pub async fn finish_load(&self, pending: PendingLoad) -> Result<Loaded, SessionError> {
        let (session, timed_out) = match pending.0 {
            LoadStep::Fetch(start, now) => {
                let record = match start.token() {
                    Some(token) => self.dyn_store().load(token, now).await?,
                    None => None,
                };
                match resumed(self.core.resume(start, record, now)) {
                    Ok(session) => return Ok(Loaded::Active(session)),
                    Err(expired) => expired,
                }
            }
            LoadStep::Expire(session, timed_out) => (session, timed_out),
        };
        self.dyn_store().delete(&timed_out.delete).await?;
        Ok(match timed_out.redirect {
            Some(location) => Loaded::Redirect(Redirect {
                location,
                set_cookie: self.core.expired_cookie().to_owned(),
            }),
            None => Loaded::Active(session),
        })
    }

    /// Commits the session after the handler answered with `status`.
    ///
    /// On error the change could not be stored: answer with the error
    /// instead of the handler's response, so no write is lost silently.
    pub async fn commit(&self, session: &Session, status: u16) -> Result<Committed, SessionError> {
        match self.commit_now(session, status) {
            CommitNow::Done(done) => done,
            // Boxed: the store's futures stay out of the caller's future,
            // which the common request (answered at once) keeps small.
            CommitNow::Pending(pending) => Box::pin(self.finish_commit(pending)).await,
        }
    }

    /// [`commit`](Self::commit) without waiting, where no store call is
    /// needed or the store can answer at once; otherwise the step to
    /// finish with [`finish_commit`](Self::finish_commit).
    pub fn commit_now(&self, session: &Session, status: u16) -> CommitNow {
        // Read only if the session needs a store op or a cookie.
        let clock = || self.clock.now();
        let (mut commit, now) = match self.core.finish_step(session, status, &clock) {
            Ok(Finished::Commit(commit, now)) => (commit, now),
            // The common read-only request: no store call, no session
            // cookie.
            Ok(Finished::Quiet { cookies, vary }) => {
                return CommitNow::Done(Ok(Committed {
                    set_cookies: cookies,
                    no_store: false,
                    vary_cookie: vary,
                }))
            }
            Err(e) => return CommitNow::Done(Err(e)),
        };
        if commit.save.is_none() && commit.delete.is_none() {
            // Only the cookie to expire: no store call.
            return CommitNow::Done(Ok(self.committed(commit, Saved::Nothing, now)));
        }
        if commit.delete.is_none() {
            if let Some(Save::Update(record, delta)) = &commit.save {
                if let Some(answer) = self.dyn_store().update_now(record, delta) {
                    let saved = match answer {
                        Ok(Updated::Same) => Saved::Same,
                        Ok(Updated::Token(token)) => Saved::Token(token),
                        Ok(Updated::Gone) => {
                            updated(record, None);
                            Saved::Nothing
                        }
                        Err(e) => return CommitNow::Done(Err(e.into())),
                    };
                    commit.save = None;
                    return CommitNow::Done(Ok(self.committed(commit, saved, now)));
                }
            }
        }
        CommitNow::Pending(PendingCommit { commit, now })
    }

    /// Finishes a commit that [`commit_now`](Self::commit_now) could not.
    pub async fn finish_commit(&self, pending: PendingCommit) -> Result<Committed, SessionError> {
        self.write(pending.commit, pending.now).await
    }

    async fn write(&self, mut commit: Commit, now: Timestamp) -> Result<Committed, SessionError> {
        let saved = match commit.save.take() {
            None => None,
            Some(Save::Update(record, delta)) => {
                updated(&record, self.dyn_store().update(&record, &delta).await?)
            }
            Some(Save::Touch(record)) => self.dyn_store().touch(&record).await?,
            Some(Save::Create(mut record)) => {
                let mut token = None;
                for _ in 0..CREATE_ATTEMPTS {
                    token = self.dyn_store().create(&record).await?;
                    if token.is_some() {
                        break;
                    }
                    tracing::warn!("new session id already taken: retrying with another");
                    record.id = self.core.new_id()?;
                }
                if token.is_none() {
                    return Err(crate::StoreError::from_kind(StoreErrorKind::Conflict).into());
                }
                token
            }
        };
        if let Some(old) = commit.delete.take() {
            match self.dyn_store().delete(&old).await {
                Ok(()) => {}
                // After a renew the session lives on under its new id; a
                // stale old record only idles out.
                Err(e) if commit.renewed && saved.is_some() => {
                    tracing::warn!(error = %e, "could not delete the old record after a renew");
                }
                Err(e) => return Err(e.into()),
            }
        }
        let saved = saved.map_or(Saved::Nothing, Saved::Token);
        Ok(self.committed(commit, saved, now))
    }

    fn committed(&self, commit: Commit, saved: Saved, now: Timestamp) -> Committed {
        let token = match &saved {
            Saved::Nothing => None,
            Saved::Same => commit.current_token(),
            Saved::Token(token) => Some(token.as_str()),
        };
        let session_cookie = self.core.set_cookie(&commit, token, now);
        let mut set_cookies = commit.cookies;
        let no_store = session_cookie.is_some();
        set_cookies.extend(session_cookie);
        Committed {
            set_cookies,
            no_store,
            vary_cookie: commit.vary_cookie,
        }
    }
}

/// The token a save left the session under.
enum Saved {
    /// No save, or the record was gone.
    Nothing,
    /// The token the request carried.
    Same,
    /// This token.
    Token(String),
}

/// The session to go on with, or the fresh one and what timed out.
fn resumed(resumed: Resumed) -> Result<Session, (Session, TimedOut)> {
    match resumed.timed_out {
        None => Ok(resumed.session),
        Some(timed_out) => Err((resumed.session, timed_out)),
    }
}

/// The token an update answered; `None` is logged.
fn updated(record: &Record, token: Option<String>) -> Option<String> {
    if token.is_none() {
        // Deleted meanwhile (a logout in another tab) or expired during the
        // request: never resurrected, and the cookie is left alone, since a
        // concurrent login may just have set a new one.
        tracing::warn!(session = %record.id.short(), "session gone before its change was saved");
    }
    token
}
