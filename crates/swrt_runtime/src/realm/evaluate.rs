//! Evaluating a realm's script: a module service worker, a client worker,
//! a page or a document, each within its budget, polling the event loop
//! meanwhile.

use std::future::poll_fn;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use deno_core::{v8, JsRuntime, PollEventLoopOptions};
use futures::FutureExt;

use super::RealmShared;
use crate::delegate::TerminationReason;
use crate::error::ScriptError;

/// Loads a module service worker's graph (its static imports go into the
/// script resource map) and evaluates it within the evaluation budget.
pub(super) async fn evaluate_worker_module(
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
pub(super) async fn evaluate_client_worker(
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
pub(super) async fn evaluate_page(
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
pub(super) async fn load_document(
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
pub(super) async fn drive_until<F>(
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

/// Bounds a worker's top-level evaluation, which runs before the watchdog task exists.
pub(super) struct EvaluationWatch {
    done: Option<std::sync::mpsc::Sender<()>>,
}

impl EvaluationWatch {
    pub(super) fn arm(
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
