//! axum request and response ↔ the core's plain data.

use axum::response::Response;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use session_core::{Committed, Redirect};

/// The request's `Cookie` header values.
pub(crate) fn cookie_headers(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
}

/// Adds the commit's headers to the handler's response.
pub(crate) fn apply(resp: &mut Response, done: Committed) {
    let headers = resp.headers_mut();
    for cookie in done.set_cookies {
        append(headers, header::SET_COOKIE, cookie);
    }
    if done.no_store && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if done.vary_cookie {
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
    }
}

/// The timeout answer: `303 See Other` with the expired cookie.
pub(crate) fn redirect(to: Redirect) -> Response {
    let mut resp = crate::error::text(StatusCode::SEE_OTHER, "");
    let headers = resp.headers_mut();
    append(headers, header::LOCATION, to.location);
    append(headers, header::SET_COOKIE, to.set_cookie);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn append(headers: &mut HeaderMap, name: header::HeaderName, value: String) {
    // The core validates every attribute, so this only fails on a bug.
    match HeaderValue::try_from(value) {
        Ok(v) => {
            headers.append(name, v);
        }
        Err(e) => tracing::error!(error = %e, header = %name, "dropping an invalid header"),
    }
}
