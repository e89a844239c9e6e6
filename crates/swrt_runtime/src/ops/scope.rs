//! Ops of the ServiceWorkerGlobalScope: the host command loop, event lifetime
//! reports, `importScripts()`, `skipWaiting()`, `clients`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use deno_core::{op2, OpState};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::error::ScriptError;
use crate::worker::{
    ClientInfo, EventOutcome, HostCommand, MatchAllOptions, RegistrationView, WorkerOpContext,
    WorkerRequest, WorkerView,
};

#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub(crate) enum ScopeError {
    #[class("DOMExceptionNetworkError")]
    #[error("Failed to execute 'importScripts': {0}")]
    ImportNetwork(String),
    #[class(type)]
    #[error("Failed to execute 'importScripts': {0}")]
    ImportUrl(String),
    #[class("DOMExceptionInvalidStateError")]
    #[error("{0}")]
    InvalidState(String),
    #[class(type)]
    #[error("{0}")]
    Type(String),
}

/// Boot data for the worker's JavaScript.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkerBootInfo {
    script_url: String,
    registration: RegistrationView,
    version: WorkerView,
}

#[op2]
#[serde]
pub(crate) fn op_swrt_worker_info(state: &mut OpState) -> WorkerBootInfo {
    let ctx = state.borrow::<WorkerOpContext>();
    WorkerBootInfo {
        script_url: ctx.script_url.to_string(),
        registration: ctx.registration.clone(),
        version: ctx.version.clone(),
    }
}

/// The next command from the host. The JS command loop awaits this forever;
/// `None` means the host dropped the worker.
#[op2]
#[serde]
pub(crate) async fn op_swrt_next_command(state: Rc<RefCell<OpState>>) -> Option<HostCommand> {
    let commands = state.borrow().borrow::<WorkerOpContext>().commands.clone();
    let mut commands = commands.borrow_mut().await;
    commands.recv().await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SettleReport {
    /// `completed`, `threw` or `rejected`.
    status: String,
    message: Option<String>,
    stack: Option<String>,
}

/// The event's lifetime ended (ExtendableEvent: no pending promises left).
#[op2]
pub(crate) fn op_swrt_event_settled(
    state: &mut OpState,
    #[number] event_id: u64,
    #[serde] report: SettleReport,
) {
    let ctx = state.borrow::<WorkerOpContext>();
    let Some(reply) = ctx.pending.lock().unwrap().remove(&event_id) else {
        return;
    };
    let error = || {
        ScriptError::from_js_report(
            report
                .message
                .clone()
                .unwrap_or_else(|| "unknown error".into()),
            report.stack.clone(),
            None,
        )
    };
    let outcome = match report.status.as_str() {
        "threw" => EventOutcome::ListenerThrew(error()),
        "rejected" => EventOutcome::Rejected(error()),
        _ => EventOutcome::Completed,
    };
    let _ = reply.send(outcome);
}

/// An exception no listener handled (HTML "report the exception"), or an
/// unhandled promise rejection. The worker keeps running; the host decides.
#[op2]
pub(crate) fn op_swrt_report_uncaught(
    state: &mut OpState,
    #[string] message: String,
    #[string] stack: Option<String>,
    #[string] location: Option<String>,
) {
    let ctx = state.borrow::<WorkerOpContext>();
    let error = ScriptError::from_js_report(message, stack, location);
    ctx.delegate.uncaught_error(&ctx.script_url, &error);
}

/// `importScripts(...urls)`: fetches every URL first (synchronously, as the
/// spec requires), then returns the sources in order for JS to evaluate.
#[op2]
#[serde]
pub(crate) fn op_swrt_import_scripts(
    state: &mut OpState,
    #[serde] urls: Vec<String>,
) -> Result<Vec<(String, String)>, ScopeError> {
    let ctx = state.borrow::<WorkerOpContext>();
    let mut resolved = Vec::with_capacity(urls.len());
    for raw in &urls {
        let url = ctx
            .script_url
            .join(raw)
            .map_err(|_| ScopeError::ImportUrl(format!("the URL '{raw}' is invalid")))?;
        resolved.push(url);
    }
    let mut sources = Vec::with_capacity(resolved.len());
    for url in resolved {
        let key = url.to_string();
        if let Some(text) = ctx.imports.scripts.lock().unwrap().get(&key) {
            sources.push((key, text.clone()));
            continue;
        }
        // Service Workers §importScripts: after installation only scripts
        // already in the script resource map may be imported.
        if ctx.imports.install_finished.load(Ordering::Acquire) {
            return Err(ScopeError::ImportNetwork(format!(
                "the script at '{key}' was not imported during installation"
            )));
        }
        let script = ctx.loader.fetch_blocking(&url).map_err(|e| {
            ScopeError::ImportNetwork(format!("the script at '{key}' failed to load: {e}"))
        })?;
        ctx.imports
            .scripts
            .lock()
            .unwrap()
            .insert(key.clone(), script.text.clone());
        sources.push((script.url.to_string(), script.text));
    }
    Ok(sources)
}

#[op2]
pub(crate) async fn op_swrt_skip_waiting(state: Rc<RefCell<OpState>>) {
    let (tx, rx) = oneshot::channel();
    {
        let state = state.borrow();
        let ctx = state.borrow::<WorkerOpContext>();
        let _ = ctx.host_requests.send(WorkerRequest::SkipWaiting {
            script_url: ctx.script_url.clone(),
            reply: tx,
        });
    }
    let _ = rx.await;
}

#[op2]
pub(crate) async fn op_swrt_clients_claim(state: Rc<RefCell<OpState>>) -> Result<(), ScopeError> {
    let (tx, rx) = oneshot::channel();
    {
        let state = state.borrow();
        let ctx = state.borrow::<WorkerOpContext>();
        let _ = ctx.host_requests.send(WorkerRequest::Claim {
            script_url: ctx.script_url.clone(),
            reply: tx,
        });
    }
    match rx.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(ScopeError::InvalidState(message)),
        Err(_) => Err(ScopeError::InvalidState("the host has shut down".into())),
    }
}

/// `clients.openWindow(url)`: the host decides; resolves true if it opened one.
#[op2]
pub(crate) async fn op_swrt_open_window(
    state: Rc<RefCell<OpState>>,
    #[string] url: String,
) -> Result<bool, ScopeError> {
    let (tx, rx) = oneshot::channel();
    {
        let state = state.borrow();
        let ctx = state.borrow::<WorkerOpContext>();
        let url = ctx.script_url.join(&url).map_err(|_| {
            ScopeError::Type(format!(
                "Failed to execute 'openWindow': invalid URL '{url}'"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") && url.as_str() != "about:blank" {
            return Err(ScopeError::Type(format!(
                "Failed to execute 'openWindow': '{url}' is not an http(s) URL"
            )));
        }
        let _ = ctx.host_requests.send(WorkerRequest::OpenWindow {
            script_url: ctx.script_url.clone(),
            url,
            reply: tx,
        });
    }
    Ok(rx.await.unwrap_or(false))
}

/// `clients.matchAll()`: the host knows every client of the origin.
#[op2]
#[serde]
pub(crate) async fn op_swrt_clients_match_all(
    state: Rc<RefCell<OpState>>,
    #[serde] options: MatchAllOptions,
) -> Vec<ClientInfo> {
    let (tx, rx) = oneshot::channel();
    {
        let state = state.borrow();
        let ctx = state.borrow::<WorkerOpContext>();
        let _ = ctx.host_requests.send(WorkerRequest::MatchAll {
            script_url: ctx.script_url.clone(),
            options,
            reply: tx,
        });
    }
    rx.await.unwrap_or_default()
}
