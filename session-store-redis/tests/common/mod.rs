//! Helpers shared by the integration tests: a store that owns the real
//! server it talks to, and a log capture.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use session_core::{Delta, Record, SessionId, SessionStore, StoreError, Timestamp};
use session_store_redis::RedisStore;
use session_testkit::RedisServer;

/// A store together with the server (or cluster) it uses, so that each
/// suite case gets its own Redis and stops it when done.
pub struct Served<S> {
    pub store: RedisStore,
    pub server: S,
}

impl Served<RedisServer> {
    pub fn single() -> Self {
        let server = RedisServer::start();
        let store = store_for(&server);
        Self { store, server }
    }
}

#[cfg(feature = "cluster")]
impl Served<session_testkit::RedisCluster> {
    pub fn cluster() -> Self {
        let cluster = session_testkit::RedisCluster::start();
        let store = RedisStore::cluster_builder(cluster.urls())
            .build()
            .expect("cluster store");
        Self {
            store,
            server: cluster,
        }
    }
}

/// A store on `server` with the default settings but a short timeout.
pub fn store_for(server: &RedisServer) -> RedisStore {
    RedisStore::builder(server.url())
        .timeout(Duration::from_millis(500))
        .build()
        .expect("store")
}

#[async_trait]
impl<S: Send + Sync + 'static> SessionStore for Served<S> {
    async fn load(&self, token: &str, now: Timestamp) -> Result<Option<Record>, StoreError> {
        self.store.load(token, now).await
    }
    async fn create(&self, record: &Record) -> Result<Option<String>, StoreError> {
        self.store.create(record).await
    }
    async fn update(&self, record: &Record, delta: &Delta) -> Result<Option<String>, StoreError> {
        self.store.update(record, delta).await
    }
    async fn touch(&self, record: &Record) -> Result<Option<String>, StoreError> {
        self.store.touch(record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.store.delete(id).await
    }
}

/// Log lines written while the guard lives (on this thread).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Captures every event on this thread until the guard drops.
    pub fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
