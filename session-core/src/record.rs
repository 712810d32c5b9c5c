//! The stored form of a session, its change set, and its byte encoding.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{SessionId, Timestamp};

/// A value in a session: its JSON text, shared so that copies are cheap.
pub type Value = Arc<str>;

/// A session's data: string keys to JSON values.
pub type Data = BTreeMap<String, Value>;

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
            self.data.insert(key.clone(), value.clone());
        }
        for key in &delta.flash_removed {
            self.flash.remove(key);
        }
        for (key, value) in &delta.flash_set {
            self.flash.insert(key.clone(), value.clone());
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
    /// values are the stored JSON texts.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + data_len(&self.data) + data_len(&self.flash));
        out.push(RECORD_VERSION);
        self.encode_body(&mut out);
        out
    }

    /// Writes the JSON body of the encoding (no version byte) into `out`.
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        // Writing into a Vec cannot fail.
        let _ = write!(
            out,
            "{{\"i\":\"{}\",\"c\":{},\"d\":{},\"a\":",
            self.id,
            self.created_at.unix_millis(),
            self.idle_deadline.unix_millis()
        );
        let _ = match self.absolute_deadline {
            Some(a) => write!(out, "{}", a.unix_millis()),
            None => write!(out, "null"),
        };
        let _ = write!(out, ",\"k\":{},\"v\":", self.keep_until.unix_millis());
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
    pub fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire<'a> {
            #[serde(borrow)]
            i: &'a str,
            c: i64,
            d: i64,
            a: Option<i64>,
            k: i64,
            #[serde(borrow)]
            v: BTreeMap<String, &'a RawValue>,
            #[serde(borrow)]
            f: BTreeMap<String, &'a RawValue>,
        }
        let wire: Wire<'_> = serde_json::from_slice(body).map_err(DecodeError::Json)?;
        let id = SessionId::parse(wire.i).ok_or(DecodeError::BadId)?;
        let conv = |m: BTreeMap<String, &RawValue>| -> Data {
            m.into_iter()
                .map(|(k, v)| (k, Value::from(v.get())))
                .collect()
        };
        Ok(Self {
            id,
            data: conv(wire.v),
            flash: conv(wire.f),
            created_at: Timestamp::from_unix_millis(wire.c),
            idle_deadline: Timestamp::from_unix_millis(wire.d),
            absolute_deadline: wire.a.map(Timestamp::from_unix_millis),
            keep_until: Timestamp::from_unix_millis(wire.k),
        })
    }
}

fn data_len(data: &Data) -> usize {
    data.iter().map(|(k, v)| k.len() + v.len() + 4).sum()
}

fn write_data(out: &mut Vec<u8>, data: &Data) {
    out.push(b'{');
    for (n, (key, value)) in data.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        // Serializing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, key);
        out.push(b':');
        out.extend_from_slice(value.as_bytes());
    }
    out.push(b'}');
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
