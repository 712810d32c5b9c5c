//! Faults on a real server: killed, restarted, paused. Every operation
//! must end with `Unavailable` (never hang, never panic) and the same store
//! must work again once Redis is back.

mod common;

use std::future::Future;
use std::time::Duration;

use session_core::{Delta, Record, SessionStore, StoreError, StoreErrorKind, Value};
use session_store_redis::RedisStore;
use session_testkit::store::record_with;
use session_testkit::RedisServer;

const STORE_TIMEOUT: Duration = Duration::from_millis(300);
/// A liveness bound, far above the store's timeout: an operation that has
/// not finished by then hangs.
const HANG: Duration = Duration::from_secs(5);

fn store_on(server: &RedisServer) -> RedisStore {
    RedisStore::builder(server.url())
        .timeout(STORE_TIMEOUT)
        .build()
        .expect("store")
}

async fn finishes<T>(what: &str, op: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG, op)
        .await
        .unwrap_or_else(|_| panic!("{what} hung with Redis down"))
}

fn assert_unavailable<T: std::fmt::Debug>(what: &str, result: Result<T, StoreError>) {
    match result {
        Err(e) => assert_eq!(e.kind(), StoreErrorKind::Unavailable, "{what}: {e}"),
        Ok(v) => panic!("{what} succeeded with Redis down: {v:?}"),
    }
}

/// Every operation of the store, each expected to fail with Unavailable.
async fn all_unavailable(store: &RedisStore, r: &Record) {
    let token = r.id.to_string();
    let delta = Delta {
        set: vec![("k".into(), Value::from("1"))],
        ..Delta::default()
    };
    let fresh = record_with(&[]);
    for _ in 0..2 {
        assert_unavailable(
            "load",
            finishes("load", store.load(&token, r.created_at)).await,
        );
        assert_unavailable("create", finishes("create", store.create(&fresh)).await);
        assert_unavailable("update", finishes("update", store.update(r, &delta)).await);
        assert_unavailable("touch", finishes("touch", store.touch(r)).await);
        assert_unavailable("delete", finishes("delete", store.delete(&r.id)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_fails_fast_and_the_store_recovers() {
    let mut server = RedisServer::start_durable();
    let store = store_on(&server);
    let r = record_with(&[("user", "\"alice\"")]);
    let token = store.create(&r).await.unwrap().expect("created");

    server.kill();
    all_unavailable(&store, &r).await;

    server.restart();
    // The same store object, and the first call after the restart, works:
    // the record survived (appendfsync always) and every operation runs.
    let got = store
        .load(&token, r.created_at)
        .await
        .expect("load after restart");
    assert_eq!(got.as_ref(), Some(&r));
    let delta = Delta {
        set: vec![("n".into(), Value::from("2"))],
        ..Delta::default()
    };
    assert!(store.update(&r, &delta).await.unwrap().is_some());
    assert!(store.touch(&r).await.unwrap().is_some());
    let other = record_with(&[]);
    assert!(store.create(&other).await.unwrap().is_some());
    store.delete(&other.id).await.unwrap();
    let got = store.load(&token, r.created_at).await.unwrap().unwrap();
    assert_eq!(got.data["n"].as_ref(), "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_outages_are_survived() {
    let mut server = RedisServer::start();
    let store = store_on(&server);
    for round in 0..3 {
        let r = record_with(&[("round", &round.to_string())]);
        assert!(store.create(&r).await.unwrap().is_some(), "round {round}");
        server.kill();
        all_unavailable(&store, &r).await;
        server.restart();
    }
    let r = record_with(&[]);
    assert!(store.create(&r).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_built_while_redis_is_down_works_once_it_is_up() {
    let mut server = RedisServer::start();
    server.kill();
    let store = store_on(&server);
    let r = record_with(&[("a", "1")]);
    all_unavailable(&store, &r).await;

    server.restart();
    let token = store.create(&r).await.unwrap().expect("created");
    assert_eq!(store.load(&token, r.created_at).await.unwrap(), Some(r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_built_outside_any_runtime_connects_later() {
    let server = RedisServer::start();
    // Building needs no runtime: it does not connect.
    let store = std::thread::spawn({
        let url = server.url();
        move || RedisStore::builder(url).build().expect("store")
    })
    .join()
    .unwrap();
    let r = record_with(&[]);
    assert!(store.create(&r).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_does_not_answer_times_out() {
    let server = RedisServer::start();
    let store = store_on(&server);
    let r = record_with(&[("a", "1")]);
    let token = store.create(&r).await.unwrap().unwrap();
    store.touch(&r).await.unwrap();

    // The server holds every client's commands for 1.5 s: connected but
    // silent, the case a refused connection does not cover.
    server.command(&["CLIENT", "PAUSE", "1500", "ALL"]);
    let err = finishes("load", store.load(&token, r.created_at))
        .await
        .expect_err("a paused server cannot answer");
    assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{err}");
    let err = finishes("touch", store.touch(&r))
        .await
        .expect_err("a paused server cannot answer");
    assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{err}");

    works_after_the_pause(server, &store, &token, r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_in_flight_on_a_silent_server_all_time_out_after_their_timeout() {
    let server = RedisServer::start();
    let store = store_on(&server);
    let r = record_with(&[("a", "1")]);
    let token = store.create(&r).await.unwrap().unwrap();

    // Many commands wait on one connection, under one timer: each must
    // fail as unavailable, none hanging, and none before the first of
    // them has waited its whole timeout (when the oldest command in
    // flight is past its deadline, the connection is given up and every
    // command on it fails with it).
    server.command(&["CLIENT", "PAUSE", "2000", "ALL"]);
    let started = std::time::Instant::now();
    let loads = (0..16).map(|_| {
        let store = store.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let result = store.load(&token, r.created_at).await;
            (result, std::time::Instant::now())
        })
    });
    let results = finishes("loads", futures_util::future::join_all(loads)).await;
    for result in results {
        let (result, ended) = result.expect("task");
        assert_unavailable("load", result);
        let after = ended - started;
        assert!(after >= STORE_TIMEOUT, "failed after {after:?}");
    }
    // A command sent once the others have failed gets a fresh connection
    // and fails the same way, then works when the server answers again.
    assert_unavailable("touch", finishes("touch", store.touch(&r)).await);
    works_after_the_pause(server, &store, &token, r).await;
}

/// Waits out a `CLIENT PAUSE` (a blocking PING returns when it ends),
/// then checks that the same store reads `r` again.
async fn works_after_the_pause(server: RedisServer, store: &RedisStore, token: &str, r: Record) {
    let ping = tokio::task::spawn_blocking(move || {
        let reply = server.command(&["PING"]).text();
        (server, reply)
    });
    let (server, reply) = ping.await.unwrap();
    assert_eq!(reply, "PONG");
    assert_eq!(store.load(token, r.created_at).await.unwrap(), Some(r));
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_queued_behind_a_stuck_handshake_fails_by_its_own_timeout() {
    // A listener that accepts and never answers: the store's AUTH waits
    // for a reply that does not come.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let url = format!("redis://app:s3cret@127.0.0.1:{port}");
    let store = RedisStore::builder(url)
        .timeout(STORE_TIMEOUT)
        .build()
        .unwrap();
    let r = record_with(&[]);
    let first = {
        let store = store.clone();
        let token = r.id.to_string();
        tokio::spawn(async move { store.load(&token, r.created_at).await })
    };
    // The second operation starts while the first one's connection is
    // being made: it must not wait that attempt out and then a whole
    // timeout of its own.
    tokio::time::sleep(STORE_TIMEOUT / 2).await;
    let begun = std::time::Instant::now();
    let second = finishes("load", store.load(&r.id.to_string(), r.created_at)).await;
    let waited = begun.elapsed();
    assert_unavailable("second load", second);
    assert_unavailable("first load", first.await.unwrap());
    assert!(
        waited < STORE_TIMEOUT + STORE_TIMEOUT / 3,
        "the second load took {waited:?} with a timeout of {STORE_TIMEOUT:?}"
    );
}
