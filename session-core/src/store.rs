//! The store port: what every session store implements.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{Delta, Record, SessionId, Timestamp};

/// A boxed error source.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A place that keeps session records.
///
/// The core decides everything; a store only keeps records and applies the
/// operations it is handed, each in one round trip where it can:
///
/// | method | when | returns |
/// |---|---|---|
/// | [`load`](Self::load) | a request carries a token | the record, or `None` if unknown or past [`Record::keep_until`] |
/// | [`create`](Self::create) | a new or renewed session is saved | the token for the cookie, or `None` if the id is taken (the core retries with another id) |
/// | [`update`](Self::update) | a loaded session changed | the token, or `None` if the record is gone (never resurrect it) |
/// | [`touch`](Self::touch) | only the deadline moved | the token, or `None` if the record is gone |
/// | [`delete`](Self::delete) | destroy, clear, renew, timeout | nothing |
///
/// A server-side store returns the id's text as the token. A client-side
/// store (see [`client_side`](Self::client_side)) returns the sealed record.
///
/// For server-side stores the core only calls `load` with a token that
/// parses as a [`SessionId`]. A client-side store gets any non-empty token
/// of at most [`MAX_TOKEN_LEN`](crate::MAX_TOKEN_LEN) bytes, as the browser
/// sent it: it must treat what it cannot open as no session (`Ok(None)`).
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use async_trait::async_trait;
/// use session_core::{Delta, Record, SessionId, SessionStore, StoreError, Timestamp};
///
/// #[derive(Default)]
/// struct MapStore(Mutex<HashMap<SessionId, Record>>);
///
/// #[async_trait]
/// impl SessionStore for MapStore {
///     async fn load(&self, token: &str, now: Timestamp) -> Result<Option<Record>, StoreError> {
///         let Some(id) = SessionId::parse(token) else { return Ok(None) };
///         let map = self.0.lock().unwrap();
///         Ok(map.get(&id).filter(|r| r.is_kept_at(now)).cloned())
///     }
///     async fn create(&self, record: &Record) -> Result<Option<String>, StoreError> {
///         let mut map = self.0.lock().unwrap();
///         if map.contains_key(&record.id) { return Ok(None) }
///         map.insert(record.id, record.clone());
///         Ok(Some(record.id.to_string()))
///     }
///     async fn update(&self, record: &Record, delta: &Delta) -> Result<Option<String>, StoreError> {
///         let mut map = self.0.lock().unwrap();
///         let Some(stored) = map.get_mut(&record.id) else { return Ok(None) };
///         stored.apply(delta, record);
///         Ok(Some(record.id.to_string()))
///     }
///     async fn touch(&self, record: &Record) -> Result<Option<String>, StoreError> {
///         self.update(record, &Delta::default()).await
///     }
///     async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
///         self.0.lock().unwrap().remove(id);
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// True for a store that keeps the record in the cookie itself. It cannot
    /// revoke a session before its sealed deadline.
    fn client_side(&self) -> bool {
        false
    }

    /// True for a store whose [`update`](Self::update) and
    /// [`touch`](Self::touch) change the stored record with the delta and
    /// `record`'s deadlines alone, never reading `record.data` (the memory
    /// and Redis stores). The core then hands them a record with empty
    /// data: a request that changes one key of a map it shares with the
    /// store (or with other requests) does not copy the whole map to merge
    /// its change into. The default, `false`, gets the merged data;
    /// [`create`](Self::create) always does.
    fn applies_deltas(&self) -> bool {
        false
    }

    /// Loads the record the token names. An expired record (`now` at or past
    /// `keep_until`) is never returned.
    async fn load(&self, token: &str, now: Timestamp) -> Result<Option<Record>, StoreError>;

    /// Inserts a new record only if its id is free.
    async fn create(&self, record: &Record) -> Result<Option<String>, StoreError>;

    /// Applies `delta` and `record`'s deadlines to the stored record, if it
    /// still exists. A client-side store seals `record` as it is.
    async fn update(&self, record: &Record, delta: &Delta) -> Result<Option<String>, StoreError>;

    /// Moves the stored record's deadlines to `record`'s, if it still exists.
    async fn touch(&self, record: &Record) -> Result<Option<String>, StoreError>;

    /// Deletes the record (a no-op if it is gone already).
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError>;

    /// [`load`](Self::load) for a store that answers without waiting (in
    /// memory, or opening a sealed cookie): `Some` answer at once, and the
    /// core skips the boxed future. `id` is the token already parsed
    /// (server-side stores). The default, `None`, means "call `load`".
    ///
    /// An answer here must be the one `load` would give.
    fn load_now(
        &self,
        token: &str,
        id: Option<&SessionId>,
        now: Timestamp,
    ) -> Option<Result<Option<Record>, StoreError>> {
        let _ = (token, id, now);
        None
    }

    /// [`update`](Self::update) answered at once, as
    /// [`load_now`](Self::load_now) is. When this returns `Some`, the
    /// update is done and `update` is not called.
    ///
    /// A server-side store answers [`Updated::Same`]: its token is the
    /// id, which an update never changes, so no text is built for it.
    fn update_now(&self, record: &Record, delta: &Delta) -> Option<Result<Updated, StoreError>> {
        let _ = (record, delta);
        None
    }
}

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        #[async_trait]
        impl<S: SessionStore + ?Sized> SessionStore for $ty {
            fn client_side(&self) -> bool {
                (**self).client_side()
            }
            fn applies_deltas(&self) -> bool {
                (**self).applies_deltas()
            }
            async fn load(&self, token: &str, now: Timestamp) -> Result<Option<Record>, StoreError> {
                (**self).load(token, now).await
            }
            async fn create(&self, record: &Record) -> Result<Option<String>, StoreError> {
                (**self).create(record).await
            }
            async fn update(&self, record: &Record, delta: &Delta) -> Result<Option<String>, StoreError> {
                (**self).update(record, delta).await
            }
            async fn touch(&self, record: &Record) -> Result<Option<String>, StoreError> {
                (**self).touch(record).await
            }
            async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
                (**self).delete(id).await
            }
            fn load_now(
                &self,
                token: &str,
                id: Option<&SessionId>,
                now: Timestamp,
            ) -> Option<Result<Option<Record>, StoreError>> {
                (**self).load_now(token, id, now)
            }
            fn update_now(
                &self,
                record: &Record,
                delta: &Delta,
            ) -> Option<Result<Updated, StoreError>> {
                (**self).update_now(record, delta)
            }
        }
    )*};
}
forward_store!(Arc<S>, Box<S>);

/// What an immediate update ([`SessionStore::update_now`]) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updated {
    /// Stored, and the token is the one the request carried (a
    /// server-side store: the id).
    Same,
    /// Stored under this token (a client-side store's new sealed cookie).
    Token(String),
    /// The record is gone (deleted meanwhile, or expired): nothing was
    /// stored, as `update` answers `None`.
    Gone,
}

/// What kind of store failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store cannot be reached or did not answer in time (answer 503).
    Unavailable,
    /// The store refused the write because of a conflicting state.
    Conflict,
    /// The record is too large for the store (for cookies: 4096 bytes).
    TooLarge,
    /// The record could not be encoded or decoded.
    Serialization,
    /// Anything else.
    Other,
}

impl fmt::Display for StoreErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unavailable => "store unavailable",
            Self::Conflict => "conflict",
            Self::TooLarge => "record too large",
            Self::Serialization => "serialization failed",
            Self::Other => "store error",
        })
    }
}

/// A store failure: a kind, and the error that caused it.
#[derive(Debug)]
pub struct StoreError {
    kind: StoreErrorKind,
    source: Option<BoxError>,
}

impl StoreError {
    /// An error of `kind` caused by `source`.
    pub fn new(kind: StoreErrorKind, source: impl Into<BoxError>) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// An error of `kind` with no underlying cause.
    pub fn from_kind(kind: StoreErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// The kind of failure.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(s) => write!(f, "{}: {s}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
