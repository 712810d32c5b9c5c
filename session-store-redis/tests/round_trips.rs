//! One round trip per store operation, counted by the real server with
//! `INFO commandstats`.
//!
//! Commands that a script runs inside Redis are counted too; they are
//! listed in the expected counts, but only `EVALSHA`, `EVAL`, `HGETALL` and
//! `DEL` travel over the network.

mod common;

use session_core::{Delta, SessionStore, Value};
use session_testkit::store::record_with;
use session_testkit::RedisServer;

const SENT_BY_CLIENT: [&str; 4] = ["hgetall", "del", "evalsha", "eval"];

/// The counts since the last reset, without the test's own commands.
fn counts(server: &RedisServer) -> Vec<(String, u64)> {
    let mut counts: Vec<_> = server
        .command_counts()
        .into_iter()
        .filter(|(name, _)| name != "config|resetstat" && name != "info")
        .collect();
    counts.sort();
    counts
}

fn round_trips(counts: &[(String, u64)]) -> u64 {
    counts
        .iter()
        .filter(|(name, _)| SENT_BY_CLIENT.contains(&name.as_str()))
        .map(|(_, calls)| calls)
        .sum()
}

fn expect(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut v: Vec<_> = pairs.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect();
    v.sort();
    v
}

/// Runs `op` between a stats reset and a count, and checks both the exact
/// counts and that one command crossed the network.
macro_rules! assert_commands {
    ($server:expr, $op:expr, $expected:expr) => {{
        $server.reset_stats();
        let out = $op;
        let got = counts(&$server);
        assert_eq!(got, expect(&$expected), "for {}", stringify!($op));
        assert_eq!(round_trips(&got), 1, "for {}", stringify!($op));
        out
    }};
}

#[tokio::test]
async fn each_operation_is_one_command() {
    let server = RedisServer::start();
    let store = common::store_for(&server);

    // The first use of each script sends its source; warm both up.
    let warm = record_with(&[("w", "1")]);
    store.create(&warm).await.unwrap();
    store.touch(&warm).await.unwrap();

    let r = record_with(&[("a", "1"), ("b", "2")]);
    let token = assert_commands!(
        server,
        store.create(&r).await.unwrap().unwrap(),
        [("evalsha", 1), ("exists", 1), ("hset", 2), ("pexpireat", 1)]
    );

    let loaded = assert_commands!(
        server,
        store.load(&token, r.created_at).await.unwrap(),
        [("hgetall", 1)]
    );
    assert_eq!(loaded.as_ref(), Some(&r));

    let delta = Delta {
        set: vec![("c".into(), Value::from("3"))],
        removed: vec!["a".into()],
        flash_set: vec![("f".into(), Value::from("\"hi\""))],
        ..Delta::default()
    };
    assert_commands!(
        server,
        store.update(&r, &delta).await.unwrap().unwrap(),
        [
            ("evalsha", 1),
            ("hget", 1),
            ("hdel", 1),
            ("hset", 1),
            ("pexpireat", 1)
        ]
    );

    let cleared = Delta {
        cleared: true,
        ..Delta::default()
    };
    assert_commands!(
        server,
        store.update(&r, &cleared).await.unwrap().unwrap(),
        [
            ("evalsha", 1),
            ("hget", 1),
            ("hkeys", 1),
            ("hdel", 1),
            ("hset", 1),
            ("pexpireat", 1)
        ]
    );

    assert_commands!(
        server,
        store.touch(&r).await.unwrap().unwrap(),
        [("evalsha", 1), ("hget", 1), ("hset", 1), ("pexpireat", 1)]
    );

    assert_commands!(server, store.delete(&r.id).await.unwrap(), [("del", 1)]);
}

#[tokio::test]
async fn refusals_are_one_command_too() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    let r = record_with(&[("a", "1")]);
    store.create(&r).await.unwrap();
    store.touch(&r).await.unwrap();

    // Create on a taken id: the script stops at EXISTS.
    assert_commands!(
        server,
        assert_eq!(store.create(&r).await.unwrap(), None),
        [("evalsha", 1), ("exists", 1)]
    );
    // Update of a deleted session: the script stops at the meta's HGET.
    store.delete(&r.id).await.unwrap();
    assert_commands!(
        server,
        assert_eq!(store.update(&r, &Delta::default()).await.unwrap(), None),
        [("evalsha", 1), ("hget", 1)]
    );
    // Loading an unknown id.
    assert_commands!(
        server,
        assert_eq!(
            store.load(&r.id.to_string(), r.created_at).await.unwrap(),
            None
        ),
        [("hgetall", 1)]
    );
}

#[tokio::test]
async fn a_malformed_token_sends_nothing() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    server.reset_stats();
    for token in [
        "",
        "short",
        "*".repeat(32).as_str(),
        "A".repeat(33).as_str(),
    ] {
        assert_eq!(
            store
                .load(token, record_with(&[]).created_at)
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(counts(&server), expect(&[]));
}

#[tokio::test]
async fn a_cold_script_cache_costs_one_extra_trip_once() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    let r = record_with(&[("a", "1")]);
    store.create(&r).await.unwrap();
    server.command(&["SCRIPT", "FLUSH"]);

    server.reset_stats();
    store.touch(&r).await.unwrap().unwrap();
    let got = counts(&server);
    let calls = |name: &str| got.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
    assert_eq!(calls("evalsha"), Some(1), "{got:?}");
    assert_eq!(calls("eval"), Some(1), "{got:?}");

    assert_commands!(
        server,
        store.touch(&r).await.unwrap().unwrap(),
        [("evalsha", 1), ("hget", 1), ("hset", 1), ("pexpireat", 1)]
    );
}
