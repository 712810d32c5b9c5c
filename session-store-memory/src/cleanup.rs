//! The background sweep, on tokio.

use std::sync::Weak;
use std::time::Duration;

use session_core::{Clock, SystemClock};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{MemoryStore, Shared};

/// A running cleanup job. [`stop`](Self::stop) ends it and waits; dropping
/// the handle aborts it. It also ends by itself when the store is dropped.
#[derive(Debug)]
pub struct Cleanup {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MemoryStore {
    /// Starts a tokio task that sweeps expired records every `interval`
    /// (the seeds ran theirs every 30 minutes; a minute is a fine default).
    /// Must be called inside a tokio runtime.
    pub fn spawn_cleanup(&self, interval: Duration) -> Cleanup {
        self.spawn_cleanup_with_clock(interval, SystemClock)
    }

    /// As [`spawn_cleanup`](Self::spawn_cleanup), reading `clock`.
    pub fn spawn_cleanup_with_clock(&self, interval: Duration, clock: impl Clock) -> Cleanup {
        let weak: Weak<Shared> = std::sync::Arc::downgrade(&self.shared);
        let (tx, mut rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval.max(Duration::from_millis(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await; // the first tick is immediate
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    _ = tick.tick() => {
                        let Some(shared) = weak.upgrade() else { break };
                        let removed = MemoryStore { shared }.sweep(clock.now());
                        if removed > 0 {
                            tracing::debug!(removed, "swept expired sessions");
                        }
                    }
                }
            }
        });
        Cleanup {
            stop: Some(tx),
            task: Some(task),
        }
    }
}

impl Cleanup {
    /// Stops the job and waits until it has ended.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// True once the job has ended.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
