//! Ops of dedicated and shared workers (HTML workers): the `Worker` and
//! `SharedWorker` constructors of an owner realm, and the worker global
//! scope's `postMessage()`, `close()` and `importScripts()`.

use crate::realm::ask_host;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use deno_core::{op2, OpState};
use serde::Serialize;

use crate::error::ScriptError;
use crate::realm::{
    ClientWorkerContext, HostCommand, HostRequest, PageContext, RealmContext, RealmLink, WorkerView,
};
use crate::worker_type::WorkerType;

#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub(crate) enum WorkerError {
    #[class(type)]
    #[error("{0}")]
    Type(String),
    #[class("DOMExceptionNetworkError")]
    #[error("{0}")]
    Network(String),
    #[class("DOMExceptionInvalidStateError")]
    #[error("{0}")]
    InvalidState(String),
}

/// The dedicated workers a realm created, by client id.
#[derive(Default)]
struct OwnedWorkers(HashMap<String, RealmLink>);

/// The client id of the realm the op runs in (a page or a worker).
fn own_client_id(state: &OpState) -> Option<String> {
    if let Some(page) = state.try_borrow::<PageContext>() {
        return Some(page.client_id.clone());
    }
    state
        .try_borrow::<ClientWorkerContext>()
        .map(|worker| worker.client_id.clone())
}

fn parse_type(worker_type: &str) -> Result<WorkerType, WorkerError> {
    WorkerType::parse(worker_type)
        .ok_or_else(|| WorkerError::Type(format!("'{worker_type}' is not a valid WorkerType")))
}

/// `new Worker(url, options)`: the host fetches the script and starts the
/// worker's realm; resolves once it runs (its script may still be loading
/// imports), rejects when the script cannot be fetched.
#[op2]
pub(crate) async fn op_swrt_worker_start(
    state: Rc<RefCell<OpState>>,
    #[string] client_id: String,
    #[string] script_url: String,
    #[string] worker_type: String,
    #[string] name: String,
) -> Result<(), WorkerError> {
    let worker_type = parse_type(&worker_type)?;
    let script_url = url::Url::parse(&script_url)
        .map_err(|_| WorkerError::Type(format!("invalid script URL '{script_url}'")))?;
    let owner_id = own_client_id(&state.borrow())
        .ok_or_else(|| WorkerError::InvalidState("this realm cannot own workers".into()))?;
    let id = client_id.clone();
    let link = ask_host(&state, |_, reply| HostRequest::StartWorker {
        owner_id,
        client_id: id,
        script_url,
        worker_type,
        name,
        reply,
    })
    .await
    .ok_or_else(|| WorkerError::InvalidState("the host has shut down".into()))?
    .map_err(|e| WorkerError::Network(e.to_string()))?;
    let mut state = state.borrow_mut();
    if !state.has::<OwnedWorkers>() {
        state.put(OwnedWorkers::default());
    }
    state.borrow_mut::<OwnedWorkers>().0.insert(client_id, link);
    Ok(())
}

/// `Worker.postMessage()`: the message (its transferred ports and buffers
/// taken out of this realm) goes straight to the worker's realm.
#[op2]
pub(crate) fn op_swrt_worker_post(
    state: &mut OpState,
    #[string] client_id: String,
    #[serde] data: deno_web::JsMessageData,
) -> Result<bool, deno_web::MessagePortError> {
    let message = crate::web::realm::outgoing_message(state, data)?;
    let Some(link) = state
        .try_borrow::<OwnedWorkers>()
        .and_then(|owned| owned.0.get(&client_id))
    else {
        return Ok(false);
    };
    Ok(link.post(message, |message_id| HostCommand::WorkerMessage {
        from: None,
        message_id,
    }))
}

/// `Worker.terminate()`: the worker (and the workers it created) stop at once.
#[op2(fast)]
pub(crate) fn op_swrt_worker_terminate(state: &mut OpState, #[string] client_id: String) {
    if let Some(owned) = state.try_borrow_mut::<OwnedWorkers>() {
        owned.0.remove(&client_id);
    }
    let _ = state
        .borrow::<RealmContext>()
        .host_requests
        .send(HostRequest::CloseWorker { client_id });
}

/// `new SharedWorker(url, options)`: connects `data` (a message carrying the
/// new port's other end) to the origin's shared worker of that URL and
/// name, starting it first when there is none.
#[op2]
pub(crate) async fn op_swrt_shared_worker_connect(
    state: Rc<RefCell<OpState>>,
    #[string] script_url: String,
    #[string] worker_type: String,
    #[string] name: String,
    #[serde] data: deno_web::JsMessageData,
) -> Result<(), WorkerError> {
    let worker_type = parse_type(&worker_type)?;
    let script_url = url::Url::parse(&script_url)
        .map_err(|_| WorkerError::Type(format!("invalid script URL '{script_url}'")))?;
    let message = crate::web::realm::outgoing_message(&mut state.borrow_mut(), data)
        .map_err(|e| WorkerError::Type(e.to_string()))?;
    ask_host(&state, |_, reply| HostRequest::ConnectSharedWorker {
        script_url,
        worker_type,
        name,
        message,
        reply,
    })
    .await
    .ok_or_else(|| WorkerError::InvalidState("the host has shut down".into()))?
    .map_err(|e| WorkerError::Network(e.to_string()))
}

/// Boot data for a dedicated or shared worker's JavaScript.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClientWorkerBootInfo {
    url: String,
    client_id: String,
    name: String,
    #[serde(rename = "type")]
    worker_type: &'static str,
    controller: Option<WorkerView>,
    secure_context: bool,
    csp: Vec<String>,
}

#[op2]
#[serde]
pub(crate) fn op_swrt_client_worker_info(state: &mut OpState) -> ClientWorkerBootInfo {
    let worker = state.borrow::<ClientWorkerContext>();
    let ctx = state.borrow::<RealmContext>();
    ClientWorkerBootInfo {
        url: ctx.url.to_string(),
        client_id: worker.client_id.clone(),
        name: worker.name.clone(),
        worker_type: worker.worker_type.as_str(),
        controller: worker.controller.clone(),
        secure_context: ctx.secure_context,
        csp: worker.csp.clone(),
    }
}

/// `postMessage()` of a DedicatedWorkerGlobalScope: to the `Worker` object
/// in the owner's realm. False when the owner is gone.
#[op2]
pub(crate) fn op_swrt_worker_post_owner(
    state: &mut OpState,
    #[serde] data: deno_web::JsMessageData,
) -> Result<bool, deno_web::MessagePortError> {
    let message = crate::web::realm::outgoing_message(state, data)?;
    let worker = state.borrow::<ClientWorkerContext>();
    let Some(owner) = &worker.owner else {
        return Ok(false);
    };
    let from = Some(worker.client_id.clone());
    Ok(
        owner.post(message, |message_id| HostCommand::WorkerMessage {
            from,
            message_id,
        }),
    )
}

/// `close()` of a worker global scope: the host stops the worker.
#[op2(fast)]
pub(crate) fn op_swrt_worker_close(state: &mut OpState) {
    let client_id = state.borrow::<ClientWorkerContext>().client_id.clone();
    let _ = state
        .borrow::<RealmContext>()
        .host_requests
        .send(HostRequest::CloseWorker { client_id });
}

/// `importScripts(...urls)` of a classic dedicated or shared worker: fetches
/// every URL first (synchronously, as HTML requires), then returns the
/// sources in order for JS to run.
#[op2]
#[serde]
pub(crate) fn op_swrt_worker_import_scripts(
    state: &mut OpState,
    #[serde] urls: Vec<String>,
) -> Result<Vec<(String, String)>, WorkerError> {
    let ctx = state.borrow::<RealmContext>();
    let worker = state.borrow::<ClientWorkerContext>();
    // HTML, importScripts(): a module worker's global throws TypeError.
    if worker.worker_type == WorkerType::Module {
        return Err(WorkerError::Type(
            "Failed to execute 'importScripts': Module scripts don't support importScripts()."
                .into(),
        ));
    }
    let mut resolved = Vec::with_capacity(urls.len());
    for raw in &urls {
        let url = ctx.url.join(raw).map_err(|_| {
            WorkerError::Type(format!(
                "Failed to execute 'importScripts': the URL '{raw}' is invalid"
            ))
        })?;
        resolved.push(url);
    }
    let mut sources = Vec::with_capacity(resolved.len());
    for url in resolved {
        let script = ctx
            .loader
            .fetch_blocking(&url, crate::loader::ScriptCacheMode::Default)
            .map_err(|e| {
                WorkerError::Network(format!(
                    "Failed to execute 'importScripts': the script at '{url}' failed to load: {e}"
                ))
            })?;
        sources.push((script.url.to_string(), script.text));
    }
    Ok(sources)
}

/// A controlled worker's `fetch()`: the controller's FetchEvent answers it,
/// or `None` means "go to the network".
#[op2]
#[serde]
pub(crate) async fn op_swrt_worker_fetch_event(
    state: Rc<RefCell<OpState>>,
    #[serde] request: serde_json::Value,
    #[serde] body: Option<deno_core::JsBuffer>,
) -> Option<(crate::realm::FetchEventResponse, deno_core::ToJsBuffer)> {
    let client_id = state
        .borrow()
        .borrow::<ClientWorkerContext>()
        .client_id
        .clone();
    let response = ask_host(&state, |_, reply| HostRequest::FetchEvent {
        client_id,
        request,
        body: body.map(|b| b.to_vec()),
        reply,
    })
    .await??;
    let body = deno_core::ToJsBuffer::from(response.body.clone());
    Some((response, body))
}

/// HTML, runtime script errors in workers: an exception a dedicated worker
/// did not handle fires an ErrorEvent on its `Worker` object in the owner.
/// Does nothing in other realms.
pub(crate) fn forward_error(state: &OpState, error: &ScriptError) {
    let Some(worker) = state.try_borrow::<ClientWorkerContext>() else {
        return;
    };
    let Some(owner) = &worker.owner else {
        return;
    };
    let (filename, lineno, colno) = split_location(error.location.as_deref());
    let message = if error.message.starts_with("Uncaught") {
        error.message.clone()
    } else {
        format!("Uncaught {}", error.message)
    };
    owner.send_work(HostCommand::WorkerError {
        worker_id: worker.client_id.clone(),
        message,
        filename,
        lineno,
        colno,
    });
}

/// Splits `file:line:column` (the file may itself contain colons).
fn split_location(location: Option<&str>) -> (String, u32, u32) {
    let Some(location) = location else {
        return (String::new(), 0, 0);
    };
    let mut parts = location.rsplitn(3, ':');
    let column = parts.next().and_then(|c| c.parse().ok());
    let line = parts.next().and_then(|l| l.parse().ok());
    match (parts.next(), line, column) {
        (Some(file), Some(line), Some(column)) => (file.to_string(), line, column),
        _ => (location.to_string(), 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::split_location;

    #[test]
    fn locations_split_at_the_last_two_colons() {
        assert_eq!(
            split_location(Some("http://127.0.0.1:8000/w.js:3:7")),
            ("http://127.0.0.1:8000/w.js".to_string(), 3, 7)
        );
        assert_eq!(split_location(None), (String::new(), 0, 0));
        assert_eq!(
            split_location(Some("somewhere")),
            ("somewhere".to_string(), 0, 0)
        );
    }
}
