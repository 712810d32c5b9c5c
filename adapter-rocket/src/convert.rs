//! rocket request and response ↔ the core's plain data.

use rocket::http::{Header, Status};
use rocket::{Request, Response};
use session_core::{Committed, Redirect};

/// Headers an error response keeps from the one it replaces: what rocket
/// adds to every response (`ident` and the `Shield`'s policies), never
/// anything the handler set.
const KEEP: &[&str] = &[
    "Server",
    "Permissions-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Strict-Transport-Security",
    "Referrer-Policy",
    "X-DNS-Prefetch-Control",
    "Expect-CT",
    "X-XSS-Protection",
];

/// The request's `Cookie` header values.
pub(crate) fn cookie_headers<'a>(req: &'a Request<'_>) -> impl Iterator<Item = &'a [u8]> {
    req.headers().get("Cookie").map(str::as_bytes)
}

/// Adds the commit's headers to the handler's response.
pub(crate) fn apply(resp: &mut Response<'_>, done: Committed) {
    for cookie in done.set_cookies {
        resp.adjoin_raw_header("Set-Cookie", cookie);
    }
    if done.no_store && !resp.headers().contains("Cache-Control") {
        resp.set_raw_header("Cache-Control", "no-store");
    }
    if done.vary_cookie {
        resp.adjoin_raw_header("Vary", "Cookie");
    }
}

/// Replaces the response with a one-line `text/plain` answer.
pub(crate) fn replace(resp: &mut Response<'_>, status: Status, body: &'static str) {
    let mut new = crate::error::text(status, body);
    for h in resp.headers().iter() {
        if KEEP.iter().any(|k| h.name() == *k) {
            new.adjoin_header(Header::new(h.name().to_string(), h.value().to_owned()));
        }
    }
    *resp = new;
}

/// The timeout answer: `303 See Other` with the expired cookie.
pub(crate) fn redirect(resp: &mut Response<'_>, to: &Redirect) {
    replace(resp, Status::SeeOther, "");
    resp.set_raw_header("Location", to.location.clone());
    resp.adjoin_raw_header("Set-Cookie", to.set_cookie.clone());
    resp.set_raw_header("Cache-Control", "no-store");
}
