//! Errors a handler or an adapter sees.

use crate::{ConfigError, IdError, StoreError, StoreErrorKind};

/// An error from a session operation.
///
/// Adapters turn it into a response with [`status`](Self::status) and
/// [`public_message`](Self::public_message), and log the full error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The store failed.
    #[error("session store error")]
    Store(#[from] StoreError),
    /// A value could not be serialized for `insert`.
    #[error("cannot serialize session value {key:?}")]
    Serialize {
        /// The key being set.
        key: String,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// A stored value is not of the type `get` asked for.
    #[error("session value {key:?} is not of the requested type")]
    Deserialize {
        /// The key being read.
        key: String,
        /// The deserializer's error.
        #[source]
        source: serde_json::Error,
    },
    /// A value larger than the configured maximum.
    #[error("session value {key:?} is {len} bytes, over the limit of {max}")]
    ValueTooLarge {
        /// The key being set.
        key: String,
        /// Its serialized length.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A response cookie that cannot be written safely.
    #[error("invalid response cookie")]
    InvalidCookie(#[from] ConfigError),
    /// The session was changed after its request had been committed; the
    /// change would be lost.
    #[error("the session was changed after its request was committed")]
    Finished,
    /// No randomness for a new session id.
    #[error("cannot make a session id")]
    Random(#[from] IdError),
}

impl SessionError {
    /// The HTTP status an adapter answers with: 503 when the store is
    /// unreachable, 500 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::Store(e) if e.kind() == StoreErrorKind::Unavailable => 503,
            _ => 500,
        }
    }

    /// A one-line body that reveals nothing internal.
    pub fn public_message(&self) -> &'static str {
        match self.status() {
            503 => "Session store unavailable",
            _ => "Session error",
        }
    }
}
