//! Starting servers pinned to one core, and measuring them with wrk pinned
//! to the other.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, killed on drop.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Runs `program args` with `env` on core 0 and waits for its port.
    pub fn start(program: &str, args: &[String], env: &[(String, String)]) -> Result<Self, String> {
        let port = session_testkit::free_port();
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", "0", program])
            .args(args)
            .env("PORT", port.to_string())
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Peers take the port as their last argument.
        if args.first().map(String::as_str) == Some("serve-peer") {
            cmd.arg(port.to_string());
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                return Err(format!("{program} {args:?} did not listen"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Self { child, addr })
    }

    /// CPU time (user + system, all threads) used so far, in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the ")" that ends the command name: utime is the
        // 12th, stime the 13th.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / clock_ticks()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// One wrk run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Run {
    /// Requests per second.
    pub rps: f64,
    /// 99th percentile latency in microseconds.
    pub p99_us: f64,
    /// Server CPU per request in microseconds.
    pub cpu_us: f64,
    /// Non-2xx answers and socket errors.
    pub errors: u64,
}

/// `wrk -t1 -c<conns> -d<secs>s --latency` on core 1 against `path`,
/// sending `cookie` if any.
fn wrk_command(
    server: &Server,
    path: &str,
    cookie: Option<&str>,
    secs: u64,
    conns: u32,
) -> Command {
    let url = format!("http://{}{path}", server.addr);
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "1", "wrk", "-t1", "--latency"])
        .arg(format!("-c{conns}"))
        .arg(format!("-d{secs}s"));
    if let Some(c) = cookie {
        cmd.arg("-H").arg(format!("Cookie: {c}"));
    }
    cmd.arg(url).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

fn wrk_output(out: std::process::Output) -> Result<String, String> {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(text)
}

const NO_WRK: &str = "cannot run wrk (apt-get install wrk)";

/// `wrk -t1 -c32 -d<secs>s --latency` on core 1 against `path`, sending
/// `cookie` if any.
pub fn wrk(server: &Server, path: &str, cookie: Option<&str>, secs: u64) -> Result<Run, String> {
    let cpu_before = server.cpu_seconds();
    let out = wrk_command(server, path, cookie, secs, 32)
        .output()
        .map_err(|e| format!("{NO_WRK}: {e}"))?;
    let cpu_after = server.cpu_seconds();
    let (mut run, requests) = parse(&wrk_output(out)?);
    if requests > 0.0 {
        run.cpu_us = (cpu_after - cpu_before) * 1e6 / requests;
    }
    Ok(run)
}

/// Loads two servers at once, 16 connections each (32 in all, as
/// [`wrk`]): both run on core 0 together, so a slow second of the VM
/// slows both alike. Returns each one's req/s.
pub fn wrk_pair(
    (a, cookie_a): (&Server, Option<&str>),
    (b, cookie_b): (&Server, Option<&str>),
    path: &str,
    secs: u64,
) -> Result<(f64, f64), String> {
    let spawn = |s, c| {
        wrk_command(s, path, c, secs, 16)
            .spawn()
            .map_err(|e| format!("{NO_WRK}: {e}"))
    };
    let first = spawn(a, cookie_a)?;
    let second = spawn(b, cookie_b)?;
    let wait = |child: std::process::Child| {
        child
            .wait_with_output()
            .map_err(|e| format!("wrk: {e}"))
            .and_then(wrk_output)
    };
    let (first, second) = (wait(first)?, wait(second)?);
    Ok((parse(&first).0.rps, parse(&second).0.rps))
}

/// A wrk report's figures, and the number of requests it made.
fn parse(text: &str) -> (Run, f64) {
    let mut run = Run::default();
    let mut requests = 0.0;
    for line in text.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            run.rps = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("99%") {
            run.p99_us = micros(v.trim());
        } else if line.contains("requests in") {
            requests = line
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            run.errors += v.trim().parse::<u64>().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            run.errors += v
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    (run, requests)
}

/// "1.23ms" → 1230.
fn micros(v: &str) -> f64 {
    let (num, mult) = if let Some(n) = v.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1e6)
    } else {
        (v, 1.0)
    };
    num.parse::<f64>().unwrap_or(0.0) * mult
}

#[cfg(test)]
mod tests {
    #[test]
    fn latency_units() {
        assert_eq!(super::micros("250.00us"), 250.0);
        assert_eq!(super::micros("1.50ms"), 1500.0);
        assert_eq!(super::micros("2.00s"), 2e6);
    }
}
