//! A service-worker registration (Chromium's
//! `service_worker_registration`): its scope and its installing, waiting and
//! active versions.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use url::Url;

use crate::loader::ScriptCacheMode;
use crate::sync::Locked;

use super::version::{Version, WorkerState};
use super::HostInner;
use crate::realm::{
    ImportedScripts, JobRejection, NavigationPreloadAction, NavigationPreloadState,
    RegistrationView,
};
use crate::worker_type::WorkerType;

/// A snapshot of a registration for embedders.
#[derive(Debug, Clone)]
pub struct RegistrationInfo {
    /// Scope URL.
    pub scope: Url,
    /// Script URL and state of the active worker, if any.
    pub active: Option<(Url, WorkerState)>,
    /// Script URL and state of the waiting worker, if any.
    pub waiting: Option<(Url, WorkerState)>,
    /// Script URL and state of the installing worker, if any.
    pub installing: Option<(Url, WorkerState)>,
    /// Which script fetches of an update may use the HTTP cache.
    pub update_via_cache: UpdateViaCache,
    /// When an update last fetched the main script (None: never, or not
    /// known for a registration stored by an older version).
    pub last_update_check: Option<SystemTime>,
    /// Whether navigations in scope send a navigation preload request.
    pub navigation_preload_enabled: bool,
    /// The `Service-Worker-Navigation-Preload` header value they send.
    pub navigation_preload_header: String,
}

/// How long after its last update check a registration is stale (Service
/// Workers, "stale": more than 86400 seconds).
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(86_400);

/// A registration's update via cache mode (Service Workers
/// `ServiceWorkerUpdateViaCache`): which script fetches of an update may be
/// answered by the HTTP cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateViaCache {
    /// Imported scripts may come from the cache; the main script may not.
    #[default]
    Imports,
    /// The main script and imported scripts may come from the cache.
    All,
    /// No script fetch of an update may come from the cache.
    None,
}

impl UpdateViaCache {
    /// The mode a `ServiceWorkerUpdateViaCache` string names.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "imports" => Some(Self::Imports),
            "all" => Some(Self::All),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    /// The enum value scripts see.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Imports => "imports",
            Self::All => "all",
            Self::None => "none",
        }
    }

    /// Update, "perform the fetch" for the main script: its cache mode is
    /// "no-cache" unless the mode is "all", and always when the job forces a
    /// bypass (a soft update) or the registration is stale.
    pub fn main_script_cache_mode(self, force_bypass: bool, stale: bool) -> ScriptCacheMode {
        if self != Self::All || force_bypass || stale {
            ScriptCacheMode::NoCache
        } else {
            ScriptCacheMode::Default
        }
    }

    /// Update, "perform the fetch" for an imported script (importScripts or
    /// a module of the graph): "no-cache" when the mode is "none" or the
    /// registration is stale.
    pub fn imported_script_cache_mode(self, stale: bool) -> ScriptCacheMode {
        if self == Self::None || stale {
            ScriptCacheMode::NoCache
        } else {
            ScriptCacheMode::Default
        }
    }
}

impl From<swrt_store::UpdateViaCache> for UpdateViaCache {
    fn from(stored: swrt_store::UpdateViaCache) -> Self {
        match stored {
            swrt_store::UpdateViaCache::Imports => Self::Imports,
            swrt_store::UpdateViaCache::All => Self::All,
            swrt_store::UpdateViaCache::None => Self::None,
        }
    }
}

impl From<UpdateViaCache> for swrt_store::UpdateViaCache {
    fn from(mode: UpdateViaCache) -> Self {
        match mode {
            UpdateViaCache::Imports => Self::Imports,
            UpdateViaCache::All => Self::All,
            UpdateViaCache::None => Self::None,
        }
    }
}

/// Service Workers, "stale": the last update check is more than a day old.
/// A registration never checked is not stale.
pub(crate) fn is_stale(last_update_check: Option<SystemTime>, now: SystemTime) -> bool {
    last_update_check
        .and_then(|checked| now.duration_since(checked).ok())
        .is_some_and(|age| age > STALE_AFTER)
}

#[derive(Default)]
pub(super) struct Slots {
    /// A new worker whose script is running (Update's "Run Service
    /// Worker"), before it becomes the installing worker. Not exposed to
    /// pages, but its own ops (e.g. `clients.matchAll()` during top-level
    /// evaluation) must find it.
    pub(super) evaluating: Option<Arc<Version>>,
    pub(super) installing: Option<Arc<Version>>,
    pub(super) waiting: Option<Arc<Version>>,
    pub(super) active: Option<Arc<Version>>,
}

pub(crate) struct Registration {
    /// Host-unique: a scope registered again after `unregister()` is a new
    /// registration, with new `ServiceWorkerRegistration` objects.
    pub(crate) id: u64,
    pub(crate) scope: Url,
    pub(super) slots: Mutex<Slots>,
    /// Removed from the scope map by `unregister()`; cleared once no page
    /// uses it and its workers have no events in flight.
    pub(super) unregistered: AtomicBool,
    /// Serialises Update jobs for this scope (the spec's job queue).
    pub(super) jobs: tokio::sync::Mutex<()>,
    /// How long a worker may take to run its `statechange` listeners.
    pub(super) ack_limit: std::time::Duration,
    /// Bumped by every state change (see [`RegistrationView::generation`]).
    pub(super) generation: AtomicU64,
    /// Which script fetches of an update may use the HTTP cache.
    pub(super) update_via_cache: Mutex<UpdateViaCache>,
    /// When an update last fetched the main script successfully.
    pub(super) last_update_check: Mutex<Option<SystemTime>>,
    /// Navigation preload: enabled flag and header value.
    pub(super) navigation_preload: Mutex<NavigationPreloadState>,
    /// Held while the registration's state is written to the store, so
    /// writes land in the order of the changes they record.
    pub(super) store_writes: tokio::sync::Mutex<()>,
}

impl Registration {
    /// A registration restored from the store with its active version:
    /// `row` holds its installed script, policies and imported scripts.
    pub(crate) fn restored(
        scope: Url,
        script_url: Url,
        worker_type: WorkerType,
        row: &swrt_store::SwRegistration,
        ids: (u64, u64),
        ack_limit: std::time::Duration,
    ) -> Self {
        let script_source = row.script_source.clone();
        let script_csp = row.script_csp.clone();
        let imported_scripts = &row.imported_scripts;
        let (registration_id, id) = ids;
        // Its router rules, compiled against its script URL.
        let router = super::version::Router::restored(&row.router_rules, &script_url);
        let registration = Registration::new(registration_id, scope, ack_limit);
        // The installed script and its script resource map come back as
        // they were. A row from before they were stored has neither: the
        // worker fetches them on first start.
        let installed = script_source.is_some();
        let imports = ImportedScripts {
            scripts: Mutex::new(imported_scripts.iter().cloned().collect()),
            install_finished: AtomicBool::new(installed),
            bypass_http_cache: AtomicBool::new(false),
        };
        let version = Arc::new(Version {
            id,
            script_url,
            worker_type,
            script_source: Mutex::new(script_source),
            script_csp: Mutex::new(script_csp),
            imports: Arc::new(imports),
            state: Mutex::new(WorkerState::Activated),
            runner: tokio::sync::Mutex::new(None),
            skip_waiting: AtomicBool::new(false),
            activity: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            fetch_handler_seen: Mutex::new(true),
            router: Mutex::new(router),
        });
        registration.slots.locked().active = Some(version);
        *registration.update_via_cache.locked() = row.update_via_cache.into();
        *registration.navigation_preload.locked() = NavigationPreloadState {
            enabled: row.navigation_preload_enabled,
            header_value: row.navigation_preload_header.clone(),
        };
        // A row stored before the last check was kept was last written when
        // its worker was installed by an update check: the closest time.
        let last_check_ms = row.last_update_check_ms.unwrap_or(row.updated_ms);
        if let Ok(ms) = u64::try_from(last_check_ms) {
            *registration.last_update_check.locked() =
                Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ms));
        }
        registration
    }

    pub(crate) fn new(id: u64, scope: Url, ack_limit: std::time::Duration) -> Self {
        Registration {
            id,
            scope,
            ack_limit,
            slots: Mutex::default(),
            unregistered: AtomicBool::new(false),
            jobs: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            update_via_cache: Mutex::default(),
            last_update_check: Mutex::new(None),
            navigation_preload: Mutex::default(),
            store_writes: tokio::sync::Mutex::new(()),
        }
    }

    /// Runs a `NavigationPreloadManager` method: enable(), disable() and
    /// setHeaderValue() need an active worker (InvalidStateError).
    pub(crate) fn navigation_preload(
        &self,
        action: NavigationPreloadAction,
    ) -> Result<NavigationPreloadState, JobRejection> {
        if action != NavigationPreloadAction::GetState && self.active().is_none() {
            return Err(JobRejection::InvalidState(
                "the registration has no active worker".into(),
            ));
        }
        let mut state = self.navigation_preload.locked();
        match action {
            NavigationPreloadAction::SetEnabled(enabled) => state.enabled = enabled,
            NavigationPreloadAction::SetHeaderValue(value) => state.header_value = value,
            NavigationPreloadAction::GetState => {}
        }
        Ok(state.clone())
    }

    /// The registration's navigation preload state.
    pub(crate) fn navigation_preload_state(&self) -> NavigationPreloadState {
        self.navigation_preload.locked().clone()
    }

    /// When an update last fetched the main script.
    pub(crate) fn last_update_check(&self) -> Option<SystemTime> {
        *self.last_update_check.locked()
    }

    /// The registration's update via cache mode.
    pub(crate) fn update_via_cache(&self) -> UpdateViaCache {
        *self.update_via_cache.locked()
    }

    /// The registration is stale (see [`is_stale`]) at `now`.
    pub(crate) fn is_stale(&self, now: SystemTime) -> bool {
        is_stale(*self.last_update_check.locked(), now)
    }

    /// Installing, waiting and active versions, in that order.
    pub(crate) fn versions(&self) -> Vec<Arc<Version>> {
        let slots = self.slots.locked();
        [&slots.installing, &slots.waiting, &slots.active]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// Every version the host may be asked about by id: the one whose
    /// script is being evaluated, then installing, waiting and active.
    pub(crate) fn versions_with_evaluating(&self) -> Vec<Arc<Version>> {
        let slots = self.slots.locked();
        [
            &slots.evaluating,
            &slots.installing,
            &slots.waiting,
            &slots.active,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    /// The script URL and type of the newest worker (installing, else
    /// waiting, else active): what `registration.update()` fetches again.
    pub(crate) fn newest_script(&self) -> Option<(Url, WorkerType)> {
        self.versions()
            .first()
            .map(|v| (v.script_url.clone(), v.worker_type))
    }

    /// `unregister()` removed it from the scope map.
    pub(crate) fn mark_unregistered(&self) {
        self.unregistered.store(true, Ordering::Release);
    }

    pub(crate) fn is_unregistered(&self) -> bool {
        self.unregistered.load(Ordering::Acquire)
    }

    /// The job queue, if no job is running.
    pub(crate) fn try_hold_jobs(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        self.jobs.try_lock().ok()
    }

    /// Service Workers "Clear Registration": every worker becomes redundant
    /// and stops, and the registration objects of pages and workers empty.
    pub(crate) async fn clear(&self, host: &HostInner) {
        let cleared: Vec<Arc<Version>> = {
            let mut slots = self.slots.locked();
            [
                slots.installing.take(),
                slots.waiting.take(),
                slots.active.take(),
            ]
            .into_iter()
            .flatten()
            .collect()
        };
        for version in &cleared {
            self.set_state(version, WorkerState::Redundant);
        }
        tracing::debug!(scope = %self.scope, workers = cleared.len(), "registration cleared");
        self.publish(host).await;
        let view = self.view();
        for version in cleared {
            version
                .push_registration(view.clone(), self.ack_limit)
                .await;
            version.stop().await;
        }
    }

    pub(crate) fn active(&self) -> Option<Arc<Version>> {
        self.slots.locked().active.clone()
    }

    pub(crate) fn view(&self) -> RegistrationView {
        let slots = self.slots.locked();
        RegistrationView {
            id: self.id,
            scope: self.scope.to_string(),
            installing: slots.installing.as_ref().map(|v| v.view()),
            waiting: slots.waiting.as_ref().map(|v| v.view()),
            active: slots.active.as_ref().map(|v| v.view()),
            generation: self.generation.load(Ordering::Acquire),
            update_via_cache: self.update_via_cache().as_str().to_string(),
        }
    }

    pub(crate) fn info(&self) -> RegistrationInfo {
        let slots = self.slots.locked();
        let describe =
            |v: &Option<Arc<Version>>| v.as_ref().map(|v| (v.script_url.clone(), v.state()));
        let preload = self.navigation_preload_state();
        RegistrationInfo {
            scope: self.scope.clone(),
            active: describe(&slots.active),
            waiting: describe(&slots.waiting),
            installing: describe(&slots.installing),
            update_via_cache: self.update_via_cache(),
            last_update_check: self.last_update_check(),
            navigation_preload_enabled: preload.enabled,
            navigation_preload_header: preload.header_value,
        }
    }

    pub(crate) fn events_in_flight(&self) -> usize {
        let slots = self.slots.locked();
        [&slots.installing, &slots.waiting, &slots.active]
            .into_iter()
            .flatten()
            .map(|v| v.events_in_flight())
            .sum()
    }

    pub(crate) async fn stop_all(&self) {
        for version in self.versions() {
            version.stop().await;
        }
    }

    /// Tells every running worker of this registration, and every page of
    /// its origin, about new states; waits until their listeners ran.
    pub(super) async fn publish(&self, host: &HostInner) {
        let view = self.view();
        // A frame shares its page's realm, which updates all its containers.
        for page in host
            .pages_of_origin(&self.scope)
            .into_iter()
            .filter(|p| !p.shares_realm())
        {
            page.handle
                .update_registration(view.clone(), self.ack_limit)
                .await;
        }
        for version in self.versions() {
            version
                .push_registration(view.clone(), self.ack_limit)
                .await;
        }
    }

    pub(super) fn set_state(&self, version: &Version, state: WorkerState) {
        *version.state.locked() = state;
        self.generation.fetch_add(1, Ordering::AcqRel);
        tracing::debug!(script_url = %version.script_url, state = state.as_str(), "worker state");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_via_cache_decides_which_fetches_bypass_the_cache() {
        use ScriptCacheMode::{Default, NoCache};
        let cases = [
            (UpdateViaCache::Imports, NoCache, Default),
            (UpdateViaCache::All, Default, Default),
            (UpdateViaCache::None, NoCache, NoCache),
        ];
        for (mode, main, imported) in cases {
            assert_eq!(mode.main_script_cache_mode(false, false), main, "{mode:?}");
            assert_eq!(mode.imported_script_cache_mode(false), imported, "{mode:?}");
            // A stale registration bypasses the cache for every fetch.
            assert_eq!(mode.main_script_cache_mode(false, true), NoCache);
            assert_eq!(mode.imported_script_cache_mode(true), NoCache);
            // A soft update bypasses it for the main script.
            assert_eq!(mode.main_script_cache_mode(true, false), NoCache);
        }
        assert_eq!(UpdateViaCache::parse("none"), Some(UpdateViaCache::None));
        assert_eq!(UpdateViaCache::parse("sometimes"), None);
        assert_eq!(UpdateViaCache::default().as_str(), "imports");
    }

    #[test]
    fn navigation_preload_needs_an_active_worker_to_change() {
        let registration = Registration::new(
            1,
            Url::parse("http://localhost/app/").unwrap(),
            Duration::from_secs(1),
        );
        assert_eq!(
            registration.navigation_preload(NavigationPreloadAction::GetState),
            Ok(NavigationPreloadState {
                enabled: false,
                header_value: "true".into()
            })
        );
        assert!(matches!(
            registration.navigation_preload(NavigationPreloadAction::SetEnabled(true)),
            Err(JobRejection::InvalidState(_))
        ));
    }

    #[test]
    fn stale_after_a_day_without_an_update_check() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10 * 86_400);
        assert!(!is_stale(None, now), "never checked is not stale");
        assert!(!is_stale(Some(now), now));
        assert!(
            !is_stale(Some(now - STALE_AFTER), now),
            "exactly a day is not stale"
        );
        assert!(is_stale(
            Some(now - STALE_AFTER - Duration::from_secs(1)),
            now
        ));
        // A check recorded after `now` (a clock step back) is not stale.
        assert!(!is_stale(Some(now + Duration::from_secs(60)), now));
    }
}
