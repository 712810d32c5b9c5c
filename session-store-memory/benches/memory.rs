//! Memory store: load, save and touch per operation, on one thread and on
//! two contending threads, beside a `RwLock<HashMap>` and a sharded map
//! (`dashmap`) doing the same work; then bytes per stored session.
//!
//! Run: `cargo bench -p session-store-memory --bench memory`.

#![allow(missing_docs)] // criterion's macros generate undocumented items
#![allow(unsafe_code)] // the counting allocator, for the memory figure only

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dashmap::DashMap;
use session_core::{Data, Delta, IdSource, RandomIds, Record, SessionStore, Timestamp, Value};
use session_store_memory::MemoryStore;

/// Counts live heap bytes, for the memory figure.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const N: usize = 10_000;

/// The store's futures never wait: poll once.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("the memory store never waits"),
    }
}

fn record(ids: &RandomIds) -> Record {
    let now = Timestamp::from_unix_millis(1_700_000_000_000);
    let mut data = Data::new();
    // A 100-byte payload: a user and a counter.
    data.insert(
        "user".into(),
        Value::from(format!("\"{}\"", "u".repeat(86))),
    );
    data.insert("counter".into(), Value::from("1"));
    Record {
        id: ids.next_id().unwrap(),
        data,
        flash: Data::new(),
        created_at: now,
        idle_deadline: now.add(Duration::from_secs(1800)),
        absolute_deadline: None,
        keep_until: now.add(Duration::from_secs(3600)),
    }
}

fn delta() -> Delta {
    Delta {
        set: vec![("counter".into(), Value::from("2"))],
        ..Delta::default()
    }
}

/// The three contenders, doing the same work per operation.
trait Bench: Sync {
    fn load(&self, r: &Record, token: &str) -> bool;
    fn save(&self, r: &Record, d: &Delta) -> bool;
    fn touch(&self, r: &Record) -> bool;
}

impl Bench for MemoryStore {
    fn load(&self, r: &Record, token: &str) -> bool {
        ready(SessionStore::load(self, token, r.created_at))
            .unwrap()
            .is_some()
    }
    fn save(&self, r: &Record, d: &Delta) -> bool {
        ready(self.update(r, d)).unwrap().is_some()
    }
    fn touch(&self, r: &Record) -> bool {
        ready(SessionStore::touch(self, r)).unwrap().is_some()
    }
}

type StdMap = RwLock<HashMap<session_core::SessionId, Record>>;

impl Bench for StdMap {
    fn load(&self, r: &Record, token: &str) -> bool {
        let id = session_core::SessionId::parse(token).unwrap();
        let map = self.read().unwrap();
        map.get(&id)
            .filter(|s| s.is_kept_at(r.created_at))
            .cloned()
            .is_some()
    }
    fn save(&self, r: &Record, d: &Delta) -> bool {
        self.write()
            .unwrap()
            .get_mut(&r.id)
            .map(|s| s.apply(d, r))
            .is_some()
    }
    fn touch(&self, r: &Record) -> bool {
        self.save(r, &Delta::default())
    }
}

type Sharded = DashMap<session_core::SessionId, Record>;

impl Bench for Sharded {
    fn load(&self, r: &Record, token: &str) -> bool {
        let id = session_core::SessionId::parse(token).unwrap();
        self.get(&id)
            .filter(|s| s.is_kept_at(r.created_at))
            .map(|s| s.clone())
            .is_some()
    }
    fn save(&self, r: &Record, d: &Delta) -> bool {
        self.get_mut(&r.id).map(|mut s| s.apply(d, r)).is_some()
    }
    fn touch(&self, r: &Record) -> bool {
        Bench::save(self, r, &Delta::default())
    }
}

fn fill(records: &[Record]) -> (MemoryStore, StdMap, Sharded) {
    let mem = MemoryStore::new();
    let std_map = StdMap::default();
    let sharded = Sharded::default();
    for r in records {
        ready(mem.create(r)).unwrap();
        std_map.write().unwrap().insert(r.id, r.clone());
        sharded.insert(r.id, r.clone());
    }
    (mem, std_map, sharded)
}

fn run<B: Bench>(
    b: &B,
    op: &str,
    records: &[Record],
    tokens: &[String],
    iters: u64,
    threads: usize,
) -> Duration {
    let d = delta();
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let d = &d;
            s.spawn(move || {
                let per = iters / threads as u64 + 1;
                for i in 0..per {
                    let k = (i as usize * 7919 + t * 104_729) % records.len();
                    let ok = match op {
                        "load" => b.load(&records[k], &tokens[k]),
                        "save" => b.save(&records[k], d),
                        _ => b.touch(&records[k]),
                    };
                    black_box(ok);
                }
            });
        }
    });
    start.elapsed()
}

fn ops(c: &mut Criterion) {
    let ids = RandomIds::new();
    let records: Vec<Record> = (0..N).map(|_| record(&ids)).collect();
    let tokens: Vec<String> = records.iter().map(|r| r.id.to_string()).collect();
    let (mem, std_map, sharded) = fill(&records);
    let contenders: [(&str, &dyn Bench); 3] = [
        ("memory-store", &mem),
        ("rwlock-hashmap", &std_map),
        ("dashmap", &sharded),
    ];
    for threads in [1usize, 2] {
        for op in ["load", "save", "touch"] {
            let mut group = c.benchmark_group(format!("{op}/{threads}-thread"));
            for (name, b) in contenders {
                group.bench_function(name, |bench| {
                    bench.iter_custom(|iters| {
                        run(&DynBench(b), op, &records, &tokens, iters, threads)
                    })
                });
            }
            group.finish();
        }
    }
}

struct DynBench<'a>(&'a dyn Bench);

impl Bench for DynBench<'_> {
    fn load(&self, r: &Record, token: &str) -> bool {
        self.0.load(r, token)
    }
    fn save(&self, r: &Record, d: &Delta) -> bool {
        self.0.save(r, d)
    }
    fn touch(&self, r: &Record) -> bool {
        self.0.touch(r)
    }
}

/// Live heap bytes per stored session, records built outside the count.
fn memory(_: &mut Criterion) {
    let ids = RandomIds::new();
    let records: Vec<Record> = (0..N).map(|_| record(&ids)).collect();
    let measure = |fill: &dyn Fn() -> Box<dyn std::any::Any>| {
        let before = LIVE.load(Ordering::SeqCst);
        let kept = fill();
        let after = LIVE.load(Ordering::SeqCst);
        drop(kept);
        (after - before) as f64 / N as f64
    };
    let mem = measure(&|| {
        let s = MemoryStore::new();
        for r in &records {
            ready(s.create(r)).unwrap();
        }
        Box::new(s)
    });
    let std_map = measure(&|| {
        let m = StdMap::default();
        for r in &records {
            m.write().unwrap().insert(r.id, r.clone());
        }
        Box::new(m)
    });
    let sharded = measure(&|| {
        let m = Arc::new(Sharded::default());
        for r in &records {
            m.insert(r.id, r.clone());
        }
        Box::new(m)
    });
    println!("memory per stored session (100-byte payload, {N} sessions):");
    println!("  memory-store   {mem:.0} B");
    println!("  rwlock-hashmap {std_map:.0} B");
    println!("  dashmap        {sharded:.0} B");
}

criterion_group!(benches, ops, memory);
criterion_main!(benches);
