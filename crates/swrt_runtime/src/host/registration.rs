//! A service-worker registration and its versions: the Update, Install and
//! Activate algorithms of the Service Workers spec (§Update, §Install, §Activate).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use url::Url;

use super::HostInner;
use crate::error::{HostError, ScriptError};
use crate::realm::{
    EventOutcome, ImportedScripts, RealmHandle, RealmKind, RegistrationView, WorkerContext,
    WorkerView,
};
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

/// Scope defaults to the script's directory; it must be same-origin with the
/// script and, without a `Service-Worker-Allowed` header, inside its directory
/// (Register/Update "max scope" check).
pub(crate) fn resolve_scope(script_url: &Url, scope: Option<Url>) -> Result<Url, HostError> {
    if !matches!(script_url.scheme(), "http" | "https" | "file") {
        return Err(HostError::Invalid(format!(
            "script URL {script_url} must be http(s) (or a local file)"
        )));
    }
    // Start Register: an escaped slash or backslash in the script's or the
    // scope's path is a TypeError.
    let escapes_a_separator = |url: &Url| {
        let path = url.path().to_ascii_lowercase();
        path.contains("%2f") || path.contains("%5c")
    };
    if escapes_a_separator(script_url) {
        return Err(HostError::Invalid(format!(
            "the script URL {script_url} has an escaped '/' or '\\' in its path"
        )));
    }
    if let Some(scope) = scope.as_ref().filter(|scope| escapes_a_separator(scope)) {
        return Err(HostError::Invalid(format!(
            "the scope URL {scope} has an escaped '/' or '\\' in its path"
        )));
    }
    let max_scope = script_url
        .join("./")
        .map_err(|_| HostError::Invalid(format!("cannot derive a scope from {script_url}")))?;
    let scope = scope.unwrap_or_else(|| max_scope.clone());
    // Register: a scope of another origin is a SecurityError.
    if scope.origin() != script_url.origin() {
        return Err(HostError::Security(format!(
            "scope {scope} is not same-origin with the script {script_url}"
        )));
    }
    Ok(scope)
}

/// Update step "max scope": the scope must lie under the script's directory,
/// or under the path a `Service-Worker-Allowed` header widens it to.
pub(crate) fn check_max_scope(
    scope: &Url,
    script_url: &Url,
    service_worker_allowed: Option<&str>,
) -> Result<(), HostError> {
    let max_scope = match service_worker_allowed {
        Some(allowed) => script_url.join(allowed).map_err(|_| {
            HostError::Invalid(format!(
                "the Service-Worker-Allowed header '{allowed}' is not a URL"
            ))
        })?,
        None => script_url
            .join("./")
            .map_err(|_| HostError::Invalid(format!("cannot derive a scope from {script_url}")))?,
    };
    if max_scope.origin() != script_url.origin() || !scope.path().starts_with(max_scope.path()) {
        return Err(HostError::Security(format!(
            "the path of the scope {scope} is not under the max scope allowed ({max_scope}); \
             set the Service-Worker-Allowed header or register a narrower scope"
        )));
    }
    Ok(())
}

pub(crate) struct Version {
    pub(crate) id: u64,
    pub(crate) script_url: Url,
    pub(crate) worker_type: WorkerType,
    /// The script, once fetched (a restored version fetches it on first start).
    script_source: Mutex<Option<String>>,
    /// The Content Security Policies the script was served with.
    script_csp: Mutex<Vec<String>>,
    imports: Arc<ImportedScripts>,
    state: Mutex<WorkerState>,
    runner: tokio::sync::Mutex<Option<Arc<RealmHandle>>>,
    skip_waiting: AtomicBool,
    /// Bumped on every dispatch; an idle stop only fires if it did not move.
    activity: AtomicU64,
    in_flight: AtomicU64,
    /// Whether the script listened for `fetch` the last time it ran.
    fetch_handler_seen: Mutex<bool>,
}

impl Version {
    pub(crate) fn state(&self) -> WorkerState {
        *self.state.lock().unwrap()
    }

    pub(crate) fn view(&self) -> WorkerView {
        WorkerView {
            id: self.id,
            script_url: self.script_url.to_string(),
            state: self.state().as_str().to_string(),
        }
    }

    /// The running worker, starting it (and evaluating the script) if needed.
    async fn running(
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
        let cached = self.script_source.lock().unwrap().clone();
        let source = match cached {
            Some(source) => source,
            None => {
                let script = host.fetch_script(&self.script_url).await?;
                *self.script_source.lock().unwrap() = Some(script.text.clone());
                *self.script_csp.lock().unwrap() = script.csp;
                script.text
            }
        };
        let csp = self.installed_csp();
        let (handle, _) = RealmHandle::start(host.realm_spec(
            &self.script_url,
            source,
            RealmKind::Worker(WorkerContext {
                worker_type: self.worker_type,
                imports: self.imports.clone(),
                registration: registration.view(),
                version: self.view(),
                csp,
            }),
        ))
        .await?;
        host.version_started(self);
        *self.fetch_handler_seen.lock().unwrap() = handle.has_fetch_handler();
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

    /// Dispatches a `fetch` event; the request body, if any, waits in the
    /// worker's mailbox as bytes (the event data carries its id).
    pub(crate) async fn dispatch_fetch(
        self: &Arc<Self>,
        host: &Arc<HostInner>,
        registration: &Registration,
        data: Value,
        body: Option<Vec<u8>>,
    ) -> Result<EventOutcome, HostError> {
        self.dispatch_with(host, registration, "fetch", data, |handle, data| {
            if let Some(body) = body {
                data["bodyId"] = Value::from(handle.stash_body(body));
            }
        })
        .await
    }

    /// Starts the worker if needed, lets `prepare` put what the event needs
    /// into the running worker, dispatches, and schedules the idle stop.
    async fn dispatch_with(
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

    fn schedule_idle_stop(self: &Arc<Self>, host: &Arc<HostInner>) {
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

    async fn stop(&self) {
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
        self.script_source.lock().unwrap().clone()
    }

    /// The Content Security Policies of the installed script.
    pub(crate) fn installed_csp(&self) -> Vec<String> {
        self.script_csp.lock().unwrap().clone()
    }

    /// The script resource map's imported scripts, sorted by URL.
    pub(crate) fn imported_scripts(&self) -> Vec<(String, String)> {
        let mut scripts: Vec<_> = self
            .imports
            .scripts
            .lock()
            .unwrap()
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
            None => *self.fetch_handler_seen.lock().unwrap(),
        }
    }

    /// Sends a command to the worker if it is running (progress needs no wake-up).
    pub(crate) async fn send_if_running(&self, command: crate::realm::HostCommand) {
        if let Some(handle) = self.runner.lock().await.as_ref() {
            handle.send(command);
        }
    }

    async fn push_registration(&self, view: RegistrationView, limit: std::time::Duration) {
        let handle = self.runner.lock().await.clone();
        if let Some(handle) = handle {
            handle.update_registration(view, limit).await;
        }
    }

    fn events_in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire) as usize
    }
}

#[derive(Default)]
struct Slots {
    installing: Option<Arc<Version>>,
    waiting: Option<Arc<Version>>,
    active: Option<Arc<Version>>,
}

pub(crate) struct Registration {
    /// Host-unique: a scope registered again after `unregister()` is a new
    /// registration, with new `ServiceWorkerRegistration` objects.
    pub(crate) id: u64,
    pub(crate) scope: Url,
    slots: Mutex<Slots>,
    /// Removed from the scope map by `unregister()`; cleared once no page
    /// uses it and its workers have no events in flight.
    unregistered: AtomicBool,
    /// Serialises Update jobs for this scope (the spec's job queue).
    jobs: tokio::sync::Mutex<()>,
    /// How long a worker may take to run its `statechange` listeners.
    ack_limit: std::time::Duration,
    /// Bumped by every state change (see [`RegistrationView::generation`]).
    generation: AtomicU64,
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
    async fn publish(&self, host: &HostInner) {
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

    fn set_state(&self, version: &Version, state: WorkerState) {
        *version.state.lock().unwrap() = state;
        self.generation.fetch_add(1, Ordering::AcqRel);
        tracing::debug!(script_url = %version.script_url, state = state.as_str(), "worker state");
    }

    /// Update + Install + Activate for a new script. `installing` learns
    /// when the job's promise resolves (the new worker is installing) or that
    /// it failed before that (fetch or evaluation).
    pub(crate) async fn update(
        self: &Arc<Self>,
        host: &Arc<HostInner>,
        id: u64,
        script_url: Url,
        worker_type: WorkerType,
        installing: Option<
            tokio::sync::oneshot::Sender<
                Result<crate::realm::RegisterResolution, crate::realm::JobRejection>,
            >,
        >,
    ) -> Result<(), HostError> {
        let _job = self.jobs.lock().await;
        let mut installing = installing;
        let result = self
            .run_update(host, id, script_url, worker_type, &mut installing)
            .await;
        if result.is_err() {
            // Update, on failure: a registration that never got a worker
            // leaves the registration map before the promise rejects, so
            // the page cannot find it afterwards.
            host.remove_if_empty(self);
        }
        if let (Err(error), Some(tx)) = (&result, installing.take()) {
            let _ = tx.send(Err(error.into()));
        }
        drop(_job);
        if self.is_unregistered() {
            // Unregistered while this job ran: the job kept it from being
            // cleared until now.
            host.try_clear_registration(self.id).await;
        }
        result
    }

    async fn run_update(
        self: &Arc<Self>,
        host: &Arc<HostInner>,
        id: u64,
        script_url: Url,
        worker_type: WorkerType,
        installing: &mut Option<
            tokio::sync::oneshot::Sender<
                Result<crate::realm::RegisterResolution, crate::realm::JobRejection>,
            >,
        >,
    ) -> Result<(), HostError> {
        // Update: fetch the script. Its request's redirect mode is "error":
        // a redirected response is a network error.
        let script = host.fetch_script(&script_url).await?;
        if script.url != script_url {
            return Err(HostError::ScriptFetch {
                url: script_url.to_string(),
                reason: format!("the response is a redirect (to {})", script.url),
            });
        }
        check_max_scope(
            &self.scope,
            &script.url,
            script.service_worker_allowed.as_deref(),
        )?;
        // Update step "byte-for-byte identical": an unchanged script of the
        // newest worker, of the same type, with unchanged imported scripts,
        // means there is nothing to install.
        if let Some(newest) = self.versions().first().cloned() {
            let same_url = newest.script_url == script.url && newest.worker_type == worker_type;
            let same_bytes =
                newest.script_source.lock().unwrap().as_deref() == Some(script.text.as_str());
            if same_url
                && same_bytes
                && newest.state() != WorkerState::Redundant
                && imports_unchanged(host, &newest).await?
            {
                if let Some(tx) = installing.take() {
                    let (seen_tx, _) = tokio::sync::oneshot::channel();
                    let _ = tx.send(Ok((self.view(), seen_tx)));
                }
                return Ok(());
            }
        }
        let version = Arc::new(Version {
            id,
            script_url: script.url.clone(),
            worker_type,
            script_source: Mutex::new(Some(script.text)),
            script_csp: Mutex::new(script.csp),
            imports: Arc::default(),
            state: Mutex::new(WorkerState::Parsed),
            runner: tokio::sync::Mutex::new(None),
            skip_waiting: AtomicBool::new(false),
            activity: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            fetch_handler_seen: Mutex::new(true),
        });
        // Run the script ("Run Service Worker"): a throw here fails the job.
        version.running(host, self).await?;

        // Install.
        self.slots.lock().unwrap().installing = Some(version.clone());
        self.set_state(&version, WorkerState::Installing);
        // Install step 4: resolve the job promise with the registration,
        // and let the page's continuation run before the state moves on.
        if let Some(tx) = installing.take() {
            let (seen_tx, seen_rx) = tokio::sync::oneshot::channel();
            if tx.send(Ok((self.view(), seen_tx))).is_ok() {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(1), seen_rx).await;
            }
        }
        self.publish(host).await;
        let outcome = version.dispatch(host, self, "install", Value::Null).await?;
        version
            .imports
            .install_finished
            .store(true, Ordering::Release);
        if !outcome.is_success() {
            self.slots.lock().unwrap().installing = None;
            self.set_state(&version, WorkerState::Redundant);
            self.publish(host).await;
            version.push_registration(self.view(), self.ack_limit).await;
            version.stop().await;
            let error = match outcome {
                EventOutcome::ListenerThrew(e) | EventOutcome::Rejected(e) => e,
                EventOutcome::Terminated(reason) => {
                    ScriptError::plain(format!("worker terminated: {reason}"))
                }
                EventOutcome::WorkerGone => ScriptError::plain("the worker stopped during install"),
                EventOutcome::Completed => unreachable!("success handled above"),
            };
            return Err(HostError::InstallFailed {
                url: version.script_url.to_string(),
                error,
            });
        }
        {
            let mut slots = self.slots.lock().unwrap();
            slots.installing = None;
            slots.waiting = Some(version.clone());
        }
        self.set_state(&version, WorkerState::Installed);
        self.publish(host).await;

        // Try Activate: the waiting worker activates as soon as the old one
        // has no events in flight. A registration unregistered meanwhile
        // activates nothing: its waiting worker goes when it is cleared.
        let previous = self.slots.lock().unwrap().active.clone();
        if let Some(previous) = &previous {
            while previous.events_in_flight() > 0
                && !version.skip_waiting.load(Ordering::Acquire)
                && !self.is_unregistered()
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        if self.is_unregistered() {
            tracing::debug!(script_url = %version.script_url, "unregistered while installing: not activated");
            return Ok(());
        }
        {
            let mut slots = self.slots.lock().unwrap();
            slots.waiting = None;
            slots.active = Some(version.clone());
        }
        if let Some(previous) = previous {
            self.set_state(&previous, WorkerState::Redundant);
            previous
                .push_registration(self.view(), self.ack_limit)
                .await;
            previous.stop().await;
        }
        self.set_state(&version, WorkerState::Activating);
        self.publish(host).await;
        // Activate step: failures of the activate event do not stop activation.
        let outcome = version
            .dispatch(host, self, "activate", Value::Null)
            .await?;
        match &outcome {
            EventOutcome::Terminated(reason) => {
                tracing::warn!(script_url = %version.script_url, %reason, "worker terminated during activate")
            }
            EventOutcome::Rejected(error) | EventOutcome::ListenerThrew(error) => {
                tracing::warn!(script_url = %version.script_url, "activate event failed (the worker activates anyway): {error}")
            }
            _ => {}
        }
        self.set_state(&version, WorkerState::Activated);
        // Unregistered while it installed or activated: nothing to keep.
        if host
            .registration_with_scope(&self.scope)
            .is_some_and(|current| Arc::ptr_eq(&current, self))
        {
            host.persist_registration(&self.scope, &version).await;
        }
        self.publish(host).await;
        Ok(())
    }
}

/// Update step "for each importUrl of the script resource map": fetch every
/// imported script again and compare it with what the worker installed.
async fn imports_unchanged(host: &HostInner, newest: &Version) -> Result<bool, HostError> {
    for (url, installed) in newest.imported_scripts() {
        let parsed = Url::parse(&url).map_err(|_| HostError::ScriptFetch {
            url: url.clone(),
            reason: "not a URL".into(),
        })?;
        let fetched = host.fetch_script(&parsed).await?;
        if fetched.text != installed {
            tracing::debug!(%url, "an imported script changed");
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_defaults_to_script_directory() {
        let script = Url::parse("http://localhost/app/sw.js").unwrap();
        assert_eq!(
            resolve_scope(&script, None).unwrap().as_str(),
            "http://localhost/app/"
        );
    }

    #[test]
    fn scope_outside_max_scope_is_rejected() {
        let script = Url::parse("http://localhost/app/sw.js").unwrap();
        let scope = Url::parse("http://localhost/").unwrap();
        assert!(check_max_scope(&scope, &script, None).is_err());
        assert!(check_max_scope(&scope, &script, Some("/")).is_ok());
        let other = Url::parse("http://example.com/app/").unwrap();
        assert!(resolve_scope(&script, Some(other)).is_err());
    }
}
