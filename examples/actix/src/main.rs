//! The example contract app on actix-web. See `examples/common/settings.rs`
//! for the environment and DESIGN.md for the routes.

use std::process::ExitCode;

use actix_web::http::header;
use actix_web::{
    guard, web, App, FromRequest, Handler, HttpResponse, HttpServer, Resource, Responder,
};
use adapter_actix as adapter;
use adapter_actix::{Session, SessionError, SessionManager, SessionMiddleware};

#[path = "../../common/contract.rs"]
mod contract;
#[path = "../../common/settings.rs"]
mod settings;

async fn home(session: Session) -> Result<String, SessionError> {
    Ok(contract::home(&session)?)
}

async fn login(id: web::Path<String>, session: Session) -> Result<String, SessionError> {
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

/// `GET path`, which also answers `HEAD`; other methods get the same `405`
/// as from axum's `get`.
fn get<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let get_or_head = guard::Any(guard::Get()).or(guard::Head());
    web::resource(path)
        .route(web::route().guard(get_or_head).to(handler))
        .default_service(web::to(|| async {
            HttpResponse::MethodNotAllowed()
                .insert_header((header::ALLOW, "GET,HEAD"))
                .finish()
        }))
}

async fn serve(settings: settings::Settings) -> Result<(), String> {
    let config = settings.config()?;
    // Inside the actix runtime: the memory store starts its cleanup job here.
    let store = settings.store(&config)?;
    // One middleware, cloned into every worker: all workers share the store.
    let sessions = SessionMiddleware::from_manager(SessionManager::from_arc(store, config));
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(sessions.clone())
            .service(get("/", home))
            .service(get("/remove", remove))
            .service(get("/logout", logout))
            .service(get("/counter", counter))
            .service(get("/counter/incr", counter_incr))
            .service(get("/cookie/set", cookie_set))
            .service(get("/cookie", cookie_get))
            // actix tries resources in order and matches a `{param}` path
            // with a regex: the dynamic one goes last, so the static routes
            // never pay for it.
            .service(get("/login/{id}", login))
    });
    if let Some(n) = settings.workers {
        server = server.workers(n);
    }
    let server = server
        .bind(("127.0.0.1", settings.port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", settings.port))?;
    tracing::info!("listening on http://127.0.0.1:{}", settings.port);
    server.run().await.map_err(|e| format!("server error: {e}"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let result = settings::Settings::from_env()
        .and_then(|settings| actix_web::rt::System::new().block_on(serve(settings)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("example-actix: {e}");
            ExitCode::FAILURE
        }
    }
}
