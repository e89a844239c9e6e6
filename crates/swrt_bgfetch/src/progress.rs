//! Progress notifications: one broadcast channel for all subscribers (JS
//! realms, the CLI, embedders), rate-limited per fetch, with the final values
//! always delivered.

use crate::types::{ProgressEvent, RegistrationSnapshot};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Per-fetch limiter state.
pub(crate) struct ProgressLimiter {
    interval: Duration,
    last: Mutex<Option<Instant>>,
    flush_pending: AtomicBool,
    finished: AtomicBool,
}

/// What to do after [`ProgressLimiter::offer`].
pub(crate) enum Offer {
    /// Emit now.
    Now,
    /// Schedule one delayed flush after this long.
    Later(Duration),
    /// A flush is already scheduled (or the fetch finished).
    Skip,
}

impl ProgressLimiter {
    pub(crate) fn new(interval: Duration) -> Self {
        ProgressLimiter {
            interval,
            last: Mutex::new(None),
            flush_pending: AtomicBool::new(false),
            finished: AtomicBool::new(false),
        }
    }

    pub(crate) fn offer(&self) -> Offer {
        if self.finished.load(Ordering::Acquire) {
            return Offer::Skip;
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match *last {
            Some(t) if now.duration_since(t) < self.interval => {
                if self.flush_pending.swap(true, Ordering::AcqRel) {
                    Offer::Skip
                } else {
                    Offer::Later(self.interval - now.duration_since(t))
                }
            }
            _ => {
                *last = Some(now);
                Offer::Now
            }
        }
    }

    /// Called by the delayed flush before emitting. Returns false if the
    /// fetch finished meanwhile (the final event already went out).
    pub(crate) fn flush(&self) -> bool {
        self.flush_pending.store(false, Ordering::Release);
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        !self.finished.load(Ordering::Acquire)
    }

    /// Mark finished; returns true the first time (the caller then emits the final event).
    pub(crate) fn finish(&self) -> bool {
        !self.finished.swap(true, Ordering::AcqRel)
    }
}

/// Broadcast hub.
#[derive(Clone)]
pub(crate) struct ProgressHub {
    tx: broadcast::Sender<ProgressEvent>,
}

impl ProgressHub {
    pub(crate) fn new() -> Self {
        // Subscribers that fall more than this many events behind get
        // `RecvError::Lagged` and should re-read state with `get()`.
        let (tx, _) = broadcast::channel(4096);
        ProgressHub { tx }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ProgressEvent> {
        self.tx.subscribe()
    }

    pub(crate) fn send(&self, registration: RegistrationSnapshot, is_final: bool) {
        // No receivers is fine.
        let _ = self.tx.send(ProgressEvent {
            registration,
            is_final,
        });
    }
}
