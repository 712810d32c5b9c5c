//! Seal and open a session, beside the `cookie` crate's `PrivateJar`.
//!
//! Both sides start from the same [`Record`] and end with it: ours seals it
//! into a cookie value and opens it back into a `Record`. The `PrivateJar`
//! side encodes the record (the same bytes we seal: `Record::encode`, a
//! version byte then JSON), adds it to a fresh jar through
//! `private_mut(&key).add` and reads the sealed value back; to open, it puts
//! that value in a fresh jar, gets it through `private(&key).get` and
//! decodes it.
//!
//! `private-jar` uses `session-core`'s codec (`Record::encode` /
//! `Record::decode`), which is what a user of `PrivateJar` has;
//! `private-jar+fast-codec` uses this crate's faster writer and one-pass
//! reader (`encode_record` / `decode_record`, same bytes), so the gap to it
//! is the crypto and framing alone.
//!
//! Sizes are the bytes of session data (the record's `v` map as JSON); the
//! record's id and deadlines add about 120 bytes. "3 KB" does not fit a
//! cookie with the default attributes, so the largest data that fits is
//! used instead and named by its size.
//!
//! ```text
//! cargo bench -p session-store-cookie --bench seal -- --warm-up-time 1 --measurement-time 3
//! ```

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;
use std::time::Duration;

use cookie::{Cookie, CookieJar, Key};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use session_core::{Data, DecodeError, Record, SessionConfig, SessionId, Timestamp, Value};
use session_store_cookie::{decode_record, encode_record, CookieStore, CookieStoreError};

const SECRET: &[u8] = b"benchmark secret: thirty-two bytes or more";
const NOW: i64 = 1_750_000_000_000;

/// A record whose data map encodes to about `data_bytes` of JSON.
fn record(data_bytes: usize) -> Record {
    let mut data = Data::new();
    // `{}` plus, per entry, `"kNN":"…",`.
    let mut used = 2;
    let mut n = 0;
    while used < data_bytes {
        let key = format!("k{n:02}");
        let room = data_bytes - used;
        let overhead = key.len() + 6;
        let len = room.saturating_sub(overhead).clamp(1, 40);
        let value = if n % 3 == 1 {
            format!("{}", 1_000_000 + n)
        } else {
            format!("\"{}\"", "v".repeat(len))
        };
        used += key.len() + 3 + value.len() + usize::from(n > 0);
        data.insert(key, Value::from(value));
        n += 1;
    }
    let now = Timestamp::from_unix_millis(NOW);
    Record {
        id: SessionId::from_bytes([0x5c; 24]),
        data,
        flash: Data::new(),
        created_at: now,
        idle_deadline: now.add(Duration::from_secs(1800)),
        absolute_deadline: Some(now.add(Duration::from_secs(8 * 3600))),
        keep_until: now.add(Duration::from_secs(3600)),
    }
}

fn data_len(record: &Record) -> usize {
    let mut json = Vec::new();
    record.encode_body(&mut json);
    let mut empty = record.clone();
    empty.data.clear();
    let mut base = Vec::new();
    empty.encode_body(&mut base);
    json.len() - base.len() + 2
}

/// The largest data size up to `want` whose sealed cookie fits.
fn fitting(store: &CookieStore, want: usize) -> usize {
    let mut size = want;
    while let Err(CookieStoreError::TooLarge { .. }) = store.seal(&record(size)) {
        size -= 8;
    }
    size
}

/// A record codec: `session-core`'s own, or this crate's faster one (same
/// bytes).
#[derive(Clone, Copy)]
struct Codec {
    encode: fn(&Record) -> Vec<u8>,
    decode: fn(&[u8]) -> Result<Record, DecodeError>,
}

const CORE: Codec = Codec {
    encode: Record::encode,
    decode: Record::decode,
};

const FAST: Codec = Codec {
    encode: |r| {
        let mut out = Vec::new();
        encode_record(r, &mut out);
        out
    },
    decode: decode_record,
};

fn jar_seal(key: &Key, name: &str, codec: Codec, r: &Record) -> String {
    // The record encoding (version byte, then JSON) is valid UTF-8.
    let value = String::from_utf8((codec.encode)(r)).expect("UTF-8");
    let mut jar = CookieJar::new();
    jar.private_mut(key)
        .add(Cookie::new(name.to_owned(), value));
    jar.get(name).expect("added").value().to_owned()
}

fn jar_open(key: &Key, name: &str, codec: Codec, sealed: &str) -> Record {
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new(name.to_owned(), sealed.to_owned()));
    let plain = jar.private(key).get(name).expect("opens");
    (codec.decode)(plain.value().as_bytes()).expect("decodes")
}

fn bench(c: &mut Criterion) {
    let config = SessionConfig::default();
    let store = CookieStore::new(SECRET, &config).expect("store");
    let name = config.cookie_name();
    let key = Key::generate();
    let now = Timestamp::from_unix_millis(NOW);
    let jars = [("private-jar", CORE), ("private-jar+fast-codec", FAST)];

    for want in [100, 1024, 3072] {
        let record = record(fitting(&store, want));
        let size = data_len(&record);
        let label = if size == want {
            format!("{size}B")
        } else {
            format!("{size}B-largest-fitting")
        };

        let mut group = c.benchmark_group("seal");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("cookie-store", &label), &record, |b, r| {
            b.iter(|| store.seal(black_box(r)).expect("fits"))
        });
        for (id, codec) in jars {
            group.bench_with_input(BenchmarkId::new(id, &label), &record, |b, r| {
                b.iter(|| jar_seal(&key, name, codec, black_box(r)))
            });
        }
        group.finish();

        let token = store.seal(&record).expect("fits");
        assert_eq!(store.open(&token, now).as_ref(), Some(&record));
        eprintln!(
            "{label}: {} data entries, record encoding {} B, cookie value {} chars, \
             Set-Cookie up to {} B",
            record.data.len(),
            record.encode().len(),
            token.len(),
            token.len() + config.cookie_overhead(),
        );
        let mut group = c.benchmark_group("open");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("cookie-store", &label), &token, |b, t| {
            b.iter(|| store.open(black_box(t), now).expect("opens"))
        });
        for (id, codec) in jars {
            let sealed = jar_seal(&key, name, codec, &record);
            assert_eq!(jar_open(&key, name, codec, &sealed), record);
            group.bench_with_input(BenchmarkId::new(id, &label), &sealed, |b, v| {
                b.iter(|| jar_open(&key, name, codec, black_box(v)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
