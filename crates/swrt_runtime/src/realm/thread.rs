//! The realm thread: owns the isolate, evaluates the script, then runs the
//! event loop until the host stops it or a limit terminates it.
//!
//! The engine's creation and binding live in `engine.rs`, the script's
//! evaluation in `evaluate.rs`.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

use deno_core::{v8, JsRuntime, PollEventLoopOptions};
use tokio::sync::{mpsc, oneshot};

use super::contained::run_contained;
use super::engine::{bind_engine, Engine, EngineParams};
use super::evaluate::{
    evaluate_client_worker, evaluate_page, evaluate_worker_module, load_document, EvaluationWatch,
};
use super::{HostCommand, RealmKind, RealmShared, RealmSpec};
use crate::error::{HostError, ScriptError};
use crate::sync::Locked;
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
    runtime.block_on(async {
        let engine = Engine::new(EngineParams::of(&claim.spec));
        run_contained(&shared, run_claimed(engine, claim)).await
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
        run_contained(&shared, run_claimed(engine, claim)).await;
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
            let terminated = shared.termination.locked().clone();
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
            super::heap_limit::collect_if_requested(&mut js, &shared);
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
    if let Some(reason) = shared.termination.locked().clone() {
        tracing::debug!(%url, %reason, "realm thread ends after termination");
    }
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
/// MessagePort, a BroadcastChannel or an IndexedDB `versionchange` is
/// listening: those only matter once something is sent, and a sent message
/// counts on the sender's side. So is a `BackgroundFetchRegistration`
/// waiting for its fetch's progress.
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
                    | "op_idb_versionchange_next"
                    | "op_swrt_bgfetch_watch_next"
            ),
            deno_core::stats::RuntimeActivity::Resource(..) => false,
            _ => true,
        })
}
