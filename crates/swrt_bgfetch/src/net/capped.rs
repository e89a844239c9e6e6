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

use super::stream::{Attached, Attachment};
use hyper::Uri;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

tokio::task_local! {
    /// Set while a request of the engine waits for its connection. hyper
    /// moves a connect that lost the race against a pooled connection into
    /// a task of its own; if it is still waiting for a slot, it is not
    /// wanted any more and must not take one (and open a socket) for nobody.
    static WANTED: ();
}

/// Runs `request` as a request that wants a connection (see [`WANTED`]).
pub(crate) async fn wanting_connection<F: Future>(request: F) -> F::Output {
    WANTED.scope((), request).await
}

/// Past this many hosts, hosts without sockets are forgotten.
const FORGET_IDLE_HOSTS_AT: usize = 1024;

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
        // The pool's own key: scheme and authority.
        let scheme = uri.scheme_str().unwrap_or("http");
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        let key = format!("{scheme}://{}:{port}", uri.host().unwrap_or(""));
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() >= FORGET_IDLE_HOSTS_AT {
            // Forget hosts with no socket open and no connect waiting.
            let per_host = self.per_host;
            slots.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < per_host);
        }
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
        Box::pin(async move {
            let slot = WhileWanted(Box::pin(async move {
                slots
                    .acquire_owned()
                    .await
                    .map_err(|_| -> BoxError { "the connection budget was closed".into() })
            }))
            .await?;
            // Once started, a connect completes even if a pooled connection
            // served its request meanwhile: hyper pools the new one, within
            // the budget, instead of a socket opened and dropped at once.
            let io = inner.call(uri).await.map_err(Into::into)?;
            Ok(Attached {
                io,
                attachment: Slot { _permit: slot },
            })
        })
    }
}

/// Gives up waiting for a slot as soon as it is polled outside a request
/// that wants the connection.
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

/// A connection's slot in its host's budget, given back when hyper drops
/// the connection.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Attachment for Slot {}

/// A connection holding its slot.
pub(crate) type CappedStream<T> = Attached<T, Slot>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_budget_per_scheme_host_and_port() {
        let c = CappedConnector::new((), 2);
        let a = c.slots_for(&"http://a.test/x".parse().unwrap());
        let same = c.slots_for(&"http://a.test:80/y".parse().unwrap());
        assert!(Arc::ptr_eq(&a, &same));
        for other in ["https://a.test/", "http://a.test:8080/", "http://b.test/"] {
            assert!(
                !Arc::ptr_eq(&a, &c.slots_for(&other.parse().unwrap())),
                "{other}"
            );
        }
    }

    #[test]
    fn hosts_without_sockets_are_forgotten() {
        let c = CappedConnector::new((), 2);
        let busy = c.slots_for(&"http://busy.test/".parse().unwrap());
        let _socket = busy.clone().try_acquire_owned().unwrap();
        drop(busy);
        for i in 0..2 * FORGET_IDLE_HOSTS_AT {
            c.slots_for(&format!("http://h{i}.test/").parse().unwrap());
        }
        let slots = c.slots.lock().unwrap();
        assert!(slots.len() <= FORGET_IDLE_HOSTS_AT);
        assert!(slots.contains_key("http://busy.test:80"));
    }
}
