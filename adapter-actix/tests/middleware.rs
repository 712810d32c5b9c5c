//! The middleware's own behaviour over real HTTP on 127.0.0.1: store
//! outages, failed commits, error responses, the handler's own headers.

use std::net::SocketAddr;
use std::sync::mpsc;

use actix_web::{web, App, HttpResponse, HttpServer};
use adapter_actix::{
    Cookie, Cookies, Flash, MemoryStore, SameSite, Session, SessionConfig, SessionError,
    SessionMiddleware,
};
use session_testkit::http::{send, Client};
use session_testkit::{block_on, Switch};

/// Starts the test app on a free port in its own actix system thread.
fn serve(store: Switch<MemoryStore>) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let sessions = SessionMiddleware::new(store.clone(), SessionConfig::default());
            let server = HttpServer::new(move || {
                let off = store.clone();
                App::new()
                    .route(
                        "/no-middleware",
                        web::get().to(|_s: Session| async { "unreachable" }),
                    )
                    .service(
                        web::scope("")
                            .wrap(sessions.clone())
                            .route("/incr", web::get().to(incr))
                            .route(
                                "/incr-then-store-dies",
                                web::get().to(move |s: Session| {
                                    let off = off.clone();
                                    async move {
                                        s.insert("n", &100)?;
                                        off.off();
                                        Ok::<_, SessionError>("changed")
                                    }
                                }),
                            )
                            .route("/fail", web::get().to(fail))
                            .route("/own-cache", web::get().to(own_cache))
                            .route("/flash/set", web::get().to(flash_set))
                            .route("/flash", web::get().to(flash_get))
                            .route("/cookies", web::get().to(cookies)),
                    )
            })
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind 127.0.0.1:0");
            tx.send(server.addrs()[0]).expect("test still waiting");
            server.run().await
        })
    });
    rx.recv().expect("server started")
}

async fn incr(s: Session) -> Result<String, SessionError> {
    let n = s.get::<i64>("n")?.unwrap_or(0) + 1;
    s.insert("n", &n)?;
    Ok(n.to_string())
}

async fn fail(s: Session) -> Result<HttpResponse, SessionError> {
    s.insert("n", &999)?;
    Ok(HttpResponse::InternalServerError().body("boom"))
}

async fn own_cache(s: Session) -> Result<HttpResponse, SessionError> {
    s.insert("n", &1)?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "private, max-age=5"))
        .body("ok"))
}

async fn flash_set(f: Flash) -> Result<&'static str, SessionError> {
    f.set("notice", "saved")?;
    Ok("set")
}

async fn flash_get(f: Flash) -> Result<String, SessionError> {
    Ok(f.get::<String>("notice")?.unwrap_or_else(|| "none".into()))
}

async fn cookies(c: Cookies) -> Result<String, SessionError> {
    let cookie = Cookie::build(("theme", "dark mode"))
        .path("/app")
        .domain("example.test")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .partitioned(true)
        .max_age(adapter_actix::session_core::cookie::time::Duration::minutes(5))
        .build();
    c.add(cookie)?;
    Ok(c.get("lang").unwrap_or_else(|| "none".into()))
}

#[test]
fn outage_answers_503_then_recovers() {
    let store = Switch::new(MemoryStore::new());
    let addr = serve(store.clone());
    block_on(async {
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
        store.on();
        assert_eq!(
            c.get("/incr").await.body,
            "2",
            "the session survived the outage"
        );
    });
}

#[test]
fn failed_commit_replaces_the_response() {
    let store = Switch::new(MemoryStore::new());
    let addr = serve(store.clone());
    block_on(async {
        let mut c = Client::new(addr);
        c.get("/incr").await;
        let resp = c.get("/incr-then-store-dies").await;
        assert_eq!(resp.status, 503, "a lost write must not look like success");
        assert_eq!(resp.body, "Session store unavailable");
        assert!(resp.set_cookies().is_empty());
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
    let addr = serve(Switch::new(MemoryStore::new()));
    block_on(async {
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
    let addr = serve(Switch::new(MemoryStore::new()));
    block_on(async {
        let resp = Client::new(addr).get("/own-cache").await;
        assert_eq!(resp.set_cookies().len(), 1);
        assert_eq!(resp.header("cache-control"), Some("private, max-age=5"));
        let resp = Client::new(addr).get("/incr").await;
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        assert_eq!(resp.header("vary"), Some("Cookie"));
    });
}

#[test]
fn missing_middleware_is_a_500_not_a_panic() {
    let addr = serve(Switch::new(MemoryStore::new()));
    block_on(async {
        let resp = Client::new(addr).get("/no-middleware").await;
        assert_eq!(resp.status, 500);
        assert_eq!(resp.body, "Session error");
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    });
}

#[test]
fn flash_extractor_shows_once() {
    let addr = serve(Switch::new(MemoryStore::new()));
    block_on(async {
        let mut c = Client::new(addr);
        assert_eq!(c.get("/flash/set").await.body, "set");
        assert_eq!(c.get("/flash").await.body, "saved");
        assert_eq!(c.get("/flash").await.body, "none");
    });
}

#[test]
fn cookies_extractor_reads_and_sets_every_attribute() {
    let addr = serve(Switch::new(MemoryStore::new()));
    block_on(async {
        let resp = send(addr, "GET", "/cookies", &[("Cookie", b"lang=fr")])
            .await
            .expect("request");
        assert_eq!(resp.body, "fr");
        let set = resp.set_cookie("theme").expect("theme cookie");
        assert_eq!(set.value, "dark%20mode");
        assert_eq!(set.attr("path"), Some("/app"));
        assert_eq!(set.attr("domain"), Some("example.test"));
        assert_eq!(set.attr("samesite"), Some("Strict"));
        assert_eq!(set.attr("max-age"), Some("300"));
        for flag in ["secure", "httponly", "partitioned"] {
            assert!(set.attr(flag).is_some(), "{flag}: {set:?}");
        }
        assert!(
            resp.set_cookie("session").is_none(),
            "a plain cookie starts no session"
        );
    });
}
