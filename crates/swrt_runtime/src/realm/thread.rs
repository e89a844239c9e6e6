//! The realm thread: owns the isolate, evaluates the script, then runs the
//! event loop until the host stops it or a limit terminates it.
//!
//! One file past 500 lines on purpose: every function here is a step of
//! the same thread's life driving the same `JsRuntime` (create it, evaluate,
//! poll the event loop, settle), and the polling rules they share (budgets,
//! what counts as pending work) read best side by side.

use std::future::poll_fn;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

use deno_core::{v8, AsyncRefCell, JsRuntime, PollEventLoopOptions, RuntimeOptions};
use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};

use super::module_loader::RealmModuleLoader;
use super::{HostCommand, RealmContext, RealmKind, RealmShared, RealmSpec};
use crate::delegate::TerminationReason;
use crate::error::{HostError, ScriptError};
use crate::worker_type::WorkerType;

pub(crate) type Ready = oneshot::Sender<Result<v8::IsolateHandle, HostError>>;
pub(crate) type Evaluated = oneshot::Sender<Result<(), ScriptError>>;

/// A realm's thread: creates the engine, then runs the claim's worker or page.
pub(crate) fn run(claim: Claim) {
    let runtime = match realm_tokio_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = claim.ready.send(Err(e));
            return;
        }
    };
    let shared = claim.shared.clone();
    runtime.block_on(async move {
        let engine = Engine::new(EngineParams::of(&claim.spec));
        run_claimed(engine, claim).await
    });
    shared.fail_pending();
}

/// A prewarmed realm's thread: creates the engine, then waits for the
/// worker it will run. Ends without running anything if the claim never
/// comes (the host dropped it).
pub(crate) fn run_prewarmed(params: EngineParams, claims: oneshot::Receiver<Claim>) {
    let runtime = match realm_tokio_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            // Whoever claims this realm gets the error.
            if let Ok(claim) = futures::executor::block_on(claims) {
                let _ = claim.ready.send(Err(e));
            }
            return;
        }
    };
    runtime.block_on(async move {
        let engine = Engine::new(params);
        let Ok(claim) = claims.await else {
            return;
        };
        let shared = claim.shared.clone();
        run_claimed(engine, claim).await;
        shared.fail_pending();
    });
}

fn realm_tokio_runtime() -> Result<tokio::runtime::Runtime, HostError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| HostError::Engine(format!("tokio runtime: {e}")))
}

/// Everything a realm thread needs to run one worker or page once its
/// engine exists.
pub(crate) struct Claim {
    pub spec: RealmSpec,
    pub shared: Arc<RealmShared>,
    pub commands: mpsc::UnboundedReceiver<HostCommand>,
    pub stop: oneshot::Receiver<()>,
    pub ready: Ready,
    pub evaluated: Evaluated,
}

async fn run_claimed(engine: Result<Engine, HostError>, claim: Claim) {
    let Claim {
        spec,
        shared,
        commands,
        stop,
        ready,
        evaluated,
    } = claim;
    let engine = match engine {
        Ok(engine) => engine,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    run_realm(engine, spec, shared, commands, stop, ready, evaluated).await
}

async fn run_realm(
    engine: Engine,
    spec: RealmSpec,
    shared: Arc<RealmShared>,
    commands: mpsc::UnboundedReceiver<HostCommand>,
    mut stop: oneshot::Receiver<()>,
    ready: Ready,
    evaluated: Evaluated,
) {
    let url = spec.url.clone();
    let source = spec.source.clone();
    let budget = spec.limits.event_timeout;
    let is_page = matches!(spec.kind, RealmKind::Page(_));
    let is_client_worker = matches!(spec.kind, RealmKind::ClientWorker(_));
    let is_document = matches!(&spec.kind, RealmKind::Page(page) if page.document);
    let module_choice = match &spec.kind {
        RealmKind::Page(page) => page.module,
        RealmKind::Worker(worker) => Some(worker.worker_type == WorkerType::Module),
        RealmKind::ClientWorker(worker) => Some(worker.worker_type == WorkerType::Module),
    };
    let mut spec = spec;
    let start_gate = match &mut spec.kind {
        RealmKind::Page(page) => page.start_gate.take(),
        RealmKind::Worker(_) => None,
        RealmKind::ClientWorker(worker) => worker.start_gate.take(),
    };
    let mut js = match bind_engine(engine, spec, &shared, commands) {
        Ok(js) => js,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let isolate = js.v8_isolate().thread_safe_handle();

    if is_page {
        // A page is usable (messages, registrations) while its script runs.
        if ready.send(Ok(isolate.clone())).is_err() {
            return;
        }
        if let Some(gate) = start_gate {
            if gate.await.is_err() {
                return;
            }
        }
        let result = tokio::select! {
            biased;
            _ = &mut stop => return,
            result = async {
                if is_document {
                    load_document(&mut js, &shared, source).await
                } else {
                    evaluate_page(&mut js, &shared, &url, source, module_choice, budget).await
                }
            } => result,
        };
        // A page is done once its script ran and nothing it scheduled is
        // left (timers, fetches, host requests): what a reader of the script
        // expects to see before the run ends.
        let result = match result {
            Ok(()) => tokio::select! {
                biased;
                _ = &mut stop => return,
                _ = settle(&mut js, &shared) => Ok(()),
            },
            Err(e) => Err(e),
        };
        let _ = evaluated.send(result);
    } else if is_client_worker {
        // Like a page, a worker is usable (messages queue) while its script
        // loads and runs.
        if ready.send(Ok(isolate.clone())).is_err() {
            return;
        }
        if let Some(gate) = start_gate {
            if gate.await.is_err() {
                return;
            }
        }
        let result = tokio::select! {
            biased;
            _ = &mut stop => return,
            result = evaluate_client_worker(&mut js, &shared, &url, source, module_choice == Some(true)) => result,
        };
        if let Err(error) = &result {
            if !shared.is_terminated() {
                shared.delegate.uncaught_error(&url, error);
                crate::workers::ops::forward_error(&js.op_state().borrow(), error);
            }
        }
        // HTML, run a worker: the port message queue is enabled once the
        // script ran; messages that came earlier were held until now.
        if let Err(error) = js.execute_script(
            "ext:swrt/worker-started",
            "globalThis[Symbol.for('swrt.workerStarted')]?.()",
        ) {
            tracing::debug!(%url, "worker start hook: {error}");
        }
        let _ = evaluated.send(result);
    } else {
        // A worker's script must evaluate before install; a script that
        // never yields is bounded by the same budget as an event (the
        // watchdog task starts only after `ready`).
        let evaluated = if module_choice == Some(true) {
            evaluate_worker_module(&mut js, &shared, &url, source, isolate.clone(), budget).await
        } else {
            let guard = EvaluationWatch::arm(isolate.clone(), budget, shared.clone());
            let started = std::time::Instant::now();
            shared.busy.enter();
            let result = js.execute_script(url.to_string(), source);
            shared.busy.leave();
            drop(guard);
            tracing::debug!(%url, ms = started.elapsed().as_secs_f64() * 1e3, "worker script evaluated");
            result.map(drop).map_err(|e| ScriptError::from_js_error(&e))
        };
        if let Err(error) = evaluated {
            let terminated = shared.termination.lock().unwrap().clone();
            let _ = ready.send(Err(match terminated {
                Some(reason) => HostError::Terminated {
                    url: url.to_string(),
                    reason,
                },
                None => HostError::Evaluation {
                    url: url.to_string(),
                    error,
                },
            }));
            return;
        }
        // Service Workers "set of event types to handle": the listeners the
        // script added while it was evaluated decide whether, say, a fetch
        // event is worth waking the worker for.
        let has_fetch = js
            .execute_script(
                "ext:swrt/handled-events",
                "globalThis[Symbol.for('swrt.hasFetchHandler')]?.() === true",
            )
            .map(|value| {
                deno_core::scope!(scope, &mut js);
                let value = deno_core::v8::Local::new(scope, value);
                value.is_true()
            })
            .unwrap_or(true);
        shared
            .has_fetch_handler
            .store(has_fetch, std::sync::atomic::Ordering::Release);
        if ready.send(Ok(isolate)).is_err() {
            return;
        }
    }

    let stats = js.runtime_activity_stats_factory();
    loop {
        let event_loop = poll_fn(|cx| {
            shared
                .turns
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            shared.busy.enter();
            let result = js.poll_event_loop(cx, PollEventLoopOptions::default());
            shared.busy.leave();
            // A page or worker client keeps a run alive while it has work of
            // its own.
            if (is_page || is_client_worker) && result.is_pending() {
                shared.has_pending_work.store(
                    has_pending_activity(&stats),
                    std::sync::atomic::Ordering::Release,
                );
            }
            // The engine may absorb a termination as an ordinary exception
            // inside a promise job (QuickJS's out-of-memory error does), so
            // the loop would idle with the event unsettled: the realm is
            // dead either way.
            if shared.is_terminated() {
                return Poll::Ready(Ok(()));
            }
            result
        });
        tokio::select! {
            biased;
            _ = &mut stop => break,
            result = event_loop => match result {
                // Nothing pending at all: the host dropped its end.
                Ok(()) => break,
                Err(error) => {
                    if shared.is_terminated()
                        || shared.stopping.load(std::sync::atomic::Ordering::Acquire)
                    {
                        break;
                    }
                    // An exception nobody handled: report it and keep serving,
                    // as a browser's realm does.
                    let error = ScriptError::from_core_error(&error);
                    shared.delegate.uncaught_error(&url, &error);
                    crate::workers::ops::forward_error(&js.op_state().borrow(), &error);
                }
            }
        }
    }
    if let Some(reason) = shared.termination.lock().unwrap().clone() {
        tracing::debug!(%url, %reason, "realm thread ends after termination");
    }
}

/// Loads a module service worker's graph (its static imports go into the
/// script resource map) and evaluates it within the evaluation budget.
async fn evaluate_worker_module(
    js: &mut JsRuntime,
    shared: &Arc<RealmShared>,
    url: &url::Url,
    source: String,
    isolate: v8::IsolateHandle,
    budget: std::time::Duration,
) -> Result<(), ScriptError> {
    let id = js
        .load_main_es_module_from_code(url, source)
        .await
        .map_err(|e| ScriptError::from_core_error(&e))?;
    let guard = EvaluationWatch::arm(isolate, budget, shared.clone());
    shared.busy.enter();
    // Evaluation runs the module body and a microtask checkpoint.
    let evaluation = js.mod_evaluate(id);
    shared.busy.leave();
    drop(guard);
    let mut evaluation = std::pin::pin!(evaluation);
    let finished = evaluation
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    // A throw leaves the module errored (the evaluation future itself only
    // says that evaluation ended).
    js.get_module_namespace(id)
        .map_err(|e| ScriptError::from_core_error(&e))?;
    match finished {
        Poll::Ready(result) => result.map_err(|e| ScriptError::from_core_error(&e)),
        // Service Workers, Run Service Worker: a module whose evaluation
        // waits (top-level await) is not a valid worker, as in Chromium.
        Poll::Pending => Err(ScriptError::plain(
            "TypeError: top-level await is disallowed in service workers \
             (the module's evaluation did not complete synchronously)",
        )),
    }
}

/// Runs a dedicated or shared worker's script: a classic script, or a
/// module graph (whose top-level await may wait, unlike a service worker's).
async fn evaluate_client_worker(
    js: &mut JsRuntime,
    shared: &Arc<RealmShared>,
    url: &url::Url,
    source: String,
    module: bool,
) -> Result<(), ScriptError> {
    if !module {
        shared.busy.enter();
        let result = js.execute_script(url.to_string(), source);
        shared.busy.leave();
        return result.map(drop).map_err(|e| ScriptError::from_js_error(&e));
    }
    let id = js
        .load_main_es_module_from_code(url, source)
        .await
        .map_err(|e| ScriptError::from_core_error(&e))?;
    let evaluation = js
        .mod_evaluate(id)
        .map(|r| r.map_err(|e| ScriptError::from_core_error(&e)));
    drive_until(js, shared, evaluation).await
}

/// Runs a page's script to the end of its evaluation, top-level await
/// included, while the event loop keeps running.
async fn evaluate_page(
    js: &mut JsRuntime,
    shared: &Arc<RealmShared>,
    url: &url::Url,
    source: String,
    module: Option<bool>,
    _budget: std::time::Duration,
) -> Result<(), ScriptError> {
    // A classic script that does not parse may be a module (import, export,
    // top-level await): try that before reporting the classic parse error.
    let mut classic_error = None;
    if module != Some(true) {
        shared.busy.enter();
        let result = js.execute_script(url.to_string(), source.clone());
        shared.busy.leave();
        match result {
            Ok(_) => return Ok(()),
            Err(error) => {
                let report = ScriptError::from_js_error(&error);
                if module.is_some() || !report.message.contains("SyntaxError") {
                    return Err(report);
                }
                classic_error = Some(report);
            }
        }
    }
    let id = match js.load_main_es_module_from_code(url, source).await {
        Ok(id) => id,
        Err(error) => {
            let report = ScriptError::from_core_error(&error);
            // Neither parses: the classic error is the one the author expects.
            return Err(match classic_error {
                Some(classic) if report.message.contains("SyntaxError") => classic,
                _ => report,
            });
        }
    };
    tracing::debug!(%url, "running the client script as a module");
    let evaluation = js
        .mod_evaluate(id)
        .map(|r| r.map_err(|e| ScriptError::from_core_error(&e)));
    drive_until(js, shared, evaluation).await
}

/// Loads an HTML page into the realm's document: parsing, its scripts, and
/// the events up to `load`. Script errors are reported as they happen (a
/// page goes on after a failing script), so this fails only when the realm
/// itself does.
async fn load_document(
    js: &mut JsRuntime,
    shared: &Arc<RealmShared>,
    html: String,
) -> Result<(), ScriptError> {
    let call = format!(
        "globalThis[Symbol.for('swrt.loadDocument')]({})",
        serde_json::to_string(&html).unwrap_or_else(|_| "''".into())
    );
    shared.busy.enter();
    let promise = js.execute_script("ext:swrt/load-document", call);
    shared.busy.leave();
    let promise = promise.map_err(|e| ScriptError::from_js_error(&e))?;
    let loaded = js
        .resolve(promise)
        .map(|r| r.map(drop).map_err(|e| ScriptError::from_js_error(&e)));
    drive_until(js, shared, loaded).await
}

/// Polls `fut` and the event loop together until `fut` resolves.
async fn drive_until<F>(
    js: &mut JsRuntime,
    shared: &Arc<RealmShared>,
    fut: F,
) -> Result<(), ScriptError>
where
    F: std::future::Future<Output = Result<(), ScriptError>>,
{
    let mut fut = std::pin::pin!(fut);
    poll_fn(|cx| {
        if let Poll::Ready(result) = fut.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        shared.busy.enter();
        let result = js.poll_event_loop(cx, PollEventLoopOptions::default());
        shared.busy.leave();
        if shared.is_terminated() {
            return Poll::Ready(Err(ScriptError::plain("the page was terminated")));
        }
        if let Poll::Ready(Err(error)) = result {
            shared
                .delegate
                .uncaught_error(&shared.url, &ScriptError::from_core_error(&error));
            cx.waker().wake_by_ref();
        }
        // The event loop may just have settled the evaluation promise: look
        // again before sleeping, or nothing would wake us.
        if let Poll::Ready(result) = fut.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        // Otherwise the loop is idle with the evaluation still pending (a
        // top-level await nothing will settle) or waiting for I/O; keep
        // waiting (the host's --timeout reports it).
        Poll::Pending
    })
    .await
}

/// Polls the event loop until the only activity left is the host command loop.
async fn settle(js: &mut JsRuntime, shared: &Arc<RealmShared>) {
    let stats = js.runtime_activity_stats_factory();
    poll_fn(|cx| {
        shared.busy.enter();
        let result = js.poll_event_loop(cx, PollEventLoopOptions::default());
        shared.busy.leave();
        if shared.is_terminated() {
            return Poll::Ready(());
        }
        if let Poll::Ready(Err(error)) = result {
            shared
                .delegate
                .uncaught_error(&shared.url, &ScriptError::from_core_error(&error));
        }
        if has_pending_activity(&stats) {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await
}

/// Whether the realm's event loop has more than listeners left: timers,
/// fetches and other ops. Waiting for host commands, for messages on a
/// MessagePort or for a BroadcastChannel is listening: those only matter
/// once something is sent, and a sent message counts on the sender's side.
/// So is a `BackgroundFetchRegistration` waiting for its fetch's progress.
fn has_pending_activity(stats: &deno_core::stats::RuntimeActivityStatsFactory) -> bool {
    let filter = deno_core::stats::RuntimeActivityStatsFilter::all();
    stats
        .clone()
        .capture(&filter)
        .dump()
        .active
        .iter()
        .any(|activity| match activity {
            deno_core::stats::RuntimeActivity::AsyncOp(_, _, name) => !matches!(
                *name,
                "op_swrt_next_command"
                    | "op_message_port_recv_message"
                    | "op_broadcast_recv"
                    | "op_swrt_bgfetch_watch_next"
            ),
            deno_core::stats::RuntimeActivity::Resource(..) => false,
            _ => true,
        })
}

/// The process-wide store that carries transferred ArrayBuffers from one
/// realm to another.
fn transferred_buffers() -> &'static deno_core::SharedArrayBufferStore {
    static STORE: std::sync::OnceLock<deno_core::SharedArrayBufferStore> =
        std::sync::OnceLock::new();
    STORE.get_or_init(Default::default)
}

/// What an engine is created with: what the realm kind's extensions need,
/// and nothing that names the worker or page it will run.
pub(crate) struct EngineParams {
    pub kind: EngineKind,
    pub heap_limit_bytes: usize,
}

/// Which global scope the engine's extensions build.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum EngineKind {
    ServiceWorker,
    Page,
    ClientWorker(super::ClientWorkerKind),
}

impl EngineParams {
    pub(crate) fn of(spec: &RealmSpec) -> EngineParams {
        EngineParams {
            kind: match &spec.kind {
                RealmKind::Page(_) => EngineKind::Page,
                RealmKind::Worker(_) => EngineKind::ServiceWorker,
                RealmKind::ClientWorker(worker) => EngineKind::ClientWorker(worker.kind),
            },
            heap_limit_bytes: spec.limits.heap_limit_bytes,
        }
    }
}

/// An engine with its extensions and platform JavaScript loaded, not yet
/// bound to a worker or page: no script has run in it.
pub(crate) struct Engine {
    js: JsRuntime,
    modules: Rc<std::cell::OnceCell<super::module_loader::ModuleBinding>>,
    created_in: std::time::Duration,
}

impl Engine {
    pub(crate) fn new(params: EngineParams) -> Result<Engine, HostError> {
        // Start-up phases are logged with their durations (RUST_LOG=
        // swrt_runtime::realm=debug): where a worker's start goes.
        let started = std::time::Instant::now();
        let create_params = v8::CreateParams::default().heap_limits(0, params.heap_limit_bytes);
        // The location and the BroadcastChannel bus are bound with the
        // realm's worker or page (see `bind_engine`).
        let broadcast = deno_web::InMemoryBroadcastChannel::default();
        let extensions = match params.kind {
            EngineKind::Page => crate::extension::page_extensions(broadcast),
            EngineKind::ServiceWorker => crate::extension::worker_extensions(broadcast),
            EngineKind::ClientWorker(kind) => {
                crate::extension::client_worker_extensions(broadcast, kind)
            }
        };
        let loader = RealmModuleLoader::default();
        let modules = loader.binding.clone();
        let js = JsRuntime::try_new(RuntimeOptions {
            extensions,
            create_params: Some(create_params),
            // ArrayBuffers in a postMessage transfer list move between realms
            // (threads) through this store.
            shared_array_buffer_store: Some(transferred_buffers().clone()),
            module_loader: Some(Rc::new(loader)),
            ..Default::default()
        })
        .map_err(|e| HostError::Engine(e.to_string()))?;
        Ok(Engine {
            js,
            modules,
            created_in: started.elapsed(),
        })
    }
}

/// Gives `engine` its worker or page: the module loader, location,
/// BroadcastChannel bus, limits and host links, then runs the global scope's
/// bootstrap.
fn bind_engine(
    engine: Engine,
    spec: RealmSpec,
    shared: &Arc<RealmShared>,
    commands: mpsc::UnboundedReceiver<HostCommand>,
) -> Result<JsRuntime, HostError> {
    let started = std::time::Instant::now();
    let Engine {
        mut js,
        modules,
        created_in,
    } = engine;
    let inline_modules = crate::document::InlineModules::default();
    let bound = modules.set(super::module_loader::ModuleBinding {
        loader: spec.loader.clone(),
        worker_imports: match &spec.kind {
            RealmKind::Worker(worker) => Some(worker.imports.clone()),
            RealmKind::Page(_) | RealmKind::ClientWorker(_) => None,
        },
        inline_modules: inline_modules.clone(),
    });
    if bound.is_err() {
        return Err(HostError::Engine("the engine already runs a realm".into()));
    }

    let isolate = js.v8_isolate().thread_safe_handle();
    let heap_shared = shared.clone();
    js.add_near_heap_limit_callback(move |current, _initial| {
        // Terminate this realm only, and raise nothing: the engine calls
        // this near the limit and refuses allocations an eighth past it,
        // which leaves room to unwind. Script that keeps
        // allocating after its termination was requested (on QuickJS,
        // deno_core cancels a pending termination while it turns an
        // exception into an error) gets out-of-memory errors at that cap
        // instead of a bigger heap.
        heap_shared.mark_terminated(TerminationReason::HeapLimitReached);
        isolate.terminate_execution();
        current
    });

    let http = spec
        .resolver
        .apply(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()))
        .build()
        .map_err(|e| HostError::Engine(format!("HTTP client: {e}")))?;
    {
        let op_state = js.op_state();
        let mut op_state = op_state.borrow_mut();
        // deno_web reads these: the origin of blob: URLs, and the bus of
        // the realm's origin.
        op_state.put(deno_web::Location(spec.url.clone()));
        op_state.put(spec.broadcast.clone());
        op_state.put(RealmContext {
            url: spec.url.clone(),
            delegate: spec.delegate.clone(),
            http,
            loader: spec.loader.clone(),
            host_requests: spec.host_requests.clone(),
            commands: Rc::new(AsyncRefCell::new(commands)),
            pending: shared.pending.clone(),
            shared: shared.clone(),
            secure_context: crate::resolver::is_potentially_trustworthy(&spec.url, &spec.resolver),
        });
        op_state.put(inline_modules);
        op_state.put(crate::document::frames::FrameRealms::default());
        if let Some(context) = spec.background_fetch.clone() {
            op_state.put(context);
        }
        if let Some(caches) = spec.caches.clone() {
            op_state.put(caches);
        }
        match spec.kind {
            RealmKind::Worker(worker) => op_state.put(worker),
            RealmKind::Page(page) => op_state.put(page),
            RealmKind::ClientWorker(worker) => op_state.put(worker),
        }
    }
    // The entry script defined the bootstrap; it reads OpState.
    js.execute_script(
        "ext:swrt/bootstrap",
        "globalThis[Symbol.for('swrt.bootstrap')]();",
    )
    .map_err(|e| HostError::Engine(format!("bootstrap failed: {e}")))?;
    tracing::debug!(
        url = %shared.url,
        engine_ms = created_in.as_secs_f64() * 1e3,
        bootstrap_ms = started.elapsed().as_secs_f64() * 1e3,
        "realm created: the engine with its extensions, then the global scope's JavaScript"
    );
    Ok(js)
}

/// Bounds a worker's top-level evaluation, which runs before the watchdog task exists.
struct EvaluationWatch {
    done: Option<std::sync::mpsc::Sender<()>>,
}

impl EvaluationWatch {
    fn arm(
        isolate: v8::IsolateHandle,
        budget: std::time::Duration,
        shared: Arc<RealmShared>,
    ) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(budget) {
                shared.mark_terminated(TerminationReason::TimeBudgetExceeded);
                isolate.terminate_execution();
            }
        });
        EvaluationWatch { done: Some(tx) }
    }
}

impl Drop for EvaluationWatch {
    fn drop(&mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
    }
}
