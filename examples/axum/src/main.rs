//! The example contract app on axum. See `examples/common/settings.rs` for
//! the environment and DESIGN.md for the routes.

use std::process::ExitCode;

use adapter_axum as adapter;
use adapter_axum::{Session, SessionError, SessionLayer, SessionManager};
use axum::extract::Path;
use axum::routing::get;
use axum::{Router, ServiceExt};
use tower_layer::Layer;

#[path = "../../common/contract.rs"]
mod contract;
#[path = "../../common/settings.rs"]
mod settings;

async fn home(session: Session) -> Result<String, SessionError> {
    Ok(contract::home(&session)?)
}

async fn login(Path(id): Path<String>, session: Session) -> Result<String, SessionError> {
    Ok(contract::login(&session, &id)?)
}

async fn remove(session: Session) -> String {
    contract::remove(&session)
}

async fn logout(session: Session) -> String {
    contract::logout(&session)
}

async fn counter(session: Session) -> Result<String, SessionError> {
    Ok(contract::counter(&session)?)
}

async fn counter_incr(session: Session) -> Result<String, SessionError> {
    Ok(contract::counter_incr(&session)?)
}

async fn cookie_set(session: Session) -> Result<String, SessionError> {
    Ok(contract::cookie_set(&session)?)
}

async fn cookie_get(session: Session) -> String {
    contract::cookie_get(&session)
}

async fn serve(settings: settings::Settings) -> Result<(), String> {
    let config = settings.config()?;
    let store = settings.store(&config)?;
    let layer = SessionLayer::from_manager(SessionManager::from_arc(store, config));
    let routes = Router::new()
        .route("/", get(home))
        .route("/login/{id}", get(login))
        .route("/remove", get(remove))
        .route("/logout", get(logout))
        .route("/counter", get(counter))
        .route("/counter/incr", get(counter_incr))
        .route("/cookie/set", get(cookie_set))
        .route("/cookie", get(cookie_get));
    // One session service around the whole router, rather than
    // `routes.layer(layer)`, which wraps every route in a boxed service of
    // its own: same behaviour, one boxed future and one clone less per
    // request.
    let app = layer.layer(routes.with_state(()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", settings.port))?;
    tracing::info!("listening on http://127.0.0.1:{}", settings.port);
    axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("server error: {e}"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let result = settings::Settings::from_env().and_then(|settings| {
        let mut rt = tokio::runtime::Builder::new_multi_thread();
        if let Some(n) = settings.workers {
            rt.worker_threads(n);
        }
        let rt = rt
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        rt.block_on(serve(settings))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("example-axum: {e}");
            ExitCode::FAILURE
        }
    }
}
