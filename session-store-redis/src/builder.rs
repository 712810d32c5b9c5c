//! Configuration of a [`RedisStore`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::conn::{Conn, Target};
use crate::keys::{KeyMaker, DEFAULT_KEY_SECRET};
use crate::scripts::Lua;
use crate::{Inner, RedisStore};

/// The key prefix used unless [`RedisStoreBuilder::prefix`] sets another.
pub const DEFAULT_PREFIX: &str = "session:";

/// How long one store operation may take unless
/// [`RedisStoreBuilder::timeout`] sets another bound.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The shortest secret [`RedisStoreBuilder::key_secret`] accepts.
pub const MIN_KEY_SECRET_LEN: usize = 32;

enum Nodes {
    Single(String),
    #[cfg(feature = "cluster")]
    Cluster(Vec<String>),
}

/// Builds a [`RedisStore`]; see [`RedisStore::builder`].
///
/// Building is synchronous and does not connect: the store connects on its
/// first operation and reconnects by itself, so it can be built while
/// Redis is down.
#[must_use]
pub struct RedisStoreBuilder {
    nodes: Nodes,
    prefix: String,
    key_secret: Option<Vec<u8>>,
    timeout: Duration,
}

impl RedisStoreBuilder {
    pub(crate) fn single(url: String) -> Self {
        Self::new(Nodes::Single(url))
    }

    #[cfg(feature = "cluster")]
    pub(crate) fn cluster(urls: Vec<String>) -> Self {
        Self::new(Nodes::Cluster(urls))
    }

    fn new(nodes: Nodes) -> Self {
        Self {
            nodes,
            prefix: DEFAULT_PREFIX.to_owned(),
            key_secret: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The text every key starts with (default [`DEFAULT_PREFIX`]), so the
    /// sessions of several apps can share one server.
    ///
    /// On Redis Cluster, keep `{` out of the prefix: a hash tag in it would
    /// put every session in one slot.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The HMAC-SHA256 key that turns session ids into Redis keys; at least
    /// [`MIN_KEY_SECRET_LEN`] bytes.
    ///
    /// Every process that shares the sessions must use the same secret;
    /// changing it orphans the stored sessions (they expire by their TTL).
    /// Without a secret the key is the fixed, documented string
    /// `session-store-redis/v1 default storage key`: the keys are still a
    /// one-way function of the 192-bit ids, so a dump of Redis does not
    /// reveal them, but whoever knows an id can then find its key.
    pub fn key_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.key_secret = Some(secret.into());
        self
    }

    /// The longest one store operation may take, reconnecting included
    /// (default [`DEFAULT_TIMEOUT`]). Past it the operation fails with
    /// [`StoreErrorKind::Unavailable`](session_core::StoreErrorKind::Unavailable).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the configuration and makes the store, without connecting.
    pub fn build(self) -> Result<RedisStore, ConfigError> {
        if self.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        let secret = match &self.key_secret {
            Some(s) if s.len() < MIN_KEY_SECRET_LEN => {
                return Err(ConfigError::ShortKeySecret { len: s.len() })
            }
            Some(s) => s.as_slice(),
            None => DEFAULT_KEY_SECRET,
        };
        let target = match &self.nodes {
            Nodes::Single(url) => {
                Target::Single(redis::Client::open(url.as_str()).map_err(ConfigError::Url)?)
            }
            #[cfg(feature = "cluster")]
            Nodes::Cluster(urls) => {
                if urls.is_empty() {
                    return Err(ConfigError::NoNodes);
                }
                let client =
                    crate::conn::cluster_client(urls, self.timeout).map_err(ConfigError::Url)?;
                Target::Cluster(Box::new(client))
            }
        };
        let keys = KeyMaker::new(self.prefix, secret)
            .ok_or(ConfigError::ShortKeySecret { len: secret.len() })?;
        Ok(RedisStore {
            inner: Arc::new(Inner {
                keys,
                conn: Conn::new(target, self.timeout),
                create: Lua::create(),
                update: Lua::update(),
            }),
        })
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("prefix", &self.prefix)
            .field("key_secret", &self.key_secret.as_ref().map(|_| "set"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why [`RedisStoreBuilder::build`] refused the configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A Redis URL could not be used (malformed, or it asks for TLS, which
    /// this build does not include).
    #[error("invalid Redis URL")]
    Url(#[source] redis::RedisError),
    /// The key secret is shorter than [`MIN_KEY_SECRET_LEN`].
    #[error("the key secret has {len} bytes; at least {MIN_KEY_SECRET_LEN} are needed")]
    ShortKeySecret {
        /// The length given.
        len: usize,
    },
    /// A timeout of zero would fail every operation.
    #[error("the timeout must be longer than zero")]
    ZeroTimeout,
    /// A cluster needs at least one node to start from.
    #[error("no cluster node URL given")]
    NoNodes,
}
