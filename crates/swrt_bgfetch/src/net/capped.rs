//! A connector that holds one slot of its host's connection budget for as
//! long as the connection lives.
//!
//! hyper's pool starts a new connection whenever a request finds no idle
//! one, even when a busy connection is about to come back (a response that
//! just ended returns its connection a moment later, from the connection's
//! own task). Counting requests therefore cannot bound sockets; counting
//! the sockets themselves does. A connect waits for a slot; the slot is
//! released when hyper drops the connection (closed by either side, or
//! evicted from the pool).

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

tokio::task_local! {
    /// Set while a request of the engine waits for its connection. hyper
    /// moves a connect that lost the race against a pooled connection into
    /// a task of its own; that connect is not wanted any more and must not
    /// take a slot (or open a socket) for nobody.
    static WANTED: ();
}

/// Runs `request` as a request that wants a connection (see [`WANTED`]).
pub(crate) async fn wanting_connection<F: Future>(request: F) -> F::Output {
    WANTED.scope((), request).await
}

/// The per-host budgets, shared by every clone of the connector.
#[derive(Clone)]
pub(crate) struct CappedConnector<C> {
    inner: C,
    per_host: usize,
    slots: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl<C> CappedConnector<C> {
    pub(crate) fn new(inner: C, per_host: usize) -> Self {
        CappedConnector {
            inner,
            per_host: per_host.max(1),
            slots: Arc::default(),
        }
    }

    fn slots_for(&self, uri: &Uri) -> Arc<Semaphore> {
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let key = format!("{}:{port}", uri.host().unwrap_or(""));
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }
}

impl<C> Service<Uri> for CappedConnector<C>
where
    C: Service<Uri> + Clone + Send + 'static,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = CappedStream<C::Response>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let slots = self.slots_for(&uri);
        let mut inner = self.inner.clone();
        Box::pin(WhileWanted(Box::pin(async move {
            let slot = slots
                .acquire_owned()
                .await
                .map_err(|_| -> BoxError { "the connection budget was closed".into() })?;
            let io = inner.call(uri).await.map_err(Into::into)?;
            Ok(CappedStream { io, _slot: slot })
        })))
    }
}

/// Gives up as soon as it is polled outside a request that wants it.
struct WhileWanted<F>(Pin<Box<F>>);

impl<T, F: Future<Output = Result<T, BoxError>>> Future for WhileWanted<F> {
    type Output = Result<T, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if WANTED.try_with(|_| ()).is_err() {
            return Poll::Ready(Err("a pooled connection served the request first".into()));
        }
        self.0.as_mut().poll(cx)
    }
}

/// A connection and the slot it holds.
pub(crate) struct CappedStream<T> {
    io: T,
    _slot: OwnedSemaphorePermit,
}

impl<T: Connection> Connection for CappedStream<T> {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

impl<T: Read + Unpin> Read for CappedStream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for CappedStream<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}
