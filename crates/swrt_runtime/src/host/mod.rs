//! The service-worker host: registrations, the install/activate lifecycle,
//! starting workers on demand and stopping them when idle.

mod registration;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::mpsc;
use url::Url;

use registration::{Registration, Version};
pub use registration::{RegistrationInfo, WorkerState};

use crate::config::Limits;
use crate::delegate::{HostDelegate, TracingDelegate};
use crate::error::HostError;
use crate::loader::{LocalOriginMapping, ScriptLoader};
use crate::worker::{EventOutcome, WorkerRequest};

/// Builds a [`ServiceWorkerHost`].
pub struct ServiceWorkerHostBuilder {
    limits: Limits,
    delegate: Arc<dyn HostDelegate>,
    local_origin: Option<LocalOriginMapping>,
}

impl ServiceWorkerHostBuilder {
    /// Resource limits for every worker.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Who receives console output, errors and window requests.
    pub fn delegate(mut self, delegate: Arc<dyn HostDelegate>) -> Self {
        self.delegate = delegate;
        self
    }

    /// Serve an origin's scripts from a directory instead of the network.
    pub fn local_origin(mut self, mapping: LocalOriginMapping) -> Self {
        self.local_origin = Some(mapping);
        self
    }

    /// Starts the host on the current tokio runtime (which must be multi-threaded,
    /// since `importScripts()` blocks a worker thread on host network I/O).
    pub fn build(self) -> ServiceWorkerHost {
        let handle = tokio::runtime::Handle::current();
        let loader = ScriptLoader::new(handle.clone(), self.local_origin);
        let (requests_tx, requests_rx) = mpsc::unbounded_channel();
        let inner = Arc::new(HostInner {
            limits: self.limits,
            delegate: self.delegate,
            loader,
            registrations: Mutex::new(Vec::new()),
            requests: requests_tx,
            next_version_id: AtomicU64::new(1),
        });
        handle.spawn(serve_worker_requests(Arc::downgrade(&inner), requests_rx));
        ServiceWorkerHost { inner }
    }
}

/// Runs service workers: one isolate per worker, each on its own thread.
#[derive(Clone)]
pub struct ServiceWorkerHost {
    inner: Arc<HostInner>,
}

pub(crate) struct HostInner {
    pub(crate) limits: Limits,
    pub(crate) delegate: Arc<dyn HostDelegate>,
    pub(crate) loader: ScriptLoader,
    registrations: Mutex<Vec<Arc<Registration>>>,
    pub(crate) requests: mpsc::UnboundedSender<WorkerRequest>,
    next_version_id: AtomicU64,
}

impl ServiceWorkerHost {
    /// A builder with default limits and a tracing-only delegate.
    pub fn builder() -> ServiceWorkerHostBuilder {
        ServiceWorkerHostBuilder {
            limits: Limits::default(),
            delegate: Arc::new(TracingDelegate),
            local_origin: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Registers `script_url` for `scope` (default: the script's directory) and
    /// runs the lifecycle to the end: fetch, evaluate, `install`, `activate`.
    /// Resolves once the new worker is activated (its activate event's
    /// lifetime has ended), or with the error that made it redundant.
    pub async fn register(
        &self,
        script_url: Url,
        scope: Option<Url>,
    ) -> Result<RegistrationInfo, HostError> {
        let scope = registration::resolve_scope(&script_url, scope)?;
        let registration = {
            let mut all = self.inner.registrations.lock().unwrap();
            match all.iter().find(|r| r.scope == scope) {
                Some(r) => r.clone(),
                None => {
                    let r = Arc::new(Registration::new(
                        scope.clone(),
                        self.inner.limits.event_timeout,
                    ));
                    all.push(r.clone());
                    r
                }
            }
        };
        let id = self.inner.next_version_id.fetch_add(1, Ordering::Relaxed);
        registration.update(&self.inner, id, script_url).await?;
        Ok(registration.info())
    }

    /// The registration whose scope is the longest match for `url`.
    pub fn registration_for(&self, url: &Url) -> Option<RegistrationInfo> {
        self.find(url).map(|r| r.info())
    }

    /// Every registration.
    pub fn registrations(&self) -> Vec<RegistrationInfo> {
        self.inner
            .registrations
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.info())
            .collect()
    }

    fn find(&self, url: &Url) -> Option<Arc<Registration>> {
        self.inner
            .registrations
            .lock()
            .unwrap()
            .iter()
            .filter(|r| url.as_str().starts_with(r.scope.as_str()))
            .max_by_key(|r| r.scope.as_str().len())
            .cloned()
    }

    /// Dispatches a functional event (`message`, background fetch events, ...)
    /// to the active worker of the registration with this exact scope,
    /// starting the worker if it is not running. Resolves when the event's
    /// lifetime ends.
    pub async fn dispatch_event(
        &self,
        scope: &Url,
        event_type: &str,
        data: Value,
    ) -> Result<EventOutcome, HostError> {
        let registration = self
            .inner
            .registrations
            .lock()
            .unwrap()
            .iter()
            .find(|r| &r.scope == scope)
            .cloned()
            .ok_or_else(|| HostError::Invalid(format!("no registration for scope {scope}")))?;
        let version = registration
            .active()
            .ok_or_else(|| HostError::Invalid(format!("no active worker for scope {scope}")))?;
        version
            .dispatch(&self.inner, &registration, event_type, data)
            .await
    }

    /// Number of events, across all workers, whose lifetime has not ended.
    pub fn events_in_flight(&self) -> usize {
        self.inner
            .registrations
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.events_in_flight())
            .sum()
    }

    /// Stops every worker and waits for their threads.
    pub async fn shutdown(&self) {
        let registrations: Vec<_> = self.inner.registrations.lock().unwrap().clone();
        for registration in registrations {
            registration.stop_all().await;
        }
    }
}

/// Answers what workers ask of the host (skipWaiting, clients, openWindow).
async fn serve_worker_requests(
    host: std::sync::Weak<HostInner>,
    mut requests: mpsc::UnboundedReceiver<WorkerRequest>,
) {
    while let Some(request) = requests.recv().await {
        let Some(host) = host.upgrade() else { return };
        match request {
            WorkerRequest::SkipWaiting { script_url, reply } => {
                for registration in host.registrations.lock().unwrap().iter() {
                    registration.mark_skip_waiting(&script_url);
                }
                let _ = reply.send(());
            }
            WorkerRequest::Claim { script_url, reply } => {
                // No page client exists in this host yet, so there is nothing to take over.
                tracing::debug!(%script_url, "clients.claim");
                let _ = reply.send(Ok(()));
            }
            WorkerRequest::OpenWindow {
                script_url,
                url,
                reply,
            } => {
                tracing::info!(%script_url, %url, "clients.openWindow");
                let _ = reply.send(host.delegate.open_window(&script_url, &url));
            }
            WorkerRequest::MatchAll {
                script_url,
                options,
                reply,
            } => {
                // Page realms are the only clients, and this host has none.
                tracing::debug!(
                    %script_url,
                    include_uncontrolled = options.include_uncontrolled,
                    client_type = %options.client_type,
                    "clients.matchAll"
                );
                let _ = reply.send(Vec::new());
            }
        }
    }
}

impl HostInner {
    pub(crate) fn version_started(&self, version: &Version) {
        tracing::debug!(script_url = %version.script_url, id = version.id, "worker started");
    }
}
