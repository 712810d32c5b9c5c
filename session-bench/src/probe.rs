//! Redis commands per request, from `INFO commandstats`, for read, write
//! and touch requests, sent one at a time.

use std::time::Duration;

use session_testkit::http::send;
use session_testkit::RedisServer;

use crate::{session_cookie, Target};

/// Per Redis target: (read, write, touch) commands per request, with the
/// commands seen.
pub type Commands = Vec<(String, [(f64, String); 3])>;

const PROBES: usize = 200;

/// Watches `MONITOR` and counts the commands clients send (a command a
/// Lua script runs inside Redis shows as `[0 lua]` and is not a round
/// trip).
struct Monitor {
    stream: std::net::TcpStream,
    lines: std::thread::JoinHandle<(usize, usize)>,
}

impl Monitor {
    fn start(redis: &RedisServer) -> Result<Self, String> {
        use std::io::{BufRead, BufReader, Write};
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", redis.port())).map_err(|e| e.to_string())?;
        stream
            .write_all(b"MONITOR\r\n")
            .map_err(|e| e.to_string())?;
        let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        let mut ok = String::new();
        reader.read_line(&mut ok).map_err(|e| e.to_string())?;
        let lines = std::thread::spawn(move || {
            let (mut client, mut script) = (0, 0);
            for line in reader.lines().map_while(Result::ok) {
                if line.contains("[0 lua]") {
                    script += 1;
                } else if line.starts_with('+') {
                    client += 1;
                }
            }
            (client, script)
        });
        Ok(Self { stream, lines })
    }

    fn stop(self) -> (usize, usize) {
        std::thread::sleep(Duration::from_millis(100));
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        self.lines.join().unwrap_or_default()
    }
}

async fn per_request(
    redis: &RedisServer,
    target: &Target,
    path: &str,
    cookie: Option<&str>,
    addr: std::net::SocketAddr,
    n: usize,
) -> Result<(f64, String), String> {
    redis.reset_stats();
    let monitor = Monitor::start(redis)?;
    let headers: Vec<(&str, &[u8])> = cookie
        .map(|c| ("Cookie", c.as_bytes()))
        .into_iter()
        .collect();
    for _ in 0..n {
        let r = send(addr, "GET", path, &headers)
            .await
            .map_err(|e| e.to_string())?;
        if r.status != 200 {
            return Err(format!("{} {path}: status {}", target.label, r.status));
        }
    }
    let (client, _script) = monitor.stop();
    let (_, seen) = summarize(redis, n);
    Ok((client as f64 / n as f64, seen))
}

fn summarize(redis: &RedisServer, n: usize) -> (f64, String) {
    let counts: Vec<(String, u64)> = redis
        .command_counts()
        .into_iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "config|resetstat" | "info" | "config" | "monitor"
            )
        })
        .collect();
    let total: u64 = counts.iter().map(|(_, c)| c).sum();
    let seen = if counts.is_empty() {
        "none".to_owned()
    } else {
        counts
            .iter()
            .map(|(name, c)| format!("{name}={c}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    (total as f64 / n as f64, seen)
}

/// Probes every Redis-backed target.
pub async fn redis_commands(targets: &[Target], redis: &RedisServer) -> Result<Commands, String> {
    let mut out = Commands::new();
    for t in targets.iter().filter(|t| t.redis) {
        let server = t.start(redis)?;
        let cookie = session_cookie(&server).await?;
        let read =
            per_request(redis, t, "/counter", cookie.as_deref(), server.addr, PROBES).await?;
        let write = per_request(
            redis,
            t,
            "/counter/incr",
            cookie.as_deref(),
            server.addr,
            PROBES,
        )
        .await?;
        drop(server);
        // A touch is due once a quarter of the idle window has passed: a
        // 4 s idle timeout and a 1.2 s pause make every probe a touch.
        let touch = if t.label.contains("-ours-") {
            let mut fast = t.clone();
            fast.set_env("SESSION_IDLE_TIMEOUT", "4");
            let server = fast.start(redis)?;
            let cookie = session_cookie(&server).await?;
            let mut total = 0.0;
            let mut seen = String::new();
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(1200)).await;
                let (n, s) =
                    per_request(redis, t, "/counter", cookie.as_deref(), server.addr, 1).await?;
                total += n;
                seen = s;
            }
            (total / 3.0, seen)
        } else {
            (f64::NAN, "no throttled touch (same as read)".to_owned())
        };
        eprintln!(
            "redis commands {:<28} read {:.2} write {:.2} touch {:.2}",
            t.label, read.0, write.0, touch.0
        );
        out.push((t.label.clone(), [read, write, touch]));
    }
    Ok(out)
}
