//! Foreign or corrupted values under a session's key load as "no session"
//! with a warning: never a panic, never an error, never a write over them.

mod common;

use common::Logs;
use session_core::{Delta, SessionStore, Value};
use session_testkit::store::record_with;
use session_testkit::RedisServer;

/// A valid meta line for a record kept for a minute from now.
fn good_meta() -> String {
    let r = record_with(&[]);
    format!(
        "1 {} {} - {}",
        r.created_at.unix_millis(),
        r.idle_deadline.unix_millis(),
        r.keep_until.unix_millis()
    )
}

/// Writes `commands` (with `{key}` replaced by the session's key), then
/// checks load, update, touch and create against it.
///
/// `warns`: the load logs a warning. `writable`: the meta line has this
/// layout's version, so an update may still apply to it (a session of ours
/// with other damage); otherwise update and touch must leave it alone.
async fn check(
    server: &RedisServer,
    what: &str,
    commands: &[&[&str]],
    warns: bool,
    writable: bool,
) {
    let store = common::store_for(server);
    let r = record_with(&[("a", "1")]);
    let key = store.storage_key(&r.id);
    for command in commands {
        let args: Vec<String> = command.iter().map(|a| a.replace("{key}", &key)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let reply = server.command(&args);
        assert!(
            !matches!(reply, session_testkit::redis::Reply::Error(_)),
            "{what}: {reply:?}"
        );
    }
    let before = server.command(&["DUMP", &key]);

    let (logs, _guard) = Logs::capture();
    let token = r.id.to_string();
    let got = store.load(&token, r.created_at).await;
    assert!(matches!(got, Ok(None)), "{what}: load gave {got:?}");
    let text = logs.text();
    if warns {
        assert!(text.contains("WARN"), "{what}: no warning in {text:?}");
        assert!(
            text.contains(&r.id.short()),
            "{what}: the warning names no session"
        );
    } else {
        assert!(
            !text.contains("WARN"),
            "{what}: unexpected warning {text:?}"
        );
    }
    assert!(!text.contains(&token), "{what}: the log shows the raw id");

    // Not a session of ours: update and touch find it gone, create finds
    // the key taken, and none of them writes over it.
    let delta = Delta {
        set: vec![("b".into(), Value::from("2"))],
        ..Delta::default()
    };
    if !writable {
        assert_eq!(store.update(&r, &delta).await.unwrap(), None, "{what}");
        assert_eq!(store.touch(&r).await.unwrap(), None, "{what}");
        assert_eq!(
            server.command(&["DUMP", &key]),
            before,
            "{what}: overwritten"
        );
    }
    if server.command(&["EXISTS", &key]).text() == "1" {
        assert_eq!(store.create(&r).await.unwrap(), None, "{what}");
    }
    // Delete clears any type, so the id can be used again.
    store.delete(&r.id).await.unwrap();
    assert_eq!(server.command(&["EXISTS", &key]).text(), "0", "{what}");
}

#[tokio::test]
async fn other_types_under_the_key() {
    let server = RedisServer::start();
    check(
        &server,
        "string",
        &[&["SET", "{key}", "hello"]],
        true,
        false,
    )
    .await;
    check(
        &server,
        "record bytes",
        &[&["SET", "{key}", "\u{1}{\"i\":1}"]],
        true,
        false,
    )
    .await;
    check(
        &server,
        "list",
        &[&["RPUSH", "{key}", "a", "b"]],
        true,
        false,
    )
    .await;
    check(&server, "set", &[&["SADD", "{key}", "m"]], true, false).await;
    check(
        &server,
        "sorted set",
        &[&["ZADD", "{key}", "1", "m"]],
        true,
        false,
    )
    .await;
    check(
        &server,
        "stream",
        &[&["XADD", "{key}", "*", "m", "1"]],
        true,
        false,
    )
    .await;
}

#[tokio::test]
async fn hashes_that_are_not_sessions() {
    let server = RedisServer::start();
    let meta = good_meta();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("no meta", vec!["d:a", "1"]),
        ("other fields only", vec!["name", "bob"]),
        ("garbage meta", vec!["m", "garbage"]),
        ("empty meta", vec!["m", ""]),
        ("meta with too few parts", vec!["m", "1 2 3"]),
        ("meta with a non-number", vec!["m", "1 2 3 - soon"]),
        ("unknown version", vec!["m", "9 1 2 - 99999999999999"]),
        ("unknown field", vec!["m", &meta, "x:a", "1"]),
        ("value not JSON", vec!["m", &meta, "d:a", "{oops"]),
        ("flash not JSON", vec!["m", &meta, "f:a", "not json"]),
        ("value with trailing junk", vec!["m", &meta, "d:a", "1 2"]),
    ];
    for (what, fields) in cases {
        // The update script only checks the layout version in the meta line.
        let writable =
            fields.first() == Some(&"m") && fields.get(1).is_some_and(|m| m.starts_with("1 "));
        let mut command = vec!["HSET", "{key}"];
        command.extend(fields);
        check(&server, what, &[&command], true, writable).await;
    }
}

#[tokio::test]
async fn an_expired_meta_is_missing_without_a_warning() {
    let server = RedisServer::start();
    check(
        &server,
        "past keep-until",
        &[&["HSET", "{key}", "m", "1 1 2 - 3", "d:a", "1"]],
        false,
        true,
    )
    .await;
}

#[tokio::test]
async fn a_corrupt_session_does_not_poison_the_store() {
    let server = RedisServer::start();
    let store = common::store_for(&server);
    let bad = record_with(&[]);
    server.command(&["SET", &store.storage_key(&bad.id), "junk"]);
    assert_eq!(
        store
            .load(&bad.id.to_string(), bad.created_at)
            .await
            .unwrap(),
        None
    );
    // Other sessions are unaffected, before and after.
    let good = record_with(&[("a", "1")]);
    let token = store.create(&good).await.unwrap().unwrap();
    assert_eq!(
        store.load(&token, good.created_at).await.unwrap(),
        Some(good)
    );
    assert_eq!(
        store
            .load(&bad.id.to_string(), bad.created_at)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn an_error_inside_the_update_script_is_an_error_not_a_missing_session() {
    let server = RedisServer::start();
    // A user that may run scripts but not HGET, which the update script
    // calls first: Redis refuses that call inside the script.
    server.command(&[
        "ACL", "SETUSER", "nohget", "on", ">secret", "~*", "+@all", "-hget",
    ]);
    let url = format!("redis://nohget:secret@127.0.0.1:{}", server.port());
    let store = session_store_redis::RedisStore::builder(url)
        .build()
        .unwrap();
    let r = record_with(&[("a", "1")]);
    assert!(store.create(&r).await.unwrap().is_some());
    let got = store.update(&r, &Delta::default()).await;
    assert!(
        got.is_err(),
        "a refused call must not read as a gone session: {got:?}"
    );
}
