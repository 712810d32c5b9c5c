//! base64url without padding (RFC 4648 §5), table-driven: exactly what the
//! `base64` crate's `URL_SAFE_NO_PAD` engine writes, and exactly what it
//! accepts (no padding, no length of the form 4n + 1, no non-zero trailing
//! bits), which the tests check against it.

/// The base64url alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The two characters of each 12-bit value.
static PAIRS: [[u8; 2]; 4096] = pairs();

/// Each byte's 6-bit value, or [`INVALID`] for a byte outside the alphabet.
static VALUES: [u8; 256] = values();

/// Marks a byte outside the alphabet (its high bits are never set in a
/// 6-bit value).
const INVALID: u8 = 0xFF;

/// Set in a [`GROUP_BITS`] entry for a byte outside the alphabet (above
/// a group's 24 bits).
const GROUP_INVALID: u32 = 1 << 31;

/// For the 1st to 4th character of a group of four, each byte's 6-bit
/// value shifted to its place in the group's 24 bits, or [`GROUP_INVALID`].
static GROUP_BITS: [[u32; 256]; 4] = group_bits();

const fn group_bits() -> [[u32; 256]; 4] {
    let mut tables = [[GROUP_INVALID; 256]; 4];
    let mut pos = 0;
    while pos < 4 {
        let mut n = 0;
        while n < 64 {
            tables[pos][ALPHABET[n] as usize] = (n as u32) << (18 - 6 * pos);
            n += 1;
        }
        pos += 1;
    }
    tables
}

const fn pairs() -> [[u8; 2]; 4096] {
    let mut table = [[0; 2]; 4096];
    let mut n = 0;
    while n < 4096 {
        table[n] = [ALPHABET[n >> 6], ALPHABET[n & 63]];
        n += 1;
    }
    table
}

const fn values() -> [u8; 256] {
    let mut table = [INVALID; 256];
    let mut n = 0;
    while n < 64 {
        table[ALPHABET[n] as usize] = n as u8;
        n += 1;
    }
    table
}

/// Characters that `len` bytes encode to.
pub(crate) const fn encoded_len(len: usize) -> usize {
    len / 3 * 4 + (len % 3 * 4).div_ceil(3)
}

/// Encodes `input`.
pub(crate) fn encode(input: &[u8]) -> String {
    // Pushed into spare capacity rather than written into a zeroed
    // buffer: `vec![0; n]` is a `calloc`, several times a `malloc`'s cost.
    let mut out = Vec::with_capacity(encoded_len(input.len()));
    // Six bytes to eight characters at a time, each group read as one
    // 8-byte word (its last two bytes unused), then three to four.
    let groups = input.len().saturating_sub(2) / 6;
    for start in (0..groups * 6).step_by(6) {
        let Some(&word) = input.get(start..).and_then(<[u8]>::first_chunk) else {
            break;
        };
        let n = u64::from_be_bytes(word);
        // The four pairs put together as one word: one 8-byte store.
        let pair = |shift: u32| u64::from(u16::from_le_bytes(PAIRS[(n >> shift) as usize & 0xFFF]));
        let chars = pair(52) | pair(40) << 16 | pair(28) << 32 | pair(16) << 48;
        out.extend_from_slice(&chars.to_le_bytes());
    }
    let input = &input[groups * 6..];
    let chunks = input.chunks_exact(3);
    let tail = chunks.remainder();
    for src in chunks {
        let n = usize::from(src[0]) << 16 | usize::from(src[1]) << 8 | usize::from(src[2]);
        let ([a, b], [c, d]) = (PAIRS[n >> 12], PAIRS[n & 0xFFF]);
        out.extend_from_slice(&[a, b, c, d]);
    }
    match *tail {
        [a] => out.extend_from_slice(&PAIRS[usize::from(a) << 4]),
        [a, b] => {
            let n = usize::from(a) << 10 | usize::from(b) << 2;
            out.extend_from_slice(&PAIRS[n >> 6]);
            out.push(ALPHABET[n & 63]);
        }
        _ => {}
    }
    // Every byte written is an ASCII character of the alphabet.
    String::from_utf8(out).unwrap_or_default()
}

/// Decodes `input` into the start of `out`: the number of bytes, or `None`
/// when `input` is not base64url without padding, or does not fit.
pub(crate) fn decode(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let tail_len = input.len() % 4;
    if tail_len == 1 {
        return None;
    }
    let len = input.len() / 4 * 3 + tail_len.saturating_sub(1);
    let out = out.get_mut(..len)?;
    let v = |b: u8| VALUES[usize::from(b)];
    // A group of four characters as its 24 bits: each position's table
    // holds the value already shifted into place (or `GROUP_INVALID`), so
    // a group is four loads and three ORs.
    let group = |src: &[u8]| {
        GROUP_BITS[0][usize::from(src[0])]
            | GROUP_BITS[1][usize::from(src[1])]
            | GROUP_BITS[2][usize::from(src[2])]
            | GROUP_BITS[3][usize::from(src[3])]
    };
    // Collects the groups' bits: `GROUP_INVALID` means an invalid byte.
    let mut groups_seen = 0u32;
    // Eight characters to six bytes at a time, then four to three.
    let wide = input.len() / 8;
    let (input, rest) = input.split_at(wide * 8);
    let (out, rest_out) = out.split_at_mut(wide * 6);
    for (src, dst) in input.chunks_exact(8).zip(out.chunks_exact_mut(6)) {
        let (x, y) = (group(&src[..4]), group(&src[4..]));
        groups_seen |= x | y;
        // An invalid `y` spoils `x`'s bits here, but then nothing decoded
        // is returned.
        let n = u64::from(x) << 24 | u64::from(y);
        dst.copy_from_slice(&n.to_be_bytes()[2..]);
    }
    let chunks = rest.chunks_exact(4);
    let tail = chunks.remainder();
    let mut dst = rest_out.chunks_exact_mut(3);
    for (src, dst) in chunks.zip(&mut dst) {
        let n = group(src);
        groups_seen |= n;
        let [_, x, y, z] = n.to_be_bytes();
        dst.copy_from_slice(&[x, y, z]);
    }
    // Collects the tail's values' bits: any high bit means an invalid byte.
    let mut seen = 0u8;
    let dst = dst.into_remainder();
    match (tail, dst) {
        (&[a, b], [x]) => {
            let (a, b) = (v(a), v(b));
            seen |= a | b;
            // The last character's low 4 bits are not data: they must be 0.
            seen |= u8::from(b & 0x0F != 0) << 7;
            *x = a << 2 | b >> 4;
        }
        (&[a, b, c], [x, y]) => {
            let (a, b, c) = (v(a), v(b), v(c));
            seen |= a | b | c;
            // The last character's low 2 bits are not data: they must be 0.
            seen |= u8::from(c & 0x03 != 0) << 7;
            *x = a << 2 | b >> 4;
            *y = b << 4 | c >> 2;
        }
        _ => {}
    }
    (seen < 64 && groups_seen & GROUP_INVALID == 0).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use proptest::prelude::*;

    /// `decode` gives what the `base64` crate gives.
    fn decodes_alike(text: &[u8]) {
        let mut want = vec![0u8; text.len()];
        let mut got = vec![0u8; text.len()];
        let expected = URL_SAFE_NO_PAD.decode_slice(text, &mut want).ok();
        let n = decode(text, &mut got);
        assert_eq!(n, expected, "{:?}", String::from_utf8_lossy(text));
        if let Some(n) = n {
            assert_eq!(got[..n], want[..n]);
        }
    }

    #[test]
    fn encodes_every_short_input_alike() {
        let mut out = [0u8; 4];
        for n in 0..=0xFFFF_u32 {
            for bytes in [&n.to_be_bytes()[3..], &n.to_be_bytes()[2..]] {
                let text = encode(bytes);
                assert_eq!(text, URL_SAFE_NO_PAD.encode(bytes));
                assert_eq!(text.len(), encoded_len(bytes.len()));
                assert_eq!(decode(text.as_bytes(), &mut out), Some(bytes.len()));
                assert_eq!(out[..bytes.len()], *bytes);
            }
        }
        assert_eq!(encode(&[]), "");
    }

    #[test]
    fn decodes_every_short_input_alike() {
        // Every string of up to 2 bytes, and of 3 characters over the
        // alphabet, padding and a few invalid bytes.
        decodes_alike(b"");
        for a in 0..=255u8 {
            decodes_alike(&[a]);
            for b in 0..=255u8 {
                decodes_alike(&[a, b]);
            }
        }
        let mut chars = ALPHABET.to_vec();
        chars.extend_from_slice(b"=+/. \x00\xff");
        for &a in &chars {
            for &b in &chars {
                for &c in &chars {
                    decodes_alike(&[a, b, c]);
                }
            }
        }
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let text = encode(&[1, 2, 3, 4]);
        assert_eq!(decode(text.as_bytes(), &mut [0u8; 3]), None);
        assert_eq!(decode(text.as_bytes(), &mut [0u8; 4]), Some(4));
    }

    proptest! {
        #[test]
        fn encodes_alike(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let text = encode(&bytes);
            prop_assert_eq!(&text, &URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert_eq!(text.len(), encoded_len(bytes.len()));
            let mut out = vec![0u8; bytes.len()];
            prop_assert_eq!(decode(text.as_bytes(), &mut out), Some(bytes.len()));
            prop_assert_eq!(out, bytes);
        }

        #[test]
        fn decodes_alike_on_any_text(
            text in "[A-Za-z0-9_-]{0,40}[A-Za-z0-9_=+/ .-]{0,3}",
            noise in prop::collection::vec(any::<u8>(), 0..40),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            decodes_alike(text.as_bytes());
            let mut changed = text.clone().into_bytes();
            if !changed.is_empty() {
                let i = at.index(changed.len());
                changed[i] = byte;
            }
            decodes_alike(&changed);
            decodes_alike(&noise);
        }
    }
}
