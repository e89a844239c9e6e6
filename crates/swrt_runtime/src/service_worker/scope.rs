//! Ops of the ServiceWorkerGlobalScope: `importScripts()`, `skipWaiting()`,
//! `clients` and `Client.postMessage()`.

use crate::realm::ask_host;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use deno_core::{op2, JsBuffer, OpState};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::realm::{
    ClientInfo, HostRequest, MatchAllOptions, RealmContext, RegistrationView, WorkerContext,
    WorkerView,
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
    secure_context: bool,
    csp: Vec<String>,
}

#[op2]
#[serde]
pub(crate) fn op_swrt_worker_info(state: &mut OpState) -> WorkerBootInfo {
    let worker = state.borrow::<WorkerContext>();
    WorkerBootInfo {
        script_url: state.borrow::<RealmContext>().url.to_string(),
        registration: worker.registration.clone(),
        version: worker.version.clone(),
        secure_context: state.borrow::<RealmContext>().secure_context,
        csp: worker.csp.clone(),
    }
}

/// `importScripts(...urls)`: fetches every URL first (synchronously, as the
/// spec requires), then returns the sources in order for JS to evaluate.
#[op2]
#[serde]
pub(crate) fn op_swrt_import_scripts(
    state: &mut OpState,
    #[serde] urls: Vec<String>,
) -> Result<Vec<(String, String)>, ScopeError> {
    let ctx = state.borrow::<RealmContext>();
    let worker = state.borrow::<WorkerContext>();
    // HTML, importScripts(): a module worker's global throws TypeError.
    if worker.worker_type == crate::host::WorkerType::Module {
        return Err(ScopeError::ImportUrl(
            "Module scripts don't support importScripts().".into(),
        ));
    }
    let imports = &worker.imports;
    let mut resolved = Vec::with_capacity(urls.len());
    for raw in &urls {
        let url = ctx
            .url
            .join(raw)
            .map_err(|_| ScopeError::ImportUrl(format!("the URL '{raw}' is invalid")))?;
        resolved.push(url);
    }
    let mut sources = Vec::with_capacity(resolved.len());
    for url in resolved {
        let key = url.to_string();
        if let Some(text) = imports.scripts.lock().unwrap().get(&key) {
            sources.push((key, text.clone()));
            continue;
        }
        // Service Workers, importScripts: after installation only scripts
        // already in the script resource map may be imported.
        if imports.install_finished.load(Ordering::Acquire) {
            return Err(ScopeError::ImportNetwork(format!(
                "the script at '{key}' was not imported during installation"
            )));
        }
        let script = ctx.loader.fetch_blocking(&url).map_err(|e| {
            ScopeError::ImportNetwork(format!("the script at '{key}' failed to load: {e}"))
        })?;
        imports
            .scripts
            .lock()
            .unwrap()
            .insert(key.clone(), script.text.clone());
        sources.push((script.url.to_string(), script.text));
    }
    Ok(sources)
}

/// The id of the worker version this realm runs.
fn own_version(state: &Rc<RefCell<OpState>>) -> u64 {
    state.borrow().borrow::<WorkerContext>().version.id
}

#[op2]
pub(crate) async fn op_swrt_skip_waiting(state: Rc<RefCell<OpState>>) {
    let version_id = own_version(&state);
    ask_host(&state, |_, reply| HostRequest::SkipWaiting {
        version_id,
        reply,
    })
    .await;
}

#[op2]
pub(crate) async fn op_swrt_clients_claim(state: Rc<RefCell<OpState>>) -> Result<(), ScopeError> {
    let version_id = own_version(&state);
    match ask_host(&state, |_, reply| HostRequest::Claim { version_id, reply }).await {
        Some(Ok(())) => Ok(()),
        Some(Err(message)) => Err(ScopeError::InvalidState(message)),
        None => Err(ScopeError::InvalidState("the host has shut down".into())),
    }
}

/// `clients.openWindow(url)`: the host decides; resolves true if it opened one.
#[op2]
pub(crate) async fn op_swrt_open_window(
    state: Rc<RefCell<OpState>>,
    #[string] url: String,
) -> Result<bool, ScopeError> {
    let target = {
        let state = state.borrow();
        let base = &state.borrow::<RealmContext>().url;
        base.join(&url).map_err(|_| {
            ScopeError::Type(format!(
                "Failed to execute 'openWindow': invalid URL '{url}'"
            ))
        })?
    };
    if !matches!(target.scheme(), "http" | "https") && target.as_str() != "about:blank" {
        return Err(ScopeError::Type(format!(
            "Failed to execute 'openWindow': '{target}' is not an http(s) URL"
        )));
    }
    let opened = ask_host(&state, |ctx, reply| HostRequest::OpenWindow {
        script_url: ctx.url.clone(),
        url: target,
        reply,
    })
    .await;
    Ok(opened.unwrap_or(false))
}

/// `clients.matchAll()`: the host knows every client of the origin.
#[op2]
#[serde]
pub(crate) async fn op_swrt_clients_match_all(
    state: Rc<RefCell<OpState>>,
    #[serde] options: MatchAllOptions,
) -> Vec<ClientInfo> {
    let version_id = own_version(&state);
    ask_host(&state, |_, reply| HostRequest::MatchAll {
        version_id,
        options,
        reply,
    })
    .await
    .unwrap_or_default()
}

/// `Client.postMessage()`: `data` is structured-serialized with its transfer list.
#[op2]
pub(crate) fn op_swrt_client_post_message(
    state: &mut OpState,
    #[string] client_id: String,
    #[serde] data: deno_web::JsMessageData,
) -> Result<(), deno_web::MessagePortError> {
    let message = crate::web::realm::outgoing_message(state, data)?;
    let version_id = state.borrow::<WorkerContext>().version.id;
    let ctx = state.borrow::<RealmContext>();
    // Delivery is asynchronous; a client that went away drops the message.
    let (reply, _) = oneshot::channel();
    let _ = ctx.host_requests.send(HostRequest::PostToClient {
        version_id,
        client_id,
        message,
        reply,
    });
    Ok(())
}

/// The worker answers a FetchEvent (`meta` null: the page goes to the network).
#[op2]
pub(crate) fn op_swrt_fetch_event_respond(
    state: &mut OpState,
    #[number] request_id: u64,
    #[serde] meta: Option<crate::realm::FetchEventResponse>,
    #[buffer] body: JsBuffer,
) {
    let response = meta.map(|mut m| {
        m.body = body.to_vec();
        m
    });
    let _ = state
        .borrow::<RealmContext>()
        .host_requests
        .send(HostRequest::FetchEventRespond {
            request_id,
            response,
        });
}
