//! The sealed plaintext: a record in a compact binary form.
//!
//! Sealed, the record is read by nobody but this store, so it need not be
//! text: fixed-width integers, the raw id and length-prefixed strings take
//! about half the bytes of the record's JSON, which makes every cookie,
//! every base64 pass and every AES-GCM pass shorter, and they read without
//! scanning.
//!
//! ```text
//! flags                 1 byte: bit 0 set when an absolute deadline is
//!                       present; the other bits are 0
//! id                    24 bytes
//! created_at            8 bytes each: milliseconds since the Unix epoch,
//! idle_deadline           as a little-endian i64
//! keep_until
//! absolute_deadline     8 bytes, only when flag bit 0 is set
//! data, then flash      each a count, then per entry: key length, key
//!                       (UTF-8), value length, value (JSON text); counts
//!                       and lengths are LEB128 varints
//! ```
//!
//! Keys come in strictly increasing byte order, as the maps hold them, so
//! a record has exactly one encoding; bytes that break any rule above do
//! not decode.
//!
//! Values are not parsed as JSON again: the plaintext is authenticated
//! (AES-GCM), so only this store's seal made it, from a record whose
//! values the core wrote as JSON. Parsing every value was most of an open
//! for a session of many keys.

use session_core::{Data, DataMap, Record, SessionId, Timestamp, Value, ID_BYTES};

/// The flag for a present absolute deadline.
const HAS_ABSOLUTE: u8 = 1;

/// Bytes of the fixed part: flags, id, three timestamps.
const FIXED: usize = 1 + ID_BYTES + 3 * 8;

/// Maps up to this many entries are filled by inserts, larger ones built
/// from the sorted list.
const FEW: usize = 8;

/// The longest encoding of a record with no data and no flash.
pub(crate) const EMPTY_MAX: usize = FIXED + 8 + 2;

/// Appends the encoding of `record` to `out`.
pub(crate) fn encode_into(record: &Record, out: &mut Vec<u8>) {
    out.reserve(FIXED + 8 + map_len(&record.data) + map_len(&record.flash));
    let flags = if record.absolute_deadline.is_some() {
        HAS_ABSOLUTE
    } else {
        0
    };
    out.push(flags);
    out.extend_from_slice(record.id.as_bytes());
    for t in [record.created_at, record.idle_deadline, record.keep_until] {
        out.extend_from_slice(&t.unix_millis().to_le_bytes());
    }
    if let Some(t) = record.absolute_deadline {
        out.extend_from_slice(&t.unix_millis().to_le_bytes());
    }
    write_map(&record.data, out);
    write_map(&record.flash, out);
}

/// Bytes a map takes, or a little more (varints counted at their widest).
fn map_len(map: &Data) -> usize {
    5 + map
        .iter()
        .map(|(k, v)| k.len() + v.len() + 10)
        .sum::<usize>()
}

fn write_map(map: &Data, out: &mut Vec<u8>) {
    write_len(map.len(), out);
    for (key, value) in map.iter() {
        write_len(key.len(), out);
        out.extend_from_slice(key.as_bytes());
        write_len(value.len(), out);
        out.extend_from_slice(value.as_bytes());
    }
}

fn write_len(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        // The low seven bits and a continuation bit: `n` is cut to a byte.
        out.push((n & 0x7F) as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a record, or says why the bytes are not one.
pub(crate) fn decode(bytes: &[u8]) -> Result<Record, &'static str> {
    let mut r = Reader { bytes, at: 0 };
    let flags = r.byte()?;
    if flags & !HAS_ABSOLUTE != 0 {
        return Err("unknown flags");
    }
    let id = SessionId::from_bytes(r.array()?);
    let created_at = r.time()?;
    let idle_deadline = r.time()?;
    let keep_until = r.time()?;
    let absolute_deadline = match flags & HAS_ABSOLUTE {
        0 => None,
        _ => Some(r.time()?),
    };
    let data = r.map()?;
    let flash = r.map()?;
    if r.at != bytes.len() {
        return Err("bytes after the record");
    }
    Ok(Record {
        id,
        data,
        flash,
        created_at,
        idle_deadline,
        absolute_deadline,
        keep_until,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.at.checked_add(n).ok_or("truncated")?;
        let taken = self.bytes.get(self.at..end).ok_or("truncated")?;
        self.at = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], &'static str> {
        self.take(N)?.try_into().map_err(|_| "truncated")
    }

    fn time(&mut self) -> Result<Timestamp, &'static str> {
        Ok(Timestamp::from_unix_millis(i64::from_le_bytes(
            self.array()?,
        )))
    }

    /// A varint of at most what the rest of the input could hold, in its
    /// shortest form. Four bytes (28 bits) are far more than a cookie
    /// holds, and keep the shifts clear of overflow.
    fn len(&mut self) -> Result<usize, &'static str> {
        let mut n = 0usize;
        for shift in [0, 7, 14, 21] {
            let b = self.byte()?;
            n |= usize::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                if b == 0 && shift > 0 {
                    return Err("overlong length");
                }
                if n > self.bytes.len() - self.at {
                    return Err("length past the end");
                }
                return Ok(n);
            }
        }
        Err("overlong length")
    }

    fn text(&mut self) -> Result<&'a str, &'static str> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| "not UTF-8")
    }

    /// The next key and value; keys must come in strictly rising order.
    fn entry(&mut self, last: &mut Option<&'a str>) -> Result<(String, Value), &'static str> {
        let key = self.text()?;
        if last.is_some_and(|prev| prev >= key) {
            return Err("keys out of order");
        }
        *last = Some(key);
        let value = self.text()?;
        Ok((key.to_owned(), Value::from(value)))
    }

    fn map(&mut self) -> Result<Data, &'static str> {
        let count = self.len()?;
        let mut last = None;
        if count <= FEW {
            // A few entries go straight into the map, with no list first.
            let mut map = DataMap::new();
            for _ in 0..count {
                let (key, value) = self.entry(&mut last)?;
                map.insert(key, value);
            }
            return Ok(Data::from(map));
        }
        // More are listed, then built in one pass from the sorted list,
        // where inserting each would compare its key with a path of others.
        let entries = (0..count)
            .map(|_| self.entry(&mut last))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(entries.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(absolute: Option<i64>) -> Record {
        Record {
            id: SessionId::from_bytes(std::array::from_fn(|i| i as u8)),
            data: Data::from([
                ("a".to_owned(), Value::from("1")),
                (
                    "long".to_owned(),
                    Value::from(format!("\"{}\"", "x".repeat(300))),
                ),
            ]),
            flash: Data::from([("n".to_owned(), Value::from("{\"k\":[1,2]}"))]),
            created_at: Timestamp::from_unix_millis(1_764_000_000_000),
            idle_deadline: Timestamp::from_unix_millis(1_764_000_180_000),
            absolute_deadline: absolute.map(Timestamp::from_unix_millis),
            keep_until: Timestamp::from_unix_millis(-5),
        }
    }

    fn bare(id: SessionId, absolute: Option<Timestamp>, t: Timestamp) -> Record {
        Record {
            id,
            data: Data::new(),
            flash: Data::new(),
            created_at: t,
            idle_deadline: t,
            absolute_deadline: absolute,
            keep_until: t,
        }
    }

    fn encoded(r: &Record) -> Vec<u8> {
        let mut out = Vec::new();
        encode_into(r, &mut out);
        out
    }

    #[test]
    fn round_trips() {
        let empty = bare(SessionId::from_bytes([9; ID_BYTES]), None, Timestamp::EPOCH);
        // More keys than `FEW`: the map is built from the sorted list.
        let mut many = record(None);
        many.data = (0..3 * FEW)
            .map(|n| (format!("k{n:02}"), Value::from(n.to_string())))
            .collect();
        for r in [record(None), record(Some(i64::MAX)), empty, many] {
            let bytes = encoded(&r);
            assert_eq!(decode(&bytes).unwrap(), r);
        }
    }

    #[test]
    fn the_layout_is_as_documented() {
        let r = record(Some(7));
        let bytes = encoded(&r);
        assert_eq!(bytes[0], HAS_ABSOLUTE);
        assert_eq!(&bytes[1..25], r.id.as_bytes());
        assert_eq!(bytes[25..33], 1_764_000_000_000i64.to_le_bytes());
        assert_eq!(bytes[49..57], 7i64.to_le_bytes());
        // Two data entries; "a" first, its value "1".
        assert_eq!(&bytes[57..62], &[2, 1, b'a', 1, b'1']);
        // The 302-byte value's length as a two-byte varint.
        assert_eq!(&bytes[62..69], &[4, b'l', b'o', b'n', b'g', 0xAE, 0x02]);
        let empty = bare(r.id, Some(r.keep_until), r.created_at);
        assert_eq!(encoded(&empty).len(), EMPTY_MAX);
    }

    #[test]
    fn every_broken_rule_is_refused() {
        let good = encoded(&record(None));
        // `good` with byte `at` set to `to`.
        let with = |at: usize, to: u8| {
            let mut bytes = good.clone();
            bytes[at] = to;
            bytes
        };
        let mut long = good.clone();
        long.push(0);
        // An overlong varint: the data count 0 as [0x80, 0x00].
        let mut overlong = good[..49].to_vec();
        overlong.extend_from_slice(&[0x80, 0x00, 0]);
        // A five-byte varint, longer than any length is written.
        let mut five = good[..49].to_vec();
        five.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x00, 0]);
        let cases = [
            (good[..good.len() - 1].to_vec(), "truncated"),
            (long, "trailing"),
            (with(0, 2), "flags"),
            // Data count 2 → 3: reads past the data into the flash.
            (with(49, 3), "count"),
            // "a" renamed "m", after "long": out of order.
            (with(51, b'm'), "order"),
            (with(51, 0xFF), "key not UTF-8"),
            (with(53, 0xFF), "value not UTF-8"),
            (overlong, "overlong"),
            (five, "five-byte length"),
        ];
        for (bytes, why) in cases {
            assert!(decode(&bytes).is_err(), "{why}");
        }
        assert!(decode(&[]).is_err());
    }

    proptest! {
        /// Whatever decodes, from a valid encoding with any bytes changed,
        /// cut or added, is canonical: it encodes back to the same bytes.
        #[test]
        fn what_decodes_is_canonical(
            absolute in any::<bool>(),
            at in any::<prop::sample::Index>(),
            to in any::<u8>(),
            cut in 0usize..4,
            tail in prop::collection::vec(any::<u8>(), 0..3),
        ) {
            let mut bytes = encoded(&record(absolute.then_some(99)));
            let i = at.index(bytes.len());
            bytes[i] = to;
            bytes.truncate(bytes.len() - cut);
            bytes.extend_from_slice(&tail);
            if let Ok(r) = decode(&bytes) {
                prop_assert_eq!(encoded(&r), bytes);
            }
        }

        #[test]
        fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..160)) {
            if let Ok(r) = decode(&bytes) {
                prop_assert_eq!(encoded(&r), bytes);
            }
        }
    }
}
