//! The example contract's environment, shared by the three example apps.
//!
//! `PORT` (default 3000, bound on 127.0.0.1), `SESSION_STORE` = `memory`
//! (default) | `cookie` | `redis`, `SESSION_KEY` (cookie-store secret, at
//! least 32 bytes), `REDIS_URL` (default `redis://127.0.0.1:6379`),
//! `SESSION_IDLE_TIMEOUT` seconds (default 1800), `SESSION_ABSOLUTE_TIMEOUT`
//! seconds (unset: none), `WORKERS` (server threads; default: the
//! framework's). One extra, for plain-HTTP development only:
//! `SESSION_COOKIE_SECURE=false` drops the `Secure` attribute (on by default).

use std::sync::Arc;
use std::time::Duration;

use crate::adapter::session_core::{OnTimeout, SessionConfig, SessionStore};

/// The session cookie's name in every example.
pub const COOKIE_NAME: &str = "example-app-sessions";

/// Which store the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Memory,
    Cookie,
    Redis,
}

/// The parsed environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub port: u16,
    pub store: StoreKind,
    pub session_key: Option<String>,
    pub redis_url: String,
    pub idle_timeout: Duration,
    pub absolute_timeout: Option<Duration>,
    pub workers: Option<usize>,
    pub secure: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn number<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match var(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={v:?} is not a valid number")),
    }
}

impl Settings {
    /// Reads the environment; a bad value is an error that names it.
    pub fn from_env() -> Result<Self, String> {
        let store = match var("SESSION_STORE").as_deref().map(str::trim) {
            None | Some("memory") => StoreKind::Memory,
            Some("cookie") => StoreKind::Cookie,
            Some("redis") => StoreKind::Redis,
            Some(other) => {
                return Err(format!(
                    "SESSION_STORE={other:?}: expected memory, cookie or redis"
                ))
            }
        };
        let idle: u64 = number("SESSION_IDLE_TIMEOUT")?.unwrap_or(1800);
        let absolute: Option<u64> = number("SESSION_ABSOLUTE_TIMEOUT")?;
        let workers: Option<usize> = number("WORKERS")?;
        if workers == Some(0) {
            return Err("WORKERS must be at least 1".into());
        }
        let secure = match var("SESSION_COOKIE_SECURE").as_deref() {
            None | Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            Some(other) => {
                return Err(format!(
                    "SESSION_COOKIE_SECURE={other:?}: expected true or false"
                ))
            }
        };
        Ok(Self {
            port: number("PORT")?.unwrap_or(3000),
            store,
            session_key: var("SESSION_KEY"),
            redis_url: var("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            idle_timeout: Duration::from_secs(idle),
            absolute_timeout: absolute.map(Duration::from_secs),
            workers,
            secure,
        })
    }

    /// The session config: the contract's cookie name, timeouts, and a
    /// `303` to `/` on timeout.
    pub fn config(&self) -> Result<SessionConfig, String> {
        SessionConfig::builder()
            .cookie_name(COOKIE_NAME)
            .secure(self.secure)
            .idle_timeout(self.idle_timeout)
            .absolute_timeout(self.absolute_timeout)
            .on_timeout(OnTimeout::Redirect("/".into()))
            .build()
            .map_err(|e| format!("invalid session settings: {e}"))
    }

    /// The store. Call inside the server's tokio runtime: the memory store
    /// starts its cleanup job there.
    pub fn store(&self, config: &SessionConfig) -> Result<Arc<dyn SessionStore>, String> {
        Ok(match self.store {
            StoreKind::Memory => {
                let store = crate::adapter::MemoryStore::default();
                // The job lives as long as the process.
                std::mem::forget(store.spawn_cleanup(Duration::from_secs(60)));
                Arc::new(store)
            }
            StoreKind::Cookie => {
                use crate::adapter::session_store_cookie::CookieStore;
                let store = match &self.session_key {
                    Some(key) => CookieStore::new(key.as_bytes(), config),
                    // Logs a warning: sessions will not survive a restart.
                    None => CookieStore::random_key(config),
                };
                Arc::new(store.map_err(|e| format!("SESSION_KEY: {e}"))?)
            }
            StoreKind::Redis => {
                use crate::adapter::session_store_redis::RedisStore;
                let store = RedisStore::builder(self.redis_url.clone())
                    .build()
                    .map_err(|e| format!("REDIS_URL={:?}: {e}", self.redis_url))?;
                Arc::new(store)
            }
        })
    }
}
