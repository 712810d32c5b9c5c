//! Session ids: 192 random bits, written as 32 base64url characters.

use std::fmt;

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
        Self::parse_bytes(text.as_bytes())
    }

    /// [`parse`](Self::parse) on bytes: any byte outside the alphabet
    /// (so anything not ASCII) is refused.
    pub(crate) fn parse_bytes(text: &[u8]) -> Option<Self> {
        let chars: &[u8; ID_CHARS] = text.try_into().ok()?;
        // 32 characters always decode to exactly 24 bytes, with no spare
        // bits: every string of 32 base64url characters is an id.
        let mut out = [0u8; ID_BYTES];
        // Each character's table gives its bits already in place in the
        // group's 24 bits (or the `INVALID` bit), so a group is four loads
        // and three ORs: about half the work of shifting 6-bit values.
        let mut seen = 0u32;
        for group in 0..ID_CHARS / 4 {
            let (i, o) = (group * 4, group * 3);
            let n = GROUP_BITS[0][usize::from(chars[i])]
                | GROUP_BITS[1][usize::from(chars[i + 1])]
                | GROUP_BITS[2][usize::from(chars[i + 2])]
                | GROUP_BITS[3][usize::from(chars[i + 3])];
            seen |= n;
            let [_, a, b, c] = n.to_be_bytes();
            out[o] = a;
            out[o + 1] = b;
            out[o + 2] = c;
        }
        (seen & INVALID == 0).then_some(Self(out))
    }

    /// The text form as a `String`, as `to_string` gives it, without going
    /// through the formatting machinery (stores return it on every write).
    ///
    /// ```
    /// # use session_core::SessionId;
    /// let id = SessionId::from_bytes([7; 24]);
    /// assert_eq!(id.to_token(), id.to_string());
    /// ```
    pub fn to_token(&self) -> String {
        String::from_utf8(self.chars().to_vec()).unwrap_or_default()
    }

    /// The 32 base64url characters.
    pub(crate) fn chars(&self) -> [u8; ID_CHARS] {
        let mut out = [0u8; ID_CHARS];
        for group in 0..ID_BYTES / 3 {
            let (i, o) = (group * 3, group * 4);
            let n = u32::from(self.0[i]) << 16
                | u32::from(self.0[i + 1]) << 8
                | u32::from(self.0[i + 2]);
            out[o] = BASE64URL_ALPHABET[(n >> 18) as usize & 63];
            out[o + 1] = BASE64URL_ALPHABET[(n >> 12) as usize & 63];
            out[o + 2] = BASE64URL_ALPHABET[(n >> 6) as usize & 63];
            out[o + 3] = BASE64URL_ALPHABET[n as usize & 63];
        }
        out
    }

    /// A short, non-secret prefix for logs.
    pub fn short(&self) -> String {
        let mut s = self.to_string();
        s.truncate(4);
        s
    }
}

/// The base64url alphabet, in value order.
const BASE64URL_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Set in a [`GROUP_BITS`] entry for a byte outside the alphabet (above
/// the group's 24 bits, so it never reaches a decoded byte).
const INVALID: u32 = 1 << 31;

/// For the 1st to 4th character of a group of four, each byte's 6-bit
/// value shifted to its place in the group's 24 bits, or [`INVALID`].
static GROUP_BITS: [[u32; 256]; 4] = {
    let mut tables = [[INVALID; 256]; 4];
    let mut pos = 0;
    while pos < 4 {
        let mut n = 0;
        while n < 64 {
            tables[pos][BASE64URL_ALPHABET[n] as usize] = (n as u32) << (18 - 6 * pos);
            n += 1;
        }
        pos += 1;
    }
    tables
};

/// True for the characters of the base64url alphabet.
#[cfg(test)]
fn is_base64url(b: u8) -> bool {
    GROUP_BITS[3][usize::from(b)] & INVALID == 0
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.chars()).map_err(|_| fmt::Error)?)
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
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    #[test]
    fn text_form_matches_base64url() {
        for seed in 0..=255u8 {
            let bytes: [u8; ID_BYTES] = std::array::from_fn(|i| {
                seed.wrapping_mul(31)
                    .wrapping_add((i as u8).wrapping_mul(97))
            });
            let id = SessionId::from_bytes(bytes);
            assert_eq!(id.to_token(), URL_SAFE_NO_PAD.encode(bytes));
            assert_eq!(id.to_string(), id.to_token());
            assert_eq!(SessionId::parse(&id.to_token()), Some(id));
        }
    }

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
    fn parse_agrees_with_the_base64_crate() {
        let alphabet: Vec<u8> = (0..=255u8).filter(|&b| is_base64url(b)).collect();
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
            assert_eq!(is_base64url(b), want, "byte {b}");
        }
        assert_eq!(alphabet.len(), 64);
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20_000 {
            let mut text: Vec<u8> = (0..ID_CHARS)
                .map(|_| alphabet[(next() % 64) as usize])
                .collect();
            if round % 2 == 1 {
                // One byte anywhere replaced by any byte.
                let at = (next() % ID_CHARS as u64) as usize;
                text[at] = (next() % 256) as u8;
            }
            let Ok(text) = String::from_utf8(text) else {
                continue;
            };
            let mut want = [0u8; ID_BYTES + 3];
            let expected = match URL_SAFE_NO_PAD.decode_slice(&text, &mut want) {
                Ok(ID_BYTES) if text.bytes().all(is_base64url) => {
                    Some(SessionId::from_bytes(want[..ID_BYTES].try_into().unwrap()))
                }
                _ => None,
            };
            assert_eq!(SessionId::parse(&text), expected, "{text}");
            if let Some(id) = expected {
                assert_eq!(id.to_string(), text);
            }
        }
        for bad in ["", "A", &"A".repeat(31), &"A".repeat(33), &"A".repeat(28)] {
            assert_eq!(SessionId::parse(bad), None);
        }
    }

    #[test]
    fn debug_does_not_print_the_id() {
        let id = SessionId::from_bytes([0x5A; 24]);
        let shown = format!("{id:?}");
        assert!(!shown.contains(&id.to_string()));
        assert!(shown.len() < 20);
    }
}
