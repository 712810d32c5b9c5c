//! The adapter conformance suite against this app, on every store.

session_testkit::adapter_suite!(memory, env!("CARGO_BIN_EXE_example-actix"), memory);
session_testkit::adapter_suite!(cookie, env!("CARGO_BIN_EXE_example-actix"), cookie);
session_testkit::adapter_suite!(redis, env!("CARGO_BIN_EXE_example-actix"), redis);
