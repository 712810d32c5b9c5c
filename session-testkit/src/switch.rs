//! A fault injector: wraps a real store and fails every call while off.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use session_core::{Delta, Record, SessionId, SessionStore, StoreError, StoreErrorKind, Timestamp};

/// Wraps a real store; while [`off`](Self::off), every call fails with
/// `Unavailable`, as an unreachable store would. Clones share the switch.
#[derive(Clone, Debug)]
pub struct Switch<S> {
    store: S,
    down: Arc<AtomicBool>,
}

impl<S> Switch<S> {
    /// Wraps `store`, switched on.
    pub fn new(store: S) -> Self {
        Self {
            store,
            down: Arc::new(AtomicBool::new(false)),
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

    fn check(&self) -> Result<(), StoreError> {
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
        self.check()?;
        self.store.load(token, now).await
    }
    async fn create(&self, record: &Record) -> Result<Option<String>, StoreError> {
        self.check()?;
        self.store.create(record).await
    }
    async fn update(&self, record: &Record, delta: &Delta) -> Result<Option<String>, StoreError> {
        self.check()?;
        self.store.update(record, delta).await
    }
    async fn touch(&self, record: &Record) -> Result<Option<String>, StoreError> {
        self.check()?;
        self.store.touch(record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.check()?;
        self.store.delete(id).await
    }
}
