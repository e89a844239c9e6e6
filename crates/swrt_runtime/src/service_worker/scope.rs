//! Ops of the ServiceWorkerGlobalScope: its boot data, `importScripts()`,
//! `skipWaiting()` and answering a `FetchEvent`.

use crate::realm::ask_host;
use crate::sync::Locked;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use deno_core::{op2, JsBuffer, OpState};
use serde::Serialize;

use crate::realm::{HostRequest, RealmContext, RegistrationView, WorkerContext, WorkerView};

#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub(crate) enum ScopeError {
    #[class("DOMExceptionNetworkError")]
    #[error("Failed to execute 'importScripts': {0}")]
    ImportNetwork(String),
    #[class(type)]
    #[error("Failed to execute 'importScripts': {0}")]
    ImportUrl(String),
    #[class(type)]
    #[error("Failed to execute 'addRoutes' on 'InstallEvent': {0}")]
    Routes(String),
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
    if worker.worker_type == crate::worker_type::WorkerType::Module {
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
        if let Some(text) = imports.scripts.locked().get(&key) {
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
        // Service Workers, importScripts "perform the fetch": the
        // registration's updateViaCache says whether this fetch may use the
        // HTTP cache.
        let cache_mode = if imports.bypass_http_cache.load(Ordering::Acquire) {
            crate::loader::ScriptCacheMode::NoCache
        } else {
            crate::loader::ScriptCacheMode::Default
        };
        let script = ctx.loader.fetch_blocking(&url, cache_mode).map_err(|e| {
            ScopeError::ImportNetwork(format!("the script at '{key}' failed to load: {e}"))
        })?;
        imports
            .scripts
            .locked()
            .insert(key.clone(), script.text.clone());
        sources.push((script.url.to_string(), script.text));
    }
    Ok(sources)
}

/// The id of the worker version this realm runs.
pub(crate) fn own_version(state: &Rc<RefCell<OpState>>) -> u64 {
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

/// `InstallEvent.addRoutes(rules)`: the host checks the rules (a TypeError
/// says why they are refused) and appends them to the worker's list.
#[op2]
pub(crate) async fn op_swrt_add_routes(
    state: Rc<RefCell<OpState>>,
    #[serde] rules: Vec<crate::service_worker::router::RouterRuleInit>,
) -> Result<(), ScopeError> {
    let version_id = own_version(&state);
    match ask_host(&state, |_, reply| HostRequest::AddRoutes {
        version_id,
        rules,
        reply,
    })
    .await
    {
        Some(Ok(())) => Ok(()),
        Some(Err(reason)) => Err(ScopeError::Routes(reason)),
        None => Err(ScopeError::Routes("the worker is gone".into())),
    }
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
