//! A realm is one JavaScript isolate on its own thread with a current-thread
//! tokio runtime: a service worker or a page (window client). The rest of the
//! host talks to it only through channels: [`RealmHandle`] sends
//! [`HostCommand`]s; the realm answers through oneshot replies and the host
//! request channel ([`HostRequest`]).

mod contained;
mod context;
mod engine;
mod evaluate;
mod heap_limit;
mod messages;
mod module_loader;
mod prewarm;

mod thread;
mod watchdog;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use url::Url;

use crate::config::Limits;
use crate::delegate::{HostDelegate, TerminationReason};
use crate::error::{HostError, ScriptError};
use crate::loader::ScriptLoader;
use crate::sync::Locked;

pub(crate) use context::{
    ask_host, ClientWorkerContext, ClientWorkerKind, PageContext, RealmContext, WorkerContext,
};
pub use messages::{
    ClientInfo, EventOutcome, FetchEventResponse, HostCommand, ParentWindow, RegistrationView,
    WorkerView,
};
pub(crate) use messages::{
    ContainerClient, HostRequest, HostRequestSender, JobRejection, MatchAllOptions, MessageSender,
    NavigationPreloadAction, NavigationPreloadState, OpenedFrame, RealmMessage, RegisterResolution,
};
pub(crate) use prewarm::PrewarmedRealm;
pub(crate) use watchdog::BusyClock;

/// Scripts a worker version imported with `importScripts()`. Kept with the
/// version, not the thread, so a restarted worker reuses them: after install
/// only already-imported URLs may be imported again (Service Workers, importScripts).
#[derive(Debug, Default)]
pub struct ImportedScripts {
    pub(crate) scripts: Mutex<HashMap<String, String>>,
    pub(crate) install_finished: AtomicBool,
    /// Imports fetched while installing bypass the HTTP cache (the
    /// registration's `updateViaCache` is "none", or it is stale).
    pub(crate) bypass_http_cache: AtomicBool,
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
    /// The Cache API's store, for hosts with a data dir.
    pub caches: Option<crate::cache::ops::CacheStorageContext>,
    /// Background Sync's store and scheduler, for hosts with a data dir.
    pub background_sync: Option<crate::background_sync::BackgroundSyncContext>,
    /// The process's IndexedDB databases.
    pub indexeddb: Arc<swrt_indexeddb::Backend>,
    /// Host-name resolution (and which names count as trustworthy).
    pub resolver: Arc<crate::HostResolver>,
    /// The origin's BroadcastChannel bus, shared by its pages and workers.
    pub broadcast: deno_web::InMemoryBroadcastChannel,
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
    /// The realm's engine once it is bound, for its heap limit's callbacks.
    pub isolate_handle: std::sync::OnceLock<deno_core::v8::IsolateHandle>,
    /// Where the heap limit's enforcement stands (see `heap_limit`).
    pub heap: heap_limit::HeapLimitState,
}

impl RealmShared {
    /// Records why the realm is being terminated. Only the first reason
    /// counts and is reported to the delegate; returns true for that one.
    pub(crate) fn mark_terminated(&self, reason: TerminationReason) -> bool {
        let mut slot = self.termination.locked();
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
        self.termination.locked().is_some()
    }

    /// Puts a message in the mailbox; returns its id.
    pub(crate) fn stash_message(&self, message: RealmMessage) -> u64 {
        let id = self.next_message_id.fetch_add(1, Ordering::Relaxed);
        self.mailbox.locked().insert(id, message);
        id
    }

    /// Ends every open event with the termination reason (or "worker gone").
    pub(crate) fn fail_pending(&self) {
        let reason = self.termination.locked().clone();
        let pending: Vec<_> = self.pending.locked().drain().collect();
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
            self.shared.mailbox.locked().remove(&id);
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
        Self::start_in(spec, None).await
    }

    /// Like [`RealmHandle::start`], in `prewarmed` when given: its engine
    /// was created ahead of time, so only the binding and the script are
    /// left to do.
    pub(crate) async fn start_in(
        spec: RealmSpec,
        prewarmed: Option<PrewarmedRealm>,
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
            isolate_handle: std::sync::OnceLock::new(),
            heap: heap_limit::HeapLimitState::default(),
        });
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let (evaluated_tx, evaluated_rx) = oneshot::channel();
        let is_page = !matches!(spec.kind, RealmKind::Worker(_));
        let claim = thread::Claim {
            spec,
            shared: shared.clone(),
            commands: commands_rx,
            stop: stop_rx,
            ready: ready_tx,
            evaluated: evaluated_tx,
        };
        let thread = match prewarmed {
            Some(prewarmed) => prewarmed.claim(claim)?,
            None => std::thread::Builder::new()
                .name(format!("realm {url}"))
                .spawn(move || thread::run(claim))
                .map_err(|e| HostError::Engine(format!("cannot spawn a realm thread: {e}")))?,
        };
        let isolate = match ready_rx.await {
            Ok(Ok(isolate)) => isolate,
            Ok(Err(e)) => {
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
                return Err(e);
            }
            Err(_) => {
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
                let reason = shared.termination.locked().clone();
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
        self.shared.termination.locked().is_none()
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
        self.shared.pending.locked().insert(event_id, tx);
        let command = HostCommand::Dispatch {
            event_id,
            event_type: event_type.to_string(),
            data,
        };
        if !self.push(command) {
            self.shared.pending.locked().remove(&event_id);
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
        self.shared.pending.locked().insert(ack_id, tx);
        if !self.push(HostCommand::Registration {
            ack_id,
            registration,
        }) {
            self.shared.pending.locked().remove(&ack_id);
            return;
        }
        let _ = tokio::time::timeout(limit, rx).await;
        self.shared.pending.locked().remove(&ack_id);
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
        self.shared.bodies.locked().insert(id, body);
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
        match self.shared.termination.locked().clone() {
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
