//! A service-worker registration (Chromium's
//! `service_worker_registration`): its scope and its installing, waiting and
//! active versions.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use url::Url;

use super::version::{Version, WorkerState};
use super::HostInner;
use crate::realm::{ImportedScripts, RegistrationView};
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
}

#[derive(Default)]
pub(super) struct Slots {
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
        let registration = Registration::new(registration_id, scope, ack_limit);
        // The installed script and its script resource map come back as
        // they were. A row from before they were stored has neither: the
        // worker fetches them on first start.
        let installed = script_source.is_some();
        let imports = ImportedScripts {
            scripts: Mutex::new(imported_scripts.iter().cloned().collect()),
            install_finished: AtomicBool::new(installed),
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
        });
        registration.slots.lock().unwrap().active = Some(version);
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
        }
    }

    /// Installing, waiting and active versions, in that order.
    pub(crate) fn versions(&self) -> Vec<Arc<Version>> {
        let slots = self.slots.lock().unwrap();
        [&slots.installing, &slots.waiting, &slots.active]
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
            let mut slots = self.slots.lock().unwrap();
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
        self.slots.lock().unwrap().active.clone()
    }

    pub(crate) fn view(&self) -> RegistrationView {
        let slots = self.slots.lock().unwrap();
        RegistrationView {
            id: self.id,
            scope: self.scope.to_string(),
            installing: slots.installing.as_ref().map(|v| v.view()),
            waiting: slots.waiting.as_ref().map(|v| v.view()),
            active: slots.active.as_ref().map(|v| v.view()),
            generation: self.generation.load(Ordering::Acquire),
        }
    }

    pub(crate) fn info(&self) -> RegistrationInfo {
        let slots = self.slots.lock().unwrap();
        let describe =
            |v: &Option<Arc<Version>>| v.as_ref().map(|v| (v.script_url.clone(), v.state()));
        RegistrationInfo {
            scope: self.scope.clone(),
            active: describe(&slots.active),
            waiting: describe(&slots.waiting),
            installing: describe(&slots.installing),
        }
    }

    pub(crate) fn events_in_flight(&self) -> usize {
        let slots = self.slots.lock().unwrap();
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
        *version.state.lock().unwrap() = state;
        self.generation.fetch_add(1, Ordering::AcqRel);
        tracing::debug!(script_url = %version.script_url, state = state.as_str(), "worker state");
    }
}
