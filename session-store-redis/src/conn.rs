//! The connection: built lazily, reconnecting by itself, every operation
//! bounded in time.

use std::future::Future;
use std::time::{Duration, Instant};

use redis::{ErrorKind, FromRedisValue, RedisError, RedisResult, ServerErrorKind};
use session_core::{StoreError, StoreErrorKind};
#[cfg(feature = "cluster")]
use tokio::sync::OnceCell;

use crate::keys::Key;
use crate::link::Link;
use crate::resp::Command;
use crate::scripts::Lua;
use crate::wire::Answer;

/// Where the store connects to.
pub(crate) enum Target {
    Single(redis::Client),
    // Boxed: a cluster client is twice the size of a single-node one.
    #[cfg(feature = "cluster")]
    Cluster(Box<redis::cluster::ClusterClient>),
}

/// The connection, created on the first operation: building the store
/// needs neither a runtime nor a reachable server.
pub(crate) struct Conn {
    target: Target,
    timeout: Duration,
    /// The single-node connection's task; re-made if its runtime went away.
    link: std::sync::Mutex<Option<Link>>,
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
            link: std::sync::Mutex::new(None),
            #[cfg(feature = "cluster")]
            cluster: OnceCell::new(),
        }
    }

    /// The connection task for `client`, started in the caller's runtime
    /// on first use (and again if the runtime it ran in has shut down).
    fn link(&self, client: &redis::Client) -> Link {
        let mut slot = self.link.lock().unwrap_or_else(|e| e.into_inner());
        match &*slot {
            Some(link) if !link.is_closed() => link.clone(),
            _ => slot
                .insert(Link::spawn(
                    client.get_connection_info().clone(),
                    self.timeout,
                ))
                .clone(),
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

    async fn send_once(&self, cmd: &Command, deadline: Instant) -> RedisResult<Answer> {
        match &self.target {
            Target::Single(client) => self.link(client).send(cmd.packed(), deadline).await,
            #[cfg(feature = "cluster")]
            // A failed first connection leaves the cell empty, so the next
            // operation tries again; once made, the cluster connection
            // reconnects to nodes and refreshes slots by itself.
            Target::Cluster(client) => {
                let mut conn = self
                    .cluster
                    .get_or_try_init(|| client.get_async_connection())
                    .await?
                    .clone();
                cmd.to_cmd()
                    .query_async::<redis::Value>(&mut conn)
                    .await
                    .map(Answer::Value)
            }
        }
    }

    /// Sends one command and hands back its reply as read: an array as its
    /// bytes from a single node (see [`Answer`]).
    ///
    /// On a single node, a connection-level failure is tried once more: a
    /// command written just as the socket died (Redis restarted) fails,
    /// and the retry goes out on a fresh connection, so the first request
    /// after a restart succeeds, within the same deadline. Every operation
    /// is idempotent but create, whose retry after a lost reply answers "id
    /// taken"; the core then saves under a fresh id and the first copy
    /// expires by its TTL.
    pub(crate) async fn answer(&self, cmd: &Command, deadline: Instant) -> RedisResult<Answer> {
        match self.send_once(cmd, deadline).await {
            Err(e) if !self.is_cluster() && e.is_io_error() && !e.is_timeout() => {
                self.send_once(cmd, deadline).await
            }
            result => result,
        }
    }

    /// Sends one command ([`answer`](Self::answer)) and converts its reply.
    pub(crate) async fn send<T: FromRedisValue>(
        &self,
        cmd: &Command,
        deadline: Instant,
    ) -> RedisResult<T> {
        let answer = self.answer(cmd, deadline).await?;
        Ok(redis::from_redis_value(answer.into_value())?)
    }

    /// Runs a script by hash, sending its source only when the server does
    /// not know it yet (first use, or after a restart or failover).
    pub(crate) async fn eval<T: FromRedisValue>(
        &self,
        lua: &Lua,
        key: &Key<'_>,
        deadline: Instant,
        args: impl Fn(&mut Command),
    ) -> RedisResult<T> {
        let mut cmd = lua.command(true, key);
        args(&mut cmd);
        match self.send(&cmd, deadline).await {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                let mut cmd = lua.command(false, key);
                args(&mut cmd);
                self.send(&cmd, deadline).await
            }
            result => result,
        }
    }

    /// Runs `op`, given the deadline the store's timeout sets from now,
    /// and maps its error; no reply by then is `Unavailable`.
    ///
    /// On a single node the connection's task enforces the deadline (one
    /// timer for every command in flight, see [`link`](crate::link)); the
    /// cluster client's operation gets a timer of its own here.
    pub(crate) async fn bounded<T, F>(&self, op: impl FnOnce(Instant) -> F) -> Result<T, StoreError>
    where
        F: Future<Output = RedisResult<T>>,
    {
        let deadline = Instant::now() + self.timeout;
        if !self.is_cluster() {
            return op(deadline).await.map_err(store_error);
        }
        let Ok(result) = tokio::time::timeout_at(deadline.into(), op(deadline)).await else {
            let after = self.timeout;
            return Err(StoreError::new(
                StoreErrorKind::Unavailable,
                TimedOut { after },
            ));
        };
        result.map_err(store_error)
    }
}

/// The cluster client: short connection and response timeouts and few,
/// quick retries, since the caller's timeout bounds the whole operation.
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
