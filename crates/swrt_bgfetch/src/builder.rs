//! [`BackgroundFetchServiceBuilder`]: what the engine is given (the host's
//! store, limits, the event dispatcher, an HTTP client) and its start.

use crate::data::DataManager;
use crate::dispatch::EventDispatcher;
use crate::engine::Inner;
use crate::error::EngineError;
use crate::limits::Limits;
use crate::net::{HttpClient, HttpClientConfig, HttpClientError};
use crate::progress::ProgressHub;
use crate::scheduler::{Scheduler, SchedulerCaps};
use crate::service::BackgroundFetchService;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use swrt_store::Store;
use tokio::sync::watch;

/// Builds a [`BackgroundFetchService`].
pub struct BackgroundFetchServiceBuilder {
    pub(crate) store: Arc<Store>,
    pub(crate) limits: Limits,
    pub(crate) dispatcher: Option<Arc<dyn EventDispatcher>>,
    pub(crate) client: Option<HttpClient>,
    pub(crate) claims: Option<Arc<dyn crate::claims::FetchClaims>>,
}

impl BackgroundFetchServiceBuilder {
    /// Use `limits` instead of the defaults.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Who runs service-worker events. Without one, every terminal event is
    /// treated as handled at once.
    pub fn dispatcher(mut self, d: Arc<dyn EventDispatcher>) -> Self {
        self.dispatcher = Some(d);
        self
    }

    /// Use a custom HTTP client (e.g. with a resolver that maps test hosts
    /// to loopback, or extra root certificates).
    pub fn http_client(mut self, c: HttpClient) -> Self {
        self.client = Some(c);
        self
    }

    /// Share the store with other engines: run only the fetches this engine
    /// holds a claim on (see [`crate::FetchClaims`]). The store must be
    /// opened shared ([`swrt_store::Store::is_shared`]).
    pub fn claims(mut self, claims: Arc<dyn crate::claims::FetchClaims>) -> Self {
        self.claims = Some(claims);
        self
    }

    /// Repair half-finished state in the store, resume every active fetch
    /// and re-dispatch unfinished terminal events. Must run inside a tokio
    /// runtime. Fails with [`EngineError::Stopped`] if the store is closed.
    pub async fn start(self) -> Result<BackgroundFetchService, EngineError> {
        if self.store.is_closed() {
            return Err(EngineError::Stopped);
        }
        let store = self.store;
        let client = match self.client {
            Some(c) => c,
            None => {
                default_client(&self.limits).map_err(|e| EngineError::TypeError(e.to_string()))?
            }
        };
        let inner = Arc::new(Inner {
            data: DataManager::new(store),
            sched: Scheduler::new(SchedulerCaps {
                global: self.limits.global_connections,
                per_fetch: self.limits.per_fetch_connections,
                per_host: self.limits.per_host_connections,
            }),
            limits: self.limits,
            client,
            dispatcher: self.dispatcher,
            progress: ProgressHub::new(),
            running: Mutex::new(HashMap::new()),
            permissions: Mutex::new(HashMap::new()),
            abandoned: Mutex::new(std::collections::HashSet::new()),
            jobs: watch::channel(0).0,
            shutdown: tokio_util::sync::CancellationToken::new(),
            shutdown_done: tokio::sync::OnceCell::new(),
            preflights: Default::default(),
            pins: Default::default(),
            claims: self.claims,
            claimed: Mutex::new(std::collections::HashSet::new()),
        });
        let svc = BackgroundFetchService::from_inner(inner);
        svc.recover().await?;
        Ok(svc)
    }
}

/// The HTTP client the engine uses by default.
pub fn default_client(limits: &Limits) -> Result<HttpClient, HttpClientError> {
    HttpClient::new(HttpClientConfig::new(limits))
}
