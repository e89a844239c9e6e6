//! Limits and tunables of the worker host.

use std::time::Duration;

/// Resource limits applied to every service worker the host runs.
///
/// Defaults follow Chromium where it has a number: a running script that does
/// not yield for 30 s is terminated, `waitUntil` may extend an event for at
/// most 5 minutes, and an idle worker is stopped after 30 s.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest a worker may run JavaScript without returning to its event
    /// loop: top-level evaluation, one event dispatch, or one task/microtask
    /// checkpoint. Past it the worker is terminated (`terminate_execution`).
    pub event_timeout: Duration,
    /// Longest an event's lifetime may be extended by `waitUntil()`.
    pub wait_until_timeout: Duration,
    /// Heap limit of one isolate in bytes; reaching it terminates that worker only.
    pub heap_limit_bytes: usize,
    /// A worker with no event in flight is stopped after this long.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            event_timeout: Duration::from_secs(30),
            wait_until_timeout: Duration::from_secs(5 * 60),
            heap_limit_bytes: 512 * 1024 * 1024,
            idle_timeout: Duration::from_secs(30),
        }
    }
}

/// Whether a host creates a service-worker realm before a worker needs it.
///
/// Creating the engine is most of a worker's start and does not depend on
/// the worker, so a host can do it ahead of time: the next worker that
/// starts (registration, or a wake after an idle stop) takes the ready realm
/// and only evaluates its script. A prewarmed realm costs an idle worker's
/// memory and one engine's creation on another thread; it has run no script,
/// so every worker still gets a fresh global scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WorkerPrewarm {
    /// Every worker creates its engine when it starts.
    #[default]
    Off,
    /// One realm is created when the host starts, for the first worker; later
    /// workers create their own (a run that starts one worker).
    First,
    /// One realm is always kept ready: created when the host starts and again
    /// each time a worker takes it (a daemon that wakes workers).
    KeepOne,
}

/// Background Sync: when `sync` events fire and how failed ones are retried.
///
/// The defaults are Chromium's: three attempts, the first retry after five
/// minutes and each later one three times as long.
#[derive(Debug, Clone)]
pub struct BackgroundSyncConfig {
    /// Whether the host is online: sync events fire only while it is.
    pub online: bool,
    /// Delay before the first retry of a failed event.
    pub min_retry_delay: Duration,
    /// Each later retry waits this many times as long as the one before.
    pub retry_delay_factor: u32,
    /// Events dispatched for one registration before it is dropped; the
    /// last has `lastChance` set.
    pub max_attempts: u32,
}

impl Default for BackgroundSyncConfig {
    fn default() -> Self {
        BackgroundSyncConfig {
            online: true,
            min_retry_delay: Duration::from_secs(5 * 60),
            retry_delay_factor: 3,
            max_attempts: 3,
        }
    }
}
