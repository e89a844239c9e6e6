//! The service-worker host: registrations, the install/activate lifecycle,
//! page clients, starting workers on demand and stopping them when idle.

mod clients;
mod registration;
mod workers;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::mpsc;
use url::Url;

pub(crate) use clients::OpenedFrame;
pub use clients::PageHandle;
pub(crate) use registration::{Registration, Version};
pub use registration::{RegistrationInfo, WorkerState, WorkerType};

use crate::config::Limits;
use crate::delegate::{HostDelegate, TracingDelegate};
use crate::error::HostError;
use crate::loader::{LocalOriginMapping, ScriptLoader};
use crate::realm::{EventOutcome, HostRequest, HostRequestSender};

/// Builds a [`ServiceWorkerHost`].
pub struct ServiceWorkerHostBuilder {
    limits: Limits,
    delegate: Arc<dyn HostDelegate>,
    local_origin: Option<LocalOriginMapping>,
    data_dir: Option<std::path::PathBuf>,
    background_fetch_limits: swrt_bgfetch::Limits,
    allow_worker_fetch: bool,
    resolver: crate::HostResolver,
    root_certificates: Vec<reqwest::Certificate>,
    // The Background Fetch UI (see ui.rs).
    background_fetch_ui: Option<Arc<dyn crate::ui::BackgroundFetchUi>>,
}

impl ServiceWorkerHostBuilder {
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
    pub fn add_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// [`add_root_certificate`](Self::add_root_certificate) for each of
    /// `certificates` (e.g. from
    /// [`Certificate::from_pem_bundle`](crate::Certificate::from_pem_bundle)).
    pub fn root_certificates(
        mut self,
        certificates: impl IntoIterator<Item = reqwest::Certificate>,
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
    pub fn background_fetch_ui(mut self, ui: Arc<dyn crate::ui::BackgroundFetchUi>) -> Self {
        self.background_fetch_ui = Some(ui);
        self
    }

    /// Starts the host; with a data dir, also opens the store, starts the
    /// Background Fetch engine (which resumes every active fetch and
    /// re-dispatches interrupted events) and restores the registrations.
    pub async fn start(mut self) -> Result<ServiceWorkerHost, HostError> {
        if !self.root_certificates.is_empty() {
            // Bad certificates surface here rather than as a panic in build().
            let mut check = reqwest::Client::builder();
            for certificate in &self.root_certificates {
                check = check.add_root_certificate(certificate.clone());
            }
            check
                .build()
                .map_err(|e| HostError::Invalid(format!("root certificate: {e}")))?;
        }
        let background_fetch_ui = self.background_fetch_ui.take();
        let data_dir = self.data_dir.clone();
        let bg_limits = self.background_fetch_limits.clone();
        let allow_worker_fetch = self.allow_worker_fetch;
        let host = self.build();
        if let Some(dir) = data_dir {
            host.inner.registrations_restored.send_replace(false);
            let dispatcher = Arc::new(crate::background_fetch::RuntimeDispatcher {
                host: Arc::downgrade(&host.inner),
            });
            // Restore registrations before the engine starts re-dispatching.
            create_data_dir(&dir)?;
            let client = host
                .inner
                .resolver
                .apply(
                    reqwest::Client::builder()
                        // The engine decodes Content-Encoding itself (so resume
                        // offsets count stored bytes) and follows redirects itself.
                        .redirect(reqwest::redirect::Policy::none())
                        .no_gzip()
                        .no_brotli()
                        .no_deflate()
                        .connect_timeout(bg_limits.connect_timeout)
                        .pool_max_idle_per_host(bg_limits.per_host_connections.max(1))
                        .tcp_nodelay(true)
                        .user_agent(concat!("swrt/", env!("CARGO_PKG_VERSION"))),
                )
                .build()
                .map_err(|e| HostError::Engine(format!("HTTP client: {e}")))?;
            let service = swrt_bgfetch::BackgroundFetchService::builder(&dir)
                .http_client(client)
                .limits(bg_limits)
                .dispatcher(dispatcher)
                .start()
                .await
                .map_err(|e| HostError::DataDir(e.to_string()))?;
            let context = crate::background_fetch::BackgroundFetchContext {
                store: service.store(),
                service,
                runtime: tokio::runtime::Handle::current(),
                allow_worker_fetch,
            };
            let stored = context
                .with_store(|s| s.list_registrations())
                .await
                .map_err(HostError::Engine)?;
            for row in stored.into_iter().filter(|r| r.state == "activated") {
                host.inner.restore_registration(&row);
            }
            let progress = context.service.subscribe();
            // The Background Fetch UI follows the engine's progress (see ui.rs).
            if let Some(ui) = background_fetch_ui {
                crate::ui::spawn(context.service.clone(), ui);
            }
            host.inner.indexeddb.attach_store(context.store.clone());
            let _ = host.inner.background_fetch.set(context);
            // Only now can a worker started for an event use the store
            // (Cache API, records): release the events waiting for this.
            host.inner.registrations_restored.send_replace(true);
            tokio::spawn(forward_progress(Arc::downgrade(&host.inner), progress));
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
        });
        handle.spawn(serve_requests(Arc::downgrade(&inner), requests_rx));
        ServiceWorkerHost { inner }
    }
}

/// Runs service workers and their pages: one isolate each, on its own thread.
#[derive(Clone)]
pub struct ServiceWorkerHost {
    inner: Arc<HostInner>,
}

pub(crate) struct HostInner {
    pub(crate) limits: Limits,
    /// Every origin's IndexedDB databases, shared by all realms.
    pub(crate) indexeddb: Arc<swrt_indexeddb::Backend>,
    pub(crate) delegate: Arc<dyn HostDelegate>,
    pub(crate) loader: ScriptLoader,
    registrations: Mutex<Vec<Arc<Registration>>>,
    pages: Mutex<Vec<Arc<clients::PageEntry>>>,
    pub(crate) requests: HostRequestSender,
    /// Ids of registrations, worker versions and FetchEvent requests.
    next_id: AtomicU64,
    /// Host work started for realms that has not finished yet: register
    /// and update jobs, unregister clean-ups, messages and FetchEvents.
    jobs_in_flight: AtomicUsize,
    /// Host-name resolution for every client of the host.
    pub(crate) resolver: Arc<crate::HostResolver>,
    /// FetchEvents waiting for their worker's answer, by request id.
    pub(crate) fetch_events: Mutex<
        std::collections::HashMap<
            u64,
            tokio::sync::oneshot::Sender<Option<crate::realm::FetchEventResponse>>,
        >,
    >,
    /// Registrations that `unregister()` removed from the scope map but that
    /// are not cleared yet: a page they control keeps its controller, and
    /// their workers finish the events they have (Try Clear Registration).
    uninstalling: Mutex<Vec<Arc<Registration>>>,
    /// True once the stored registrations are back after start and the
    /// store is reachable from workers. The engine re-offers interrupted
    /// events as soon as it starts, before that: their dispatch waits for
    /// this, so a restored registration is never taken for a missing one and
    /// its worker starts with its storage.
    pub(crate) registrations_restored: tokio::sync::watch::Sender<bool>,
    /// One BroadcastChannel bus per origin: same-origin pages and workers
    /// hear each other, other origins don't.
    broadcast: Mutex<std::collections::HashMap<String, deno_web::InMemoryBroadcastChannel>>,
    /// The running shared workers.
    shared_workers: workers::SharedWorkers,
    /// Set once the engine started (hosts with a data dir).
    pub(crate) background_fetch:
        std::sync::OnceLock<crate::background_fetch::BackgroundFetchContext>,
}

impl ServiceWorkerHost {
    /// A builder with default limits and a tracing-only delegate.
    pub fn builder() -> ServiceWorkerHostBuilder {
        ServiceWorkerHostBuilder {
            limits: Limits::default(),
            delegate: Arc::new(TracingDelegate),
            local_origin: None,
            data_dir: None,
            background_fetch_limits: swrt_bgfetch::Limits::default(),
            allow_worker_fetch: true,
            resolver: crate::HostResolver::system(),
            root_certificates: Vec::new(),
            background_fetch_ui: None,
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
        self.register_with_type(script_url, scope, WorkerType::Classic)
            .await
    }

    /// [`Self::register`] for a worker of the given type: a
    /// [`WorkerType::Module`] worker's script is an ES module.
    pub async fn register_with_type(
        &self,
        script_url: Url,
        scope: Option<Url>,
        worker_type: WorkerType,
    ) -> Result<RegistrationInfo, HostError> {
        let registration = self.inner.registration_for_scope(&script_url, scope)?;
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        registration
            .update(&self.inner, id, script_url, worker_type, None)
            .await?;
        Ok(registration.info())
    }

    /// Opens a page (window client) at `url` and runs `url`'s script in it.
    /// `module`: Some(true) runs it as an ES module, Some(false) as a classic
    /// script, None decides from the source (see [`PageHandle`]).
    ///
    /// Inside the scope of an active worker, loading the page is a
    /// navigation: the worker's `fetch` listener may answer it (mode
    /// `navigate`) with the script; a network error or a non-2xx answer
    /// fails the open with [`HostError::ScriptFetch`].
    pub async fn open_page(&self, url: Url, module: Option<bool>) -> Result<PageHandle, HostError> {
        clients::open_page(&self.inner, url, module).await
    }

    /// The registration whose scope is the longest match for `url`.
    pub fn registration_for(&self, url: &Url) -> Option<RegistrationInfo> {
        self.inner.matching_registration(url).map(|r| r.info())
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
            .registration_with_scope(scope)
            .ok_or_else(|| HostError::Invalid(format!("no registration for scope {scope}")))?;
        let version = registration
            .active()
            .ok_or_else(|| HostError::Invalid(format!("no active worker for scope {scope}")))?;
        version
            .dispatch(&self.inner, &registration, event_type, data)
            .await
    }

    /// Number of events, across all workers, whose lifetime has not ended,
    /// plus host work that realms started and that is still running
    /// (requests sent to the host and not yet handled included).
    pub fn events_in_flight(&self) -> usize {
        let events: usize = self
            .inner
            .registrations
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.events_in_flight())
            .sum();
        events + self.inner.jobs_in_flight.load(Ordering::Acquire) + self.inner.requests.in_flight()
    }

    /// True when no page has anything pending: no timer, no fetch or other
    /// operation in flight, no message or state change waiting to be
    /// handled. A page that only listens (an event listener, a promise
    /// nothing will settle) is idle.
    ///
    /// Covers every client: pages, frames, dedicated and shared workers. A
    /// message from one realm to another is counted on the receiver before
    /// the sender's turn ends, but the realms are read one after the other:
    /// a realm that ran between two reads is not idle, so a message that
    /// moved between two realms during the check is never missed.
    pub fn pages_idle(&self) -> bool {
        let clients: Vec<_> = self.inner.pages.lock().unwrap().clone();
        let turns: Vec<u64> = clients.iter().map(|c| c.handle.turns()).collect();
        let idle = |c: &Arc<clients::PageEntry>| !c.handle.is_alive() || c.handle.is_idle();
        clients.iter().all(idle)
            && clients
                .iter()
                .zip(turns)
                .all(|(c, turns)| !c.handle.is_alive() || c.handle.turns() == turns)
    }

    /// How many event-loop turns the live pages, frames and workers have run
    /// in all, or None when there are none. Unchanged between two looks
    /// means no client realm ran in between: a message one of them sent
    /// another over a MessagePort (which nothing counts while it travels)
    /// would have woken its receiver.
    pub fn client_turns(&self) -> Option<u64> {
        let clients = self.inner.pages.lock().unwrap();
        let live: Vec<_> = clients.iter().filter(|c| c.handle.is_alive()).collect();
        (!live.is_empty()).then(|| live.iter().map(|c| c.handle.turns()).sum())
    }

    /// The Background Fetch engine, for hosts started with a data dir: start,
    /// get, list, abort and click fetches, subscribe to progress.
    pub fn background_fetch(&self) -> Option<&swrt_bgfetch::BackgroundFetchService> {
        self.inner.background_fetch.get().map(|c| &c.service)
    }

    /// Sets a permission for `origin` (the host's permission prompt, or
    /// WPT's `test_driver.set_permission`). `background-fetch`: anything but
    /// `granted` makes `fetch()` reject with NotAllowedError. Returns false
    /// for permissions swrt does not know.
    pub fn set_permission(&self, origin: &str, name: &str, state: &str) -> bool {
        match (name, self.inner.background_fetch.get()) {
            ("background-fetch", Some(context)) => {
                context.service.set_permission(origin, state == "granted");
                true
            }
            _ => false,
        }
    }

    /// Background fetches of `origin` that still have work: downloading, or
    /// settled with their terminal event not yet handled.
    pub async fn background_fetch_work(&self, origin: &str) -> usize {
        let Some(context) = self.inner.background_fetch.get() else {
            return 0;
        };
        let origin = origin.to_string();
        context
            .with_store(move |s| s.count_unfinished(&origin))
            .await
            .map(|n| n as usize)
            .unwrap_or(0)
    }

    /// Stops every worker and page and waits for their threads.
    ///
    /// The Background Fetch engine stops first: downloads in flight are
    /// synced and recorded (the next start on the same data dir resumes
    /// them with `Range`), and a terminal event that is running is offered
    /// again on the next start, so stopping its worker loses nothing.
    pub async fn shutdown(&self) {
        // The engine first: it saves downloads in flight.
        if let Some(context) = self.inner.background_fetch.get() {
            context.service.shutdown().await;
        }
        let pages: Vec<_> = self.inner.pages.lock().unwrap().drain(..).collect();
        // Frames that share a page's realm go first, so the page's handle
        // is the last one and stops its realm.
        let (frames, pages): (Vec<_>, Vec<_>) = pages.into_iter().partition(|p| p.shares_realm());
        drop(frames);
        for page in pages {
            page.close().await;
        }
        let mut registrations: Vec<_> = self.inner.registrations.lock().unwrap().clone();
        registrations.extend(self.inner.uninstalling.lock().unwrap().iter().cloned());
        for registration in registrations {
            registration.stop_all().await;
        }
    }
}

impl HostInner {
    /// Removes `registration` from the registration map if it has no worker
    /// at all (its first job failed), so it is neither kept nor found.
    pub(crate) fn remove_if_empty(&self, registration: &Arc<Registration>) {
        if registration.versions().is_empty() {
            self.registrations
                .lock()
                .unwrap()
                .retain(|r| !Arc::ptr_eq(r, registration));
        }
    }

    fn registration_for_scope(
        &self,
        script_url: &Url,
        scope: Option<Url>,
    ) -> Result<Arc<Registration>, HostError> {
        let scope = registration::resolve_scope(script_url, scope)?;
        let mut all = self.registrations.lock().unwrap();
        Ok(match all.iter().find(|r| r.scope == scope) {
            Some(r) => r.clone(),
            None => {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let r = Arc::new(Registration::new(id, scope, self.limits.event_timeout));
                all.push(r.clone());
                r
            }
        })
    }

    /// A registration whose worker activated in an earlier run: its active
    /// version is restored without install/activate (the script is fetched
    /// when the worker first starts).
    fn restore_registration(&self, row: &swrt_store::SwRegistration) {
        let (Ok(scope), Ok(script_url), Some(worker_type)) = (
            Url::parse(&row.scope),
            Url::parse(&row.script_url),
            WorkerType::parse(&row.worker_type),
        ) else {
            tracing::warn!(
                scope = row.scope,
                script_url = row.script_url,
                worker_type = row.worker_type,
                "skipping a stored registration with a bad URL or worker type"
            );
            return;
        };
        let registration_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let version_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let registration = Arc::new(Registration::restored(
            scope,
            script_url,
            worker_type,
            row,
            (registration_id, version_id),
            self.limits.event_timeout,
        ));
        self.registrations.lock().unwrap().push(registration);
    }

    /// Records an activated registration so a later run finds it.
    /// The worker's script and script resource map go with it: a later
    /// run starts the installed code, even when the origin is unreachable.
    pub(crate) async fn persist_registration(&self, scope: &Url, version: &registration::Version) {
        let Some(context) = self.background_fetch.get().cloned() else {
            return;
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let row = swrt_store::SwRegistration {
            scope: scope.to_string(),
            script_url: version.script_url.to_string(),
            state: "activated".into(),
            worker_type: version.worker_type.as_str().into(),
            script_source: version.installed_source(),
            imported_scripts: version.imported_scripts(),
            script_csp: version.installed_csp(),
            created_ms: now,
            updated_ms: now,
        };
        if let Err(e) = context.with_store(move |s| s.put_registration(&row)).await {
            tracing::warn!("cannot persist the registration: {e}");
        }
    }

    /// Deletes an unregistered registration's stored row.
    pub(crate) async fn forget_registration(&self, scope: &Url) {
        let Some(context) = self.background_fetch.get().cloned() else {
            return;
        };
        let scope = scope.to_string();
        if let Err(e) = context
            .with_store(move |s| s.delete_registration(&scope))
            .await
        {
            tracing::warn!("cannot delete the stored registration: {e}");
        }
    }

    /// Fetches a script (a worker's, an imported one, a page's) through the
    /// host's loader.
    pub(crate) async fn fetch_script(
        &self,
        url: &Url,
    ) -> Result<crate::loader::ScriptSource, HostError> {
        self.loader.fetch(url).await.map_err(|error| match error {
            // Service Workers, Update: a script that is not JavaScript is
            // rejected as a security error.
            crate::loader::LoadError::MimeType(reason) => {
                HostError::Security(format!("the script {url} was refused: {reason}"))
            }
            crate::loader::LoadError::Failed(reason) => HostError::ScriptFetch {
                url: url.to_string(),
                reason,
            },
        })
    }

    /// Spawns host work a realm started. It counts as in flight (see
    /// [`ServiceWorkerHost::events_in_flight`]) from this call until it
    /// ends, so a run cannot end in between.
    pub(crate) fn spawn_job<F>(self: &Arc<Self>, job: impl FnOnce(Arc<HostInner>) -> F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        struct InFlight(Arc<HostInner>);
        impl Drop for InFlight {
            fn drop(&mut self) {
                self.0.jobs_in_flight.fetch_sub(1, Ordering::AcqRel);
            }
        }
        self.jobs_in_flight.fetch_add(1, Ordering::AcqRel);
        let in_flight = InFlight(self.clone());
        let job = job(self.clone());
        tokio::spawn(async move {
            job.await;
            drop(in_flight);
        });
    }

    /// Service Workers "Unregister": removes the registration from the scope
    /// map (later lookups, registers and pages do not find it) and returns
    /// its id, or None when no registration has that scope. The caller then
    /// forgets the stored row, stops the registration's background fetches,
    /// resolves the page's promise and runs [`Self::try_clear_registration`].
    pub(crate) fn unregister(&self, scope: &Url) -> Option<u64> {
        let registration = {
            let mut all = self.registrations.lock().unwrap();
            let index = all.iter().position(|r| &r.scope == scope)?;
            all.remove(index)
        };
        registration.mark_unregistered();
        let id = registration.id;
        self.uninstalling.lock().unwrap().push(registration);
        Some(id)
    }

    /// Service Workers "Try Clear Registration": an unregistered registration
    /// is cleared (every worker redundant and stopped) once no page is
    /// controlled by it, no update job is running for it and its workers
    /// have no events in flight. Called again when any of those ends.
    pub(crate) async fn try_clear_registration(self: &Arc<Self>, registration_id: u64) {
        let Some(registration) = self
            .uninstalling
            .lock()
            .unwrap()
            .iter()
            .find(|r| r.id == registration_id)
            .cloned()
        else {
            return;
        };
        // A running job tries again when it ends.
        let Some(_job) = registration.try_hold_jobs() else {
            return;
        };
        let ids: Vec<u64> = registration.versions().iter().map(|v| v.id).collect();
        let in_use = self
            .pages
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.controller_id().is_some_and(|id| ids.contains(&id)));
        if in_use || registration.events_in_flight() > 0 {
            return;
        }
        let claimed = {
            let mut list = self.uninstalling.lock().unwrap();
            let before = list.len();
            list.retain(|r| r.id != registration_id);
            list.len() < before
        };
        if claimed {
            registration.clear(self).await;
        }
    }

    pub(crate) fn registration_with_scope(&self, scope: &Url) -> Option<Arc<Registration>> {
        self.registrations
            .lock()
            .unwrap()
            .iter()
            .find(|r| &r.scope == scope)
            .cloned()
    }

    /// Service Workers "Match Service Worker Registration": longest scope prefix.
    pub(crate) fn matching_registration(&self, url: &Url) -> Option<Arc<Registration>> {
        self.registrations
            .lock()
            .unwrap()
            .iter()
            .filter(|r| url.as_str().starts_with(r.scope.as_str()))
            .max_by_key(|r| r.scope.as_str().len())
            .cloned()
    }

    fn registrations_of_origin(&self, url: &Url) -> Vec<Arc<Registration>> {
        self.registrations
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.scope.origin() == url.origin())
            .cloned()
            .collect()
    }

    /// A worker version of a registration, unregistered ones included.
    pub(crate) fn version_by_id(&self, id: u64) -> Option<(Arc<Registration>, Arc<Version>)> {
        let mut registrations = self.registrations.lock().unwrap().clone();
        registrations.extend(self.uninstalling.lock().unwrap().iter().cloned());
        registrations.into_iter().find_map(|r| {
            r.versions()
                .into_iter()
                .find(|v| v.id == id)
                .map(|v| (r, v))
        })
    }

    pub(crate) fn pages_of_origin(&self, url: &Url) -> Vec<Arc<clients::PageEntry>> {
        self.pages
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.origin == url.origin())
            .cloned()
            .collect()
    }

    /// What a new realm of this host needs, for `url` running `source`.
    pub(crate) fn realm_spec(
        &self,
        url: &Url,
        source: String,
        kind: crate::realm::RealmKind,
    ) -> crate::realm::RealmSpec {
        crate::realm::RealmSpec {
            url: url.clone(),
            source,
            kind,
            limits: self.limits.clone(),
            delegate: self.delegate.clone(),
            loader: self.loader.clone(),
            host_requests: self.requests.clone(),
            background_fetch: self.background_fetch.get().cloned(),
            indexeddb: self.indexeddb.clone(),
            resolver: self.resolver.clone(),
            broadcast: self.broadcast_channel(url),
        }
    }

    pub(crate) fn broadcast_channel(&self, url: &Url) -> deno_web::InMemoryBroadcastChannel {
        self.broadcast
            .lock()
            .unwrap()
            .entry(url.origin().ascii_serialization())
            .or_default()
            .clone()
    }

    pub(crate) fn version_started(&self, version: &Version) {
        tracing::debug!(script_url = %version.script_url, id = version.id, "worker started");
    }
}

/// Engine -> host -> realms: every progress notification goes to each page
/// and running worker of the fetch's origin, which update their live
/// `BackgroundFetchRegistration` objects.
async fn forward_progress(
    host: std::sync::Weak<HostInner>,
    mut progress: tokio::sync::broadcast::Receiver<swrt_bgfetch::ProgressEvent>,
) {
    loop {
        let event = match progress.recv().await {
            Ok(event) => event,
            // Missed intermediate values; the next one carries the latest state.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        let Some(host) = host.upgrade() else {
            return;
        };
        let Ok(origin) = Url::parse(&event.registration.origin) else {
            continue;
        };
        let command = crate::realm::HostCommand::Progress {
            registration: crate::background_fetch::RegistrationData::from(&event.registration),
            is_final: event.is_final,
        };
        for page in host.pages_of_origin(&origin) {
            page.handle.send(command.clone());
        }
        for registration in host.registrations_of_origin(&origin) {
            for version in registration.versions() {
                version.send_if_running(command.clone()).await;
            }
        }
    }
}

/// Creates the data dir if needed, with a message that names it.
fn create_data_dir(dir: &std::path::Path) -> Result<(), HostError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| HostError::DataDir(format!("cannot create {}: {e}", dir.display())))
}

/// Answers what realms ask of the host.
async fn serve_requests(
    host: std::sync::Weak<HostInner>,
    mut requests: mpsc::UnboundedReceiver<HostRequest>,
) {
    while let Some(request) = requests.recv().await {
        let Some(host) = host.upgrade() else {
            return;
        };
        clients::handle_request(&host, request);
        // Handled: what it started is counted by its job or by the realm
        // it was delivered to.
        host.requests.handled();
    }
}
