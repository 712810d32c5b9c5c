//! Paired runs: a configuration and its no-session baseline loaded at the
//! same time, both servers pinned to core 0 and each sent 16 of the 32
//! connections.
//!
//! The sequential rounds measure each server alone, and on this VM the
//! speed of the machine drifts by 15–25 % between runs a minute apart,
//! more than the distance to the bounds. Two servers sharing one core at
//! the same moment see the same machine: the scheduler gives each half
//! of the core, so the ratio of their req/s is the ratio of their cost
//! per request, whatever the machine's speed that second. Two identical
//! no-session servers paired this way agree within 1–2.5 %.
//!
//! Only rows whose server does all the work are paired: a Redis row
//! waits on Redis and leaves its half of the core to the other server.

use std::collections::BTreeMap;

use session_testkit::RedisServer;

use crate::load;
use crate::{session_cookie, Target, ROUTES};

/// Label → route → one ratio to the baseline per repetition.
pub type Paired = BTreeMap<String, BTreeMap<&'static str, Vec<f64>>>;

/// Whether `t` is paired with its baseline.
pub fn eligible(t: &Target) -> bool {
    !t.redis && t.label != t.baseline
}

/// Measures every eligible row of `targets` whose baseline is also in
/// `targets`: `reps` paired runs of `secs` seconds per route.
pub fn measure(
    targets: &[Target],
    redis: &RedisServer,
    rt: &tokio::runtime::Runtime,
    reps: usize,
    secs: u64,
) -> Result<Paired, String> {
    let mut out = Paired::new();
    for t in targets.iter().filter(|t| eligible(t)) {
        let Some(base) = targets.iter().find(|b| b.label == t.baseline) else {
            continue;
        };
        let ours = t.start(redis)?;
        let none = base.start(redis)?;
        let cookie = rt.block_on(session_cookie(&ours))?;
        // The baseline parses a cookie of the same length.
        let filler = cookie
            .as_deref()
            .map_or(32, |c| c.len().saturating_sub(3).max(1));
        let base_cookie = format!("id={}", "A".repeat(filler));
        let a = (&ours, cookie.as_deref());
        let b = (&none, Some(base_cookie.as_str()));
        // Warm both up together.
        load::wrk_pair(a, b, ROUTES[0], 1)?;
        for route in ROUTES {
            for rep in 1..=reps {
                let (x, y) = load::wrk_pair(a, b, route, secs)?;
                let ratio = if y > 0.0 { x / y } else { f64::NAN };
                eprintln!(
                    "paired {rep}/{reps} {:<30} {route:<14} {x:>8.0} / {y:>8.0} req/s = {ratio:.3}",
                    t.label
                );
                out.entry(t.label.clone())
                    .or_default()
                    .entry(route)
                    .or_default()
                    .push(ratio);
            }
        }
    }
    Ok(out)
}

/// Median, min and max of `ratios`, skipping runs the baseline answered
/// none of (NaN when none is left).
pub fn stat(ratios: &[f64]) -> (f64, f64, f64) {
    crate::report::spread(ratios.iter().copied().filter(|r| !r.is_nan()).collect())
}

/// The median paired ratio of `label` on `route`, or NaN.
pub fn median(paired: &Paired, label: &str, route: &str) -> f64 {
    paired
        .get(label)
        .and_then(|r| r.get(route))
        .map_or(f64::NAN, |v| stat(v).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_takes_the_median_and_skips_nan() {
        assert_eq!(stat(&[0.9, f64::NAN, 0.8, 1.0]), (0.9, 0.8, 1.0));
        assert!(stat(&[]).0.is_nan());
        let mut p = Paired::new();
        p.entry("x".into())
            .or_default()
            .insert("/a", vec![0.5, 0.7, 0.6]);
        assert_eq!(median(&p, "x", "/a"), 0.6);
        assert!(median(&p, "x", "/b").is_nan());
    }
}
