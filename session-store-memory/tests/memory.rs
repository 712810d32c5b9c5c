//! Memory-store specifics: sweeping, the cleanup job, the capacity bound.

use std::time::Duration;

use session_core::{SessionStore, StoreErrorKind, Timestamp};
use session_store_memory::{MemoryStore, WhenFull};
use session_testkit::store::record_with;
use session_testkit::{block_on, ManualClock};

#[test]
fn sweep_drops_only_expired_records() {
    block_on(async {
        let store = MemoryStore::new();
        let mut old = record_with(&[("a", "1")]);
        old.keep_until = Timestamp::from_unix_millis(1_000);
        let fresh = record_with(&[("b", "2")]);
        store.create(&old).await.unwrap();
        store.create(&fresh).await.unwrap();
        assert_eq!(store.len(), 2);
        assert_eq!(store.sweep(Timestamp::from_unix_millis(999)), 0);
        assert_eq!(store.sweep(Timestamp::from_unix_millis(1_000)), 1);
        assert_eq!(store.len(), 1);
        let now = Timestamp::from_unix_millis(2_000);
        assert!(store
            .load(&fresh.id.to_string(), now)
            .await
            .unwrap()
            .is_some());
    });
}

#[test]
fn cleanup_job_sweeps_and_stops() {
    block_on(async {
        let store = MemoryStore::new();
        let clock = ManualClock::at(Timestamp::from_unix_millis(0));
        let mut r = record_with(&[("a", "1")]);
        r.keep_until = Timestamp::from_unix_millis(500);
        store.create(&r).await.unwrap();
        let job = store.spawn_cleanup_with_clock(Duration::from_millis(5), clock.clone());
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(store.len(), 1, "not expired yet");
        clock.set(Timestamp::from_unix_millis(500));
        let mut waited = 0;
        while store.len() == 1 && waited < 200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            waited += 1;
        }
        assert_eq!(store.len(), 0, "the job swept the expired record");
        job.stop().await;
    });
}

#[test]
fn cleanup_job_ends_when_the_store_is_dropped() {
    block_on(async {
        let store = MemoryStore::new();
        let job = store.spawn_cleanup(Duration::from_millis(2));
        drop(store);
        let mut waited = 0;
        while !job.is_finished() && waited < 500 {
            tokio::time::sleep(Duration::from_millis(2)).await;
            waited += 1;
        }
        assert!(job.is_finished());
    });
}

#[test]
fn full_store_refuses_with_unavailable() {
    block_on(async {
        let store = MemoryStore::builder().max_sessions(2).build();
        store.create(&record_with(&[])).await.unwrap().unwrap();
        store.create(&record_with(&[])).await.unwrap().unwrap();
        let err = store.create(&record_with(&[])).await.unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Unavailable);
        assert!(err.to_string().contains("full"));
        assert_eq!(store.len(), 2);
    });
}

#[test]
fn full_store_sweeps_expired_first() {
    block_on(async {
        let store = MemoryStore::builder().max_sessions(1).build();
        let mut old = record_with(&[]);
        old.keep_until = Timestamp::from_unix_millis(1);
        store.create(&old).await.unwrap().unwrap();
        store.create(&record_with(&[])).await.unwrap().unwrap();
        assert_eq!(store.len(), 1);
        assert!(store
            .load(&old.id.to_string(), Timestamp::from_unix_millis(0))
            .await
            .unwrap()
            .is_none());
    });
}

#[test]
fn full_store_evicts_the_soonest_expiring() {
    block_on(async {
        // Ids in the same shard, so the shard-local choice is the global one.
        let store = MemoryStore::builder()
            .max_sessions(2)
            .when_full(WhenFull::EvictSoonestExpiring)
            .build();
        let same_shard = |n: u8| {
            let mut bytes = [n; 24];
            bytes[23] = 0;
            session_core::SessionId::from_bytes(bytes)
        };
        let mut soon = record_with(&[]);
        soon.id = same_shard(1);
        let mut late = record_with(&[]);
        late.id = same_shard(2);
        late.keep_until = late.keep_until.add(Duration::from_secs(600));
        store.create(&soon).await.unwrap().unwrap();
        store.create(&late).await.unwrap().unwrap();
        let mut newest = record_with(&[]);
        newest.id = same_shard(3);
        store.create(&newest).await.unwrap().unwrap();
        let now = newest.created_at;
        assert!(store
            .load(&soon.id.to_string(), now)
            .await
            .unwrap()
            .is_none());
        assert!(store
            .load(&late.id.to_string(), now)
            .await
            .unwrap()
            .is_some());
        assert!(store
            .load(&newest.id.to_string(), now)
            .await
            .unwrap()
            .is_some());
        assert_eq!(store.len(), 2);
    });
}

#[test]
fn bound_holds_under_concurrent_creates() {
    block_on(async {
        let store = MemoryStore::builder().max_sessions(50).build();
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.create(&record_with(&[])).await.is_ok()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            ok += usize::from(t.await.unwrap());
        }
        assert_eq!(ok, 50);
        assert_eq!(store.len(), 50);
    });
}
