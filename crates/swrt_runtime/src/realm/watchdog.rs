//! Enforces the time budget: JavaScript that runs longer than the event
//! timeout without returning to the event loop is terminated.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use deno_core::v8::IsolateHandle;

use super::RealmShared;
use crate::delegate::TerminationReason;
use crate::sync::Locked;

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// When the worker thread entered JavaScript, or 0 while it is idle.
#[derive(Debug, Default)]
pub(crate) struct BusyClock {
    since_micros: AtomicU64,
}

impl BusyClock {
    pub(crate) fn enter(&self) {
        let now = epoch().elapsed().as_micros() as u64;
        self.since_micros.store(now.max(1), Ordering::Release);
    }
    pub(crate) fn leave(&self) {
        self.since_micros.store(0, Ordering::Release);
    }
    fn busy_for(&self) -> Option<Duration> {
        match self.since_micros.load(Ordering::Acquire) {
            0 => None,
            since => Some(
                epoch()
                    .elapsed()
                    .saturating_sub(Duration::from_micros(since)),
            ),
        }
    }
}

/// Watches one worker until it ends. Runs as a task on the host's runtime.
pub(crate) fn spawn(shared: Arc<RealmShared>, isolate: IsolateHandle, budget: Duration) {
    let tick = (budget / 10).clamp(Duration::from_millis(10), Duration::from_millis(250));
    let weak = Arc::downgrade(&shared);
    drop(shared);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(tick).await;
            let Some(shared) = weak.upgrade() else { return };
            if shared.termination.locked().is_some() {
                return;
            }
            if shared.busy.busy_for().is_some_and(|busy| busy > budget) {
                shared.mark_terminated(TerminationReason::TimeBudgetExceeded);
                isolate.terminate_execution();
                shared.fail_pending();
                return;
            }
        }
    });
}
