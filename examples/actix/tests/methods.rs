//! Methods beyond the contract's `GET`, answered as example-axum does:
//! `HEAD` like `GET` without a body, other methods `405` with `Allow`.

use session_testkit::adapter::{App, Store};
use session_testkit::block_on;
use session_testkit::http::send;

const BIN: &str = env!("CARGO_BIN_EXE_example-actix");

#[test]
fn head_answers_like_get() {
    let app = App::spawn(BIN, Store::Memory, &[]);
    block_on(async {
        let get = send(app.addr(), "GET", "/counter", &[]).await.expect("GET");
        let head = send(app.addr(), "HEAD", "/counter", &[])
            .await
            .expect("HEAD");
        assert_eq!(head.status, 200);
        assert_eq!(head.body, "");
        for name in ["content-type", "content-length", "vary"] {
            assert_eq!(head.header(name), get.header(name), "{name}");
        }
        assert_eq!(get.body, "counter: 0");
    });
}

#[test]
fn other_methods_are_405_with_allow() {
    let app = App::spawn(BIN, Store::Memory, &[]);
    block_on(async {
        for path in ["/", "/login/alice", "/counter/incr"] {
            let resp = send(app.addr(), "POST", path, &[]).await.expect("POST");
            assert_eq!(resp.status, 405, "{path}");
            assert_eq!(resp.header("allow"), Some("GET,HEAD"), "{path}");
            assert!(resp.set_cookies().is_empty(), "{path}");
        }
        let resp = send(app.addr(), "GET", "/nope", &[]).await.expect("GET");
        assert_eq!(resp.status, 404);
    });
}
