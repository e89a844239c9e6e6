//! Dedicated and shared workers (HTML workers). Each runs in a realm of its
//! own and is a client of the host like a page: a worker in a registration's
//! scope is controlled (its `fetch()` goes to the service worker) and
//! `clients.matchAll()` reports it as `worker` or `sharedworker`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use url::Url;

use super::clients::{navigate, page, PageEntry};
use super::HostInner;
use crate::error::HostError;
use crate::error::WorkerStartError;
use crate::realm::{
    ClientWorkerContext, ClientWorkerKind, HostCommand, HostRequest, RealmHandle, RealmKind,
    RealmLink,
};
use crate::sync::Locked;
use crate::worker_type::WorkerType;

/// The shared workers of the host, one per (script URL, name): the script
/// URL carries the origin, so each origin has its own.
#[derive(Default)]
pub(crate) struct SharedWorkers {
    /// Client id and type of the running worker of each (script URL, name).
    running: Mutex<HashMap<(String, String), (String, WorkerType)>>,
    /// Held while a shared worker starts, so two connects to one that is
    /// not running yet start it once.
    starting: tokio::sync::Mutex<()>,
}

/// What a new worker realm needs.
struct WorkerStart {
    client_id: String,
    url: Url,
    kind: ClientWorkerKind,
    worker_type: WorkerType,
    name: String,
    owner: Option<(String, RealmLink)>,
}

pub(crate) fn handle_request(host: &Arc<HostInner>, request: HostRequest) {
    match request {
        HostRequest::StartWorker {
            owner_id,
            client_id,
            script_url,
            worker_type,
            name,
            reply,
        } => {
            let Some(owner) = page(host, &owner_id) else {
                let _ = reply.send(Err(WorkerStartError::OwnerGone));
                return;
            };
            if script_url.origin() != owner.url.origin() {
                let _ = reply.send(Err(WorkerStartError::CrossOrigin {
                    script: script_url,
                    owner: owner.url.clone(),
                }));
                return;
            }
            let owner_link = owner.handle.link();
            host.spawn_job(move |host| async move {
                let start = WorkerStart {
                    client_id,
                    url: script_url.clone(),
                    kind: ClientWorkerKind::Dedicated,
                    worker_type,
                    name,
                    owner: Some((owner_id, owner_link)),
                };
                let answer = match start_worker(&host, start).await {
                    Ok(entry) => Ok(entry.handle.link()),
                    Err(error) => {
                        tracing::warn!(%script_url, "worker script failed to load: {error}");
                        Err(error.into())
                    }
                };
                let _ = reply.send(answer);
            });
        }
        HostRequest::ConnectSharedWorker {
            script_url,
            worker_type,
            name,
            message,
            reply,
        } => {
            host.spawn_job(move |host| async move {
                let answer = connect_shared(&host, script_url.clone(), worker_type, name, message)
                    .await
                    .inspect_err(|error| {
                        tracing::warn!(%script_url, "cannot connect to the shared worker: {error}");
                    });
                let _ = reply.send(answer);
            });
        }
        HostRequest::CloseWorker { client_id } => close_worker(host, &client_id),
        _ => unreachable!("clients::handle_request routes only worker requests here"),
    }
}

/// Fetches the worker's script (through the service worker whose scope
/// holds its URL, if any) and starts its realm; the worker is a client of
/// the host from then on.
async fn start_worker(
    host: &Arc<HostInner>,
    start: WorkerStart,
) -> Result<Arc<PageEntry>, HostError> {
    let controlling = host
        .matching_registration(&start.url)
        .and_then(|r| r.active().map(|v| (r, v)));
    let controller = controlling.as_ref().map(|(_, v)| v.clone());
    let source = navigate(
        host,
        &start.url,
        &start.client_id,
        controlling,
        start.kind.client_type(),
    )
    .await?;
    let (gate_tx, gate_rx) = tokio::sync::oneshot::channel();
    let owner_id = start.owner.as_ref().map(|(id, _)| id.clone());
    let (handle, _evaluation) = RealmHandle::start(host.realm_spec(
        &start.url,
        source.text,
        RealmKind::ClientWorker(ClientWorkerContext {
            kind: start.kind,
            client_id: start.client_id.clone(),
            name: start.name,
            worker_type: start.worker_type,
            controller: controller.as_ref().map(|v| v.view()),
            csp: source.csp,
            owner: start.owner.map(|(_, link)| link),
            start_gate: Some(gate_rx),
        }),
    ))
    .await?;
    let entry = Arc::new(PageEntry::worker(
        start.client_id,
        start.url,
        handle,
        controller.map(|v| v.id),
        start.kind.client_type(),
        owner_id,
    ));
    host.pages.locked().push(entry.clone());
    let _ = gate_tx.send(());
    Ok(entry)
}

/// Connects a `SharedWorker` object's port to the shared worker of
/// (script URL, name), starting the worker when none runs.
async fn connect_shared(
    host: &Arc<HostInner>,
    script_url: Url,
    worker_type: WorkerType,
    name: String,
    message: crate::realm::RealmMessage,
) -> Result<(), WorkerStartError> {
    let key = (script_url.to_string(), name.clone());
    let _starting = host.shared_workers.starting.lock().await;
    let running = host.shared_workers.running.locked().get(&key).cloned();
    let running = running.and_then(|(id, running_type)| {
        page(host, &id)
            .filter(|entry| entry.handle.is_alive())
            .map(|entry| (entry, running_type))
    });
    let entry = match running {
        Some((entry, running_type)) => {
            // HTML, SharedWorker constructor: a worker of the same URL and
            // name but another type is an error.
            if running_type != worker_type {
                return Err(WorkerStartError::TypeMismatch {
                    script: script_url,
                    name,
                    running: running_type.as_str(),
                    requested: worker_type.as_str(),
                });
            }
            entry
        }
        None => {
            let client_id = uuid::Uuid::new_v4().to_string();
            let start = WorkerStart {
                client_id: client_id.clone(),
                url: script_url,
                kind: ClientWorkerKind::Shared,
                worker_type,
                name,
                owner: None,
            };
            let entry = start_worker(host, start).await?;
            host.shared_workers
                .running
                .locked()
                .insert(key, (client_id, worker_type));
            entry
        }
    };
    if entry
        .handle
        .link()
        .post(message, |message_id| HostCommand::Connect { message_id })
    {
        Ok(())
    } else {
        Err(WorkerStartError::Stopped)
    }
}

/// Stops the worker `client_id` and, with it, every worker it owns.
fn close_worker(host: &Arc<HostInner>, client_id: &str) {
    let closed: Vec<Arc<PageEntry>> = {
        let mut pages = host.pages.locked();
        let mut doomed = vec![client_id.to_string()];
        let mut index = 0;
        while index < doomed.len() {
            let owner = doomed[index].clone();
            doomed.extend(
                pages
                    .iter()
                    .filter(|p| p.owner.as_deref() == Some(owner.as_str()))
                    .map(|p| p.id.clone()),
            );
            index += 1;
        }
        let (closed, kept) = pages
            .drain(..)
            .partition(|p| p.client_type != "window" && doomed.contains(&p.id));
        *pages = kept;
        closed
    };
    if closed.is_empty() {
        return;
    }
    host.shared_workers
        .running
        .locked()
        .retain(|_, (id, _)| !closed.iter().any(|c| &c.id == id));
    for entry in closed {
        tracing::debug!(url = %entry.url, id = %entry.id, "worker closed");
        // Stops at once, as terminate() requires; the thread ends by itself.
        entry.handle.terminate_quietly();
        tokio::spawn(entry.close());
    }
}
