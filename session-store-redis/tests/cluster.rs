//! The conformance suite and the round-trip count on a real three-master
//! Redis Cluster.
#![cfg(feature = "cluster")]

mod common;

use session_core::SessionStore;
use session_testkit::store::record_with;
use session_testkit::RedisCluster;

session_testkit::store_suite!(redis_cluster, server_side, || async {
    common::Served::cluster()
});

fn total_commands(cluster: &RedisCluster) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = Vec::new();
    for node in cluster.nodes() {
        for (name, calls) in node.command_counts() {
            if name == "config|resetstat" || name == "info" || name.starts_with("cluster|") {
                continue;
            }
            match all.iter_mut().find(|(n, _)| *n == name) {
                Some((_, c)) => *c += calls,
                None => all.push((name, calls)),
            }
        }
    }
    all.sort();
    all
}

fn reset(cluster: &RedisCluster) {
    for node in cluster.nodes() {
        node.reset_stats();
    }
}

/// Exactly one `EVALSHA` crossed the network; the rest ran inside it.
fn assert_one_script_call(counts: &[(String, u64)]) {
    let sent: Vec<_> = counts
        .iter()
        .filter(|(n, _)| ["evalsha", "eval", "hgetall", "del"].contains(&n.as_str()))
        .collect();
    assert_eq!(sent, [&("evalsha".to_owned(), 1)], "{counts:?}");
}

/// Sessions spread over all three masters, and each operation is still
/// one command on one node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_spread_over_masters_one_command_each() {
    let served = common::Served::cluster();
    let store = &served.store;
    let mut records = Vec::new();
    for n in 0..30 {
        let r = record_with(&[("n", &n.to_string())]);
        assert!(store.create(&r).await.unwrap().is_some());
        records.push(r);
    }
    for node in served.server.nodes() {
        let size = node.command(&["DBSIZE"]).text();
        assert_ne!(size, "0", "a master got no session: keys are not spread");
    }
    // Touch every record so that each master has cached the update script
    // too, then count.
    for r in &records {
        assert!(store.touch(r).await.unwrap().is_some());
    }
    let r = &records[0];
    reset(&served.server);
    let token = r.id.to_string();
    assert!(store.load(&token, r.created_at).await.unwrap().is_some());
    assert_eq!(total_commands(&served.server), [("hgetall".to_owned(), 1)]);

    reset(&served.server);
    assert!(store.touch(r).await.unwrap().is_some());
    assert_one_script_call(&total_commands(&served.server));

    reset(&served.server);
    let fresh = record_with(&[("a", "1")]);
    assert!(store.create(&fresh).await.unwrap().is_some());
    assert_one_script_call(&total_commands(&served.server));

    reset(&served.server);
    store.delete(&r.id).await.unwrap();
    assert_eq!(total_commands(&served.server), [("del".to_owned(), 1)]);
}
