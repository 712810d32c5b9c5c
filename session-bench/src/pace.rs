//! Latency at a fixed request rate (open loop), ours and the peer at the
//! same rate.
//!
//! wrk keeps 32 requests in flight and sends the next as soon as one is
//! answered (closed loop). At full load its p99 is mostly queueing behind
//! those 32 and the VM's tail events, and each server is measured at its
//! own load. Here requests go out on a fixed schedule whatever the server
//! answers, over a pool of keep-alive connections (a request waits only
//! while every connection is busy), and each latency counts from the
//! moment the schedule said to send it: a stall is charged to every
//! request it delays (no coordinated omission).
//!
//! One thread keeps the schedule and runs the connections, and spins on
//! its core: a sleep wakes tens of µs late on this VM. So only rows that
//! leave the load core to the load generator are measured this way (not
//! Redis rows: redis-server shares that core).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use session_testkit::RedisServer;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};

use crate::load::{self, Server};
use crate::report::median_of;
use crate::{session_cookie, Results, Target, ROUTES};

/// Connections in the pool, as many as wrk's.
pub const CONNECTIONS: usize = 32;

/// The rate, as a fraction of the slower server's closed-loop req/s. At
/// half load both servers of a pair answered alike within the noise (the
/// latency is loopback and the load generator; axum, 65 000 req/s: p99
/// 106–231 µs ours, 107–200 µs tower-sessions); at 0.8 each one's cost
/// per request shows in the tail.
pub const LOAD: f64 = 0.8;

/// Most requests one run may schedule (their latencies are kept: 4 bytes
/// each).
const MAX_REQUESTS: f64 = 1e8;

/// How long answers still in flight are awaited after the last send.
const DRAIN: Duration = Duration::from_secs(5);

/// What one fixed-rate run measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Requests the schedule called for.
    pub scheduled: u64,
    /// Answered with a 2xx status.
    pub answered: u64,
    /// Not answered with a 2xx: another status, lost with their
    /// connection, unanswered after the drain, or never sent because every
    /// connection was lost.
    pub errors: u64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// 99.9th percentile, µs.
    pub p999_us: f64,
}

/// Sends `GET path` (with `cookie`) to `addr`, `rate` requests a second
/// for `secs` seconds, over [`CONNECTIONS`] connections.
pub fn measure(
    addr: SocketAddr,
    path: &str,
    cookie: Option<&str>,
    rate: f64,
    secs: f64,
) -> Result<Latency, String> {
    // Finite and bounded: the latencies of every request are kept.
    let total = rate * secs;
    if !(rate.is_finite() && rate >= 1.0 && secs > 0.0 && total <= MAX_REQUESTS) {
        return Err(format!(
            "need a rate of at least 1/s, a duration, and at most {MAX_REQUESTS} requests: {rate}/s for {secs} s"
        ));
    }
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    if let Some(c) = cookie {
        request.push_str("Cookie: ");
        request.push_str(c);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let scheduled = total.round() as u64;
    tokio::task::LocalSet::new().block_on(&rt, run(addr, request.into_bytes(), rate, scheduled))
}

/// State the connections share with the dispatcher (one thread).
struct Pool {
    idle: Vec<usize>,
    in_flight: usize,
    live: usize,
    latencies: Vec<u32>,
}

async fn run(
    addr: SocketAddr,
    request: Vec<u8>,
    rate: f64,
    scheduled: u64,
) -> Result<Latency, String> {
    let request: Rc<[u8]> = request.into();
    let pool = Rc::new(RefCell::new(Pool {
        idle: Vec::with_capacity(CONNECTIONS),
        in_flight: 0,
        live: CONNECTIONS,
        latencies: Vec::with_capacity(usize::try_from(scheduled).unwrap_or(0)),
    }));
    let freed = Rc::new(Notify::new());
    let mut senders = Vec::with_capacity(CONNECTIONS);
    let mut tasks = Vec::with_capacity(CONNECTIONS);
    for id in 0..CONNECTIONS {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::unbounded_channel();
        senders.push(tx);
        pool.borrow_mut().idle.push(id);
        let conn = Connection {
            id,
            stream,
            request: request.clone(),
            pool: pool.clone(),
            freed: freed.clone(),
        };
        tasks.push(tokio::task::spawn_local(conn.serve(rx)));
    }

    // The schedule is kept on this thread, between turns of the runtime:
    // `yield_now` resumes this task only after the I/O driver has been
    // polled, so the connections run and answers are read between two
    // looks at the clock. A sleep would wake tens of µs late on this VM
    // (more than the latencies measured), so the load core spins.
    let start = Instant::now();
    let mut next = 0u64;
    let mut waiting: VecDeque<Instant> = VecDeque::new();
    loop {
        let now = Instant::now();
        while next < scheduled {
            let due = start + Duration::from_secs_f64(next as f64 / rate);
            if due > now {
                break;
            }
            waiting.push_back(due);
            next += 1;
        }
        {
            let mut p = pool.borrow_mut();
            while !waiting.is_empty() {
                let Some(id) = p.idle.pop() else { break };
                if let Some(due) = waiting.pop_front() {
                    p.in_flight += 1;
                    if senders[id].send(due).is_err() {
                        p.in_flight -= 1;
                    }
                }
            }
            if p.live == 0 || (next == scheduled && waiting.is_empty()) {
                break;
            }
        }
        tokio::task::yield_now().await;
    }
    // Answers still in flight, for a while.
    let deadline = tokio::time::Instant::now() + DRAIN;
    while pool.borrow().in_flight > 0 {
        if tokio::time::timeout_at(deadline, freed.notified())
            .await
            .is_err()
        {
            break;
        }
    }
    drop(senders);
    for t in tasks {
        t.abort();
    }
    let mut latencies = std::mem::take(&mut pool.borrow_mut().latencies);
    latencies.sort_unstable();
    let answered = latencies.len() as u64;
    Ok(Latency {
        scheduled,
        answered,
        errors: scheduled.saturating_sub(answered),
        p50_us: percentile(&latencies, 0.50),
        p99_us: percentile(&latencies, 0.99),
        p999_us: percentile(&latencies, 0.999),
    })
}

/// One keep-alive connection of the pool.
struct Connection {
    id: usize,
    stream: TcpStream,
    request: Rc<[u8]>,
    pool: Rc<RefCell<Pool>>,
    freed: Rc<Notify>,
}

impl Connection {
    async fn serve(self, mut work: mpsc::UnboundedReceiver<Instant>) {
        let mut buf = Vec::with_capacity(4096);
        while let Some(due) = work.recv().await {
            let answer = self.exchange(&mut buf).await;
            let took = due.elapsed();
            let mut p = self.pool.borrow_mut();
            p.in_flight -= 1;
            match answer {
                Ok(status) if (200..300).contains(&status) => {
                    p.latencies
                        .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                }
                Ok(_) => {}
                Err(_) => {
                    p.live -= 1;
                    drop(p);
                    self.freed.notify_one();
                    return;
                }
            }
            p.idle.push(self.id);
            drop(p);
            self.freed.notify_one();
        }
    }

    /// Sends the request and reads one response: its status.
    async fn exchange(&self, buf: &mut Vec<u8>) -> std::io::Result<u16> {
        let mut sent = 0;
        while sent < self.request.len() {
            match self.stream.try_write(&self.request[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.stream.writable().await?,
                Err(e) => return Err(e),
            }
        }
        loop {
            if let Some((status, len)) = response(buf)? {
                buf.drain(..len);
                return Ok(status);
            }
            let old = buf.len();
            buf.resize(old + 4096, 0);
            let read = self.stream.try_read(&mut buf[old..]);
            buf.truncate(old + *read.as_ref().unwrap_or(&0));
            match read {
                Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.stream.readable().await?,
                Err(e) => return Err(e),
            }
        }
    }
}

/// The status and length of the complete response at the start of `buf`,
/// `None` while it is incomplete. Only `Content-Length` bodies (every
/// server measured here sends one).
pub(crate) fn response(buf: &[u8]) -> std::io::Result<Option<(u16, usize)>> {
    let bad = |what: &str| std::io::Error::new(ErrorKind::InvalidData, what.to_owned());
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > 64 * 1024 {
            Err(bad("response head over 64 KiB"))
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| bad("response head not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let length: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .ok_or_else(|| bad("no Content-Length"))?;
    let total = end + 4 + length;
    Ok((buf.len() >= total).then_some((status, total)))
}

/// The `q` quantile of sorted `v`, NaN when empty.
fn percentile(v: &[u32], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    f64::from(v[rank - 1])
}

/// Runs [`measure`] in `session-bench pace` on core 1, beside wrk's core.
fn measure_pinned(
    server: &Server,
    path: &str,
    cookie: Option<&str>,
    rate: f64,
    secs: u64,
) -> Result<Latency, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new("taskset")
        .args(["-c", "1"])
        .arg(me)
        .args([
            "pace",
            &server.addr.to_string(),
            path,
            cookie.unwrap_or("-"),
        ])
        .arg(format!("{rate:.0}"))
        .arg(secs.to_string())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run session-bench pace: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("session-bench pace failed: {text}"));
    }
    parse(&text).ok_or_else(|| format!("cannot read session-bench pace's answer: {text}"))
}

/// What `session-bench pace` prints: one line, read back by [`parse`].
pub fn line(l: &Latency) -> String {
    format!(
        "scheduled={} answered={} errors={} p50={:.0} p99={:.0} p999={:.0}",
        l.scheduled, l.answered, l.errors, l.p50_us, l.p99_us, l.p999_us
    )
}

/// Reads a [`line()`].
pub(crate) fn parse(text: &str) -> Option<Latency> {
    let mut l = Latency::default();
    let mut seen = 0;
    for field in text.split_whitespace() {
        let (k, v) = field.split_once('=')?;
        match k {
            "scheduled" => l.scheduled = v.parse().ok()?,
            "answered" => l.answered = v.parse().ok()?,
            "errors" => l.errors = v.parse().ok()?,
            "p50" => l.p50_us = v.parse().ok()?,
            "p99" => l.p99_us = v.parse().ok()?,
            "p999" => l.p999_us = v.parse().ok()?,
            _ => continue,
        }
        seen += 1;
    }
    (seen == 6).then_some(l)
}

/// Label → route → the rate and one [`Latency`] per repetition.
pub type Paced = BTreeMap<String, BTreeMap<&'static str, (f64, Vec<Latency>)>>;

/// For each of our rows with a peer, but Redis rows: both at the same
/// fixed rate ([`LOAD`] of the slower one's median req/s in `results`),
/// `reps` times per route, alternating which goes first.
pub fn compare(
    targets: &[Target],
    redis: &RedisServer,
    rt: &tokio::runtime::Runtime,
    results: &Results,
    reps: usize,
    secs: u64,
) -> Result<Paced, String> {
    let mut out = Paced::new();
    for ours in targets.iter().filter(|t| t.peer.is_some() && !t.redis) {
        let Some(peer) = targets.iter().find(|p| Some(p.label.as_str()) == ours.peer) else {
            continue;
        };
        let pair = [ours, peer];
        let mut servers = Vec::with_capacity(2);
        for t in pair {
            let server = t.start(redis)?;
            let cookie = rt.block_on(session_cookie(&server))?;
            load::wrk(&server, ROUTES[0], cookie.as_deref(), 1)?;
            servers.push((server, cookie));
        }
        for route in ROUTES {
            let slower = pair
                .iter()
                .map(|t| median_of(results, &t.label, route, |r| r.rps))
                .fold(f64::INFINITY, f64::min);
            if !slower.is_finite() {
                continue;
            }
            let rate = (slower * LOAD).round();
            for rep in 0..reps {
                for i in [rep % 2, 1 - rep % 2] {
                    let (server, cookie) = &servers[i];
                    let l = measure_pinned(server, route, cookie.as_deref(), rate, secs)?;
                    eprintln!(
                        "paced {}/{reps} {:<30} {route:<14} {rate:>7.0} req/s  p50 {:>5.0}  p99 {:>5.0}  p99.9 {:>5.0} µs  errors {}",
                        rep + 1,
                        pair[i].label,
                        l.p50_us,
                        l.p99_us,
                        l.p999_us,
                        l.errors
                    );
                    let slot = out
                        .entry(pair[i].label.clone())
                        .or_default()
                        .entry(route)
                        .or_insert((rate, Vec::new()));
                    slot.1.push(l);
                }
            }
        }
    }
    Ok(out)
}

/// The median of `f` over `label`'s runs on `route`, and the rate.
pub fn median(paced: &Paced, label: &str, route: &str, f: fn(&Latency) -> f64) -> (f64, f64) {
    paced
        .get(label)
        .and_then(|r| r.get(route))
        .map_or((f64::NAN, f64::NAN), |(rate, runs)| {
            (crate::report::spread(runs.iter().map(f).collect()).0, *rate)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn responses_are_framed_by_content_length() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        assert_eq!(response(ok).unwrap(), Some((200, ok.len())));
        assert_eq!(response(&ok[..ok.len() - 1]).unwrap(), None);
        assert_eq!(response(&ok[..20]).unwrap(), None);
        let two = [&ok[..], b"HTTP/1.1 503 X\r\nContent-Length: 0\r\n\r\n"].concat();
        assert_eq!(response(&two).unwrap(), Some((200, ok.len())));
        assert_eq!(
            response(&two[ok.len()..]).unwrap(),
            Some((503, two.len() - ok.len()))
        );
        assert!(response(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(response(b"nonsense\r\n\r\n").is_err());
    }

    #[test]
    fn percentiles_and_the_report_line() {
        let v: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile(&v, 0.5), 500.0);
        assert_eq!(percentile(&v, 0.99), 990.0);
        assert_eq!(percentile(&v, 0.999), 999.0);
        assert!(percentile(&[], 0.5).is_nan());
        let l = Latency {
            scheduled: 10,
            answered: 9,
            errors: 1,
            p50_us: 40.0,
            p99_us: 90.0,
            p999_us: 120.0,
        };
        assert_eq!(parse(&line(&l)), Some(l));
        assert_eq!(parse("scheduled=1"), None);
    }

    /// A server on 127.0.0.1 that answers `status` to every request, one
    /// thread per connection.
    fn server(status: u16) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut conn = conn;
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    while let Ok(n) = conn.read(&mut chunk) {
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            let body = "counter: 1";
                            let answer = format!(
                                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if conn.write_all(answer.as_bytes()).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        addr
    }

    #[test]
    fn every_scheduled_request_is_sent_and_answered_once() {
        let l = measure(server(200), "/counter", Some("session=x"), 2000.0, 0.5).unwrap();
        assert_eq!(l.scheduled, 1000);
        assert_eq!((l.answered, l.errors), (1000, 0));
        assert!(l.p50_us <= l.p99_us && l.p99_us <= l.p999_us);
    }

    #[test]
    fn answers_other_than_2xx_are_errors() {
        let l = measure(server(503), "/counter", None, 1000.0, 0.2).unwrap();
        assert_eq!((l.scheduled, l.answered, l.errors), (200, 0, 200));
        assert!(l.p99_us.is_nan());
    }

    #[test]
    fn a_server_that_is_not_there_is_an_error() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert!(measure(addr, "/", None, 100.0, 0.1)
            .unwrap_err()
            .contains("cannot connect"));
        for (rate, secs) in [
            (f64::INFINITY, 1.0),
            (f64::NAN, 1.0),
            (0.5, 1.0),
            (1e9, 1.0),
            (10.0, 0.0),
        ] {
            assert!(measure(addr, "/", None, rate, secs)
                .unwrap_err()
                .contains("need a rate"));
        }
    }
}
