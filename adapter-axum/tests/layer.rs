//! The layer's own behaviour over real HTTP on 127.0.0.1: store outages,
//! failed commits, error responses, the handler's own headers.

use std::net::SocketAddr;

use adapter_axum::{MemoryStore, Session, SessionConfig, SessionError, SessionLayer};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use http::{header, StatusCode};
use session_testkit::http::Client;
use session_testkit::{block_on, Switch};

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn app(store: Switch<MemoryStore>) -> Router {
    let off = store.clone();
    Router::new()
        .route(
            "/read",
            get(|s: Session| async move {
                Ok::<_, SessionError>(s.get::<i64>("n")?.unwrap_or(0).to_string())
            }),
        )
        .route(
            "/incr",
            get(|s: Session| async move {
                let n = s.get::<i64>("n")?.unwrap_or(0) + 1;
                s.insert("n", &n)?;
                Ok::<_, SessionError>(n.to_string())
            }),
        )
        .route(
            "/incr-then-store-dies",
            get(move |s: Session| async move {
                s.insert("n", &100)?;
                off.off();
                Ok::<_, SessionError>("changed")
            }),
        )
        .route(
            "/fail",
            get(|s: Session| async move {
                s.insert("n", &999)?;
                Ok::<_, SessionError>((StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response())
            }),
        )
        .route(
            "/own-cache",
            get(|s: Session| async move {
                s.insert("n", &1)?;
                Ok::<_, SessionError>(([(header::CACHE_CONTROL, "private, max-age=5")], "ok"))
            }),
        )
        .layer(SessionLayer::new(store, SessionConfig::default()))
        .route("/no-layer", get(|_s: Session| async { "unreachable" }))
}

#[test]
fn outage_answers_503_then_recovers() {
    block_on(async {
        let store = Switch::new(MemoryStore::new());
        let addr = serve(app(store.clone())).await;
        let mut c = Client::new(addr);
        assert_eq!(c.get("/incr").await.body, "1");
        store.off();
        let resp = c.get("/incr").await;
        assert_eq!(resp.status, 503);
        assert_eq!(resp.body, "Session store unavailable");
        assert!(resp
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"));
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
    block_on(async {
        let store = Switch::new(MemoryStore::new());
        let addr = serve(app(store.clone())).await;
        let mut c = Client::new(addr);
        c.get("/incr").await;
        let resp = c.get("/incr-then-store-dies").await;
        assert_eq!(resp.status, 503, "a lost write must not look like success");
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
        let addr = serve(app(store)).await;
        let mut c = Client::new(addr);
        c.get("/incr").await;
        let resp = c.get("/fail").await;
        assert_eq!(resp.status, 500);
        assert!(resp.set_cookies().is_empty());
        assert_eq!(c.get("/incr").await.body, "2");
    });
}

#[test]
fn handler_cache_control_is_kept() {
    block_on(async {
        let addr = serve(app(Switch::new(MemoryStore::new()))).await;
        let resp = Client::new(addr).get("/own-cache").await;
        assert_eq!(resp.set_cookies().len(), 1);
        assert_eq!(resp.header("cache-control"), Some("private, max-age=5"));
        let resp = Client::new(addr).get("/incr").await;
        assert_eq!(resp.header("cache-control"), Some("no-store"));
    });
}

#[test]
fn missing_layer_is_a_500_not_a_panic() {
    block_on(async {
        let addr = serve(app(Switch::new(MemoryStore::new()))).await;
        let resp = Client::new(addr).get("/no-layer").await;
        assert_eq!(resp.status, 500);
        assert_eq!(resp.body, "Session error");
    });
}

#[test]
fn read_only_requests_write_nothing() {
    block_on(async {
        let store = Switch::new(MemoryStore::new());
        let addr = serve(app(store.clone())).await;
        let mut c = Client::new(addr);
        c.get("/incr").await;
        let before = store.calls();
        for _ in 0..20 {
            assert_eq!(c.get("/read").await.body, "1");
        }
        let after = store.calls();
        assert_eq!(after.load, before.load + 20);
        assert_eq!(
            (after.create, after.update, after.touch, after.delete),
            (before.create, before.update, before.touch, before.delete),
            "a read-only request must not write the store"
        );
        // A visitor without a session costs no store call at all.
        let fresh = store.calls();
        Client::new(addr).get("/read").await;
        assert_eq!(store.calls(), fresh);
    });
}
