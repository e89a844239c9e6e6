//! The worker thread: owns the isolate, evaluates the script, then runs the
//! event loop until the host stops it or a limit terminates it.

use std::future::poll_fn;
use std::rc::Rc;
use std::sync::Arc;

use deno_core::{v8, AsyncRefCell, JsRuntime, PollEventLoopOptions, RuntimeOptions};
use tokio::sync::{mpsc, oneshot};
use url::Url;

use super::{
    fail_pending, HostCommand, ImportedScripts, PendingEvents, RegistrationView, WorkerRequest,
    WorkerShared, WorkerSpec, WorkerView,
};
use crate::delegate::{HostDelegate, TerminationReason};
use crate::error::{HostError, ScriptError};
use crate::loader::ScriptLoader;

/// Everything the worker's ops need, kept in the isolate's `OpState`.
pub(crate) struct WorkerOpContext {
    pub script_url: Url,
    pub delegate: Arc<dyn HostDelegate>,
    pub http: reqwest::Client,
    pub loader: ScriptLoader,
    pub imports: Arc<ImportedScripts>,
    pub host_requests: mpsc::UnboundedSender<WorkerRequest>,
    pub commands: Rc<AsyncRefCell<mpsc::UnboundedReceiver<HostCommand>>>,
    pub pending: PendingEvents,
    pub registration: RegistrationView,
    pub version: WorkerView,
}

type Ready = oneshot::Sender<Result<v8::IsolateHandle, HostError>>;

pub(crate) fn run(
    spec: WorkerSpec,
    shared: Arc<WorkerShared>,
    commands: mpsc::UnboundedReceiver<HostCommand>,
    stop: oneshot::Receiver<()>,
    ready: Ready,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(HostError::Engine(format!("tokio runtime: {e}"))));
            return;
        }
    };
    runtime.block_on(run_worker(spec, shared.clone(), commands, stop, ready));
    fail_pending(&shared);
}

async fn run_worker(
    spec: WorkerSpec,
    shared: Arc<WorkerShared>,
    commands: mpsc::UnboundedReceiver<HostCommand>,
    mut stop: oneshot::Receiver<()>,
    ready: Ready,
) {
    let script_url = spec.script_url.clone();
    let delegate = spec.delegate.clone();
    let mut js = match create_runtime(&spec, &shared, commands) {
        Ok(js) => js,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let isolate = js.v8_isolate().thread_safe_handle();

    // Evaluate the classic script. Its time is bounded by the same budget as
    // an event: the watchdog isn't running yet, so arm a local timer thread.
    let evaluation = {
        let guard =
            EvaluationWatch::arm(isolate.clone(), spec.limits.event_timeout, shared.clone());
        shared.busy.enter();
        let result = js.execute_script(script_url.to_string(), spec.script_source.clone());
        shared.busy.leave();
        drop(guard);
        result
    };
    if let Err(error) = evaluation {
        let terminated = shared.termination.lock().unwrap().clone();
        let _ = ready.send(Err(match terminated {
            Some(reason) => HostError::Terminated {
                url: script_url.to_string(),
                reason,
            },
            None => HostError::Evaluation {
                url: script_url.to_string(),
                error: ScriptError::from_js_error(&error),
            },
        }));
        return;
    }
    if ready.send(Ok(isolate)).is_err() {
        return;
    }

    loop {
        let event_loop = poll_fn(|cx| {
            shared.busy.enter();
            let result = js.poll_event_loop(cx, PollEventLoopOptions::default());
            shared.busy.leave();
            result
        });
        tokio::select! {
            biased;
            _ = &mut stop => break,
            result = event_loop => match result {
                Ok(()) => {
                    // Nothing pending at all (the command loop returned):
                    // the host dropped its end.
                    break;
                }
                Err(error) => {
                    if shared.termination.lock().unwrap().is_some()
                        || shared.stopping.load(std::sync::atomic::Ordering::Acquire)
                    {
                        break;
                    }
                    // An exception nobody handled: report it and keep serving,
                    // as a browser's worker does.
                    let report = ScriptError::from_core_error(&error);
                    delegate.uncaught_error(&script_url, &report);
                }
            }
        }
    }
    if let Some(reason) = shared.termination.lock().unwrap().clone() {
        tracing::debug!(%script_url, %reason, "worker thread ends after termination");
    }
}

fn create_runtime(
    spec: &WorkerSpec,
    shared: &Arc<WorkerShared>,
    commands: mpsc::UnboundedReceiver<HostCommand>,
) -> Result<JsRuntime, HostError> {
    let heap_limit = spec.limits.heap_limit_bytes;
    let create_params = v8::CreateParams::default().heap_limits(0, heap_limit);
    let mut js = JsRuntime::try_new(RuntimeOptions {
        extensions: crate::extension::worker_extensions(spec.script_url.clone()),
        create_params: Some(create_params),
        ..Default::default()
    })
    .map_err(|e| HostError::Engine(e.to_string()))?;

    let isolate = js.v8_isolate().thread_safe_handle();
    let heap_shared = shared.clone();
    js.add_near_heap_limit_callback(move |current, _initial| {
        // Terminate this worker only; grant headroom so the engine can unwind.
        heap_shared.mark_terminated(TerminationReason::HeapLimitReached);
        isolate.terminate_execution();
        current.saturating_mul(2)
    });

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| HostError::Engine(format!("HTTP client: {e}")))?;
    js.op_state().borrow_mut().put(WorkerOpContext {
        script_url: spec.script_url.clone(),
        delegate: spec.delegate.clone(),
        http,
        loader: spec.loader.clone(),
        imports: spec.imports.clone(),
        host_requests: spec.host_requests.clone(),
        commands: Rc::new(AsyncRefCell::new(commands)),
        pending: shared.pending.clone(),
        registration: spec.registration.clone(),
        version: spec.version.clone(),
    });
    // The ESM entry point installed the globals; bootstrap reads OpState.
    js.execute_script(
        "ext:swrt/bootstrap",
        "globalThis[Symbol.for('swrt.bootstrap')]();",
    )
    .map_err(|e| HostError::Engine(format!("bootstrap failed: {e}")))?;
    Ok(js)
}

/// Bounds the top-level evaluation, which runs before the watchdog task exists.
struct EvaluationWatch {
    done: Option<std::sync::mpsc::Sender<()>>,
}

impl EvaluationWatch {
    fn arm(
        isolate: v8::IsolateHandle,
        budget: std::time::Duration,
        shared: Arc<WorkerShared>,
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
