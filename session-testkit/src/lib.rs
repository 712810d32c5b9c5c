//! # session-testkit
//!
//! Conformance suites for the sessions workspace, published so that a
//! third-party store or adapter runs the same checks as ours:
//!
//! - [`store_suite!`]: every case a [`SessionStore`](session_core::SessionStore)
//!   must pass, one `#[test]` each.
//! - [`adapter_suite!`]: the example contract's scenarios over real HTTP on
//!   127.0.0.1, against any app binary that follows the contract.
//! - [`RedisServer`] / [`RedisCluster`]: real `redis-server` processes on
//!   free loopback ports, for tests.
//! - [`ManualClock`]: a clock tests move by hand.
//!
//! ```no_run
//! // tests/store.rs of a store crate
//! session_testkit::store_suite!(conformance, server_side, || async {
//!     my_store::MyStore::default()
//! });
//! # mod my_store { pub type MyStore = (); }
//! ```
//!
//! The kits use a multi-threaded tokio runtime of their own, so the crate
//! under test needs no runtime dependency for them.

pub mod adapter;
pub mod clock;
pub mod http;
pub mod redis;
pub mod store;
pub mod switch;

pub use clock::ManualClock;
pub use redis::{RedisCluster, RedisServer};
pub use switch::{Calls, Switch};

/// Runs a future to completion on a fresh multi-threaded runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(future),
        Err(e) => panic!("cannot start a tokio runtime for the test: {e}"),
    }
}

/// A free loopback port for a server a test starts, never the same one
/// twice in this process.
///
/// The OS may hand a port it just handed out to the next `bind(0)` once
/// the probe socket is closed: two tests starting servers at once could
/// then both get it, one server fails to bind, and the test that started
/// it talks to the other test's server until that one stops.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("bind a free loopback port")
            .port();
        if GIVEN.lock().unwrap_or_else(|e| e.into_inner()).insert(port) {
            return port;
        }
    }
}
