//! The example contract app on rocket. See `examples/common/settings.rs` for
//! the environment and DESIGN.md for the routes.

use std::net::Ipv4Addr;
use std::process::ExitCode;

use adapter_rocket as adapter;
use adapter_rocket::{Session, SessionError, SessionFairing, SessionManager};
use rocket::config::{Config, Ident, LogLevel};
use rocket::error::ErrorKind;
use rocket::fairing::AdHoc;
use rocket::http::Status;
use rocket::{catch, catchers, get, routes, Request};

#[path = "../../common/contract.rs"]
mod contract;
#[path = "../../common/settings.rs"]
mod settings;

#[get("/")]
fn home(session: Session) -> Result<String, SessionError> {
    Ok(contract::home(&session)?)
}

#[get("/login/<id>")]
fn login(id: &str, session: Session) -> Result<String, SessionError> {
    Ok(contract::login(&session, id)?)
}

#[get("/remove")]
fn remove(session: Session) -> String {
    contract::remove(&session)
}

#[get("/logout")]
fn logout(session: Session) -> String {
    contract::logout(&session)
}

#[get("/counter")]
fn counter(session: Session) -> Result<String, SessionError> {
    Ok(contract::counter(&session)?)
}

#[get("/counter/incr")]
fn counter_incr(session: Session) -> Result<String, SessionError> {
    Ok(contract::counter_incr(&session)?)
}

#[get("/cookie/set")]
fn cookie_set(session: Session) -> Result<String, SessionError> {
    Ok(contract::cookie_set(&session)?)
}

#[get("/cookie")]
fn cookie_get(session: Session) -> String {
    contract::cookie_get(&session)
}

/// Errors without a route (404 and the like): the status and an empty
/// body, as the other example apps answer, instead of rocket's HTML page.
#[catch(default)]
fn no_route(status: Status, _: &Request<'_>) -> (Status, ()) {
    (status, ())
}

async fn serve(settings: settings::Settings) -> Result<(), String> {
    let config = settings.config()?;
    let store = settings.store(&config)?;
    let fairing = SessionFairing::from_manager(SessionManager::from_arc(store, config));
    let defaults = Config::default();
    // Only the contract's environment configures the server: no Rocket.toml,
    // no ROCKET_* variables.
    let server = Config {
        address: Ipv4Addr::LOCALHOST.into(),
        port: settings.port,
        workers: settings.workers.unwrap_or(defaults.workers),
        ident: Ident::none(),
        log_level: LogLevel::Off,
        ..defaults
    };
    rocket::custom(server)
        .mount(
            "/",
            routes![
                home,
                login,
                remove,
                logout,
                counter,
                counter_incr,
                cookie_set,
                cookie_get
            ],
        )
        .register("/", catchers![no_route])
        .attach(fairing)
        .attach(AdHoc::on_liftoff("log", |rocket| {
            let port = rocket.config().port;
            Box::pin(async move { tracing::info!("listening on http://127.0.0.1:{port}") })
        }))
        .launch()
        .await
        .map(drop)
        .map_err(|e| match e.kind() {
            ErrorKind::Bind(e) => format!("cannot listen on 127.0.0.1:{}: {e}", settings.port),
            _ => format!("server error: {e}"),
        })
}

fn main() -> ExitCode {
    // Not `init()`: that would route rocket's own `log` output through
    // tracing and bypass its `log_level`.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
    let result = settings::Settings::from_env().and_then(|settings| {
        let mut rt = tokio::runtime::Builder::new_multi_thread();
        if let Some(n) = settings.workers {
            rt.worker_threads(n);
        }
        let rt = rt
            .thread_name("rocket-worker-thread")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the runtime: {e}"))?;
        rt.block_on(serve(settings))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("example-rocket: {e}");
            ExitCode::FAILURE
        }
    }
}
