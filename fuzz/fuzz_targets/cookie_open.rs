//! Fuzzes the cookie store's opening path.
//!
//! Each input is tried three ways:
//!
//! 1. as the cookie value a browser sends (when it is UTF-8);
//! 2. as the raw sealed bytes (version ‖ nonce ‖ ciphertext ‖ tag),
//!    base64url-encoded, so the fuzzer reaches the AEAD directly;
//! 3. as the plaintext inside a seal, which only a key holder can produce:
//!    whatever `Record::decode` (the codec version-1 cookies open with;
//!    the current binary form is checked by the store's property tests)
//!    accepts
//!    must round-trip through the core's codec (`Record::encode_into`, the
//!    store's writer, appends exactly `Record::encode`'s bytes, which decode
//!    to the same record and re-encode to the same bytes), and the record
//!    must survive seal → open unchanged.
//!
//! Nothing may panic; nothing that opens may be past its `keep_until`.

#![no_main]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use session_core::{Record, SessionConfig, Timestamp};
use session_store_cookie::{CookieStore, CookieStoreError, MAX_COOKIE_BYTES};

const NOW: Timestamp = Timestamp::from_unix_millis(1_750_000_000_000);

fn stores() -> &'static (CookieStore, CookieStore) {
    static STORES: OnceLock<(CookieStore, CookieStore)> = OnceLock::new();
    STORES.get_or_init(|| {
        let config = SessionConfig::default();
        let one = CookieStore::new(b"fuzzing secret: thirty-two bytes or more", &config)
            .expect("valid secret");
        // Two keys, so a failed first open and the retry run too.
        let rotated = CookieStore::builder(&config)
            .secret(b"another fuzzing secret, also 32+ bytes")
            .secret(b"fuzzing secret: thirty-two bytes or more")
            .build()
            .expect("valid secrets");
        (one, rotated)
    })
}

fn check_open(store: &CookieStore, token: &str) {
    if let Some(record) = store.open(token, NOW) {
        assert!(token.len() <= MAX_COOKIE_BYTES);
        assert!(
            record.is_kept_at(NOW),
            "opened a record past its keep_until"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let (one, rotated) = stores();

    // 1. The cookie value as sent.
    if let Ok(text) = std::str::from_utf8(data) {
        check_open(one, text);
        check_open(rotated, text);
    }

    // 2. Raw sealed bytes.
    let token = URL_SAFE_NO_PAD.encode(data);
    check_open(one, &token);
    check_open(rotated, &token);

    // 3. An authenticated plaintext.
    if let Ok(record) = Record::decode(data) {
        let encoded = record.encode();
        let mut appended = vec![0xA5];
        record.encode_into(&mut appended);
        assert_eq!(appended[0], 0xA5, "encode_into overwrote the buffer");
        assert_eq!(
            appended[1..],
            encoded[..],
            "encode_into and encode disagree"
        );
        let again = Record::decode(&encoded).expect("a re-encoded record decodes");
        assert_eq!(again, record, "the codec does not round-trip");
        assert_eq!(again.encode(), encoded, "re-encoding is not stable");
        match one.seal(&record) {
            Ok(token) => {
                let before = record.keep_until.unix_millis().checked_sub(1);
                if let Some(now) = before.map(Timestamp::from_unix_millis) {
                    assert_eq!(one.open(&token, now).as_ref(), Some(&record));
                    assert_eq!(rotated.open(&token, now).as_ref(), Some(&record));
                }
                assert!(one.open(&token, record.keep_until).is_none());
            }
            Err(CookieStoreError::TooLarge { .. }) => {}
            Err(e) => panic!("seal failed: {e}"),
        }
    }
});
