//! A realm is one JavaScript isolate on its own thread with a current-thread
//! tokio runtime: a service worker or a page (window client). The rest of the
//! host talks to it only through channels: [`RealmHandle`] sends
//! [`HostCommand`]s; the realm answers through oneshot replies and the host
//! request channel ([`HostRequest`]).

mod context;
mod module_loader;
mod thread;
mod watchdog;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use url::Url;

use crate::config::Limits;
use crate::delegate::{HostDelegate, TerminationReason};
use crate::error::{HostError, ScriptError};
use crate::loader::ScriptLoader;

pub(crate) use context::{
    ClientWorkerContext, ClientWorkerKind, PageContext, RealmContext, WorkerContext,
};
pub(crate) use watchdog::BusyClock;

/// Scripts a worker version imported with `importScripts()`. Kept with the
/// version, not the thread, so a restarted worker reuses them: after install
/// only already-imported URLs may be imported again (Service Workers, importScripts).
#[derive(Debug, Default)]
pub struct ImportedScripts {
    pub(crate) scripts: Mutex<HashMap<String, String>>,
    pub(crate) install_finished: AtomicBool,
}

/// A command from the host to a realm's JavaScript.
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
    /// Registration and worker states changed. The realm acknowledges
    /// (through the settle report) once `statechange` events have fired.
    #[serde(rename_all = "camelCase")]
    Registration {
        /// Identifies the acknowledgement.
        ack_id: u64,
        /// Snapshot of the registration.
        registration: RegistrationView,
    },
    /// A page's controller changed (`clients.claim()`).
    #[serde(rename_all = "camelCase")]
    Controller {
        /// The page or frame whose controller changed.
        client_id: String,
        /// The new controller.
        controller: Option<WorkerView>,
    },
    /// A cross-origin frame of page `client_id` has loaded.
    #[serde(rename_all = "camelCase")]
    FrameLoaded {
        /// The parent page or frame.
        client_id: String,
        /// The frame's client.
        frame_client_id: String,
    },
    /// `window.postMessage` from a window of another realm.
    #[serde(rename_all = "camelCase")]
    WindowMessage {
        /// The window the message is for.
        client_id: String,
        /// Mailbox id of the message.
        message_id: u64,
        /// The sender's origin.
        origin: String,
        /// The sender's client.
        source_client_id: String,
    },
    /// Background Fetch progress of the realm's origin.
    #[serde(rename_all = "camelCase")]
    Progress {
        /// The registration's attributes.
        registration: crate::background_fetch::RegistrationData,
        /// True for the last notification of the fetch.
        is_final: bool,
    },
    /// A message from a service worker to a page (`Client.postMessage`);
    /// the page takes its body from the mailbox with `op_swrt_take_message`.
    #[serde(rename_all = "camelCase")]
    Message {
        /// The page or frame the message is for.
        client_id: String,
        /// Mailbox id of the message.
        message_id: u64,
        /// The sending worker.
        source: WorkerView,
    },
    /// A message over a dedicated worker's implicit port: to the worker
    /// from its owner (`from` is None), or to the owner from the worker
    /// with client id `from`. The body waits in the mailbox.
    #[serde(rename_all = "camelCase")]
    WorkerMessage {
        /// The sending worker, for messages to the owner.
        from: Option<String>,
        /// Mailbox id of the message.
        message_id: u64,
    },
    /// An exception the worker with client id `worker_id` did not handle:
    /// fires an ErrorEvent on its `Worker` object in the owner.
    #[serde(rename_all = "camelCase")]
    WorkerError {
        /// The worker's client id.
        worker_id: String,
        /// The exception's message.
        message: String,
        /// Script URL where it was thrown (empty when unknown).
        filename: String,
        /// 1-based line (0 when unknown).
        lineno: u32,
        /// 1-based column (0 when unknown).
        colno: u32,
    },
    /// A new `SharedWorker` connected: the mailbox message carries its port.
    #[serde(rename_all = "camelCase")]
    Connect {
        /// Mailbox id of the message holding the port.
        message_id: u64,
    },
}

/// The parent of a page that is a cross-origin frame.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentWindow {
    /// The parent's client id.
    pub client_id: String,
    /// The parent's origin.
    pub origin: String,
}

/// A registration as a realm's JavaScript sees it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationView {
    /// The registration's host-unique id.
    pub id: u64,
    /// The registration's scope URL.
    pub scope: String,
    /// `installing` worker, if any.
    pub installing: Option<WorkerView>,
    /// `waiting` worker, if any.
    pub waiting: Option<WorkerView>,
    /// `active` worker, if any.
    pub active: Option<WorkerView>,
    /// Bumped by every state change: a realm ignores a snapshot older than
    /// the one it has (a job's reply can arrive after later state pushes).
    pub generation: u64,
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

/// What runs in a realm.
pub(crate) enum RealmKind {
    /// A service worker: its classic script is evaluated before `start` returns.
    Worker(WorkerContext),
    /// A page: `start` returns once the realm is up; evaluation is reported
    /// through the returned [`PageEvaluation`].
    Page(PageContext),
    /// A dedicated or shared worker (HTML workers): like a page, `start`
    /// returns once the realm is up and evaluation is reported later.
    ClientWorker(ClientWorkerContext),
}

/// Everything a realm thread needs to start.
pub(crate) struct RealmSpec {
    pub url: Url,
    pub source: String,
    pub kind: RealmKind,
    pub limits: Limits,
    pub delegate: Arc<dyn HostDelegate>,
    pub loader: ScriptLoader,
    pub host_requests: HostRequestSender,
    /// The engine and store, for hosts with a data dir.
    pub background_fetch: Option<crate::background_fetch::BackgroundFetchContext>,
    /// The process's IndexedDB databases.
    pub indexeddb: Arc<swrt_indexeddb::Backend>,
    /// Host-name resolution (and which names count as trustworthy).
    pub resolver: Arc<crate::HostResolver>,
    /// The origin's BroadcastChannel bus, shared by its pages and workers.
    pub broadcast: deno_web::InMemoryBroadcastChannel,
}

/// The realms' channel to the host. A request counts as in flight from the
/// moment a realm sends it until the host has handled it: a realm that
/// sends a message (to a window, say) and goes idle has not finished that
/// message while the host still holds it.
#[derive(Clone)]
pub(crate) struct HostRequestSender {
    requests: mpsc::UnboundedSender<HostRequest>,
    in_flight: Arc<AtomicUsize>,
}

impl HostRequestSender {
    /// The sender and the receiving end the host serves; the counter is
    /// the one [`HostRequestSender::in_flight`] reads.
    pub(crate) fn channel() -> (Self, mpsc::UnboundedReceiver<HostRequest>) {
        let (requests, receiver) = mpsc::unbounded_channel();
        let sender = HostRequestSender {
            requests,
            in_flight: Arc::new(AtomicUsize::new(0)),
        };
        (sender, receiver)
    }

    /// Sends `request`; false when the host is gone (the request, with
    /// any reply sender in it, is dropped, so a waiting op ends).
    pub(crate) fn send(&self, request: HostRequest) -> bool {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let sent = self.requests.send(request).is_ok();
        if !sent {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
        sent
    }

    /// Requests sent and not yet handled.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// The host calls this once it has handled a request.
    pub(crate) fn handled(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Requests from a realm's JavaScript that only the host can answer.
#[derive(Debug)]
pub(crate) enum HostRequest {
    // A worker's requests name it by version id: several versions (an
    // update of the same URL) or registrations can share a script URL.
    SkipWaiting {
        version_id: u64,
        reply: oneshot::Sender<()>,
    },
    Claim {
        version_id: u64,
        reply: oneshot::Sender<Result<(), String>>,
    },
    OpenWindow {
        script_url: Url,
        url: Url,
        reply: oneshot::Sender<bool>,
    },
    MatchAll {
        version_id: u64,
        options: MatchAllOptions,
        reply: oneshot::Sender<Vec<ClientInfo>>,
    },
    PostToClient {
        version_id: u64,
        client_id: String,
        message: RealmMessage,
        reply: oneshot::Sender<bool>,
    },
    Register {
        client_id: String,
        script_url: Url,
        scope: Option<Url>,
        worker_type: crate::host::WorkerType,
        reply: oneshot::Sender<Result<RegisterResolution, JobRejection>>,
    },
    Registrations {
        client_id: String,
        reply: oneshot::Sender<Vec<RegistrationView>>,
    },
    HasActiveWorker {
        scope: Url,
        reply: oneshot::Sender<bool>,
    },
    Unregister {
        scope: Url,
        reply: oneshot::Sender<bool>,
    },
    /// A controlled page's `fetch()`: dispatch a FetchEvent to its controller.
    FetchEvent {
        client_id: String,
        request: serde_json::Value,
        body: Option<Vec<u8>>,
        reply: oneshot::Sender<Option<FetchEventResponse>>,
    },
    /// A page inserted a same-origin frame: make it a client and load it.
    OpenFrame {
        parent_client_id: String,
        url: Url,
        reply: oneshot::Sender<Result<crate::host::OpenedFrame, String>>,
    },
    /// A frame was removed from its document: its client ends.
    CloseFrame { client_id: String },
    /// A page inserted a cross-origin frame: open it in a realm of its own.
    OpenRemoteFrame {
        parent_client_id: String,
        url: Url,
        reply: oneshot::Sender<Result<String, String>>,
    },
    /// A cross-origin frame's document has loaded: its iframe element fires `load`.
    FrameLoaded { frame_client_id: String },
    /// `window.postMessage` to a window in another realm.
    PostToWindow {
        source_client_id: String,
        target_client_id: String,
        message: RealmMessage,
        target_origin: String,
    },
    /// The worker's answer to a FetchEvent (`None`: fall back to the network).
    FetchEventRespond {
        request_id: u64,
        response: Option<FetchEventResponse>,
    },
    /// `registration.update()` from a page or a worker.
    Update {
        scope: Url,
        reply: oneshot::Sender<Result<RegistrationView, JobRejection>>,
    },
    PostToWorker {
        sender: MessageSender,
        version_id: u64,
        message: RealmMessage,
        reply: oneshot::Sender<bool>,
    },
    /// `new Worker()`: fetch the script and start a dedicated worker owned
    /// by the client `owner_id`; the reply links the owner to it.
    StartWorker {
        owner_id: String,
        client_id: String,
        script_url: Url,
        worker_type: crate::host::WorkerType,
        name: String,
        reply: oneshot::Sender<Result<RealmLink, String>>,
    },
    /// `new SharedWorker()`: connect the port in `message` to the shared
    /// worker of (origin, script URL, name), started if needed.
    ConnectSharedWorker {
        script_url: Url,
        worker_type: crate::host::WorkerType,
        name: String,
        message: RealmMessage,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// `terminate()` or `close()`: stop a worker and the workers it owns.
    CloseWorker { client_id: String },
}

/// Who called `ServiceWorker.postMessage()`: the event's `source` is a
/// Client for a page and a ServiceWorker for a worker.
#[derive(Debug, Clone)]
pub(crate) enum MessageSender {
    /// A page, by client id.
    Client(String),
    /// A service worker, by version id.
    Worker(u64),
}

/// A structured-serialized message on its way between realms, with the
/// objects it transfers (MessagePorts) already taken out of the sender.
pub(crate) struct RealmMessage {
    pub data: deno_core::serde_v8::DetachedBuffer,
    pub transferables: Vec<deno_web::Transferable>,
}

impl std::fmt::Debug for RealmMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealmMessage")
            .field("bytes", &self.data.len())
            .field("transferables", &self.transferables.len())
            .finish()
    }
}

/// The resolution of a page's register job: the registration, and a signal
/// the page sends once its `register()` continuation has run, so state
/// changes reach it afterwards (as tasks queued after the job promise).
pub(crate) type RegisterResolution = (RegistrationView, oneshot::Sender<()>);

/// Why a register or update job was rejected, by the error class the
/// page's promise rejects with (Service Workers, "Reject Job Promise").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JobRejection {
    /// A `SecurityError`: another origin, a scope beyond the max scope, a
    /// script that is not JavaScript.
    #[error("{0}")]
    Security(String),
    /// A `TypeError`: the script could not be fetched or did not run.
    #[error("{0}")]
    Type(String),
    /// An `InvalidStateError`: the registration has nothing to update.
    #[error("{0}")]
    InvalidState(String),
}

impl From<&HostError> for JobRejection {
    fn from(error: &HostError) -> Self {
        match error {
            HostError::Security(message) => JobRejection::Security(message.clone()),
            other => JobRejection::Type(other.to_string()),
        }
    }
}

/// What a worker's `respondWith()` produced, body included.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchEventResponse {
    /// Status; 0 with `error` set for a network error.
    pub status: u16,
    /// Status text.
    pub status_text: String,
    /// Header list.
    pub headers: Vec<(String, String)>,
    /// URL list of the response.
    pub url_list: Vec<String>,
    /// Response type (`basic`, `cors`, `default`, `opaque`).
    pub response_type: String,
    /// Set when `respondWith()` rejected or gave something that is not a Response.
    pub error: Option<String>,
    /// The body, skipped in JSON (it travels as a buffer).
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// `clients.matchAll()` options.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MatchAllOptions {
    pub include_uncontrolled: bool,
    #[serde(rename = "type")]
    pub client_type: String,
}

/// A client (page) as `clients.matchAll()` reports it.
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
    /// `top-level`, `nested` (a frame) or `none` (a worker).
    pub frame_type: String,
}

pub(crate) type PendingEvents = Arc<Mutex<HashMap<u64, oneshot::Sender<EventOutcome>>>>;

/// State shared by a realm thread and its handle.
pub(crate) struct RealmShared {
    pub pending: PendingEvents,
    pub termination: Mutex<Option<TerminationReason>>,
    pub busy: BusyClock,
    pub url: Url,
    pub delegate: Arc<dyn HostDelegate>,
    /// Set when the host stops the realm (idle, replaced, shutdown).
    pub stopping: AtomicBool,
    /// Messages delivered to this realm and not yet taken by its JavaScript.
    pub mailbox: Mutex<HashMap<u64, RealmMessage>>,
    /// Request bodies of FetchEvents delivered to this realm, as bytes (an
    /// event's JSON data carries only their id).
    pub bodies: Mutex<HashMap<u64, Vec<u8>>>,
    /// A worker whose script added a `fetch` listener during evaluation.
    pub has_fetch_handler: AtomicBool,
    /// Ids of mailbox entries.
    pub next_message_id: AtomicU64,
    /// Bumped on every turn of the realm's event loop, so a reader can tell
    /// that the realm ran between two looks.
    pub turns: AtomicU64,
    /// The realm has work of its own pending: timers, ops in flight, a
    /// command it is handling. Cleared only at the end of an event-loop turn
    /// that left nothing but listeners.
    pub has_pending_work: AtomicBool,
    /// Host commands sent and not yet taken by the realm's JavaScript.
    pub queued_commands: AtomicUsize,
}

impl RealmShared {
    /// Records why the realm is being terminated. Only the first reason
    /// counts and is reported to the delegate; returns true for that one.
    pub(crate) fn mark_terminated(&self, reason: TerminationReason) -> bool {
        let mut slot = self.termination.lock().unwrap();
        if slot.is_some() {
            return false;
        }
        *slot = Some(reason.clone());
        drop(slot);
        self.delegate.worker_terminated(&self.url, &reason);
        true
    }

    /// Whether a limit terminated the realm.
    pub(crate) fn is_terminated(&self) -> bool {
        self.termination.lock().unwrap().is_some()
    }

    /// Puts a message in the mailbox; returns its id.
    pub(crate) fn stash_message(&self, message: RealmMessage) -> u64 {
        let id = self.next_message_id.fetch_add(1, Ordering::Relaxed);
        self.mailbox.lock().unwrap().insert(id, message);
        id
    }

    /// Ends every open event with the termination reason (or "worker gone").
    pub(crate) fn fail_pending(&self) {
        let reason = self.termination.lock().unwrap().clone();
        let pending: Vec<_> = self.pending.lock().unwrap().drain().collect();
        for (_, reply) in pending {
            let _ = reply.send(match &reason {
                Some(r) => EventOutcome::Terminated(r.clone()),
                None => EventOutcome::WorkerGone,
            });
        }
    }
}

/// Resolves when a page's script has finished evaluating (top-level await
/// included), with the error if it threw.
pub(crate) type PageEvaluation = oneshot::Receiver<Result<(), ScriptError>>;

/// Another realm's way to send messages straight to this one (a worker's
/// owner and the worker, without a hop through the host).
#[derive(Clone)]
pub(crate) struct RealmLink {
    commands: mpsc::UnboundedSender<HostCommand>,
    shared: Arc<RealmShared>,
}

impl std::fmt::Debug for RealmLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealmLink")
            .field("url", &self.shared.url.as_str())
            .finish()
    }
}

impl RealmLink {
    /// Queues a command; it counts as the realm's pending work until its
    /// JavaScript takes it. False when the realm is gone.
    pub(crate) fn send_work(&self, command: HostCommand) -> bool {
        self.shared.queued_commands.fetch_add(1, Ordering::AcqRel);
        if self.commands.send(command).is_err() {
            self.shared.queued_commands.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Stashes `message` and sends the command `wrap` builds around its id.
    pub(crate) fn post(
        &self,
        message: RealmMessage,
        wrap: impl FnOnce(u64) -> HostCommand,
    ) -> bool {
        let id = self.shared.stash_message(message);
        let sent = self.send_work(wrap(id));
        if !sent {
            self.shared.mailbox.lock().unwrap().remove(&id);
        }
        sent
    }
}

/// The host's end of a running realm.
pub(crate) struct RealmHandle {
    commands: mpsc::UnboundedSender<HostCommand>,
    stop: Option<oneshot::Sender<()>>,
    shared: Arc<RealmShared>,
    isolate: deno_core::v8::IsolateHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    next_id: AtomicU64,
}

impl RealmHandle {
    /// Starts the realm thread. For a worker, resolves once its script has
    /// evaluated (or with the error, with its location); for a page, once the
    /// realm is up, with a receiver for the end of evaluation.
    pub(crate) async fn start(
        spec: RealmSpec,
    ) -> Result<(RealmHandle, Option<PageEvaluation>), HostError> {
        let url = spec.url.clone();
        let budget = spec.limits.event_timeout;
        let shared = Arc::new(RealmShared {
            pending: Arc::default(),
            termination: Mutex::new(None),
            busy: BusyClock::default(),
            url: url.clone(),
            delegate: spec.delegate.clone(),
            stopping: AtomicBool::new(false),
            mailbox: Mutex::new(HashMap::new()),
            bodies: Mutex::new(HashMap::new()),
            has_fetch_handler: AtomicBool::new(true),
            next_message_id: AtomicU64::new(1),
            turns: AtomicU64::new(0),
            has_pending_work: AtomicBool::new(true),
            queued_commands: AtomicUsize::new(0),
        });
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let (evaluated_tx, evaluated_rx) = oneshot::channel();
        let is_page = !matches!(spec.kind, RealmKind::Worker(_));
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("realm {url}"))
            .spawn(move || {
                thread::run(
                    spec,
                    thread_shared,
                    commands_rx,
                    stop_rx,
                    ready_tx,
                    evaluated_tx,
                )
            })
            .map_err(|e| HostError::Engine(format!("cannot spawn a realm thread: {e}")))?;
        let isolate = match ready_rx.await {
            Ok(Ok(isolate)) => isolate,
            Ok(Err(e)) => {
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
                return Err(e);
            }
            Err(_) => {
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
                let reason = shared.termination.lock().unwrap().clone();
                return Err(match reason {
                    Some(reason) => HostError::Terminated {
                        url: url.to_string(),
                        reason,
                    },
                    None => HostError::WorkerGone {
                        url: url.to_string(),
                    },
                });
            }
        };
        watchdog::spawn(shared.clone(), isolate.clone(), budget);
        let handle = RealmHandle {
            commands: commands_tx,
            stop: Some(stop_tx),
            shared,
            isolate,
            thread: Some(thread),
            next_id: AtomicU64::new(1),
        };
        Ok((handle, is_page.then_some(evaluated_rx)))
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
        let event_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(event_id, tx);
        let command = HostCommand::Dispatch {
            event_id,
            event_type: event_type.to_string(),
            data,
        };
        if !self.push(command) {
            self.shared.pending.lock().unwrap().remove(&event_id);
            return self.gone_outcome();
        }
        match tokio::time::timeout(wait_until_timeout, rx).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => self.gone_outcome(),
            Err(_) => {
                tracing::warn!(url = %self.shared.url, event_type, "event lifetime cap reached; terminating worker");
                self.terminate(TerminationReason::WaitUntilTimeout);
                EventOutcome::Terminated(TerminationReason::WaitUntilTimeout)
            }
        }
    }

    /// Sends new registration state and waits until `statechange` listeners
    /// ran (bounded by `limit`).
    pub(crate) async fn update_registration(
        &self,
        registration: RegistrationView,
        limit: Duration,
    ) {
        let ack_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(ack_id, tx);
        if !self.push(HostCommand::Registration {
            ack_id,
            registration,
        }) {
            self.shared.pending.lock().unwrap().remove(&ack_id);
            return;
        }
        let _ = tokio::time::timeout(limit, rx).await;
        self.shared.pending.lock().unwrap().remove(&ack_id);
    }

    /// Puts a message in the realm's mailbox; returns its id.
    pub(crate) fn stash_message(&self, message: RealmMessage) -> u64 {
        self.shared.stash_message(message)
    }

    /// A sender of messages to this realm that other realms can hold.
    pub(crate) fn link(&self) -> RealmLink {
        RealmLink {
            commands: self.commands.clone(),
            shared: self.shared.clone(),
        }
    }

    /// The number of event-loop turns the realm has run, so a reader can
    /// tell whether it ran between two looks.
    pub(crate) fn turns(&self) -> u64 {
        self.shared.turns.load(Ordering::SeqCst)
    }

    /// Puts a request body in the realm's mailbox; returns its id.
    pub(crate) fn stash_body(&self, body: Vec<u8>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.shared.bodies.lock().unwrap().insert(id, body);
        id
    }

    /// Whether the worker's script listens for `fetch` events.
    pub(crate) fn has_fetch_handler(&self) -> bool {
        self.shared.has_fetch_handler.load(Ordering::Acquire)
    }

    /// Sends a command that needs no reply.
    pub(crate) fn send(&self, command: HostCommand) -> bool {
        self.push(command)
    }

    /// Queues a command; it counts as the realm's pending work until its
    /// JavaScript takes it.
    fn push(&self, command: HostCommand) -> bool {
        self.shared.queued_commands.fetch_add(1, Ordering::AcqRel);
        let sent = self.commands.send(command).is_ok();
        if !sent {
            self.shared.queued_commands.fetch_sub(1, Ordering::AcqRel);
        }
        sent
    }

    /// Nothing is pending in the realm: no timer, no op in flight, no
    /// command queued or being handled. Only kept up to date for pages and
    /// dedicated and shared workers.
    pub(crate) fn is_idle(&self) -> bool {
        self.shared.queued_commands.load(Ordering::Acquire) == 0
            && !self.shared.has_pending_work.load(Ordering::Acquire)
    }

    fn gone_outcome(&self) -> EventOutcome {
        match self.shared.termination.lock().unwrap().clone() {
            Some(reason) => EventOutcome::Terminated(reason),
            None => EventOutcome::WorkerGone,
        }
    }

    /// Terminates the realm's JavaScript at once and stops the thread.
    pub(crate) fn terminate(&self, reason: TerminationReason) {
        self.shared.mark_terminated(reason);
        self.isolate.terminate_execution();
        self.shared.fail_pending();
    }

    /// Stops the realm without waiting for its thread.
    pub(crate) fn terminate_quietly(&self) {
        self.shared.stopping.store(true, Ordering::Release);
        self.isolate.terminate_execution();
        self.shared.fail_pending();
    }

    /// Stops the realm and waits for its thread to end.
    pub(crate) async fn stop(mut self) {
        self.signal_stop();
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    fn signal_stop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // A thread stuck in JavaScript would never see the stop signal.
        self.isolate.terminate_execution();
        self.shared.fail_pending();
    }
}

impl Drop for RealmHandle {
    fn drop(&mut self) {
        // Never join here: drop may run on an async executor thread. The
        // realm thread exits by itself once it sees the stop signal.
        self.signal_stop();
    }
}
