//! Session load and save per second against a local `redis-server`, next
//! to `redis-benchmark` GET/SET on the same server as the ceiling.
//!
//! `cargo bench -p session-store-redis` runs the criterion benchmarks
//! (1 and 32 concurrent clients), then a fixed-time load run of the same
//! operations and `redis-benchmark -t get,set -n 100000 -c 1|32 -q`, and
//! prints one table. Under `cargo test --benches` each benchmark runs once
//! and the table is skipped.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use futures_util::future::join_all;
use session_core::{Delta, Record, SessionStore, Value};
use session_store_redis::RedisStore;
use session_testkit::store::record_with;
use session_testkit::RedisServer;
use tokio::runtime::Runtime;

const SESSIONS: usize = 1000;
const CLIENTS: [usize; 2] = [1, 32];
const LOAD_RUN: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, Debug)]
enum Op {
    Load,
    Save,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Load => "load",
            Op::Save => "save",
        }
    }
}

struct Fixture {
    store: RedisStore,
    records: Vec<Record>,
    next: AtomicU64,
}

impl Fixture {
    /// One operation on the next session, round robin.
    async fn run(&self, op: Op) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let r = &self.records[n as usize % self.records.len()];
        match op {
            Op::Load => {
                let got = self.store.load(&r.id.to_string(), r.created_at).await;
                assert!(matches!(got, Ok(Some(_))), "load failed: {got:?}");
            }
            Op::Save => {
                // A typical request: one key changed (a counter).
                let delta = Delta {
                    set: vec![("counter".into(), Value::from(n.to_string()))],
                    ..Delta::default()
                };
                let saved = self.store.update(r, &delta).await;
                assert!(matches!(saved, Ok(Some(_))), "save failed: {saved:?}");
            }
        }
    }
}

/// A session as an app keeps it: a user, a counter, a few settings.
fn typical_record() -> Record {
    let mut r = record_with(&[
        ("user", "\"alice@example.com\""),
        ("counter", "0"),
        ("roles", "[\"admin\",\"editor\"]"),
        (
            "prefs",
            "{\"theme\":\"dark\",\"lang\":\"en\",\"tz\":\"Europe/Paris\"}",
        ),
    ]);
    // Long enough for the whole run.
    r.keep_until = r.keep_until.add(Duration::from_secs(3600));
    r
}

fn setup(rt: &Runtime, server: &RedisServer) -> Arc<Fixture> {
    let store = RedisStore::builder(server.url()).build().expect("store");
    let records: Vec<Record> = (0..SESSIONS).map(|_| typical_record()).collect();
    rt.block_on(async {
        for r in &records {
            store.create(r).await.expect("create").expect("fresh id");
        }
    });
    Arc::new(Fixture {
        store,
        records,
        next: AtomicU64::new(0),
    })
}

fn criterion_benches(c: &mut Criterion, rt: &Runtime, fixture: &Arc<Fixture>) {
    for op in [Op::Load, Op::Save] {
        let mut group = c.benchmark_group(format!("redis/{}", op.name()));
        for clients in CLIENTS {
            group.throughput(Throughput::Elements(clients as u64));
            group.bench_with_input(BenchmarkId::new("clients", clients), &clients, |b, &n| {
                b.to_async(rt)
                    .iter(|| join_all((0..n).map(|_| fixture.run(op))));
            });
        }
        group.finish();
    }
}

/// `clients` tasks run `op` back to back for `LOAD_RUN`; operations per
/// second over all of them.
fn load_run(rt: &Runtime, fixture: &Arc<Fixture>, op: Op, clients: usize) -> f64 {
    rt.block_on(async {
        let start = Instant::now();
        let deadline = start + LOAD_RUN;
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let fixture = fixture.clone();
                tokio::spawn(async move {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        fixture.run(op).await;
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("client task");
        }
        total as f64 / start.elapsed().as_secs_f64()
    })
}

/// `redis-benchmark` requests per second for GET and SET.
fn redis_benchmark(port: u16, clients: usize) -> (f64, f64) {
    let out = Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "-t", "get,set", "-n", "100000"])
        .args(["-c", &clients.to_string(), "-q"])
        .output()
        .expect("redis-benchmark (apt-get install -y redis-server)");
    let text = String::from_utf8_lossy(&out.stdout);
    // Progress lines end in \r; the results are "SET: 12345.67 requests per second, …".
    let rate = |name: &str| {
        text.rsplit(['\r', '\n'])
            .filter_map(|l| l.trim().strip_prefix(name))
            .find_map(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (rate("GET:"), rate("SET:"))
}

fn table(rt: &Runtime, fixture: &Arc<Fixture>, port: u16) {
    let mut rows: Vec<(String, Vec<f64>)> = Vec::new();
    for op in [Op::Load, Op::Save] {
        let figures = CLIENTS
            .iter()
            .map(|&n| load_run(rt, fixture, op, n))
            .collect();
        let label = match op {
            Op::Load => "session load (HGETALL)",
            Op::Save => "session save (EVALSHA, 1-key delta)",
        };
        rows.push((label.to_owned(), figures));
    }
    let ceilings: Vec<(f64, f64)> = CLIENTS.iter().map(|&n| redis_benchmark(port, n)).collect();
    rows.push((
        "redis-benchmark GET".to_owned(),
        ceilings.iter().map(|c| c.0).collect(),
    ));
    rows.push((
        "redis-benchmark SET".to_owned(),
        ceilings.iter().map(|c| c.1).collect(),
    ));

    println!();
    println!("operations per second, redis-server on 127.0.0.1:{port}, {SESSIONS} sessions");
    println!(
        "| {:<38} | {:>12} | {:>12} |",
        "operation", "1 client", "32 clients"
    );
    println!("|{:-<40}|{:->14}|{:->14}|", "", "", "");
    for (label, figures) in &rows {
        println!(
            "| {:<38} | {:>12.0} | {:>12.0} |",
            label, figures[0], figures[1]
        );
    }
    println!(
        "the store multiplexes its clients over one connection (requests pipeline); \
         redis-benchmark opens one connection per client, without pipelining"
    );
    println!();
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let fixture = setup(&rt, &server);

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .configure_from_args();
    criterion_benches(&mut criterion, &rt, &fixture);
    criterion.final_summary();

    if bench_mode {
        table(&rt, &fixture, server.port());
    }
}
