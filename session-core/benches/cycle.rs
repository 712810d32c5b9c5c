//! The core's cost per request, without any store or IO: start → resume →
//! handler work → finish, for a read, a write and a login.

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use session_core::{Data, Record, SessionConfig, SessionCore, SessionId, Timestamp, Value};

fn stored() -> Record {
    let now = Timestamp::from_unix_millis(1_700_000_000_000);
    let mut data = Data::new();
    data.insert("user".into(), Value::from("\"alice\""));
    data.insert("counter".into(), Value::from("41"));
    Record {
        id: SessionId::from_bytes([7; 24]),
        data,
        flash: Data::new(),
        created_at: now,
        idle_deadline: now.add(Duration::from_secs(1800)),
        absolute_deadline: None,
        keep_until: now.add(Duration::from_secs(3600)),
    }
}

fn cycle(c: &mut Criterion) {
    let core = SessionCore::new(SessionConfig::default(), false);
    let record = stored();
    let header = format!("theme=dark; session={}", record.id);
    let now = Timestamp::from_unix_millis(1_700_000_000_500);

    c.bench_function("core/read-only request", |b| {
        b.iter(|| {
            let start = core.start([header.as_bytes()]);
            let s = core.resume(start, Some(record.clone()), now).session;
            let n: Option<i64> = s.get("counter").unwrap_or_default();
            let commit = core.finish(&s, 200, now).unwrap_or_else(|_| unreachable!());
            black_box((n, commit.save.is_none()))
        })
    });
    c.bench_function("core/write request", |b| {
        b.iter(|| {
            let start = core.start([header.as_bytes()]);
            let s = core.resume(start, Some(record.clone()), now).session;
            let n: i64 = s.get("counter").unwrap_or_default().unwrap_or(0);
            s.insert("counter", &(n + 1)).unwrap_or_default();
            let commit = core.finish(&s, 200, now).unwrap_or_else(|_| unreachable!());
            black_box(core.set_cookie(&commit, Some("x"), now))
        })
    });
    c.bench_function("core/new-session login", |b| {
        b.iter(|| {
            let s = core.resume(core.start([]), None, now).session;
            s.renew();
            s.insert("user", "alice").unwrap_or_default();
            s.flash()
                .set("notice", "Welcome, alice")
                .unwrap_or_default();
            let commit = core.finish(&s, 200, now).unwrap_or_else(|_| unreachable!());
            black_box(core.set_cookie(&commit, Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), now))
        })
    });
    c.bench_function("core/record encode+decode", |b| {
        b.iter(|| black_box(Record::decode(&record.encode()).is_ok()))
    });
}

criterion_group!(benches, cycle);
criterion_main!(benches);
