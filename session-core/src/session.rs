//! The handle a handler holds: read and change the session, and its flash.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::machine::Token;
use crate::record::{Data, Value};
use crate::{Cookies, SessionConfig, SessionError, SessionId, Timestamp};

/// What the request loaded, if it resumed a stored session.
#[derive(Clone)]
pub(crate) struct Loaded {
    pub(crate) id: SessionId,
    pub(crate) token: Token,
    pub(crate) created_at: Timestamp,
    pub(crate) idle_deadline: Timestamp,
    /// When the request loaded it: whether a touch is due is judged as of
    /// the request's arrival, so a read-only request reads the clock once.
    pub(crate) loaded_at: Timestamp,
}

impl std::fmt::Debug for Loaded {
    // The token is a credential: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("id", &self.id)
            .field("created_at", &self.created_at)
            .field("idle_deadline", &self.idle_deadline)
            .finish_non_exhaustive()
    }
}

/// Which arrived flash values survive this request.
#[derive(Debug, Default)]
pub(crate) enum Keep {
    #[default]
    None,
    Some(BTreeSet<String>),
    All,
}

pub(crate) struct Inner {
    pub(crate) config: Arc<SessionConfig>,
    pub(crate) loaded: Option<Loaded>,
    /// The data as loaded (or emptied by `clear`): this request's changes
    /// are kept beside it, not written into it, so a map shared with the
    /// store is not copied for a change the store merges itself.
    pub(crate) data: Data,
    /// Keys this request set (`Some`) or removed (`None`), each once, over
    /// `data`.
    pub(crate) changes: Changes,
    pub(crate) cleared: bool,
    /// Flash that arrived with this request.
    pub(crate) arrived: Data,
    /// Flash for this request only.
    pub(crate) now_flash: Data,
    /// Flash for the next request.
    pub(crate) next_flash: Data,
    pub(crate) keep: Keep,
    pub(crate) destroyed: bool,
    pub(crate) renewed: bool,
    pub(crate) accessed: bool,
    pub(crate) finished: bool,
    /// The request carried a session that timed out: expire its cookie
    /// unless a new one is set.
    pub(crate) expire_cookie: bool,
    pub(crate) request_cookies: Option<String>,
    pub(crate) response_cookies: Vec<String>,
}

impl Inner {
    /// `key`'s value with this request's changes.
    fn value(&self, key: &str) -> Option<&Value> {
        match self.changes.get(key) {
            Some(changed) => changed,
            None => self.data.get(key),
        }
    }

    /// The keys of the data with this request's changes: the loaded keys
    /// it left alone, then the keys it set.
    fn keys(&self) -> impl Iterator<Item = &String> {
        self.data
            .keys()
            .filter(|k| self.changes.get(k).is_none())
            .chain(self.changes.set_keys())
    }

    /// True when the data with this request's changes holds a key.
    pub(crate) fn holds_data(&self) -> bool {
        self.keys().next().is_some()
    }

    /// The data with this request's changes, taken out of the session.
    pub(crate) fn take_merged(&mut self) -> Data {
        let mut data = std::mem::take(&mut self.data);
        self.changes.apply_to(&mut data);
        data
    }
}

/// The keys a request set or removed, in the order first changed.
///
/// A list, not a map: a request changes a handful of keys, and a list
/// costs one small allocation where a `BTreeMap` allocates a node of
/// eleven slots and walks it again to take it apart. A key changed twice,
/// or read after a change, is found by a linear search (1 000 distinct
/// keys changed in one request: half a million comparisons, about a
/// millisecond).
#[derive(Debug, Default)]
pub(crate) struct Changes(Vec<(String, Option<Value>)>);

impl Changes {
    /// Records `key`'s new value (`None`: removed), replacing an earlier
    /// change of the same key.
    pub(crate) fn record(&mut self, key: String, value: Option<Value>) {
        match self.0.iter_mut().rev().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    /// The keys set (not removed).
    fn set_keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k)
    }

    /// `key`'s change: `Some(Some(value))` set, `Some(None)` removed,
    /// `None` unchanged.
    fn get(&self, key: &str) -> Option<Option<&Value>> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// Applies the changes to `data` (copied first if shared).
    fn apply_to(&self, data: &mut Data) {
        for (key, value) in &self.0 {
            match value {
                Some(value) => data.set(key, value),
                None => {
                    data.remove(key);
                }
            }
        }
    }

    /// The keys set, with their values, and the keys removed.
    pub(crate) fn split(self) -> (Vec<(String, Value)>, Vec<String>) {
        if self.0.iter().all(|(_, v)| v.is_some()) {
            // The usual write sets keys only: the list becomes the set
            // list in place (same layout), with no new allocation.
            let set = self
                .0
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect();
            return (set, Vec::new());
        }
        let mut set = Vec::new();
        let mut removed = Vec::new();
        for (k, v) in self.0 {
            match v {
                Some(v) => set.push((k, v)),
                None => removed.push(k),
            }
        }
        (set, removed)
    }
}

/// A request's session. Cheap to clone, `Send + Sync`; every clone is the
/// same session.
///
/// Values are stored as JSON. Changes are recorded per key and committed
/// when the response is ready, as a delta where the store supports it.
///
/// ```
/// use session_core::{SessionConfig, SessionCore, Timestamp};
///
/// let core = SessionCore::new(SessionConfig::default(), false);
/// let session = core.resume(core.start([]), None, Timestamp::EPOCH).session;
/// session.insert("user", "alice")?;
/// assert_eq!(session.get::<String>("user")?.as_deref(), Some("alice"));
/// session.flash().set("notice", "Welcome")?;
/// session.renew(); // on login: a new id, same data
/// assert!(session.remove("user"));
/// # Ok::<(), session_core::SessionError>(())
/// ```
#[derive(Clone)]
pub struct Session {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for Session {
    // Tokens and cookie values are credentials; values may be personal
    // data. Show only what helps debugging.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Session")
            .field("id", &inner.loaded.as_ref().map(|l| l.id))
            .field("keys", &inner.keys().collect::<Vec<_>>())
            .field("changed", &inner.changes.keys().collect::<Vec<_>>())
            .field("cleared", &inner.cleared)
            .field("destroyed", &inner.destroyed)
            .field("renewed", &inner.renewed)
            .field("finished", &inner.finished)
            .finish_non_exhaustive()
    }
}

impl Session {
    #[inline]
    pub(crate) fn new(inner: Inner) -> Self {
        Self {
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic in another holder leaves the data consistent (every
        // change is a single map operation), so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_accessed(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.lock();
        inner.accessed = true;
        inner
    }

    fn lock_for_write(&self) -> Result<MutexGuard<'_, Inner>, SessionError> {
        let inner = self.lock_accessed();
        if inner.finished {
            return Err(SessionError::Finished);
        }
        Ok(inner)
    }

    /// The value under `key`, deserialized.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let Some(raw) = self.get_value(key) else {
            return Ok(None);
        };
        serde_json::from_str(&raw)
            .map(Some)
            .map_err(|source| SessionError::Deserialize {
                key: key.to_owned(),
                source,
            })
    }

    /// The JSON text stored under `key`.
    pub fn get_value(&self, key: &str) -> Option<Value> {
        self.lock_accessed().value(key).cloned()
    }

    /// Stores `value` under `key`, replacing what was there.
    pub fn insert<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let value = encode(&key, value)?;
        let mut inner = self.lock_for_write()?;
        check_len(&key, &value, inner.config.max_value_bytes)?;
        inner.changes.record(key, Some(value));
        Ok(())
    }

    /// Removes `key`; returns whether it was there.
    pub fn remove(&self, key: &str) -> bool {
        let Ok(mut inner) = self.lock_for_write() else {
            tracing::warn!("session changed after its request was committed; remove ignored");
            return false;
        };
        let was = inner.value(key).is_some();
        // Removing what is not there changes nothing: no store write.
        if was {
            inner.changes.record(key.to_owned(), None);
        }
        was
    }

    /// Drops all data (not the flash). A session left empty is deleted and
    /// its cookie expired.
    pub fn clear(&self) {
        let Ok(mut inner) = self.lock_for_write() else {
            tracing::warn!("session changed after its request was committed; clear ignored");
            return;
        };
        inner.data.clear();
        inner.changes.clear();
        inner.cleared = true;
    }

    /// Ends the session: its record is deleted and its cookie expired.
    /// Values set afterwards start a new session under a new id.
    pub fn destroy(&self) {
        let Ok(mut inner) = self.lock_for_write() else {
            tracing::warn!("session changed after its request was committed; destroy ignored");
            return;
        };
        inner.destroyed = true;
        inner.data.clear();
        inner.changes.clear();
        inner.cleared = true;
        inner.arrived.clear();
        inner.next_flash.clear();
        inner.keep = Keep::None;
    }

    /// Gives the session a new id and keeps its data; the old record is
    /// deleted after the new one is written. Call it on login, against
    /// session fixation.
    pub fn renew(&self) {
        match self.lock_for_write() {
            Ok(mut inner) => inner.renewed = true,
            Err(_) => {
                tracing::warn!("session changed after its request was committed; renew ignored")
            }
        }
    }

    /// The id of the stored session this request resumed; `None` for a new
    /// session (its id is chosen when it is first saved).
    pub fn id(&self) -> Option<SessionId> {
        self.lock().loaded.as_ref().map(|l| l.id)
    }

    /// True when the session holds no data.
    pub fn is_empty(&self) -> bool {
        !self.lock_accessed().holds_data()
    }

    /// The flash: values for the next request, or for this one only.
    pub fn flash(&self) -> Flash {
        Flash {
            session: self.clone(),
        }
    }

    /// The request's plain cookies and the response's.
    pub fn cookies(&self) -> Cookies {
        Cookies {
            session: self.clone(),
        }
    }
}

thread_local! {
    /// Where values are serialized before they are copied into their
    /// shared [`Value`]: one allocation per value instead of two.
    static ENCODE_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Buffers that grew past this are not kept for the next value.
const KEEP_BUF: usize = 16 * 1024;

fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Value, SessionError> {
    let serialize_error = |source| SessionError::Serialize {
        key: key.to_owned(),
        source,
    };
    ENCODE_BUF.with(|cell| {
        // A `Serialize` impl that itself inserts into a session finds the
        // buffer taken, and gets a fresh one.
        let mut fresh = Vec::new();
        let mut guard = cell.try_borrow_mut();
        let buf = match &mut guard {
            Ok(buf) => &mut **buf,
            Err(_) => &mut fresh,
        };
        buf.clear();
        let written = serde_json::to_writer(&mut *buf, value).map_err(serialize_error);
        let value = written.and_then(|()| {
            std::str::from_utf8(buf)
                .map(Value::from)
                .map_err(|e| serialize_error(serde::ser::Error::custom(e)))
        });
        if buf.capacity() > KEEP_BUF {
            *buf = Vec::new();
        }
        value
    })
}

fn check_len(key: &str, value: &Value, max: usize) -> Result<(), SessionError> {
    if key.len() + value.len() > max {
        return Err(SessionError::ValueTooLarge {
            key: key.to_owned(),
            len: key.len() + value.len(),
            max,
        });
    }
    Ok(())
}

/// Flash values: set now, read on the next request only, then gone.
///
/// A request that never touches its session (a favicon, a health check)
/// leaves an arrived flash for the next request that does.
///
/// ```
/// use session_core::{SessionConfig, SessionCore, Timestamp};
///
/// let core = SessionCore::new(SessionConfig::default(), false);
/// let session = core.resume(core.start([]), None, Timestamp::EPOCH).session;
/// let flash = session.flash();
/// flash.set("notice", "Saved")?;              // shown on the next request
/// flash.now("hint", "this request only")?;    // shown now, never stored
/// assert_eq!(flash.get::<String>("hint")?.as_deref(), Some("this request only"));
/// assert_eq!(flash.get::<String>("notice")?, None);
/// # Ok::<(), session_core::SessionError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Flash {
    session: Session,
}

impl Flash {
    /// Sets `key` for the next request.
    pub fn set<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let value = encode(&key, value)?;
        let mut inner = self.session.lock_for_write()?;
        check_len(&key, &value, inner.config.max_value_bytes)?;
        inner.next_flash.insert(key, value);
        Ok(())
    }

    /// Sets `key` for this request only.
    pub fn now<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), SessionError> {
        let key = key.into();
        let value = encode(&key, value)?;
        self.session.lock_for_write()?.now_flash.insert(key, value);
        Ok(())
    }

    /// The value under `key` that arrived with this request (or was set
    /// with [`now`](Self::now)).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let raw = {
            let inner = self.session.lock_accessed();
            inner
                .now_flash
                .get(key)
                .or_else(|| inner.arrived.get(key))
                .cloned()
        };
        let Some(raw) = raw else { return Ok(None) };
        serde_json::from_str(&raw)
            .map(Some)
            .map_err(|source| SessionError::Deserialize {
                key: key.to_owned(),
                source,
            })
    }

    /// Keeps the arrived value under `key` for one more request.
    pub fn keep(&self, key: &str) {
        let mut inner = self.session.lock_accessed();
        match &mut inner.keep {
            Keep::All => {}
            Keep::Some(keys) => {
                keys.insert(key.to_owned());
            }
            keep @ Keep::None => *keep = Keep::Some(BTreeSet::from([key.to_owned()])),
        }
    }

    /// Keeps every arrived value for one more request.
    pub fn keep_all(&self) {
        self.session.lock_accessed().keep = Keep::All;
    }
}
