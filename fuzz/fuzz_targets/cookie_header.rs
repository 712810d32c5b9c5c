//! Cookie header → the core's start/resume/finish: never a panic, a token
//! only when it is a valid id, and a fresh session never writes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::{SessionConfig, SessionCore, SessionId, Timestamp};

fuzz_target!(|data: &[u8]| {
    let core = SessionCore::new(SessionConfig::default(), false);
    // Split the input into up to three Cookie headers.
    let parts: Vec<&[u8]> = data.splitn(3, |b| *b == b'\n').collect();
    let start = core.start(parts.iter().copied());
    if let Some(token) = start.token() {
        assert!(SessionId::parse(token).is_some());
    }
    let now = Timestamp::from_unix_millis(1_700_000_000_000);
    let session = core.resume(start, None, now).session;
    let _ = session.cookies().get("a");
    let commit = core.finish(&session, 200, now).expect("finish");
    assert!(commit.save.is_none() && commit.delete.is_none());
});
