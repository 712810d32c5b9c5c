//! The store conformance suite. Use it through [`store_suite!`](crate::store_suite).
//!
//! Each case is a public async function taking the store; the macro makes
//! one `#[test]` per case. Records use real wall-clock times, so stores
//! that also expire by their own clock (Redis TTLs) agree with the `now`
//! the cases pass.

use std::sync::Arc;
use std::time::Duration;

use session_core::{
    Clock, Data, Delta, IdSource, RandomIds, Record, SessionId, SessionStore, StoreErrorKind,
    SystemClock, Timestamp, Updated, Value,
};

/// Whether a store keeps records server-side or in the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Records live in the store; the token is the id.
    Server,
    /// Records live in the token (a sealed cookie).
    Client,
}

fn now() -> Timestamp {
    SystemClock.now()
}

fn value(json: &str) -> Value {
    Value::from(json)
}

/// A record created now, kept for a minute, with `data`.
pub fn record_with(data: &[(&str, &str)]) -> Record {
    let now = now();
    let mut d = Data::new();
    for (k, v) in data {
        d.insert((*k).to_owned(), value(v));
    }
    Record {
        id: RandomIds::new().next_id().expect("rng"),
        data: d,
        flash: Data::new(),
        created_at: now,
        idle_deadline: now.add(Duration::from_secs(30)),
        absolute_deadline: None,
        keep_until: now.add(Duration::from_secs(60)),
    }
}

async fn create<S: SessionStore + ?Sized>(store: &S, record: &Record) -> String {
    match store.create(record).await {
        Ok(Some(token)) => token,
        Ok(None) => panic!("create refused a fresh random id"),
        Err(e) => panic!("create failed: {e}"),
    }
}

async fn load<S: SessionStore + ?Sized>(store: &S, token: &str, at: Timestamp) -> Option<Record> {
    store
        .load(token, at)
        .await
        .unwrap_or_else(|e| panic!("load failed: {e}"))
}

fn keys(r: &Record) -> Vec<&str> {
    r.data.keys().map(String::as_str).collect()
}

/// An unknown token loads nothing.
pub async fn load_missing<S: SessionStore + ?Sized>(store: &S, _side: Side) {
    let id = RandomIds::new().next_id().expect("rng");
    assert!(load(store, &id.to_string(), now()).await.is_none());
}

/// What is created loads back equal, data and flash and deadlines.
pub async fn round_trip<S: SessionStore + ?Sized>(store: &S, _side: Side) {
    let mut r = record_with(&[
        ("user", "\"alice\""),
        ("n", "7"),
        ("obj", "{\"a\":[1,null]}"),
    ]);
    r.flash.insert("notice".into(), value("\"hi\""));
    r.absolute_deadline = Some(r.created_at.add(Duration::from_secs(3600)));
    let token = create(store, &r).await;
    let got = load(store, &token, now())
        .await
        .expect("created record loads");
    assert_eq!(got, r);
}

/// Create never overwrites: a taken id gives `None` and the first record
/// stays.
pub async fn create_is_insert_only<S: SessionStore + ?Sized>(store: &S, side: Side) {
    if side == Side::Client {
        return;
    }
    let first = record_with(&[("owner", "\"first\"")]);
    let token = create(store, &first).await;
    let mut second = record_with(&[("owner", "\"second\"")]);
    second.id = first.id;
    let again = store.create(&second).await.expect("create");
    assert_eq!(again, None, "create must refuse a taken id");
    let got = load(store, &token, now()).await.expect("first record");
    assert_eq!(got.data["owner"].as_ref(), "\"first\"");
}

/// An update applies its delta.
pub async fn update_applies_delta<S: SessionStore + ?Sized>(store: &S, side: Side) {
    let r = record_with(&[("a", "1"), ("b", "2")]);
    create(store, &r).await;
    let mut next = r.clone();
    next.data.remove("a");
    next.data.insert("c".into(), value("3"));
    next.idle_deadline = r.idle_deadline.add(Duration::from_secs(5));
    let delta = Delta {
        set: vec![("c".into(), value("3"))],
        removed: vec!["a".into()],
        ..Delta::default()
    };
    let token = store
        .update(&next, &delta)
        .await
        .expect("update")
        .expect("record exists");
    let _ = side;
    let got = load(store, &token, now()).await.expect("updated record");
    assert_eq!(keys(&got), ["b", "c"]);
    assert_eq!(got.idle_deadline, next.idle_deadline);
}

/// A store that says it [applies deltas](SessionStore::applies_deltas)
/// gets updates and touches whose record has empty data, as the core
/// sends them: the stored data must come out of the delta alone.
pub async fn delta_updates_ignore_record_data<S: SessionStore + ?Sized>(store: &S, side: Side) {
    if !store.applies_deltas() {
        return;
    }
    assert_eq!(
        side,
        Side::Server,
        "a client-side store seals the record it is given"
    );
    let r = record_with(&[("a", "1"), ("b", "2")]);
    let token = create(store, &r).await;
    let mut next = r.clone();
    next.data = Data::new();
    next.idle_deadline = r.idle_deadline.add(Duration::from_secs(5));
    next.keep_until = r.keep_until.add(Duration::from_secs(5));
    let delta = Delta {
        set: vec![("c".into(), value("3"))],
        removed: vec!["a".into()],
        ..Delta::default()
    };
    assert!(store.update(&next, &delta).await.expect("update").is_some());
    let got = load(store, &token, now()).await.expect("updated record");
    assert_eq!(keys(&got), ["b", "c"], "the data came from the delta");
    assert_eq!(got.idle_deadline, next.idle_deadline);
    next.idle_deadline = next.idle_deadline.add(Duration::from_secs(5));
    next.keep_until = next.keep_until.add(Duration::from_secs(5));
    assert!(store.touch(&next).await.expect("touch").is_some());
    let got = load(store, &token, now()).await.expect("touched record");
    assert_eq!(keys(&got), ["b", "c"], "a touch keeps the data");
    assert_eq!(got.idle_deadline, next.idle_deadline);
}

/// Two updates from the same starting point that change different keys
/// both keep their change (server-side stores merge deltas).
pub async fn updates_merge<S: SessionStore + ?Sized>(store: &S, side: Side) {
    if side == Side::Client {
        return;
    }
    let r = record_with(&[("base", "0")]);
    let token = create(store, &r).await;
    let mut one = r.clone();
    one.data.insert("x".into(), value("1"));
    let mut two = r.clone();
    two.data.insert("y".into(), value("2"));
    two.data.remove("base");
    let d1 = Delta {
        set: vec![("x".into(), value("1"))],
        ..Delta::default()
    };
    let d2 = Delta {
        set: vec![("y".into(), value("2"))],
        removed: vec!["base".into()],
        flash_set: vec![("f".into(), value("\"flash\""))],
        ..Delta::default()
    };
    assert!(store.update(&one, &d1).await.expect("update").is_some());
    assert!(store.update(&two, &d2).await.expect("update").is_some());
    let got = load(store, &token, now()).await.expect("record");
    assert_eq!(keys(&got), ["x", "y"]);
    assert_eq!(got.flash.get("f").map(|v| v.as_ref()), Some("\"flash\""));
    // A later update consumes the flash and clears the data.
    let d3 = Delta {
        cleared: true,
        set: vec![("z".into(), value("3"))],
        flash_removed: vec!["f".into()],
        ..Delta::default()
    };
    assert!(store.update(&r, &d3).await.expect("update").is_some());
    let got = load(store, &token, now()).await.expect("record");
    assert_eq!(keys(&got), ["z"]);
    assert!(got.flash.is_empty());
}

/// Updating or touching a record that does not exist gives `None` and
/// creates nothing (a request racing a logout never resurrects it).
pub async fn update_missing_is_gone<S: SessionStore + ?Sized>(store: &S, side: Side) {
    if side == Side::Client {
        return;
    }
    let r = record_with(&[("a", "1")]);
    let delta = Delta {
        set: vec![("a".into(), value("1"))],
        ..Delta::default()
    };
    assert_eq!(store.update(&r, &delta).await.expect("update"), None);
    assert_eq!(store.touch(&r).await.expect("touch"), None);
    assert!(load(store, &r.id.to_string(), now()).await.is_none());
    // And after a delete.
    let token = create(store, &r).await;
    store.delete(&r.id).await.expect("delete");
    assert_eq!(store.update(&r, &delta).await.expect("update"), None);
    assert_eq!(store.touch(&r).await.expect("touch"), None);
    assert!(load(store, &token, now()).await.is_none());
}

/// Renew: the new record is created, then the old one deleted; only the
/// new id loads.
pub async fn renew_moves_the_session<S: SessionStore + ?Sized>(store: &S, side: Side) {
    let old = record_with(&[("user", "\"alice\"")]);
    let old_token = create(store, &old).await;
    let mut new = old.clone();
    new.id = RandomIds::new().next_id().expect("rng");
    let new_token = create(store, &new).await;
    store.delete(&old.id).await.expect("delete old");
    let got = load(store, &new_token, now())
        .await
        .expect("the renewed session");
    assert_eq!(got.id, new.id);
    assert_eq!(got.data, old.data);
    if side == Side::Server {
        assert!(
            load(store, &old_token, now()).await.is_none(),
            "the old id is dead"
        );
    }
}

/// A touch moves the deadlines and keeps the data, including data another
/// request stored meanwhile (a touch is not a whole-record write).
pub async fn touch_extends<S: SessionStore + ?Sized>(store: &S, side: Side) {
    let r = record_with(&[("a", "1")]);
    create(store, &r).await;
    if side == Side::Server {
        let d = Delta {
            set: vec![("x".into(), value("9"))],
            ..Delta::default()
        };
        assert!(store.update(&r, &d).await.expect("update").is_some());
    }
    let mut later = r.clone();
    later.idle_deadline = r.idle_deadline.add(Duration::from_secs(60));
    later.keep_until = r.keep_until.add(Duration::from_secs(60));
    let token = store.touch(&later).await.expect("touch").expect("exists");
    // Past the old keep-until, before the new one.
    let at = r.keep_until.add(Duration::from_secs(1));
    let got = load(store, &token, at).await.expect("touched record");
    assert_eq!(got.idle_deadline, later.idle_deadline);
    match side {
        Side::Server => assert_eq!(keys(&got), ["a", "x"], "a touch must not overwrite data"),
        Side::Client => assert_eq!(keys(&got), ["a"]),
    }
}

/// A record is never returned at or after its keep-until, swept or not.
pub async fn expiry_is_exact<S: SessionStore + ?Sized>(store: &S, _side: Side) {
    let r = record_with(&[("a", "1")]);
    let token = create(store, &r).await;
    let just_before = Timestamp::from_unix_millis(r.keep_until.unix_millis() - 1);
    assert!(load(store, &token, just_before).await.is_some());
    assert!(load(store, &token, r.keep_until).await.is_none());
    let later = r.keep_until.add(Duration::from_secs(3600));
    assert!(load(store, &token, later).await.is_none());
}

/// Delete removes the record; deleting twice is fine.
pub async fn delete_removes<S: SessionStore + ?Sized>(store: &S, side: Side) {
    let r = record_with(&[("a", "1")]);
    let token = create(store, &r).await;
    store.delete(&r.id).await.expect("delete");
    store.delete(&r.id).await.expect("delete twice");
    if side == Side::Server {
        assert!(load(store, &token, now()).await.is_none());
    }
}

/// A large value round-trips on server-side stores; a client-side store
/// refuses a record that cannot fit a cookie with `TooLarge`.
pub async fn large_value<S: SessionStore + ?Sized>(store: &S, side: Side) {
    let big = format!("\"{}\"", "x".repeat(64 * 1024));
    let r = record_with(&[("big", &big)]);
    match side {
        Side::Server => {
            let token = create(store, &r).await;
            let got = load(store, &token, now()).await.expect("large record");
            assert_eq!(got.data["big"].len(), big.len());
        }
        Side::Client => {
            let err = store.create(&r).await.expect_err("too large for a cookie");
            assert_eq!(err.kind(), StoreErrorKind::TooLarge);
        }
    }
}

/// Many writers on one session, each its own key: every change is kept.
pub async fn concurrent_writers<S: SessionStore + ?Sized>(store: Arc<S>, side: Side) {
    if side == Side::Client {
        return;
    }
    let r = record_with(&[]);
    let token = create(&*store, &r).await;
    let mut tasks = Vec::new();
    for n in 0..100 {
        let store = store.clone();
        let r = r.clone();
        tasks.push(tokio::spawn(async move {
            let delta = Delta {
                set: vec![(format!("k{n}"), value(&n.to_string()))],
                ..Delta::default()
            };
            store.update(&r, &delta).await.expect("update").is_some()
        }));
    }
    for t in tasks {
        assert!(t.await.expect("task"));
    }
    let got = load(&*store, &token, now()).await.expect("record");
    assert_eq!(got.data.len(), 100);
}

/// Garbage tokens load nothing and do not error.
pub async fn bad_tokens<S: SessionStore + ?Sized>(store: &S, _side: Side) {
    let odd = [
        "a b",
        "*",
        "key:with:colons",
        "../../etc/passwd",
        "é",
        "\u{0}",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*",
    ];
    let long = ["A".repeat(32), "_".repeat(4096), "A".repeat(10_000)];
    let all = ["", "x", "AAAA"]
        .into_iter()
        .chain(odd)
        .chain(long.iter().map(String::as_str));
    for token in all {
        let got = store.load(token, now()).await;
        assert!(matches!(got, Ok(None)), "token {token:?} gave {got:?}");
    }
}

/// A store's immediate answers ([`SessionStore::load_now`],
/// [`SessionStore::update_now`]), where it gives them, are the answers of
/// `load` and `update`.
pub async fn answers_now_agree<S: SessionStore + ?Sized>(store: &S, _side: Side) {
    let r = record_with(&[("a", "1")]);
    let token = create(store, &r).await;
    let ids = [None, SessionId::parse(&token)];
    for id in &ids {
        if let Some(answer) = store.load_now(&token, id.as_ref(), now()) {
            let got = answer.unwrap_or_else(|e| panic!("load_now failed: {e}"));
            assert_eq!(got, load(store, &token, now()).await);
            assert!(got.is_some(), "load_now lost the record");
        }
        for bad in ["", "x", "A".repeat(32).as_str()] {
            if let Some(answer) = store.load_now(bad, None, now()) {
                assert!(matches!(answer, Ok(None)), "token {bad:?} gave {answer:?}");
            }
        }
    }
    let mut next = r.clone();
    next.data.insert("b".into(), value("2"));
    let delta = Delta {
        set: vec![("b".into(), value("2"))],
        ..Delta::default()
    };
    if let Some(answer) = store.update_now(&next, &delta) {
        let token = match answer.expect("update_now") {
            Updated::Same => token,
            Updated::Token(new) => new,
            Updated::Gone => panic!("update_now lost the record"),
        };
        let got = load(store, &token, now()).await.expect("updated record");
        assert_eq!(keys(&got), ["a", "b"]);
    }
}

/// Expands to one `#[test]` per store case.
///
/// `$side` is `server_side` or `client_side`; `$make` is a closure returning
/// a future of the store, called once per case.
///
/// ```no_run
/// session_testkit::store_suite!(memory, server_side, || async {
///     session_store_memory::MemoryStore::default()
/// });
/// # mod session_store_memory { #[derive(Default)] pub struct MemoryStore; }
/// ```
#[macro_export]
macro_rules! store_suite {
    ($name:ident, server_side, $make:expr) => {
        $crate::store_suite!(@cases $name, $crate::store::Side::Server, $make);
    };
    ($name:ident, client_side, $make:expr) => {
        $crate::store_suite!(@cases $name, $crate::store::Side::Client, $make);
    };
    (@cases $name:ident, $side:expr, $make:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::store_suite!(@case $side, $make;
                load_missing, round_trip, create_is_insert_only, update_applies_delta,
                delta_updates_ignore_record_data, updates_merge, update_missing_is_gone,
                touch_extends, expiry_is_exact,
                delete_removes, large_value, bad_tokens, renew_moves_the_session,
                answers_now_agree);
            #[test]
            fn concurrent_writers() {
                $crate::block_on(async {
                    let store = std::sync::Arc::new(($make)().await);
                    $crate::store::concurrent_writers(store, $side).await;
                });
            }
        }
    };
    (@case $side:expr, $make:expr; $($case:ident),*) => {$(
        #[test]
        fn $case() {
            $crate::block_on(async {
                let store = ($make)().await;
                $crate::store::$case(&store, $side).await;
            });
        }
    )*};
}
