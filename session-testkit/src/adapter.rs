//! The adapter conformance suite: the example contract's scenarios over
//! real HTTP on 127.0.0.1. Use it through [`adapter_suite!`](crate::adapter_suite).
//!
//! The suite runs the app binary itself ([`App`]), configured only through
//! the contract's environment variables, so it checks exactly what a user
//! runs. For `redis` it starts a real `redis-server` per app.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::{send, Client, Response};
use crate::redis::RedisServer;

/// The session cookie name of the contract.
pub const COOKIE: &str = "example-app-sessions";

/// A secret for the cookie store in tests (48 bytes).
pub const TEST_KEY: &str = "test-secret-test-secret-test-secret-0123456789ab";

/// Which store the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// `SESSION_STORE=memory`
    Memory,
    /// `SESSION_STORE=cookie`
    Cookie,
    /// `SESSION_STORE=redis`, with a real server started for the app.
    Redis,
}

impl Store {
    /// Whether records live in the cookie (old cookies cannot be revoked).
    pub fn client_side(self) -> bool {
        self == Self::Cookie
    }

    fn env(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Cookie => "cookie",
            Self::Redis => "redis",
        }
    }
}

/// A running example app: a child process on a free loopback port, killed
/// on drop.
#[derive(Debug)]
pub struct App {
    child: Child,
    addr: SocketAddr,
    store: Store,
    /// The Redis server behind the app, for `Store::Redis`.
    pub redis: Option<RedisServer>,
}

impl App {
    /// Starts `bin` on `store` with extra environment variables.
    pub fn spawn(bin: &str, store: Store, env: &[(&str, &str)]) -> Self {
        let redis = (store == Store::Redis).then(RedisServer::start);
        Self::spawn_with_redis(bin, store, env, redis)
    }

    /// Starts `bin` against an already running Redis server.
    pub fn spawn_with_redis(
        bin: &str,
        store: Store,
        env: &[(&str, &str)],
        redis: Option<RedisServer>,
    ) -> Self {
        let port = crate::free_port();
        let mut cmd = Command::new(bin);
        cmd.env("PORT", port.to_string())
            .env("SESSION_STORE", store.env())
            .env("SESSION_KEY", TEST_KEY)
            .env("WORKERS", "2")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(r) = &redis {
            cmd.env("REDIS_URL", r.url());
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{bin} exited before listening on {addr}: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "{bin} did not listen on {addr} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            addr,
            store,
            redis,
        }
    }

    /// The app's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The store it runs on.
    pub fn store(&self) -> Store {
        self.store
    }

    /// A new client with an empty jar.
    pub fn client(&self) -> Client {
        Client::new(self.addr)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn assert_text(resp: &Response, status: u16, body: &str) {
    assert_eq!(resp.status, status, "status; body was {:?}", resp.body);
    assert_eq!(resp.body, body);
    let ct = resp.header("content-type").unwrap_or("");
    assert!(ct.starts_with("text/plain"), "content-type {ct:?}");
}

fn session_cookie(resp: &Response) -> crate::http::SetCookie {
    resp.set_cookie(COOKIE)
        .unwrap_or_else(|| panic!("expected a {COOKIE} cookie, got {:?}", resp.set_cookies()))
}

/// `/login/{id}` renews the id (a new cookie), sets the user, and the old
/// id no longer works (server-side stores).
pub async fn login_renews_id(app: &App) {
    let mut c = app.client();
    assert_text(&c.get("/counter/incr").await, 200, "counter: 1");
    let before = c
        .cookie(COOKIE)
        .expect("session cookie after a write")
        .to_owned();
    let resp = c.get("/login/alice").await;
    assert_text(&resp, 200, "User set to: alice");
    let after = session_cookie(&resp).value;
    assert_ne!(before, after, "login must renew the session id");
    assert_text(&c.get("/counter").await, 200, "counter: 1");
    if !app.store().client_side() {
        let mut old = app.client();
        old.set_cookie(COOKIE, &before);
        assert_text(&old.get("/").await, 200, "user: none");
        assert_text(&old.get("/counter").await, 200, "counter: 0");
    }
}

/// The login flash is shown on the next request, and only there.
pub async fn flash_once(app: &App) {
    let mut c = app.client();
    c.get("/login/alice").await;
    assert_text(&c.get("/").await, 200, "user: alice\nflash: Welcome, alice");
    assert_text(&c.get("/").await, 200, "user: alice");
    assert_text(&c.get("/").await, 200, "user: alice");
}

/// `/remove` drops the user and keeps the counter.
pub async fn remove_keeps_other_keys(app: &App) {
    let mut c = app.client();
    c.get("/login/bob").await;
    c.get("/counter/incr").await;
    c.get("/counter/incr").await;
    assert_text(&c.get("/remove").await, 200, "User removed");
    assert_text(&c.get("/").await, 200, "user: none");
    assert_text(&c.get("/counter").await, 200, "counter: 2");
}

/// `/logout` expires the cookie and deletes the record.
pub async fn logout_destroys(app: &App) {
    let mut c = app.client();
    c.get("/login/carol").await;
    let token = c.cookie(COOKIE).expect("cookie").to_owned();
    let resp = c.get("/logout").await;
    assert_text(&resp, 200, "Session cleared");
    assert!(
        session_cookie(&resp).is_removal(),
        "logout must expire the cookie"
    );
    assert!(c.cookie(COOKIE).is_none());
    assert_text(&c.get("/").await, 200, "user: none");
    if !app.store().client_side() {
        let mut old = app.client();
        old.set_cookie(COOKIE, &token);
        assert_text(&old.get("/").await, 200, "user: none");
    }
}

/// The counter starts at 0 and counts.
pub async fn counter(app: &App) {
    let mut c = app.client();
    assert_text(&c.get("/counter").await, 200, "counter: 0");
    for n in 1..=3 {
        assert_text(&c.get("/counter/incr").await, 200, &format!("counter: {n}"));
    }
    assert_text(&c.get("/counter").await, 200, "counter: 3");
}

/// Plain cookies: set with their attributes, read back.
pub async fn plain_cookies(app: &App) {
    let mut c = app.client();
    assert_text(&c.get("/cookie").await, 200, "username: none");
    let resp = c.get("/cookie/set").await;
    assert_text(&resp, 200, "cookie set");
    let set = resp.set_cookie("username").expect("username cookie");
    assert_eq!(set.value, "Alice");
    assert_eq!(set.attr("path"), Some("/"));
    assert_eq!(set.attr("max-age"), Some("3600"));
    assert!(set.attr("httponly").is_some(), "HttpOnly: {set:?}");
    assert!(
        resp.set_cookie(COOKIE).is_none(),
        "no session cookie for a plain cookie"
    );
    assert_text(&c.get("/cookie").await, 200, "username: Alice");
}

/// The session cookie carries the secure defaults.
pub async fn cookie_attributes(app: &App) {
    let mut c = app.client();
    let resp = c.get("/login/dave").await;
    let set = session_cookie(&resp);
    assert!(set.attr("httponly").is_some(), "{set:?}");
    assert!(set.attr("secure").is_some(), "{set:?}");
    assert_eq!(
        set.attr("samesite").map(str::to_ascii_lowercase).as_deref(),
        Some("lax")
    );
    assert_eq!(set.attr("path"), Some("/"));
    let cc = resp.header("cache-control").unwrap_or("");
    assert!(cc.contains("no-store"), "cache-control {cc:?}");
    let resp = c.get("/").await;
    let vary = resp.header("vary").unwrap_or("").to_ascii_lowercase();
    assert!(vary.contains("cookie"), "vary {vary:?}");
}

/// A session idle past `SESSION_IDLE_TIMEOUT` gets `303` to `/` with an
/// expired cookie; then the client starts fresh.
pub async fn idle_timeout(bin: &str, store: Store) {
    let app = App::spawn(bin, store, &[("SESSION_IDLE_TIMEOUT", "2")]);
    let mut c = app.client();
    c.get("/login/erin").await;
    assert_text(&c.get("/").await, 200, "user: erin\nflash: Welcome, erin");
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let resp = c.get("/").await;
    assert_eq!(resp.status, 303, "timed-out session: {resp:?}");
    assert_eq!(resp.header("location"), Some("/"));
    assert!(session_cookie(&resp).is_removal());
    assert_text(&c.get("/").await, 200, "user: none");
}

/// `SESSION_ABSOLUTE_TIMEOUT` ends an active session.
pub async fn absolute_timeout(bin: &str, store: Store) {
    let app = App::spawn(
        bin,
        store,
        &[
            ("SESSION_IDLE_TIMEOUT", "60"),
            ("SESSION_ABSOLUTE_TIMEOUT", "2"),
        ],
    );
    let mut c = app.client();
    let started = Instant::now();
    c.get("/login/frank").await;
    let mut saw_timeout = false;
    while started.elapsed() < Duration::from_secs(6) {
        let resp = c.get("/counter/incr").await;
        if resp.status == 303 {
            saw_timeout = true;
            assert!(started.elapsed() >= Duration::from_secs(2), "ended early");
            break;
        }
        assert_eq!(resp.status, 200);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        saw_timeout,
        "an active session must end at the absolute timeout"
    );
}

/// Forged, garbage, oversized and duplicated session cookies give a fresh
/// session, never an error.
pub async fn bad_cookies(app: &App) {
    let mut real = app.client();
    real.get("/login/mallory").await;
    let token = real.cookie(COOKIE).expect("cookie").to_owned();
    let long = "A".repeat(8192);
    let forged = "B".repeat(32);
    let cases: Vec<Vec<u8>> = vec![
        format!("{COOKIE}=garbage").into_bytes(),
        format!("{COOKIE}=").into_bytes(),
        format!("{COOKIE}={forged}").into_bytes(),
        format!("{COOKIE}={long}").into_bytes(),
        format!("{COOKIE}=\"{token}x\"").into_bytes(),
        format!("{COOKIE}={token}; {COOKIE}={forged}").into_bytes(),
        format!("{COOKIE}={}", &token[..token.len() - 1]).into_bytes(),
        b"example-app-sessions=\xff\xfe".to_vec(),
        b";;;===;".to_vec(),
    ];
    for cookie in cases {
        let resp = send(app.addr(), "GET", "/", &[("Cookie", &cookie)])
            .await
            .expect("request");
        let shown = String::from_utf8_lossy(&cookie).into_owned();
        assert_eq!(resp.status, 200, "cookie {shown:?}: {resp:?}");
        assert_eq!(resp.body, "user: none", "cookie {shown:?}");
    }
}

/// A read-only request sets no cookie (a fresh visitor, and a logged-in
/// one on a server-side store).
pub async fn read_only_sets_no_cookie(app: &App) {
    let mut c = app.client();
    for path in ["/", "/counter", "/cookie"] {
        let resp = c.get(path).await;
        assert!(
            resp.set_cookies().is_empty(),
            "{path}: {:?}",
            resp.set_cookies()
        );
    }
    c.get("/login/grace").await;
    c.get("/").await; // consumes the flash
    if !app.store().client_side() {
        for path in ["/", "/counter"] {
            let resp = c.get(path).await;
            assert!(
                resp.set_cookies().is_empty(),
                "{path}: {:?}",
                resp.set_cookies()
            );
        }
    }
}

/// Two clients never see each other's data.
pub async fn clients_are_isolated(app: &App) {
    let mut a = app.client();
    let mut b = app.client();
    a.get("/login/alice").await;
    b.get("/login/bob").await;
    assert_text(&a.get("/").await, 200, "user: alice\nflash: Welcome, alice");
    assert_text(&b.get("/").await, 200, "user: bob\nflash: Welcome, bob");
    a.get("/counter/incr").await;
    assert_text(&b.get("/counter").await, 200, "counter: 0");
    assert_text(&a.get("/counter").await, 200, "counter: 1");
}

/// Fifty clients in parallel each keep their own counter.
pub async fn parallel_clients(app: &App) {
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let mut c = app.client();
        tasks.push(tokio::spawn(async move {
            for n in 1..=5 {
                let resp = c.get("/counter/incr").await;
                assert_eq!(resp.body, format!("counter: {n}"));
            }
            c.get("/counter").await.body
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("client task"), "counter: 5");
    }
}

async fn get_with(app: &App, path: &str, cookie: &str) -> Response {
    let header = format!("{COOKIE}={cookie}");
    send(app.addr(), "GET", path, &[("Cookie", header.as_bytes())])
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// Twenty rounds of: log in, send `first` and `/counter/incr` at once on
/// that session, then check what the old token reads. Server-side stores
/// only (a client-side store's cookie holds its own request's change).
async fn race(app: &App, first: &str, counter_after: &str) {
    if app.store().client_side() {
        return;
    }
    for round in 0..20 {
        let mut c = app.client();
        c.get(&format!("/login/u{round}")).await;
        let token = c.cookie(COOKIE).expect("cookie").to_owned();
        let (a, b) = tokio::join!(
            get_with(app, first, &token),
            get_with(app, "/counter/incr", &token)
        );
        assert_eq!((a.status, b.status), (200, 200));
        let user = get_with(app, "/", &token).await.body;
        assert_eq!(user, "user: none", "{first}, round {round}");
        let counter = get_with(app, "/counter", &token).await.body;
        assert_eq!(counter, counter_after, "{first}, round {round}");
    }
}

/// Two requests of one session that change different keys at the same
/// time both keep their change.
pub async fn concurrent_changes_merge(app: &App) {
    race(app, "/remove", "counter: 1").await;
}

/// A request racing a logout never brings the session back.
pub async fn logout_race_does_not_resurrect(app: &App) {
    race(app, "/logout", "counter: 0").await;
}

/// Expands to one `#[test]` per contract scenario for an app binary on one
/// store: `adapter_suite!(name, env!("CARGO_BIN_EXE_my-app"), memory)`
/// (or `cookie`, `redis`).
#[macro_export]
macro_rules! adapter_suite {
    ($name:ident, $bin:expr, memory) => {
        $crate::adapter_suite!(@cases $name, $bin, $crate::adapter::Store::Memory);
    };
    ($name:ident, $bin:expr, cookie) => {
        $crate::adapter_suite!(@cases $name, $bin, $crate::adapter::Store::Cookie);
    };
    ($name:ident, $bin:expr, redis) => {
        $crate::adapter_suite!(@cases $name, $bin, $crate::adapter::Store::Redis);
    };
    (@cases $name:ident, $bin:expr, $store:expr) => {
        mod $name {
            $crate::adapter_suite!(@app $bin, $store;
                login_renews_id, flash_once, remove_keeps_other_keys, logout_destroys,
                counter, plain_cookies, cookie_attributes, bad_cookies,
                read_only_sets_no_cookie, clients_are_isolated, parallel_clients,
                concurrent_changes_merge, logout_race_does_not_resurrect);
            #[test]
            fn idle_timeout() {
                $crate::block_on($crate::adapter::idle_timeout($bin, $store));
            }
            #[test]
            fn absolute_timeout() {
                $crate::block_on($crate::adapter::absolute_timeout($bin, $store));
            }
        }
    };
    (@app $bin:expr, $store:expr; $($case:ident),*) => {$(
        #[test]
        fn $case() {
            let app = $crate::adapter::App::spawn($bin, $store, &[]);
            $crate::block_on($crate::adapter::$case(&app));
        }
    )*};
}

/// What [`redis_outage`] saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutageReport {
    /// Requests answered during the whole run.
    pub requests: usize,
    /// Of those, answered 503.
    pub unavailable: usize,
    /// From the restart of Redis to the first 200 after it.
    pub recovery: Duration,
}

/// A load run against the Redis-backed app while Redis (append-only,
/// fsync always) is killed with SIGKILL for 1.5 s and restarted: only 200
/// and one-line 503 answers, no dropped connection, recovery without a
/// restart of the app, and no session committed before the fault lost.
pub async fn redis_outage(bin: &str) -> OutageReport {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let redis = RedisServer::start_durable();
    let mut app = App::spawn_with_redis(bin, Store::Redis, &[], Some(redis));
    let mut sessions = Vec::new();
    for _ in 0..20 {
        let mut c = app.client();
        for n in 1..=5 {
            assert_eq!(c.get("/counter/incr").await.body, format!("counter: {n}"));
        }
        sessions.push(c);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let log: Arc<Mutex<Vec<(Instant, u16)>>> = Arc::default();
    let mut tasks = Vec::new();
    for session in sessions.iter().take(8) {
        let mut c = session.clone();
        let (stop, log) = (stop.clone(), log.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let resp = c.get("/counter").await;
                match resp.status {
                    200 => assert_eq!(resp.body, "counter: 5"),
                    503 => assert_eq!(resp.body, "Session store unavailable"),
                    other => panic!("unexpected status {other} during the outage: {resp:?}"),
                }
                log.lock().expect("log").push((Instant::now(), resp.status));
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let redis = app.redis.as_mut().expect("redis");
    redis.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    redis.restart();
    let restarted = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await
            .expect("no client saw a dropped connection or a bad answer");
    }
    let log = log.lock().expect("log").clone();
    let unavailable = log.iter().filter(|(_, s)| *s == 503).count();
    assert!(unavailable > 0, "the outage was not noticed");
    let first_ok = log
        .iter()
        .filter(|(t, s)| *t >= restarted && *s == 200)
        .map(|(t, _)| *t)
        .min()
        .expect("the app recovered after Redis came back");
    // Every session committed before the fault is still there.
    for c in &mut sessions {
        assert_eq!(c.get("/counter").await.body, "counter: 5");
    }
    OutageReport {
        requests: log.len(),
        unavailable,
        recovery: first_ok - restarted,
    }
}
