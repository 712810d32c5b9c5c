//! Redis killed and restarted under load (see `session_testkit::adapter::redis_outage`).
//! Run with `--nocapture` to see the figures.

#[test]
fn redis_outage_under_load() {
    let report = session_testkit::block_on(session_testkit::adapter::redis_outage(env!(
        "CARGO_BIN_EXE_example-actix"
    )));
    println!(
        "actix: {} requests, {} answered 503, first 200 {:?} after Redis was back",
        report.requests, report.unavailable, report.recovery
    );
}
