//! The fairing's own behaviour over real HTTP on 127.0.0.1: store outages,
//! timeouts, failed commits, error responses, the handler's own headers, a
//! missing fairing.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adapter_rocket::session_core::Timestamp;
use adapter_rocket::{
    MemoryStore, OnTimeout, Session, SessionConfig, SessionError, SessionFairing, SessionManager,
};
use rocket::config::LogLevel;
use rocket::fairing::AdHoc;
use rocket::http::{Header, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::tokio::sync::oneshot;
use rocket::{get, routes, Build, Responder, Rocket, State};
use session_testkit::http::{send, Client};
use session_testkit::{block_on, ManualClock, Switch};

/// How many times the `/incr` handler ran.
struct Runs(Arc<AtomicUsize>);

#[derive(Responder)]
struct WithHeader {
    body: &'static str,
    header: Header<'static>,
}

#[get("/incr")]
fn incr(s: Session, runs: &State<Runs>) -> Result<String, SessionError> {
    runs.0.fetch_add(1, Ordering::SeqCst);
    let n = s.get::<i64>("n")?.unwrap_or(0) + 1;
    s.insert("n", &n)?;
    Ok(n.to_string())
}

#[get("/incr-then-store-dies")]
fn incr_then_store_dies(
    s: Session,
    store: &State<Switch<MemoryStore>>,
) -> Result<WithHeader, SessionError> {
    s.insert("n", &100)?;
    store.off();
    Ok(WithHeader {
        body: "changed",
        header: Header::new("X-Handler", "yes"),
    })
}

#[get("/fail")]
fn fail(s: Session) -> Result<(Status, &'static str), SessionError> {
    s.insert("n", &999)?;
    Ok((Status::InternalServerError, "boom"))
}

#[get("/own-cache")]
fn own_cache(s: Session) -> Result<WithHeader, SessionError> {
    s.insert("n", &1)?;
    Ok(WithHeader {
        body: "ok",
        header: Header::new("Cache-Control", "private, max-age=5"),
    })
}

#[get("/plain")]
fn plain() -> &'static str {
    "plain"
}

/// A guard of the user's own, built on `Session`: the sentinel cannot see
/// through it.
struct User;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = SessionError;
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, SessionError> {
        req.guard::<Session>().await.map(|_| User)
    }
}

#[get("/user")]
fn user(_user: User) -> &'static str {
    "unreachable"
}

fn config() -> rocket::Config {
    rocket::Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        log_level: LogLevel::Off,
        ..rocket::Config::debug_default()
    }
}

/// Launches `rocket` on a free port in this runtime.
async fn serve(rocket: Rocket<Build>) -> SocketAddr {
    let (tx, rx) = oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let rocket = rocket.attach(AdHoc::on_liftoff("port", move |r| {
        let port = r.config().port;
        Box::pin(async move {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(port);
            }
        })
    }));
    rocket::tokio::spawn(async move {
        if let Err(e) = rocket.launch().await {
            panic!("rocket failed: {e}");
        }
    });
    let port = rx.await.expect("rocket did not lift off");
    (Ipv4Addr::LOCALHOST, port).into()
}

fn app(
    store: Switch<MemoryStore>,
    manager: SessionManager,
    runs: Arc<AtomicUsize>,
) -> Rocket<Build> {
    rocket::custom(config())
        .manage(store)
        .manage(Runs(runs))
        .mount(
            "/",
            routes![incr, incr_then_store_dies, fail, own_cache, plain],
        )
        .attach(SessionFairing::from_manager(manager))
}

async fn serve_app(store: &Switch<MemoryStore>) -> SocketAddr {
    let manager = SessionManager::new(store.clone(), SessionConfig::default());
    serve(app(store.clone(), manager, Arc::default())).await
}

#[test]
fn outage_answers_503_then_recovers() {
    block_on(async {
        let store = Switch::new(MemoryStore::new());
        let addr = serve_app(&store).await;
        let mut c = Client::new(addr);
        assert_eq!(c.get("/incr").await.body, "1");
        store.off();
        let resp = c.get("/incr").await;
        assert_eq!(resp.status, 503);
        assert_eq!(resp.body, "Session store unavailable");
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert!(resp.set_cookies().is_empty());
        // A route without a session guard gets the same answer.
        let resp = c.get("/plain").await;
        assert_eq!(
            (resp.status, resp.body.as_str()),
            (503, "Session store unavailable")
        );
        store.on();
        assert_eq!(
            c.get("/incr").await.body,
            "2",
            "the session survived the outage"
        );
        assert_eq!(c.get("/plain").await.body, "plain");
    });
}

#[test]
fn session_handlers_do_not_run_without_a_session() {
    block_on(async {
        let store = Switch::new(MemoryStore::new());
        let clock = ManualClock::at(Timestamp::from_unix_millis(1_700_000_000_000));
        let config = SessionConfig::builder()
            .idle_timeout(Duration::from_secs(60))
            .on_timeout(OnTimeout::Redirect("/".into()))
            .build()
            .unwrap();
        let manager =
            SessionManager::new(store.clone(), config).with_clock(Arc::new(clock.clone()));
        let runs = Arc::new(AtomicUsize::new(0));
        let rocket = app(store.clone(), manager, runs.clone());
        let addr = serve(rocket).await;
        let mut c = Client::new(addr);
        assert_eq!(c.get("/incr").await.body, "1");
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        store.off();
        assert_eq!(c.get("/incr").await.status, 503);
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "no handler run on a store outage"
        );
        store.on();

        clock.advance(Duration::from_secs(61));
        let resp = c.get("/incr").await;
        assert_eq!(resp.status, 303);
        assert_eq!(resp.body, "");
        assert_eq!(resp.header("location"), Some("/"));
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        assert!(
            resp.set_cookie("session").is_some_and(|c| c.is_removal()),
            "{resp:?}"
        );
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "no handler run on a timeout"
        );
        assert_eq!(
            c.get("/incr").await.body,
            "1",
            "a fresh session after the timeout"
        );
    });
}

#[test]
fn failed_commit_replaces_the_response() {
    block_on(async {
        let store = Switch::new(MemoryStore::new());
        let addr = serve_app(&store).await;
        let mut c = Client::new(addr);
        c.get("/incr").await;
        let resp = c.get("/incr-then-store-dies").await;
        assert_eq!(resp.status, 503, "a lost write must not look like success");
        assert_eq!(resp.body, "Session store unavailable");
        assert_eq!(
            resp.header("x-handler"),
            None,
            "the handler's headers are gone"
        );
        assert_eq!(
            resp.header("server"),
            Some("Rocket"),
            "rocket's own are kept"
        );
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        store.on();
        assert_eq!(
            c.get("/incr").await.body,
            "2",
            "the failed change was not applied"
        );
    });
}

#[test]
fn server_errors_do_not_commit() {
    block_on(async {
        let store = Switch::new(MemoryStore::new());
        let addr = serve_app(&store).await;
        let mut c = Client::new(addr);
        c.get("/incr").await;
        let resp = c.get("/fail").await;
        assert_eq!(resp.status, 500);
        assert_eq!(resp.body, "boom");
        assert!(resp.set_cookies().is_empty());
        assert_eq!(c.get("/incr").await.body, "2");
    });
}

#[test]
fn handler_cache_control_is_kept() {
    block_on(async {
        let addr = serve_app(&Switch::new(MemoryStore::new())).await;
        let resp = Client::new(addr).get("/own-cache").await;
        assert_eq!(resp.set_cookies().len(), 1);
        assert_eq!(resp.header("cache-control"), Some("private, max-age=5"));
        assert_eq!(resp.header("vary"), Some("Cookie"));
        let resp = Client::new(addr).get("/incr").await;
        assert_eq!(resp.header("cache-control"), Some("no-store"));
    });
}

#[test]
fn head_and_not_found() {
    block_on(async {
        let addr = serve_app(&Switch::new(MemoryStore::new())).await;
        let resp = send(addr, "HEAD", "/incr", &[]).await.unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, "");
        assert_eq!(resp.set_cookies().len(), 1, "HEAD runs the GET route");
        let resp = Client::new(addr).get("/nowhere").await;
        assert_eq!(resp.status, 404);
        assert!(resp.set_cookies().is_empty());
        assert_eq!(resp.header("vary"), None, "an unused session adds nothing");
    });
}

#[test]
fn missing_fairing_is_a_500_not_a_panic() {
    block_on(async {
        let addr = serve(rocket::custom(config()).mount("/", routes![user, plain])).await;
        let resp = Client::new(addr).get("/user").await;
        assert_eq!(resp.status, 500);
        assert_eq!(
            Client::new(addr).get("/plain").await.body,
            "plain",
            "still serving"
        );
    });
}

#[test]
fn missing_fairing_stops_the_launch() {
    block_on(async {
        let rocket = rocket::custom(config()).mount("/", routes![incr]);
        let err = rocket
            .ignite()
            .await
            .expect_err("a Session route needs the fairing");
        assert!(
            matches!(err.kind(), rocket::error::ErrorKind::SentinelAborts(_)),
            "{err}"
        );
    });
}
