//! Session ids: 192 random bits, written as 32 base64url characters.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};

/// Number of random bytes in a session id (192 bits).
pub const ID_BYTES: usize = 24;
/// Length of a session id in its text form.
pub const ID_CHARS: usize = 32;

/// A session id: 192 bits from a CSPRNG.
///
/// Its text form is 32 base64url characters without padding. [`SessionId::parse`]
/// is strict, so a token of the wrong length or alphabet never reaches a store.
/// `Debug` prints only the first four characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; ID_BYTES]);

impl SessionId {
    /// Wraps raw bytes. Use an [`IdSource`] to make new ids.
    pub const fn from_bytes(bytes: [u8; ID_BYTES]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; ID_BYTES] {
        &self.0
    }

    /// Parses the text form: exactly 32 base64url characters.
    ///
    /// Returns `None` for anything else.
    ///
    /// ```
    /// use session_core::SessionId;
    /// let id = SessionId::from_bytes([7; 24]);
    /// assert_eq!(SessionId::parse(&id.to_string()), Some(id));
    /// assert_eq!(SessionId::parse("not-an-id"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != ID_CHARS || !bytes.iter().all(|b| is_base64url(*b)) {
            return None;
        }
        let mut out = [0u8; ID_BYTES];
        // 32 characters always decode to exactly 24 bytes, with no spare bits.
        match URL_SAFE_NO_PAD.decode_slice(bytes, &mut out) {
            Ok(ID_BYTES) => Some(Self(out)),
            _ => None,
        }
    }

    /// A short, non-secret prefix for logs.
    pub fn short(&self) -> String {
        let mut s = self.to_string();
        s.truncate(4);
        s
    }
}

/// True for the characters of the base64url alphabet.
pub(crate) fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; ID_CHARS];
        let n = URL_SAFE_NO_PAD
            .encode_slice(self.0, &mut buf)
            .map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({}…)", self.short())
    }
}

/// Where new session ids come from.
///
/// The default is [`RandomIds`]; tests inject a deterministic source.
pub trait IdSource: Send + Sync + 'static {
    /// Returns a new id, or an error when no randomness is available.
    fn next_id(&self) -> Result<SessionId, IdError>;
}

/// The operating system's CSPRNG, through `ring::rand::SystemRandom`.
#[derive(Debug)]
pub struct RandomIds {
    rng: SystemRandom,
}

impl RandomIds {
    /// A source backed by the OS CSPRNG.
    pub fn new() -> Self {
        Self {
            rng: SystemRandom::new(),
        }
    }
}

impl Default for RandomIds {
    fn default() -> Self {
        Self::new()
    }
}

impl IdSource for RandomIds {
    fn next_id(&self) -> Result<SessionId, IdError> {
        let mut bytes = [0u8; ID_BYTES];
        self.rng.fill(&mut bytes).map_err(|_| IdError)?;
        Ok(SessionId(bytes))
    }
}

/// The random number generator failed; no id could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct IdError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_distinct_and_round_trip() {
        let ids = RandomIds::new();
        let a = ids.next_id().unwrap();
        let b = ids.next_id().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.to_string().len(), ID_CHARS);
        assert_eq!(SessionId::parse(&a.to_string()), Some(a));
    }

    #[test]
    fn parse_is_strict() {
        let good = SessionId::from_bytes([0xAB; 24]).to_string();
        assert!(SessionId::parse(&good).is_some());
        assert!(SessionId::parse(&good[..31]).is_none());
        assert!(SessionId::parse(&format!("{good}A")).is_none());
        assert!(SessionId::parse(&good.replace(&good[..1], "+")).is_none());
        assert!(SessionId::parse("").is_none());
        assert!(SessionId::parse(&"=".repeat(32)).is_none());
        assert!(SessionId::parse(&"é".repeat(16)).is_none());
    }

    #[test]
    fn debug_does_not_print_the_id() {
        let id = SessionId::from_bytes([0x5A; 24]);
        let shown = format!("{id:?}");
        assert!(!shown.contains(&id.to_string()));
        assert!(shown.len() < 20);
    }
}
