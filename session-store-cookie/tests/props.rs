//! Property tests: round trips, the size limit, and that nothing but an
//! untouched value sealed with our key and cookie name ever opens. (The
//! record codec itself is tested in `session-core`.)

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;
use session_core::{Data, Record, SessionConfig, SessionId, Timestamp, Value};
use session_store_cookie::{CookieStore, CookieStoreError, MAX_COOKIE_BYTES};

const SECRET: &[u8] = b"property test secret: 32 bytes or more";

fn store() -> CookieStore {
    CookieStore::new(SECRET, &SessionConfig::default()).expect("store")
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a str serializes")
}

/// JSON texts as the core stores them. The codec's own properties, over
/// nested and escaped JSON, are in `session-core/tests/codec.rs`; sealing
/// treats the encoded record as bytes, so plain values, short and long,
/// are enough here.
fn json_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<String>().prop_map(|s| json_string(&s)),
        "[a-z ]{0,300}".prop_map(|s| json_string(&s)),
    ]
}

fn data() -> impl Strategy<Value = Data> {
    prop::collection::btree_map(any::<String>(), json_value().prop_map(Value::from), 0..10)
        .prop_map(Data::from)
}

fn record() -> impl Strategy<Value = Record> {
    (
        any::<[u8; 24]>(),
        data(),
        data(),
        any::<i64>(),
        any::<i64>(),
        any::<Option<i64>>(),
        any::<i64>(),
    )
        .prop_map(|(id, data, flash, c, d, a, k)| Record {
            id: SessionId::from_bytes(id),
            data,
            flash,
            created_at: Timestamp::from_unix_millis(c),
            idle_deadline: Timestamp::from_unix_millis(d),
            absolute_deadline: a.map(Timestamp::from_unix_millis),
            keep_until: Timestamp::from_unix_millis(k),
        })
}

/// A record that is still kept at `now`, with small data.
fn small_record() -> impl Strategy<Value = (Record, Timestamp)> {
    (record(), 1..i64::MAX / 2).prop_map(|(mut r, ahead)| {
        r.data.retain(|k, v| k.len() + v.len() < 100);
        r.flash.clear();
        let now = Timestamp::from_unix_millis(0);
        r.keep_until = Timestamp::from_unix_millis(ahead);
        (r, now)
    })
}

/// Bytes of a varint holding `n`.
fn varint_len(n: usize) -> usize {
    (usize::BITS - n.leading_zeros()).max(1).div_ceil(7) as usize
}

/// The plaintext's length by the documented format: flags, the 24-byte id,
/// three or four 8-byte timestamps, then each map as a count and
/// length-prefixed keys and values.
fn plain_len(r: &Record) -> usize {
    let map = |m: &Data| {
        varint_len(m.len())
            + m.iter()
                .map(|(k, v)| varint_len(k.len()) + k.len() + varint_len(v.len()) + v.len())
                .sum::<usize>()
    };
    let times = if r.absolute_deadline.is_some() { 4 } else { 3 };
    1 + 24 + times * 8 + map(&r.data) + map(&r.flash)
}

fn before(t: Timestamp) -> Option<Timestamp> {
    t.unix_millis()
        .checked_sub(1)
        .map(Timestamp::from_unix_millis)
}

proptest! {
    #[test]
    fn seal_then_open_round_trips_or_is_too_large(r in record()) {
        let store = store();
        let overhead = SessionConfig::default().cookie_overhead();
        let sealed_len = 1 + 12 + plain_len(&r) + 16;
        let header_len = base64::encoded_len(sealed_len, false).expect("small") + overhead;
        match store.seal(&r) {
            Ok(token) => {
                prop_assert!(header_len <= MAX_COOKIE_BYTES);
                prop_assert_eq!(token.len() + overhead, header_len);
                if let Some(now) = before(r.keep_until) {
                    prop_assert_eq!(store.open(&token, now), Some(r.clone()));
                }
                prop_assert_eq!(store.open(&token, r.keep_until), None);
            }
            Err(CookieStoreError::TooLarge { header_len: got, limit }) => {
                prop_assert_eq!(limit, MAX_COOKIE_BYTES);
                prop_assert!(got > MAX_COOKIE_BYTES);
                prop_assert_eq!(got, header_len);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    #[test]
    fn any_bit_flip_truncation_or_splice_is_refused(
        (r, now) in small_record(),
        at in any::<prop::sample::Index>(),
        mask in 1..=255u8,
        splice in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        let store = store();
        let token = store.seal(&r).expect("small records fit");
        let raw = URL_SAFE_NO_PAD.decode(&token).expect("base64url");
        prop_assert!(store.open(&token, now).is_some());

        let i = at.index(raw.len());
        let mut flipped = raw.clone();
        flipped[i] ^= mask;
        prop_assert_eq!(store.open(&URL_SAFE_NO_PAD.encode(&flipped), now), None);

        prop_assert_eq!(store.open(&URL_SAFE_NO_PAD.encode(&raw[..i]), now), None);
        prop_assert_eq!(store.open(&token[..at.index(token.len())], now), None);

        let mut spliced = raw.clone();
        spliced.splice(i..i, splice.iter().copied());
        prop_assert_eq!(store.open(&URL_SAFE_NO_PAD.encode(&spliced), now), None);

        // One character of the value replaced by another base64url one.
        let j = at.index(token.len());
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let old = token.as_bytes()[j];
        let new = alphabet[(alphabet.iter().position(|&c| c == old).unwrap_or(0)
            + usize::from(mask)) % 64];
        if new != old {
            let mut chars = token.clone().into_bytes();
            chars[j] = new;
            let changed = String::from_utf8(chars).expect("ASCII");
            prop_assert_eq!(store.open(&changed, now), None);
        }
    }

    #[test]
    fn another_key_or_cookie_name_never_opens(
        (r, now) in small_record(),
        secret in prop::collection::vec(any::<u8>(), 32..64),
        name in "[A-Za-z0-9_-]{1,24}",
    ) {
        let token = store().seal(&r).expect("small records fit");
        if secret != SECRET {
            let other = CookieStore::new(&secret, &SessionConfig::default()).expect("store");
            prop_assert_eq!(other.open(&token, now), None);
        }
        if name != "session" {
            let config = SessionConfig::builder().cookie_name(name).build().expect("config");
            let renamed = CookieStore::new(SECRET, &config).expect("store");
            prop_assert_eq!(renamed.open(&token, now), None);
        }
    }

    #[test]
    fn arbitrary_text_never_opens(token in any::<String>(), now in any::<i64>()) {
        prop_assert_eq!(store().open(&token, Timestamp::from_unix_millis(now)), None);
    }

    #[test]
    fn arbitrary_base64url_never_opens(
        mut raw in prop::collection::vec(any::<u8>(), 0..600),
        versioned in any::<bool>(),
    ) {
        if versioned && !raw.is_empty() {
            raw[0] = session_store_cookie::SEAL_VERSION;
        }
        let token = URL_SAFE_NO_PAD.encode(&raw);
        prop_assert_eq!(store().open(&token, Timestamp::EPOCH), None);
    }
}
