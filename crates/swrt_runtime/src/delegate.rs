//! How the host reports to whoever embeds it (the CLI, the daemon, a library user).

use url::Url;

use crate::error::ScriptError;

/// Severity of a `console.*` call, as browsers group them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleLevel {
    /// `console.debug`, `console.trace`.
    Debug,
    /// `console.log`, `console.info` and friends.
    Info,
    /// `console.warn`.
    Warn,
    /// `console.error`, `console.assert` failures.
    Error,
}

impl ConsoleLevel {
    pub(crate) fn from_deno(level: u32) -> Self {
        // deno_web's Console passes 0 debug, 1 log/info, 2 warn, 3 error.
        match level {
            0 => ConsoleLevel::Debug,
            1 => ConsoleLevel::Info,
            2 => ConsoleLevel::Warn,
            _ => ConsoleLevel::Error,
        }
    }
}

/// Why a worker stopped running against its will.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminationReason {
    /// JavaScript ran longer than the event time budget without yielding.
    TimeBudgetExceeded,
    /// The isolate reached its heap limit.
    HeapLimitReached,
    /// An event's `waitUntil` lifetime exceeded the cap.
    WaitUntilTimeout,
    /// The JavaScript engine failed (a panic in the engine's code).
    EngineFailed,
}

impl std::fmt::Display for TerminationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TerminationReason::TimeBudgetExceeded => "script ran past the event time budget",
            TerminationReason::HeapLimitReached => "heap limit reached",
            TerminationReason::WaitUntilTimeout => "waitUntil() lifetime exceeded its cap",
            TerminationReason::EngineFailed => "the JavaScript engine failed",
        })
    }
}

/// Receives what the host's workers and pages do that a user should see.
///
/// Every method has a default so a host implements only what it shows.
pub trait HostDelegate: Send + Sync + 'static {
    /// One `console.*` call, already formatted as a browser would print it.
    fn console(&self, script_url: &Url, level: ConsoleLevel, message: &str) {
        let _ = (script_url, level, message);
    }
    /// `clients.openWindow(url)` was called; return true if the host opened it.
    fn open_window(&self, script_url: &Url, url: &Url) -> bool {
        let _ = (script_url, url);
        false
    }
    /// An exception escaped a script (evaluation, listener, timer, promise).
    fn uncaught_error(&self, script_url: &Url, error: &ScriptError) {
        let _ = (script_url, error);
    }
    /// A worker was terminated by a limit; it restarts when next needed.
    fn worker_terminated(&self, script_url: &Url, reason: &TerminationReason) {
        let _ = (script_url, reason);
    }
    /// A page could not load a resource (a script, a frame); the element got
    /// its `error` event and the page goes on.
    fn resource_load_failed(&self, page_url: &Url, resource_url: &str, reason: &str) {
        let _ = (page_url, resource_url, reason);
    }
}

/// A delegate that only logs through `tracing`.
#[derive(Debug, Default)]
pub struct TracingDelegate;

impl HostDelegate for TracingDelegate {
    fn console(&self, script_url: &Url, level: ConsoleLevel, message: &str) {
        tracing::info!(%script_url, ?level, "{message}");
    }
    fn uncaught_error(&self, script_url: &Url, error: &ScriptError) {
        tracing::error!(%script_url, "{error}");
    }
    fn worker_terminated(&self, script_url: &Url, reason: &TerminationReason) {
        tracing::warn!(%script_url, %reason, "worker terminated");
    }
    fn resource_load_failed(&self, page_url: &Url, resource_url: &str, reason: &str) {
        tracing::warn!(%page_url, resource_url, reason, "resource failed to load");
    }
}
