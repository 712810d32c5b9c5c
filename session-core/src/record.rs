//! The stored form of a session, its change set, and its byte encoding.

use std::fmt;
use std::sync::Arc;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{SessionId, Timestamp, ID_CHARS};

mod scan;

/// A value in a session: its JSON text, shared so that copies are cheap.
pub type Value = Arc<str>;

pub use crate::data::Data;

/// The version byte that starts every encoded record.
pub const RECORD_VERSION: u8 = 1;

/// A session as a store keeps it.
///
/// The core computes every field; a store keeps the record until
/// [`keep_until`](Self::keep_until) and never returns it after that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The session's id (server-side stores key the record by it).
    pub id: SessionId,
    /// The handler's data.
    pub data: Data,
    /// Flash values waiting for the next request.
    pub flash: Data,
    /// When the session was first created (kept across `renew`).
    pub created_at: Timestamp,
    /// The session has idled out after this moment.
    pub idle_deadline: Timestamp,
    /// The session ends at this moment whatever its activity, if set.
    pub absolute_deadline: Option<Timestamp>,
    /// The store may drop the record after this moment (TTL). It lies one
    /// grace period past the deadline, so the core can still tell
    /// "timed out" from "unknown".
    pub keep_until: Timestamp,
}

impl Record {
    /// The earlier of the idle and the absolute deadline.
    pub fn deadline(&self) -> Timestamp {
        match self.absolute_deadline {
            Some(abs) => abs.min(self.idle_deadline),
            None => self.idle_deadline,
        }
    }

    /// Whether a store may still return this record at `now`.
    pub fn is_kept_at(&self, now: Timestamp) -> bool {
        now < self.keep_until
    }

    /// Applies a change set, in the order every store must use: clear, then
    /// removals, then sets; flash removals before flash sets. Deadlines are
    /// taken from `from`.
    pub fn apply(&mut self, delta: &Delta, from: &Record) {
        if delta.cleared {
            self.data.clear();
        }
        for key in &delta.removed {
            self.data.remove(key);
        }
        for (key, value) in &delta.set {
            self.data.set(key, value);
        }
        for key in &delta.flash_removed {
            self.flash.remove(key);
        }
        for (key, value) in &delta.flash_set {
            self.flash.set(key, value);
        }
        self.idle_deadline = from.idle_deadline;
        self.absolute_deadline = from.absolute_deadline;
        self.keep_until = from.keep_until;
    }

    /// Encodes the record: the version byte, then a JSON object.
    ///
    /// Format, version 1: `0x01` followed by
    /// `{"i":"<id>","c":<created ms>,"d":<idle deadline ms>,"a":<absolute ms or null>,
    /// "k":<keep-until ms>,"v":{<data>},"f":{<flash>}}`, where data and flash
    /// values are the stored JSON texts. Integers are plain decimal, keys are
    /// JSON strings escaped as `serde_json` escapes them (`"`, `\` and the
    /// control characters below U+0020, nothing else), entries come in key
    /// order and there is no whitespace.
    ///
    /// To append to a buffer of your own, use
    /// [`encode_into`](Self::encode_into).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Appends the encoding, exactly the bytes of [`encode`](Self::encode)
    /// (the version byte, then the JSON body), to `out`.
    ///
    /// Reserves room first only when `out` is short of it: a buffer reused
    /// across calls with at least 4 KiB to spare is written into as it is,
    /// without estimating the record's size.
    ///
    /// ```
    /// use session_core::{Data, Record, SessionId, Timestamp, Value};
    ///
    /// let mut data = Data::new();
    /// data.insert("user \"name\"".into(), Value::from("\"alice\""));
    /// let t = Timestamp::from_unix_millis(-1);
    /// let record = Record {
    ///     id: SessionId::from_bytes([1; 24]),
    ///     data,
    ///     flash: Data::new(),
    ///     created_at: t,
    ///     idle_deadline: t,
    ///     absolute_deadline: Some(t),
    ///     keep_until: t,
    /// };
    /// let mut out = b"prefix:".to_vec();
    /// record.encode_into(&mut out);
    /// assert_eq!(&out[7..], &record.encode()[..]);
    /// assert_eq!(Record::decode(&out[7..])?, record);
    /// # Ok::<(), session_core::DecodeError>(())
    /// ```
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        self.reserve_in(out, 1);
        out.push(RECORD_VERSION);
        self.write_body(out);
    }

    /// Appends the JSON body of the encoding (no version byte) to `out`.
    ///
    /// Reserves room as [`encode_into`](Self::encode_into) does.
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        self.reserve_in(out, 0);
        self.write_body(out);
    }

    /// Makes room in `out` for the encoding plus `extra` bytes, unless it
    /// has plenty to spare already.
    fn reserve_in(&self, out: &mut Vec<u8>, extra: usize) {
        if out.capacity() - out.len() < ROOMY {
            out.reserve(extra + self.body_len_estimate());
        }
    }

    /// Bytes the JSON body takes, or a little more (escaped keys, rare,
    /// only cost a reallocation).
    fn body_len_estimate(&self) -> usize {
        // Punctuation and field names (48, rounded up), the id and four
        // integers of at most 20 characters.
        48 + ID_CHARS + 4 * 20 + data_len(&self.data) + data_len(&self.flash)
    }

    /// Writes the JSON body, without `fmt`: the id and the integers are
    /// written directly, and keys that need no escape are copied as they
    /// are.
    fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"i\":\"");
        out.extend_from_slice(&self.id.chars());
        out.extend_from_slice(b"\",\"c\":");
        write_int(out, self.created_at.unix_millis());
        out.extend_from_slice(b",\"d\":");
        write_int(out, self.idle_deadline.unix_millis());
        out.extend_from_slice(b",\"a\":");
        match self.absolute_deadline {
            Some(a) => write_int(out, a.unix_millis()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"k\":");
        write_int(out, self.keep_until.unix_millis());
        out.extend_from_slice(b",\"v\":");
        write_data(out, &self.data);
        out.extend_from_slice(b",\"f\":");
        write_data(out, &self.flash);
        out.push(b'}');
    }

    /// Decodes bytes made by [`encode`](Self::encode).
    ///
    /// A record of another version is refused with
    /// [`DecodeError::UnknownVersion`], never guessed at.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        match bytes.split_first() {
            None => Err(DecodeError::Empty),
            Some((&RECORD_VERSION, body)) => Self::decode_body(body),
            Some((&v, _)) => Err(DecodeError::UnknownVersion(v)),
        }
    }

    /// Decodes a JSON body made by [`encode_body`](Self::encode_body).
    ///
    /// The body must be a JSON object with exactly the fields of the
    /// format, each once (`"a"` may be left out, meaning `null`); anything
    /// else is [`DecodeError::Json`]. Data and flash values are kept as
    /// their JSON texts, and a key repeated within `"v"` or `"f"` keeps its
    /// last value.
    ///
    /// A body in the form `encode_body` writes (for keys that need no
    /// escape) is read by a strict one-pass scanner without `serde`; any
    /// other body by `serde_json`, collecting each map's raw values
    /// straight into their shared [`Value`]s. Both give the same result for
    /// any body the scanner reads.
    pub fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        let wire: Wire<'_> = match std::str::from_utf8(body) {
            Ok(text) => {
                if let Some(record) = scan::canonical(text) {
                    return Ok(record);
                }
                serde_json::from_str(text)
            }
            // Never a record: `serde_json` says where it goes wrong.
            Err(_) => serde_json::from_slice(body),
        }
        .map_err(DecodeError::Json)?;
        let id = SessionId::parse(wire.i).ok_or(DecodeError::BadId)?;
        Ok(Self {
            id,
            data: wire.v,
            flash: wire.f,
            created_at: Timestamp::from_unix_millis(wire.c),
            idle_deadline: Timestamp::from_unix_millis(wire.d),
            absolute_deadline: wire.a.map(Timestamp::from_unix_millis),
            keep_until: Timestamp::from_unix_millis(wire.k),
        })
    }
}

/// Spare capacity past which [`Record::encode_into`] skips its estimate.
const ROOMY: usize = 4096;

fn data_len(data: &Data) -> usize {
    // Quotes, colon, comma.
    data.iter().map(|(k, v)| k.len() + v.len() + 4).sum()
}

/// Writes `n` in decimal, as `Display` does.
fn write_int(out: &mut Vec<u8>, n: i64) {
    /// "00" to "99".
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut rest = n.unsigned_abs();
    while rest >= 100 {
        // Two digits at a time: `rest % 100` is below 100.
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        // A digit: `rest` is below 10.
        buf[at] = b'0' + rest as u8;
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[at..]);
}

fn write_data(out: &mut Vec<u8>, data: &Data) {
    out.push(b'{');
    for (n, (key, value)) in data.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        // serde_json escapes exactly `"`, `\` and the bytes below 0x20.
        if key.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            // Serializing a str into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, key);
        } else {
            out.push(b'"');
            out.extend_from_slice(key.as_bytes());
            out.push(b'"');
        }
        out.push(b':');
        out.extend_from_slice(value.as_bytes());
    }
    out.push(b'}');
}

/// The JSON body, field for field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire<'a> {
    #[serde(borrow)]
    i: &'a str,
    c: i64,
    d: i64,
    a: Option<i64>,
    k: i64,
    #[serde(deserialize_with = "data")]
    v: Data,
    #[serde(deserialize_with = "data")]
    f: Data,
}

/// Reads a map of raw JSON values straight into [`Data`].
fn data<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Data, D::Error> {
    deserializer.deserialize_map(DataVisitor)
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of session values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(8);
        while let Some((key, raw)) = map.next_entry::<String, &'de RawValue>()? {
            entries.push((key, Value::from(raw.get())));
        }
        Ok(collect_data(entries))
    }
}

/// Builds a map from its entries in input order.
fn collect_data(entries: Vec<(String, Value)>) -> Data {
    // Encoded maps are sorted, so this is a linear check and one bulk
    // build. A repeated key keeps its last value (the sort is stable), as
    // map inserts do.
    entries.into_iter().collect()
}

/// Why stored bytes are not a record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// No bytes at all.
    #[error("empty record")]
    Empty,
    /// The version byte is not one this build knows.
    #[error("unknown record version {0}")]
    UnknownVersion(u8),
    /// The body is not the expected JSON.
    #[error("malformed record body")]
    Json(#[source] serde_json::Error),
    /// The id inside is not a valid session id.
    #[error("malformed session id in record")]
    BadId,
}

/// What a request changed, so that a server-side store can merge it with
/// changes made meanwhile by other requests of the same session.
///
/// Apply in this order: `cleared`, `removed`, `set`, then `flash_removed`,
/// `flash_set` (see [`Record::apply`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// All data keys were dropped before the sets below.
    pub cleared: bool,
    /// Keys set, with their new values.
    pub set: Vec<(String, Value)>,
    /// Keys removed.
    pub removed: Vec<String>,
    /// Flash keys set for the next request.
    pub flash_set: Vec<(String, Value)>,
    /// Flash keys consumed by this request.
    pub flash_removed: Vec<String>,
}

impl Delta {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.cleared
            && self.set.is_empty()
            && self.removed.is_empty()
            && self.flash_set.is_empty()
            && self.flash_removed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        let mut data = Data::new();
        data.insert("user".into(), Value::from("\"al\\\"ice\""));
        data.insert("n".into(), Value::from("42"));
        data.insert("odd \"key\"\n".into(), Value::from("{\"a\":[1,2]}"));
        let mut flash = Data::new();
        flash.insert("notice".into(), Value::from("\"hi\""));
        Record {
            id: SessionId::from_bytes([3; 24]),
            data,
            flash,
            created_at: Timestamp::from_unix_millis(1),
            idle_deadline: Timestamp::from_unix_millis(2),
            absolute_deadline: Some(Timestamp::from_unix_millis(3)),
            keep_until: Timestamp::from_unix_millis(4),
        }
    }

    #[test]
    fn encoding_round_trips() {
        let r = sample();
        assert_eq!(Record::decode(&r.encode()).unwrap(), r);
        let mut r2 = r;
        r2.absolute_deadline = None;
        r2.data.clear();
        assert_eq!(Record::decode(&r2.encode()).unwrap(), r2);
    }

    #[test]
    fn encode_into_appends_and_reuses_the_buffer() {
        let r = sample();
        let encoded = r.encode();
        assert_eq!(encoded[0], RECORD_VERSION);
        let mut body = Vec::new();
        r.encode_body(&mut body);
        assert_eq!(body, encoded[1..]);
        assert_eq!(Record::decode_body(&body).unwrap(), r);

        let mut out = vec![0xAA];
        r.encode_into(&mut out);
        assert_eq!(out[0], 0xAA);
        assert_eq!(out[1..], encoded[..]);
        // A roomy buffer is written into without growing.
        let mut roomy = Vec::with_capacity(2 * ROOMY);
        let capacity = roomy.capacity();
        r.encode_into(&mut roomy);
        assert_eq!(roomy, encoded);
        assert_eq!(roomy.capacity(), capacity);
        // A fresh one is reserved for once, and big enough.
        let mut fresh = Vec::new();
        r.encode_into(&mut fresh);
        assert_eq!(fresh, encoded);
        assert!(
            fresh.capacity() > r.body_len_estimate(),
            "version byte and body"
        );
    }

    #[test]
    fn writes_integers_as_display_does() {
        let mut ns = vec![i64::MAX, i64::MIN, i64::MIN + 1, 1_750_000_000_000];
        let mut p: i64 = 1;
        for _ in 0..19 {
            ns.extend([p - 1, p, p + 1, 2 * p, 5 * p - 1, 9 * p + 9]);
            p = p.saturating_mul(10);
        }
        for n in (-1000..=1000).chain(ns.iter().flat_map(|&n| [n, n.saturating_neg()])) {
            let mut out = vec![b'x'];
            write_int(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), format!("x{n}"));
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        let id = SessionId::from_bytes([0; 24]);
        let body =
            format!(r#"{{"i":"{id}","c":1,"d":2,"a":7,"k":3,"v":{{"b":1,"a":2,"a":3}},"f":{{}}}}"#);
        let r = Record::decode_body(body.as_bytes()).unwrap();
        assert_eq!(r.data.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(r.data["a"].as_ref(), "3");
        assert_eq!(r.data["b"].as_ref(), "1");
    }

    #[test]
    fn unknown_version_is_refused() {
        let mut bytes = sample().encode();
        bytes[0] = 2;
        assert!(matches!(
            Record::decode(&bytes),
            Err(DecodeError::UnknownVersion(2))
        ));
        assert!(matches!(Record::decode(&[]), Err(DecodeError::Empty)));
        assert!(matches!(
            Record::decode(b"\x01{\"i\":1}"),
            Err(DecodeError::Json(_))
        ));
    }

    #[test]
    fn apply_follows_the_documented_order() {
        let mut r = sample();
        let from = Record {
            idle_deadline: Timestamp::from_unix_millis(99),
            ..sample()
        };
        let delta = Delta {
            cleared: true,
            set: vec![("a".into(), Value::from("1"))],
            removed: vec!["n".into()],
            flash_set: vec![("x".into(), Value::from("2"))],
            flash_removed: vec!["notice".into()],
        };
        r.apply(&delta, &from);
        assert_eq!(r.data.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(r.flash.keys().collect::<Vec<_>>(), ["x"]);
        assert_eq!(r.idle_deadline, Timestamp::from_unix_millis(99));
    }
}
