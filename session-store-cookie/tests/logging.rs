//! What the store logs: the random-key warning, and refused cookies at
//! debug level. Captured with a minimal `tracing` subscriber (its own test
//! binary, so no other test's events mix in).

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, MutexGuard};

use session_core::{SessionConfig, Timestamp};
use session_store_cookie::CookieStore;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(Level, String)>>>);

impl Capture {
    fn events(&self) -> Vec<(Level, String)> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = Text(String::new());
        event.record(&mut text);
        if let Ok(mut v) = self.0.lock() {
            v.push((*event.metadata().level(), text.0));
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Held for a whole test: the tests of this binary run one at a time.
/// `tracing` caches each callsite's interest globally; a callsite first hit
/// on another thread while no capture is alive (a test's own calls outside
/// `captured`) can race with this test's subscriber being registered and
/// leave the event unrecorded.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn captured<T>(f: impl FnOnce() -> T) -> (T, Vec<(Level, String)>) {
    let capture = Capture::default();
    let out = tracing::subscriber::with_default(capture.clone(), || {
        // Callsites first hit while no capture was alive cached "never":
        // recompute with this one registered.
        tracing::callsite::rebuild_interest_cache();
        f()
    });
    (out, capture.events())
}

fn warnings(events: &[(Level, String)]) -> Vec<&str> {
    events
        .iter()
        .filter(|(l, _)| *l == Level::WARN)
        .map(|(_, m)| m.as_str())
        .collect()
}

#[test]
fn a_random_key_is_never_silent() {
    let _serial = serial();
    let config = SessionConfig::default();
    let (store, events) = captured(|| CookieStore::random_key(&config));
    let store = store.expect("random key");
    let warns = warnings(&events);
    assert_eq!(warns.len(), 1, "{events:?}");
    assert!(warns[0].contains("random key"), "{}", warns[0]);
    assert!(warns[0].contains("restart"), "{}", warns[0]);
    assert!(warns[0].contains("other processes"), "{}", warns[0]);

    // A builder given no secret does the same.
    let (other, events) = captured(|| CookieStore::builder(&config).build());
    let other = other.expect("random key");
    assert_eq!(warnings(&events).len(), 1, "{events:?}");
    // Two random keys: neither opens the other's cookies.
    let r = session_testkit::store::record_with(&[("a", "1")]);
    let token = store.seal(&r).expect("fits");
    assert!(store.open(&token, r.created_at).is_some());
    assert!(other.open(&token, r.created_at).is_none());
}

#[test]
fn a_configured_secret_does_not_warn() {
    let _serial = serial();
    let config = SessionConfig::default();
    let (store, events) = captured(|| CookieStore::new([1u8; 32], &config));
    assert!(store.is_ok());
    assert!(warnings(&events).is_empty(), "{events:?}");
}

#[test]
fn refused_cookies_are_logged_at_debug_without_the_value() {
    let _serial = serial();
    let config = SessionConfig::default();
    let store = CookieStore::new([1u8; 32], &config).expect("store");
    let mut raw = vec![session_store_cookie::SEAL_VERSION];
    raw.extend_from_slice(b"twelve bytes, then not a sealed session");
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &raw);
    let (opened, events) = captured(|| store.open(&token, Timestamp::EPOCH));
    assert!(opened.is_none());
    let debug: Vec<_> = events.iter().filter(|(l, _)| *l == Level::DEBUG).collect();
    assert_eq!(debug.len(), 1, "{events:?}");
    assert!(debug[0].1.contains("no key opens it"), "{}", debug[0].1);
    assert!(!debug[0].1.contains(&token));
    assert!(warnings(&events).is_empty());
}
