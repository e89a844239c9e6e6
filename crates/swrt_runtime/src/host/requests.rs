//! Everything realms ask of the host: registering from a page, messages
//! between pages and workers, `clients.*`, `skipWaiting()`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::json;

use super::clients::{offer_fetch_event, open_frame, open_page_in, page, PageEntry};
use super::HostInner;
use crate::error::{ClaimError, FrameError};
use crate::realm::{
    ContainerClient, HostCommand, HostRequest, JobRejection, MessageSender,
    NavigationPreloadAction, RegistrationView,
};
use crate::sync::Locked;
use tokio::sync::mpsc;

/// Answers what realms ask of the host.
pub(super) async fn serve_requests(
    host: std::sync::Weak<HostInner>,
    mut requests: mpsc::UnboundedReceiver<HostRequest>,
) {
    while let Some(request) = requests.recv().await {
        let Some(host) = host.upgrade() else {
            return;
        };
        handle_request(&host, request);
        // Handled: what it started is counted by its job or by the realm
        // it was delivered to.
        host.requests.handled();
    }
}

/// The URL of a container's client: a page's (None once it closed), or the
/// service worker's script URL.
fn container_client_url(host: &HostInner, client: &ContainerClient) -> Option<url::Url> {
    match client {
        ContainerClient::Page(client_id) => page(host, client_id).map(|page| page.url.clone()),
        ContainerClient::ServiceWorker(script_url) => Some(script_url.clone()),
    }
}

pub(crate) fn handle_request(host: &Arc<HostInner>, request: HostRequest) {
    match request {
        HostRequest::SkipWaiting { version_id, reply } => {
            if let Some((_, version)) = host.version_by_id(version_id) {
                version.mark_skip_waiting();
            }
            let _ = reply.send(());
        }
        HostRequest::AddRoutes {
            version_id,
            rules,
            reply,
        } => {
            let Some((_, version)) = host.version_by_id(version_id) else {
                let _ = reply.send(Err("the worker is gone".into()));
                return;
            };
            host.spawn_job(move |_| async move {
                let _ = reply.send(version.add_routes(rules).await);
            });
        }
        HostRequest::OpenWindow {
            script_url,
            url,
            reply,
        } => {
            tracing::info!(%script_url, %url, "clients.openWindow");
            let _ = reply.send(host.delegate.open_window(&script_url, &url));
        }
        HostRequest::MatchAll {
            version_id,
            script_url,
            options,
            reply,
        } => {
            // Clients.matchAll: same-origin clients of the worker's origin,
            // those controlled by this worker unless includeUncontrolled.
            // The origin comes with the request, not from the registration:
            // a worker asks while its script still runs, before any of its
            // registration's slots holds it.
            let wanted = |p: &PageEntry| {
                options.client_type == "all" || options.client_type == p.client_type
            };
            let controlled = |p: &PageEntry| *p.controller.locked() == Some(version_id);
            let clients = host
                .pages_of_origin(&script_url)
                .into_iter()
                .filter(|p| wanted(p))
                .filter(|p| options.include_uncontrolled || controlled(p))
                .map(|p| p.info(host))
                .collect();
            let _ = reply.send(clients);
        }
        HostRequest::Claim { version_id, reply } => {
            let Some((registration, version)) = host.version_by_id(version_id) else {
                let _ = reply.send(Err(ClaimError::NotActive));
                return;
            };
            if registration.active().map(|a| a.id) != Some(version.id) {
                let _ = reply.send(Err(ClaimError::NotActive));
                return;
            }
            if registration.is_unregistered() {
                // Still an active worker, but Match Service Worker
                // Registration finds its registration for no client any
                // more: nothing is claimed.
                let _ = reply.send(Ok(()));
                return;
            }
            let view = version.view();
            for page in host.pages_of_origin(&registration.scope) {
                let in_scope = host
                    .matching_registration(&page.url)
                    .is_some_and(|r| Arc::ptr_eq(&r, &registration));
                let mut controller = page.controller.locked();
                if in_scope && *controller != Some(version.id) {
                    *controller = Some(version.id);
                    page.handle.send(HostCommand::Controller {
                        client_id: page.id.clone(),
                        controller: Some(view.clone()),
                    });
                }
            }
            let _ = reply.send(Ok(()));
        }
        HostRequest::PostToClient {
            version_id,
            client_id,
            message,
            reply,
        } => {
            let source = host.version_by_id(version_id).map(|(_, v)| v.view());
            let delivered = match (page(host, &client_id), source) {
                (Some(page), Some(source)) => {
                    let message_id = page.handle.stash_message(message);
                    page.handle.send(HostCommand::Message {
                        client_id: page.id.clone(),
                        message_id,
                        source,
                    })
                }
                _ => false,
            };
            let _ = reply.send(delivered);
        }
        HostRequest::Register {
            client,
            script_url,
            scope,
            worker_type,
            update_via_cache,
            reply,
        } => {
            let Some(client_url) = container_client_url(host, &client) else {
                let _ = reply.send(Err(JobRejection::InvalidState("the page is gone".into())));
                return;
            };
            // Register: the script must be same-origin with the client.
            if script_url.origin() != client_url.origin() {
                let _ = reply.send(Err(JobRejection::Security(format!(
                    "The origin of the provided scriptURL ('{}') does not match the current origin ('{}').",
                    script_url.origin().ascii_serialization(),
                    client_url.origin().ascii_serialization()
                ))));
                return;
            }
            let registration = match host.registration_for_scope(&script_url, scope) {
                Ok(r) => r,
                Err(e) => {
                    let _ = reply.send(Err((&e).into()));
                    return;
                }
            };
            let id = host.next_id.fetch_add(1, Ordering::Relaxed);
            host.spawn_job(move |host| async move {
                if let Err(error) = registration
                    .update(
                        &host,
                        id,
                        script_url.clone(),
                        worker_type,
                        super::register_job::UpdateJobOptions {
                            update_via_cache: Some(update_via_cache),
                            force_bypass_cache: false,
                        },
                        Some(reply),
                    )
                    .await
                {
                    // The page saw the rejection or the worker turn redundant;
                    // the host still says why.
                    tracing::info!(%script_url, "registration failed: {error}");
                }
            });
        }
        HostRequest::FetchEvent {
            client_id,
            mut request,
            body,
            reply,
        } => {
            // Handle Fetch: a page controlled by an active worker asks it first.
            let controller = page(host, &client_id).and_then(|p| *p.controller.locked());
            let Some((registration, version)) = controller.and_then(|id| host.version_by_id(id))
            else {
                let _ = reply.send(None);
                return;
            };
            request["clientId"] = serde_json::Value::from(client_id);
            offer_fetch_event(host, registration, version, request, body, None, reply);
        }
        HostRequest::OpenFrame {
            parent_client_id,
            url,
            reply,
        } => {
            host.spawn_job(move |host| async move {
                let _ = reply.send(open_frame(&host, &parent_client_id, url).await);
            });
        }
        HostRequest::OpenRemoteFrame {
            parent_client_id,
            url,
            reply,
        } => {
            host.spawn_job(move |host| async move {
                let Some(parent) = page(&host, &parent_client_id) else {
                    let _ = reply.send(Err(FrameError::ParentGone));
                    return;
                };
                let opened = open_page_in(&host, url, None, Some(parent)).await;
                let _ = reply.send(opened.map(|p| p.id).map_err(FrameError::from));
            });
        }
        HostRequest::FrameLoaded { frame_client_id } => {
            let parent = page(host, &frame_client_id)
                .and_then(|frame| frame.parent.clone())
                .and_then(|id| page(host, &id));
            if let Some(parent) = parent {
                parent.handle.send(HostCommand::FrameLoaded {
                    client_id: parent.id.clone(),
                    frame_client_id,
                });
            }
        }
        HostRequest::PostToWindow {
            source_client_id,
            target_client_id,
            message,
            target_origin,
        } => {
            // HTML window.postMessage: delivered only if the target's origin
            // is the one the sender named ("*" for any).
            let (Some(source), Some(target)) =
                (page(host, &source_client_id), page(host, &target_client_id))
            else {
                return;
            };
            if target_origin != "*" && target_origin != target.origin.ascii_serialization() {
                return;
            }
            let message_id = target.handle.stash_message(message);
            target.handle.send(HostCommand::WindowMessage {
                client_id: target.id.clone(),
                message_id,
                origin: source.origin.ascii_serialization(),
                source_client_id,
            });
        }
        HostRequest::CloseFrame { client_id } => {
            let removed: Vec<_> = {
                let mut pages = host.pages.locked();
                let (gone, kept): (Vec<_>, Vec<_>) = pages
                    .drain(..)
                    .partition(|p| p.id == client_id || p.parent.as_deref() == Some(&client_id));
                *pages = kept;
                gone
            };
            // A cross-origin frame's realm stops with it.
            host.spawn_job(move |_| async move {
                for page in removed {
                    page.close().await;
                }
            });
        }
        HostRequest::FetchEventRespond {
            request_id,
            response,
        } => {
            if let Some(reply) = host.fetch_events.locked().remove(&request_id) {
                let _ = reply.send(response);
            }
        }
        HostRequest::NavigationPreload {
            scope,
            action,
            reply,
        } => {
            let Some(registration) = host.registration_with_scope(&scope) else {
                let _ = reply.send(Err(JobRejection::InvalidState(
                    "the registration was unregistered".into(),
                )));
                return;
            };
            let changes_state = action != NavigationPreloadAction::GetState;
            let answer = registration.navigation_preload(action);
            if !changes_state || answer.is_err() {
                let _ = reply.send(answer);
                return;
            }
            // The state is the registration's and outlives a restart: the
            // promise resolves once it is stored.
            host.spawn_job(move |host| async move {
                host.persist_navigation_preload(&registration).await;
                let _ = reply.send(answer);
            });
        }
        HostRequest::Update { scope, reply } => {
            let Some(registration) = host.registration_with_scope(&scope) else {
                let _ = reply.send(Err(JobRejection::InvalidState(
                    "the registration was unregistered".into(),
                )));
                return;
            };
            let Some((script_url, worker_type)) = registration.newest_script() else {
                let _ = reply.send(Err(JobRejection::InvalidState(
                    "the registration has no worker to update".into(),
                )));
                return;
            };
            let id = host.next_id.fetch_add(1, Ordering::AcqRel);
            host.spawn_job(move |host| async move {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let job = registration.update(
                    &host,
                    id,
                    script_url,
                    worker_type,
                    super::register_job::UpdateJobOptions::default(),
                    Some(tx),
                );
                // update() resolves with the job promise (the new worker is
                // installing, or nothing changed), not when the job ends.
                let answer = async {
                    let answer = match rx.await {
                        Ok(Ok((view, seen))) => {
                            let _ = seen.send(());
                            Ok(view)
                        }
                        Ok(Err(e)) => Err(e),
                        Err(_) => Ok(registration.view()),
                    };
                    let _ = reply.send(answer);
                };
                let (result, ()) = tokio::join!(job, answer);
                if let Err(error) = result {
                    tracing::info!("update of {} failed: {error}", registration.scope);
                }
            });
        }
        HostRequest::HasActiveWorker { scope, reply } => {
            let active = host
                .registration_with_scope(&scope)
                .and_then(|r| r.active())
                .is_some();
            let _ = reply.send(active);
        }
        HostRequest::Registrations { client, reply } => {
            let views: Vec<RegistrationView> = match container_client_url(host, &client) {
                Some(url) => host
                    .registrations_of_origin(&url)
                    .iter()
                    .map(|r| r.view())
                    .collect(),
                None => Vec::new(),
            };
            let _ = reply.send(views);
        }
        HostRequest::Unregister { scope, reply } => {
            let Some(registration_id) = host.unregister(&scope) else {
                let _ = reply.send(false);
                return;
            };
            // In flight until the registration is cleared, so a run does not
            // end before a later one would stop finding it.
            host.spawn_job(move |host| async move {
                // Gone from the store and its background fetches stopped
                // before the promise resolves: what the page does next (a
                // restart, a new registration of the scope) finds neither.
                host.forget_registration(&scope).await;
                if let Some(context) = host.background_fetch.get() {
                    if let Err(e) = context.service.abandon_registration(scope.as_str()).await {
                        tracing::warn!(%scope, "cannot stop the background fetches of an unregistered registration: {e}");
                    }
                }
                let _ = reply.send(true);
                host.try_clear_registration(registration_id).await;
            });
        }
        request @ (HostRequest::StartWorker { .. }
        | HostRequest::ConnectSharedWorker { .. }
        | HostRequest::CloseWorker { .. }) => super::workers::handle_request(host, request),
        HostRequest::PostToWorker {
            sender,
            version_id,
            message,
            reply,
        } => {
            let Some((registration, version)) = host.version_by_id(version_id) else {
                let _ = reply.send(false);
                return;
            };
            // ExtendableMessageEvent source: the page's Client, or the
            // sending worker's ServiceWorker object.
            let data = match &sender {
                MessageSender::Client(client_id) => page(host, client_id).map(|page| {
                    json!({
                        "source": page.info(host),
                        "origin": page.url.origin().ascii_serialization(),
                    })
                }),
                MessageSender::Worker(id) => host.version_by_id(*id).map(|(_, from)| {
                    json!({
                        "sourceWorker": from.view(),
                        "origin": from.script_url.origin().ascii_serialization(),
                    })
                }),
            };
            let Some(data) = data else {
                let _ = reply.send(false);
                return;
            };
            // Counted before replying, so the message event is "in flight"
            // from the moment the sender's postMessage returns.
            host.spawn_job(move |host| async move {
                if let Err(error) = version
                    .deliver_message(&host, &registration, message, data)
                    .await
                {
                    tracing::warn!(
                        "message to {} was not delivered: {error}",
                        version.script_url
                    );
                }
            });
            let _ = reply.send(true);
        }
    }
}
