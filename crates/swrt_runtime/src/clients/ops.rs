//! Ops of a service worker's `clients`: `claim()`, `openWindow()`,
//! `matchAll()` and `Client.postMessage()`.

use std::cell::RefCell;
use std::rc::Rc;

use deno_core::{op2, OpState};
use tokio::sync::oneshot;

use crate::realm::{
    ask_host, ClientInfo, HostRequest, MatchAllOptions, RealmContext, WorkerContext,
};
use crate::service_worker::scope::own_version;

#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub(crate) enum ClientsError {
    #[class("DOMExceptionInvalidStateError")]
    #[error("{0}")]
    InvalidState(String),
    #[class(type)]
    #[error("{0}")]
    Type(String),
}

#[op2]
pub(crate) async fn op_swrt_clients_claim(state: Rc<RefCell<OpState>>) -> Result<(), ClientsError> {
    let version_id = own_version(&state);
    match ask_host(&state, |_, reply| HostRequest::Claim { version_id, reply }).await {
        Some(Ok(())) => Ok(()),
        Some(Err(refusal)) => Err(ClientsError::InvalidState(refusal.to_string())),
        None => Err(ClientsError::InvalidState("the host has shut down".into())),
    }
}

/// `clients.openWindow(url)`: the host decides; resolves true if it opened one.
#[op2]
pub(crate) async fn op_swrt_open_window(
    state: Rc<RefCell<OpState>>,
    #[string] url: String,
) -> Result<bool, ClientsError> {
    let target = {
        let state = state.borrow();
        let base = &state.borrow::<RealmContext>().url;
        base.join(&url).map_err(|_| {
            ClientsError::Type(format!(
                "Failed to execute 'openWindow': invalid URL '{url}'"
            ))
        })?
    };
    if !matches!(target.scheme(), "http" | "https") && target.as_str() != "about:blank" {
        return Err(ClientsError::Type(format!(
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
    ask_host(&state, |ctx, reply| HostRequest::MatchAll {
        version_id,
        script_url: ctx.url.clone(),
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
