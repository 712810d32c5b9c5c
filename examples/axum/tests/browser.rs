//! A real browser against the example app: headless Chromium driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`, installed by
//! `scripts/test.sh`). Login, the flash shown once, the session cookie
//! hidden from scripts, logout, and the idle timeout landing on `/`.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use session_testkit::adapter::{App, Store};
use session_testkit::block_on;

struct Driver(Child, u16);

impl Driver {
    fn start() -> Self {
        let port = session_testkit::free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver not found: apt-get install -y chromium chromium-driver (scripts/test.sh does)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self(child, port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn browser(driver: &Driver) -> Client {
    let profile = std::env::temp_dir().join(format!("session-browser-{}", std::process::id()));
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::rustls()
        .expect("rustls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("start a Chromium session")
}

async fn page(c: &Client, base: &str, path: &str) -> String {
    c.goto(&format!("{base}{path}")).await.expect("navigate");
    let text = c
        .execute("return document.body.innerText", vec![])
        .await
        .expect("read the page");
    text.as_str().unwrap_or_default().trim().to_owned()
}

#[test]
fn a_real_browser_walks_the_contract() {
    let driver = Driver::start();
    let app = App::spawn(
        env!("CARGO_BIN_EXE_example-axum"),
        Store::Memory,
        &[("SESSION_IDLE_TIMEOUT", "2")],
    );
    let base = format!("http://{}", app.addr());
    block_on(async {
        let c = browser(&driver).await;
        assert_eq!(page(&c, &base, "/").await, "user: none");
        assert_eq!(page(&c, &base, "/login/alice").await, "User set to: alice");
        // The flash, once; the browser's own requests (favicon) do not eat it.
        assert_eq!(
            page(&c, &base, "/").await,
            "user: alice\nflash: Welcome, alice"
        );
        assert_eq!(page(&c, &base, "/").await, "user: alice");
        // HttpOnly: scripts never see the session cookie.
        page(&c, &base, "/cookie/set").await;
        let cookies = c.execute("return document.cookie", vec![]).await.unwrap();
        let cookies = cookies.as_str().unwrap_or_default();
        assert!(
            !cookies.contains("example-app-sessions"),
            "document.cookie = {cookies:?}"
        );
        assert_eq!(page(&c, &base, "/cookie").await, "username: Alice");
        // Logout.
        assert_eq!(page(&c, &base, "/logout").await, "Session cleared");
        assert_eq!(page(&c, &base, "/").await, "user: none");
        // Idle timeout: a request after 2 s of inactivity lands on `/`.
        page(&c, &base, "/login/bob").await;
        assert_eq!(page(&c, &base, "/counter/incr").await, "counter: 1");
        tokio::time::sleep(Duration::from_millis(2600)).await;
        let text = page(&c, &base, "/counter").await;
        let url = c.current_url().await.unwrap();
        assert_eq!(url.path(), "/", "redirected to / after the timeout");
        assert_eq!(text, "user: none");
        c.close().await.unwrap();
    });
}
