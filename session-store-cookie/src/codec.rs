//! A faster writer and a one-pass reader for the record encoding of
//! `session-core` (`Record::encode` / `Record::decode`), byte for byte the
//! same format.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use session_core::{Data, DecodeError, Record, SessionId, Timestamp, Value, RECORD_VERSION};

/// Appends exactly the bytes of [`Record::encode`] (the version byte, then
/// the JSON body) to `out`.
///
/// `Record::encode` goes through `fmt` for the id and the timestamps; this
/// writes them directly and copies keys that need no JSON escape as they
/// are (keys that do are escaped by `serde_json`, as `Record::encode`
/// does). The store seals what this writes.
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
/// let mut out = Vec::new();
/// session_store_cookie::encode_record(&record, &mut out);
/// assert_eq!(out, record.encode());
/// ```
pub fn encode_record(record: &Record, out: &mut Vec<u8>) {
    // A reused buffer with room for any cookie skips the estimate.
    if out.capacity() - out.len() < crate::MAX_COOKIE_BYTES {
        out.reserve(encoded_len_estimate(record) + 16);
    }
    out.push(RECORD_VERSION);
    out.extend_from_slice(b"{\"i\":\"");
    let mut id = [0u8; session_core::ID_CHARS];
    // 24 bytes always encode to exactly 32 characters.
    let n = URL_SAFE_NO_PAD
        .encode_slice(record.id.as_bytes(), &mut id)
        .unwrap_or(0);
    out.extend_from_slice(&id[..n]);
    out.extend_from_slice(b"\",\"c\":");
    write_int(out, record.created_at.unix_millis());
    out.extend_from_slice(b",\"d\":");
    write_int(out, record.idle_deadline.unix_millis());
    out.extend_from_slice(b",\"a\":");
    match record.absolute_deadline {
        Some(a) => write_int(out, a.unix_millis()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"k\":");
    write_int(out, record.keep_until.unix_millis());
    out.extend_from_slice(b",\"v\":");
    write_data(out, &record.data);
    out.extend_from_slice(b",\"f\":");
    write_data(out, &record.flash);
    out.push(b'}');
}

/// Bytes [`encode_record`] needs, or a little more.
fn encoded_len_estimate(record: &Record) -> usize {
    // Version, punctuation, the id and four 20-character integers.
    let fixed = 1 + 48 + session_core::ID_CHARS + 4 * 20;
    fixed + data_len(&record.data) + data_len(&record.flash)
}

fn data_len(data: &Data) -> usize {
    // Quotes, colon, comma; escapes are rare and only cost a reallocation.
    data.iter().map(|(k, v)| k.len() + v.len() + 4).sum()
}

fn write_int(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
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
        // serde_json escapes exactly `"`, `\\` and the bytes below 0x20.
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

/// Decodes bytes made by [`Record::encode`], exactly as [`Record::decode`]
/// does (same format, same errors, same result), in one pass.
///
/// `Record::decode` first collects each map into a `BTreeMap<String,
/// &RawValue>` and then rebuilds it as [`Data`]; this decoder collects the
/// borrowed raw values straight into their final `Arc<str>` and builds the
/// map once from the sorted entries, which is what makes opening a cookie
/// cheap. The store opens every cookie with it.
///
/// ```
/// use session_core::{Data, Record, SessionId, Timestamp, Value};
///
/// let mut data = Data::new();
/// data.insert("user".into(), Value::from("\"alice\""));
/// let t = Timestamp::from_unix_millis(1_000);
/// let record = Record {
///     id: SessionId::from_bytes([1; 24]),
///     data,
///     flash: Data::new(),
///     created_at: t,
///     idle_deadline: t,
///     absolute_deadline: None,
///     keep_until: t,
/// };
/// let bytes = record.encode();
/// assert_eq!(session_store_cookie::decode_record(&bytes)?, record);
/// # Ok::<(), session_core::DecodeError>(())
/// ```
pub fn decode_record(bytes: &[u8]) -> Result<Record, DecodeError> {
    match bytes.split_first() {
        None => Err(DecodeError::Empty),
        Some((&RECORD_VERSION, body)) => decode_body(body),
        Some((&v, _)) => Err(DecodeError::UnknownVersion(v)),
    }
}

/// The JSON body, field for field as `Record::decode_body` reads it.
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

fn decode_body(body: &[u8]) -> Result<Record, DecodeError> {
    let wire: Wire<'_> = serde_json::from_slice(body).map_err(DecodeError::Json)?;
    let id = SessionId::parse(wire.i).ok_or(DecodeError::BadId)?;
    Ok(Record {
        id,
        data: wire.v,
        flash: wire.f,
        created_at: Timestamp::from_unix_millis(wire.c),
        idle_deadline: Timestamp::from_unix_millis(wire.d),
        absolute_deadline: wire.a.map(Timestamp::from_unix_millis),
        keep_until: Timestamp::from_unix_millis(wire.k),
    })
}

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
        // Encoded maps are sorted, so this is a linear check and one bulk
        // build. A repeated key keeps its last value, as map inserts do.
        Ok(entries.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encodes_alike(record: &Record) {
        let mut out = Vec::new();
        encode_record(record, &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&record.encode())
        );
    }

    #[test]
    fn writes_the_core_encoding() {
        let mut data = Data::new();
        for key in [
            "",
            "plain",
            "é ü",
            "q\"uote",
            "back\\slash",
            "\u{0}\u{1f}\n\t\u{7f}",
            "/",
        ] {
            data.insert(key.to_owned(), Value::from("[1,\"x\"]"));
        }
        for (t, a) in [
            (0, None),
            (i64::MIN, Some(i64::MAX)),
            (-1, Some(-10)),
            (9, Some(1_750_000_000_000)),
        ] {
            let ts = Timestamp::from_unix_millis;
            let record = Record {
                id: SessionId::from_bytes([0xfb; 24]),
                data: data.clone(),
                flash: data.clone(),
                created_at: ts(t),
                idle_deadline: ts(t.wrapping_add(1)),
                absolute_deadline: a.map(ts),
                keep_until: ts(t.wrapping_sub(1)),
            };
            encodes_alike(&record);
            encodes_alike(&Record {
                data: Data::new(),
                flash: Data::new(),
                ..record
            });
        }
    }

    fn same(bytes: &[u8]) {
        let ours = decode_record(bytes);
        let core = Record::decode(bytes);
        match (&ours, &core) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(
                std::mem::discriminant(a),
                std::mem::discriminant(b),
                "{a:?} vs {b:?}"
            ),
            _ => panic!("decoders disagree on {bytes:?}: {ours:?} vs {core:?}"),
        }
    }

    const ID: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn agrees_with_the_core_decoder() {
        let body = |rest: &str| format!("\u{1}{{\"i\":\"{ID}\",\"c\":1,\"d\":2,{rest}}}");
        for case in [
            body(r#""a":null,"k":3,"v":{"b":1,"a":"x"},"f":{}"#),
            body(r#""a":7,"k":3,"v":{"a":1,"a":2},"f":{"n":{"x":[1,{"y":"]"}]}}"#),
            body(r#""k":3,"v":{},"f":{}"#),
            body(r#""a":null,"k":3,"v":{"é\n\"":" 1 "},"f":{}"#),
            body(r#""a":null,"k":3,"v":{},"f":{},"z":1"#),
            body(r#""a":null,"k":3,"v":[],"f":{}"#),
            body(r#""a":null,"k":3,"v":{"a":},"f":{}"#),
            body(r#""a":null,"k":3.5,"v":{},"f":{}"#),
            body(r#""a":null,"k":3,"v":{},"f":{},"v":{}"#),
            body(r#""a":null,"k":3,"f":{}"#),
            "\u{1}{\"i\":\"short\",\"c\":1,\"d\":2,\"a\":null,\"k\":3,\"v\":{},\"f\":{}}".to_owned(),
            format!("\u{1}{{\"i\":\"{}\\u0041\",\"c\":1,\"d\":2,\"a\":null,\"k\":3,\"v\":{{}},\"f\":{{}}}}", &ID[1..]),
            "\u{2}{}".to_owned(),
            "\u{1}".to_owned(),
            "\u{1}{\"i\":1}".to_owned(),
            String::new(),
        ] {
            same(case.as_bytes());
        }
        same(b"\x01{\"i\":\"\xff\"}");

        // The cases that decode, decode as the format says.
        let r = decode_record(body(r#""a":7,"k":3,"v":{"b":1,"a":2,"a":3},"f":{}"#).as_bytes())
            .expect("valid");
        assert_eq!(r.data.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            r.data["a"].as_ref(),
            "3",
            "a repeated key keeps its last value"
        );
        assert_eq!(r.absolute_deadline, Some(Timestamp::from_unix_millis(7)));
        let r = decode_record(body(r#""k":3,"v":{},"f":{}"#).as_bytes()).expect("valid");
        assert_eq!(r.absolute_deadline, None);
        let r = decode_record(body(r#""a":null,"k":3,"v":{"\u00e9\n":" 1 "},"f":{}"#).as_bytes())
            .expect("valid");
        assert_eq!(r.data["é\n"].as_ref(), "\" 1 \"");
    }
}
