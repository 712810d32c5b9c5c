//! Session behaviour beyond the shared suite: flash versus clear, very
//! large sessions, and concurrent writers racing a logout.

mod common;

use std::sync::Arc;

use session_core::{Delta, SessionStore, Value};
use session_testkit::store::record_with;
use session_testkit::RedisServer;

#[tokio::test]
async fn clear_drops_data_but_keeps_flash() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    let mut r = record_with(&[("a", "1"), ("b", "2")]);
    r.flash.insert("notice".into(), Value::from("\"kept\""));
    let token = store.create(&r).await.unwrap().unwrap();
    let delta = Delta {
        cleared: true,
        set: vec![("c".into(), Value::from("3"))],
        removed: vec!["a".into()],
        ..Delta::default()
    };
    store.update(&r, &delta).await.unwrap().unwrap();
    let got = store.load(&token, r.created_at).await.unwrap().unwrap();
    assert_eq!(got.data.keys().collect::<Vec<_>>(), ["c"]);
    assert_eq!(got.flash["notice"].as_ref(), "\"kept\"");
}

#[tokio::test]
async fn a_key_both_removed_and_set_ends_set() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    let r = record_with(&[("a", "1")]);
    let token = store.create(&r).await.unwrap().unwrap();
    // Record::apply removes before it sets; so does the script.
    let delta = Delta {
        set: vec![("a".into(), Value::from("2"))],
        removed: vec!["a".into()],
        flash_set: vec![("f".into(), Value::from("1"))],
        flash_removed: vec!["f".into()],
        ..Delta::default()
    };
    store.update(&r, &delta).await.unwrap().unwrap();
    let got = store.load(&token, r.created_at).await.unwrap().unwrap();
    let mut expected = r.clone();
    expected.apply(&delta, &r);
    assert_eq!(got, expected);
}

/// More keys than Lua's `unpack` takes at once (8000 values), in every
/// list a script sends in slices: the values created, the fields a clear
/// deletes, the removals and the values set.
#[tokio::test]
async fn sessions_with_thousands_of_keys() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    let mut r = record_with(&[]);
    for n in 0..9000 {
        r.data
            .insert(format!("key {n}"), Value::from(n.to_string()));
    }
    for n in 0..9000 {
        r.flash.insert(format!("flash {n}"), Value::from("true"));
    }
    let token = store.create(&r).await.unwrap().unwrap();
    assert_eq!(
        store.load(&token, r.created_at).await.unwrap().as_ref(),
        Some(&r)
    );

    let delta = Delta {
        cleared: true,
        set: (0..4500)
            .map(|n| (format!("new {n}"), Value::from("1")))
            .collect(),
        flash_removed: (0..9000).map(|n| format!("flash {n}")).collect(),
        ..Delta::default()
    };
    store.update(&r, &delta).await.unwrap().unwrap();
    let got = store.load(&token, r.created_at).await.unwrap().unwrap();
    let mut expected = r.clone();
    expected.apply(&delta, &r);
    assert_eq!(got, expected);
    assert_eq!(got.data.len(), 4500);
    assert!(got.flash.is_empty());
}

/// Writers keep hitting a session while it is logged out: after the
/// delete, no write brings it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_racing_a_logout_never_resurrect_it() {
    let server = RedisServer::start();
    let store = Arc::new(common::store_for(&server));
    let r = record_with(&[("user", "\"alice\"")]);
    let token = store.create(&r).await.unwrap().unwrap();
    let mut writers = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        let r = r.clone();
        writers.push(tokio::spawn(async move {
            let mut after_gone = 0;
            for i in 0..50 {
                let delta = Delta {
                    set: vec![(format!("w{n}"), Value::from(i.to_string()))],
                    ..Delta::default()
                };
                match store.update(&r, &delta).await.unwrap() {
                    Some(_) => {
                        assert_eq!(after_gone, 0, "a write landed after the session was gone")
                    }
                    None => after_gone += 1,
                }
                tokio::task::yield_now().await;
            }
            after_gone
        }));
    }
    tokio::task::yield_now().await;
    store.delete(&r.id).await.unwrap();
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(store.load(&token, r.created_at).await.unwrap(), None);
    assert_eq!(server.command(&["DBSIZE"]).text(), "0");
}
