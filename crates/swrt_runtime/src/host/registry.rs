//! The host's registrations: finding one by scope or URL, persisting and
//! restoring them, unregistering and clearing, and the realms they run.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

use url::Url;

use crate::sync::Locked;
use crate::worker_type::WorkerType;

use crate::error::HostError;

use super::{clients, register_job, HostInner, Registration, Version};

impl HostInner {
    /// The prewarmed realm for a worker that is starting, if one is ready
    /// for this host's limits.
    pub(crate) fn take_prewarmed(&self) -> Option<crate::realm::PrewarmedRealm> {
        let taken = self.prewarmed.locked().take();
        taken.filter(|realm| realm.fits(self.limits.heap_limit_bytes))
    }

    /// A worker has started (in a prewarmed realm or not): a host that keeps
    /// a realm ready starts the next one now, not while the worker's script
    /// and first event compete with it for the CPU.
    pub(crate) fn worker_started(&self) {
        if self.prewarm == crate::config::WorkerPrewarm::KeepOne {
            self.refill_prewarmed();
        }
    }

    /// Starts creating a realm for the next worker, unless one is there or
    /// the host does not prewarm.
    pub(crate) fn refill_prewarmed(&self) {
        if self.prewarm == crate::config::WorkerPrewarm::Off {
            return;
        }
        let mut slot = self.prewarmed.locked();
        if slot.is_some() {
            return;
        }
        match crate::realm::PrewarmedRealm::spawn(self.limits.heap_limit_bytes) {
            Ok(realm) => *slot = Some(realm),
            Err(e) => tracing::warn!("cannot prewarm a worker realm: {e}"),
        }
    }

    /// Removes `registration` from the registration map if it has no worker
    /// at all (its first job failed), so it is neither kept nor found.
    pub(crate) fn remove_if_empty(&self, registration: &Arc<Registration>) {
        if registration.versions().is_empty() {
            self.registrations
                .locked()
                .retain(|r| !Arc::ptr_eq(r, registration));
        }
    }

    pub(super) fn registration_for_scope(
        &self,
        script_url: &Url,
        scope: Option<Url>,
    ) -> Result<Arc<Registration>, HostError> {
        let scope = register_job::resolve_scope(script_url, scope)?;
        let mut all = self.registrations.locked();
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
    pub(super) fn restore_registration(&self, row: &swrt_store::SwRegistration) {
        // An unknown worker type is a corrupt row, refused when it is read.
        let worker_type = match row.worker_type {
            swrt_store::ScriptType::Classic => WorkerType::Classic,
            swrt_store::ScriptType::Module => WorkerType::Module,
        };
        let (Ok(scope), Ok(script_url)) = (Url::parse(&row.scope), Url::parse(&row.script_url))
        else {
            tracing::warn!(
                scope = row.scope,
                script_url = row.script_url,
                "skipping a stored registration with a bad URL"
            );
            return;
        };
        let mut registrations = self.registrations.locked();
        if registrations.iter().any(|r| r.scope == scope) {
            return; // restored meanwhile, by another event for it
        }
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
        registrations.push(registration);
    }

    /// The registration of `scope`: the one this host knows, or, with a
    /// store shared by a fleet, one that another node registered since
    /// this host started, restored from the store with its script.
    pub(crate) async fn registration_or_stored(&self, scope: &Url) -> Option<Arc<Registration>> {
        if let Some(found) = self.registration_with_scope(scope) {
            return Some(found);
        }
        let context = self.background_fetch.get().cloned()?;
        if !context.store.is_shared() {
            return None;
        }
        let key = scope.to_string();
        let row = context
            .with_store(move |s| s.get_registration(&key))
            .await
            .ok()??;
        if row.state != swrt_store::WorkerState::Activated {
            return None;
        }
        tracing::info!(%scope, "restoring a registration another node stored");
        self.restore_registration(&row);
        self.registration_with_scope(scope)
    }

    /// Records an activated registration so a later run finds it.
    /// The worker's script and script resource map go with it: a later
    /// run starts the installed code, even when the origin is unreachable.
    /// So do the registration's update via cache mode, navigation preload
    /// state and last update check.
    pub(crate) async fn persist_registration(
        &self,
        registration: &Registration,
        version: &Version,
    ) {
        let Some(context) = self.background_fetch.get().cloned() else {
            return;
        };
        let _writing = registration.store_writes.lock().await;
        let now = millis_since_epoch(SystemTime::now());
        let preload = registration.navigation_preload_state();
        let row = swrt_store::SwRegistration {
            scope: registration.scope.to_string(),
            script_url: version.script_url.to_string(),
            state: swrt_store::WorkerState::Activated,
            worker_type: match version.worker_type {
                WorkerType::Classic => swrt_store::ScriptType::Classic,
                WorkerType::Module => swrt_store::ScriptType::Module,
            },
            script_source: version.installed_source(),
            imported_scripts: version.imported_scripts(),
            script_csp: version.installed_csp(),
            update_via_cache: registration.update_via_cache().into(),
            navigation_preload_enabled: preload.enabled,
            navigation_preload_header: preload.header_value,
            last_update_check_ms: registration.last_update_check().map(millis_since_epoch),
            router_rules: serde_json::to_string(&version.router_rules())
                .expect("router rules serialize"),
            created_ms: now,
            updated_ms: now,
        };
        if let Err(e) = context.with_store(move |s| s.put_registration(&row)).await {
            tracing::warn!("cannot persist the registration: {e}");
        }
    }

    /// Records an update check of a stored registration: its last update
    /// check time and the update via cache mode the job gave it. A
    /// registration not stored yet gets both with its first worker.
    pub(crate) async fn persist_update_check(&self, registration: &Arc<Registration>) {
        let Some(context) = self.background_fetch.get().cloned() else {
            return;
        };
        let _writing = registration.store_writes.lock().await;
        if !self.is_current(registration) {
            return;
        }
        let Some(checked) = registration.last_update_check() else {
            return;
        };
        let scope = registration.scope.to_string();
        let checked_ms = millis_since_epoch(checked);
        let mode = registration.update_via_cache().into();
        if let Err(e) = context
            .with_store(move |s| s.set_registration_update_check(&scope, checked_ms, mode))
            .await
        {
            tracing::warn!("cannot persist the registration's update check: {e}");
        }
    }

    /// Records a stored registration's navigation preload state, as it is
    /// when the write runs (a later change writes again after it).
    pub(crate) async fn persist_navigation_preload(&self, registration: &Arc<Registration>) {
        let Some(context) = self.background_fetch.get().cloned() else {
            return;
        };
        let _writing = registration.store_writes.lock().await;
        if !self.is_current(registration) {
            return;
        }
        let scope = registration.scope.to_string();
        let state = registration.navigation_preload_state();
        if let Err(e) = context
            .with_store(move |s| {
                s.set_registration_navigation_preload(&scope, state.enabled, &state.header_value)
            })
            .await
        {
            tracing::warn!("cannot persist the navigation preload state: {e}");
        }
    }

    /// `registration` is the one the scope map holds for its scope (not
    /// unregistered, nor replaced by a later registration of that scope).
    pub(crate) fn is_current(&self, registration: &Arc<Registration>) -> bool {
        self.registration_with_scope(&registration.scope)
            .is_some_and(|current| Arc::ptr_eq(&current, registration))
    }

    /// Deletes an unregistered registration's stored row.
    pub(crate) async fn forget_registration(&self, scope: &Url) {
        let Some(context) = self.background_fetch.get().cloned() else {
            return;
        };
        let scope = scope.to_string();
        // Its sync registrations go with it (Background Sync).
        if let Err(e) = context
            .with_store(move |s| {
                s.sync_remove_scope(&scope)?;
                s.delete_registration(&scope)
            })
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
        self.fetch_script_with(url, crate::loader::ScriptCacheMode::Default)
            .await
    }

    /// [`Self::fetch_script`] with the cache mode an update chose.
    pub(crate) async fn fetch_script_with(
        &self,
        url: &Url,
        cache_mode: crate::loader::ScriptCacheMode,
    ) -> Result<crate::loader::ScriptSource, HostError> {
        let fetched = self.loader.fetch_with_cache_mode(url, cache_mode).await;
        fetched.map_err(|error| match error {
            // Service Workers, Update: a script that is not JavaScript is
            // rejected as a security error.
            crate::loader::LoadError::MimeType(reason) => {
                HostError::Security(format!("the script {url} was refused: {reason}"))
            }
            other => HostError::ScriptFetch {
                url: url.to_string(),
                reason: other.to_string(),
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
            let mut all = self.registrations.locked();
            let index = all.iter().position(|r| &r.scope == scope)?;
            all.remove(index)
        };
        registration.mark_unregistered();
        let id = registration.id;
        self.uninstalling.locked().push(registration);
        Some(id)
    }

    /// Service Workers "Try Clear Registration": an unregistered registration
    /// is cleared (every worker redundant and stopped) once no page is
    /// controlled by it, no update job is running for it and its workers
    /// have no events in flight. Called again when any of those ends.
    pub(crate) async fn try_clear_registration(self: &Arc<Self>, registration_id: u64) {
        let Some(registration) = self
            .uninstalling
            .locked()
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
            .locked()
            .iter()
            .any(|p| p.controller_id().is_some_and(|id| ids.contains(&id)));
        if in_use || registration.events_in_flight() > 0 {
            return;
        }
        let claimed = {
            let mut list = self.uninstalling.locked();
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
            .locked()
            .iter()
            .find(|r| &r.scope == scope)
            .cloned()
    }

    /// Service Workers "Match Service Worker Registration": longest scope prefix.
    pub(crate) fn matching_registration(&self, url: &Url) -> Option<Arc<Registration>> {
        self.registrations
            .locked()
            .iter()
            .filter(|r| url.as_str().starts_with(r.scope.as_str()))
            .max_by_key(|r| r.scope.as_str().len())
            .cloned()
    }

    pub(super) fn registrations_of_origin(&self, url: &Url) -> Vec<Arc<Registration>> {
        self.registrations
            .locked()
            .iter()
            .filter(|r| r.scope.origin() == url.origin())
            .cloned()
            .collect()
    }

    /// A worker version of a registration, unregistered ones included.
    pub(crate) fn version_by_id(&self, id: u64) -> Option<(Arc<Registration>, Arc<Version>)> {
        let mut registrations = self.registrations.locked().clone();
        registrations.extend(self.uninstalling.locked().iter().cloned());
        registrations.into_iter().find_map(|r| {
            r.versions_with_evaluating()
                .into_iter()
                .find(|v| v.id == id)
                .map(|v| (r, v))
        })
    }

    pub(crate) fn pages_of_origin(&self, url: &Url) -> Vec<Arc<clients::PageEntry>> {
        self.pages
            .locked()
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
            background_sync: self.background_fetch.get().and_then(|c| {
                Some(crate::background_sync::BackgroundSyncContext {
                    store: c.store.clone(),
                    runtime: c.runtime.clone(),
                    scheduler: self.background_sync.get()?.clone(),
                })
            }),
            caches: self
                .background_fetch
                .get()
                .map(|c| crate::cache::ops::CacheStorageContext {
                    store: c.store.clone(),
                    runtime: c.runtime.clone(),
                    quota_per_origin: c.service.limits().quota_per_origin,
                }),
            resolver: self.resolver.clone(),
            broadcast: self.broadcast_channel(url),
        }
    }

    pub(crate) fn broadcast_channel(&self, url: &Url) -> deno_web::InMemoryBroadcastChannel {
        self.broadcast
            .locked()
            .entry(url.origin().ascii_serialization())
            .or_default()
            .clone()
    }

    pub(crate) fn version_started(&self, version: &Version) {
        tracing::debug!(script_url = %version.script_url, id = version.id, "worker started");
    }
}

/// Milliseconds since the Unix epoch (0 for a time before it).
fn millis_since_epoch(time: SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
