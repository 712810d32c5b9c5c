//! The store conformance suite, run as a client-side store.

use session_core::SessionConfig;
use session_store_cookie::CookieStore;

const SECRET: &[u8] = b"store suite secret, at least 32 bytes long";

session_testkit::store_suite!(cookie, client_side, || async {
    CookieStore::new(SECRET, &SessionConfig::default()).expect("valid secret")
});

session_testkit::store_suite!(cookie_rotated, client_side, || async {
    CookieStore::builder(&SessionConfig::default())
        .secret(SECRET)
        .secret(b"an older secret, still accepted for a while")
        .build()
        .expect("valid secrets")
});
