//! SIGINT and SIGTERM end long-running commands gracefully: the caller stops
//! the host, whose Background Fetch engine syncs and records every download
//! in flight, so the next start on the same data dir resumes them.

use std::future::Future;

/// Which signal arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, a service manager, a container runtime.
    Terminate,
}

impl Stop {
    /// The conventional exit status after this signal (128 + its number).
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 130,
            Stop::Terminate => 143,
        }
    }
}

/// Installs SIGINT and SIGTERM handlers now (so a signal that arrives before
/// the caller awaits is not lost) and returns a future that resolves on the
/// first of them. Must be called inside the tokio runtime.
pub fn install() -> impl Future<Output = Stop> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let handlers = signal(SignalKind::interrupt())
            .and_then(|int| Ok((int, signal(SignalKind::terminate())?)));
        async move {
            match handlers {
                Ok((mut int, mut term)) => tokio::select! {
                    _ = int.recv() => Stop::Interrupt,
                    _ = term.recv() => Stop::Terminate,
                },
                Err(e) => {
                    tracing::warn!("cannot install signal handlers ({e}); Ctrl-C stops abruptly");
                    std::future::pending().await
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async move {
            let _ = tokio::signal::ctrl_c().await;
            Stop::Interrupt
        }
    }
}
