//! Errors of the worker host, and reports of JavaScript exceptions.

use std::fmt;

use url::Url;

use deno_core::error::{CoreError, CoreErrorKind, JsError};

/// A JavaScript exception, reduced to what a person needs to find it:
/// the message, the first script location and the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// `Name: message`, as the exception prints.
    pub message: String,
    /// `file:line:column` of the innermost frame, when known.
    pub location: Option<String>,
    /// The JavaScript stack (`    at ...` lines), when known.
    pub stack: Option<String>,
}

impl ScriptError {
    pub(crate) fn from_js_error(e: &JsError) -> Self {
        let location = e
            .frames
            .iter()
            .find(|f| {
                f.file_name
                    .as_deref()
                    .is_some_and(|n| !n.starts_with("ext:"))
            })
            .or_else(|| e.frames.first())
            .and_then(|f| {
                Some(format!(
                    "{}:{}:{}",
                    f.file_name.as_deref()?,
                    f.line_number?,
                    f.column_number?
                ))
            });
        let stack = if e.frames.is_empty() {
            None
        } else {
            Some(
                e.frames
                    .iter()
                    .map(|f| {
                        let place = format!(
                            "{}:{}:{}",
                            f.file_name.as_deref().unwrap_or("<anonymous>"),
                            f.line_number.unwrap_or(0),
                            f.column_number.unwrap_or(0)
                        );
                        match &f.function_name {
                            Some(name) if !name.is_empty() => format!("    at {name} ({place})"),
                            _ => format!("    at {place}"),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        };
        ScriptError {
            message: e.exception_message.clone(),
            location,
            stack,
        }
    }

    pub(crate) fn from_core_error(e: &CoreError) -> Self {
        match e.as_kind() {
            CoreErrorKind::Js(js) => Self::from_js_error(js),
            _ => ScriptError {
                message: e.to_string(),
                location: None,
                stack: None,
            },
        }
    }

    /// From what JavaScript reported: `Name: message`, the `error.stack`
    /// string (whose header line repeats the message), and a location if known.
    pub(crate) fn from_js_report(
        message: String,
        stack: Option<String>,
        location: Option<String>,
    ) -> Self {
        let frames = stack.map(|s| {
            s.lines()
                .filter(|l| l.trim_start().starts_with("at "))
                .map(|l| format!("    {}", l.trim()))
                .collect::<Vec<_>>()
                .join("\n")
        });
        let frames = frames.filter(|f| !f.is_empty());
        let location = location.or_else(|| frames.as_deref().and_then(first_script_location));
        ScriptError {
            message,
            location,
            stack: frames,
        }
    }

    /// A report without a script location (host-side failures such as a 404).
    pub fn plain(message: impl Into<String>) -> Self {
        ScriptError {
            message: message.into(),
            location: None,
            stack: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_location_skips_runtime_frames() {
        let stack =
            "Error: x\n    at ext:swrt/a.js:1:2\n    at handler (http://localhost/sw.js:3:9)\n";
        assert_eq!(
            first_script_location(stack).as_deref(),
            Some("http://localhost/sw.js:3:9")
        );
    }

    #[test]
    fn js_report_keeps_frames_only() {
        let e = ScriptError::from_js_report(
            "TypeError: bad".into(),
            Some("TypeError: bad\n    at f (http://x/sw.js:1:2)".into()),
            None,
        );
        assert_eq!(e.stack.as_deref(), Some("    at f (http://x/sw.js:1:2)"));
        assert_eq!(e.location.as_deref(), Some("http://x/sw.js:1:2"));
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(loc) = &self.location {
            write!(f, "\n    at {loc}")?;
        }
        if let Some(stack) = &self.stack {
            write!(f, "\nStack:\n{stack}")?;
        }
        Ok(())
    }
}

/// `file:line:column` of the first stack frame that is not runtime code.
pub(crate) fn first_script_location(stack: &str) -> Option<String> {
    stack
        .lines()
        .filter(|l| l.trim_start().starts_with("at "))
        .find_map(|line| {
            let line = line.trim().trim_start_matches("at ");
            let place = match (line.rfind('('), line.ends_with(')')) {
                (Some(open), true) => &line[open + 1..line.len() - 1],
                _ => line,
            };
            (!place.starts_with("ext:") && place.contains(':')).then(|| place.to_string())
        })
}

/// Failures of the worker host.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The script could not be fetched.
    #[error("failed to fetch script {url}: {reason}")]
    ScriptFetch {
        /// The script URL.
        url: String,
        /// What went wrong (HTTP status, MIME type, network error).
        reason: String,
    },
    /// The script threw or failed to parse during evaluation.
    #[error("script {url} failed to evaluate: {error}")]
    Evaluation {
        /// The script URL.
        url: String,
        /// The exception, with its location.
        error: ScriptError,
    },
    /// The install event failed (a listener threw or a waitUntil promise rejected).
    #[error("install of {url} failed: {error}")]
    InstallFailed {
        /// The script URL.
        url: String,
        /// The listener's exception or the rejection reason.
        error: ScriptError,
    },
    /// The worker was terminated by a limit.
    #[error("worker {url} was terminated: {reason}")]
    Terminated {
        /// The script URL.
        url: String,
        /// Which limit was reached.
        reason: crate::TerminationReason,
    },
    /// The worker thread is gone.
    #[error("worker {url} is not running")]
    WorkerGone {
        /// The script URL.
        url: String,
    },
    /// A registration or scope was invalid.
    #[error("{0}")]
    Invalid(String),
    /// What the Service Workers spec refuses as a security violation: a
    /// script or scope of another origin, a scope beyond the script's max
    /// scope, a script that is not JavaScript. Pages see a `SecurityError`.
    #[error("{0}")]
    Security(String),
    /// The JavaScript engine could not start.
    #[error("failed to start the JavaScript engine: {0}")]
    Engine(String),
    /// The data dir could not be used (in use by another process, unreadable,
    /// newer schema) or the Background Fetch engine could not start on it.
    #[error("cannot use the data dir: {0}")]
    DataDir(String),
}

/// Why `clients.claim()` was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClaimError {
    /// Claim step 1: only the registration's active worker may claim.
    #[error("Only the active worker can claim clients.")]
    NotActive,
}

/// Why a frame's document could not be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    /// The page that inserted the frame has gone.
    #[error("the parent page is gone")]
    ParentGone,
    /// Navigating the frame failed.
    #[error(transparent)]
    Navigation(#[from] HostError),
}

/// Why `new Worker()` or `new SharedWorker()` could not start or reach its worker.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WorkerStartError {
    /// The client that constructed the worker has gone.
    #[error("the worker's owner is gone")]
    OwnerGone,
    /// HTML, "run a worker": the script must be same-origin with its owner.
    #[error("the script '{script}' is not same-origin with '{owner}'")]
    CrossOrigin {
        /// The worker's script URL.
        script: Url,
        /// The owner's URL.
        owner: Url,
    },
    /// SharedWorker constructor: a worker of the same URL and name runs as
    /// the other type.
    #[error(
        "the shared worker '{script}' named '{name}' runs as a {running} script, not {requested}"
    )]
    TypeMismatch {
        /// The worker's script URL.
        script: Url,
        /// The worker's name.
        name: String,
        /// The type it runs as.
        running: &'static str,
        /// The type asked for.
        requested: &'static str,
    },
    /// The shared worker stopped before the port reached it.
    #[error("the shared worker stopped")]
    Stopped,
    /// Fetching or starting the worker's script failed.
    #[error(transparent)]
    Start(#[from] HostError),
}
