//! The least a session layer can do on axum: a floor to read our ratios
//! against, not a session library.
//!
//! `axum-floor-memory` keeps each session's counter in a `HashMap` behind
//! a `Mutex`, keyed by a 128-bit random id in the cookie; the handler
//! changes the counter in place, so a write needs no commit at all.
//! `axum-floor-cookie` carries the counter alone (8 bytes) sealed with
//! AES-256-GCM in the cookie, with a counter nonce (no system call).
//!
//! Both do only what any session layer must: find the cookie, load the
//! session, hand it to the handler through the request's extensions, add
//! `Vary: Cookie`, and (cookie store, or a new session) set the cookie
//! with `Cache-Control: no-store`. None of what a real library adds:
//! no timeouts, no flash, no typed values, no key rotation, no error
//! answers. What our layer costs above these is the price of those
//! features, and of whatever is still left to cut in them.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use base64_simd::URL_SAFE_NO_PAD as B64;
use pin_project_lite::pin_project;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom, SystemRandom};
use tower_layer::Layer;
use tower_service::Service;

use crate::peers::counter_body;

/// The session's counter, shared between the layer and the handler.
#[derive(Clone)]
struct Counter(Arc<AtomicI64>);

async fn read(Extension(c): Extension<Counter>) -> String {
    counter_body(c.0.load(Ordering::Relaxed))
}

async fn write(Extension(c): Extension<Counter>) -> String {
    counter_body(c.0.fetch_add(1, Ordering::Relaxed) + 1)
}

/// Serves `axum-floor-memory` or `axum-floor-cookie`.
pub async fn serve(name: &str, listener: tokio::net::TcpListener) -> Result<(), String> {
    let routes = Router::new()
        .route("/counter", get(read))
        .route("/counter/incr", get(write))
        .with_state(());
    let kind = match name {
        "axum-floor-memory" => Kind::Memory(Arc::default()),
        "axum-floor-cookie" => {
            let mut key = [0u8; 32];
            SystemRandom::new()
                .fill(&mut key)
                .map_err(|_| "no randomness")?;
            let key = UnboundKey::new(&AES_256_GCM, &key).map_err(|_| "bad key")?;
            Kind::Cookie(Arc::new(Sealer {
                key: LessSafeKey::new(key),
                nonces: AtomicU64::new(0),
            }))
        }
        other => return Err(format!("unknown floor {other:?}")),
    };
    let app = FloorLayer(kind).layer(routes);
    axum::serve(
        listener,
        axum::ServiceExt::<Request>::into_make_service(app),
    )
    .await
    .map_err(|e| e.to_string())
}

/// Sessions by id. Ids are random, so their low 64 bits are the hash: no
/// hashing work at all, the least a map lookup can cost.
type Sessions = Arc<Mutex<HashMap<u128, Arc<AtomicI64>, BuildHasherDefault<IdHash>>>>;

#[derive(Default)]
struct IdHash(u64);

impl Hasher for IdHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, id: u128) {
        self.0 = id as u64;
    }
}

/// Decodes base64url `text` into all of `out`, or `None` (wrong length
/// or bad characters). The length is checked first: the codec panics on
/// a buffer too short.
fn decode_exact(text: &[u8], out: &mut [u8]) -> Option<()> {
    if B64.decoded_length(text).ok()? != out.len() {
        return None;
    }
    B64.decode(text, base64_simd::Out::from_slice(out)).ok()?;
    Some(())
}

/// A 128-bit id from its 22 base64url characters.
fn parse_id(text: &[u8]) -> Option<u128> {
    let mut id = [0u8; 16];
    decode_exact(text, &mut id)?;
    Some(u128::from_le_bytes(id))
}

struct Sealer {
    key: LessSafeKey,
    nonces: AtomicU64,
}

const NONCE: usize = 12;
const TAG: usize = 16;

impl Sealer {
    fn open(&self, text: &[u8]) -> Option<i64> {
        let mut buf = [0u8; NONCE + 8 + TAG];
        decode_exact(text, &mut buf)?;
        let (nonce, sealed) = buf.split_at_mut(NONCE);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self.key.open_in_place(nonce, Aad::empty(), sealed).ok()?;
        Some(i64::from_le_bytes(plain.try_into().ok()?))
    }

    fn seal(&self, n: i64) -> Option<String> {
        let mut buf = [0u8; NONCE + 8 + TAG];
        let count = self.nonces.fetch_add(1, Ordering::Relaxed);
        buf[4..NONCE].copy_from_slice(&count.to_le_bytes());
        let nonce = Nonce::try_assume_unique_for_key(&buf[..NONCE]).ok()?;
        let (_, rest) = buf.split_at_mut(NONCE);
        rest[..8].copy_from_slice(&n.to_le_bytes());
        let (plain, tag_out) = rest.split_at_mut(8);
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::empty(), plain)
            .ok()?;
        tag_out.copy_from_slice(tag.as_ref());
        Some(B64.encode_to_string(buf))
    }
}

#[derive(Clone)]
enum Kind {
    Memory(Sessions),
    Cookie(Arc<Sealer>),
}

#[derive(Clone)]
struct FloorLayer(Kind);

impl<S> Layer<S> for FloorLayer {
    type Service = Floor<S>;
    fn layer(&self, inner: S) -> Floor<S> {
        Floor {
            inner,
            kind: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct Floor<S> {
    inner: S,
    kind: Kind,
}

/// The `session` cookie's value in the request's `Cookie` headers.
fn session_cookie(headers: &HeaderMap) -> Option<&[u8]> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b';'))
        .find_map(|c| c.trim_ascii_start().strip_prefix(b"session="))
}

/// What the response needs once the handler is done.
enum After {
    /// A loaded server-side session: nothing but `Vary`.
    Nothing,
    /// A new server-side session: store it and set its cookie if written.
    Create(Sessions),
    /// A cookie session loaded with this value: reseal if it changed.
    Reseal(Arc<Sealer>, i64),
}

impl<S> Service<Request> for Floor<S>
where
    S: Service<Request, Response = Response> + Clone,
{
    type Response = Response;
    type Error = S::Error;
    type Future = FloorFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let cookie = session_cookie(req.headers());
        let (counter, after) = match &self.kind {
            Kind::Memory(sessions) => {
                let found = cookie
                    .and_then(parse_id)
                    .and_then(|id| sessions.lock().ok()?.get(&id).cloned());
                match found {
                    Some(counter) => (counter, After::Nothing),
                    None => (Arc::default(), After::Create(sessions.clone())),
                }
            }
            Kind::Cookie(sealer) => {
                let n = cookie.and_then(|c| sealer.open(c)).unwrap_or(0);
                (
                    Arc::new(AtomicI64::new(n)),
                    After::Reseal(sealer.clone(), n),
                )
            }
        };
        req.extensions_mut().insert(Counter(counter.clone()));
        FloorFuture {
            inner: self.inner.call(req),
            counter,
            after,
        }
    }
}

pin_project! {
    struct FloorFuture<F> {
        #[pin]
        inner: F,
        counter: Arc<AtomicI64>,
        after: After,
    }
}

impl<F, E> Future for FloorFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut resp = ready!(this.inner.poll(cx))?;
        let n = this.counter.load(Ordering::Relaxed);
        let value = match this.after {
            After::Create(sessions) if n != 0 => {
                let mut id = [0u8; 16];
                SystemRandom::new().fill(&mut id).ok().map(|()| {
                    if let Ok(mut map) = sessions.lock() {
                        map.insert(u128::from_le_bytes(id), this.counter.clone());
                    }
                    B64.encode_to_string(id)
                })
            }
            After::Reseal(sealer, loaded) if n != *loaded => sealer.seal(n),
            // A stored session (changed in place), an unchanged cookie, or
            // a new session never written: no cookie to set.
            _ => None,
        };
        let headers = resp.headers_mut();
        if let Some(value) = value {
            let cookie = format!("session={value}; Path=/; Secure; HttpOnly; SameSite=Lax");
            if let Ok(cookie) = HeaderValue::try_from(cookie) {
                headers.append(header::SET_COOKIE, cookie);
            }
            if !headers.contains_key(header::CACHE_CONTROL) {
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
        }
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
        Poll::Ready(Ok(resp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_testkit::http::send;

    fn sealer() -> Sealer {
        let key = UnboundKey::new(&AES_256_GCM, &[9; 32]).expect("key");
        Sealer {
            key: LessSafeKey::new(key),
            nonces: AtomicU64::new(0),
        }
    }

    #[test]
    fn a_sealed_counter_opens_and_a_changed_one_does_not() {
        let s = sealer();
        let text = s.seal(-42).expect("sealed");
        assert_eq!(s.open(text.as_bytes()), Some(-42));
        // A fresh nonce each time: the same value never seals the same.
        assert_ne!(s.seal(-42), Some(text.clone()));
        let mut forged = text.into_bytes();
        forged[20] = if forged[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(s.open(&forged), None);
        for bad in [&b""[..], b"!!!!", &[b'A'; 47], &[b'A'; 400]] {
            assert_eq!(s.open(bad), None);
        }
    }

    #[test]
    fn ids_parse_from_22_characters_only() {
        let text = B64.encode_to_string(7u128.to_le_bytes());
        assert_eq!(parse_id(text.as_bytes()), Some(7));
        for bad in [
            &b""[..],
            &text.as_bytes()[1..],
            b"++++++++++++++++++++++",
            &[b'A'; 400],
        ] {
            assert_eq!(parse_id(bad), None);
        }
    }

    /// Each floor over HTTP: a write sets the cookie, a read with it
    /// sees the count, and every answer varies on `Cookie`.
    #[test]
    fn each_floor_keeps_a_counter_in_its_session() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        for name in ["axum-floor-memory", "axum-floor-cookie"] {
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let addr = listener.local_addr().expect("addr");
                let server = tokio::spawn(serve(name, listener));
                let first = send(addr, "GET", "/counter/incr", &[]).await.expect("send");
                assert_eq!(first.body, "counter: 1", "{name}");
                assert_eq!(first.header("vary"), Some("Cookie"), "{name}");
                assert_eq!(first.header("cache-control"), Some("no-store"), "{name}");
                let set = first.set_cookies()[0];
                assert!(
                    set.ends_with("; Path=/; Secure; HttpOnly; SameSite=Lax"),
                    "{set}"
                );
                let cookie = set.split(';').next().expect("pair").to_owned();
                let headers = [("cookie", cookie.as_bytes())];
                let second = send(addr, "GET", "/counter/incr", &headers)
                    .await
                    .expect("send");
                assert_eq!(second.body, "counter: 2", "{name}");
                let cookie = match name {
                    // The cookie store's count lives in the new cookie.
                    "axum-floor-cookie" => second.set_cookies()[0]
                        .split(';')
                        .next()
                        .expect("pair")
                        .to_owned(),
                    _ => cookie,
                };
                let headers = [("cookie", cookie.as_bytes())];
                let read = send(addr, "GET", "/counter", &headers).await.expect("send");
                assert_eq!(read.body, "counter: 2", "{name}");
                assert!(read.set_cookies().is_empty(), "{name}: a read sets nothing");
                assert_eq!(read.header("vary"), Some("Cookie"), "{name}");
                let forged = send(
                    addr,
                    "GET",
                    "/counter",
                    &[("cookie", &b"session=forged"[..])],
                )
                .await
                .expect("send");
                assert_eq!(forged.body, "counter: 0", "{name}");
                server.abort();
            });
        }
    }
}
