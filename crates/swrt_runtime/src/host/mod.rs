//! The service-worker host: registrations, the install/activate lifecycle,
//! page clients, starting workers on demand and stopping them when idle.

mod background_fetch;
mod background_sync;
mod builder;
mod clients;
mod register_job;
mod registration;
mod registry;
mod requests;
mod version;
mod workers;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use url::Url;

pub(crate) use background_sync::SyncScheduler;
pub use builder::ServiceWorkerHostBuilder;
pub use clients::PageHandle;
pub(crate) use registration::Registration;
pub use registration::{RegistrationInfo, UpdateViaCache};
pub(crate) use version::Version;
pub use version::WorkerState;

use crate::sync::Locked;
use crate::worker_type::WorkerType;

use crate::config::Limits;
use crate::delegate::{HostDelegate, TracingDelegate};
use crate::error::HostError;
use crate::loader::ScriptLoader;
use crate::realm::{EventOutcome, HostRequestSender};
/// What [`ServiceWorkerHost::clear_origin_storage`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClearedStorage {
    /// Service worker registrations unregistered.
    pub registrations: usize,
    /// IndexedDB databases deleted.
    pub databases: usize,
    /// Cache API caches deleted.
    pub caches: usize,
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
    /// Set once the sync scheduler started (hosts with a data dir).
    pub(crate) background_sync: std::sync::OnceLock<Arc<SyncScheduler>>,
    prewarm: crate::config::WorkerPrewarm,
    /// The service-worker realm created ahead of the next worker's start.
    prewarmed: Mutex<Option<crate::realm::PrewarmedRealm>>,
}

impl ServiceWorkerHost {
    /// A builder with default limits and a tracing-only delegate.
    pub fn builder() -> ServiceWorkerHostBuilder {
        ServiceWorkerHostBuilder {
            limits: Limits::default(),
            delegate: Arc::new(TracingDelegate),
            local_origin: None,
            data_dir: None,
            bodies: None,
            metadata: swrt_store::Metadata::Sqlite,
            background_fetch_claims: None,
            background_fetch_limits: swrt_bgfetch::Limits::default(),
            allow_worker_fetch: true,
            resolver: crate::HostResolver::system(),
            root_certificates: Vec::new(),
            background_fetch_ui: None,
            prewarm: crate::config::WorkerPrewarm::Off,
            background_sync: crate::config::BackgroundSyncConfig::default(),
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
            .update(
                &self.inner,
                id,
                script_url,
                worker_type,
                register_job::UpdateJobOptions::default(),
                None,
            )
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
            .locked()
            .iter()
            .map(|r| r.info())
            .collect()
    }

    /// The registration with this exact scope. With a store shared by a
    /// fleet, one that another node stored since this host started is
    /// restored from the store.
    pub async fn registration(&self, scope: &Url) -> Option<RegistrationInfo> {
        self.inner
            .registration_or_stored(scope)
            .await
            .map(|r| r.info())
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
            .registration_or_stored(scope)
            .await
            .ok_or_else(|| HostError::Invalid(format!("no registration for scope {scope}")))?;
        let version = registration
            .active()
            .ok_or_else(|| HostError::Invalid(format!("no active worker for scope {scope}")))?;
        let outcome = version
            .dispatch(&self.inner, &registration, event_type, data)
            .await;
        // Fire Functional Event: a stale registration is soft-updated.
        self.inner.soft_update_if_stale(&registration);
        outcome
    }

    /// Number of events, across all workers, whose lifetime has not ended,
    /// plus host work that realms started and that is still running
    /// (requests sent to the host and not yet handled included).
    pub fn events_in_flight(&self) -> usize {
        let events: usize = self
            .inner
            .registrations
            .locked()
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
        let clients: Vec<_> = self.inner.pages.locked().clone();
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
        let clients = self.inner.pages.locked();
        let live: Vec<_> = clients.iter().filter(|c| c.handle.is_alive()).collect();
        (!live.is_empty()).then(|| live.iter().map(|c| c.handle.turns()).sum())
    }

    /// The Background Fetch engine, for hosts started with a data dir: start,
    /// get, list, abort and click fetches, subscribe to progress.
    pub fn background_fetch(&self) -> Option<&swrt_bgfetch::BackgroundFetchService> {
        self.inner.background_fetch.get().map(|c| &c.service)
    }

    /// The durable store of a host started with a data dir (registrations,
    /// Cache API, background fetches). Its calls block: run them on a
    /// blocking thread.
    pub fn store(&self) -> Option<Arc<swrt_store::Store>> {
        self.inner.background_fetch.get().map(|c| c.store.clone())
    }

    /// Tells the host whether it is online (Background Sync): going online
    /// fires the sync events that are due; offline, none fires. No effect
    /// on a host without a data dir.
    pub fn set_online(&self, online: bool) {
        if let Some(scheduler) = self.inner.background_sync.get() {
            scheduler.set_online(online);
        }
    }

    /// Clears an origin's storage, as a browser's "clear site data" does:
    /// every service worker registration of the origin is unregistered (its
    /// background fetches stop and its sync registrations go), its
    /// IndexedDB connections are closed by force and its databases
    /// deleted, and its Cache API caches deleted. `origin` is any URL of
    /// the origin.
    pub async fn clear_origin_storage(&self, origin: &Url) -> Result<ClearedStorage, HostError> {
        let host = &self.inner;
        let mut cleared = ClearedStorage::default();
        let serialized = origin.origin().ascii_serialization();
        cleared.databases = host
            .indexeddb
            .clear_origin(&serialized)
            .await
            .map_err(|e| {
                HostError::DataDir(format!("cannot clear IndexedDB of {serialized}: {e}"))
            })?;
        if let Some(store) = self.store() {
            let o = serialized.clone();
            cleared.caches = tokio::task::spawn_blocking(move || -> swrt_store::Result<usize> {
                let names = store.cache_keys(&o)?;
                for name in &names {
                    store.cache_delete(&o, name)?;
                }
                Ok(names.len())
            })
            .await
            .map_err(|e| HostError::DataDir(format!("cache clearing task failed: {e}")))?
            .map_err(|e| {
                HostError::DataDir(format!("cannot clear the caches of {serialized}: {e}"))
            })?;
        }
        // Last, so the workers' realms still run when their IndexedDB
        // connections are closed by force and can see `close`.
        for registration in host.registrations_of_origin(origin) {
            let scope = registration.scope.clone();
            let Some(registration_id) = host.unregister(&scope) else {
                continue;
            };
            cleared.registrations += 1;
            host.forget_registration(&scope).await;
            if let Some(context) = host.background_fetch.get() {
                if let Err(e) = context.service.abandon_registration(scope.as_str()).await {
                    tracing::warn!(%scope, "cannot stop the background fetches of a cleared origin: {e}");
                }
            }
            host.try_clear_registration(registration_id).await;
        }
        tracing::info!(origin = %serialized, ?cleared, "cleared the origin's storage");
        Ok(cleared)
    }

    /// Background Sync work of `origin`'s registrations: events firing and,
    /// while online, registrations that will still fire (retries included).
    pub async fn background_sync_work(&self, origin: &str) -> usize {
        match self.inner.background_sync.get() {
            Some(scheduler) => scheduler.work(origin).await,
            None => 0,
        }
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
        // A realm nobody will claim ends as soon as its engine exists.
        drop(self.inner.prewarmed.locked().take());
        // The engine first: it saves downloads in flight.
        if let Some(context) = self.inner.background_fetch.get() {
            context.service.shutdown().await;
        }
        let pages: Vec<_> = self.inner.pages.locked().drain(..).collect();
        // Frames that share a page's realm go first, so the page's handle
        // is the last one and stops its realm.
        let (frames, pages): (Vec<_>, Vec<_>) = pages.into_iter().partition(|p| p.shares_realm());
        drop(frames);
        for page in pages {
            page.close().await;
        }
        let mut registrations: Vec<_> = self.inner.registrations.locked().clone();
        registrations.extend(self.inner.uninstalling.locked().iter().cloned());
        for registration in registrations {
            registration.stop_all().await;
        }
        // Last, once no worker can reach it: close the store, which releases
        // the data dir for the next host.
        if let Some(context) = self.inner.background_fetch.get() {
            let store = context.store.clone();
            match tokio::task::spawn_blocking(move || store.close()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "closing the store"),
                Err(e) => tracing::warn!(error = %e, "closing the store"),
            }
        }
    }
}
