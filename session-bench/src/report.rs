//! BENCHMARKS.md and the ratio plot.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::load::Run;
use crate::pace::{self, Paced};
use crate::paired::Paired;
use crate::probe::Commands;
use crate::{Results, Target, ROUTES};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Median, min and max of `v` (NaN when empty).
pub(crate) fn spread(v: Vec<f64>) -> (f64, f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (median(v), min, max)
}

/// Median, min and max of one figure of `runs`.
pub(crate) fn stat(runs: &[Run], f: fn(&Run) -> f64) -> (f64, f64, f64) {
    spread(runs.iter().map(f).collect())
}

pub(crate) fn median_of(results: &Results, label: &str, route: &str, f: fn(&Run) -> f64) -> f64 {
    results
        .get(label)
        .and_then(|r| r.get(route))
        .map_or(f64::NAN, |runs| stat(runs, f).0)
}

fn version_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            text.lines().next().unwrap_or("").trim().to_owned()
        })
        .unwrap_or_else(|_| "not found".into())
}

fn locked_versions(root: &Path) -> String {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let wanted = [
        "axum",
        "actix-web",
        "rocket",
        "tower-sessions",
        "tower-sessions-redis-store",
        "actix-session",
        "redis",
        "fred",
        "ring",
        "cookie",
        "tokio",
    ];
    let mut out = Vec::new();
    for block in lock.split("[[package]]") {
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k} = \"")))
                .map(|v| v.trim_end_matches('"').to_owned())
        };
        if let (Some(name), Some(version)) = (field("name"), field("version")) {
            if wanted.contains(&name.as_str()) {
                out.push(format!("{name} {version}"));
            }
        }
    }
    out.sort();
    out.join(", ")
}

/// Criterion's point estimates (mean, ns) under target/criterion.
fn criterion_rows(root: &Path) -> Vec<(String, f64)> {
    let mut rows = Vec::new();
    let base = root.join("target/criterion");
    let mut stack = vec![base.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.ends_with("new") && p.join("estimates.json").exists() {
                let text = std::fs::read_to_string(p.join("estimates.json")).unwrap_or_default();
                let mean = text
                    .split("\"mean\":")
                    .nth(1)
                    .and_then(|m| m.split("\"point_estimate\":").nth(1))
                    .and_then(|v| v.split([',', '}']).next())
                    .and_then(|v| v.trim().parse::<f64>().ok());
                if let (Some(mean), Ok(rel)) = (mean, p.parent().unwrap_or(&p).strip_prefix(&base))
                {
                    rows.push((rel.to_string_lossy().into_owned(), mean));
                }
            } else if p.is_dir() && !p.ends_with("report") {
                stack.push(p);
            }
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn ns(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} µs", v / 1000.0)
    } else {
        format!("{v:.0} ns")
    }
}

/// Writes BENCHMARKS.md and docs/bench-ratios.svg under `root`.
pub fn write(
    root: &Path,
    targets: &[Target],
    (results, paired, paced): (&Results, &Paired, &Paced),
    commands: &Commands,
    (rounds, secs): (usize, u64),
    stolen: Option<f64>,
) -> Result<(), String> {
    let mut md = String::new();
    let date = version_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(md, "Written by `session-bench` on {date}. Rerun everything with `./scripts/bench.sh` (criterion benches of the core and each store, then the load runs; about 35 minutes), or only the load runs with `cargo build --release -p example-axum -p example-actix -p example-rocket -p session-bench && ./target/release/session-bench run`.\n");
    let _ = writeln!(md, "## Method\n");
    let _ = writeln!(md, "- Machine: {} cores, {cpu}. Each server runs one worker thread pinned to core 0 (`taskset -c 0`); `wrk -t1 -c32 --latency -d{secs}s` and redis-server share core 1.", std::thread::available_parallelism().map_or(0, |n| n.get()));
    let _ = writeln!(md, "- Routes: `GET /counter` reads a counter from the session, `GET /counter/incr` increments it, all 32 connections sending the same session cookie (made by one write before the run). The no-session rows answer the same bodies without sessions and are sent a cookie of the same size, so every configuration parses the same request. The actix and rocket servers register the example apps' eight routes in the examples' order (both frameworks try routes one after another), so every server of a framework routes alike.");
    let _ = writeln!(md, "- {rounds} rounds; in each round every configuration is started fresh, warmed for 1 s and measured on both routes, and each round starts one configuration further down the list than the last; medians over rounds, with min–max. Server CPU is utime+stime of the server process over the run divided by the requests served. Then the paired runs (below): each non-Redis row beside its baseline at the same moment.");
    if let Some(p) = stolen {
        let _ = writeln!(md, "- CPU steal (time the hypervisor gave to other guests, from `/proc/stat`) during the load runs: {p:.1}%. Above a few percent, rounds of one configuration disagree by 10–20% (the min–max column), as much as the distance to several targets; server CPU per request is the steadier figure.");
    }
    let _ = writeln!(md, "- Ours: the example apps (`examples/*`) in release mode with `WORKERS=1`. Peers: axum + tower-sessions (MemoryStore; tower-sessions-redis-store over fred), actix-web + actix-session (CookieSessionStore, RedisSessionStore), from `session-bench/src/peers.rs`. Floors (`axum-floor-*`, `session-bench/src/floor.rs`): the least a session layer can do on axum, not a library: a counter in a `HashMap` by a 128-bit cookie id, or sealed alone (8 bytes, AES-256-GCM) in the cookie, handed to the handler in the request's extensions, with `Vary: Cookie` and, on a new cookie, `Cache-Control: no-store`; no timeouts, no typed values, no flash. They show how close to a bound any session layer can come on this machine.");
    let _ = writeln!(
        md,
        "- Versions: {}; {}; {}; {}.\n",
        version_line("rustc", &["--version"]),
        version_line("redis-server", &["--version"]),
        version_line("wrk", &["-v"]),
        locked_versions(root)
    );

    let _ = writeln!(md, "## Throughput and cost per request\n");
    let _ = writeln!(md, "| server | route | median req/s | min–max | ratio to no-session | ratio to peer | p99 µs | server CPU µs/req | Δ CPU vs no-session µs | errors |");
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut bars: Vec<(String, f64)> = Vec::new();
    for t in targets {
        for route in ROUTES {
            let Some(runs) = results.get(&t.label).and_then(|r| r.get(route)) else {
                continue;
            };
            let (rps, min, max) = stat(runs, |r| r.rps);
            let (p99, _, _) = stat(runs, |r| r.p99_us);
            let (cpu, _, _) = stat(runs, |r| r.cpu_us);
            let errors: u64 = runs.iter().map(|r| r.errors).sum();
            let base = median_of(results, &t.baseline, route, |r| r.rps);
            let base_cpu = median_of(results, &t.baseline, route, |r| r.cpu_us);
            let ratio = rps / base;
            let peer = t
                .peer
                .map(|p| rps / median_of(results, p, route, |r| r.rps));
            let _ = writeln!(
                md,
                "| {} | `{route}` | {rps:.0} | {min:.0}–{max:.0} | {ratio:.2} | {} | {p99:.0} | {cpu:.2} | {:+.2} | {errors} |",
                t.label,
                peer.map_or("–".into(), |p| format!("{p:.2} ({})", t.peer.unwrap_or(""))),
                cpu - base_cpu
            );
            if t.label != t.baseline {
                bars.push((format!("{} {route}", t.label), ratio));
            }
        }
    }

    let _ = writeln!(
        md,
        "\n![ratio to the no-session baseline](docs/bench-ratios.svg)\n"
    );
    paired_section(&mut md, targets, paired, secs);
    paced_section(&mut md, targets, paced, secs);
    let crit = criterion_rows(root);
    crate::targets::section(&mut md, targets, (results, paired, paced), &crit);
    let _ = writeln!(md, "## Redis commands per request\n");
    let _ = writeln!(md, "Round trips (commands a client sent, counted with `MONITOR`; a command a Lua script runs inside Redis is not one) per request, sent one at a time, {} requests per route; touch: a read after a quarter of a 4 s idle window has passed (our throttled touch; the peers have none). The last column lists every command Redis executed (`INFO commandstats`), script-internal ones included.\n", 200);
    let _ = writeln!(
        md,
        "| server | read | write | touch | commands seen (read / write / touch) |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---|");
    for (label, [read, write, touch]) in commands {
        let t = if touch.0.is_nan() {
            "–".to_owned()
        } else {
            format!("{:.2}", touch.0)
        };
        let _ = writeln!(
            md,
            "| {label} | {:.2} | {:.2} | {t} | {} / {} / {} |",
            read.0, write.0, read.1, write.1, touch.1
        );
    }

    if !crit.is_empty() {
        let _ = writeln!(
            md,
            "\n## Criterion (mean per iteration, from `target/criterion`)\n"
        );
        let _ = writeln!(md, "| benchmark | mean |");
        let _ = writeln!(md, "|---|---:|");
        for (name, mean) in crit {
            let _ = writeln!(md, "| {name} | {} |", ns(mean));
        }
    }
    std::fs::write(root.join("BENCHMARKS.md"), md).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(root.join("docs")).map_err(|e| e.to_string())?;
    std::fs::write(root.join("docs/bench-ratios.svg"), svg(&bars)).map_err(|e| e.to_string())?;
    eprintln!("wrote BENCHMARKS.md and docs/bench-ratios.svg");
    Ok(())
}

/// The "Paired ratios" section.
fn paired_section(md: &mut String, targets: &[Target], paired: &Paired, secs: u64) {
    let _ = writeln!(md, "## Paired ratios\n");
    let _ = writeln!(md, "Each row's server and its no-session baseline loaded at the same time: both pinned to core 0, each sent 16 of wrk's 32 connections for {secs} s, once per round. The scheduler gives each server half of the core, so the ratio of their req/s is the ratio of their cost per request, and the VM's drift between runs (the min–max column above) falls on both alike: two no-session servers paired this way agree within 1–2.5 %. Redis rows are not paired (their server waits on Redis and leaves its half of the core to the other). Medians over rounds, with min–max.\n");
    table_head(
        md,
        &["server", "route", "paired ratio to no-session", "min–max"],
    );
    for t in targets {
        for route in ROUTES {
            let Some(ratios) = paired.get(&t.label).and_then(|r| r.get(route)) else {
                continue;
            };
            let (median, min, max) = crate::paired::stat(ratios);
            let _ = writeln!(
                md,
                "| {} | `{route}` | {median:.3} | {min:.3}–{max:.3} |",
                t.label
            );
        }
    }
    let _ = writeln!(md);
}

/// The "Latency at a fixed rate" section.
fn paced_section(md: &mut String, targets: &[Target], paced: &Paced, secs: u64) {
    let _ = writeln!(md, "## Latency at a fixed rate\n");
    let _ = writeln!(md, "Each of our rows with a peer (but Redis rows: the load generator spins on the core redis-server shares), and the peer, sent requests on a fixed schedule (open loop, `session-bench pace` on core 1): {} keep-alive connections, a request waiting only while all are busy, {secs} s per run, the two servers alternating, once per round. Both get the same rate, {:.0} % of the slower one's median req/s above, and each latency counts from the moment the schedule said to send the request, so a stall is charged to every request it delays. wrk's p99 above comes from a closed loop at full load, where it is mostly queueing behind 32 requests in flight and the VM's tail events. Medians over rounds; errors are requests not answered with a 2xx, summed.\n", pace::CONNECTIONS, pace::LOAD * 100.0);
    table_head(
        md,
        &[
            "server",
            "route",
            "rate req/s",
            "p50 µs",
            "p99 µs",
            "p99.9 µs",
            "errors",
        ],
    );
    for t in targets {
        for route in ROUTES {
            let Some((rate, runs)) = paced.get(&t.label).and_then(|r| r.get(route)) else {
                continue;
            };
            let m = |f: fn(&pace::Latency) -> f64| pace::median(paced, &t.label, route, f).0;
            let errors: u64 = runs.iter().map(|l| l.errors).sum();
            let _ = writeln!(
                md,
                "| {} | `{route}` | {rate:.0} | {:.0} | {:.0} | {:.0} | {errors} |",
                t.label,
                m(|l| l.p50_us),
                m(|l| l.p99_us),
                m(|l| l.p999_us)
            );
        }
    }
    let _ = writeln!(md);
}

/// A table's head: the first two columns left-aligned, the rest right.
fn table_head(md: &mut String, columns: &[&str]) {
    let _ = writeln!(md, "| {} |", columns.join(" | "));
    let align: Vec<&str> = (0..columns.len())
        .map(|i| if i < 2 { "---" } else { "---:" })
        .collect();
    let _ = writeln!(md, "|{}|", align.join("|"));
}

/// A horizontal bar chart of the ratios, with a line at 1.0.
fn svg(bars: &[(String, f64)]) -> String {
    let row = 22.0;
    let left = 330.0;
    let width = 400.0;
    let scale = |v: f64| (v.clamp(0.0, 1.2) / 1.2) * width;
    let height = row * bars.len() as f64 + 50.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n",
        left + width + 60.0
    );
    let _ = writeln!(s, "<text x=\"10\" y=\"18\" font-size=\"14\">req/s as a fraction of the same framework without sessions</text>");
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = 30.0 + row * i as f64;
        let color = if label.contains("-ours-") {
            "#2b7bb9"
        } else {
            "#b0b0b0"
        };
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{label}</text>",
            left - 8.0,
            y + 14.0
        );
        let _ = writeln!(
            s,
            "<rect x=\"{left}\" y=\"{y}\" width=\"{:.1}\" height=\"{}\" fill=\"{color}\"/>",
            scale(*v),
            row - 6.0
        );
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\">{v:.2}</text>",
            left + scale(*v) + 4.0,
            y + 14.0
        );
    }
    let one = left + scale(1.0);
    let _ = writeln!(s, "<line x1=\"{one:.1}\" y1=\"26\" x2=\"{one:.1}\" y2=\"{}\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>", height - 16.0);
    s.push_str("</svg>\n");
    s
}
