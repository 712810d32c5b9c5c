//! # session-store-redis
//!
//! A [`SessionStore`] on Redis or Valkey, on Tokio: a single node over a
//! connection of the store's own (RESP2 over TCP or a Unix socket), or,
//! with the `cluster` feature, Redis Cluster through the `redis` crate.
//!
//! ```no_run
//! use std::time::Duration;
//! use session_core::{SessionConfig, SessionManager};
//! use session_store_redis::RedisStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::builder("redis://127.0.0.1:6379")
//!     .prefix("myapp:session:")
//!     .key_secret(std::env::var("SESSION_KEY_SECRET")?.into_bytes())
//!     .timeout(Duration::from_secs(1))
//!     .build()?; // no connection yet: Redis may still be starting
//! let sessions = SessionManager::new(store, SessionConfig::default());
//! # let _ = sessions;
//! # Ok(()) }
//! ```
//!
//! With the `cluster` feature, start from any of the cluster's nodes:
//!
//! ```no_run
//! # #[cfg(feature = "cluster")]
//! # fn main() -> Result<(), session_store_redis::ConfigError> {
//! let store = session_store_redis::RedisStore::cluster_builder([
//!     "redis://10.0.0.1:6379",
//!     "redis://10.0.0.2:6379",
//! ])
//! .build()?;
//! # let _ = store; Ok(()) }
//! # #[cfg(not(feature = "cluster"))] fn main() {}
//! ```
//!
//! ## Behaviour
//!
//! - **One round trip per operation.** `load` is one `HGETALL`, `delete`
//!   one `DEL`; `create`, `update` and `touch` are one `EVALSHA` each. A
//!   script's source is sent (`EVAL`) only when the server does not know
//!   it yet, once per server start.
//! - **Batching.** On a single node, one connection carries every
//!   request's commands, and those of concurrent requests go out together:
//!   while replies are outstanding, a new command waits one turn of the
//!   run queue for the others that are ready, then all are written at
//!   once (one socket write and read for many requests); with nothing in
//!   flight it goes out at once. Replies and errors still reach each
//!   caller on its own.
//!   Redis Cluster connections send each command as it comes.
//! - **Deltas.** A session is one hash: field `m` holds the meta line
//!   (layout version, created, idle and absolute deadlines, keep-until),
//!   `d:<key>` each data value, `f:<key>` each flash value. Updates apply
//!   the core's [`Delta`] in a script, so two requests that change
//!   different keys of one session both keep their change; for the same
//!   key the last writer wins.
//! - **Never resurrect, never overwrite.** `update` and `touch` write
//!   nothing when the session is gone (a concurrent logout wins); `create`
//!   writes only if the key is free.
//! - **Expiry.** Every key carries a TTL at the record's `keep_until`
//!   (`PEXPIREAT`), and `load` also checks `keep_until` against the `now`
//!   it is given.
//! - **Keys.** The key is `prefix + base64url(HMAC-SHA256(secret, id))`:
//!   the session id itself is stored nowhere, and logs show at most its
//!   first four characters ([`SessionId::short`]). See
//!   [`RedisStoreBuilder::key_secret`] for the default secret.
//! - **Faults.** The connection is made lazily on the first operation and
//!   re-made after a failure, and after a stall: when a command in flight
//!   is past its timeout, every command on that connection fails and the
//!   next one goes out on a fresh connection. Every operation is bounded
//!   by the [timeout](RedisStoreBuilder::timeout), counted from when it
//!   began (a retry included); when Redis is down or slow it
//!   fails with [`StoreErrorKind::Unavailable`] and the same store works
//!   again once Redis is back (a command that meets a dead connection is
//!   sent once more on a fresh one, so the first request after a restart
//!   does not fail).
//! - **Foreign values.** A key holding something this store did not write
//!   (another type, a hash with a bad meta line, non-JSON values, an
//!   unknown layout version) loads as "no session" with a warning in the
//!   log; the request simply gets a fresh session.
//!
//! ## Limitations
//!
//! - A single node's connection runs on the Tokio runtime of the operation
//!   that made it, and is made again on the caller's runtime if that one
//!   has shut down. Under actix-web, whose workers each run a runtime of
//!   their own, that is one worker's thread: it carries every worker's
//!   Redis I/O (as redis-rs's connection manager did). A cluster connection belongs to the runtime that ran
//!   the first operation, which must outlive the store.
//! - No TLS (`rediss://`) and no Sentinel in this build.
//! - TTLs run on the Redis server's clock, deadlines on the app's: keep
//!   both in sync (NTP). `load` never returns a record past `keep_until`
//!   by the app's clock, whatever the TTL says.
//! - Every value of a session is sent in full on `create`; an `update`
//!   sends only the changed keys, but a `load` reads the whole hash.
//! - A `create` whose reply is lost may leave an unused copy of the new
//!   record behind; nobody holds its id and it expires by its TTL.
//! - Stored records use this crate's hash layout, not the byte encoding
//!   of [`Record::encode`]: a field per value is what makes deltas work.
//!
//! [`SessionStore`]: session_core::SessionStore
//! [`Delta`]: session_core::Delta
//! [`SessionId::short`]: session_core::SessionId::short
//! [`StoreErrorKind::Unavailable`]: session_core::StoreErrorKind::Unavailable
//! [`Record::encode`]: session_core::Record::encode

mod builder;
mod conn;
mod keys;
mod layout;
mod link;
mod resp;
mod scripts;
mod store;
mod wire;

use std::fmt;
use std::sync::Arc;

use session_core::SessionId;

pub use builder::{
    ConfigError, RedisStoreBuilder, DEFAULT_PREFIX, DEFAULT_TIMEOUT, MIN_KEY_SECRET_LEN,
};

/// Session records in Redis. Cheap to clone: clones share one connection.
///
/// Build one with [`RedisStore::builder`] (or, with the `cluster`
/// feature, `RedisStore::cluster_builder`).
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    keys: keys::KeyMaker,
    conn: conn::Conn,
    create: scripts::Lua,
    update: scripts::Lua,
}

impl RedisStore {
    /// A builder for a store on the single Redis server at `url`
    /// (`redis://[user:password@]host:port[/db]`).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::single(url.into())
    }

    /// A builder for a store on the Redis Cluster that these nodes belong
    /// to (any subset of its masters; the rest is discovered).
    #[cfg(feature = "cluster")]
    pub fn cluster_builder<I, S>(urls: I) -> RedisStoreBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RedisStoreBuilder::cluster(urls.into_iter().map(Into::into).collect())
    }

    /// The Redis key the session `id` is stored under, for operators who
    /// need to find or remove one session by hand.
    pub fn storage_key(&self, id: &SessionId) -> String {
        self.inner.keys.key(id)
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.inner.keys.prefix())
            .field("cluster", &self.inner.conn.is_cluster())
            .field("timeout", &self.inner.conn.timeout())
            .finish_non_exhaustive()
    }
}
