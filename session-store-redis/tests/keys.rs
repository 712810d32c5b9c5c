//! Storage keys (issue #10), TTLs and configuration, checked on a real
//! server.

mod common;

use std::time::Duration;

use session_core::{Delta, SessionStore, Value};
use session_store_redis::{ConfigError, RedisStore, DEFAULT_PREFIX};
use session_testkit::redis::Reply;
use session_testkit::store::record_with;
use session_testkit::RedisServer;

fn all_keys(server: &RedisServer) -> Vec<String> {
    match server.command(&["KEYS", "*"]) {
        Reply::Array(keys) => keys.iter().map(Reply::text).collect(),
        other => panic!("KEYS gave {other:?}"),
    }
}

fn hash_texts(server: &RedisServer, key: &str) -> Vec<String> {
    match server.command(&["HGETALL", key]) {
        Reply::Array(items) => items.iter().map(Reply::text).collect(),
        other => panic!("HGETALL gave {other:?}"),
    }
}

#[tokio::test]
async fn redis_holds_no_raw_session_id() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut r = record_with(&[("user", "\"alice\""), ("n", &n.to_string())]);
        r.flash.insert("notice".into(), Value::from("\"hi\""));
        store.create(&r).await.unwrap().unwrap();
        let delta = Delta {
            set: vec![("m".into(), Value::from("1"))],
            ..Delta::default()
        };
        store.update(&r, &delta).await.unwrap().unwrap();
        store.touch(&r).await.unwrap().unwrap();
        ids.push(r.id);
    }
    let keys = all_keys(&server);
    assert_eq!(keys.len(), 5);
    for key in &keys {
        assert!(key.starts_with(DEFAULT_PREFIX), "{key}");
        // prefix + 43 base64url characters of HMAC-SHA256
        assert_eq!(key.len(), DEFAULT_PREFIX.len() + 43, "{key}");
        let dump = hash_texts(&server, key).join("\n");
        for id in &ids {
            let id = id.to_string();
            assert!(!key.contains(&id), "key {key} holds an id");
            assert!(!dump.contains(&id), "value of {key} holds an id");
            assert!(
                !dump.contains(&id[..8]),
                "value of {key} holds part of an id"
            );
        }
    }
    for id in &ids {
        assert!(keys.contains(&store.storage_key(id)));
    }
}

#[tokio::test]
async fn a_different_secret_gives_different_keys() {
    let server = RedisServer::start();
    let default = common::store_for(&server);
    let secret_a = RedisStore::builder(server.url())
        .key_secret(*b"0123456789abcdef0123456789abcdef")
        .build()
        .unwrap();
    let secret_b = RedisStore::builder(server.url())
        .key_secret(b"another secret of at least thirty-two bytes".to_vec())
        .build()
        .unwrap();
    let r = record_with(&[("a", "1")]);
    let token = r.id.to_string();
    let stores = [&default, &secret_a, &secret_b];
    let keys: Vec<String> = stores.iter().map(|s| s.storage_key(&r.id)).collect();
    assert_ne!(keys[0], keys[1]);
    assert_ne!(keys[1], keys[2]);
    assert_ne!(keys[0], keys[2]);

    secret_a.create(&r).await.unwrap().unwrap();
    // The others cannot see it, and the id is free for them.
    assert_eq!(default.load(&token, r.created_at).await.unwrap(), None);
    assert_eq!(secret_b.load(&token, r.created_at).await.unwrap(), None);
    assert!(secret_b.create(&r).await.unwrap().is_some());
    let mut found = all_keys(&server);
    found.sort();
    let mut expected = vec![keys[1].clone(), keys[2].clone()];
    expected.sort();
    assert_eq!(found, expected);

    // The same secret in another store object (another process) finds it.
    let again = RedisStore::builder(server.url())
        .key_secret(*b"0123456789abcdef0123456789abcdef")
        .build()
        .unwrap();
    assert_eq!(again.load(&token, r.created_at).await.unwrap(), Some(r));
}

#[tokio::test]
async fn the_prefix_separates_apps() {
    let server = RedisServer::start();
    let one = RedisStore::builder(server.url())
        .prefix("app1:")
        .build()
        .unwrap();
    let two = RedisStore::builder(server.url())
        .prefix("app2:")
        .build()
        .unwrap();
    let r = record_with(&[("a", "1")]);
    one.create(&r).await.unwrap().unwrap();
    assert_eq!(
        two.load(&r.id.to_string(), r.created_at).await.unwrap(),
        None
    );
    assert!(two.create(&r).await.unwrap().is_some());
    let keys = all_keys(&server);
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().any(|k| k.starts_with("app1:")));
    assert!(keys.iter().any(|k| k.starts_with("app2:")));
    two.delete(&r.id).await.unwrap();
    assert!(one
        .load(&r.id.to_string(), r.created_at)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn every_key_expires_at_keep_until() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    let mut r = record_with(&[("a", "1")]);
    store.create(&r).await.unwrap().unwrap();
    let key = store.storage_key(&r.id);
    let expiry = |server: &RedisServer| server.command(&["PEXPIRETIME", &key]);
    assert_eq!(expiry(&server), Reply::Int(r.keep_until.unix_millis()));

    r.keep_until = r.keep_until.add(Duration::from_secs(120));
    store.touch(&r).await.unwrap().unwrap();
    assert_eq!(expiry(&server), Reply::Int(r.keep_until.unix_millis()));

    r.keep_until = r.keep_until.add(Duration::from_secs(5));
    let delta = Delta {
        cleared: true,
        ..Delta::default()
    };
    store.update(&r, &delta).await.unwrap().unwrap();
    assert_eq!(expiry(&server), Reply::Int(r.keep_until.unix_millis()));
}

#[test]
fn bad_configurations_are_refused() {
    let short = RedisStore::builder("redis://127.0.0.1:6379")
        .key_secret(b"too short".to_vec())
        .build();
    assert!(matches!(short, Err(ConfigError::ShortKeySecret { len: 9 })));
    let zero = RedisStore::builder("redis://127.0.0.1:6379")
        .timeout(Duration::ZERO)
        .build();
    assert!(matches!(zero, Err(ConfigError::ZeroTimeout)));
    for url in [
        "not a url",
        "http://127.0.0.1:6379",
        "rediss://127.0.0.1:6379",
    ] {
        let bad = RedisStore::builder(url).build();
        assert!(matches!(bad, Err(ConfigError::Url(_))), "{url}");
    }
    // Debug shows the settings but no secret.
    let store = RedisStore::builder("redis://127.0.0.1:6379")
        .key_secret(*b"0123456789abcdef0123456789abcdef")
        .build()
        .unwrap();
    let shown = format!("{store:?}");
    assert!(shown.contains("session:"), "{shown}");
    assert!(!shown.contains("0123456789abcdef"), "{shown}");
}

#[cfg(feature = "cluster")]
#[test]
fn a_cluster_needs_a_node() {
    let none = RedisStore::cluster_builder(Vec::<String>::new()).build();
    assert!(matches!(none, Err(ConfigError::NoNodes)));
}
