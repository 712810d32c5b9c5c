//! Seal and open a session: our store beside what `actix-session` and
//! Rocket do.
//!
//! Ours seals a [`Record`] into a cookie value and opens it back into a
//! `Record` (id, deadlines, data and flash, in the store's binary form).
//!
//! `private-jar` is the peers' actual approach on the same session data:
//! the session is a `HashMap<String, String>` whose values are JSON texts
//! (`actix-session`'s session state, built here once from the record's
//! data), serialized with `serde_json::to_string` and sealed by the
//! `cookie` crate's `PrivateJar` (`private_mut(&key).add` on a fresh jar,
//! then the sealed value read back); opening puts the value in a fresh jar,
//! gets it through `private(&key).get` and parses it with
//! `serde_json::from_str::<HashMap<String, String>>`. It carries less than
//! our record (no id, no deadlines, no flash: those live in the cookie's
//! attributes or nowhere).
//!
//! `private-jar+record-codec` is for reference: the same `PrivateJar`
//! calls around `session-core`'s JSON record codec (`Record::encode_into` /
//! `Record::decode`, what the store sealed in its first format version),
//! so the gap between it and ours is the crypto, the framing and the
//! binary form.
//!
//! Sizes are the bytes of session data (the record's `v` map as JSON); the
//! record's id and deadlines add about 60 bytes sealed (120 as JSON). "3 KB" does not fit a
//! cookie with the default attributes, so the largest data that fits is
//! used instead and named by its size.
//!
//! ```text
//! cargo bench -p session-store-cookie --bench seal -- --warm-up-time 1 --measurement-time 3
//! ```

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use cookie::{Cookie, CookieJar, Key};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use session_core::{Data, Record, SessionConfig, SessionId, Timestamp, Value};
use session_store_cookie::{CookieStore, CookieStoreError};

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

/// The peers' session state: keys to JSON texts, as `actix-session`
/// keeps it.
type PeerState = HashMap<String, String>;

fn peer_state(record: &Record) -> PeerState {
    record
        .data
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect()
}

/// Seals `value` as the cookie `name` with a `PrivateJar`; the cookie value.
fn jar_seal(key: &Key, name: &str, value: String) -> String {
    let mut jar = CookieJar::new();
    jar.private_mut(key)
        .add(Cookie::new(name.to_owned(), value));
    jar.get(name).expect("added").value().to_owned()
}

/// Opens the cookie value `sealed` with a `PrivateJar`; the plaintext.
fn jar_open(key: &Key, name: &str, sealed: &str) -> Cookie<'static> {
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new(name.to_owned(), sealed.to_owned()));
    jar.private(key).get(name).expect("opens")
}

/// The peers: the state as a JSON map, in a `PrivateJar`.
fn peer_seal(key: &Key, name: &str, state: &PeerState) -> String {
    let json = serde_json::to_string(state).expect("a map of strings serializes");
    jar_seal(key, name, json)
}

fn peer_open(key: &Key, name: &str, sealed: &str) -> PeerState {
    let plain = jar_open(key, name, sealed);
    serde_json::from_str::<PeerState>(plain.value()).expect("parses")
}

/// For reference: our record codec, in a `PrivateJar`.
fn codec_seal(key: &Key, name: &str, record: &Record) -> String {
    let mut bytes = Vec::new();
    record.encode_into(&mut bytes);
    // The record encoding (version byte, then JSON) is valid UTF-8.
    jar_seal(key, name, String::from_utf8(bytes).expect("UTF-8"))
}

fn codec_open(key: &Key, name: &str, sealed: &str) -> Record {
    let plain = jar_open(key, name, sealed);
    Record::decode(plain.value().as_bytes()).expect("decodes")
}

fn bench(c: &mut Criterion) {
    let config = SessionConfig::default();
    let store = CookieStore::new(SECRET, &config).expect("store");
    let name = config.cookie_name();
    let key = Key::generate();
    let now = Timestamp::from_unix_millis(NOW);

    for want in [100, 1024, 3072] {
        let record = record(fitting(&store, want));
        let state = peer_state(&record);
        let size = data_len(&record);
        let label = if size == want {
            format!("{size}B")
        } else {
            format!("{size}B-largest-fitting")
        };

        let token = store.seal(&record).expect("fits");
        assert_eq!(store.open(&token, now).as_ref(), Some(&record));
        let peer = peer_seal(&key, name, &state);
        assert_eq!(peer_open(&key, name, &peer), state);
        let reference = codec_seal(&key, name, &record);
        assert_eq!(codec_open(&key, name, &reference), record);
        eprintln!(
            "{label}: {} data entries; ours: record encoding {} B, cookie value {} chars \
             (Set-Cookie up to {} B); private-jar: JSON map {} B, cookie value {} chars; \
             private-jar+record-codec: cookie value {} chars",
            record.data.len(),
            record.encode().len(),
            token.len(),
            token.len() + config.cookie_overhead(),
            serde_json::to_string(&state).expect("serializes").len(),
            peer.len(),
            reference.len(),
        );

        let mut group = c.benchmark_group("seal");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("cookie-store", &label), &record, |b, r| {
            b.iter(|| store.seal(black_box(r)).expect("fits"))
        });
        group.bench_with_input(BenchmarkId::new("private-jar", &label), &state, |b, s| {
            b.iter(|| peer_seal(&key, name, black_box(s)))
        });
        group.bench_with_input(
            BenchmarkId::new("private-jar+record-codec", &label),
            &record,
            |b, r| b.iter(|| codec_seal(&key, name, black_box(r))),
        );
        group.finish();

        let mut group = c.benchmark_group("open");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("cookie-store", &label), &token, |b, t| {
            b.iter(|| store.open(black_box(t), now).expect("opens"))
        });
        group.bench_with_input(BenchmarkId::new("private-jar", &label), &peer, |b, v| {
            b.iter(|| peer_open(&key, name, black_box(v)))
        });
        group.bench_with_input(
            BenchmarkId::new("private-jar+record-codec", &label),
            &reference,
            |b, v| b.iter(|| codec_open(&key, name, black_box(v))),
        );
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
