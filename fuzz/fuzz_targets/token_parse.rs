//! Token parsing: `SessionId::parse` accepts exactly the 32-character
//! base64url texts, and round-trips what it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::SessionId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(id) = SessionId::parse(text) {
        assert_eq!(id.to_string(), text);
        assert_eq!(text.len(), 32);
    } else {
        assert!(
            text.len() != 32
                || text
                    .bytes()
                    .any(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        );
    }
});
