//! The errors of this crate.

use session_core::{StoreError, StoreErrorKind};

use crate::{MAX_COOKIE_BYTES, MIN_SECRET_LEN};

/// What went wrong building a [`CookieStore`](crate::CookieStore) or sealing
/// a session into a cookie.
///
/// Building errors ([`SecretTooShort`](Self::SecretTooShort),
/// [`NoRoom`](Self::NoRoom)) come back from
/// [`CookieStoreBuilder::build`](crate::CookieStoreBuilder::build). Sealing
/// errors reach the session machinery as a
/// [`StoreError`] whose [`source`](std::error::Error::source) is this error:
/// [`TooLarge`](Self::TooLarge) with kind [`StoreErrorKind::TooLarge`], the
/// others with kind [`StoreErrorKind::Other`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieStoreError {
    /// A master secret shorter than [`MIN_SECRET_LEN`] bytes.
    #[error(
        "cookie store secret #{index} is {len} bytes long; at least {MIN_SECRET_LEN} random bytes \
         are needed for AES-256-GCM"
    )]
    SecretTooShort {
        /// Its position among the configured secrets (0 is the current one).
        index: usize,
        /// Its length in bytes.
        len: usize,
    },
    /// The session cookie's name and attributes alone leave no room for a
    /// sealed session within [`MAX_COOKIE_BYTES`].
    #[error(
        "the session cookie's name and attributes take {overhead} bytes of the {MAX_COOKIE_BYTES} \
         a browser keeps: no room is left for a sealed session"
    )]
    NoRoom {
        /// The bytes the cookie name and attributes take.
        overhead: usize,
    },
    /// The sealed session would make a `Set-Cookie` header over the
    /// browser's limit. The cookie is not set (never truncated or dropped
    /// silently): store less in the session, or use a server-side store.
    #[error(
        "the sealed session makes a {header_len}-byte Set-Cookie header, over the {limit}-byte \
         browser limit: store less in the session or use a server-side store"
    )]
    TooLarge {
        /// The length the whole `Set-Cookie` header value would have.
        header_len: usize,
        /// The limit ([`MAX_COOKIE_BYTES`]).
        limit: usize,
    },
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// `ring` refused to derive a key or to seal (it does not for the sizes
    /// used here; reported rather than assumed).
    #[error("AES-256-GCM key derivation or sealing failed")]
    Crypto,
}

impl From<CookieStoreError> for StoreError {
    fn from(e: CookieStoreError) -> Self {
        let kind = match e {
            CookieStoreError::TooLarge { .. } => StoreErrorKind::TooLarge,
            _ => StoreErrorKind::Other,
        };
        StoreError::new(kind, e)
    }
}
