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

fn parse_meta(text: &str) -> Result<Meta, Corrupt> {
    let mut parts = text.split(' ');
    match parts.next() {
        Some(LAYOUT_VERSION) => {}
        Some(other) => return Err(Corrupt::UnknownVersion(other.chars().take(16).collect())),
        None => return Err(Corrupt::BadMeta),
    }
    let mut millis = || -> Result<Option<Timestamp>, Corrupt> {
        match parts.next() {
            Some("-") => Ok(None),
            Some(n) => n
                .parse()
                .map(|ms| Some(Timestamp::from_unix_millis(ms)))
                .map_err(|_| Corrupt::BadMeta),
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

/// Reads an `HGETALL` reply. `Ok(None)` is a missing key (the empty hash).
pub(crate) fn decode(id: SessionId, reply: Reply) -> Result<Option<Record>, Corrupt> {
    let pairs = match reply {
        // RESP2 sends a flat array of field, value, field, value…
        Reply::Array(items) if items.len() % 2 == 0 => {
            let mut items = items.into_iter();
            let mut pairs = Vec::with_capacity(items.len() / 2);
            while let (Some(f), Some(v)) = (items.next(), items.next()) {
                pairs.push((f, v));
            }
            pairs
        }
        Reply::Map(pairs) => pairs,
        _ => return Err(Corrupt::NotAHash),
    };
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut meta = None;
    let mut data = Data::new();
    let mut flash = Data::new();
    for (field, value) in pairs {
        let (Reply::BulkString(field), Reply::BulkString(value)) = (field, value) else {
            return Err(Corrupt::NotAHash);
        };
        let field = String::from_utf8(field).map_err(|_| Corrupt::NotUtf8)?;
        let value = String::from_utf8(value).map_err(|_| Corrupt::NotUtf8)?;
        if field == META_FIELD {
            meta = Some(parse_meta(&value)?);
        } else if let Some(key) = field.strip_prefix(DATA_PREFIX) {
            data.insert(key.to_owned(), json(value)?);
        } else if let Some(key) = field.strip_prefix(FLASH_PREFIX) {
            flash.insert(key.to_owned(), json(value)?);
        } else {
            return Err(Corrupt::UnknownField);
        }
    }
    let meta = meta.ok_or(Corrupt::NoMeta)?;
    Ok(Some(Record {
        id,
        data,
        flash,
        created_at: meta.created_at,
        idle_deadline: meta.idle_deadline,
        absolute_deadline: meta.absolute_deadline,
        keep_until: meta.keep_until,
    }))
}

/// A stored value goes to the core only if it is JSON, as the core's own
/// values always are: anything else was not written by this store.
fn json(text: String) -> Result<Value, Corrupt> {
    serde_json::from_str::<&RawValue>(&text).map_err(|_| Corrupt::NotJson)?;
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
            Reply::Array(vec![
                bulk("m"),
                bulk(&meta(r)),
                bulk("d:user"),
                bulk("\"alice\""),
                bulk("f:n"),
                bulk("1"),
            ])
        };
        assert_eq!(decode(r.id, reply(&r)).unwrap(), Some(r.clone()));
        r.absolute_deadline = Some(Timestamp::from_unix_millis(30));
        assert_eq!(meta(&r), "1 10 20 30 40");
        assert_eq!(decode(r.id, reply(&r)).unwrap(), Some(r));
    }

    #[test]
    fn empty_reply_is_missing() {
        let id = SessionId::from_bytes([1; 24]);
        assert!(decode(id, Reply::Array(vec![])).unwrap().is_none());
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
            (vec!["m", "1 1 2 - 3", "x", "1"], "field"),
            (vec!["m", "1 1 2 - 3", "d:a", "{not json"], "json"),
        ];
        for (fields, why) in cases {
            let reply = Reply::Array(fields.into_iter().map(bulk).collect());
            assert!(decode(id, reply).is_err(), "{why}");
        }
        let odd = Reply::Array(vec![bulk("m")]);
        assert!(decode(id, odd).is_err());
        let bytes = Reply::Array(vec![bulk("m"), Reply::BulkString(vec![0xff, 0xfe])]);
        assert!(matches!(decode(id, bytes), Err(Corrupt::NotUtf8)));
    }
}
