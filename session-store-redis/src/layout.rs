//! The data layout: one Redis hash per session.
//!
//! | field | value |
//! |---|---|
//! | `m` | meta: `1 <created> <idle deadline> <absolute deadline or -> <keep until>` (unix ms; `1` is the layout version) |
//! | `d:<key>` | the JSON text of data value `<key>` |
//! | `f:<key>` | the JSON text of flash value `<key>` |
//!
//! One field per value is what lets a script apply a [`Delta`] in place, so
//! two requests that change different keys both keep their change.

use redis::Value as Reply;
use serde_json::value::RawValue;
use session_core::{Data, Delta, Record, SessionId, Timestamp, Value};

use crate::resp::Command;
use crate::wire::{self, Answer};

/// The hash field holding the meta line.
pub(crate) const META_FIELD: &str = "m";
/// The prefix of data fields.
pub(crate) const DATA_PREFIX: &str = "d:";
/// The prefix of flash fields.
pub(crate) const FLASH_PREFIX: &str = "f:";
/// The version that starts every meta line.
pub(crate) const LAYOUT_VERSION: &str = "1";

/// Why a stored value is not a session this build can read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Corrupt {
    #[error("the reply is not a hash")]
    NotAHash,
    #[error("the hash has no meta field")]
    NoMeta,
    #[error("unknown layout version {0:?}")]
    UnknownVersion(String),
    #[error("malformed meta field")]
    BadMeta,
    #[error("unexpected field in the hash")]
    UnknownField,
    #[error("a field or value is not UTF-8")]
    NotUtf8,
    #[error("a value is not JSON")]
    NotJson,
}

/// Appends the meta line of `record`:
/// `<version> <created> <idle deadline> <absolute deadline or -> <keep until>`.
pub(crate) fn write_meta(record: &Record, out: &mut Vec<u8>) {
    out.extend_from_slice(LAYOUT_VERSION.as_bytes());
    let mut digits = itoa::Buffer::new();
    for t in [
        Some(record.created_at),
        Some(record.idle_deadline),
        record.absolute_deadline,
        Some(record.keep_until),
    ] {
        out.push(b' ');
        match t {
            Some(t) => out.extend_from_slice(digits.format(t.unix_millis()).as_bytes()),
            None => out.push(b'-'),
        }
    }
}

/// The meta line of `record`, as text.
#[cfg(test)]
fn meta(record: &Record) -> String {
    let mut out = Vec::new();
    write_meta(record, &mut out);
    String::from_utf8(out).expect("ASCII")
}

struct Meta {
    created_at: Timestamp,
    idle_deadline: Timestamp,
    absolute_deadline: Option<Timestamp>,
    keep_until: Timestamp,
}

/// Reads a meta line. On bytes, not text: it is ASCII digits and spaces,
/// and splitting a `str` and parsing each number cost a Redis read about
/// 1 000 instructions.
fn parse_meta(line: &[u8]) -> Result<Meta, Corrupt> {
    let mut parts = line.split(|&b| b == b' ');
    match parts.next() {
        Some(v) if v == LAYOUT_VERSION.as_bytes() => {}
        Some(other) => {
            let shown = &other[..other.len().min(16)];
            return Err(Corrupt::UnknownVersion(
                String::from_utf8_lossy(shown).into_owned(),
            ));
        }
        None => return Err(Corrupt::BadMeta),
    }
    let mut millis = || -> Result<Option<Timestamp>, Corrupt> {
        match parts.next() {
            Some(b"-") => Ok(None),
            Some(n) => crate::wire::decimal(n)
                .map(|ms| Some(Timestamp::from_unix_millis(ms)))
                .ok_or(Corrupt::BadMeta),
            None => Err(Corrupt::BadMeta),
        }
    };
    let created_at = millis()?.ok_or(Corrupt::BadMeta)?;
    let idle_deadline = millis()?.ok_or(Corrupt::BadMeta)?;
    let absolute_deadline = millis()?;
    let keep_until = millis()?.ok_or(Corrupt::BadMeta)?;
    if parts.next().is_some() {
        return Err(Corrupt::BadMeta);
    }
    Ok(Meta {
        created_at,
        idle_deadline,
        absolute_deadline,
        keep_until,
    })
}

/// A record's parts, filled field by field.
#[derive(Default)]
struct Fields {
    meta: Option<Meta>,
    data: Data,
    flash: Data,
}

impl Fields {
    fn take(&mut self, field: &[u8], value: &[u8]) -> Result<(), Corrupt> {
        if field == META_FIELD.as_bytes() {
            self.meta = Some(parse_meta(value)?);
        } else if let Some(key) = field.strip_prefix(DATA_PREFIX.as_bytes()) {
            self.data.insert(text(key)?.to_owned(), json(value)?);
        } else if let Some(key) = field.strip_prefix(FLASH_PREFIX.as_bytes()) {
            self.flash.insert(text(key)?.to_owned(), json(value)?);
        } else {
            return Err(Corrupt::UnknownField);
        }
        Ok(())
    }
}

fn text(bytes: &[u8]) -> Result<&str, Corrupt> {
    std::str::from_utf8(bytes).map_err(|_| Corrupt::NotUtf8)
}

/// Reads an `HGETALL` reply. `Ok(None)` is a missing key (the empty hash).
pub(crate) fn decode(id: SessionId, reply: &Answer) -> Result<Option<Record>, Corrupt> {
    let mut fields = Fields::default();
    match reply {
        // RESP2 sends a flat array of field, value, field, value…, which
        // a single node's connection hands over as its bytes.
        Answer::Array(frame) => {
            let mut items = wire::strings(frame).map_err(|_| Corrupt::NotAHash)?;
            if items.len() % 2 != 0 {
                return Err(Corrupt::NotAHash);
            }
            while let (Some(f), Some(v)) = (items.next(), items.next()) {
                let (Ok(f), Ok(v)) = (f, v) else {
                    return Err(Corrupt::NotAHash);
                };
                fields.take(f, v)?;
            }
        }
        // The cluster client's values: the same flat array, or a map.
        Answer::Value(Reply::Array(items)) if items.len() % 2 == 0 => {
            for pair in items.chunks_exact(2) {
                fields.take(bulk_bytes(&pair[0])?, bulk_bytes(&pair[1])?)?;
            }
        }
        Answer::Value(Reply::Map(pairs)) => {
            for (f, v) in pairs {
                fields.take(bulk_bytes(f)?, bulk_bytes(v)?)?;
            }
        }
        _ => return Err(Corrupt::NotAHash),
    }
    // Every field taken fills one of the three: none is the empty hash.
    if fields.meta.is_none() && fields.data.is_empty() && fields.flash.is_empty() {
        return Ok(None);
    }
    let meta = fields.meta.ok_or(Corrupt::NoMeta)?;
    Ok(Some(Record {
        id,
        data: fields.data,
        flash: fields.flash,
        created_at: meta.created_at,
        idle_deadline: meta.idle_deadline,
        absolute_deadline: meta.absolute_deadline,
        keep_until: meta.keep_until,
    }))
}

fn bulk_bytes(value: &Reply) -> Result<&[u8], Corrupt> {
    match value {
        Reply::BulkString(bytes) => Ok(bytes),
        _ => Err(Corrupt::NotAHash),
    }
}

/// A stored value goes to the core only if it is JSON, as the core's own
/// values always are: anything else was not written by this store.
fn json(bytes: &[u8]) -> Result<Value, Corrupt> {
    let text = text(bytes)?;
    serde_json::from_str::<&RawValue>(text).map_err(|_| Corrupt::NotJson)?;
    Ok(Value::from(text))
}

/// Appends the hash field of `key` under `prefix`.
fn field<'c>(cmd: &'c mut Command, prefix: &str, key: &str) -> &'c mut Command {
    cmd.arg_parts(&[prefix.as_bytes(), key.as_bytes()])
}

/// Arguments of the create script: meta, keep-until, then field/value pairs.
pub(crate) fn create_args(cmd: &mut Command, record: &Record) {
    cmd.arg_with(|out| write_meta(record, out))
        .arg_int(record.keep_until.unix_millis());
    for (key, value) in &record.data {
        field(cmd, DATA_PREFIX, key).arg(value.as_bytes());
    }
    for (key, value) in &record.flash {
        field(cmd, FLASH_PREFIX, key).arg(value.as_bytes());
    }
}

/// Arguments of the update script: meta, keep-until, cleared flag, the
/// number of fields to delete, those fields, then field/value pairs to set.
///
/// Data and flash fields live in disjoint namespaces (`d:` and `f:`), so
/// deleting all removals before all sets keeps the order of
/// [`Record::apply`].
pub(crate) fn update_args(cmd: &mut Command, record: &Record, delta: &Delta) {
    let removed = delta.removed.len() + delta.flash_removed.len();
    cmd.arg_with(|out| write_meta(record, out))
        .arg_int(record.keep_until.unix_millis())
        .arg(if delta.cleared { b"1" } else { b"0" })
        .arg_int(removed as i64);
    for key in &delta.removed {
        field(cmd, DATA_PREFIX, key);
    }
    for key in &delta.flash_removed {
        field(cmd, FLASH_PREFIX, key);
    }
    for (key, value) in &delta.set {
        field(cmd, DATA_PREFIX, key).arg(value.as_bytes());
    }
    for (key, value) in &delta.flash_set {
        field(cmd, FLASH_PREFIX, key).arg(value.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::BulkString(s.as_bytes().to_vec())
    }

    /// `items` as RESP bytes: an array of bulk strings.
    fn frame(items: &[Reply]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", items.len()).into_bytes();
        for item in items {
            let Reply::BulkString(bytes) = item else {
                panic!("bulk strings only")
            };
            out.extend_from_slice(format!("${}\r\n", bytes.len()).as_bytes());
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// Decodes `items` both ways the store receives them, as a single
    /// node's bytes and as the cluster client's values, which must agree.
    fn decode_both(id: SessionId, items: Vec<Reply>) -> Result<Option<Record>, Corrupt> {
        let framed = decode(id, &Answer::Array(frame(&items)));
        let valued = decode(id, &Answer::Value(Reply::Array(items)));
        assert_eq!(format!("{framed:?}"), format!("{valued:?}"));
        framed
    }

    fn record() -> Record {
        let mut data = Data::new();
        data.insert("user".into(), Value::from("\"alice\""));
        let mut flash = Data::new();
        flash.insert("n".into(), Value::from("1"));
        Record {
            id: SessionId::from_bytes([1; 24]),
            data,
            flash,
            created_at: Timestamp::from_unix_millis(10),
            idle_deadline: Timestamp::from_unix_millis(20),
            absolute_deadline: None,
            keep_until: Timestamp::from_unix_millis(40),
        }
    }

    #[test]
    fn meta_round_trips() {
        let mut r = record();
        let reply = |r: &Record| {
            vec![
                bulk("m"),
                bulk(&meta(r)),
                bulk("d:user"),
                bulk("\"alice\""),
                bulk("f:n"),
                bulk("1"),
            ]
        };
        assert_eq!(decode_both(r.id, reply(&r)).unwrap(), Some(r.clone()));
        r.absolute_deadline = Some(Timestamp::from_unix_millis(30));
        assert_eq!(meta(&r), "1 10 20 30 40");
        assert_eq!(decode_both(r.id, reply(&r)).unwrap(), Some(r));
    }

    #[test]
    fn empty_reply_is_missing() {
        let id = SessionId::from_bytes([1; 24]);
        assert!(decode_both(id, vec![]).unwrap().is_none());
    }

    #[test]
    fn garbage_is_refused() {
        let id = SessionId::from_bytes([1; 24]);
        let cases = [
            (vec!["d:a", "1"], "no meta"),
            (vec!["m", "2 1 2 - 3"], "version"),
            (vec!["m", "1 1 2 - x"], "meta"),
            (vec!["m", "1 1 2 -"], "meta"),
            (vec!["m", "1 1 2 - 3 4"], "meta"),
            (vec!["m", "1 1 2 - +3"], "meta"),
            (vec!["m", "1 1 2 - 99999999999999999999"], "meta"),
            (vec!["m", "1 1  2 - 3"], "meta"),
            (vec!["m", ""], "meta"),
            (vec!["m", "1 1 2 - 3", "x", "1"], "field"),
            (vec!["m", "1 1 2 - 3", "d:a", "{not json"], "json"),
        ];
        for (fields, why) in cases {
            let reply = fields.into_iter().map(bulk).collect();
            assert!(decode_both(id, reply).is_err(), "{why}");
        }
        assert!(decode_both(id, vec![bulk("m")]).is_err(), "odd");
        let bytes = vec![bulk("m"), Reply::BulkString(vec![0xff, 0xfe])];
        assert!(matches!(
            decode_both(id, bytes),
            Err(Corrupt::UnknownVersion(_))
        ));
        let meta = bulk("1 1 2 - 3");
        let value = vec![
            bulk("m"),
            meta.clone(),
            bulk("d:a"),
            Reply::BulkString(vec![b'"', 0xff, b'"']),
        ];
        assert!(matches!(decode_both(id, value), Err(Corrupt::NotUtf8)));
        let key = vec![
            bulk("m"),
            meta,
            Reply::BulkString(vec![b'f', b':', 0xff]),
            bulk("1"),
        ];
        assert!(matches!(decode_both(id, key), Err(Corrupt::NotUtf8)));
        // Items that are not bulk strings, and replies that are not arrays.
        let not_a_hash = [
            Answer::Array(b"*2\r\n$1\r\nm\r\n:1\r\n".to_vec()),
            Answer::Array(b"*2\r\n$1\r\nm\r\n$-1\r\n".to_vec()),
            Answer::Value(Reply::Array(vec![bulk("m"), Reply::Int(1)])),
            Answer::Value(Reply::Int(1)),
            Answer::Value(Reply::Nil),
        ];
        for reply in not_a_hash {
            assert!(
                matches!(decode(id, &reply), Err(Corrupt::NotAHash)),
                "{reply:?}"
            );
        }
    }
}
