//! One service worker = one isolate on its own thread with a current-thread
//! tokio runtime. The rest of the host talks to it only through channels:
//! [`WorkerHandle`] sends [`HostCommand`]s, the worker answers through
//! oneshot replies and the host request channel.

mod thread;
mod watchdog;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use url::Url;

use crate::config::Limits;
use crate::delegate::{HostDelegate, TerminationReason};
use crate::error::{HostError, ScriptError};
use crate::loader::ScriptLoader;

pub(crate) use thread::WorkerOpContext;
pub(crate) use watchdog::BusyClock;

/// Scripts a worker version imported with `importScripts()`. Kept with the
/// version, not the thread, so a restarted worker reuses them: after install
/// only already-imported URLs may be imported again (Service Workers §importScripts).
#[derive(Debug, Default)]
pub struct ImportedScripts {
    pub(crate) scripts: Mutex<HashMap<String, String>>,
    pub(crate) install_finished: std::sync::atomic::AtomicBool,
}

/// A command from the host to the JavaScript of a worker.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum HostCommand {
    /// Dispatch a trusted event and report when its lifetime ends.
    #[serde(rename_all = "camelCase")]
    Dispatch {
        /// Identifies the event in the settle report.
        event_id: u64,
        /// The event type (`install`, `activate`, `message`, ...).
        event_type: String,
        /// Event-specific data.
        data: serde_json::Value,
    },
    /// Registration and worker states changed. The worker acknowledges
    /// (through the event settle report) once `statechange` events have fired.
    #[serde(rename_all = "camelCase")]
    Registration {
        /// Identifies the acknowledgement.
        ack_id: u64,
        /// Snapshot of the registration as the worker should see it.
        registration: RegistrationView,
    },
}

/// The registration as a worker's JavaScript sees it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationView {
    /// The registration's scope URL.
    pub scope: String,
    /// `installing` worker, if any.
    pub installing: Option<WorkerView>,
    /// `waiting` worker, if any.
    pub waiting: Option<WorkerView>,
    /// `active` worker, if any.
    pub active: Option<WorkerView>,
}

/// A `ServiceWorker` object's data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WorkerView {
    /// Version id, stable for the version's life.
    pub id: u64,
    /// Script URL.
    pub script_url: String,
    /// `parsed`, `installing`, `installed`, `activating`, `activated` or `redundant`.
    pub state: String,
}

/// How an event's lifetime ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// Dispatched; every `waitUntil` promise fulfilled and no listener threw.
    Completed,
    /// A listener threw (the exception was also reported as uncaught).
    ListenerThrew(ScriptError),
    /// A `waitUntil` promise rejected.
    Rejected(ScriptError),
    /// The worker was terminated before the event ended.
    Terminated(TerminationReason),
    /// The worker stopped (crash or shutdown) before the event ended.
    WorkerGone,
}

impl EventOutcome {
    /// True when the event ended without a throw, rejection or termination.
    pub fn is_success(&self) -> bool {
        matches!(self, EventOutcome::Completed)
    }
}

/// What the worker thread needs to start.
pub(crate) struct WorkerSpec {
    pub script_url: Url,
    pub script_source: String,
    pub registration: RegistrationView,
    /// The version this worker runs, as its `serviceWorker` object shows it.
    pub version: WorkerView,
    pub limits: Limits,
    pub delegate: Arc<dyn HostDelegate>,
    pub loader: ScriptLoader,
    pub imports: Arc<ImportedScripts>,
    pub host_requests: mpsc::UnboundedSender<WorkerRequest>,
}

/// Requests from a worker's JavaScript that only the host can answer.
#[derive(Debug)]
pub(crate) enum WorkerRequest {
    SkipWaiting {
        script_url: Url,
        reply: oneshot::Sender<()>,
    },
    Claim {
        script_url: Url,
        reply: oneshot::Sender<Result<(), String>>,
    },
    OpenWindow {
        script_url: Url,
        url: Url,
        reply: oneshot::Sender<bool>,
    },
    MatchAll {
        script_url: Url,
        options: MatchAllOptions,
        reply: oneshot::Sender<Vec<ClientInfo>>,
    },
}

/// `clients.matchAll()` options.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MatchAllOptions {
    pub include_uncontrolled: bool,
    #[serde(rename = "type")]
    pub client_type: String,
}

/// A client (page or worker) as `clients.matchAll()` reports it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    /// Client id (a UUID).
    pub id: String,
    /// The client's creation URL.
    pub url: String,
    /// `window` or `worker`.
    #[serde(rename = "type")]
    pub client_type: String,
}

pub(crate) type PendingEvents = Arc<Mutex<HashMap<u64, oneshot::Sender<EventOutcome>>>>;

/// State shared by a worker thread and its handle.
pub(crate) struct WorkerShared {
    pub pending: PendingEvents,
    pub termination: Mutex<Option<TerminationReason>>,
    pub busy: BusyClock,
    pub script_url: Url,
    pub delegate: Arc<dyn HostDelegate>,
    /// Set when the host stops the worker (idle, replaced, shutdown).
    pub stopping: std::sync::atomic::AtomicBool,
}

impl WorkerShared {
    /// Records why the worker is being terminated. Only the first reason
    /// counts and is reported to the delegate; returns true for that one.
    pub(crate) fn mark_terminated(&self, reason: TerminationReason) -> bool {
        let mut slot = self.termination.lock().unwrap();
        if slot.is_some() {
            return false;
        }
        *slot = Some(reason.clone());
        drop(slot);
        self.delegate.worker_terminated(&self.script_url, &reason);
        true
    }
}

/// The host's end of a running worker.
pub(crate) struct WorkerHandle {
    commands: mpsc::UnboundedSender<HostCommand>,
    stop: Option<oneshot::Sender<()>>,
    shared: Arc<WorkerShared>,
    isolate: deno_core::v8::IsolateHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    next_event_id: std::sync::atomic::AtomicU64,
    script_url: Url,
}

impl WorkerHandle {
    /// Starts the worker thread and evaluates the script. Resolves once the
    /// evaluation finished (Ok) or failed (the error, with its location).
    pub(crate) async fn start(spec: WorkerSpec) -> Result<WorkerHandle, HostError> {
        let script_url = spec.script_url.clone();
        let limits = spec.limits.clone();
        let delegate = spec.delegate.clone();
        let shared = Arc::new(WorkerShared {
            pending: Arc::default(),
            termination: Mutex::new(None),
            busy: BusyClock::default(),
            script_url: script_url.clone(),
            delegate: delegate.clone(),
            stopping: std::sync::atomic::AtomicBool::new(false),
        });
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sw {script_url}"))
            .spawn(move || thread::run(spec, thread_shared, commands_rx, stop_rx, ready_tx))
            .map_err(|e| HostError::Engine(format!("cannot spawn a worker thread: {e}")))?;
        let isolate = match ready_rx.await {
            Ok(Ok(isolate)) => isolate,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                let reason = shared.termination.lock().unwrap().clone();
                return Err(match reason {
                    Some(reason) => HostError::Terminated {
                        url: script_url.to_string(),
                        reason,
                    },
                    None => HostError::WorkerGone {
                        url: script_url.to_string(),
                    },
                });
            }
        };
        watchdog::spawn(shared.clone(), isolate.clone(), limits.event_timeout);
        Ok(WorkerHandle {
            commands: commands_tx,
            stop: Some(stop_tx),
            shared,
            isolate,
            thread: Some(thread),
            next_event_id: std::sync::atomic::AtomicU64::new(1),
            script_url,
        })
    }

    /// True while the thread runs and no limit terminated it.
    pub(crate) fn is_alive(&self) -> bool {
        self.shared.termination.lock().unwrap().is_none()
            && self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Dispatches an event; resolves when its lifetime ends, or when
    /// `wait_until_timeout` passes (then the worker is terminated, as Chromium does).
    pub(crate) async fn dispatch(
        &self,
        event_type: &str,
        data: serde_json::Value,
        wait_until_timeout: Duration,
    ) -> EventOutcome {
        let event_id = self
            .next_event_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(event_id, tx);
        let command = HostCommand::Dispatch {
            event_id,
            event_type: event_type.to_string(),
            data,
        };
        if self.commands.send(command).is_err() {
            self.shared.pending.lock().unwrap().remove(&event_id);
            return self.gone_outcome();
        }
        match tokio::time::timeout(wait_until_timeout, rx).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => self.gone_outcome(),
            Err(_) => {
                tracing::warn!(script_url = %self.script_url, event_type, "event lifetime cap reached; terminating worker");
                self.terminate(TerminationReason::WaitUntilTimeout);
                EventOutcome::Terminated(TerminationReason::WaitUntilTimeout)
            }
        }
    }

    /// Sends new registration state to the worker's JavaScript and waits
    /// until its `statechange` listeners ran (bounded by `limit`).
    pub(crate) async fn update_registration(
        &self,
        registration: RegistrationView,
        limit: Duration,
    ) {
        let ack_id = self
            .next_event_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(ack_id, tx);
        if self
            .commands
            .send(HostCommand::Registration {
                ack_id,
                registration,
            })
            .is_err()
        {
            self.shared.pending.lock().unwrap().remove(&ack_id);
            return;
        }
        let _ = tokio::time::timeout(limit, rx).await;
        self.shared.pending.lock().unwrap().remove(&ack_id);
    }

    fn gone_outcome(&self) -> EventOutcome {
        match self.shared.termination.lock().unwrap().clone() {
            Some(reason) => EventOutcome::Terminated(reason),
            None => EventOutcome::WorkerGone,
        }
    }

    /// Terminates the worker's JavaScript at once and stops the thread.
    pub(crate) fn terminate(&self, reason: TerminationReason) {
        self.shared.mark_terminated(reason);
        self.isolate.terminate_execution();
        fail_pending(&self.shared);
    }

    /// Stops the worker and waits for its thread to end.
    pub(crate) async fn stop(mut self) {
        self.signal_stop();
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    fn signal_stop(&mut self) {
        self.shared
            .stopping
            .store(true, std::sync::atomic::Ordering::Release);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // A thread stuck in JavaScript would never see the stop signal.
        self.isolate.terminate_execution();
        fail_pending(&self.shared);
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        // Never join here: drop may run on an async executor thread. The
        // worker thread exits by itself once it sees the stop signal.
        self.signal_stop();
    }
}

/// Ends every open event with the termination reason (or "worker gone").
pub(crate) fn fail_pending(shared: &WorkerShared) {
    let reason = shared.termination.lock().unwrap().clone();
    let pending: Vec<_> = shared.pending.lock().unwrap().drain().collect();
    for (_, reply) in pending {
        let _ = reply.send(match &reason {
            Some(r) => EventOutcome::Terminated(r.clone()),
            None => EventOutcome::WorkerGone,
        });
    }
}
