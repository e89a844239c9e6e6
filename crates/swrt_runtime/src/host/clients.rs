//! Page clients: opening pages and frames, navigating them through their
//! controller, and offering fetch events.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use serde_json::json;
use swrt_store::{BodyId, BodyStorage};
use tokio::sync::oneshot;
use url::Url;

use super::HostInner;
use super::{Registration, Version};
use crate::error::FrameError;
use crate::error::{HostError, ScriptError};
use crate::realm::{
    ClientInfo, FetchEventResponse, HostRequest, OpenedFrame, PageContext, PageEvaluation,
    RealmHandle, RealmKind,
};
use crate::realm::{NavigationPreloadAction, NavigationPreloadState};
use crate::service_worker::router::RouterSource;
use crate::sync::Locked;

/// A client the host runs: a page, or a dedicated or shared worker.
pub(crate) struct PageEntry {
    pub(crate) id: String,
    pub(crate) url: Url,
    /// The realm the client runs in; a same-origin frame shares its
    /// top-level page's.
    pub(crate) handle: Arc<RealmHandle>,
    /// Version id of the worker controlling this client.
    pub(super) controller: Mutex<Option<u64>>,
    /// `window`, `worker` or `sharedworker`.
    pub(crate) client_type: &'static str,
    /// The client that created a dedicated worker; it stops with its owner.
    pub(crate) owner: Option<String>,
    /// For a frame (a nested browsing context), its parent's client id.
    pub(super) parent: Option<String>,
    /// A cross-origin frame runs in a realm of its own; a same-origin frame
    /// shares its page's.
    pub(super) own_realm: bool,
    /// The origin: the URL's, or for about:srcdoc its parent's.
    pub(crate) origin: url::Origin,
}

impl PageEntry {
    /// Version id of the worker controlling this page, if any.
    pub(crate) fn controller_id(&self) -> Option<u64> {
        *self.controller.locked()
    }

    /// A worker client's entry.
    pub(crate) fn worker(
        id: String,
        url: Url,
        handle: RealmHandle,
        controller: Option<u64>,
        client_type: &'static str,
        owner: Option<String>,
    ) -> Self {
        let origin = url.origin();
        PageEntry {
            id,
            url,
            handle: Arc::new(handle),
            controller: Mutex::new(controller),
            client_type,
            owner,
            parent: None,
            own_realm: true,
            origin,
        }
    }

    pub(super) fn info(&self, host: &HostInner) -> ClientInfo {
        let mut ancestor_origins = Vec::new();
        let mut parent = self.parent.clone();
        while let Some(entry) = parent.and_then(|id| page(host, &id)) {
            ancestor_origins.push(entry.origin.ascii_serialization());
            parent = entry.parent.clone();
        }
        ClientInfo {
            ancestor_origins,
            id: self.id.clone(),
            url: self.url.to_string(),
            client_type: self.client_type.into(),
            // Service Workers, Client's frame type: "none" for workers.
            frame_type: match (self.client_type, &self.parent) {
                ("window", Some(_)) => "nested",
                ("window", None) => "top-level",
                _ => "none",
            }
            .into(),
        }
    }

    /// A same-origin frame: its realm is its page's.
    pub(crate) fn shares_realm(&self) -> bool {
        !self.own_realm
    }

    /// Stops the page's realm (same-origin frames end with their page's).
    pub(crate) async fn close(self: Arc<Self>) {
        if self.shares_realm() {
            return;
        }
        match Arc::try_unwrap(self).map(|entry| Arc::try_unwrap(entry.handle)) {
            Ok(Ok(handle)) => handle.stop().await,
            Ok(Err(shared)) => shared.terminate_quietly(),
            Err(shared) => shared.handle.terminate_quietly(),
        }
    }
}

/// A page opened with [`ServiceWorkerHost::open_page`](super::ServiceWorkerHost::open_page).
pub struct PageHandle {
    /// The page's client id.
    pub id: String,
    /// The page's URL.
    pub url: Url,
    evaluation: Option<PageEvaluation>,
}

impl PageHandle {
    /// Resolves when the page's script has finished evaluating (for a module,
    /// after its top-level `await`s), with the exception if it threw.
    ///
    /// A classic script that fails to parse because it uses `import`,
    /// `export` or top-level `await` is run as a module instead, like Node's
    /// module detection, so page code written either way runs unmodified.
    pub async fn evaluated(&mut self) -> Result<(), ScriptError> {
        match self.evaluation.take() {
            Some(rx) => rx
                .await
                .unwrap_or_else(|_| Err(ScriptError::plain("the page stopped"))),
            None => Ok(()),
        }
    }
}

pub(crate) async fn open_page(
    host: &Arc<HostInner>,
    url: Url,
    module: Option<bool>,
) -> Result<PageHandle, HostError> {
    open_page_in(host, url, module, None).await
}

/// Opens a page in a realm of its own: a top-level page, or (with `parent`)
/// a cross-origin frame of that page.
pub(super) async fn open_page_in(
    host: &Arc<HostInner>,
    url: Url,
    module: Option<bool>,
    parent: Option<Arc<PageEntry>>,
) -> Result<PageHandle, HostError> {
    let id = uuid::Uuid::new_v4().to_string();
    // A page loaded inside an active registration's scope is controlled by
    // it, and its worker answers the navigation that loads it.
    let controlling = host
        .matching_registration(&url)
        .and_then(|r| r.active().map(|v| (r, v)));
    let controller = controlling.as_ref().map(|(_, v)| v.clone());
    let page = navigate(host, &url, &id, controlling, "document").await?;
    let (gate_tx, gate_rx) = tokio::sync::oneshot::channel();
    let (handle, evaluation) = RealmHandle::start(host.realm_spec(
        &url,
        page.text,
        RealmKind::Page(PageContext {
            client_id: id.clone(),
            controller: controller.as_ref().map(|v| v.view()),
            document: page.html,
            csp: page.csp,
            module,
            start_gate: Some(gate_rx),
            parent: parent.as_ref().map(|p| crate::realm::ParentWindow {
                client_id: p.id.clone(),
                origin: p.origin.ascii_serialization(),
            }),
        }),
    ))
    .await?;
    host.pages.locked().push(Arc::new(PageEntry {
        id: id.clone(),
        url: url.clone(),
        handle: Arc::new(handle),
        controller: Mutex::new(controller.map(|v| v.id)),
        client_type: "window",
        owner: None,
        parent: parent.map(|p| p.id.clone()),
        own_realm: true,
        origin: url.origin(),
    }));
    let _ = gate_tx.send(());
    Ok(PageHandle {
        id,
        url,
        evaluation,
    })
}

/// Navigates a new frame of page `parent_client_id` to `url`: the frame is
/// a client of its own, controlled by the worker whose scope holds its URL
/// (which answers the navigation, destination "iframe").
pub(super) async fn open_frame(
    host: &Arc<HostInner>,
    parent_client_id: &str,
    url: Url,
) -> Result<OpenedFrame, FrameError> {
    let parent = page(host, parent_client_id).ok_or(FrameError::ParentGone)?;
    let id = uuid::Uuid::new_v4().to_string();
    let (document, controller) = if url.as_str() == "about:srcdoc" {
        // Its markup comes from the parent; like about:blank it inherits
        // the parent's controller (Service Workers, "Handle Fetch" is never
        // reached for it).
        let controller = parent
            .controller_id()
            .and_then(|id| host.version_by_id(id))
            .map(|(_, v)| v);
        (
            NavigatedPage {
                text: String::new(),
                html: true,
                csp: Vec::new(),
            },
            controller,
        )
    } else {
        let controlling = host
            .matching_registration(&url)
            .and_then(|r| r.active().map(|v| (r, v)));
        let controller = controlling.as_ref().map(|(_, v)| v.clone());
        let document = navigate(host, &url, &id, controlling, "iframe").await?;
        (document, controller)
    };
    host.pages.locked().push(Arc::new(PageEntry {
        id: id.clone(),
        url: url.clone(),
        handle: parent.handle.clone(),
        controller: Mutex::new(controller.as_ref().map(|v| v.id)),
        client_type: "window",
        owner: None,
        parent: Some(parent_client_id.to_string()),
        own_realm: false,
        origin: parent.origin.clone(),
    }));
    Ok(OpenedFrame {
        client_id: id,
        url: url.to_string(),
        html: document.html,
        text: document.text,
        csp: document.csp,
        controller: controller.map(|v| v.view()),
    })
}

/// Handle Fetch: offers `request` to `version`'s fetch listeners. `reply`
/// gets the worker's answer, or None (go to the network) when the worker
/// has no fetch listener or did not call `respondWith()`.
pub(crate) fn offer_fetch_event(
    host: &Arc<HostInner>,
    registration: Arc<Registration>,
    version: Arc<Version>,
    mut request: serde_json::Value,
    body: Option<Vec<u8>>,
    preload_body: Option<Vec<u8>>,
    reply: oneshot::Sender<Option<FetchEventResponse>>,
) {
    let request_id = host.next_id.fetch_add(1, Ordering::AcqRel);
    request["requestId"] = serde_json::Value::from(request_id);
    host.spawn_job(move |host| async move {
        // Handle Fetch: the worker's router rules come first.
        let reply = match version.router_source(&request).await {
            Some(RouterSource::Network) => {
                let _ = reply.send(None);
                return;
            }
            Some(RouterSource::Cache(name)) => {
                // Nothing in the cache: the network.
                let cached = cached_response(&host, &version.script_url, name, &request).await;
                let _ = reply.send(cached);
                return;
            }
            Some(RouterSource::RaceNetworkAndFetchHandler)
                if same_origin(&request, &version.script_url) =>
            {
                let (event_reply, event_answer) = oneshot::channel();
                let network = network_response(&host, request.clone(), body.clone());
                // The event runs to its end whichever answer wins.
                tokio::spawn({
                    let host = host.clone();
                    async move {
                        dispatch_fetch_event(
                            &host,
                            &registration,
                            &version,
                            request,
                            body,
                            preload_body,
                            request_id,
                            event_reply,
                        )
                        .await
                    }
                });
                let event = async move {
                    let answer = event_answer.await.ok().flatten();
                    answer.filter(|answer| answer.error.is_none())
                };
                tokio::pin!(network, event);
                let winner = tokio::select! {
                    network_answer = &mut network => match network_answer {
                        Some(answer) => Some(answer),
                        None => event.await,
                    },
                    event_answer = &mut event => match event_answer {
                        Some(answer) => Some(answer),
                        None => network.await,
                    },
                };
                let _ = reply.send(winner);
                return;
            }
            _ => reply,
        };
        dispatch_fetch_event(
            &host,
            &registration,
            &version,
            request,
            body,
            preload_body,
            request_id,
            reply,
        )
        .await;
    });
}

/// Dispatches the fetch event; `reply` gets the worker's answer, or None
/// (the network) once the event ended without one.
#[allow(clippy::too_many_arguments)]
async fn dispatch_fetch_event(
    host: &Arc<HostInner>,
    registration: &Arc<Registration>,
    version: &Arc<Version>,
    request: serde_json::Value,
    body: Option<Vec<u8>>,
    preload_body: Option<Vec<u8>>,
    request_id: u64,
    reply: oneshot::Sender<Option<FetchEventResponse>>,
) {
    host.fetch_events.locked().insert(request_id, reply);
    // A worker without a fetch listener is not woken for one
    // (Handle Fetch: the "set of event types to handle").
    if version.has_fetch_handler().await {
        let outcome = version
            .dispatch_fetch(host, registration, request, body, preload_body)
            .await;
        if let Err(error) = &outcome {
            tracing::warn!("fetch event not delivered: {error}");
        }
    }
    // No answer by the end of the event (or no worker): the network.
    // Queued behind the worker's own answer, which was sent on the
    // same channel before the event ended, so that answer wins when
    // there is one.
    let _ = host.requests.send(HostRequest::FetchEventRespond {
        request_id,
        response: None,
    });
}

/// The request (a fetch event's JSON) is same-origin with the worker.
fn same_origin(request: &serde_json::Value, script_url: &Url) -> bool {
    request["url"]
        .as_str()
        .and_then(|url| Url::parse(url).ok())
        .is_some_and(|url| url.origin() == script_url.origin())
}

/// The header list of a fetch event's request JSON.
fn request_headers(request: &serde_json::Value) -> Vec<(String, String)> {
    serde_json::from_value(request["headers"].clone()).unwrap_or_default()
}

/// Static routing, source "cache": the first response in the named cache
/// (or in the origin's caches, in creation order) that matches the request
/// as `caches.match()` would.
async fn cached_response(
    host: &HostInner,
    script_url: &Url,
    cache_name: Option<String>,
    request: &serde_json::Value,
) -> Option<FetchEventResponse> {
    let context = host.background_fetch.get()?.clone();
    let origin = script_url.origin().ascii_serialization();
    let url = request["url"].as_str()?.to_string();
    let method = request["method"].as_str().unwrap_or("GET").to_string();
    let headers = request_headers(request);
    let found = context
        .with_store(move |store| {
            let names = match cache_name {
                Some(name) => vec![name],
                None => store.cache_keys(&origin)?,
            };
            for name in names {
                // A cache deleted meanwhile (or never opened) holds nothing.
                let Some(cache_id) = store.cache_id(&origin, &name)? else {
                    continue;
                };
                let query = swrt_store::MatchRequest {
                    method: &method,
                    url: &url,
                    headers: &headers,
                };
                let hit = store
                    .cache_candidates(cache_id, Some(&url))?
                    .into_iter()
                    .find(|candidate| {
                        let entry = &candidate.entry;
                        swrt_store::request_matches_cached_item(
                            query,
                            swrt_store::MatchRequest {
                                method: &entry.method,
                                url: &entry.url,
                                headers: &entry.request_headers,
                            },
                            Some(&entry.response_headers),
                            swrt_store::MatchOptions::default(),
                        )
                    });
                if let Some(hit) = hit {
                    // Read on this blocking thread too: the store's readers block.
                    let body = match &hit.entry.body {
                        Some(key) => read_body(store.bodies(), BodyId::Cache(key)),
                        None => Ok(Vec::new()),
                    };
                    return Ok(Some((hit.entry, body)));
                }
            }
            Ok(None)
        })
        .await;
    let (entry, body) = match found {
        Ok(found) => found?,
        Err(error) => {
            tracing::warn!("the router's cache lookup failed: {error}");
            return None;
        }
    };
    let body = match body {
        Ok(body) => body,
        Err(error) => {
            tracing::warn!("cannot read a cached body: {error}");
            return None;
        }
    };
    Some(FetchEventResponse {
        status: entry.status,
        status_text: entry.status_text,
        headers: entry.response_headers,
        url_list: entry.url_list,
        response_type: entry.response_type,
        error: None,
        body,
    })
}

/// All of a stored body (blocking).
fn read_body(bodies: &dyn BodyStorage, body: BodyId<'_>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut bodies.read(body, 0)?, &mut out)?;
    Ok(out)
}

/// Static routing, the network side of "race-network-and-fetch-handler".
async fn network_response(
    host: &HostInner,
    request: serde_json::Value,
    body: Option<Vec<u8>>,
) -> Option<FetchEventResponse> {
    let url = Url::parse(request["url"].as_str()?).ok()?;
    let method = request["method"].as_str().unwrap_or("GET");
    let fetched = host
        .loader
        .fetch_routed(method, &url, &request_headers(&request), body)
        .await;
    match fetched {
        Ok(response) => Some(FetchEventResponse {
            status: response.status,
            status_text: response.status_text,
            headers: response.headers,
            url_list: vec![response.url.to_string()],
            response_type: "basic".into(),
            error: None,
            body: response.body,
        }),
        Err(error) => {
            tracing::debug!(%url, "the raced network fetch failed: {error}");
            None
        }
    }
}

/// A client's source: HTML to parse, or a script that runs as the page or
/// worker.
pub(crate) struct NavigatedPage {
    pub(crate) text: String,
    pub(crate) html: bool,
    /// The Content Security Policies it was served with.
    pub(crate) csp: Vec<String>,
}

/// The source of a new client at `url` (a page or frame, or with
/// `destination` `worker` or `sharedworker` a worker's script): the answer
/// of the active worker whose scope holds `url` (a FetchEvent with mode
/// "navigate" for a document, "same-origin" for a worker), or the network
/// when there is no such worker or it does not answer.
pub(crate) async fn navigate(
    host: &Arc<HostInner>,
    url: &Url,
    client_id: &str,
    controller: Option<(Arc<Registration>, Arc<Version>)>,
    destination: &str,
) -> Result<NavigatedPage, HostError> {
    let document = matches!(destination, "document" | "iframe");
    let network = || async {
        if !document {
            // A worker's script is a script whatever its URL says.
            return host.fetch_script(url).await.map(|script| NavigatedPage {
                text: script.text,
                html: false,
                csp: script.csp,
            });
        }
        host.loader
            .fetch_document(url)
            .await
            .map(|page| NavigatedPage {
                text: page.text,
                html: page.html,
                csp: page.csp,
            })
            .map_err(|reason| HostError::ScriptFetch {
                url: url.to_string(),
                reason: reason.to_string(),
            })
    };
    let Some((registration, version)) = controller else {
        return network().await;
    };
    let request = json!({
        "url": url.as_str(),
        "method": "GET",
        "headers": [["accept", if document { "text/html,application/xhtml+xml,*/*;q=0.8" } else { "*/*" }]],
        "mode": if document { "navigate" } else { "same-origin" },
        "destination": destination,
        "credentials": if document { "include" } else { "same-origin" },
        "redirect": "manual",
        "resultingClientId": client_id,
    });
    let mut request = request;
    let mut preload_body = None;
    if document {
        // Handle Fetch, navigation preload: with preload enabled, the
        // request goes to the network with the registration's header value,
        // and the event's preloadResponse is its answer.
        let preload = registration.navigation_preload(NavigationPreloadAction::GetState);
        if let Ok(NavigationPreloadState {
            enabled: true,
            header_value,
        }) = preload
        {
            request["preload"] = match host
                .loader
                .fetch_navigation_preload(url, &header_value)
                .await
            {
                Ok(response) => {
                    preload_body = Some(response.body);
                    json!({
                        "status": response.status,
                        "statusText": response.status_text,
                        "headers": response.headers,
                        "url": response.url.as_str(),
                    })
                }
                Err(error) => json!({ "error": error.to_string() }),
            };
        }
        // Handle Fetch: after a navigation, a stale registration is
        // soft-updated.
        host.soft_update_if_stale(&registration);
    }
    let (reply, answer) = oneshot::channel();
    offer_fetch_event(
        host,
        registration,
        version,
        request,
        None,
        preload_body,
        reply,
    );
    let Some(response) = answer.await.ok().flatten() else {
        return network().await;
    };
    let fail = |reason: String| HostError::ScriptFetch {
        url: url.to_string(),
        reason: if document {
            format!("the service worker's answer to the navigation: {reason}")
        } else {
            format!("the service worker's answer to the {destination} script request: {reason}")
        },
    };
    if let Some(error) = response.error {
        return Err(fail(format!("network error ({error})")));
    }
    if !(200..300).contains(&response.status) {
        return Err(fail(format!("status {}", response.status)));
    }
    // The worker's answer is a document when it says text/html, or when it
    // names no type for a URL that names an HTML file.
    let content_type = response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let html = document
        && match content_type.as_deref() {
            Some(essence) => essence == "text/html",
            None => url.path().ends_with(".html") || url.path().ends_with(".htm"),
        };
    let csp = crate::loader::csp_policies(
        response
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("content-security-policy"))
            .map(|(_, value)| value.as_str()),
    );
    let text =
        String::from_utf8(response.body).map_err(|_| fail("the body is not UTF-8".into()))?;
    Ok(NavigatedPage { text, html, csp })
}

pub(crate) fn page(host: &HostInner, id: &str) -> Option<Arc<PageEntry>> {
    host.pages.locked().iter().find(|p| p.id == id).cloned()
}
