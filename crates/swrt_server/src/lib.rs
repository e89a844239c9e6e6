//! Embedded origin server for swrt.
//!
//! [`StaticOrigin`] serves a directory over HTTP/1.1 on the caller's tokio
//! runtime. `swrt run --root DIR` uses it as the origin of a service worker,
//! and the WPT runner reuses it, so it follows the web-platform-tests server
//! conventions that matter for fetch tests:
//!
//! * `GET`/`HEAD` of files under the root; directories map to `index.html`.
//!   Other methods get `405` with `Allow: GET, HEAD`.
//! * No escapes from the root: `..` (also percent-encoded), encoded slashes,
//!   backslashes, NUL and symlinks resolving outside the root all give `404`.
//! * Bodies stream from disk; single `Range` requests (`206`/`416`),
//!   `ETag`/`Last-Modified` validators with `If-None-Match`,
//!   `If-Modified-Since` (`304`) and `If-Range`; `Cache-Control: no-cache`.
//! * With [`StaticOriginBuilder::wpt_conventions`] (the WPT runner only;
//!   otherwise files are served as they are): a sidecar `NAME.headers` file
//!   adds `Name: Value` response headers to `NAME`, and
//!   `?pipe=header(Name,Value)|status(404)` sets headers and status (items
//!   split by `|`, arguments by `,`, backslash escapes;
//!   `header(Name,Value,True)` appends).
//!
//! ```no_run
//! # async fn demo() -> Result<(), swrt_server::ServerError> {
//! let origin = swrt_server::StaticOrigin::builder("site")
//!     .host_name("localhost")
//!     .start()
//!     .await?;
//! println!("serving on {}", origin.origin());
//! origin.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod conditional;
pub mod generated;
mod handler;
mod mime;
mod path;
mod wpt;

#[cfg(test)]
mod tests;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};
use url::{Host, Url};

pub use mime::content_type_for;

/// A request as the server's handlers see it.
pub type HookRequest = axum::extract::Request;
/// A response a hook produces.
pub type HookResponse = axum::response::Response;
/// What a hook returns: `Ok(response)` answers the request, `Err(request)`
/// hands it back to the static file handler.
pub type HookFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<HookResponse, HookRequest>> + Send>>;

/// A function that sees every request (any method) before the static file
/// handler, e.g. to serve generated files or an API under a reserved path.
/// Used by the WPT runner; see [`StaticOriginBuilder::hook`].
#[derive(Clone)]
pub struct RequestHook(Arc<dyn Fn(HookRequest) -> HookFuture + Send + Sync>);

impl RequestHook {
    /// Wraps `f`.
    pub fn new(f: impl Fn(HookRequest) -> HookFuture + Send + Sync + 'static) -> Self {
        RequestHook(Arc::new(f))
    }

    pub(crate) async fn call(&self, request: HookRequest) -> Result<HookResponse, HookRequest> {
        (self.0)(request).await
    }
}

impl std::fmt::Debug for RequestHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestHook")
    }
}

/// How long [`StaticOrigin::shutdown`] waits for in-flight responses by
/// default before aborting them.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Errors from starting a [`StaticOrigin`].
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The root directory could not be resolved (missing, unreadable, ...).
    #[error("cannot use {path} as the origin root: {source}")]
    Root {
        /// The root as given.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The root exists but is not a directory.
    #[error("origin root {0} is not a directory")]
    RootNotDirectory(PathBuf),
    /// Binding or querying the listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested bind address.
        addr: SocketAddr,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The configured host name cannot appear in an origin URL.
    #[error("invalid host name {host:?} for the origin URL")]
    InvalidHostName {
        /// The host name as given.
        host: String,
    },
}

/// Configures and starts a [`StaticOrigin`]; made by [`StaticOrigin::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct StaticOriginBuilder {
    root: PathBuf,
    bind: SocketAddr,
    host_name: Option<String>,
    shutdown_timeout: Duration,
    hook: Option<RequestHook>,
    wpt_conventions: bool,
}

impl StaticOriginBuilder {
    /// Applies web-platform-tests server conventions: `NAME.headers`
    /// sidecar files and the `?pipe=` query parameter (see [`wpt`]). Off by
    /// default: an origin serves its files as they are, and only the WPT
    /// runner, whose test trees rely on them, switches them on.
    pub fn wpt_conventions(mut self, on: bool) -> Self {
        self.wpt_conventions = on;
        self
    }

    /// Lets `hook` answer requests before the static file handler does.
    pub fn hook(mut self, hook: RequestHook) -> Self {
        self.hook = Some(hook);
        self
    }

    /// Address to listen on. Defaults to `127.0.0.1:0` (an ephemeral port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Host name used in [`StaticOrigin::origin`], e.g. `"localhost"`.
    /// Defaults to the bound IP address (loopback if bound to the unspecified
    /// address). This only affects the URL; the socket is still `bind`.
    pub fn host_name(mut self, host: impl Into<String>) -> Self {
        self.host_name = Some(host.into());
        self
    }

    /// How long [`StaticOrigin::shutdown`] lets in-flight responses finish
    /// before aborting them. Defaults to [`DEFAULT_SHUTDOWN_TIMEOUT`].
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Resolves the root, binds the socket and spawns the server on the
    /// current tokio runtime. Returns once the socket is listening.
    pub async fn start(self) -> Result<StaticOrigin, ServerError> {
        let root = tokio::fs::canonicalize(&self.root)
            .await
            .map_err(|source| ServerError::Root {
                path: self.root.clone(),
                source,
            })?;
        let meta = tokio::fs::metadata(&root)
            .await
            .map_err(|source| ServerError::Root {
                path: self.root.clone(),
                source,
            })?;
        if !meta.is_dir() {
            return Err(ServerError::RootNotDirectory(self.root));
        }

        let bind_err = |source| ServerError::Bind {
            addr: self.bind,
            source,
        };
        let listener = tokio::net::TcpListener::bind(self.bind)
            .await
            .map_err(bind_err)?;
        let local_addr = listener.local_addr().map_err(bind_err)?;
        let origin = origin_url(self.host_name.as_deref(), local_addr)?;

        let shared = Arc::new(handler::Shared {
            root: root.clone(),
            hook: self.hook.clone(),
            wpt_conventions: self.wpt_conventions,
        });
        let app = axum::Router::new()
            .fallback(handler::handle)
            .with_state(shared);
        let (tx, task) = serve_until_shutdown(listener, app);
        info!(root = %root.display(), %local_addr, %origin, "origin server listening");
        Ok(StaticOrigin {
            local_addr,
            origin,
            root,
            shutdown_timeout: self.shutdown_timeout,
            shutdown_tx: Some(tx),
            task: Some(task),
        })
    }
}

/// Serves `app` on `listener` until the returned sender fires or is
/// dropped, then drains gracefully (the task ends when it has).
pub fn serve_until_shutdown(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> (oneshot::Sender<()>, JoinHandle<io::Result<()>>) {
    use axum::serve::ListenerExt;
    let (tx, rx) = oneshot::channel::<()>();
    // Without TCP_NODELAY, a response's body segment waits for the client's
    // delayed ACK of its header segment (about 40 ms on Linux): every small
    // script or page read after its headers paid that wait.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            debug!("cannot set TCP_NODELAY on a connection: {error}");
        }
    });
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    (tx, task)
}

/// A running static origin server.
///
/// Dropping it starts a graceful shutdown in the background; call
/// [`StaticOrigin::shutdown`] to wait for it.
#[derive(Debug)]
pub struct StaticOrigin {
    local_addr: SocketAddr,
    origin: Url,
    root: PathBuf,
    shutdown_timeout: Duration,
    shutdown_tx: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl StaticOrigin {
    /// Serves `root` on `bind` (e.g. `127.0.0.1:0` for an ephemeral port).
    /// Returns once listening. Shorthand for
    /// `StaticOrigin::builder(root).bind(bind).start()`.
    pub async fn bind(
        root: impl Into<PathBuf>,
        bind: SocketAddr,
    ) -> Result<StaticOrigin, ServerError> {
        Self::builder(root).bind(bind).start().await
    }

    /// Starts configuring a server for `root`.
    pub fn builder(root: impl Into<PathBuf>) -> StaticOriginBuilder {
        StaticOriginBuilder {
            root: root.into(),
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            host_name: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            hook: None,
            wpt_conventions: false,
        }
    }

    /// The address the server actually listens on (with the real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The origin URL, `http://127.0.0.1:PORT/` style (or with the host name
    /// given to [`StaticOriginBuilder::host_name`]).
    pub fn origin(&self) -> Url {
        self.origin.clone()
    }

    /// The canonical root directory being served.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    /// Graceful shutdown: stops accepting connections, closes idle ones and
    /// waits (up to the configured timeout) for in-flight responses.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
        let Some(mut task) = self.task.take() else {
            return;
        };
        match tokio::time::timeout(self.shutdown_timeout, &mut task).await {
            Ok(Ok(Ok(()))) => debug!(addr = %self.local_addr, "origin server stopped"),
            Ok(Ok(Err(e))) => warn!(error = %e, "origin server ended with an error"),
            Ok(Err(e)) => warn!(error = %e, "origin server task failed"),
            Err(_) => {
                warn!(
                    timeout = ?self.shutdown_timeout,
                    "origin server did not drain in time; aborting connections"
                );
                task.abort();
                let _ = task.await;
            }
        }
    }
}

impl Drop for StaticOrigin {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
    }
}

/// Builds `http://HOST:PORT/` for the listening address.
fn origin_url(host_name: Option<&str>, addr: SocketAddr) -> Result<Url, ServerError> {
    let invalid = || ServerError::InvalidHostName {
        host: host_name.unwrap_or_default().to_owned(),
    };
    let host: Host = match host_name {
        Some(h) => match h.parse::<Ipv6Addr>() {
            Ok(v6) => Host::Ipv6(v6),
            Err(_) => Host::parse(h).map_err(|_| invalid())?,
        },
        None => match addr.ip() {
            IpAddr::V4(v4) if v4.is_unspecified() => Host::Ipv4(Ipv4Addr::LOCALHOST),
            IpAddr::V4(v4) => Host::Ipv4(v4),
            IpAddr::V6(v6) if v6.is_unspecified() => Host::Ipv6(Ipv6Addr::LOCALHOST),
            IpAddr::V6(v6) => Host::Ipv6(v6),
        },
    };
    Url::parse(&format!("http://{host}:{}/", addr.port())).map_err(|_| invalid())
}
