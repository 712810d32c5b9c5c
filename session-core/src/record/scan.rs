//! A strict, serde-free reader for record bodies in canonical form: the
//! form [`Record::encode_body`] writes, with no whitespace, fields in
//! order, integers in plain decimal, keys without escapes.
//!
//! It accepts only a subset of what the `serde_json` reader
//! ([`Record::decode_body`]'s fallback) accepts, and for that subset gives
//! the same record: the same fields, the same keys, each value the same
//! JSON text, and a repeated key keeping its last value. Anything else,
//! valid or not, is `None`, and the `serde_json` reader decides. So it is
//! only ever a shortcut: it never accepts what the fallback refuses, never
//! refuses what the fallback accepts.

use super::{collect_data, Data, Record, Value};
use crate::{SessionId, Timestamp, ID_CHARS};

/// Nesting levels inside one value read here; deeper values go to the
/// fallback (whose own limit, in some `serde_json` versions, is 128 levels
/// for the whole body).
const MAX_DEPTH: u32 = 64;

/// Whether any of the eight bytes is `"`, `\` or below 0x20, tested at
/// once (exact: the borrows of the subtractions only ever follow a byte
/// that is found).
fn has_special(bytes: [u8; 8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let v = u64::from_le_bytes(bytes);
    // A byte below `n` (`n` at most 0x80) has its high bit set in `x - n`
    // and clear in `x`.
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let quote = v ^ (ONES * u64::from(b'"'));
    let backslash = v ^ (ONES * u64::from(b'\\'));
    below(quote, 1) | below(backslash, 1) | below(v, 0x20) != 0
}

/// Whether all eight bytes are ASCII digits, tested at once.
fn all_digits(bytes: [u8; 8]) -> bool {
    let v = u64::from_le_bytes(bytes);
    // A digit is 0x30..=0x39: its high nibble is 3, and adding 6 leaves it
    // 3. A carry out of a byte only comes from a byte that fails anyway.
    let high = v & 0xF0F0_F0F0_F0F0_F0F0;
    let plus_six = (v.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4;
    high | plus_six == 0x3333_3333_3333_3333
}

/// The value of eight ASCII digits, most significant first, computed at
/// once rather than digit by digit (Lemire's method).
fn eight_digits(digits: [u8; 8]) -> u64 {
    // One digit a byte, the first in the lowest byte.
    let v = u64::from_le_bytes(digits).wrapping_sub(0x3030_3030_3030_3030);
    // Bytes 0, 2, 4, 6 now hold the pairs d0d1, d2d3, d4d5, d6d7 (each
    // byte was at most 9, so nothing carries).
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    // d0d1 * 10^6 + d4d5 * 100 and d2d3 * 10^4 + d6d7, in the high halves.
    let outer = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let inner = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    outer.wrapping_add(inner) >> 32
}

/// Reads a canonical body, or `None` for the fallback to read.
pub(super) fn canonical(body: &str) -> Option<Record> {
    let mut c = Cursor {
        text: body,
        bytes: body.as_bytes(),
        at: 0,
    };
    c.eat(b"{\"i\":\"")?;
    let id = SessionId::parse(c.take(ID_CHARS)?)?;
    c.eat(b"\",\"c\":")?;
    let created_at = c.int()?;
    c.eat(b",\"d\":")?;
    let idle_deadline = c.int()?;
    c.eat(b",\"a\":")?;
    let absolute_deadline = if c.eat(b"null").is_some() {
        None
    } else {
        Some(c.int()?)
    };
    c.eat(b",\"k\":")?;
    let keep_until = c.int()?;
    c.eat(b",\"v\":")?;
    let data = c.data()?;
    c.eat(b",\"f\":")?;
    let flash = c.data()?;
    c.eat(b"}")?;
    if c.at != c.bytes.len() {
        return None;
    }
    Some(Record {
        id,
        data,
        flash,
        created_at: Timestamp::from_unix_millis(created_at),
        idle_deadline: Timestamp::from_unix_millis(idle_deadline),
        absolute_deadline: absolute_deadline.map(Timestamp::from_unix_millis),
        keep_until: Timestamp::from_unix_millis(keep_until),
    })
}

struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Consumes `lit` if the input continues with it.
    fn eat<const N: usize>(&mut self, lit: &[u8; N]) -> Option<()> {
        if self.bytes.get(self.at..)?.first_chunk::<N>()? == lit {
            self.at += N;
            Some(())
        } else {
            None
        }
    }

    /// Skips the bytes of a JSON string that need no attention, up to the
    /// next `"`, `\` or control character (or the end).
    fn skip_plain(&mut self) {
        while let Some(&eight) = self.bytes.get(self.at..).and_then(<[u8]>::first_chunk) {
            if has_special(eight) {
                break;
            }
            self.at += 8;
        }
        while let Some(&b) = self.bytes.get(self.at) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                break;
            }
            self.at += 1;
        }
    }

    /// The next `n` bytes, as text (`None` unless they end on a character
    /// boundary).
    fn take(&mut self, n: usize) -> Option<&'a str> {
        let s = self.text.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    /// An integer as the encoder writes it: `0`, or an optional `-` and
    /// digits without a leading zero, within `i64`. What follows is checked
    /// by the caller (a `.` or an exponent then fails it).
    fn int(&mut self) -> Option<i64> {
        let negative = self.eat(b"-").is_some();
        match self.peek()? {
            // `-0` is a float to `serde_json`: left to the fallback.
            b'0' if !negative => {
                self.at += 1;
                return Some(0);
            }
            b'1'..=b'9' => {}
            _ => return None,
        }
        let start = self.at;
        self.digits();
        let digits = &self.bytes[start..self.at];
        if digits.len() <= 18 {
            // Below 10^18: no overflow.
            let mut n: u64 = 0;
            let mut rest = digits;
            while let Some((eight, tail)) = rest.split_first_chunk::<8>() {
                n = n * 100_000_000 + eight_digits(*eight);
                rest = tail;
            }
            for &d in rest {
                n = n * 10 + u64::from(d - b'0');
            }
            // At most 18 digits: below `i64::MAX`.
            let n = i64::try_from(n).ok()?;
            return Some(if negative { -n } else { n });
        }
        // Near the ends of `i64`: build the value with its sign, checked.
        digits.iter().try_fold(0i64, |n, &d| {
            let d = i64::from(d - b'0');
            let n = n.checked_mul(10)?;
            if negative {
                n.checked_sub(d)
            } else {
                n.checked_add(d)
            }
        })
    }

    /// A data map: `{}` or `{"key":value,…}`.
    fn data(&mut self) -> Option<Data> {
        self.eat(b"{")?;
        if self.eat(b"}").is_some() {
            return Some(Data::new());
        }
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(8);
        loop {
            let key = self.plain_key()?;
            self.eat(b":")?;
            let start = self.at;
            self.value()?;
            let raw = self.text.get(start..self.at)?;
            entries.push((key.to_owned(), Value::from(raw)));
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(collect_data(entries));
                }
                _ => return None,
            }
        }
    }

    /// A string with nothing to unescape: its text.
    fn plain_key(&mut self) -> Option<&'a str> {
        self.eat(b"\"")?;
        let start = self.at;
        self.skip_plain();
        let key = self.text.get(start..self.at)?;
        self.eat(b"\"")?;
        Some(key)
    }

    /// Skips a JSON string: no control characters, the standard escapes
    /// (a `\u` escape of a surrogate is left to the fallback).
    fn string(&mut self) -> Option<()> {
        self.eat(b"\"")?;
        loop {
            self.skip_plain();
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => {
                    self.at += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                        b'u' => {
                            self.at += 1;
                            let hex = self.take(4)?;
                            // (`from_str_radix` alone would take a sign.)
                            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                                return None;
                            }
                            let unit = u16::from_str_radix(hex, 16).ok()?;
                            if (0xD800..=0xDFFF).contains(&unit) {
                                return None;
                            }
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// Skips a JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b"-");
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b".").is_some() {
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while let Some(&eight) = self.bytes.get(self.at..).and_then(<[u8]>::first_chunk) {
            if !all_digits(eight) {
                break;
            }
            self.at += 8;
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.digits();
        (self.at > start).then_some(())
    }

    /// Skips one JSON value without whitespace, nested at most
    /// [`MAX_DEPTH`] levels.
    fn value(&mut self) -> Option<()> {
        // One bit per open container, innermost lowest: set for an object.
        let mut objects: u64 = 0;
        let mut depth = 0;
        'value: loop {
            match self.peek()? {
                open @ (b'[' | b'{') => {
                    self.at += 1;
                    if depth == MAX_DEPTH {
                        return None;
                    }
                    let object = open == b'{';
                    let close = if object { b'}' } else { b']' };
                    if self.eat(&[close]).is_none() {
                        objects = objects << 1 | u64::from(object);
                        depth += 1;
                        if object {
                            self.string()?;
                            self.eat(b":")?;
                        }
                        continue 'value;
                    }
                }
                b'"' => self.string()?,
                b'-' | b'0'..=b'9' => self.number()?,
                b't' => self.eat(b"true")?,
                b'f' => self.eat(b"false")?,
                b'n' => self.eat(b"null")?,
                _ => return None,
            }
            // A value is complete: close containers, or go on to the next
            // element.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let object = objects & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        if object {
                            self.string()?;
                            self.eat(b":")?;
                        }
                        continue 'value;
                    }
                    b']' if !object => {}
                    b'}' if object => {}
                    _ => return None,
                }
                self.at += 1;
                objects >>= 1;
                depth -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: &str) -> String {
        let id = SessionId::from_bytes([9; 24]);
        format!(r#"{{"i":"{id}","c":1,"d":-2,"a":null,"k":3,"v":{v},"f":{{}}}}"#)
    }

    fn value_ok(v: &str) -> bool {
        canonical(&body(&format!("{{\"x\":{v}}}"))).is_some()
    }

    #[test]
    fn reads_what_the_encoder_writes() {
        let mut data = Data::new();
        data.insert("user".into(), Value::from("\"al\\\"ice\\u00e9\""));
        data.insert("n".into(), Value::from("-42"));
        data.insert("é 🎉".into(), Value::from("{\"a\":[1,2.5e-3,{}],\"b\":[]}"));
        data.insert("t".into(), Value::from("[true,false,null]"));
        for (a, k) in [(None, 0), (Some(i64::MIN), i64::MAX), (Some(-1), -7)] {
            let r = Record {
                id: SessionId::from_bytes([0xfb; 24]),
                data: data.clone(),
                flash: data.clone(),
                created_at: Timestamp::from_unix_millis(i64::MIN),
                idle_deadline: Timestamp::from_unix_millis(0),
                absolute_deadline: a.map(Timestamp::from_unix_millis),
                keep_until: Timestamp::from_unix_millis(k),
            };
            let mut out = Vec::new();
            r.encode_body(&mut out);
            let text = std::str::from_utf8(&out).unwrap();
            assert_eq!(canonical(text), Some(r), "{text}");
        }
    }

    #[test]
    fn reads_integers_as_display_writes_them() {
        let mut ns = vec![0, 1, -1, i64::MAX, i64::MIN, i64::MIN + 1, i64::MAX - 1];
        let mut p: i64 = 1;
        for _ in 0..19 {
            ns.extend([p - 1, p, p + 1, 2 * p, 5 * p - 1, 9 * p + 9, p + p / 3]);
            p = p.saturating_mul(10);
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ns.push(x as i64);
            ns.push((x >> (x % 63)) as i64);
        }
        for n in ns.iter().flat_map(|&n| [n, n.saturating_neg()]) {
            let text = format!("{n},");
            let mut c = Cursor {
                text: &text,
                bytes: text.as_bytes(),
                at: 0,
            };
            assert_eq!(c.int(), Some(n), "{text}");
            assert_eq!(c.at, text.len() - 1);
        }
        for bad in [
            "-0",
            "01",
            "-",
            "",
            "x",
            "9223372036854775808",
            "-9223372036854775809",
        ] {
            let mut c = Cursor {
                text: bad,
                bytes: bad.as_bytes(),
                at: 0,
            };
            assert!(c.int().filter(|_| c.at == bad.len()).is_none(), "{bad}");
        }
        for b in 0..=255u8 {
            for at in 0..8 {
                for base in [*b"abcdefgh", [0xC3; 8], [0x7F; 8], *b"        "] {
                    let mut eight = base;
                    eight[at] = b;
                    let special = b == b'"' || b == b'\\' || b < 0x20;
                    assert_eq!(has_special(eight), special, "{b:#x} at {at} in {base:?}");
                }
                let mut eight = *b"01234567";
                eight[at] = b;
                assert_eq!(all_digits(eight), b.is_ascii_digit(), "{b:#x} at {at}");
            }
            assert_eq!(all_digits([b; 8]), b.is_ascii_digit());
        }
        for digits in 0..100_000_000u64 / 9_999 {
            let n = digits * 9_999;
            assert_eq!(
                eight_digits(*format!("{n:08}").as_bytes().first_chunk().unwrap()),
                n
            );
        }
    }

    #[test]
    fn accepts_json_values() {
        for v in [
            "0",
            "-0",
            "-0.0e+0",
            "1E5",
            "12.50",
            "\"\"",
            "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uFFFF\"",
            "\"\u{7f}é\"",
            "[]",
            "{}",
            "[[[]],{}]",
            "{\"a\":{\"b\":[1,{\"\\n\":null}]}}",
        ] {
            assert!(value_ok(v), "{v}");
        }
        let deep = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(value_ok(&deep));
    }

    #[test]
    fn leaves_the_rest_to_the_fallback() {
        for v in [
            "",
            " 1",
            "1 ",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "tru",
            "nul",
            "True",
            "\"\n\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"\\uDFFF\"",
            "\"open",
            "[1,]",
            "[1 ]",
            "[,1]",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{1:1}",
            "[}",
            "{]",
            "[",
        ] {
            assert!(!value_ok(v), "{v:?}");
        }
        let deeper = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert!(!value_ok(&deeper));
        for v in [
            "{\"a\\n\":1}",
            "{\"a\\\"\":1}",
            "{\"a\":1} ",
            "{ }",
            "{\"a\" :1}",
            "[]",
        ] {
            assert!(canonical(&body(v)).is_none(), "{v:?}");
        }
        let id = SessionId::from_bytes([9; 24]);
        for b in [
            format!(r#"{{"i":"{id}","c":1,"d":2,"k":3,"v":{{}},"f":{{}}}}"#),
            format!(r#"{{"i":"{id}","c":-0,"d":2,"a":null,"k":3,"v":{{}},"f":{{}}}}"#),
            format!(r#"{{"i":"{id}","c":01,"d":2,"a":null,"k":3,"v":{{}},"f":{{}}}}"#),
            format!(r#"{{"i":"{id}","c":1.0,"d":2,"a":null,"k":3,"v":{{}},"f":{{}}}}"#),
            format!(
                r#"{{"i":"{id}","c":9223372036854775808,"d":2,"a":null,"k":3,"v":{{}},"f":{{}}}}"#
            ),
            format!(
                r#"{{"i":"{id}","c":-9223372036854775809,"d":2,"a":null,"k":3,"v":{{}},"f":{{}}}}"#
            ),
            format!(r#"{{"i":"{id}A","c":1,"d":2,"a":null,"k":3,"v":{{}},"f":{{}}}}"#),
            format!(
                r#"{{"i":"{}","c":1,"d":2,"a":null,"k":3,"v":{{}},"f":{{}}}}"#,
                "=".repeat(32)
            ),
            format!(r#"{{"i":"{id}","d":2,"c":1,"a":null,"k":3,"v":{{}},"f":{{}}}}"#),
            format!(r#"{{"i":"{id}","c":1,"d":2,"a":null,"k":3,"v":{{}},"f":{{}},"z":1}}"#),
            format!(r#" {{"i":"{id}","c":1,"d":2,"a":null,"k":3,"v":{{}},"f":{{}}}}"#),
        ] {
            assert!(canonical(&b).is_none(), "{b}");
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        let r = canonical(&body(r#"{"b":1,"a":2,"a":[3]}"#)).unwrap();
        assert_eq!(r.data.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(r.data["a"].as_ref(), "[3]");
        // Maps small and large, keys sorted or not, and repeated.
        for n in [1, 7, 8, 9, 24] {
            for order in 0..3 {
                let mut keys: Vec<usize> = (0..n).collect();
                match order {
                    0 => {}
                    1 => keys.reverse(),
                    _ => keys.extend((0..n).step_by(2)),
                }
                let entries: Vec<String> = keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| format!("\"k{k:03}\":{i}"))
                    .collect();
                let r = canonical(&body(&format!("{{{}}}", entries.join(",")))).unwrap();
                let mut want = Data::new();
                for (i, k) in keys.iter().enumerate() {
                    want.insert(format!("k{k:03}"), Value::from(i.to_string()));
                }
                assert_eq!(r.data, want, "{n} entries, order {order}");
            }
        }
    }
}
