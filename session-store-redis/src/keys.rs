//! Storage keys: `prefix + base64url(HMAC-SHA256(secret, id bytes))`.
//!
//! The id itself never reaches Redis, so a dump of the server (or a
//! `MONITOR` log) does not hand out live session ids: the key is a one-way
//! function of the 192-bit id.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use session_core::SessionId;

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
    hmac: hmac::Key,
}

impl KeyMaker {
    pub(crate) fn new(prefix: String, secret: &[u8]) -> Self {
        Self {
            prefix,
            hmac: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key the session `id` is stored under.
    pub(crate) fn key(&self, id: &SessionId) -> String {
        let tag = hmac::sign(&self.hmac, id.as_bytes());
        // 32 bytes of tag are 43 base64url characters.
        let mut key = String::with_capacity(self.prefix.len() + 43);
        key.push_str(&self.prefix);
        URL_SAFE_NO_PAD.encode_string(tag.as_ref(), &mut key);
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_hashes_not_ids() {
        let id = SessionId::from_bytes([9; 24]);
        let keys = KeyMaker::new("s:".into(), DEFAULT_KEY_SECRET);
        let key = keys.key(&id);
        assert!(key.starts_with("s:"));
        assert_eq!(key.len(), 2 + 43);
        assert!(!key.contains(&id.to_string()));
        assert_eq!(key, keys.key(&id), "deterministic");
        let other = KeyMaker::new("s:".into(), b"another secret, long enough to use");
        assert_ne!(key, other.key(&id));
        assert_ne!(key, keys.key(&SessionId::from_bytes([8; 24])));
    }
}
