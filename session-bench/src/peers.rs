//! The servers we measure against: each framework with no sessions, and
//! the peer session libraries, on the same routes as the example apps:
//! `GET /counter` reads a counter from the session, `GET /counter/incr`
//! increments it. One worker thread each, bound to 127.0.0.1.

use std::time::Duration;

/// The peer and baseline servers this binary can run.
pub const PEERS: &[&str] = &[
    "axum-none",
    "axum-tower-sessions-memory",
    "axum-tower-sessions-redis",
    "axum-floor-memory",
    "axum-floor-cookie",
    "actix-none",
    "actix-session-cookie",
    "actix-session-redis",
    "rocket-none",
];

/// Runs peer `name` on `port` until killed.
pub fn serve(name: &str, port: u16, redis_url: &str) -> Result<(), String> {
    match name {
        n if n.starts_with("axum-") => axum_side::serve(n, port, redis_url),
        n if n.starts_with("actix-") => actix_side::serve(n, port, redis_url),
        "rocket-none" => rocket_side::serve(port),
        other => Err(format!("unknown peer {other:?}; one of {PEERS:?}")),
    }
}

pub(crate) fn counter_body(n: i64) -> String {
    format!("counter: {n}")
}

/// The example apps' other routes, before and after the two measured
/// ones in the examples' order. actix and rocket try routes one after
/// another, so a table of two would make every other server look cheaper
/// than an example app by the routing alone; axum's radix tree does not
/// care, and its servers keep the two.
const ROUTES_BEFORE: [&str; 3] = ["/", "/remove", "/logout"];
const ROUTES_AFTER: [&str; 3] = ["/cookie/set", "/cookie", "/login/{id}"];

mod axum_side {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use tower_sessions::{Expiry, MemoryStore, Session, SessionManagerLayer, SessionStore};

    async fn read(session: Session) -> String {
        let n: i64 = session.get("counter").await.ok().flatten().unwrap_or(0);
        counter_body(n)
    }

    async fn write(session: Session) -> String {
        let n: i64 = session.get("counter").await.ok().flatten().unwrap_or(0) + 1;
        let _ = session.insert("counter", n).await;
        counter_body(n)
    }

    /// Wrapped once around the router, as our example app is (rather than
    /// `Router::layer`, which boxes each route): the same shape for both.
    async fn with_sessions<S: SessionStore + Clone>(port: u16, store: S) -> Result<(), String> {
        let layer = SessionManagerLayer::new(store)
            .with_secure(true)
            .with_expiry(Expiry::OnInactivity(time_duration(Duration::from_secs(
                1800,
            ))));
        let routes = Router::new()
            .route("/counter", get(read))
            .route("/counter/incr", get(write));
        let app = tower_layer::Layer::layer(&layer, routes.with_state(()));
        let listener = listen(port).await?;
        axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service(app),
        )
        .await
        .map_err(|e| e.to_string())
    }

    async fn listen(port: u16) -> Result<tokio::net::TcpListener, String> {
        tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())
    }

    fn time_duration(d: Duration) -> tower_sessions::cookie::time::Duration {
        tower_sessions::cookie::time::Duration::seconds(d.as_secs() as i64)
    }

    pub(super) fn serve(name: &str, port: u16, redis_url: &str) -> Result<(), String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            match name {
                "axum-none" => {
                    let app = Router::new()
                        .route("/counter", get(|| async { counter_body(0) }))
                        .route("/counter/incr", get(|| async { counter_body(1) }));
                    let listener = listen(port).await?;
                    axum::serve(listener, app).await.map_err(|e| e.to_string())
                }
                "axum-tower-sessions-memory" => with_sessions(port, MemoryStore::default()).await,
                floor if floor.starts_with("axum-floor-") => {
                    crate::floor::serve(floor, listen(port).await?).await
                }
                "axum-tower-sessions-redis" => {
                    use tower_sessions_redis_store::fred::prelude::*;
                    let config = Config::from_url(redis_url).map_err(|e| e.to_string())?;
                    let pool = Pool::new(config, None, None, None, 1).map_err(|e| e.to_string())?;
                    let _task = pool.connect();
                    pool.wait_for_connect().await.map_err(|e| e.to_string())?;
                    with_sessions(port, tower_sessions_redis_store::RedisStore::new(pool)).await
                }
                other => Err(format!("unknown axum peer {other:?}")),
            }
        })
    }
}

mod actix_side {
    use super::*;
    use actix_session::storage::{CookieSessionStore, RedisSessionStore};
    use actix_session::{Session, SessionMiddleware};
    use actix_web::cookie::Key;
    use actix_web::{web, App, HttpServer};

    async fn read(session: Session) -> String {
        let n: i64 = session.get("counter").ok().flatten().unwrap_or(0);
        counter_body(n)
    }

    async fn write(session: Session) -> String {
        let n: i64 = session.get("counter").ok().flatten().unwrap_or(0) + 1;
        let _ = session.insert("counter", n);
        counter_body(n)
    }

    /// A route the load never asks for.
    async fn unused() -> &'static str {
        ""
    }

    fn routes_before(cfg: &mut web::ServiceConfig) {
        for path in ROUTES_BEFORE {
            cfg.route(path, web::get().to(unused));
        }
    }

    fn routes_after(cfg: &mut web::ServiceConfig) {
        for path in ROUTES_AFTER {
            cfg.route(path, web::get().to(unused));
        }
    }

    pub(super) fn serve(name: &str, port: u16, redis_url: &str) -> Result<(), String> {
        let key = Key::from(&[7u8; 64]);
        let name = name.to_owned();
        let redis_url = redis_url.to_owned();
        actix_web::rt::System::new().block_on(async move {
            let redis = if name == "actix-session-redis" {
                Some(
                    RedisSessionStore::new(redis_url)
                        .await
                        .map_err(|e| e.to_string())?,
                )
            } else {
                None
            };
            macro_rules! run {
                ($factory:expr) => {
                    HttpServer::new($factory)
                        .workers(1)
                        .bind(("127.0.0.1", port))
                        .map_err(|e| e.to_string())?
                        .run()
                        .await
                        .map_err(|e| e.to_string())
                };
            }
            match (name.as_str(), redis) {
                ("actix-session-cookie", _) => run!(move || App::new()
                    .wrap(SessionMiddleware::new(
                        CookieSessionStore::default(),
                        key.clone()
                    ))
                    .configure(routes_before)
                    .route("/counter", web::get().to(read))
                    .route("/counter/incr", web::get().to(write))
                    .configure(routes_after)),
                (_, Some(store)) => run!(move || App::new()
                    .wrap(SessionMiddleware::new(store.clone(), key.clone()))
                    .configure(routes_before)
                    .route("/counter", web::get().to(read))
                    .route("/counter/incr", web::get().to(write))
                    .configure(routes_after)),
                _ => run!(|| App::new()
                    .configure(routes_before)
                    .route("/counter", web::get().to(|| async { counter_body(0) }))
                    .route("/counter/incr", web::get().to(|| async { counter_body(1) }))
                    .configure(routes_after)),
            }
        })
    }
}

mod rocket_side {
    use super::*;

    #[rocket::get("/counter")]
    fn read() -> String {
        counter_body(0)
    }

    #[rocket::get("/counter/incr")]
    fn write() -> String {
        counter_body(1)
    }

    /// The example's other routes (see [`ROUTES_BEFORE`]); rocket needs
    /// them as functions, so they are spelled out here.
    #[rocket::get("/")]
    fn home() {}
    #[rocket::get("/login/<_id>")]
    fn login(_id: &str) {}
    #[rocket::get("/remove")]
    fn remove() {}
    #[rocket::get("/logout")]
    fn logout() {}
    #[rocket::get("/cookie/set")]
    fn cookie_set() {}
    #[rocket::get("/cookie")]
    fn cookie_get() {}

    pub(super) fn serve(port: u16) -> Result<(), String> {
        let figment = rocket::Config::figment()
            .merge(("port", port))
            .merge(("address", "127.0.0.1"))
            .merge(("workers", 1))
            .merge(("log_level", "off"));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            rocket::custom(figment)
                .mount(
                    "/",
                    rocket::routes![
                        home, login, remove, logout, read, write, cookie_set, cookie_get
                    ],
                )
                .launch()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
