//! Ops of `navigator.serviceWorker` (ServiceWorkerContainer) in pages and
//! service workers, and of the `ServiceWorker` objects a page holds.

use crate::realm::ask_host;
use std::cell::RefCell;
use std::rc::Rc;

use deno_core::{op2, OpState};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::realm::{
    ClientWorkerContext, ContainerClient, HostRequest, JobRejection, MessageSender, PageContext,
    RealmContext, RegistrationView, WorkerContext, WorkerView,
};

#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub(crate) enum ContainerError {
    #[class(type)]
    #[error("Failed to register a ServiceWorker: {0}")]
    Register(String),
    #[class("DOMExceptionInvalidStateError")]
    #[error("{0}")]
    InvalidState(String),
    #[class("DOMExceptionSecurityError")]
    #[error("Failed to register a ServiceWorker: {0}")]
    Security(String),
}

impl From<JobRejection> for ContainerError {
    fn from(rejection: JobRejection) -> Self {
        match rejection {
            JobRejection::Security(message) => ContainerError::Security(message),
            JobRejection::Type(message) => ContainerError::Register(message),
            JobRejection::InvalidState(message) => ContainerError::InvalidState(message),
        }
    }
}

/// Boot data for a page's JavaScript.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageBootInfo {
    url: String,
    client_id: String,
    controller: Option<WorkerView>,
    document: bool,
    parent: Option<crate::realm::ParentWindow>,
    secure_context: bool,
    csp: Vec<String>,
}

#[op2]
#[serde]
pub(crate) fn op_swrt_page_info(state: &mut OpState) -> PageBootInfo {
    let page = state.borrow::<PageContext>();
    PageBootInfo {
        url: state.borrow::<RealmContext>().url.to_string(),
        client_id: page.client_id.clone(),
        controller: page.controller.clone(),
        document: page.document,
        parent: page.parent.clone(),
        secure_context: state.borrow::<RealmContext>().secure_context,
        csp: page.csp.clone(),
    }
}

/// The calling container's client: a frame names itself; otherwise the
/// realm's page or dedicated/shared worker (a client of the host like a
/// page), or in a service worker's realm the worker itself.
fn container_client(state: &Rc<RefCell<OpState>>, client: Option<String>) -> ContainerClient {
    if let Some(client_id) = client {
        return ContainerClient::Page(client_id);
    }
    let state = state.borrow();
    if let Some(page) = state.try_borrow::<PageContext>() {
        return ContainerClient::Page(page.client_id.clone());
    }
    if let Some(worker) = state.try_borrow::<ClientWorkerContext>() {
        return ContainerClient::Page(worker.client_id.clone());
    }
    ContainerClient::ServiceWorker(state.borrow::<RealmContext>().url.clone())
}

/// Register jobs whose page continuation has not run yet.
#[derive(Default)]
pub(crate) struct PendingRegisterAcks {
    next: u64,
    acks: std::collections::HashMap<u64, oneshot::Sender<()>>,
}

/// The page resolved its register promise and ran the continuation.
#[op2(fast)]
pub(crate) fn op_swrt_sw_register_seen(state: &mut OpState, #[number] ack_id: u64) {
    if let Some(pending) = state.try_borrow_mut::<PendingRegisterAcks>() {
        if let Some(ack) = pending.acks.remove(&ack_id) {
            let _ = ack.send(());
        }
    }
}

/// A registration and the id to acknowledge it with.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Registered {
    registration: RegistrationView,
    ack_id: f64,
}

/// `navigator.serviceWorker.register(url, {scope, type})`: resolves once the new
/// worker is installing (Service Workers, Install step "resolve job promise"),
/// or rejects with TypeError when the script cannot be fetched or evaluated.
#[op2]
#[serde]
pub(crate) async fn op_swrt_sw_register(
    state: Rc<RefCell<OpState>>,
    #[string] script_url: String,
    #[string] scope: Option<String>,
    #[string] worker_type: String,
    #[string] update_via_cache: String,
    #[string] client: Option<String>,
) -> Result<Registered, ContainerError> {
    // The WorkerType enum was converted by WebIDL in JS.
    let worker_type = crate::worker_type::WorkerType::parse(&worker_type).ok_or_else(|| {
        ContainerError::Register(format!("'{worker_type}' is not a valid WorkerType"))
    })?;
    let update_via_cache =
        crate::host::UpdateViaCache::parse(&update_via_cache).ok_or_else(|| {
            ContainerError::Register(format!(
                "'{update_via_cache}' is not a valid ServiceWorkerUpdateViaCache"
            ))
        })?;
    let (script_url, scope) = {
        let state = state.borrow();
        let base = &state.borrow::<RealmContext>().url;
        let mut script_url = base
            .join(&script_url)
            .map_err(|_| ContainerError::Register(format!("invalid script URL '{script_url}'")))?;
        // Start Register: the script URL's fragment is dropped, and the
        // scope's query and fragment.
        script_url.set_fragment(None);
        let scope = match scope {
            Some(scope) => {
                let mut scope = base.join(&scope).map_err(|_| {
                    ContainerError::Register(format!("invalid scope URL '{scope}'"))
                })?;
                scope.set_query(None);
                scope.set_fragment(None);
                Some(scope)
            }
            None => None,
        };
        (script_url, scope)
    };
    let client = container_client(&state, client);
    match ask_host(&state, |_, reply| HostRequest::Register {
        client,
        script_url,
        scope,
        worker_type,
        update_via_cache,
        reply,
    })
    .await
    {
        Some(Ok((registration, seen))) => {
            let mut state = state.borrow_mut();
            if !state.has::<PendingRegisterAcks>() {
                state.put(PendingRegisterAcks::default());
            }
            let pending = state.borrow_mut::<PendingRegisterAcks>();
            pending.next += 1;
            let ack_id = pending.next;
            pending.acks.insert(ack_id, seen);
            Ok(Registered {
                registration,
                ack_id: ack_id as f64,
            })
        }
        Some(Err(rejection)) => Err(rejection.into()),
        None => Err(ContainerError::InvalidState(
            "the host has shut down".into(),
        )),
    }
}

/// Every registration of the page's origin.
#[op2]
#[serde]
pub(crate) async fn op_swrt_sw_registrations(
    state: Rc<RefCell<OpState>>,
    #[string] client: Option<String>,
) -> Vec<RegistrationView> {
    let client = container_client(&state, client);
    ask_host(&state, |_, reply| HostRequest::Registrations {
        client,
        reply,
    })
    .await
    .unwrap_or_default()
}

#[op2]
pub(crate) async fn op_swrt_sw_unregister(
    state: Rc<RefCell<OpState>>,
    #[string] scope: String,
) -> Result<bool, ContainerError> {
    let scope = url::Url::parse(&scope)
        .map_err(|_| ContainerError::InvalidState(format!("invalid scope {scope}")))?;
    Ok(
        ask_host(&state, |_, reply| HostRequest::Unregister { scope, reply })
            .await
            .unwrap_or(false),
    )
}

/// A `NavigationPreloadManager` method: `action` is "enable", "disable",
/// "setHeaderValue" (with `value`) or "getState".
#[op2]
#[serde]
pub(crate) async fn op_swrt_navigation_preload(
    state: Rc<RefCell<OpState>>,
    #[string] scope: String,
    #[string] action: String,
    #[string] value: Option<String>,
) -> Result<crate::realm::NavigationPreloadState, ContainerError> {
    use crate::realm::NavigationPreloadAction;
    let scope = url::Url::parse(&scope)
        .map_err(|_| ContainerError::InvalidState(format!("invalid scope {scope}")))?;
    let action = match (action.as_str(), value) {
        ("enable", _) => NavigationPreloadAction::SetEnabled(true),
        ("disable", _) => NavigationPreloadAction::SetEnabled(false),
        ("setHeaderValue", Some(value)) => NavigationPreloadAction::SetHeaderValue(value),
        ("getState", _) => NavigationPreloadAction::GetState,
        (other, _) => {
            return Err(ContainerError::InvalidState(format!(
                "unknown navigation preload action '{other}'"
            )))
        }
    };
    match ask_host(&state, |_, reply| HostRequest::NavigationPreload {
        scope,
        action,
        reply,
    })
    .await
    {
        Some(answer) => answer.map_err(Into::into),
        None => Err(ContainerError::InvalidState(
            "the host has shut down".into(),
        )),
    }
}

/// `registration.update()`: runs the Update algorithm for the scope; resolves
/// with the registration once its job settled.
#[op2]
#[serde]
pub(crate) async fn op_swrt_sw_update(
    state: Rc<RefCell<OpState>>,
    #[string] scope: String,
) -> Result<RegistrationView, ContainerError> {
    let scope = url::Url::parse(&scope)
        .map_err(|_| ContainerError::InvalidState(format!("invalid scope {scope}")))?;
    match ask_host(&state, |_, reply| HostRequest::Update { scope, reply }).await {
        Some(Ok(view)) => Ok(view),
        Some(Err(rejection)) => Err(rejection.into()),
        None => Err(ContainerError::InvalidState(
            "the host has shut down".into(),
        )),
    }
}

/// A controlled page's `fetch()`: the controller's FetchEvent answers it, or
/// `None` means "go to the network".
#[op2]
#[serde]
pub(crate) async fn op_swrt_fetch_event(
    state: Rc<RefCell<OpState>>,
    #[serde] request: serde_json::Value,
    #[serde] body: Option<deno_core::JsBuffer>,
    #[string] client: Option<String>,
) -> Option<(crate::realm::FetchEventResponse, deno_core::ToJsBuffer)> {
    // Only pages and frames have a controller to ask.
    let ContainerClient::Page(client_id) = container_client(&state, client) else {
        return None;
    };
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

/// `ServiceWorker.postMessage()` from a page: `data` is structured-serialized
/// with its transfer list (MessagePorts move to the worker).
#[op2]
pub(crate) fn op_swrt_sw_post_message(
    state: &mut OpState,
    #[number] version_id: u64,
    #[serde] data: deno_web::JsMessageData,
    #[string] client: Option<String>,
) -> Result<(), deno_web::MessagePortError> {
    let message = crate::web::realm::outgoing_message(state, data)?;
    let sender = if let Some(page) = state.try_borrow::<PageContext>() {
        MessageSender::Client(client.unwrap_or_else(|| page.client_id.clone()))
    } else if let Some(worker) = state.try_borrow::<ClientWorkerContext>() {
        MessageSender::Client(worker.client_id.clone())
    } else {
        MessageSender::Worker(state.borrow::<WorkerContext>().version.id)
    };
    let (reply, _) = oneshot::channel();
    let _ = state
        .borrow::<RealmContext>()
        .host_requests
        .send(HostRequest::PostToWorker {
            sender,
            version_id,
            message,
            reply,
        });
    Ok(())
}
