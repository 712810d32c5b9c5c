//! Reading Redis replies (RESP2) off the connection's buffer.
//!
//! The store only ever receives a few shapes (a status, an integer, a bulk
//! string, nil, a flat array of bulk strings, an error), so a direct reader
//! is a few hundred instructions per reply where a general parser is
//! several thousand. Server errors are rare and go through redis-rs's own
//! parser, so they carry the same kinds and codes as everywhere else.

use redis::{RedisError, Value};

/// Deepest array nesting accepted; the store's replies are one level deep.
const MAX_DEPTH: usize = 8;

/// Longest bulk string accepted: Redis' own default `proto-max-bulk-len`.
/// A longer length is a broken stream, not a value to wait for.
const MAX_BULK: usize = 512 * 1024 * 1024;

/// Longest line (type byte, length or status text) accepted. The store's
/// lines are a few dozen bytes; without a limit, a peer that never sends
/// CR would have its bytes buffered and rescanned forever.
const MAX_LINE: usize = 64 * 1024;

/// How far [`line`] looks for a CR byte by byte before it hands over to
/// memchr: a length line is at most 21 bytes.
const SHORT_LINE: usize = 24;

/// Most bytes a reply may take before it is complete: far beyond any
/// session, and a bound on what a broken or hostile server can make the
/// store buffer.
pub(crate) const MAX_REPLY: usize = 64 * 1024 * 1024;

/// Why the bytes are not a reply: the connection cannot be trusted after.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("malformed reply from Redis: {0}")]
pub(crate) struct Malformed(&'static str);

/// One reply from the front of `buf`: `Ok(None)` while it is incomplete,
/// else the reply (a server error as `Err`) and the bytes it took. An
/// incomplete reply longer than [`MAX_REPLY`] is malformed.
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, Malformed> {
    let mut at = 0;
    let reply = if buf.first() == Some(&b'*') {
        match skip(buf, &mut at, 0)? {
            None => None,
            Some(Holds::Values) => Some(Ok(Answer::Array(buf[..at].to_vec()))),
            // An error inside an array (a script's or a transaction's)
            // fails the whole reply: read as values, it comes out as that
            // error.
            Some(Holds::Error) => {
                at = 0;
                value(buf, &mut at, 0)?.map(|r| r.map(Answer::Value))
            }
        }
    } else {
        value(buf, &mut at, 0)?.map(|r| r.map(Answer::Value))
    };
    match reply {
        Some(reply) => Ok(Some((reply, at))),
        None if buf.len() > MAX_REPLY => Err(Malformed("reply too large")),
        None => Ok(None),
    }
}

/// A reply as the connection hands it over.
#[derive(Debug, PartialEq)]
pub(crate) enum Answer {
    /// Anything but an array, read into a value.
    Value(Value),
    /// A whole array reply, as its bytes. The one array the store asks
    /// for is `HGETALL`'s, read by [`strings`] straight from them: one
    /// buffer instead of a value and a buffer per field.
    Array(Vec<u8>),
}

impl Answer {
    /// The reply as a redis-rs value, for replies read as such.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Answer::Value(v) => v,
            // The bytes were read whole by `parse` and hold no error.
            Answer::Array(frame) => match value(&frame, &mut 0, 0) {
                Ok(Some(Ok(v))) => v,
                _ => Value::Nil,
            },
        }
    }
}

/// A reply that may hold a server error.
pub(crate) type Reply = Result<Answer, RedisError>;

/// What a reply walked over by [`skip`] holds.
enum Holds {
    Values,
    Error,
}

/// Walks over one whole reply without building it: `Ok(None)` while it is
/// incomplete. Checks what [`value`] checks.
fn skip(buf: &[u8], at: &mut usize, depth: usize) -> Result<Option<Holds>, Malformed> {
    let Some(line) = line(buf, at)? else {
        return Ok(None);
    };
    let (&kind, rest) = line.split_first().ok_or(Malformed("empty line"))?;
    Ok(Some(match kind {
        b'+' => {
            text(rest)?;
            Holds::Values
        }
        b'-' => Holds::Error,
        b':' => {
            int(rest)?;
            Holds::Values
        }
        b'$' => match bulk(buf, at, rest)? {
            None => return Ok(None),
            Some(_) => Holds::Values,
        },
        b'*' => {
            let mut holds = Holds::Values;
            for _ in 0..array_len(rest, depth)?.unwrap_or(0) {
                match skip(buf, at, depth + 1)? {
                    None => return Ok(None),
                    Some(Holds::Error) => holds = Holds::Error,
                    Some(Holds::Values) => {}
                }
            }
            holds
        }
        _ => return Err(Malformed("unknown reply type")),
    }))
}

/// The bulk strings of an array reply's bytes ([`Answer::Array`]), in
/// order; an item of another kind (nil, an integer, an array) is an
/// `Err`, as are bytes that are not an array.
pub(crate) fn strings(frame: &[u8]) -> Result<Strings<'_>, Malformed> {
    let mut at = 0;
    let line = line(frame, &mut at)?.ok_or(Malformed("incomplete array"))?;
    let left = match line.split_first() {
        Some((b'*', rest)) => array_len(rest, 0)?.ok_or(Malformed("nil array"))?,
        _ => return Err(Malformed("not an array")),
    };
    Ok(Strings { frame, at, left })
}

/// Iterator of [`strings`].
pub(crate) struct Strings<'f> {
    frame: &'f [u8],
    at: usize,
    left: usize,
}

impl<'f> Strings<'f> {
    /// How many items are left.
    pub(crate) fn len(&self) -> usize {
        self.left
    }

    fn item(&mut self) -> Result<&'f [u8], Malformed> {
        let frame = self.frame;
        let incomplete = Malformed("incomplete array");
        match line(frame, &mut self.at)?.ok_or(incomplete)? {
            [b'$', rest @ ..] => bulk(frame, &mut self.at, rest)?
                .ok_or(incomplete)?
                .ok_or(Malformed("nil item")),
            _ => Err(Malformed("not a bulk string")),
        }
    }
}

impl<'f> Iterator for Strings<'f> {
    type Item = Result<&'f [u8], Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = self.item();
        if item.is_err() {
            self.left = 0;
        }
        Some(item)
    }
}

fn value(
    buf: &[u8],
    at: &mut usize,
    depth: usize,
) -> Result<Option<Result<Value, RedisError>>, Malformed> {
    let Some(line) = line(buf, at)? else {
        return Ok(None);
    };
    let (&kind, rest) = line.split_first().ok_or(Malformed("empty line"))?;
    Ok(Some(match kind {
        b'+' => Ok(match rest {
            b"OK" => Value::Okay,
            _ => Value::SimpleString(text(rest)?.to_owned()),
        }),
        b'-' => Err(server_error(line)),
        b':' => Ok(Value::Int(int(rest)?)),
        b'$' => match bulk(buf, at, rest)? {
            None => return Ok(None),
            Some(None) => Ok(Value::Nil),
            Some(Some(bytes)) => Ok(Value::BulkString(bytes.to_vec())),
        },
        b'*' => {
            let Some(len) = array_len(rest, depth)? else {
                return Ok(Some(Ok(Value::Nil)));
            };
            // Not more than the bytes at hand could hold (an item takes at
            // least four), and not many: a bogus length must not reserve
            // memory.
            let mut items = Vec::with_capacity(len.min((buf.len() - *at) / 4).min(1024));
            let mut error = None;
            for _ in 0..len {
                match value(buf, at, depth + 1)? {
                    None => return Ok(None),
                    Some(Ok(item)) => items.push(item),
                    // An error inside an array (a script's or a
                    // transaction's) fails the whole reply.
                    Some(Err(e)) => error = error.or(Some(e)),
                }
            }
            match error {
                Some(e) => Err(e),
                None => Ok(Value::Array(items)),
            }
        }
        _ => return Err(Malformed("unknown reply type")),
    }))
}

/// The body of a bulk string whose length line was `$<rest>`: `Ok(None)`
/// while it is incomplete, `Some(None)` for nil.
fn bulk<'b>(
    buf: &'b [u8],
    at: &mut usize,
    rest: &[u8],
) -> Result<Option<Option<&'b [u8]>>, Malformed> {
    let len = int(rest)?;
    if len == -1 {
        return Ok(Some(None));
    }
    let len = usize::try_from(len)
        .ok()
        .filter(|&n| n <= MAX_BULK)
        .ok_or(Malformed("bulk length"))?;
    let end = *at + len;
    if buf.len() < end + 2 {
        return Ok(None);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(Malformed("bulk string not ended by CRLF"));
    }
    let bytes = &buf[*at..end];
    *at = end + 2;
    Ok(Some(Some(bytes)))
}

/// The length of an array whose length line was `*<rest>` at `depth`;
/// `None` for nil.
fn array_len(rest: &[u8], depth: usize) -> Result<Option<usize>, Malformed> {
    let len = int(rest)?;
    if len == -1 {
        return Ok(None);
    }
    if depth == MAX_DEPTH {
        return Err(Malformed("arrays nested too deep"));
    }
    usize::try_from(len)
        .map(Some)
        .map_err(|_| Malformed("array length"))
}

/// The next CRLF-terminated line (without the CRLF), or `None` if it has
/// not all arrived.
fn line<'b>(buf: &'b [u8], at: &mut usize) -> Result<Option<&'b [u8]>, Malformed> {
    let start = *at;
    let rest = &buf[start..];
    // Length lines are a few bytes: a plain loop finds their CR in fewer
    // instructions than memchr takes to set up its vector search.
    let found = match rest.iter().take(SHORT_LINE).position(|&b| b == b'\r') {
        Some(cr) => Some(cr),
        None if rest.len() > SHORT_LINE => {
            memchr::memchr(b'\r', &rest[SHORT_LINE..]).map(|cr| cr + SHORT_LINE)
        }
        None => None,
    };
    let Some(cr) = found else {
        return if buf.len() - start > MAX_LINE {
            Err(Malformed("line too long"))
        } else {
            Ok(None)
        };
    };
    if cr > MAX_LINE {
        return Err(Malformed("line too long"));
    }
    let end = start + cr;
    match buf.get(end + 1) {
        None => Ok(None),
        Some(b'\n') => {
            *at = end + 2;
            Ok(Some(&buf[start..end]))
        }
        Some(_) => Err(Malformed("CR without LF")),
    }
}

fn text(bytes: &[u8]) -> Result<&str, Malformed> {
    std::str::from_utf8(bytes).map_err(|_| Malformed("status line is not UTF-8"))
}

fn int(bytes: &[u8]) -> Result<i64, Malformed> {
    decimal(bytes).ok_or(Malformed("bad integer"))
}

/// `-?[0-9]+` as an `i64`; `None` for anything else, or on overflow.
/// Read off the bytes: a reply has a length line per value, and going
/// through `str` (a UTF-8 check, then `parse`) doubled its cost.
pub(crate) fn decimal(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, bytes),
    };
    // Nineteen digits never overflow a u64, so the loop needs no checks.
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    if !negative {
        i64::try_from(n).ok()
    } else if n == 1 << 63 {
        Some(i64::MIN)
    } else {
        i64::try_from(n).ok().map(|v| -v)
    }
}

/// The error line (`-CODE detail`) as redis-rs reports it.
fn server_error(line: &[u8]) -> RedisError {
    let mut framed = Vec::with_capacity(line.len() + 2);
    framed.extend_from_slice(line);
    framed.extend_from_slice(b"\r\n");
    match redis::parse_redis_value(&framed).and_then(Value::extract_error) {
        Err(e) => e,
        Ok(_) => RedisError::from((
            redis::ErrorKind::Parse,
            "error reply did not parse as an error",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::{ErrorKind, ServerErrorKind};

    fn whole(bytes: &[u8]) -> Result<Value, RedisError> {
        let (reply, used) = parse(bytes).unwrap().expect("complete");
        assert_eq!(used, bytes.len(), "{bytes:?}");
        reply.map(Answer::into_value)
    }

    #[test]
    fn arrays_come_as_their_bytes_and_read_as_strings() {
        let hash = b"*4\r\n$1\r\nm\r\n$0\r\n\r\n$3\r\nd:a\r\n$4\r\na\r\nb\r\n";
        let mut two = hash.to_vec();
        two.extend_from_slice(b":1\r\n");
        let (reply, used) = parse(&two).unwrap().unwrap();
        assert_eq!(used, hash.len());
        assert_eq!(reply.unwrap(), Answer::Array(hash.to_vec()));
        let items: Vec<&[u8]> = strings(hash).unwrap().map(Result::unwrap).collect();
        assert_eq!(items, [&b"m"[..], b"", b"d:a", b"a\r\nb"]);
        assert_eq!(strings(b"*0\r\n").unwrap().len(), 0);
        // Items that are not bulk strings, and bytes that are not an array.
        for bad in [
            &b"*2\r\n$1\r\nm\r\n:1\r\n"[..],
            b"*1\r\n$-1\r\n",
            b"*1\r\n*0\r\n",
            b"*2\r\n",
        ] {
            let last = strings(bad).unwrap().last().unwrap();
            assert!(last.is_err(), "{bad:?}");
        }
        for bad in [&b"*-1\r\n"[..], b":1\r\n", b"$1\r\nm\r\n", b""] {
            assert!(strings(bad).is_err(), "{bad:?}");
        }
        // Read as a value, the same bytes give redis-rs's array.
        assert_eq!(
            Answer::Array(b"*2\r\n$1\r\nm\r\n:7\r\n".to_vec()).into_value(),
            Value::Array(vec![Value::BulkString(b"m".to_vec()), Value::Int(7)])
        );
    }

    #[test]
    fn reads_the_store_reply_shapes() {
        assert_eq!(whole(b"+OK\r\n").unwrap(), Value::Okay);
        assert_eq!(
            whole(b"+PONG\r\n").unwrap(),
            Value::SimpleString("PONG".into())
        );
        assert_eq!(whole(b":-42\r\n").unwrap(), Value::Int(-42));
        assert_eq!(whole(b"$-1\r\n").unwrap(), Value::Nil);
        assert_eq!(whole(b"*-1\r\n").unwrap(), Value::Nil);
        assert_eq!(
            whole(b"$4\r\na\r\nb\r\n").unwrap(),
            Value::BulkString(b"a\r\nb".to_vec())
        );
        assert_eq!(
            whole(b"*2\r\n$1\r\nm\r\n*1\r\n:1\r\n").unwrap(),
            Value::Array(vec![
                Value::BulkString(b"m".to_vec()),
                Value::Array(vec![Value::Int(1)])
            ])
        );
        assert_eq!(whole(b"*0\r\n").unwrap(), Value::Array(vec![]));
    }

    #[test]
    fn server_errors_keep_their_kind_and_code() {
        let e = whole(b"-NOSCRIPT No matching script\r\n").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Server(ServerErrorKind::NoScript));
        let e = whole(b"-WRONGTYPE Operation against a key\r\n").unwrap_err();
        assert_eq!(e.code(), Some("WRONGTYPE"));
        let e = whole(b"*2\r\n:1\r\n-OOM no memory\r\n").unwrap_err();
        assert_eq!(e.code(), Some("OOM"));
    }

    #[test]
    fn an_incomplete_reply_waits_for_more() {
        let full = b"*2\r\n$3\r\nabc\r\n$2\r\nde\r\n";
        for cut in 0..full.len() {
            assert!(parse(&full[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        // Two replies back to back: the first is read alone.
        let (reply, used) = parse(b":1\r\n:2\r\n").unwrap().unwrap();
        assert_eq!((reply.unwrap(), used), (Answer::Value(Value::Int(1)), 4));
    }

    #[test]
    fn decimals_are_read_exactly() {
        for (text, n) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("42", Some(42)),
            ("007", Some(7)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("18446744073709551616", None),
            ("99999999999999999999", None),
            ("-0", Some(0)),
            ("", None),
            ("-", None),
            ("+1", None),
            ("1-", None),
            (" 1", None),
            ("1a", None),
        ] {
            assert_eq!(decimal(text.as_bytes()), n, "{text:?}");
        }
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in [
            &b"?x\r\n"[..],
            b"\r\n",
            b":12a\r\n",
            b"$3\r\nabcd\r\n",
            b"+OK\rX",
            b"$99999999999999999999\r\n",
            b"$9223372036854775807\r\n",
            b"$-2\r\n",
            b"*-5\r\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = "*1\r\n".repeat(MAX_DEPTH + 1);
        assert!(parse(deep.as_bytes()).is_err());
        // A huge array length with nothing behind it reserves nothing.
        assert!(parse(b"*4611686018427387903\r\n").unwrap().is_none());
        // A line that never ends, or a reply that never completes, is
        // refused once it is past its bound instead of buffered forever.
        assert!(parse(&vec![b'+'; MAX_LINE + 2]).is_err());
        assert!(parse(&[b'+'; 100]).unwrap().is_none());
        let mut endless = b"*2\r\n$536870912\r\n".to_vec();
        endless.resize(MAX_REPLY + 1, b'x');
        assert!(parse(&endless).is_err());
    }
}
