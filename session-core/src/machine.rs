//! The sans-IO session machine: every decision, no IO, time as an argument.

use std::sync::Arc;

use crate::clock::duration_millis;
use crate::config::CookieLifetime;
use crate::cookies::raw_pairs;
use crate::record::Data;
use crate::session::{Inner, Keep, Loaded};
use crate::{
    Delta, IdSource, OnTimeout, RandomIds, Record, Session, SessionConfig, SessionError, SessionId,
    Timestamp, ID_CHARS,
};

/// The longest token accepted from a cookie (a browser keeps at most 4096
/// bytes per cookie).
pub const MAX_TOKEN_LEN: usize = 4096;

/// The session machine. One per application, shared by all requests.
///
/// Call order for one request (the driver, [`crate::SessionManager`], does
/// exactly this):
///
/// 1. [`start`](Self::start) with the request's `Cookie` headers;
/// 2. if [`Start::token`] is `Some`, load it from the store;
/// 3. [`resume`](Self::resume) with what was loaded; if
///    [`Resumed::timed_out`] is set, delete that record and, for
///    [`OnTimeout::Redirect`], answer the redirect;
/// 4. run the handler with [`Resumed::session`];
/// 5. [`finish`](Self::finish) with the response status, run the
///    [`Commit`]'s `save` then `delete`, and send
///    [`set_cookie`](Self::set_cookie)'s header.
///
/// ```
/// use session_core::{SessionConfig, SessionCore, Save, Timestamp};
///
/// let core = SessionCore::new(SessionConfig::default(), false);
/// let now = Timestamp::from_unix_millis(1_000);
/// let start = core.start([&b"other=1"[..]]);
/// assert!(start.token().is_none()); // no session cookie: nothing to load
/// let resumed = core.resume(start, None, now);
/// resumed.session.insert("user", "alice")?;
/// let commit = core.finish(&resumed.session, 200, now)?;
/// let Some(Save::Create(record)) = &commit.save else { panic!() };
/// // The store saves `record` and returns the token for the cookie:
/// let token = record.id.to_string();
/// let header = core.set_cookie(&commit, Some(&token), now).unwrap();
/// assert!(header.starts_with("session="));
/// assert!(header.ends_with("; Path=/; HttpOnly; Secure; SameSite=Lax"));
/// # Ok::<(), session_core::SessionError>(())
/// ```
#[derive(Clone)]
pub struct SessionCore {
    config: Arc<SessionConfig>,
    ids: Arc<dyn IdSource>,
    client_side: bool,
    /// The store applies deltas without reading an update's data
    /// ([`SessionStore::applies_deltas`](crate::SessionStore::applies_deltas)).
    delta_updates: bool,
    removal: Arc<str>,
}

impl std::fmt::Debug for SessionCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCore")
            .field("config", &self.config)
            .field("client_side", &self.client_side)
            .finish_non_exhaustive()
    }
}

/// A session id's 32 characters, word-aligned: `str::from_utf8` checks
/// an aligned buffer a word at a time, an unaligned one byte by byte (about
/// 150 instructions more on every request).
#[derive(Clone, PartialEq, Eq)]
#[repr(align(8))]
pub(crate) struct IdChars([u8; ID_CHARS]);

/// A session token's text.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A session id's 32 characters (server-side stores): kept inline, so
    /// a request allocates nothing for its token.
    Id(IdChars),
    /// A client-side store's token (a sealed cookie).
    Sealed(String),
}

impl Token {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Only parsed ids are kept here, and they are ASCII.
            Self::Id(chars) => std::str::from_utf8(&chars.0).unwrap_or_default(),
            Self::Sealed(text) => text,
        }
    }

    /// The text's bytes, without the UTF-8 check `as_str` needs.
    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Id(chars) => &chars.0,
            Self::Sealed(text) => text.as_bytes(),
        }
    }
}

/// A server-side token: its characters, kept inline, and the id they
/// parse to; `None` unless `raw` is a well-formed id.
fn id_token(raw: &[u8]) -> Option<(IdChars, SessionId)> {
    let id = SessionId::parse_bytes(raw)?;
    Some((IdChars(raw.try_into().ok()?), id))
}

/// The outcome of [`SessionCore::start`]: the token to load, if any.
#[must_use]
pub struct Start {
    token: Option<Token>,
    /// The token parsed as an id (server-side stores), so `resume` can
    /// check the record without parsing again.
    id: Option<SessionId>,
    request_cookies: Option<String>,
}

impl std::fmt::Debug for Start {
    // The token is a credential: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Start")
            .field("has_token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl Start {
    /// The token to load from the store; `None` means a fresh session.
    pub fn token(&self) -> Option<&str> {
        self.token.as_ref().map(Token::as_str)
    }

    /// The token parsed as a session id (server-side stores only).
    pub fn id(&self) -> Option<&SessionId> {
        self.id.as_ref()
    }
}

/// The outcome of [`SessionCore::resume`].
#[derive(Debug)]
#[must_use]
pub struct Resumed {
    /// The session for the handler (fresh if nothing valid was loaded).
    pub session: Session,
    /// Set when the loaded session had timed out.
    pub timed_out: Option<TimedOut>,
}

/// A loaded session had passed its idle or absolute deadline.
#[derive(Debug, Clone)]
#[must_use]
pub struct TimedOut {
    /// Delete this record before going on.
    pub delete: SessionId,
    /// If set, answer `303 See Other` to this location, with
    /// [`SessionCore::expired_cookie`]; the handler does not run.
    pub redirect: Option<String>,
}

/// The store write a commit needs.
#[derive(Debug, Clone)]
pub enum Save {
    /// A new session (or a renewed one under its new id): call
    /// [`SessionStore::create`](crate::SessionStore::create); on `None`
    /// (id taken) give it a new id with [`SessionCore::new_id`] and retry.
    Create(Record),
    /// A loaded session changed: [`SessionStore::update`](crate::SessionStore::update).
    Update(Record, Delta),
    /// Only the deadline moved: [`SessionStore::touch`](crate::SessionStore::touch).
    Touch(Record),
}

/// What to do with the session cookie once the store ops are done.
#[derive(Clone, PartialEq, Eq)]
enum CookiePlan {
    Leave,
    Expire,
    /// Set it to the token the save returns, unless that equals the
    /// current one and the cookie has no Max-Age to refresh.
    FromSave {
        current: Option<Token>,
    },
}

impl std::fmt::Debug for CookiePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Leave => "Leave",
            Self::Expire => "Expire",
            Self::FromSave { .. } => "FromSave",
        })
    }
}

/// What [`SessionCore::finish`] decided: store ops, then cookies.
#[derive(Debug)]
#[must_use]
pub struct Commit {
    /// The write to perform first, if any.
    pub save: Option<Save>,
    /// The record to delete after the save (renew, destroy, clear).
    pub delete: Option<SessionId>,
    /// Plain `Set-Cookie` header values the handler asked for.
    pub cookies: Vec<String>,
    /// The handler read or changed the session: the response varies on
    /// `Cookie`.
    pub vary_cookie: bool,
    /// The delete retires the id of a renewed session whose data now lives
    /// under a new id: if it fails, the session is still safe, so the
    /// failure is logged rather than answered. (A destroy's delete must
    /// succeed.)
    pub renewed: bool,
    cookie: CookiePlan,
    deadline: Option<Timestamp>,
}

impl Commit {
    /// The token the request carried, for a save that kept it.
    pub(crate) fn current_token(&self) -> Option<&str> {
        match &self.cookie {
            CookiePlan::FromSave { current } => current.as_ref().map(Token::as_str),
            _ => None,
        }
    }

    fn nothing(cookies: Vec<String>, vary_cookie: bool) -> Self {
        Self {
            save: None,
            delete: None,
            cookies,
            vary_cookie,
            renewed: false,
            cookie: CookiePlan::Leave,
            deadline: None,
        }
    }
}

/// What [`SessionCore::finish_step`] decided.
// Returned and matched at once: boxing the commit would add an allocation
// to every write to save a move on reads.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Finished {
    /// No store op and the session cookie left alone: only the handler's
    /// cookies and `Vary`.
    Quiet { cookies: Vec<String>, vary: bool },
    /// Anything else, and the time it was decided at.
    Commit(Commit, Timestamp),
}

impl SessionCore {
    /// A machine for `config`. `client_side` is the store's
    /// [`SessionStore::client_side`](crate::SessionStore::client_side).
    pub fn new(config: SessionConfig, client_side: bool) -> Self {
        Self::with_ids(config, client_side, Arc::new(RandomIds::new()))
    }

    /// As [`new`](Self::new), with ids from `ids` (tests use a
    /// deterministic source).
    pub fn with_ids(config: SessionConfig, client_side: bool, ids: Arc<dyn IdSource>) -> Self {
        let removal = format!(
            "{}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT{}",
            config.name, config.attr_suffix
        );
        Self {
            config: Arc::new(config),
            ids,
            client_side,
            delta_updates: false,
            removal: removal.into(),
        }
    }

    /// For a store that [applies deltas](crate::SessionStore::applies_deltas):
    /// an update's record then carries empty data instead of the merged
    /// map (the delta holds every change).
    #[must_use]
    pub fn with_delta_updates(mut self, on: bool) -> Self {
        self.delta_updates = on;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// A new session id from the id source.
    pub fn new_id(&self) -> Result<SessionId, SessionError> {
        Ok(self.ids.next_id()?)
    }

    /// Reads the session token out of the request's `Cookie` header values.
    ///
    /// A malformed token, or more than one session cookie in the request
    /// (cookie tossing), gives no token: the request gets a fresh session.
    pub fn start<'a>(&self, cookie_headers: impl IntoIterator<Item = &'a [u8]>) -> Start {
        let mut token: Option<&[u8]> = None;
        let mut count = 0usize;
        // Kept only when the request has cookies besides the session's, for
        // `Cookies::get`: the common request allocates nothing here.
        let mut others: Option<String> = None;
        // The token and id when the session cookie came as a header of its
        // own, already parsed.
        let mut lone: Option<(IdChars, SessionId)> = None;
        for raw in cookie_headers {
            if let Some(parsed) = self.lone_id(raw) {
                count += 1;
                if count == 1 {
                    lone = Some(parsed);
                }
                continue;
            }
            let mut has_other = false;
            for (name, value) in raw_pairs(raw) {
                if name == self.config.name.as_bytes() {
                    count += 1;
                    if count == 1 {
                        token = Some(value);
                    }
                } else {
                    has_other = true;
                }
            }
            if has_other {
                // One cookie with bad bytes (say, set by a sibling
                // subdomain) must not cost the others: decoded lossily.
                let text = String::from_utf8_lossy(raw);
                match &mut others {
                    Some(joined) => {
                        joined.push_str("; ");
                        joined.push_str(&text);
                    }
                    None => others = Some(text.into_owned()),
                }
            }
        }
        let (token, id) = match (count, lone, token) {
            (1, Some((chars, id)), _) => (Some(Token::Id(chars)), Some(id)),
            (1, None, Some(raw)) => match self.check_token(raw) {
                Ok((t, id)) => (Some(t), id),
                Err(()) => {
                    tracing::debug!("malformed session token: starting a fresh session");
                    (None, None)
                }
            },
            (0, ..) => (None, None),
            _ => {
                tracing::debug!("several session cookies in one request: starting a fresh session");
                (None, None)
            }
        };
        Start {
            token,
            id,
            request_cookies: others,
        }
    }

    /// A header that is exactly `name=<id>` (a client holding only the
    /// session cookie, the usual case for a server-side store): its token
    /// and id, with no scan for other pairs. The id's alphabet has no `;`,
    /// blank or quote, so such a header holds one pair and nothing else.
    fn lone_id(&self, raw: &[u8]) -> Option<(IdChars, SessionId)> {
        // The length first: the cheapest way to pass over other headers.
        if self.client_side || raw.len() != self.config.name.len() + 1 + ID_CHARS {
            return None;
        }
        let value = raw
            .strip_prefix(self.config.name.as_bytes())?
            .strip_prefix(b"=")?;
        id_token(value)
    }

    /// `Ok` with the token and the parsed id (server side) or `None`
    /// (client side) for a well-formed token. One that is not UTF-8 is
    /// malformed like any other bad token.
    fn check_token(&self, raw: &[u8]) -> Result<(Token, Option<SessionId>), ()> {
        if self.client_side {
            // Only the length: the store's own decoding checks every byte
            // (it must refuse what it cannot open anyway), so a scan here
            // would read the whole cookie twice.
            if raw.is_empty() || raw.len() > MAX_TOKEN_LEN {
                return Err(());
            }
            // Checked once copied: the copy is word-aligned, so the UTF-8
            // check runs a word at a time, not byte by byte.
            let token = String::from_utf8(raw.to_vec()).map_err(drop)?;
            Ok((Token::Sealed(token), None))
        } else {
            // The id's alphabet is ASCII: parsing is the whole check.
            let (chars, id) = id_token(raw).ok_or(())?;
            Ok((Token::Id(chars), Some(id)))
        }
    }

    /// The request's session. Every field is given here, in one literal
    /// inside `Session::new`: built up in a local and then moved, the
    /// state (a few hundred bytes) was copied three times per request.
    #[inline(always)]
    fn session(
        &self,
        request_cookies: Option<String>,
        loaded: Option<Loaded>,
        (data, arrived): (Data, Data),
        expire_cookie: bool,
    ) -> Session {
        Session::new(Inner {
            config: self.config.clone(),
            loaded,
            data,
            changes: Default::default(),
            cleared: false,
            arrived,
            now_flash: Data::new(),
            next_flash: Data::new(),
            keep: Keep::None,
            destroyed: false,
            renewed: false,
            accessed: false,
            finished: false,
            expire_cookie,
            request_cookies,
            response_cookies: Vec::new(),
        })
    }

    /// Builds the request's session from what the store returned for
    /// [`Start::token`] (`None` if there was no token or no record).
    pub fn resume(&self, start: Start, loaded: Option<Record>, now: Timestamp) -> Resumed {
        let Start {
            token,
            id,
            request_cookies,
        } = start;
        let empty = || (Data::new(), Data::new());
        let (Some(token), Some(record)) = (token, loaded) else {
            return Resumed {
                session: self.session(request_cookies, None, empty(), false),
                timed_out: None,
            };
        };
        if !self.client_side && id != Some(record.id) {
            tracing::warn!("store returned a record for another id: ignoring it");
            return Resumed {
                session: self.session(request_cookies, None, empty(), false),
                timed_out: None,
            };
        }
        if now >= record.deadline() {
            tracing::debug!(session = %record.id.short(), "session timed out");
            let redirect = match &self.config.on_timeout {
                OnTimeout::Redirect(loc) => Some(loc.clone()),
                OnTimeout::NewSession => None,
            };
            return Resumed {
                session: self.session(request_cookies, None, empty(), true),
                timed_out: Some(TimedOut {
                    delete: record.id,
                    redirect,
                }),
            };
        }
        let loaded = Loaded {
            id: record.id,
            token,
            created_at: record.created_at,
            idle_deadline: record.idle_deadline,
            loaded_at: now,
        };
        Resumed {
            session: self.session(
                request_cookies,
                Some(loaded),
                (record.data, record.flash),
                false,
            ),
            timed_out: None,
        }
    }

    /// A record for `id` with deadlines counted from `now`.
    fn record(&self, id: SessionId, created_at: Timestamp, now: Timestamp) -> Record {
        let idle_deadline = now.add(self.config.idle_timeout);
        let absolute_deadline = self.config.absolute_timeout.map(|a| created_at.add(a));
        let deadline = absolute_deadline.map_or(idle_deadline, |a| a.min(idle_deadline));
        Record {
            id,
            data: Data::new(),
            flash: Data::new(),
            created_at,
            idle_deadline,
            absolute_deadline,
            keep_until: deadline.add(self.config.timed_out_grace()),
        }
    }

    fn touch_due(&self, loaded: &Loaded, now: Timestamp) -> bool {
        let idle = duration_millis(self.config.idle_timeout);
        let extended_at = loaded.idle_deadline.unix_millis().saturating_sub(idle);
        let elapsed = now.unix_millis().saturating_sub(extended_at);
        elapsed as f64 >= idle as f64 * self.config.touch_fraction
    }

    /// Decides what the request's session needs: the store ops and the
    /// cookie. Call once, with the response status; the session refuses
    /// changes afterwards.
    ///
    /// New deadlines count from `now`; whether an unchanged session is due
    /// a touch is judged as of the `now` it was resumed with (its request's
    /// arrival).
    pub fn finish(
        &self,
        session: &Session,
        status: u16,
        now: Timestamp,
    ) -> Result<Commit, SessionError> {
        Ok(match self.finish_step(session, status, &|| now)? {
            Finished::Quiet { cookies, vary } => Commit::nothing(cookies, vary),
            Finished::Commit(commit, _) => commit,
        })
    }

    /// [`finish`](Self::finish), with the common outcome (no store op, the
    /// session cookie left alone) kept apart: the driver answers it
    /// without moving a whole `Commit` around.
    ///
    /// `now` is called only when the session needs a store op or a cookie:
    /// the common read-only request (no touch due as of its arrival) is
    /// decided without reading the clock again.
    pub(crate) fn finish_step(
        &self,
        session: &Session,
        status: u16,
        now: &dyn Fn() -> Timestamp,
    ) -> Result<Finished, SessionError> {
        let mut inner = session.lock();
        if inner.finished {
            return Ok(Finished::Quiet {
                cookies: Vec::new(),
                vary: false,
            });
        }
        inner.finished = true;
        let cookies = std::mem::take(&mut inner.response_cookies);
        let vary = inner.accessed;
        if status >= 500 && !self.config.commit_on_server_error {
            return Ok(Finished::Quiet { cookies, vary });
        }
        let expire = if inner.expire_cookie {
            CookiePlan::Expire
        } else {
            CookiePlan::Leave
        };

        // The common request reads a loaded session and changes nothing:
        // decide that before taking the maps apart.
        let unchanged = !inner.destroyed
            && !inner.cleared
            && !inner.renewed
            && inner.changes.is_empty()
            && inner.next_flash.is_empty()
            && (inner.arrived.is_empty() || !inner.accessed);
        if unchanged {
            if let Some(loaded) = &inner.loaded {
                if !self.touch_due(loaded, loaded.loaded_at) {
                    // Emptied like every other path leaves it (cheap: the
                    // maps are shared with the store's copy).
                    inner.loaded = None;
                    inner.data.clear();
                    inner.arrived.clear();
                    return Ok(Finished::Quiet { cookies, vary });
                }
            }
        }

        // The flash: an accessed request consumes what arrived (unless kept).
        let arrived = std::mem::take(&mut inner.arrived);
        let next = std::mem::take(&mut inner.next_flash);
        let (flash, flash_removed): (Data, Vec<String>) = if arrived.is_empty() && next.is_empty() {
            // No flash at all (the usual write): no maps to walk.
            (Data::new(), Vec::new())
        } else if inner.accessed {
            let mut kept = Data::new();
            let mut removed = Vec::new();
            for (k, v) in arrived {
                let keep = match &inner.keep {
                    Keep::All => true,
                    Keep::Some(keys) => keys.contains(&k),
                    Keep::None => false,
                };
                if keep {
                    kept.insert(k, v);
                } else if !next.contains_key(&k) {
                    removed.push(k);
                }
            }
            let mut all = kept;
            all.extend(next.iter().map(|(k, v)| (k.clone(), v.clone())));
            (all, removed)
        } else {
            (arrived, Vec::new())
        };
        let empty = !inner.holds_data() && flash.is_empty();

        let Some(loaded) = inner.loaded.take() else {
            // A new session: written only once it holds something.
            if empty && expire == CookiePlan::Leave {
                return Ok(Finished::Quiet { cookies, vary });
            }
            let now = now();
            if empty {
                return Ok(Finished::Commit(
                    Commit {
                        cookie: expire,
                        ..Commit::nothing(cookies, vary)
                    },
                    now,
                ));
            }
            let mut record = self.record(self.new_id()?, now, now);
            record.data = inner.take_merged();
            record.flash = flash;
            return Ok(Finished::Commit(
                self.create(record, None, cookies, vary),
                now,
            ));
        };
        let now = now();

        if inner.destroyed || (inner.cleared && empty) {
            if empty {
                return Ok(Finished::Commit(
                    Commit {
                        save: None,
                        delete: Some(loaded.id),
                        cookies,
                        vary_cookie: vary,
                        renewed: false,
                        cookie: CookiePlan::Expire,
                        deadline: None,
                    },
                    now,
                ));
            }
            // Destroyed, then given new values: a new session under a new id.
            let mut record = self.record(self.new_id()?, now, now);
            record.data = inner.take_merged();
            record.flash = flash;
            return Ok(Finished::Commit(
                self.create(record, Some(loaded.id), cookies, vary),
                now,
            ));
        }

        if inner.renewed {
            let mut record = self.record(self.new_id()?, loaded.created_at, now);
            record.data = inner.take_merged();
            record.flash = flash;
            return Ok(Finished::Commit(
                Commit {
                    renewed: true,
                    ..self.create(record, Some(loaded.id), cookies, vary)
                },
                now,
            ));
        }

        let data = if self.delta_updates && !self.client_side {
            // The delta carries every change: the map as loaded is let go
            // (so the store, often its only other holder, changes it in
            // place) and no merged copy is made.
            inner.data.clear();
            Data::new()
        } else {
            inner.take_merged()
        };
        let (set, removed) = std::mem::take(&mut inner.changes).split();
        let delta = Delta {
            set,
            removed,
            cleared: inner.cleared,
            flash_set: if next.is_empty() {
                Vec::new()
            } else {
                next.into_iter().collect()
            },
            flash_removed,
        };
        let save: fn(Record, Delta) -> Save = if !delta.is_empty() {
            Save::Update
        } else if self.touch_due(&loaded, now) {
            |record, _| Save::Touch(record)
        } else {
            // Read only, and no touch due: nothing to write.
            return Ok(Finished::Quiet { cookies, vary });
        };
        let mut record = self.record(loaded.id, loaded.created_at, now);
        record.data = data;
        record.flash = flash;
        let deadline = Some(record.deadline());
        Ok(Finished::Commit(
            Commit {
                save: Some(save(record, delta)),
                delete: None,
                cookies,
                vary_cookie: vary,
                renewed: false,
                cookie: CookiePlan::FromSave {
                    current: Some(loaded.token),
                },
                deadline,
            },
            now,
        ))
    }

    fn create(
        &self,
        record: Record,
        delete: Option<SessionId>,
        cookies: Vec<String>,
        vary: bool,
    ) -> Commit {
        let deadline = Some(record.deadline());
        Commit {
            save: Some(Save::Create(record)),
            delete,
            cookies,
            vary_cookie: vary,
            renewed: false,
            cookie: CookiePlan::FromSave { current: None },
            deadline,
        }
    }

    /// The session's `Set-Cookie` header value after the commit's ops ran.
    ///
    /// `saved` is the token the save returned (`None` if there was no save
    /// or the record was gone). Returns `None` when the cookie stays as it is.
    pub fn set_cookie(
        &self,
        commit: &Commit,
        saved: Option<&str>,
        now: Timestamp,
    ) -> Option<String> {
        match (&commit.cookie, saved) {
            (CookiePlan::Leave, _) => None,
            (CookiePlan::Expire, _) => Some(self.expired_cookie().to_owned()),
            (CookiePlan::FromSave { .. }, None) => None,
            (CookiePlan::FromSave { current }, Some(token)) => {
                let persistent = self.config.lifetime == CookieLifetime::Persistent;
                if !persistent && current.as_ref().map(Token::as_bytes) == Some(token.as_bytes()) {
                    return None;
                }
                let lifetime = persistent.then(|| {
                    let deadline = commit.deadline.unwrap_or(now);
                    let secs = now.millis_until(deadline) / 1000;
                    let expires = http_date(deadline.to_offset_date_time());
                    format!("; Max-Age={secs}; Expires={expires}")
                });
                let lifetime = lifetime.as_deref().unwrap_or_default();
                // Exactly as long as it will be: adapters turn the value
                // into shared bytes, and a `Vec` with spare capacity costs
                // one allocation more there.
                let mut header = String::with_capacity(
                    self.config.name.len()
                        + 1
                        + token.len()
                        + lifetime.len()
                        + self.config.attr_suffix.len(),
                );
                header.push_str(&self.config.name);
                header.push('=');
                header.push_str(token);
                header.push_str(lifetime);
                header.push_str(&self.config.attr_suffix);
                Some(header)
            }
        }
    }

    /// True when [`set_cookie`](Self::set_cookie) would set or expire the
    /// session cookie (the response then gets `Cache-Control: no-store`).
    pub fn touches_cookie(&self, commit: &Commit) -> bool {
        commit.cookie != CookiePlan::Leave
    }

    /// A `Set-Cookie` value that expires the session cookie.
    pub fn expired_cookie(&self) -> &str {
        &self.removal
    }
}

/// IMF-fixdate, as `Expires` wants it.
fn http_date(t: time::OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month() as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
