//! CPU steal: the share of this machine's CPU time the hypervisor gave to
//! others. On a busy host it is what makes rounds of the same
//! configuration disagree, so the report states it.

/// The first `cpu` line of `/proc/stat`: total and steal ticks.
#[derive(Clone, Copy)]
pub struct Ticks {
    total: u64,
    steal: u64,
}

/// Now, or `None` where `/proc/stat` cannot be read.
pub fn sample() -> Option<Ticks> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …
    Some(Ticks {
        total: fields.iter().take(8).sum(),
        steal: *fields.get(7)?,
    })
}

/// Steal between two samples, in percent of all CPU time.
pub fn percent(from: Option<Ticks>, to: Option<Ticks>) -> Option<f64> {
    let (from, to) = (from?, to?);
    let total = to.total.checked_sub(from.total)?;
    let steal = to.steal.checked_sub(from.steal)?;
    (total > 0).then(|| 100.0 * steal as f64 / total as f64)
}
