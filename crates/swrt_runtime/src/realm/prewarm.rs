//! A service-worker realm created ahead of the worker it will run.
//!
//! Creating an engine (the isolate, deno_core's and the platform's
//! JavaScript) is nearly all of a worker's start, and none of it depends on
//! which worker runs there. A host that keeps one prewarmed realm hands it to
//! the next worker that starts, which then only binds its URL and host links
//! and evaluates its script. The realm has run no script before, so each
//! worker still gets a fresh global scope.

use tokio::sync::oneshot;

use super::engine::{EngineKind, EngineParams};
use super::thread::{self, Claim};
use crate::error::HostError;

/// A thread whose engine is being created (or is ready), waiting for its
/// worker.
pub(crate) struct PrewarmedRealm {
    claims: oneshot::Sender<Claim>,
    thread: std::thread::JoinHandle<()>,
    heap_limit_bytes: usize,
}

impl PrewarmedRealm {
    /// Starts creating a service-worker engine with `heap_limit_bytes`.
    pub(crate) fn spawn(heap_limit_bytes: usize) -> Result<PrewarmedRealm, HostError> {
        let (claims, claimed) = oneshot::channel();
        let params = EngineParams {
            kind: EngineKind::ServiceWorker,
            heap_limit_bytes,
        };
        let thread = std::thread::Builder::new()
            .name("realm (prewarmed)".into())
            .spawn(move || thread::run_prewarmed(params, claimed))
            .map_err(|e| HostError::Engine(format!("cannot spawn a realm thread: {e}")))?;
        Ok(PrewarmedRealm {
            claims,
            thread,
            heap_limit_bytes,
        })
    }

    /// True if this realm can run a worker with `heap_limit_bytes`.
    pub(crate) fn fits(&self, heap_limit_bytes: usize) -> bool {
        self.heap_limit_bytes == heap_limit_bytes && !self.thread.is_finished()
    }

    /// Hands `claim` to the realm's thread; returns the thread.
    pub(super) fn claim(self, claim: Claim) -> Result<std::thread::JoinHandle<()>, HostError> {
        self.claims
            .send(claim)
            .map_err(|_| HostError::Engine("the prewarmed realm's thread ended".into()))?;
        Ok(self.thread)
    }
}
