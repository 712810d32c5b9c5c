//! Concurrent operations share pipelines: fewer socket reads on the server
//! than commands, every caller still gets its own reply, and one command's
//! error stays with its caller.

mod common;

use futures_util::future::join_all;
use session_core::{Delta, SessionStore, Value};
use session_testkit::store::record_with;
use session_testkit::RedisServer;

/// The server's `total_reads_processed` (socket reads, all clients).
fn reads(server: &RedisServer) -> u64 {
    let info = server.command(&["INFO", "stats"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("total_reads_processed:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO stats has total_reads_processed")
}

// One worker, like the benchmarks' servers: each request is its own task,
// as HTTP connections are.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn concurrent_loads_share_socket_reads_and_keep_their_own_replies() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    let mut records = Vec::new();
    for n in 0..64 {
        let r = record_with(&[("n", &n.to_string())]);
        assert!(store.create(&r).await.unwrap().is_some());
        records.push(r);
    }
    // A foreign value under one session's key: its HGETALL fails with
    // WRONGTYPE inside a batch of good replies.
    let foreign = record_with(&[("n", "-1")]);
    server.command(&["SET", &store.storage_key(&foreign.id), "junk"]);

    let all: Vec<_> = records.iter().chain([&foreign]).collect();
    let tokens: Vec<String> = all.iter().map(|r| r.id.to_string()).collect();
    let before = reads(&server);
    let tasks: Vec<_> = all
        .iter()
        .zip(tokens)
        .map(|(r, token)| {
            let store = store.clone();
            let at = r.created_at;
            tokio::spawn(async move { store.load(&token, at).await })
        })
        .collect();
    let got: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(|joined| joined.expect("the task ran"))
        .collect();
    let after = reads(&server);

    for (r, loaded) in records.iter().zip(&got) {
        let loaded = loaded.as_ref().unwrap().as_ref().expect("a record");
        assert_eq!(loaded.id, r.id);
        assert_eq!(loaded.data, r.data, "a reply went to the wrong caller");
    }
    assert!(matches!(got.last(), Some(Ok(None))), "{:?}", got.last());
    // 65 commands; the test's own INFO is one read more.
    assert!(
        after - before <= 8,
        "65 concurrent loads took {} socket reads on the server",
        after - before
    );
}

#[tokio::test]
async fn concurrent_updates_of_one_session_all_land() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    let r = record_with(&[]);
    assert!(store.create(&r).await.unwrap().is_some());
    let deltas: Vec<Delta> = (0..40)
        .map(|n| Delta {
            set: vec![(format!("k{n}"), Value::from(n.to_string()))],
            ..Delta::default()
        })
        .collect();
    let results = join_all(deltas.iter().map(|d| store.update(&r, d))).await;
    for result in results {
        assert!(result.unwrap().is_some());
    }
    let loaded = store
        .load(&r.id.to_string(), r.created_at)
        .await
        .unwrap()
        .expect("the session");
    assert_eq!(loaded.data.len(), 40);
    assert_eq!(loaded.data.get("k39").map(|v| &**v), Some("39"));
}
