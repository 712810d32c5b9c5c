//! Behaviour of the cookie store: format, keys, rotation, expiry, size.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use session_core::{
    CookieLifetime, Data, Delta, Loaded, Record, SessionConfig, SessionError, SessionId,
    SessionManager, SessionStore, StoreErrorKind, Timestamp, Value,
};
use session_store_cookie::{
    CookieStore, CookieStoreError, MAX_COOKIE_BYTES, SEAL_VERSION, SEAL_VERSION_JSON,
};
use session_testkit::ManualClock;

const SECRET: &[u8] = b"the current secret: 32 bytes or more";
const OLD: &[u8] = b"the previous secret, 32 bytes or more";
const T0: i64 = 1_750_000_000_000;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms)
}

fn record(data: &[(&str, &str)]) -> Record {
    let mut d = Data::new();
    for (k, v) in data {
        d.insert((*k).to_owned(), Value::from(*v));
    }
    let mut flash = Data::new();
    flash.insert("notice".into(), Value::from("\"hi\""));
    Record {
        id: SessionId::from_bytes([9; 24]),
        data: d,
        flash,
        created_at: at(T0),
        idle_deadline: at(T0 + 1_800_000),
        absolute_deadline: Some(at(T0 + 3_600_000)),
        keep_until: at(T0 + 3_600_000),
    }
}

fn store(secret: &[u8]) -> CookieStore {
    CookieStore::new(secret, &SessionConfig::default()).expect("valid secret")
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    session_testkit::block_on(f)
}

/// `name=value` of a `Set-Cookie` header value.
fn pair(header: &str) -> String {
    header.split(';').next().unwrap_or_default().to_owned()
}

fn value_of(header: &str) -> String {
    pair(header)
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

#[test]
fn secrets_shorter_than_32_bytes_are_refused() {
    let config = SessionConfig::default();
    let err = CookieStore::new([7u8; 31], &config).expect_err("31 bytes");
    assert_eq!(err, CookieStoreError::SecretTooShort { index: 0, len: 31 });
    assert!(err.to_string().contains("at least 32"), "{err}");
    assert!(CookieStore::new([7u8; 32], &config).is_ok());
    assert!(CookieStore::new("", &config).is_err());

    let err = CookieStore::builder(&config)
        .secret(SECRET)
        .secret(b"too short")
        .build()
        .expect_err("second secret is short");
    assert_eq!(err, CookieStoreError::SecretTooShort { index: 1, len: 9 });
}

#[test]
fn sealed_value_has_the_documented_format() {
    let store = store(SECRET);
    let r = record(&[("user", "\"alice\"")]);
    let token = store.seal(&r).expect("fits");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let raw = URL_SAFE_NO_PAD
        .decode(&token)
        .expect("base64url without padding");
    assert_eq!(raw[0], SEAL_VERSION);
    // The binary plaintext: flags, id, four timestamps (the absolute
    // deadline is set), then the maps: a count, then length-prefixed keys
    // and values.
    let data = 1 + (1 + "user".len() + 1 + "\"alice\"".len());
    let flash = 1 + (1 + "notice".len() + 1 + "\"hi\"".len());
    let plain = 1 + 24 + 4 * 8 + data + flash;
    // version ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag
    assert_eq!(raw.len(), 1 + 12 + plain + 16);
    // Encrypted, not only signed.
    assert!(!raw.windows(5).any(|w| w == b"alice"));
    assert!(!token.contains("alice"));
    assert_eq!(store.open(&token, at(T0)), Some(r));
}

#[test]
fn every_seal_takes_a_fresh_nonce() {
    let store = store(SECRET);
    let r = record(&[("user", "\"alice\"")]);
    let mut nonces = std::collections::HashSet::new();
    let mut tokens = std::collections::HashSet::new();
    for _ in 0..200 {
        let token = store.seal(&r).expect("fits");
        let raw = URL_SAFE_NO_PAD.decode(&token).expect("base64url");
        nonces.insert(raw[1..13].to_vec());
        tokens.insert(token);
    }
    assert_eq!(nonces.len(), 200);
    assert_eq!(tokens.len(), 200);
}

#[test]
fn the_same_secret_opens_after_a_restart_and_another_does_not() {
    let r = record(&[("n", "1")]);
    let token = store(SECRET).seal(&r).expect("fits");
    assert_eq!(store(SECRET).open(&token, at(T0)), Some(r));
    assert_eq!(store(OLD).open(&token, at(T0)), None);
}

/// A value sealed by the first version of the format
/// ([`SEAL_VERSION_JSON`]): the record's JSON.
const GOLDEN_V1: &str =
    "AW66ZM6YZp7d9CfOOJFn8lX8WjfMKFm_662cf5yL3WPzhEjly5motiqmb9rmNaq_otepae_JR9hFl\
        DEtOfM96qeQ54vW3SuBjkbnrk57K-0AhTFsDhppx0ssDgeJgdF1LccKfIMhWZfmMRCjz6EJm12B4HBRuUXHLC5EaDDl\
        51RTtwm9fdBbWKW0CkrxNNF6p74udjsg_mg-2x7x4DdcV8-DHgeM1jCdiweZdjcIPUReBRKhoeaLMCymikIq3pBPKZ\
        V9uTsk82dpBM923OyszrpC8AK_39vU";

/// The same session sealed by the current version ([`SEAL_VERSION`]): the
/// binary plaintext.
const GOLDEN_V2: &str =
    "AiJA8zcAXgSTE3FMjkbzaXSOshYZsc90UaD5oXPofJ0EkY2OMm7T8C6nnhldJ_gevFujLmqtVwzwbqIQAr7-Y_0vUf\
        Vu4ECE1qkAUi7PpQ_ugpYPPDNgYBnSoxvyeppWAQYbgHaW6IVRJX2PaDutvz5RyZPaR2k7AkSI7s4x3I7RDFqpMEsNs\
        zRCOPKBFL2M";

/// Values sealed by each version of the crate. If this fails, the format
/// or the key derivation changed: bump `SEAL_VERSION` (and keep opening
/// the old one) instead of breaking every session in the wild.
#[test]
fn golden_values_of_every_version_still_open() {
    let config = SessionConfig::builder()
        .cookie_name("golden")
        .build()
        .expect("config");
    let store = CookieStore::new(b"golden secret: thirty-two bytes at least", &config)
        .expect("valid secret");
    for (version, golden) in [(SEAL_VERSION_JSON, GOLDEN_V1), (SEAL_VERSION, GOLDEN_V2)] {
        assert_eq!(URL_SAFE_NO_PAD.decode(golden).unwrap()[0], version);
        let r = store
            .open(golden, at(1_700_000_000_000))
            .unwrap_or_else(|| panic!("golden value of version {version} opens"));
        assert_eq!(r.id, SessionId::from_bytes(*b"golden-session-id-24byte"));
        assert_eq!(r.data["user"].as_ref(), "\"alice\"");
        assert_eq!(r.data["n"].as_ref(), "[1,2,{\"x\":null}]");
        assert_eq!(r.flash["notice"].as_ref(), "\"Welcome, alice\"");
        assert_eq!(r.created_at, at(1_700_000_000_000));
        assert_eq!(r.idle_deadline, at(1_700_000_600_000));
        assert_eq!(r.absolute_deadline, Some(at(1_700_003_600_000)));
        assert_eq!(r.keep_until, at(1_700_001_200_000));
        // The next write seals the current version, whatever it opened.
        let resealed = store.seal(&r).expect("fits");
        assert_eq!(URL_SAFE_NO_PAD.decode(&resealed).unwrap()[0], SEAL_VERSION);
    }
    // The binary form is the shorter cookie.
    assert!(GOLDEN_V2.len() * 10 < GOLDEN_V1.len() * 8);
}

#[test]
fn the_cookie_name_is_bound() {
    let a = SessionConfig::builder()
        .cookie_name("a")
        .build()
        .expect("a");
    let b = SessionConfig::builder()
        .cookie_name("b")
        .build()
        .expect("b");
    let store_a = CookieStore::new(SECRET, &a).expect("store");
    let store_b = CookieStore::new(SECRET, &b).expect("store");
    let r = record(&[]);
    let token = store_a.seal(&r).expect("fits");
    assert_eq!(store_b.open(&token, at(T0)), None);
    assert_eq!(store_a.open(&token, at(T0)), Some(r));
}

#[test]
fn tampered_truncated_and_extended_values_do_not_open() {
    let store = store(SECRET);
    let token = store.seal(&record(&[("user", "\"alice\"")])).expect("fits");
    let raw = URL_SAFE_NO_PAD.decode(&token).expect("base64url");
    for i in 0..raw.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = raw.clone();
            bad[i] ^= bit;
            let bad = URL_SAFE_NO_PAD.encode(&bad);
            assert_eq!(store.open(&bad, at(T0)), None, "byte {i} bit {bit:#x}");
        }
    }
    for len in 0..raw.len() {
        let cut = URL_SAFE_NO_PAD.encode(&raw[..len]);
        assert_eq!(store.open(&cut, at(T0)), None, "cut to {len}");
        assert_eq!(store.open(&token[..len.min(token.len())], at(T0)), None);
    }
    let mut longer = raw.clone();
    longer.push(0);
    assert_eq!(store.open(&URL_SAFE_NO_PAD.encode(&longer), at(T0)), None);
    // Another version byte, the older one included: refused (it is also
    // bound as associated data).
    for version in [SEAL_VERSION + 1, SEAL_VERSION_JSON] {
        let mut other = raw.clone();
        other[0] = version;
        assert_eq!(store.open(&URL_SAFE_NO_PAD.encode(&other), at(T0)), None);
    }
}

#[test]
fn garbage_and_empty_values_do_not_open() {
    let store = store(SECRET);
    let long = "A".repeat(MAX_COOKIE_BYTES + 1);
    let padded = format!("{}==", URL_SAFE_NO_PAD.encode([1u8; 40]));
    for token in [
        "",
        "=",
        "A",
        "AAAA",
        "a b",
        "é",
        "AQ",
        &padded,
        &long,
        &"_".repeat(4096),
        "not+base64/",
    ] {
        assert_eq!(store.open(token, at(T0)), None, "{token:?}");
        let loaded = block_on(store.load(token, at(T0)));
        assert!(matches!(loaded, Ok(None)), "{token:?}: {loaded:?}");
    }
}

#[test]
fn key_rotation_opens_old_cookies_and_seals_with_the_new_key() {
    let config = SessionConfig::default();
    let old_only = store(OLD);
    let new_only = store(SECRET);
    let rotated = CookieStore::builder(&config)
        .secret(SECRET)
        .secret(OLD)
        .build()
        .expect("store");

    let r = record(&[("user", "\"alice\"")]);
    let old_token = old_only.seal(&r).expect("fits");
    let opened = rotated
        .open(&old_token, at(T0))
        .expect("old key still opens");
    assert_eq!(opened, r);
    assert_eq!(new_only.open(&old_token, at(T0)), None);

    // Every write (create, update, touch) seals with the first key.
    let tokens = block_on(async {
        [
            rotated.create(&opened).await,
            rotated.update(&opened, &Delta::default()).await,
            rotated.touch(&opened).await,
        ]
    });
    for token in tokens {
        let token = token.expect("seals").expect("a token");
        assert_eq!(new_only.open(&token, at(T0)), Some(r.clone()));
        assert_eq!(old_only.open(&token, at(T0)), None);
    }
}

#[test]
fn a_session_under_an_old_key_is_resealed_on_its_next_write() {
    let config = SessionConfig::builder()
        .cookie_name("app")
        .build()
        .expect("config");
    let clock = ManualClock::at(at(T0));
    let before = SessionManager::new(
        CookieStore::new(OLD, &config).expect("store"),
        config.clone(),
    )
    .with_clock(Arc::new(clock.clone()));
    let rotated = CookieStore::builder(&config)
        .secret(SECRET)
        .secret(OLD)
        .build()
        .expect("store");
    let after = SessionManager::new(rotated, config.clone()).with_clock(Arc::new(clock.clone()));
    let old_only = CookieStore::new(OLD, &config).expect("store");
    let new_only = CookieStore::new(SECRET, &config).expect("store");

    block_on(async {
        // Sealed before the rotation.
        let Loaded::Active(s) = before.load([]).await? else {
            panic!("no redirect expected")
        };
        s.insert("user", "alice")?;
        let old_cookie = pair(&before.commit(&s, 200).await?.set_cookies[0]);
        let now = clock_now(&clock);
        assert!(old_only.open(&value_of(&old_cookie), now).is_some());

        // After the rotation the old cookie still works…
        let Loaded::Active(s) = after.load([old_cookie.as_bytes()]).await? else {
            panic!("no redirect expected")
        };
        assert_eq!(s.get::<String>("user")?.as_deref(), Some("alice"));
        // …and a read-only request before the touch is due writes nothing.
        let done = after.commit(&s, 200).await?;
        assert!(done.set_cookies.is_empty());

        // The next write re-seals it with the current key.
        let Loaded::Active(s) = after.load([old_cookie.as_bytes()]).await? else {
            panic!("no redirect expected")
        };
        s.insert("n", &1)?;
        let done = after.commit(&s, 200).await?;
        let new_value = value_of(&done.set_cookies[0]);
        let now = clock_now(&clock);
        assert!(new_only.open(&new_value, now).is_some());
        assert!(old_only.open(&new_value, now).is_none());

        // A touch is a write too: a read-only request once it is due.
        clock.advance(Duration::from_secs(10 * 60));
        let Loaded::Active(s) = after.load([old_cookie.as_bytes()]).await? else {
            panic!("no redirect expected")
        };
        assert_eq!(s.get::<String>("user")?.as_deref(), Some("alice"));
        let done = after.commit(&s, 200).await?;
        let touched = value_of(&done.set_cookies[0]);
        let now = clock_now(&clock);
        let r = new_only
            .open(&touched, now)
            .expect("touched under the new key");
        assert!(r.idle_deadline > at(T0 + 1_800_000));
        assert!(old_only.open(&touched, now).is_none());
        Ok::<(), SessionError>(())
    })
    .expect("requests");
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    session_core::Clock::now(clock)
}

#[test]
fn a_replayed_cookie_past_its_sealed_deadline_is_refused() {
    let store = store(SECRET);
    let r = record(&[("user", "\"alice\"")]);
    let token = store.seal(&r).expect("fits");
    let keep = r.keep_until.unix_millis();
    assert!(store.open(&token, at(keep - 1)).is_some());
    assert_eq!(store.open(&token, at(keep)), None);
    assert_eq!(store.open(&token, at(keep + 86_400_000)), None);
    let loaded = block_on(store.load(&token, at(keep)));
    assert!(matches!(loaded, Ok(None)));
}

#[test]
fn the_deadlines_inside_the_cookie_are_enforced_end_to_end() {
    let config = SessionConfig::builder()
        .idle_timeout(Duration::from_secs(600))
        .absolute_timeout(Some(Duration::from_secs(3600)))
        .build()
        .expect("config");
    let store = CookieStore::new(SECRET, &config).expect("store");
    let clock = ManualClock::at(at(T0));
    let manager =
        SessionManager::new(store.clone(), config.clone()).with_clock(Arc::new(clock.clone()));
    block_on(async {
        let Loaded::Active(s) = manager.load([]).await? else {
            panic!("no redirect expected")
        };
        s.insert("user", "alice")?;
        let cookie = pair(&manager.commit(&s, 200).await?.set_cookies[0]);
        let sealed = store
            .open(&value_of(&cookie), at(T0))
            .expect("fresh cookie opens");
        assert_eq!(sealed.idle_deadline, at(T0 + 600_000));
        assert_eq!(sealed.absolute_deadline, Some(at(T0 + 3_600_000)));

        // Idle for 11 minutes: the core sees the sealed deadline passed,
        // gives a fresh session and expires the cookie.
        clock.advance(Duration::from_secs(11 * 60));
        let Loaded::Active(s) = manager.load([cookie.as_bytes()]).await? else {
            panic!("no redirect expected")
        };
        assert_eq!(s.get::<String>("user")?, None);
        let done = manager.commit(&s, 200).await?;
        assert!(done.set_cookies[0].contains("Max-Age=0"));

        // Replayed after keep_until: the store itself refuses it.
        clock.set(sealed.keep_until);
        assert!(store
            .load(&value_of(&cookie), sealed.keep_until)
            .await?
            .is_none());
        Ok::<(), SessionError>(())
    })
    .expect("requests");
}

/// The documented limit of a client-side store: after a logout the browser
/// drops the cookie, but a copy of it opens until its sealed deadline.
#[test]
fn a_copied_cookie_outlives_a_logout_until_its_deadline() {
    let config = SessionConfig::builder()
        .idle_timeout(Duration::from_secs(600))
        .build()
        .expect("config");
    let store = CookieStore::new(SECRET, &config).expect("store");
    let clock = ManualClock::at(at(T0));
    let manager = SessionManager::new(store, config).with_clock(Arc::new(clock.clone()));
    block_on(async {
        let Loaded::Active(s) = manager.load([]).await? else {
            panic!("no redirect expected")
        };
        s.insert("user", "alice")?;
        let cookie = pair(&manager.commit(&s, 200).await?.set_cookies[0]);
        let Loaded::Active(s) = manager.load([cookie.as_bytes()]).await? else {
            panic!("no redirect expected")
        };
        s.destroy();
        let done = manager.commit(&s, 200).await?;
        assert!(done.set_cookies[0].contains("Max-Age=0"));
        // The stolen copy still works before the deadline…
        clock.advance(Duration::from_secs(5 * 60));
        let Loaded::Active(s) = manager.load([cookie.as_bytes()]).await? else {
            panic!("no redirect expected")
        };
        assert_eq!(s.get::<String>("user")?.as_deref(), Some("alice"));
        let _ = manager.commit(&s, 200).await?;
        // …and not after it.
        clock.advance(Duration::from_secs(6 * 60));
        let Loaded::Active(s) = manager.load([cookie.as_bytes()]).await? else {
            panic!("no redirect expected")
        };
        assert_eq!(s.get::<String>("user")?, None);
        let _ = manager.commit(&s, 200).await?;
        Ok::<(), SessionError>(())
    })
    .expect("requests");
}

/// The largest string value (in characters) `store` seals into a record
/// like `record(&[])`.
fn largest_fitting(store: &CookieStore) -> usize {
    let fits = |n: usize| store.seal(&record(&[("big", &format!("\"{}\"", "x".repeat(n)))]));
    let (mut lo, mut hi) = (0, MAX_COOKIE_BYTES);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if fits(mid).is_ok() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    assert!(fits(lo).is_ok());
    match fits(lo + 1) {
        Err(CookieStoreError::TooLarge { header_len, limit }) => {
            assert_eq!(limit, MAX_COOKIE_BYTES);
            assert!(header_len > MAX_COOKIE_BYTES);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    lo
}

#[test]
fn a_cookie_over_4096_bytes_is_a_too_large_error() {
    let config = SessionConfig::default();
    let store = store(SECRET);
    let n = largest_fitting(&store);
    let token = store
        .seal(&record(&[("big", &format!("\"{}\"", "x".repeat(n)))]))
        .expect("fits");
    assert!(token.len() + config.cookie_overhead() <= MAX_COOKIE_BYTES);
    assert!(token.len() + config.cookie_overhead() > MAX_COOKIE_BYTES - 4);
    assert_eq!(
        store.max_token_len(),
        MAX_COOKIE_BYTES - config.cookie_overhead()
    );

    // Through the store trait: kind TooLarge, with this crate's error inside.
    let big = record(&[("big", &format!("\"{}\"", "x".repeat(n + 1)))]);
    let err = block_on(store.create(&big)).expect_err("too large");
    assert_eq!(err.kind(), StoreErrorKind::TooLarge);
    let source = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<CookieStoreError>())
        .expect("source");
    assert!(matches!(source, CookieStoreError::TooLarge { .. }));
    assert!(source.to_string().contains("4096"), "{source}");
    for res in block_on(async {
        [
            store.update(&big, &Delta::default()).await,
            store.touch(&big).await,
        ]
    }) {
        assert_eq!(res.expect_err("too large").kind(), StoreErrorKind::TooLarge);
    }
}

#[test]
fn longer_attributes_leave_less_room() {
    let plain = store(SECRET);
    let config = SessionConfig::builder()
        .cookie_name("__Secure-a-much-longer-session-cookie-name")
        .domain("accounts.example.com")
        .path("/some/deeper/path")
        .build()
        .expect("config");
    let long = CookieStore::new(SECRET, &config).expect("store");
    let diff = config.cookie_overhead() - SessionConfig::default().cookie_overhead();
    assert_eq!(plain.max_token_len() - long.max_token_len(), diff);
    assert!(largest_fitting(&long) < largest_fitting(&plain));

    let huge = SessionConfig::builder()
        .path(format!("/{}", "p".repeat(3900)))
        .build()
        .expect("config");
    let err = CookieStore::new(SECRET, &huge).expect_err("no room");
    assert!(matches!(err, CookieStoreError::NoRoom { .. }), "{err}");
}

#[test]
fn the_whole_set_cookie_header_stays_within_4096_bytes() {
    let config = SessionConfig::builder()
        .lifetime(CookieLifetime::Persistent)
        .domain("example.com")
        .build()
        .expect("config");
    let store = CookieStore::new(SECRET, &config).expect("store");
    let clock = ManualClock::at(at(T0));
    let manager = SessionManager::new(store.clone(), config).with_clock(Arc::new(clock));
    block_on(async {
        // Grow one value until the store refuses: every header on the way
        // fits, and the refusal is an error, not a dropped cookie.
        let mut len = 2_000;
        loop {
            let Loaded::Active(s) = manager.load([]).await? else {
                panic!("no redirect expected")
            };
            s.insert("big", &"x".repeat(len))?;
            match manager.commit(&s, 200).await {
                Ok(done) => {
                    let header = &done.set_cookies[0];
                    assert!(header.contains("Max-Age="));
                    assert!(header.len() <= MAX_COOKIE_BYTES, "{} bytes", header.len());
                }
                Err(SessionError::Store(e)) => {
                    assert_eq!(e.kind(), StoreErrorKind::TooLarge);
                    assert!(len > 2_500, "refused at {len}");
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
            len += 16;
        }
    })
    .expect("requests");
}

#[test]
fn delete_is_a_no_op_and_the_store_is_client_side() {
    let store = store(SECRET);
    assert!(store.client_side());
    let r = record(&[]);
    let token = store.seal(&r).expect("fits");
    block_on(store.delete(&r.id)).expect("no-op");
    assert!(store.open(&token, at(T0)).is_some());
}

#[test]
fn debug_shows_no_key_material() {
    let store = store(SECRET);
    let shown = format!("{store:?}");
    assert!(shown.contains("session"), "{shown}");
    assert!(!shown.contains("current secret"), "{shown}");
    let builder = format!(
        "{:?}",
        CookieStore::builder(&SessionConfig::default()).secret(SECRET)
    );
    assert!(!builder.contains("current secret"), "{builder}");
}

#[test]
fn values_around_the_small_buffer_size_open() {
    // Values up to 1024 characters open in a smaller buffer than longer
    // ones: both sides of the boundary, with a rotated key (so the retry
    // after a failed first key runs in each buffer too).
    let current = store(SECRET);
    let rotated = CookieStore::builder(&SessionConfig::default())
        .secret(OLD)
        .secret(SECRET)
        .build()
        .expect("valid secrets");
    let mut seen = (false, false);
    for len in 500..900 {
        let value = format!("\"{}\"", "x".repeat(len));
        let r = record(&[("pad", &value)]);
        let token = current.seal(&r).expect("fits");
        if token.len() < 1000 || token.len() > 1050 {
            continue;
        }
        let small = token.len() <= 1024;
        seen = (seen.0 || small, seen.1 || !small);
        let now = at(T0);
        assert_eq!(
            current.open(&token, now).as_ref(),
            Some(&r),
            "{}",
            token.len()
        );
        assert_eq!(
            rotated.open(&token, now).as_ref(),
            Some(&r),
            "{}",
            token.len()
        );
        let mut tampered = token.clone().into_bytes();
        tampered[token.len() / 2] ^= 1;
        let tampered = String::from_utf8(tampered).expect("ASCII");
        assert_eq!(current.open(&tampered, now), None);
    }
    assert_eq!(seen, (true, true), "both buffer sizes were exercised");
}
