//! # session-bench
//!
//! HTTP load runs on loopback: each example app on its read route
//! (`GET /counter`) and write route (`GET /counter/incr`) with each store,
//! beside the same framework with no sessions and beside the peer
//! libraries on the same routes, and beside two floors (see [`floor`]):
//! the least a session layer can do on axum. Every server runs one worker pinned to
//! core 0; wrk (`-t1 -c32`) runs pinned to core 1; each configuration is
//! measured in interleaved rounds (five by default, each starting one
//! configuration further on) and medians are reported. Then each
//! non-Redis row is loaded at the same time as its no-session baseline,
//! both on core 0 (see [`paired`]), for a ratio the VM's drift does not
//! move. Then each of our rows with a peer and that peer at the same
//! fixed request rate, for latency without wrk's closed loop (see
//! [`pace`]). Then Redis commands per request from `INFO commandstats`.
//! Writes `BENCHMARKS.md` and `docs/bench-ratios.svg`.
//!
//! Run everything with `./scripts/bench.sh`; this binary alone with
//! `cargo run --release -p session-bench -- run [--rounds N] [--secs S]`;
//! `--only axum-none,axum-ours` measures and prints only the rows whose
//! label contains one of the words, without writing `BENCHMARKS.md`.

mod floor;
mod load;
mod pace;
mod paired;
mod peers;
mod probe;
mod report;
mod steal;
mod targets;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use load::{Run, Server};
use session_testkit::adapter::TEST_KEY;
use session_testkit::http::send;
use session_testkit::RedisServer;

/// The routes measured.
pub const ROUTES: [&str; 2] = ["/counter", "/counter/incr"];

/// One server configuration.
#[derive(Debug, Clone)]
pub struct Target {
    /// Row label, e.g. `axum-ours-memory`.
    pub label: String,
    /// `axum`, `actix` or `rocket`.
    pub framework: &'static str,
    /// The matching no-session row.
    pub baseline: String,
    /// The matching peer row, if there is one.
    pub peer: Option<&'static str>,
    /// Whether it talks to Redis.
    pub redis: bool,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Target {
    fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    fn start(&self, redis: &RedisServer) -> Result<Server, String> {
        let mut env = self.env.clone();
        env.push(("REDIS_URL".into(), redis.url()));
        Server::start(&self.program.to_string_lossy(), &self.args, &env)
    }
}

fn targets(dir: &std::path::Path, me: &std::path::Path) -> Vec<Target> {
    let mut out = Vec::new();
    let peer = |label: &str, fw: &'static str, redis: bool| Target {
        label: label.into(),
        framework: fw,
        baseline: format!("{fw}-none"),
        peer: None,
        redis,
        program: me.to_path_buf(),
        args: vec!["serve-peer".into(), label.into()],
        env: vec![],
    };
    for fw in ["axum", "actix", "rocket"] {
        out.push(peer(&format!("{fw}-none"), fw, false));
        for store in ["memory", "cookie", "redis"] {
            let matching = match (fw, store) {
                ("axum", "memory") => Some("axum-tower-sessions-memory"),
                ("axum", "redis") => Some("axum-tower-sessions-redis"),
                ("actix", "cookie") => Some("actix-session-cookie"),
                ("actix", "redis") => Some("actix-session-redis"),
                _ => None,
            };
            out.push(Target {
                label: format!("{fw}-ours-{store}"),
                framework: fw,
                baseline: format!("{fw}-none"),
                peer: matching,
                redis: store == "redis",
                program: dir.join(format!("example-{fw}")),
                args: vec![],
                env: vec![
                    ("SESSION_STORE".into(), store.into()),
                    ("SESSION_KEY".into(), TEST_KEY.into()),
                    ("WORKERS".into(), "1".into()),
                ],
            });
        }
    }
    out.push(peer("axum-tower-sessions-memory", "axum", false));
    out.push(peer("axum-tower-sessions-redis", "axum", true));
    out.push(peer("axum-floor-memory", "axum", false));
    out.push(peer("axum-floor-cookie", "axum", false));
    out.push(peer("actix-session-cookie", "actix", false));
    out.push(peer("actix-session-redis", "actix", true));
    out
}

/// Creates a session with one write and returns its `Cookie` header, if
/// the server set a cookie.
pub async fn session_cookie(server: &Server) -> Result<Option<String>, String> {
    let resp = send(server.addr, "GET", "/counter/incr", &[])
        .await
        .map_err(|e| e.to_string())?;
    Ok(resp
        .set_cookies()
        .first()
        .and_then(|c| c.split(';').next())
        .map(str::to_owned))
}

/// All measured runs: label → route → runs.
pub type Results = BTreeMap<String, BTreeMap<&'static str, Vec<Run>>>;

fn run(rounds: usize, secs: u64, only: Option<&str>) -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = me.parent().ok_or("no binary dir")?.to_path_buf();
    for fw in ["axum", "actix", "rocket"] {
        let bin = dir.join(format!("example-{fw}"));
        if !bin.exists() {
            return Err(format!(
                "{} is missing: build with `cargo build --release -p example-{fw}` (scripts/bench.sh does)",
                bin.display()
            ));
        }
    }
    let redis = RedisServer::start();
    if let Some(pid) = redis.pid() {
        // Redis shares the load generator's core, as in the peers' figures.
        let _ = std::process::Command::new("taskset")
            .args(["-a", "-p", "-c", "1", &pid.to_string()])
            .output();
    }
    let mut targets = targets(&dir, &me);
    if let Some(only) = only {
        // A quick look at some rows: printed, not written to BENCHMARKS.md.
        let wanted: Vec<&str> = only.split(',').collect();
        targets.retain(|t| wanted.iter().any(|w| t.label.contains(w)));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut results = Results::new();
    let steal_from = steal::sample();
    for round in 1..=rounds {
        // Each round starts one configuration further on: a slow minute
        // of the VM does not always fall on the same rows.
        let start = (round - 1) % targets.len().max(1);
        let order = targets[start..].iter().chain(&targets[..start]);
        for t in order {
            let server = t.start(&redis)?;
            let run_from = steal::sample();
            // The no-session rows get a cookie of the same size, so every
            // configuration parses the same request.
            let cookie = rt
                .block_on(session_cookie(&server))?
                .or_else(|| Some(format!("id={}", "A".repeat(32))));
            // Warm up caches, connections and allocators.
            load::wrk(&server, ROUTES[0], cookie.as_deref(), 1)?;
            for route in ROUTES {
                let r = load::wrk(&server, route, cookie.as_deref(), secs)?;
                let stolen = steal::percent(run_from, steal::sample()).unwrap_or(f64::NAN);
                eprintln!(
                    "round {round}/{rounds} {:<30} {route:<14} {:>9.0} req/s  p99 {:>6.0} µs  cpu {:>5.2} µs/req  steal {stolen:>4.1}%",
                    t.label, r.rps, r.p99_us, r.cpu_us
                );
                results
                    .entry(t.label.clone())
                    .or_default()
                    .entry(route)
                    .or_default()
                    .push(r);
            }
        }
    }
    // Then each row beside its baseline at the same moment: the ratio
    // the bounds are about, without the drift between rounds.
    let paired = paired::measure(&targets, &redis, &rt, rounds, secs)?;
    // Then each of our rows and its peer at the same fixed rate: the p99
    // of a closed-loop run at full load is mostly queueing and noise.
    let paced = pace::compare(&targets, &redis, &rt, &results, rounds, secs)?;
    let stolen = steal::percent(steal_from, steal::sample());
    if let Some(p) = stolen {
        eprintln!("CPU steal during the load runs: {p:.1}%");
    }
    if only.is_some() {
        for (label, routes) in &results {
            for (route, runs) in routes {
                let (p99, rate) = pace::median(&paced, label, route, |l| l.p99_us);
                eprintln!(
                    "median {label:<30} {route:<14} {:>9.0} req/s  cpu {:>5.2} µs/req  paired ratio {:.3}  p99 {p99:.0} µs at {rate:.0} req/s",
                    report::stat(runs, |r| r.rps).0,
                    report::stat(runs, |r| r.cpu_us).0,
                    paired::median(&paired, label, route)
                );
            }
        }
        return Ok(());
    }
    let commands = rt.block_on(probe::redis_commands(&targets, &redis))?;
    let root = dir
        .ancestors()
        .find(|p| p.join("Cargo.lock").exists())
        .ok_or("cannot find the workspace root")?
        .to_path_buf();
    report::write(
        &root,
        &targets,
        (&results, &paired, &paced),
        &commands,
        (rounds, secs),
        stolen,
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve-peer") if args.len() >= 3 => {
            let port = args[2].parse().unwrap_or(0);
            let url =
                std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
            peers::serve(&args[1], port, &url)
        }
        Some("pace") if args.len() >= 6 => {
            // One fixed-rate run, for `run` to start on the load core.
            let parsed = (
                args[1].parse::<std::net::SocketAddr>(),
                args[4].parse::<f64>(),
                args[5].parse::<f64>(),
            );
            match parsed {
                (Ok(addr), Ok(rate), Ok(secs)) => {
                    let cookie = Some(args[3].as_str()).filter(|c| *c != "-");
                    pace::measure(addr, &args[2], cookie, rate, secs)
                        .map(|l| println!("{}", pace::line(&l)))
                }
                _ => Err(format!("bad pace arguments: {:?}", &args[1..])),
            }
        }
        Some("run") => {
            let flag = |name: &str, default: u64| {
                args.iter()
                    .position(|a| a == name)
                    .and_then(|i| args.get(i + 1))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default)
            };
            let only = args
                .iter()
                .position(|a| a == "--only")
                .and_then(|i| args.get(i + 1));
            run(
                flag("--rounds", 5).max(1) as usize,
                flag("--secs", 5),
                only.map(String::as_str),
            )
        }
        _ => Err(format!(
            "usage: session-bench run [--rounds N] [--secs S] [--only LABEL,..]\n       session-bench serve-peer <{}> <port>   (Redis from REDIS_URL)\n       session-bench pace <addr> <path> <cookie|-> <req/s> <secs>",
            peers::PEERS.join("|")
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("session-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
