//! What the URL asks of the connection on a real server: a user and
//! password, a database number, a Unix socket, and a refused password.

use session_core::{SessionStore, StoreErrorKind};
use session_store_redis::RedisStore;
use session_testkit::store::record_with;
use session_testkit::RedisServer;

/// The `keys=` count of database `db` in `INFO keyspace`, 0 when absent.
fn keys_in(server: &RedisServer, db: u32) -> u64 {
    let info = server.command(&["INFO", "keyspace"]).text();
    let prefix = format!("db{db}:keys=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().expect("key count"))
}

/// A server with a user `app`, password `s3cret`.
fn server_with_user() -> RedisServer {
    let server = RedisServer::start();
    server.command(&["ACL", "SETUSER", "app", "on", ">s3cret", "~*", "+@all"]);
    server
}

#[tokio::test]
async fn a_url_with_user_password_and_database_is_followed() {
    let server = server_with_user();
    let url = format!("redis://app:s3cret@127.0.0.1:{}/3", server.port());
    let store = RedisStore::builder(url).build().unwrap();
    let r = record_with(&[("a", "1")]);
    let token = store.create(&r).await.unwrap().expect("created");
    assert_eq!(store.load(&token, r.created_at).await.unwrap(), Some(r));
    assert_eq!(keys_in(&server, 3), 1, "the session lives in database 3");
    assert_eq!(keys_in(&server, 0), 0, "and not in database 0");
}

#[tokio::test]
async fn a_wrong_password_is_an_error_not_a_hang_or_a_panic() {
    let server = server_with_user();
    let url = format!("redis://app:wrong@127.0.0.1:{}", server.port());
    let store = RedisStore::builder(url).build().unwrap();
    let r = record_with(&[]);
    let err = store.create(&r).await.expect_err("refused");
    // Not an outage: retrying will not help, the configuration is wrong.
    assert_eq!(err.kind(), StoreErrorKind::Other, "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_unix_socket_url_connects() {
    let dir = std::env::temp_dir().join(format!("redis-sock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("redis.sock");
    let server = RedisServer::start_with(&["--unixsocket", socket.to_str().unwrap()]);
    // The socket appears once the server is up, which `start_with` waits for.
    let url = format!("redis+unix://{}?db=2", socket.display());
    let store = RedisStore::builder(url).build().unwrap();
    let r = record_with(&[("a", "1")]);
    let token = store.create(&r).await.unwrap().expect("created");
    assert_eq!(store.load(&token, r.created_at).await.unwrap(), Some(r));
    assert_eq!(keys_in(&server, 2), 1);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
