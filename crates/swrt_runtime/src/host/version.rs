//! A service-worker version (Chromium's `service_worker_version`): one
//! script of a registration, its state, and the realm that runs it while it
//! is started.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use url::Url;

use super::registration::Registration;
use super::HostInner;
use crate::error::HostError;
use crate::realm::{
    EventOutcome, ImportedScripts, RealmHandle, RealmKind, RegistrationView, WorkerContext,
    WorkerView,
};
use crate::service_worker::router::{
    compile_rules, router_source, RoutedRequest, RouterRule, RouterRuleInit, RouterSource,
};
use crate::sync::Locked;
use crate::worker_type::WorkerType;

/// A worker version's state (ServiceWorkerState).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerState {
    /// Evaluated, not yet installing.
    Parsed,
    /// `install` is being dispatched.
    Installing,
    /// Installed, waiting to activate.
    Installed,
    /// `activate` is being dispatched.
    Activating,
    /// Active: receives functional events.
    Activated,
    /// Replaced or failed.
    Redundant,
}

impl WorkerState {
    /// The ServiceWorkerState enum string.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerState::Parsed => "parsed",
            WorkerState::Installing => "installing",
            WorkerState::Installed => "installed",
            WorkerState::Activating => "activating",
            WorkerState::Activated => "activated",
            WorkerState::Redundant => "redundant",
        }
    }
}

pub(crate) struct Version {
    pub(crate) id: u64,
    pub(crate) script_url: Url,
    pub(crate) worker_type: WorkerType,
    /// The script, once fetched (a restored version fetches it on first start).
    pub(super) script_source: Mutex<Option<String>>,
    /// The Content Security Policies the script was served with.
    pub(super) script_csp: Mutex<Vec<String>>,
    pub(super) imports: Arc<ImportedScripts>,
    pub(super) state: Mutex<WorkerState>,
    pub(super) runner: tokio::sync::Mutex<Option<Arc<RealmHandle>>>,
    pub(super) skip_waiting: AtomicBool,
    /// Bumped on every dispatch; an idle stop only fires if it did not move.
    pub(super) activity: AtomicU64,
    pub(super) in_flight: AtomicU64,
    /// Whether the script listened for `fetch` the last time it ran.
    pub(super) fetch_handler_seen: Mutex<bool>,
    /// Its list of router rules (static routing), as added and compiled.
    pub(super) router: Mutex<Router>,
}

/// A worker's list of router rules: what script gave (stored with the
/// worker) and the compiled rules Handle Fetch consults.
#[derive(Default)]
pub(crate) struct Router {
    pub(crate) added: Vec<RouterRuleInit>,
    pub(crate) rules: Vec<Arc<RouterRule>>,
}

impl Router {
    /// A stored worker's rules, compiled again; rules that no longer
    /// compile (a row edited by hand) are dropped with a warning.
    pub(crate) fn restored(stored: &str, script_url: &Url) -> Self {
        let added = match serde_json::from_str::<Vec<RouterRuleInit>>(stored) {
            Ok(added) => added,
            Err(error) => {
                tracing::warn!(%script_url, "dropping the stored router rules: {error}");
                return Router::default();
            }
        };
        match compile_rules(&added, script_url, true) {
            Ok(rules) => Router {
                added,
                rules: rules.into_iter().map(Arc::new).collect(),
            },
            Err(error) => {
                tracing::warn!(%script_url, "dropping the stored router rules: {error}");
                Router::default()
            }
        }
    }
}

impl Version {
    /// `InstallEvent.addRoutes()`: checks `added` and appends it to the
    /// worker's list of router rules.
    pub(crate) async fn add_routes(&self, added: Vec<RouterRuleInit>) -> Result<(), String> {
        let compiled = compile_rules(&added, &self.script_url, self.has_fetch_handler().await)?;
        let mut router = self.router.locked();
        router.added.extend(added);
        router.rules.extend(compiled.into_iter().map(Arc::new));
        Ok(())
    }

    /// The router rules as script added them, to store with the worker.
    pub(crate) fn router_rules(&self) -> Vec<RouterRuleInit> {
        self.router.locked().added.clone()
    }

    /// Handle Fetch, "Get Router Source" for `request` (the JSON a fetch
    /// event is made from): None when no rule matches.
    pub(crate) async fn router_source(&self, request: &Value) -> Option<RouterSource> {
        let rules = self.router.locked().rules.clone();
        if rules.is_empty() {
            return None;
        }
        let url = Url::parse(request["url"].as_str()?).ok()?;
        let routed = RoutedRequest {
            url: &url,
            method: request["method"].as_str().unwrap_or("GET"),
            mode: request["mode"].as_str().unwrap_or("no-cors"),
            destination: request["destination"].as_str().unwrap_or(""),
        };
        let running = self.runner.lock().await.is_some();
        router_source(&rules, &routed, running).cloned()
    }

    pub(crate) fn state(&self) -> WorkerState {
        *self.state.locked()
    }

    pub(crate) fn view(&self) -> WorkerView {
        WorkerView {
            id: self.id,
            script_url: self.script_url.to_string(),
            state: self.state().as_str().to_string(),
        }
    }

    /// The running worker, starting it (and evaluating the script) if needed.
    pub(super) async fn running(
        self: &Arc<Self>,
        host: &HostInner,
        registration: &Registration,
    ) -> Result<Arc<RealmHandle>, HostError> {
        let mut runner = self.runner.lock().await;
        if let Some(handle) = runner.as_ref() {
            if handle.is_alive() {
                return Ok(handle.clone());
            }
            tracing::info!(script_url = %self.script_url, "restarting a stopped worker");
        }
        let cached = self.script_source.locked().clone();
        let source = match cached {
            Some(source) => source,
            None => {
                let script = host.fetch_script(&self.script_url).await?;
                *self.script_source.locked() = Some(script.text.clone());
                *self.script_csp.locked() = script.csp;
                script.text
            }
        };
        let csp = self.installed_csp();
        let spec = host.realm_spec(
            &self.script_url,
            source,
            RealmKind::Worker(WorkerContext {
                worker_type: self.worker_type,
                imports: self.imports.clone(),
                registration: registration.view(),
                version: self.view(),
                csp,
            }),
        );
        let started = RealmHandle::start_in(spec, host.take_prewarmed()).await;
        host.worker_started();
        let (handle, _) = started?;
        host.version_started(self);
        *self.fetch_handler_seen.locked() = handle.has_fetch_handler();
        let handle = Arc::new(handle);
        *runner = Some(handle.clone());
        Ok(handle)
    }

    /// Dispatches an event and schedules the idle stop afterwards.
    pub(crate) async fn dispatch(
        self: &Arc<Self>,
        host: &Arc<HostInner>,
        registration: &Registration,
        event_type: &str,
        data: Value,
    ) -> Result<EventOutcome, HostError> {
        self.dispatch_with(host, registration, event_type, data, |_, _| {})
            .await
    }

    /// Dispatches a `message` event carrying `message` (taken by the worker
    /// from its mailbox by id).
    pub(crate) async fn deliver_message(
        self: &Arc<Self>,
        host: &Arc<HostInner>,
        registration: &Registration,
        message: crate::realm::RealmMessage,
        data: Value,
    ) -> Result<EventOutcome, HostError> {
        self.dispatch_with(host, registration, "message", data, |handle, data| {
            data["messageId"] = Value::from(handle.stash_message(message));
        })
        .await
    }

    /// Dispatches a `fetch` event; the request body and a navigation
    /// preload response's body, if any, wait in the worker's mailbox as
    /// bytes (the event data carries their ids as `bodyId` and
    /// `preload.bodyId`).
    pub(crate) async fn dispatch_fetch(
        self: &Arc<Self>,
        host: &Arc<HostInner>,
        registration: &Registration,
        data: Value,
        body: Option<Vec<u8>>,
        preload_body: Option<Vec<u8>>,
    ) -> Result<EventOutcome, HostError> {
        self.dispatch_with(host, registration, "fetch", data, |handle, data| {
            if let Some(body) = body {
                data["bodyId"] = Value::from(handle.stash_body(body));
            }
            if let Some(body) = preload_body {
                if data["preload"].is_object() {
                    data["preload"]["bodyId"] = Value::from(handle.stash_body(body));
                }
            }
        })
        .await
    }

    /// Starts the worker if needed, lets `prepare` put what the event needs
    /// into the running worker, dispatches, and schedules the idle stop.
    pub(super) async fn dispatch_with(
        self: &Arc<Self>,
        host: &Arc<HostInner>,
        registration: &Registration,
        event_type: &str,
        mut data: Value,
        prepare: impl FnOnce(&RealmHandle, &mut Value),
    ) -> Result<EventOutcome, HostError> {
        self.activity.fetch_add(1, Ordering::AcqRel);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let result = async {
            let handle = self.running(host, registration).await?;
            prepare(&handle, &mut data);
            Ok(handle
                .dispatch(event_type, data, host.limits.wait_until_timeout)
                .await)
        }
        .await;
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.schedule_idle_stop(host);
        if registration.is_unregistered() {
            // The last event of an unregistered registration may be what
            // kept it from being cleared.
            let id = registration.id;
            host.spawn_job(move |host| async move { host.try_clear_registration(id).await });
        }
        result
    }

    pub(super) fn schedule_idle_stop(self: &Arc<Self>, host: &Arc<HostInner>) {
        let seen = self.activity.load(Ordering::Acquire);
        let version = Arc::downgrade(self);
        let idle = host.limits.idle_timeout;
        tokio::spawn(async move {
            tokio::time::sleep(idle).await;
            let Some(version) = version.upgrade() else {
                return;
            };
            if version.activity.load(Ordering::Acquire) != seen
                || version.in_flight.load(Ordering::Acquire) > 0
            {
                return;
            }
            let handle = version.runner.lock().await.take();
            if let Some(handle) = handle {
                tracing::debug!(script_url = %version.script_url, "stopping idle worker");
                if let Ok(handle) = Arc::try_unwrap(handle) {
                    handle.stop().await;
                }
            }
        });
    }

    pub(super) async fn stop(&self) {
        let handle = self.runner.lock().await.take();
        if let Some(handle) = handle {
            if let Ok(handle) = Arc::try_unwrap(handle) {
                handle.stop().await;
            }
        }
    }

    /// `skipWaiting()` was called: activate without waiting for the
    /// current worker's events.
    pub(crate) fn mark_skip_waiting(&self) {
        self.skip_waiting.store(true, Ordering::Release);
    }

    /// The script as installed (None until fetched).
    pub(crate) fn installed_source(&self) -> Option<String> {
        self.script_source.locked().clone()
    }

    /// The Content Security Policies of the installed script.
    pub(crate) fn installed_csp(&self) -> Vec<String> {
        self.script_csp.locked().clone()
    }

    /// The script resource map's imported scripts, sorted by URL.
    pub(crate) fn imported_scripts(&self) -> Vec<(String, String)> {
        let mut scripts: Vec<_> = self
            .imports
            .scripts
            .locked()
            .iter()
            .map(|(url, text)| (url.clone(), text.clone()))
            .collect();
        scripts.sort();
        scripts
    }

    /// Whether this version's script listens for `fetch` (known once it ran;
    /// a version that never ran in this process is assumed to).
    pub(crate) async fn has_fetch_handler(&self) -> bool {
        match self.runner.lock().await.as_ref() {
            Some(handle) => handle.has_fetch_handler(),
            None => *self.fetch_handler_seen.locked(),
        }
    }

    pub(super) async fn push_registration(
        &self,
        view: RegistrationView,
        limit: std::time::Duration,
    ) {
        let handle = self.runner.lock().await.clone();
        if let Some(handle) = handle {
            handle.update_registration(view, limit).await;
        }
    }

    pub(super) fn events_in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire) as usize
    }
}
