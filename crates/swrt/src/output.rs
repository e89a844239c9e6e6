//! What the CLI shows: console lines on stdout, errors on stderr.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use swrt_runtime::{ConsoleLevel, HostDelegate, ScriptError, TerminationReason};
use url::Url;

/// Prints each console call as one stdout line and remembers whether any
/// uncaught error or termination happened (the exit status depends on it).
#[derive(Debug, Default)]
pub struct CliDelegate {
    failed: AtomicBool,
}

impl CliDelegate {
    /// Records a failure the host did not report through the delegate.
    pub fn mark_failed(&self) {
        self.failed.store(true, Ordering::Release);
    }

    /// True once an uncaught error or a termination was reported.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }
}

impl HostDelegate for CliDelegate {
    fn console(&self, _script_url: &Url, _level: ConsoleLevel, message: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{message}");
        let _ = out.flush();
    }

    fn open_window(&self, script_url: &Url, url: &Url) -> bool {
        eprintln!("swrt: {script_url} asked to open a window: {url}");
        false
    }

    fn uncaught_error(&self, script_url: &Url, error: &ScriptError) {
        self.failed.store(true, Ordering::Release);
        eprintln!("Uncaught error in {script_url}: {}", format_error(error));
    }

    fn worker_terminated(&self, script_url: &Url, reason: &TerminationReason) {
        self.failed.store(true, Ordering::Release);
        eprintln!("swrt: worker {script_url} was terminated: {reason}");
    }

    // A browser logs these in its console but the page goes on, so the
    // run's exit status does not change.
    fn resource_load_failed(&self, page_url: &Url, resource_url: &str, reason: &str) {
        eprintln!("swrt: {page_url} failed to load {resource_url}: {reason}");
    }
}

/// `message`, then `    at file:line:column`, then the JS stack. Frames of
/// the runtime's own JavaScript (`ext:`) are left out unless RUST_LOG asks
/// for debugging, as browsers hide their internals.
pub fn format_error(error: &ScriptError) -> String {
    let mut text = error.message.clone();
    let show_internal =
        std::env::var("RUST_LOG").is_ok_and(|v| v.contains("debug") || v.contains("trace"));
    let stack = error.stack.as_ref().map(|stack| {
        stack
            .lines()
            .filter(|line| {
                show_internal
                    || !line.contains("(ext:") && !line.trim_start().starts_with("at ext:")
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    match (stack.filter(|s| !s.is_empty()), &error.location) {
        (Some(stack), _) => {
            text.push('\n');
            text.push_str(stack.trim_end());
        }
        (None, Some(location)) => {
            text.push_str("\n    at ");
            text.push_str(location);
        }
        (None, None) => {}
    }
    text
}
