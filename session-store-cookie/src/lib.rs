//! # session-store-cookie
//!
//! A client-side [`SessionStore`](session_core::SessionStore): the whole
//! session record is sealed with AES-256-GCM (from `ring`) into the cookie
//! value, so the server keeps nothing.
//!
//! ```
//! use std::time::Duration;
//! use session_core::{Loaded, SessionConfig, SessionManager};
//! use session_store_cookie::CookieStore;
//!
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #   tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) }
//! let config = SessionConfig::builder()
//!     .cookie_name("app-session")
//!     // A client-side session cannot be revoked: keep its life short.
//!     .absolute_timeout(Some(Duration::from_secs(8 * 3600)))
//!     .build()?;
//! // In production the secret comes from the environment or a secret store.
//! let store = CookieStore::new(b"an example secret, at least 32 bytes long", &config)?;
//! let manager = SessionManager::new(store, config);
//!
//! block_on(async {
//!     // Request 1: no cookie; the handler logs in.
//!     let Loaded::Active(session) = manager.load([]).await? else { unreachable!() };
//!     session.insert("user", "alice")?;
//!     let done = manager.commit(&session, 200).await?;
//!     let header = &done.set_cookies[0]; // app-session=<sealed>; Path=/; HttpOnly; …
//!     assert!(header.len() <= session_store_cookie::MAX_COOKIE_BYTES);
//!     assert!(!header.contains("alice")); // encrypted, not only signed
//!     let cookie = header.split(';').next().unwrap_or_default();
//!
//!     // Request 2: the browser sends the cookie back.
//!     let Loaded::Active(session) = manager.load([cookie.as_bytes()]).await? else {
//!         unreachable!()
//!     };
//!     assert_eq!(session.get::<String>("user")?.as_deref(), Some("alice"));
//!     # let _ = manager.commit(&session, 200).await?;
//!     Ok::<(), session_core::SessionError>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Wire format
//!
//! The cookie value is `base64url(version ‖ nonce ‖ ciphertext ‖ tag)`
//! without padding, where
//!
//! - `version` is one byte, [`SEAL_VERSION`] (2);
//! - `nonce` is 12 random bytes, fresh for every seal (drawn from
//!   `ring::rand::SystemRandom`, a batch of 16 nonces per system call, each
//!   used once; see the note on forking below);
//! - `ciphertext ‖ tag` is AES-256-GCM over the record in a compact
//!   binary form, with a 16-byte tag. The plaintext is: a flags byte (bit 0:
//!   an absolute deadline is present, the other bits 0); the 24-byte id;
//!   `created_at`, `idle_deadline` and `keep_until` as little-endian `i64`
//!   milliseconds since the Unix epoch, then `absolute_deadline` likewise
//!   if present; then the data and the flash maps, each a count followed,
//!   per entry in increasing key order, by the key's length, the key
//!   (UTF-8), the value's length and the value (JSON text), counts and
//!   lengths as LEB128 varints. Encrypted, the record is read by nobody
//!   but the store, so it need not be text: this form is about half the
//!   size of the record's JSON, which shortens every cookie, every base64
//!   and every AES-GCM pass;
//! - the associated data is `version ‖ cookie name`, so a value cannot be
//!   moved to another cookie, nor read as another format version.
//!
//! Values of the first version, [`SEAL_VERSION_JSON`], sealed
//! [`Record::encode`](session_core::Record::encode) (JSON) the same way;
//! they still open, and the next write seals them in the current version.
//!
//! The AES key is derived from each master secret with HKDF-SHA256 (fixed
//! salt and info strings of this format version). A master secret must be
//! at least [`MIN_SECRET_LEN`] (32) bytes from a CSPRNG; a shorter one is a
//! [`CookieStoreError::SecretTooShort`] when the store is built.
//!
//! ## Expiry is sealed in
//!
//! The record carries its idle and absolute deadlines and its
//! `keep_until`. A cookie replayed at or after its `keep_until` does not
//! open, however long the browser (or an attacker) keeps it; between the
//! deadline and `keep_until` the core sees it as timed out.
//!
//! ## Key rotation
//!
//! Give several secrets, newest first
//! ([`CookieStoreBuilder::secret`]). Every write seals with the first;
//! every secret opens. A cookie opened with an older key is therefore
//! re-sealed with the current one on its next write (a change, or the
//! periodic touch). Drop an old secret once every cookie it sealed is past
//! its `keep_until`.
//!
//! ## What a client-side store cannot do
//!
//! It cannot revoke one session. `destroy`, `renew` and logout expire the
//! cookie in the browser, but a copy of the old cookie (stolen, or simply
//! replayed) still opens until its sealed deadline, because the server
//! keeps no record to delete. What to do about it:
//!
//! - set a short absolute timeout (and idle timeout), which bounds how long
//!   a stolen cookie works;
//! - rotate the key to revoke every session at once (drop the old secret
//!   entirely, not just put a new one first);
//! - use a server-side store (`session-store-memory`, `session-store-redis`)
//!   for anything that needs per-session revocation.
//!
//! Concurrent requests of one session each seal the whole record, so the
//! last response's cookie wins over the others' changes (no delta merge).
//!
//! ## Size
//!
//! A browser keeps at most [`MAX_COOKIE_BYTES`] (4096) bytes per cookie. If
//! the whole `Set-Cookie` header (name, sealed value and attributes, as
//! [`SessionConfig::cookie_overhead`](session_core::SessionConfig::cookie_overhead)
//! counts them) would be larger, the write fails with a `StoreError` of kind
//! [`TooLarge`](session_core::StoreErrorKind::TooLarge) (the adapter answers
//! 500 and logs it); the cookie is never truncated or silently dropped.
//! With the default attributes a session's keys and values may take about
//! 2.9 KB.
//!
//! ## No secret configured
//!
//! [`CookieStore::random_key`], or a builder given no secret, seals with a
//! random key and logs a `tracing` warning: such sessions do not survive a
//! restart and are not understood by other processes.
//!
//! ## Bad cookies
//!
//! An empty, garbage, truncated or tampered value, one sealed with an
//! unknown key or for another cookie name, loads as "no session"
//! (`Ok(None)`), logged at debug level; it never panics (property tests and
//! a `cargo fuzz` target cover this).
//!
//! ## Speed
//!
//! An open is base64url, AES-256-GCM and the record's binary form, read
//! in one pass without scanning; a seal is the same backwards. The store
//! encodes the value with the vector base64url codec of `base64-simd`
//! (the same text and the same strictness as the `base64` crate's
//! `URL_SAFE_NO_PAD`, which the tests check). A seal builds its plaintext in a reused per-thread
//! buffer and an open decrypts on the stack; both wipe the plaintext
//! afterwards. The `seal` benchmark compares the store with what
//! `actix-session` and Rocket do: the session as a JSON map, sealed by the
//! `cookie` crate's `PrivateJar`.
//!
//! ## Forking
//!
//! Nonces are drawn in per-thread batches. A process that seals and then
//! forks would copy the unused part of the batch; if parent and child both
//! went on sealing they could reuse a nonce. Do not seal in a parent process
//! that forks workers afterwards (build the store in it if you like: the
//! batch is filled on first use).

mod b64;
mod error;
mod nonce;
mod plain;
mod store;

pub use error::CookieStoreError;
pub use store::{CookieStore, CookieStoreBuilder};

/// The format version: the first byte of every sealed value, also bound as
/// associated data. Values are sealed in this version.
pub const SEAL_VERSION: u8 = 2;

/// The first format version, whose plaintext was
/// [`Record::encode`](session_core::Record::encode) (JSON). Such values
/// still open, and are sealed again as [`SEAL_VERSION`] on their next
/// write.
pub const SEAL_VERSION_JSON: u8 = 1;

/// The shortest master secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// The most bytes a browser keeps for one cookie: the whole `Set-Cookie`
/// header value (name, value and attributes) must fit.
pub const MAX_COOKIE_BYTES: usize = 4096;
