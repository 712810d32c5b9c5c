//! The workspace's store conformance suite, each case on its own real
//! `redis-server`.

mod common;

session_testkit::store_suite!(redis_single_node, server_side, || async {
    common::Served::single()
});
