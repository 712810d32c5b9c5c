//! The cookie store: keys, sealing, opening, and the `SessionStore` impl.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use session_core::{
    Delta, Record, SessionConfig, SessionId, SessionStore, StoreError, Timestamp, Updated,
};

use crate::{
    b64, nonce, plain, CookieStoreError, MAX_COOKIE_BYTES, MIN_SECRET_LEN, SEAL_VERSION,
    SEAL_VERSION_JSON,
};

/// Bytes of the AES-GCM tag.
const TAG_LEN: usize = 16;
/// Bytes before the ciphertext: the version byte and the nonce.
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// The most bytes a cookie value of [`MAX_COOKIE_BYTES`] characters decodes to.
const MAX_SEALED_BYTES: usize = MAX_COOKIE_BYTES / 4 * 3;
/// Cookie values up to this length are opened in a smaller buffer.
const SMALL_COOKIE_CHARS: usize = 1024;
/// The HKDF-SHA256 salt (fixed: the master secret carries the entropy).
const HKDF_SALT: &[u8] = b"session-store-cookie/v1 salt";
/// The HKDF-SHA256 info for the AES-256-GCM key.
const HKDF_INFO: &[u8] = b"session-store-cookie/v1 AES-256-GCM cookie key";

/// The capacity of the per-thread seal buffer: a larger one (grown by a
/// record too large for a cookie) is not kept.
const SEAL_BUF_BYTES: usize = 2 * MAX_COOKIE_BYTES;

thread_local! {
    /// The buffer a seal builds its plaintext and ciphertext in.
    static SEAL_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A client-side session store: each session is sealed with AES-256-GCM
/// into the cookie value itself.
///
/// Build one from the same [`SessionConfig`] the session manager uses (the
/// cookie name is bound into every seal, and the cookie's attributes count
/// against the browser's 4096-byte limit). Cloning is cheap and clones share
/// the keys.
///
/// ```
/// use session_core::SessionConfig;
/// use session_store_cookie::CookieStore;
///
/// let config = SessionConfig::default();
/// let store = CookieStore::builder(&config)
///     .secret(b"the current secret: 32 bytes or more")
///     .secret(b"the previous secret, still accepted")
///     .build()?;
/// assert_eq!(store.cookie_name(), "session");
/// # Ok::<(), session_store_cookie::CookieStoreError>(())
/// ```
#[derive(Clone)]
pub struct CookieStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// The current key first, then older keys still accepted.
    keys: Vec<LessSafeKey>,
    /// The session cookie's name.
    cookie_name: Box<str>,
    /// The associated data: the seal version byte, then the cookie name.
    aad: Box<[u8]>,
    /// The same for version 1 values, which still open.
    aad_json: Box<[u8]>,
    /// Bytes the cookie name and attributes take in `Set-Cookie`.
    overhead: usize,
    rng: SystemRandom,
}

impl fmt::Debug for CookieStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieStore")
            .field("cookie_name", &self.cookie_name())
            .field("keys", &self.inner.keys.len())
            .field("overhead", &self.inner.overhead)
            .finish_non_exhaustive()
    }
}

/// Builds a [`CookieStore`]; see [`CookieStore::builder`].
///
/// Give the secrets newest first: the first seals, every one opens.
/// Without any secret, [`build`](Self::build) uses a random key and logs a
/// warning.
pub struct CookieStoreBuilder {
    cookie_name: String,
    overhead: usize,
    keys: Vec<LessSafeKey>,
    error: Option<CookieStoreError>,
}

impl fmt::Debug for CookieStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieStoreBuilder")
            .field("cookie_name", &self.cookie_name)
            .field("keys", &self.keys.len())
            .field("overhead", &self.overhead)
            .finish_non_exhaustive()
    }
}

impl CookieStoreBuilder {
    /// Adds a master secret of at least [`MIN_SECRET_LEN`] bytes.
    ///
    /// The first secret given is the current one: every write seals with
    /// it. Later ones are older secrets that still open cookies (rotation);
    /// a cookie opened with one is re-sealed with the current key on its
    /// next write. A short secret makes [`build`](Self::build) fail.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        let secret = secret.as_ref();
        if self.error.is_none() {
            let index = self.keys.len();
            if secret.len() < MIN_SECRET_LEN {
                self.error = Some(CookieStoreError::SecretTooShort {
                    index,
                    len: secret.len(),
                });
            } else {
                match derive_key(secret) {
                    Ok(key) => self.keys.push(key),
                    Err(e) => self.error = Some(e),
                }
            }
        }
        self
    }

    /// Adds several master secrets, newest first (see
    /// [`secret`](Self::secret)).
    pub fn secrets<I, S>(self, secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        secrets.into_iter().fold(self, Self::secret)
    }

    /// Checks the settings and builds the store.
    ///
    /// With no secret, the store seals with a random key and logs a
    /// `tracing` warning: its sessions do not survive a restart and are not
    /// understood by other processes.
    pub fn build(self) -> Result<CookieStore, CookieStoreError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let aad_for = |version: u8| {
            let mut aad = Vec::with_capacity(1 + self.cookie_name.len());
            aad.push(version);
            aad.extend_from_slice(self.cookie_name.as_bytes());
            aad.into_boxed_slice()
        };
        let (aad, aad_json) = (aad_for(SEAL_VERSION), aad_for(SEAL_VERSION_JSON));
        let rng = SystemRandom::new();
        let mut keys = self.keys;
        if keys.is_empty() {
            let mut secret = [0u8; MIN_SECRET_LEN];
            rng.fill(&mut secret)
                .map_err(|_| CookieStoreError::Random)?;
            keys.push(derive_key(&secret)?);
            secret.fill(0);
            tracing::warn!(
                cookie = %self.cookie_name,
                "no cookie store secret configured: sealing sessions with a random key. Sessions \
                 will not survive a restart and will not be understood by other processes; \
                 configure a secret of at least {MIN_SECRET_LEN} random bytes"
            );
        }
        let store = CookieStore {
            inner: Arc::new(Inner {
                keys,
                cookie_name: self.cookie_name.into_boxed_str(),
                aad,
                aad_json,
                overhead: self.overhead,
                rng,
            }),
        };
        // The smallest record must fit, or every write would fail.
        if store.max_token_len() < empty_record_token_len() {
            return Err(CookieStoreError::NoRoom {
                overhead: self.overhead,
            });
        }
        Ok(store)
    }
}

impl CookieStore {
    /// A store sealing with `secret` (at least [`MIN_SECRET_LEN`] bytes),
    /// for sessions configured by `config`.
    ///
    /// For key rotation use [`builder`](Self::builder).
    pub fn new(secret: impl AsRef<[u8]>, config: &SessionConfig) -> Result<Self, CookieStoreError> {
        Self::builder(config).secret(secret).build()
    }

    /// A builder for sessions configured by `config`: the cookie name is
    /// bound into each seal and the cookie's attributes count against the
    /// browser's limit.
    pub fn builder(config: &SessionConfig) -> CookieStoreBuilder {
        CookieStoreBuilder {
            cookie_name: config.cookie_name().to_owned(),
            overhead: config.cookie_overhead(),
            keys: Vec::new(),
            error: None,
        }
    }

    /// A store with a random key, for development and tests only. It logs
    /// a warning: sessions sealed with it do not survive a restart and are
    /// not understood by other processes.
    pub fn random_key(config: &SessionConfig) -> Result<Self, CookieStoreError> {
        Self::builder(config).build()
    }

    /// The session cookie's name (bound into every seal).
    pub fn cookie_name(&self) -> &str {
        &self.inner.cookie_name
    }

    /// The longest sealed value that fits a `Set-Cookie` header of at most
    /// [`MAX_COOKIE_BYTES`] with this cookie's name and attributes.
    pub fn max_token_len(&self) -> usize {
        MAX_COOKIE_BYTES.saturating_sub(self.inner.overhead)
    }

    /// Seals `record` with the current key into a cookie value.
    ///
    /// Fails with [`CookieStoreError::TooLarge`] when the `Set-Cookie`
    /// header would exceed [`MAX_COOKIE_BYTES`].
    pub fn seal(&self, record: &Record) -> Result<String, CookieStoreError> {
        // The plaintext is built in a per-thread buffer, reused (no large
        // allocation per seal) and wiped after each seal.
        SEAL_BUF.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => {
                // Room for any cookie and more to spare, once per thread:
                // the encoder then writes without growing the buffer.
                if buf.capacity() < SEAL_BUF_BYTES {
                    buf.reserve_exact(SEAL_BUF_BYTES);
                }
                let sealed = self.seal_in(record, &mut buf);
                buf.fill(0);
                buf.clear();
                if buf.capacity() > SEAL_BUF_BYTES {
                    *buf = Vec::new();
                }
                sealed
            }
            Err(_) => self.seal_in(record, &mut Vec::new()),
        })
    }

    fn seal_in(&self, record: &Record, buf: &mut Vec<u8>) -> Result<String, CookieStoreError> {
        let inner = &*self.inner;
        buf.push(SEAL_VERSION);
        buf.extend_from_slice(&[0; NONCE_LEN]);
        plain::encode_into(record, buf);
        let token_len = b64::encoded_len(buf.len() + TAG_LEN);
        let header_len = token_len.saturating_add(inner.overhead);
        if header_len > MAX_COOKIE_BYTES {
            tracing::debug!(header_len, "sealed session too large for a cookie");
            return Err(CookieStoreError::TooLarge {
                header_len,
                limit: MAX_COOKIE_BYTES,
            });
        }
        let nonce = nonce::next(&inner.rng).ok_or(CookieStoreError::Random)?;
        buf[1..HEADER_LEN].copy_from_slice(&nonce);
        // `build` never makes a store without a key.
        let current = inner.keys.first().ok_or(CookieStoreError::Crypto)?;
        let tag = current
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&inner.aad[..]),
                &mut buf[HEADER_LEN..],
            )
            .map_err(|_| CookieStoreError::Crypto)?;
        buf.extend_from_slice(tag.as_ref());
        Ok(b64::encode(buf))
    }

    /// Opens a cookie value sealed by a store with one of these keys and
    /// this cookie name.
    ///
    /// Returns `None`, logged at debug level, for anything that is not
    /// such a value (empty, garbage, truncated, tampered with, sealed with
    /// another key or for another cookie name) and for a session kept past
    /// its [`keep_until`](Record::keep_until) at `now`.
    pub fn open(&self, token: &str, now: Timestamp) -> Option<Record> {
        match self.try_open(token, now) {
            Ok(record) => Some(record),
            Err(why) => {
                tracing::debug!(why, "cookie session not opened: starting a fresh session");
                None
            }
        }
    }

    fn try_open(&self, token: &str, now: Timestamp) -> Result<Record, &'static str> {
        if token.is_empty() {
            return Err("empty value");
        }
        if token.len() > MAX_COOKIE_BYTES {
            return Err("longer than a cookie");
        }
        // The value is opened on the stack, not the heap, in a buffer no
        // larger than it needs (zeroing one costs time), and the plaintext
        // is wiped afterwards.
        if token.len() <= SMALL_COOKIE_CHARS {
            self.open_on_stack::<{ SMALL_COOKIE_CHARS / 4 * 3 }>(token, now)
        } else {
            self.open_on_stack::<MAX_SEALED_BYTES>(token, now)
        }
    }

    /// Opens `token`, which decodes to at most `N` bytes, in a buffer on
    /// the stack that is wiped afterwards.
    fn open_on_stack<const N: usize>(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Record, &'static str> {
        let mut buf = [0u8; N];
        let opened = self.open_in(token, now, &mut buf);
        // Only the decoded bytes were ever written.
        let written = (token.len() / 4 * 3 + 2).min(N);
        buf[..written].fill(0);
        opened
    }

    fn open_in(&self, token: &str, now: Timestamp, buf: &mut [u8]) -> Result<Record, &'static str> {
        let inner = &*self.inner;
        let len = b64::decode(token.as_bytes(), buf).ok_or("not base64url")?;
        if len < HEADER_LEN + 1 + TAG_LEN {
            return Err("too short");
        }
        // Version 1 sealed `Record::encode()` (JSON); it still opens, so
        // sessions survive the upgrade, and is re-sealed as the current
        // version on its next write.
        let (aad, decode): (&[u8], Decoder) = match buf[0] {
            SEAL_VERSION => (&inner.aad, plain::decode),
            SEAL_VERSION_JSON => (&inner.aad_json, |plain| {
                Record::decode(plain).map_err(|_| "sealed record does not decode")
            }),
            _ => return Err("unknown seal version"),
        };
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&buf[1..HEADER_LEN]);
        for (n, key) in inner.keys.iter().enumerate() {
            if n > 0 {
                // A failed open wipes the buffer: decode the value again.
                b64::decode(token.as_bytes(), buf).ok_or("not base64url")?;
            }
            let opened = key.open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf[HEADER_LEN..len],
            );
            let Ok(plain) = opened else { continue };
            let record = decode(plain)?;
            if !record.is_kept_at(now) {
                return Err("sealed session past its keep-until (replayed or expired)");
            }
            if n > 0 {
                tracing::debug!(
                    key = n,
                    "cookie opened with an old key: re-sealed on next write"
                );
            }
            return Ok(record);
        }
        Err("no key opens it (tampered, truncated, other key or other cookie name)")
    }
}

/// Reads an opened plaintext of one format version.
type Decoder = fn(&[u8]) -> Result<Record, &'static str>;

fn derive_key(secret: &[u8]) -> Result<LessSafeKey, CookieStoreError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(secret);
    let okm = prk
        .expand(&[HKDF_INFO], &AES_256_GCM)
        .map_err(|_| CookieStoreError::Crypto)?;
    Ok(LessSafeKey::new(UnboundKey::from(okm)))
}

/// The sealed length of a record with no data and no flash: the least
/// room a cookie must leave.
fn empty_record_token_len() -> usize {
    b64::encoded_len(HEADER_LEN + plain::EMPTY_MAX + TAG_LEN)
}

#[async_trait]
impl SessionStore for CookieStore {
    /// Always `true`: the record travels in the cookie.
    fn client_side(&self) -> bool {
        true
    }

    async fn load(&self, token: &str, now: Timestamp) -> Result<Option<Record>, StoreError> {
        Ok(self.open(token, now))
    }

    /// Opening is pure computation: answered at once.
    fn load_now(
        &self,
        token: &str,
        _id: Option<&SessionId>,
        now: Timestamp,
    ) -> Option<Result<Option<Record>, StoreError>> {
        Some(Ok(self.open(token, now)))
    }

    /// Sealing is pure computation: answered at once.
    fn update_now(&self, record: &Record, _delta: &Delta) -> Option<Result<Updated, StoreError>> {
        Some(
            self.seal(record)
                .map(Updated::Token)
                .map_err(StoreError::from),
        )
    }

    async fn create(&self, record: &Record) -> Result<Option<String>, StoreError> {
        Ok(Some(self.seal(record)?))
    }

    /// Seals `record` as it is: the cookie carries the whole session, so
    /// the delta is not needed.
    async fn update(&self, record: &Record, _delta: &Delta) -> Result<Option<String>, StoreError> {
        Ok(Some(self.seal(record)?))
    }

    async fn touch(&self, record: &Record) -> Result<Option<String>, StoreError> {
        Ok(Some(self.seal(record)?))
    }

    /// Nothing to delete: the core expires the cookie. A copy of the old
    /// cookie still opens until its sealed `keep_until`.
    async fn delete(&self, _id: &SessionId) -> Result<(), StoreError> {
        Ok(())
    }
}
