//! # session-store-memory
//!
//! The default session store: records kept in this process, in a sharded
//! map, with per-record expiry checked on every read and a cleanup job that
//! sweeps expired records (the Luminus seeds' 30-minute cleanup, done
//! right).
//!
//! ```
//! use session_store_memory::MemoryStore;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let store = MemoryStore::builder().max_sessions(100_000).build();
//! let cleanup = store.spawn_cleanup(std::time::Duration::from_secs(60));
//! // … hand `store.clone()` to an adapter …
//! cleanup.stop().await;
//! # }
//! ```
//!
//! ## When to use it
//!
//! One process: development, tests, a single server. Sessions die with the
//! process and are not shared between processes; run several processes (or
//! restart without logging everyone out) and you want the Redis store.
//!
//! ## Behaviour
//!
//! - A record is never returned at or after its `keep_until`, whether or
//!   not the sweep has run.
//! - Writes take one shard's lock for a map operation; nothing is
//!   serialized and no lock is held across an `.await`. Reads never take a
//!   global lock.
//! - With [`max_sessions`](MemoryStoreBuilder::max_sessions), a full store
//!   first drops expired records (at most one sweep a second), then
//!   follows [`WhenFull`]. Eviction picks the soonest-expiring record of
//!   one shard (1/64 of the store), not of the whole map, so it stays
//!   cheap under a flood of new sessions.
//! - Records are keyed by the raw session id. The map lives in process
//!   memory, which also holds the ids in request buffers, so a keyed hash
//!   would protect nothing here (see SECURITY.md).
//!
//! ## Crate features
//!
//! - `tokio` (default): [`MemoryStore::spawn_cleanup`]. Without it, call
//!   [`MemoryStore::sweep`] yourself.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use session_core::{
    Delta, Record, SessionId, SessionStore, StoreError, StoreErrorKind, Timestamp, Updated,
};

#[cfg(feature = "tokio")]
mod cleanup;
#[cfg(feature = "tokio")]
pub use cleanup::Cleanup;

const SHARDS: usize = 64;

/// Session ids are uniformly random: their first bytes are a hash already.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(buf);
        }
    }
}

type Shard = RwLock<HashMap<SessionId, Record, BuildHasherDefault<IdHasher>>>;

/// What a full store does with a new session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Refuse it with an `Unavailable` store error (the adapter answers 503).
    #[default]
    Refuse,
    /// Evict the record closest to expiry to make room.
    EvictSoonestExpiring,
}

struct Shared {
    shards: Vec<Shard>,
    len: AtomicUsize,
    /// The latest `now` seen from callers; the store never reads a clock.
    seen: AtomicI64,
    /// When a full store last swept, so a full store sweeps at most once a
    /// second instead of on every create.
    last_sweep: AtomicI64,
    max: Option<usize>,
    when_full: WhenFull,
}

/// The in-process store. Cheap to clone; clones share the records.
#[derive(Clone)]
pub struct MemoryStore {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.len())
            .field("max", &self.shared.max)
            .finish()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::builder().build()
    }
}

/// Builder for [`MemoryStore`].
#[derive(Debug, Default, Clone)]
pub struct MemoryStoreBuilder {
    max: Option<usize>,
    when_full: WhenFull,
}

impl MemoryStoreBuilder {
    /// Bounds the number of stored sessions (default: unbounded).
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max = Some(n);
        self
    }

    /// What to do when the bound is reached (default [`WhenFull::Refuse`]).
    pub fn when_full(mut self, policy: WhenFull) -> Self {
        self.when_full = policy;
        self
    }

    /// The store.
    pub fn build(self) -> MemoryStore {
        MemoryStore {
            shared: Arc::new(Shared {
                shards: (0..SHARDS).map(|_| Shard::default()).collect(),
                len: AtomicUsize::new(0),
                seen: AtomicI64::new(i64::MIN),
                last_sweep: AtomicI64::new(i64::MIN),
                max: self.max,
                when_full: self.when_full,
            }),
        }
    }
}

/// The error source when a bounded store is full.
#[derive(Debug)]
struct StoreFull(usize);

impl std::fmt::Display for StoreFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "memory session store is full ({} sessions)", self.0)
    }
}

impl std::error::Error for StoreFull {}

impl MemoryStore {
    /// An unbounded store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a builder.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// The number of stored records, expired ones included until swept.
    pub fn len(&self) -> usize {
        self.shared.len.load(Ordering::Relaxed)
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn saw(&self, now: Timestamp) {
        self.shared
            .seen
            .fetch_max(now.unix_millis(), Ordering::Relaxed);
    }

    /// The latest time a caller told us about, or `at_least`.
    fn now_hint(&self, at_least: Timestamp) -> Timestamp {
        let seen = self.shared.seen.load(Ordering::Relaxed);
        Timestamp::from_unix_millis(seen.max(at_least.unix_millis()))
    }

    fn shard_index(id: &SessionId) -> usize {
        usize::from(id.as_bytes()[ID_SHARD_BYTE]) % SHARDS
    }

    fn shard(&self, id: &SessionId) -> &Shard {
        &self.shared.shards[Self::shard_index(id)]
    }

    /// Drops every record expired at `now`; returns how many. Needs no
    /// runtime: call it from your own scheduler if you like.
    pub fn sweep(&self, now: Timestamp) -> usize {
        self.saw(now);
        let mut removed = 0;
        for shard in &self.shared.shards {
            let mut map = write(shard);
            let before = map.len();
            map.retain(|_, r| r.is_kept_at(now));
            removed += before - map.len();
        }
        self.shared.len.fetch_sub(removed, Ordering::Relaxed);
        removed
    }

    /// Makes room for one record, or refuses.
    fn reserve(&self, now: Timestamp, shard: usize) -> Result<(), StoreError> {
        let Some(max) = self.shared.max else {
            self.shared.len.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        };
        for attempt in 0..3 {
            let len = self.shared.len.load(Ordering::Relaxed);
            if len < max {
                if self
                    .shared
                    .len
                    .compare_exchange(len, len + 1, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    return Ok(());
                }
                continue;
            }
            if attempt == 0 && self.sweep_due(now) && self.sweep(now) > 0 {
                continue;
            }
            if self.shared.when_full == WhenFull::EvictSoonestExpiring && self.evict_one(shard) {
                continue;
            }
            break;
        }
        Err(StoreError::new(StoreErrorKind::Unavailable, StoreFull(max)))
    }

    /// True at most once a second (by callers' time): a full store does
    /// not pay a whole-map sweep on every create.
    fn sweep_due(&self, now: Timestamp) -> bool {
        let last = self.shared.last_sweep.load(Ordering::Relaxed);
        now.unix_millis().saturating_sub(last) >= 1000
            && self
                .shared
                .last_sweep
                .compare_exchange(last, now.unix_millis(), Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    /// Evicts the record with the earliest `keep_until` in the new record's
    /// shard (or the next non-empty one): a 1/64 sample of the store, so a
    /// full store's create costs one shard scan, not a whole-map scan.
    fn evict_one(&self, start: usize) -> bool {
        for k in 0..SHARDS {
            let shard = &self.shared.shards[(start + k) % SHARDS];
            let mut map = write(shard);
            let soonest = map
                .iter()
                .min_by_key(|(_, r)| r.keep_until)
                .map(|(id, _)| *id);
            if let Some(id) = soonest {
                map.remove(&id);
                drop(map);
                self.shared.len.fetch_sub(1, Ordering::Relaxed);
                return true;
            }
        }
        false
    }
}

/// Which id byte picks the shard (any byte is uniformly random).
const ID_SHARD_BYTE: usize = 23;

fn read(
    shard: &Shard,
) -> std::sync::RwLockReadGuard<'_, HashMap<SessionId, Record, BuildHasherDefault<IdHasher>>> {
    // Every critical section is one map operation: a poisoned lock still
    // guards a consistent map.
    shard.read().unwrap_or_else(|e| e.into_inner())
}

fn write(
    shard: &Shard,
) -> std::sync::RwLockWriteGuard<'_, HashMap<SessionId, Record, BuildHasherDefault<IdHasher>>> {
    shard.write().unwrap_or_else(|e| e.into_inner())
}

impl MemoryStore {
    fn load_id(&self, id: &SessionId, now: Timestamp) -> Option<Record> {
        if self.shared.max.is_some() {
            self.saw(now);
        }
        read(self.shard(id))
            .get(id)
            .filter(|r| r.is_kept_at(now))
            .cloned()
    }

    /// False when the record is gone.
    fn update_in_place(&self, record: &Record, delta: &Delta) -> bool {
        let mut map = write(self.shard(&record.id));
        // Deleted meanwhile (a logout): never resurrect it.
        let Some(stored) = map.get_mut(&record.id) else {
            return false;
        };
        stored.apply(delta, record);
        true
    }
}

// Every operation is a map operation under a lock: `load_now` and
// `update_now` answer at once, and the async methods give the same answers.
#[async_trait]
impl SessionStore for MemoryStore {
    /// `true`: an update merges the delta into the stored record.
    fn applies_deltas(&self) -> bool {
        true
    }

    async fn load(&self, token: &str, now: Timestamp) -> Result<Option<Record>, StoreError> {
        Ok(SessionId::parse(token).and_then(|id| self.load_id(&id, now)))
    }

    fn load_now(
        &self,
        token: &str,
        id: Option<&SessionId>,
        now: Timestamp,
    ) -> Option<Result<Option<Record>, StoreError>> {
        let id = id.copied().or_else(|| SessionId::parse(token));
        Some(Ok(id.and_then(|id| self.load_id(&id, now))))
    }

    fn update_now(&self, record: &Record, delta: &Delta) -> Option<Result<Updated, StoreError>> {
        Some(Ok(match self.update_in_place(record, delta) {
            true => Updated::Same,
            false => Updated::Gone,
        }))
    }

    async fn create(&self, record: &Record) -> Result<Option<String>, StoreError> {
        // An id already present (even expired and not yet swept) is taken:
        // create never overwrites.
        if read(self.shard(&record.id)).contains_key(&record.id) {
            return Ok(None);
        }
        self.reserve(
            self.now_hint(record.created_at),
            Self::shard_index(&record.id),
        )?;
        let mut map = write(self.shard(&record.id));
        if map.contains_key(&record.id) {
            drop(map);
            self.shared.len.fetch_sub(1, Ordering::Relaxed);
            return Ok(None);
        }
        map.insert(record.id, record.clone());
        Ok(Some(record.id.to_token()))
    }

    async fn update(&self, record: &Record, delta: &Delta) -> Result<Option<String>, StoreError> {
        Ok(self
            .update_in_place(record, delta)
            .then(|| record.id.to_token()))
    }

    async fn touch(&self, record: &Record) -> Result<Option<String>, StoreError> {
        match write(self.shard(&record.id)).get_mut(&record.id) {
            Some(stored) => {
                stored.idle_deadline = record.idle_deadline;
                stored.absolute_deadline = record.absolute_deadline;
                stored.keep_until = record.keep_until;
                Ok(Some(record.id.to_token()))
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        if write(self.shard(id)).remove(id).is_some() {
            self.shared.len.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(())
    }
}
