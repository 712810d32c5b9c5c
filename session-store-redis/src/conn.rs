//! The connection: built lazily, reconnecting by itself, every operation
//! bounded in time.

use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, ErrorKind, FromRedisValue, RedisError, RedisResult, ServerErrorKind};
use session_core::{StoreError, StoreErrorKind};
use tokio::sync::OnceCell;

use crate::batch::Batcher;
use crate::scripts::Lua;

/// Where the store connects to.
pub(crate) enum Target {
    Single(redis::Client),
    // Boxed: a cluster client is twice the size of a single-node one.
    #[cfg(feature = "cluster")]
    Cluster(Box<redis::cluster::ClusterClient>),
}

/// A shared, cheaply cloned handle on the live connection.
enum Handle {
    Single(ConnectionManager),
    #[cfg(feature = "cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

/// The connection, created on the first operation: building the store
/// needs neither a runtime nor a reachable server.
pub(crate) struct Conn {
    target: Target,
    timeout: Duration,
    single: OnceCell<ConnectionManager>,
    /// Batches single-node commands; re-made if its runtime went away.
    batcher: std::sync::Mutex<Option<Batcher>>,
    #[cfg(feature = "cluster")]
    cluster: OnceCell<redis::cluster_async::ClusterConnection>,
}

/// No reply within the store's timeout.
#[derive(Debug, thiserror::Error)]
#[error("Redis did not answer within {after:?}")]
struct TimedOut {
    after: Duration,
}

impl Conn {
    pub(crate) fn new(target: Target, timeout: Duration) -> Self {
        Self {
            target,
            timeout,
            single: OnceCell::new(),
            batcher: std::sync::Mutex::new(None),
            #[cfg(feature = "cluster")]
            cluster: OnceCell::new(),
        }
    }

    /// The batching task for `manager`, started in the caller's runtime on
    /// first use (and again if the runtime it ran in has shut down).
    fn batcher(&self, manager: ConnectionManager) -> Batcher {
        let mut slot = self.batcher.lock().unwrap_or_else(|e| e.into_inner());
        match &*slot {
            Some(batcher) if !batcher.is_closed() => batcher.clone(),
            _ => slot.insert(Batcher::spawn(manager)).clone(),
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn is_cluster(&self) -> bool {
        #[cfg(feature = "cluster")]
        if let Target::Cluster(_) = self.target {
            return true;
        }
        false
    }

    async fn handle(&self) -> RedisResult<Handle> {
        match &self.target {
            Target::Single(client) => {
                let manager = self
                    .single
                    .get_or_try_init(|| async {
                        ConnectionManager::new_lazy_with_config(
                            client.clone(),
                            manager_config(self.timeout),
                        )
                    })
                    .await?;
                Ok(Handle::Single(manager.clone()))
            }
            #[cfg(feature = "cluster")]
            // A failed first connection leaves the cell empty, so the next
            // operation tries again; once made, the cluster connection
            // reconnects to nodes and refreshes slots by itself.
            Target::Cluster(client) => {
                let conn = self
                    .cluster
                    .get_or_try_init(|| client.get_async_connection())
                    .await?;
                Ok(Handle::Cluster(conn.clone()))
            }
        }
    }

    async fn send_once<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        match self.handle().await? {
            Handle::Single(conn) => {
                let value = self.batcher(conn).send(cmd).await?;
                Ok(redis::from_redis_value(value)?)
            }
            #[cfg(feature = "cluster")]
            Handle::Cluster(mut conn) => cmd.query_async(&mut conn).await,
        }
    }

    /// Sends one command.
    ///
    /// On a single node, a connection-level failure is tried once more: the
    /// connection manager only notices a dead socket (Redis restarted) when
    /// a command fails on it, and then reconnects, so the retry is what
    /// makes the first request after a restart succeed. Every operation is
    /// idempotent but create, whose retry after a lost reply answers "id
    /// taken"; the core then saves under a fresh id and the first copy
    /// expires by its TTL.
    pub(crate) async fn send<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        match self.send_once(cmd).await {
            Err(e) if !self.is_cluster() && e.is_io_error() && !e.is_timeout() => {
                self.send_once(cmd).await
            }
            result => result,
        }
    }

    /// Runs a script by hash, sending its source only when the server does
    /// not know it yet (first use, or after a restart or failover).
    pub(crate) async fn eval<T: FromRedisValue>(
        &self,
        lua: &Lua,
        key: &str,
        args: impl Fn(&mut Cmd),
    ) -> RedisResult<T> {
        let mut cmd = lua.command(true, key);
        args(&mut cmd);
        match self.send(&cmd).await {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                let mut cmd = lua.command(false, key);
                args(&mut cmd);
                self.send(&cmd).await
            }
            result => result,
        }
    }

    /// Runs `op` within the store's timeout and maps its error.
    pub(crate) async fn bounded<T>(
        &self,
        op: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(store_error(e)),
            Err(_) => Err(StoreError::new(
                StoreErrorKind::Unavailable,
                TimedOut {
                    after: self.timeout,
                },
            )),
        }
    }
}

/// Short connection and response timeouts and few, quick reconnection
/// attempts: the caller's timeout bounds the whole operation anyway, and
/// a long backoff would only delay recovery after Redis comes back.
fn manager_config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(500))
}

/// The cluster client's equivalent of [`manager_config`].
#[cfg(feature = "cluster")]
pub(crate) fn cluster_client(
    urls: &[String],
    timeout: Duration,
) -> RedisResult<redis::cluster::ClusterClient> {
    redis::cluster::ClusterClient::builder(urls.iter().map(String::as_str))
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .overall_response_timeout(Some(timeout))
        .retries(3)
        .min_retry_wait(10)
        .max_retry_wait(200)
        .build()
}

/// Connection trouble and a server that cannot serve right now are
/// "unavailable" (answer 503); anything else is a plain store error.
fn store_error(e: RedisError) -> StoreError {
    let unavailable = e.is_io_error()
        || matches!(
            e.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ReadOnly
                )
        )
        || matches!(e.code(), Some("OOM" | "MISCONF"));
    let kind = if unavailable {
        StoreErrorKind::Unavailable
    } else {
        StoreErrorKind::Other
    };
    StoreError::new(kind, e)
}
