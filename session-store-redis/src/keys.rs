//! Storage keys: `prefix + base64url(HMAC-SHA256(secret, id bytes))`.
//!
//! The id itself never reaches Redis, so a dump of the server (or a
//! `MONITOR` log) does not hand out live session ids: the key is a one-way
//! function of the 192-bit id.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use session_core::SessionId;
use sha2::Sha256;

/// The HMAC key used when the builder is given none.
///
/// It is public on purpose: the key only has to be one-way, and a fixed
/// default lets every process (and the next release of this one) find the
/// same sessions without configuration. Set your own secret to make the
/// keys unguessable from a known id as well.
pub(crate) const DEFAULT_KEY_SECRET: &[u8] = b"session-store-redis/v1 default storage key";

/// Turns session ids into Redis keys.
pub(crate) struct KeyMaker {
    prefix: String,
    /// Holds the key's inner and outer hash states, computed once.
    hmac: Hmac<Sha256>,
}

impl KeyMaker {
    /// `None` only if HMAC refused the secret, which it never does (any
    /// length is a valid HMAC key).
    pub(crate) fn new(prefix: String, secret: &[u8]) -> Option<Self> {
        Some(Self {
            prefix,
            hmac: Hmac::new_from_slice(secret).ok()?,
        })
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key the session `id` is stored under, as text.
    pub(crate) fn key(&self, id: &SessionId) -> String {
        let key = self.key_parts(id);
        let mut text = String::with_capacity(self.prefix.len() + TAG_LEN);
        text.push_str(&self.prefix);
        // base64url is ASCII.
        text.extend(key.tag.iter().map(|&b| char::from(b)));
        text
    }

    /// The storage key of `id` in two parts, kept on the stack: a command
    /// writes them straight into its buffer (see
    /// [`Command::arg_key`](crate::resp::Command::arg_key)).
    pub(crate) fn key_parts(&self, id: &SessionId) -> Key<'_> {
        let mut mac = self.hmac.clone();
        mac.update(id.as_bytes());
        let mut key = Key {
            prefix: &self.prefix,
            tag: [0; TAG_LEN],
        };
        // Cannot fail: the tag is always 32 bytes, which encode to exactly
        // TAG_LEN characters (checked at compile time below).
        URL_SAFE_NO_PAD
            .encode_slice(mac.finalize().into_bytes(), &mut key.tag)
            .expect("a 32-byte tag fits TAG_LEN base64url characters");
        key
    }
}

/// The length of a base64url (unpadded) HMAC-SHA256 tag.
const TAG_LEN: usize = 43;
const _: () = assert!(TAG_LEN == (32 * 8usize).div_ceil(6));

/// A storage key: the prefix, then the encoded tag.
pub(crate) struct Key<'k> {
    pub(crate) prefix: &'k str,
    pub(crate) tag: [u8; TAG_LEN],
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maker(prefix: &str, secret: &[u8]) -> KeyMaker {
        KeyMaker::new(prefix.into(), secret).expect("any secret is an HMAC key")
    }

    #[test]
    fn keys_are_hmac_sha256_as_ring_computes_it() {
        let secrets: [&[u8]; 3] = [DEFAULT_KEY_SECRET, b"", &[7; 200]];
        for secret in secrets {
            let keys = maker("p:", secret);
            let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
            for seed in 0..50u8 {
                let id = SessionId::from_bytes(std::array::from_fn(|i| seed ^ i as u8));
                let tag = ring::hmac::sign(&ring_key, id.as_bytes());
                let want = format!("p:{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
                assert_eq!(keys.key(&id), want);
                let parts = keys.key_parts(&id);
                assert_eq!(
                    [parts.prefix.as_bytes(), &parts.tag].concat(),
                    want.as_bytes()
                );
            }
        }
    }

    #[test]
    fn keys_are_prefixed_hashes_not_ids() {
        let id = SessionId::from_bytes([9; 24]);
        let keys = maker("s:", DEFAULT_KEY_SECRET);
        let key = keys.key(&id);
        assert!(key.starts_with("s:"));
        assert_eq!(key.len(), 2 + 43);
        assert!(!key.contains(&id.to_string()));
        assert_eq!(key, keys.key(&id), "deterministic");
        let other = maker("s:", b"another secret, long enough to use");
        assert_ne!(key, other.key(&id));
        assert_ne!(key, keys.key(&SessionId::from_bytes([8; 24])));
    }
}
