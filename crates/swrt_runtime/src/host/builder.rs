//! Building and starting a [`ServiceWorkerHost`]: its options, the store
//! and Background Fetch engine it opens, and the tasks it starts.

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};

use crate::config::Limits;
use crate::delegate::HostDelegate;
use crate::error::HostError;
use crate::loader::{LocalOriginMapping, ScriptLoader};
use crate::realm::HostRequestSender;

use super::{background_fetch, workers, HostInner, ServiceWorkerHost};

/// Builds a [`ServiceWorkerHost`].
pub struct ServiceWorkerHostBuilder {
    pub(super) limits: Limits,
    pub(super) delegate: Arc<dyn HostDelegate>,
    pub(super) local_origin: Option<LocalOriginMapping>,
    pub(super) data_dir: Option<std::path::PathBuf>,
    pub(super) bodies: Option<Box<dyn swrt_store::BodyStorage>>,
    pub(super) metadata: swrt_store::Metadata,
    pub(super) background_fetch_claims: Option<Arc<dyn swrt_bgfetch::FetchClaims>>,
    pub(super) background_fetch_limits: swrt_bgfetch::Limits,
    pub(super) allow_worker_fetch: bool,
    pub(super) resolver: crate::HostResolver,
    pub(super) root_certificates: Vec<crate::Certificate>,
    // The Background Fetch UI (see background_fetch/ui.rs).
    pub(super) background_fetch_ui: Option<Arc<dyn crate::background_fetch::ui::BackgroundFetchUi>>,
    pub(super) prewarm: crate::config::WorkerPrewarm,
    pub(super) background_sync: crate::config::BackgroundSyncConfig,
}

impl ServiceWorkerHostBuilder {
    /// Background Sync: online or not, and how failed events are retried.
    pub fn background_sync(mut self, config: crate::config::BackgroundSyncConfig) -> Self {
        self.background_sync = config;
        self
    }

    /// Whether to create service-worker realms ahead of the workers that
    /// will run in them (default: off).
    pub fn prewarm(mut self, prewarm: crate::config::WorkerPrewarm) -> Self {
        self.prewarm = prewarm;
        self
    }

    /// Resource limits for every worker and page.
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

    /// Keep durable state (registrations, background fetches, the Cache API)
    /// in `dir`. Required for Background Fetch and the Cache API; only one
    /// process at a time may use a data dir.
    pub fn data_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Keep the bodies of background fetches and of the Cache API in
    /// `bodies` rather than in files under the data dir, which still holds
    /// everything else. Only used with a [`data_dir`](Self::data_dir).
    pub fn bodies(mut self, bodies: Box<dyn swrt_store::BodyStorage>) -> Self {
        self.bodies = Some(bodies);
        self
    }

    /// Keep registrations, background fetches, records, Cache API entries
    /// and IndexedDB where `metadata` says (a PostgreSQL database) rather
    /// than in SQLite under the data dir. Only used with a
    /// [`data_dir`](Self::data_dir).
    pub fn metadata(mut self, metadata: swrt_store::Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    /// Share the store's background fetches with other hosts (a fleet on
    /// one PostgreSQL database): this host runs the fetches it holds a
    /// claim on. Needs [`metadata`](Self::metadata) of a shared database.
    pub fn background_fetch_claims(mut self, claims: Arc<dyn swrt_bgfetch::FetchClaims>) -> Self {
        self.background_fetch_claims = Some(claims);
        self
    }

    /// Resolve these host names to these addresses in every HTTP client of
    /// the host (scripts, `fetch()`, Background Fetch), and treat them as
    /// potentially trustworthy. With `allow_other_hosts` false, any other
    /// name fails as a network error: nothing leaves the machine.
    pub fn resolve_hosts(
        mut self,
        map: std::collections::HashMap<String, std::net::IpAddr>,
        allow_other_hosts: bool,
    ) -> Self {
        self.resolver = crate::HostResolver::new(map, allow_other_hosts);
        self
    }

    /// Send every HTTP request for `name` whose URL names no port to `addr`
    /// (port included): a loopback server standing in for the origin
    /// `http://name/` (`swrt run` serves a worker file's directory this
    /// way). Call after [`resolve_hosts`](Self::resolve_hosts), which
    /// replaces the resolver.
    pub fn route_host(mut self, name: &str, addr: std::net::SocketAddr) -> Self {
        self.resolver = self.resolver.route(name, addr);
        self
    }

    /// Trust `certificate` as a TLS root, in addition to the built-in webpki
    /// roots, in every HTTP client of the host: script loading and
    /// `importScripts()`, `fetch()` in pages and workers, and Background
    /// Fetch downloads. For test servers with their own CA (`swrt wpt` uses
    /// it for its https origins). Build the certificate with
    /// [`Certificate::from_pem`](crate::Certificate::from_pem) or
    /// [`Certificate::from_der`](crate::Certificate::from_der); may be called
    /// several times. A certificate that is not valid X.509 makes
    /// [`start`](Self::start) fail with [`HostError::Invalid`] (and
    /// [`build`](Self::build) panic).
    pub fn add_root_certificate(mut self, certificate: crate::Certificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// [`add_root_certificate`](Self::add_root_certificate) for each of
    /// `certificates` (e.g. from
    /// [`Certificate::from_pem_bundle`](crate::Certificate::from_pem_bundle)).
    pub fn root_certificates(
        mut self,
        certificates: impl IntoIterator<Item = crate::Certificate>,
    ) -> Self {
        self.root_certificates.extend(certificates);
        self
    }

    /// Limits of the Background Fetch engine (quota, connections, retries).
    pub fn background_fetch_limits(mut self, limits: swrt_bgfetch::Limits) -> Self {
        self.background_fetch_limits = limits;
        self
    }

    /// Whether a service worker may call `backgroundFetch.fetch()` itself.
    /// swrt allows it (it runs workers without pages); `false` restores
    /// Chromium's behaviour: `NotAllowedError`.
    pub fn allow_worker_initiated_fetch(mut self, allow: bool) -> Self {
        self.allow_worker_fetch = allow;
        self
    }

    /// The host's UI for background fetches: it is told about each fetch's
    /// title, icons, progress and result, and gets a [`crate::FetchControl`]
    /// to click or abort it. Only hosts with a [`data_dir`](Self::data_dir)
    /// run background fetches.
    pub fn background_fetch_ui(
        mut self,
        ui: Arc<dyn crate::background_fetch::ui::BackgroundFetchUi>,
    ) -> Self {
        self.background_fetch_ui = Some(ui);
        self
    }

    /// Starts the host; with a data dir, also opens the store, starts the
    /// Background Fetch engine (which resumes every active fetch and
    /// re-dispatches interrupted events) and restores the registrations.
    pub async fn start(mut self) -> Result<ServiceWorkerHost, HostError> {
        if !self.root_certificates.is_empty() {
            // Bad certificates surface here rather than as a panic in build().
            let mut roots = swrt_bgfetch::net::HttpClientConfig::new(&self.background_fetch_limits);
            roots.root_certificates = self.root_certificates.iter().map(|c| c.der()).collect();
            swrt_bgfetch::net::HttpClient::new(roots)
                .map_err(|e| HostError::Invalid(e.to_string()))?;
        }
        let background_fetch_ui = self.background_fetch_ui.take();
        let data_dir = self.data_dir.clone();
        let bodies = self.bodies.take();
        let claims = self.background_fetch_claims.take();
        let metadata = self.metadata.clone();
        let bg_limits = self.background_fetch_limits.clone();
        let allow_worker_fetch = self.allow_worker_fetch;
        let sync_config = self.background_sync.clone();
        let host = self.build();
        if let Some(dir) = data_dir {
            host.inner.registrations_restored.send_replace(false);
            let dispatcher = Arc::new(background_fetch::RuntimeDispatcher {
                host: Arc::downgrade(&host.inner),
            });
            // Restore registrations before the engine starts re-dispatching.
            create_data_dir(&dir)?;
            let mut http = swrt_bgfetch::net::HttpClientConfig::new(&bg_limits);
            http.user_agent = concat!("swrt/", env!("CARGO_PKG_VERSION")).to_string();
            let client =
                swrt_bgfetch::net::HttpClient::new(host.inner.resolver.apply_to_engine(http))
                    .map_err(|e| HostError::Engine(format!("HTTP client: {e}")))?;
            // The host owns the store: registrations, the Cache API and the
            // Background Fetch engine keep their state in it.
            let store = {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || {
                    swrt_store::Store::open_with(&dir, metadata, bodies)
                })
                .await
                .map_err(|e| HostError::DataDir(e.to_string()))?
                .map(Arc::new)
                .map_err(|e| HostError::DataDir(e.to_string()))?
            };
            let mut engine = swrt_bgfetch::BackgroundFetchService::builder(store.clone())
                .http_client(client)
                .limits(bg_limits)
                .dispatcher(dispatcher);
            if let Some(claims) = claims {
                engine = engine.claims(claims);
            }
            let service = engine
                .start()
                .await
                .map_err(|e| HostError::DataDir(e.to_string()))?;
            let context = crate::background_fetch::BackgroundFetchContext {
                store,
                service,
                runtime: tokio::runtime::Handle::current(),
                allow_worker_fetch,
            };
            let stored = context
                .with_store(|s| s.list_registrations())
                .await
                .map_err(|e| HostError::Engine(e.to_string()))?;
            for row in stored
                .into_iter()
                .filter(|r| r.state == swrt_store::WorkerState::Activated)
            {
                host.inner.restore_registration(&row);
            }
            // The Background Fetch UI follows the engine's progress (see background_fetch/ui.rs).
            if let Some(ui) = background_fetch_ui {
                crate::background_fetch::ui::spawn(
                    context.service.clone(),
                    context.store.clone(),
                    ui,
                );
            }
            let scheduler = super::SyncScheduler::start(
                Arc::downgrade(&host.inner),
                context.store.clone(),
                sync_config,
            )
            .await;
            let _ = host.inner.background_sync.set(scheduler);
            host.inner.indexeddb.attach_store(context.store.clone());
            let _ = host.inner.background_fetch.set(context);
            // Only now can a worker started for an event use the store
            // (Cache API, records): release the events waiting for this.
            host.inner.registrations_restored.send_replace(true);
        }
        Ok(host)
    }

    /// Starts the host on the current tokio runtime (which must be multi-threaded,
    /// since `importScripts()` blocks a worker thread on host network I/O),
    /// without durable state: no Background Fetch, no Cache API.
    pub fn build(self) -> ServiceWorkerHost {
        let handle = tokio::runtime::Handle::current();
        // The resolver carries the extra roots to every client: the loader's,
        // each realm's fetch client and the Background Fetch engine's.
        let resolver = self.resolver.with_root_certificates(self.root_certificates);
        let loader = ScriptLoader::with_resolver(handle.clone(), self.local_origin, &resolver);
        let (requests_tx, requests_rx) = HostRequestSender::channel();
        let inner = Arc::new(HostInner {
            limits: self.limits,
            indexeddb: swrt_indexeddb::Backend::new(self.background_fetch_limits.quota_per_origin),
            delegate: self.delegate,
            loader,
            registrations: Mutex::new(Vec::new()),
            pages: Mutex::new(Vec::new()),
            requests: requests_tx,
            next_id: AtomicU64::new(1),
            jobs_in_flight: AtomicUsize::new(0),
            background_fetch: std::sync::OnceLock::new(),
            resolver: Arc::new(resolver),
            broadcast: Mutex::new(std::collections::HashMap::new()),
            fetch_events: Mutex::new(std::collections::HashMap::new()),
            uninstalling: Mutex::new(Vec::new()),
            shared_workers: workers::SharedWorkers::default(),
            // A host without a data dir has nothing to restore.
            registrations_restored: tokio::sync::watch::Sender::new(true),
            prewarm: self.prewarm,
            prewarmed: Mutex::new(None),
            background_sync: std::sync::OnceLock::new(),
        });
        inner.refill_prewarmed();
        handle.spawn(super::requests::serve_requests(
            Arc::downgrade(&inner),
            requests_rx,
        ));
        ServiceWorkerHost { inner }
    }
}

/// Creates the data dir if needed, with a message that names it.
fn create_data_dir(dir: &std::path::Path) -> Result<(), HostError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| HostError::DataDir(format!("cannot create {}: {e}", dir.display())))
}
