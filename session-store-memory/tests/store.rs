//! The store conformance suite, on three configurations.

use session_store_memory::{MemoryStore, WhenFull};

session_testkit::store_suite!(unbounded, server_side, || async { MemoryStore::new() });
session_testkit::store_suite!(bounded_refuse, server_side, || async {
    MemoryStore::builder().max_sessions(10_000).build()
});
session_testkit::store_suite!(bounded_evict, server_side, || async {
    MemoryStore::builder()
        .max_sessions(10_000)
        .when_full(WhenFull::EvictSoonestExpiring)
        .build()
});
