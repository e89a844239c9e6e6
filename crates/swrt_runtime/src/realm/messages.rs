//! What the host and a realm say to each other: the commands the host
//! sends a realm ([`HostCommand`]), the requests a realm's JavaScript makes
//! of the host ([`HostRequest`]) and the data both carry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use url::Url;

use crate::delegate::TerminationReason;
use crate::error::{ClaimError, FrameError, HostError, ScriptError, WorkerStartError};

use super::RealmLink;

/// A frame's document, as `op_swrt_frame_open` returns it.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OpenedFrame {
    pub client_id: String,
    pub url: String,
    pub html: bool,
    pub text: String,
    /// The Content Security Policies the frame's document was served with.
    pub csp: Vec<String>,
    pub controller: Option<WorkerView>,
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
    /// `updateViaCache`: "imports", "all" or "none".
    pub update_via_cache: String,
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
    /// `InstallEvent.addRoutes()`: rules to check and add to the worker's list.
    AddRoutes {
        version_id: u64,
        rules: Vec<crate::service_worker::router::RouterRuleInit>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    Claim {
        version_id: u64,
        reply: oneshot::Sender<Result<(), ClaimError>>,
    },
    OpenWindow {
        script_url: Url,
        url: Url,
        reply: oneshot::Sender<bool>,
    },
    MatchAll {
        version_id: u64,
        /// The worker's script URL: its origin is the clients' origin.
        script_url: Url,
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
        client: ContainerClient,
        script_url: Url,
        scope: Option<Url>,
        worker_type: crate::worker_type::WorkerType,
        update_via_cache: crate::host::UpdateViaCache,
        reply: oneshot::Sender<Result<RegisterResolution, JobRejection>>,
    },
    Registrations {
        client: ContainerClient,
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
        reply: oneshot::Sender<Result<OpenedFrame, FrameError>>,
    },
    /// A frame was removed from its document: its client ends.
    CloseFrame { client_id: String },
    /// A page inserted a cross-origin frame: open it in a realm of its own.
    OpenRemoteFrame {
        parent_client_id: String,
        url: Url,
        reply: oneshot::Sender<Result<String, FrameError>>,
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
    /// A `NavigationPreloadManager` method of the registration with `scope`.
    NavigationPreload {
        scope: Url,
        action: NavigationPreloadAction,
        reply: oneshot::Sender<Result<NavigationPreloadState, JobRejection>>,
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
        worker_type: crate::worker_type::WorkerType,
        name: String,
        reply: oneshot::Sender<Result<RealmLink, WorkerStartError>>,
    },
    /// `new SharedWorker()`: connect the port in `message` to the shared
    /// worker of (origin, script URL, name), started if needed.
    ConnectSharedWorker {
        script_url: Url,
        worker_type: crate::worker_type::WorkerType,
        name: String,
        message: RealmMessage,
        reply: oneshot::Sender<Result<(), WorkerStartError>>,
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

/// What a `NavigationPreloadManager` method asks of its registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NavigationPreloadAction {
    /// `enable()` (true) or `disable()` (false).
    SetEnabled(bool),
    /// `setHeaderValue(value)`.
    SetHeaderValue(String),
    /// `getState()`.
    GetState,
}

/// The client a `ServiceWorkerContainer` belongs to, as its register jobs
/// and registration lookups name it.
#[derive(Debug, Clone)]
pub(crate) enum ContainerClient {
    /// A page or frame, by client id: it must still be open.
    Page(String),
    /// A service worker, by its script URL: its container belongs to the
    /// worker's own realm, which the host knows as a version, not a client.
    ServiceWorker(Url),
}

/// A registration's navigation preload state (`NavigationPreloadState`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NavigationPreloadState {
    /// Whether navigations send a preload request.
    pub enabled: bool,
    /// The `Service-Worker-Navigation-Preload` header's value.
    pub header_value: String,
}

impl Default for NavigationPreloadState {
    /// Service Workers: disabled, with the header value "true".
    fn default() -> Self {
        NavigationPreloadState {
            enabled: false,
            header_value: "true".into(),
        }
    }
}

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
    /// A window's ancestor origins (HTML `Location.ancestorOrigins`): the
    /// origins of its parent, its parent's parent, ..., nearest first.
    pub ancestor_origins: Vec<String>,
}
