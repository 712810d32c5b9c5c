//! A fault injector: wraps a real store and fails every call while off.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use session_core::{
    Delta, Record, SessionId, SessionStore, StoreError, StoreErrorKind, Timestamp, Updated,
};

/// Wraps a real store; while [`off`](Self::off), every call fails with
/// `Unavailable`, as an unreachable store would. It also counts the calls
/// of each kind ([`calls`](Self::calls)). Clones share the switch and the
/// counts.
#[derive(Clone, Debug)]
pub struct Switch<S> {
    store: S,
    down: Arc<AtomicBool>,
    counts: Arc<[AtomicUsize; 5]>,
}

/// Calls a [`Switch`] has seen, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Calls {
    /// `load`
    pub load: usize,
    /// `create`
    pub create: usize,
    /// `update`
    pub update: usize,
    /// `touch`
    pub touch: usize,
    /// `delete`
    pub delete: usize,
}

impl<S> Switch<S> {
    /// Wraps `store`, switched on.
    pub fn new(store: S) -> Self {
        Self {
            store,
            down: Arc::new(AtomicBool::new(false)),
            counts: Arc::new(Default::default()),
        }
    }

    /// The calls seen so far.
    pub fn calls(&self) -> Calls {
        let c = |i: usize| self.counts[i].load(Ordering::SeqCst);
        Calls {
            load: c(0),
            create: c(1),
            update: c(2),
            touch: c(3),
            delete: c(4),
        }
    }

    /// Makes every call fail.
    pub fn off(&self) {
        self.down.store(true, Ordering::SeqCst);
    }

    /// Lets calls through again.
    pub fn on(&self) {
        self.down.store(false, Ordering::SeqCst);
    }

    /// An immediate answer of kind `kind`: the outage while off (an
    /// unreachable store may fail at once), else the wrapped store's.
    fn answer_now<T>(
        &self,
        kind: usize,
        answer: impl FnOnce() -> Option<Result<T, StoreError>>,
    ) -> Option<Result<T, StoreError>> {
        if self.down.load(Ordering::SeqCst) {
            self.counts[kind].fetch_add(1, Ordering::SeqCst);
            return Some(Err(StoreError::from_kind(StoreErrorKind::Unavailable)));
        }
        let answer = answer()?;
        self.counts[kind].fetch_add(1, Ordering::SeqCst);
        Some(answer)
    }

    fn check(&self, kind: usize) -> Result<(), StoreError> {
        self.counts[kind].fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::from_kind(StoreErrorKind::Unavailable));
        }
        Ok(())
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for Switch<S> {
    fn client_side(&self) -> bool {
        self.store.client_side()
    }
    async fn load(&self, token: &str, now: Timestamp) -> Result<Option<Record>, StoreError> {
        self.check(0)?;
        self.store.load(token, now).await
    }
    async fn create(&self, record: &Record) -> Result<Option<String>, StoreError> {
        self.check(1)?;
        self.store.create(record).await
    }
    async fn update(&self, record: &Record, delta: &Delta) -> Result<Option<String>, StoreError> {
        self.check(2)?;
        self.store.update(record, delta).await
    }
    async fn touch(&self, record: &Record) -> Result<Option<String>, StoreError> {
        self.check(3)?;
        self.store.touch(record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.check(4)?;
        self.store.delete(id).await
    }
    // The immediate answers go through the switch too, so adapters' fast
    // paths meet the outage; a store that would wait is counted when its
    // `load` / `update` is called.
    fn load_now(
        &self,
        token: &str,
        id: Option<&SessionId>,
        now: Timestamp,
    ) -> Option<Result<Option<Record>, StoreError>> {
        self.answer_now(0, || self.store.load_now(token, id, now))
    }
    fn update_now(&self, record: &Record, delta: &Delta) -> Option<Result<Updated, StoreError>> {
        self.answer_now(2, || self.store.update_now(record, delta))
    }
}
