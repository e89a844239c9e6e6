//! The control API and dashboard of `swrt serve`.
//!
//! [`ControlServer`] serves, for one [`ServiceWorkerHost`]:
//!
//! * `GET /`: the dashboard, one row per background fetch with its icon,
//!   title, progress bar and state, and buttons that abort or open (click) it;
//! * `GET /openapi.json`: the OpenAPI 3 description of everything below;
//! * `/api/workers`: list, and register or update a worker by script URL;
//! * `/api/fetches`: start, list, get, abort and click background fetches;
//! * `POST /api/network`: declare the host online or offline (Background
//!   Sync events fire only while it is online; going online fires them);
//! * `GET /api/events`: every fetch's changes as Server-Sent Events.
//!
//! Fetch changes reach the server through a [`ControlHub`], which is the
//! host's [`BackgroundFetchUi`]: build the host with
//! `.background_fetch_ui(hub.clone())` and hand the same hub to the server.
//!
//! Access. Anyone who can call the API can make the machine download and run
//! code, so web content must never reach it:
//!
//! * requests from the host's own realms (they carry
//!   [`swrt_runtime::HOST_REQUEST_HEADER`]) are refused, so a worker the
//!   daemon runs cannot call the API over loopback;
//! * a request whose `Origin` is not the server's own, or whose
//!   `Sec-Fetch-Site` says another site sent it, is refused, so a page in a
//!   browser cannot drive the API (CSRF);
//! * on a loopback listener, `Host` must name a loopback host, so a web page
//!   cannot reach the API through DNS rebinding;
//! * there is always a token (the caller's, or a random one made at start):
//!   every state-changing request needs `Authorization: Bearer TOKEN` (or
//!   `?access_token=TOKEN`). Reads (`GET`) need it too unless the server
//!   listens on loopback with a token it made itself.

// Handlers return `Result<_, Response>` where the error is the HTTP answer
// itself, built once per failed request; boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use swrt_bgfetch::{FetchOptions, FetchRejection, FetchRequest, FetchState, Icon, RequestSpec};
use swrt_runtime::{BackgroundFetchUi, FetchControl, FetchView, ServiceWorkerHost};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;
use url::Url;

use swrt_server::ServerError;

const DASHBOARD: &str = include_str!("dashboard.html");
const OPENAPI: &str = include_str!("openapi.json");

/// Receives the host's background fetch changes and fans them out to the
/// control server's event streams. Pass it to
/// `ServiceWorkerHostBuilder::background_fetch_ui`.
pub struct ControlHub {
    changes: broadcast::Sender<FetchView>,
}

impl std::fmt::Debug for ControlHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ControlHub")
    }
}

impl ControlHub {
    /// A hub with no listeners yet.
    pub fn new() -> Arc<Self> {
        // Slow SSE clients skip intermediate values (they get `Lagged` and
        // re-read); the newest view of a fetch always supersedes older ones.
        let (changes, _) = broadcast::channel(256);
        Arc::new(ControlHub { changes })
    }

    /// Every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<FetchView> {
        self.changes.subscribe()
    }

    fn publish(&self, view: &FetchView) {
        let _ = self.changes.send(view.clone());
    }
}

impl BackgroundFetchUi for ControlHub {
    fn fetch_shown(&self, fetch: &FetchView, _control: FetchControl) {
        self.publish(fetch);
    }
    fn progress(&self, fetch: &FetchView) {
        self.publish(fetch);
    }
    fn ui_updated(&self, fetch: &FetchView) {
        self.publish(fetch);
    }
    fn settled(&self, fetch: &FetchView) {
        self.publish(fetch);
    }
    fn finished(&self, fetch: &FetchView) {
        self.publish(fetch);
    }
}

/// Configures a [`ControlServer`]; made by [`ControlServer::builder`].
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct ControlServerBuilder {
    host: ServiceWorkerHost,
    hub: Arc<ControlHub>,
    listen: SocketAddr,
    token: Option<String>,
}

/// A fresh random token (122 random bits from the OS generator).
fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl ControlServerBuilder {
    /// Address to listen on (default `127.0.0.1:7878`).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The token `Authorization: Bearer TOKEN` must carry, on every API
    /// request. Without one (or with an empty one) the server makes a random
    /// token ([`ControlServer::token`]), required for state-changing
    /// requests only, and only when it listens on loopback; beyond loopback
    /// every API request needs it.
    pub fn token(mut self, token: Option<String>) -> Self {
        self.token = token.filter(|t| !t.is_empty());
        self
    }

    /// Binds and serves on the current tokio runtime.
    pub async fn start(self) -> Result<ControlServer, ServerError> {
        let bind_err = |source| ServerError::Bind {
            addr: self.listen,
            source,
        };
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(bind_err)?;
        let local_addr = listener.local_addr().map_err(bind_err)?;
        let loopback = local_addr.ip().is_loopback();
        let reads_need_token = self.token.is_some() || !loopback;
        let token = self.token.unwrap_or_else(random_token);
        let state = Arc::new(Ctx {
            host: self.host,
            hub: self.hub,
            token: token.clone(),
            loopback,
            reads_need_token,
        });
        let (tx, task) = swrt_server::serve_until_shutdown(listener, router(state));
        tracing::info!(%local_addr, "control API listening");
        Ok(ControlServer {
            local_addr,
            token,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// The running control API and dashboard.
#[derive(Debug)]
pub struct ControlServer {
    local_addr: SocketAddr,
    token: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl ControlServer {
    /// A server for `host` whose fetch changes arrive through `hub`.
    pub fn builder(host: ServiceWorkerHost, hub: Arc<ControlHub>) -> ControlServerBuilder {
        ControlServerBuilder {
            host,
            hub,
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            token: None,
        }
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The bearer token the API requires (the configured one, or the one
    /// made at start).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Stops accepting connections and ends open event streams; waits at
    /// most a second for the rest.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            // Event streams never end by themselves; don't wait for them.
            if tokio::time::timeout(Duration::from_secs(1), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct Ctx {
    host: ServiceWorkerHost,
    hub: Arc<ControlHub>,
    token: String,
    /// Listening on a loopback address: `Host` must then name loopback.
    loopback: bool,
    /// `GET` on the API needs the token too.
    reads_need_token: bool,
}

type Shared = Arc<Ctx>;

fn router(state: Shared) -> Router {
    let api = Router::new()
        .route("/api/workers", get(list_workers).post(register_worker))
        .route("/api/fetches", get(list_fetches).post(start_fetch))
        .route("/api/fetches/{unique_id}", get(get_fetch))
        .route("/api/fetches/{unique_id}/abort", post(abort_fetch))
        .route("/api/fetches/{unique_id}/click", post(click_fetch))
        .route("/api/network", post(set_network))
        .route("/api/origins/clear", post(clear_origin))
        .route("/api/events", get(events));
    Router::new()
        .route("/", get(|| async { Html(DASHBOARD) }))
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
        .merge(api)
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Refuses what web content could send (see the module docs), then checks
/// the token where one is needed.
async fn guard(State(ctx): State<Shared>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let forbidden = |message: &str| error(StatusCode::FORBIDDEN, "Forbidden", message);
    if headers.contains_key(swrt_runtime::HOST_REQUEST_HEADER) {
        tracing::warn!(path = %req.uri().path(), "refused a control API request from a hosted realm");
        return forbidden("scripts run by this host cannot use its control API");
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if ctx.loopback && !is_loopback_host(host) {
        return forbidden("the Host header must name a loopback address");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| Url::parse(o).ok())
            .is_some_and(|o| is_own_origin(&o, host));
        if !same {
            return forbidden("requests from other origins are refused");
        }
    }
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v != "same-origin" && v != "none")
    {
        return forbidden("requests from other sites are refused");
    }
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    let needs_token = req.uri().path().starts_with("/api/") && (!reads || ctx.reads_need_token);
    if needs_token && !has_token(&req, &ctx.token) {
        let mut resp = error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "a bearer token is required (swrt serve prints it at start)",
        );
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("valid"));
        return resp;
    }
    next.run(req).await
}

/// `Authorization: Bearer TOKEN`, or `?access_token=TOKEN` for `EventSource`,
/// which cannot set headers.
fn has_token(req: &Request, token: &str) -> bool {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_string);
    let query = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
    });
    [bearer, query]
        .into_iter()
        .flatten()
        .any(|given| constant_time_eq(given.as_bytes(), token.as_bytes()))
}

/// True when `origin` is this server as addressed by `host` (the `Host`
/// header): the dashboard's own requests.
fn is_own_origin(origin: &Url, host: &str) -> bool {
    if !matches!(origin.scheme(), "http" | "https") || host.is_empty() {
        return false;
    }
    let Some(name) = origin.host_str() else {
        return false;
    };
    let own = match origin.port() {
        Some(port) => format!("{name}:{port}"),
        None => name.to_string(),
    };
    own.eq_ignore_ascii_case(host)
}

fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Compares without an early exit, so response timing does not reveal how
/// much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn error(status: StatusCode, name: &str, message: &str) -> Response {
    (status, Json(json!({ "error": name, "message": message }))).into_response()
}

fn engine(ctx: &Ctx) -> Result<&swrt_bgfetch::BackgroundFetchService, Response> {
    ctx.host.background_fetch().ok_or_else(|| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable",
            "this host runs without a data dir, so without Background Fetch",
        )
    })
}

fn registration_json(info: &swrt_runtime::RegistrationInfo) -> Value {
    let worker = |w: &Option<(Url, swrt_runtime::WorkerState)>| {
        w.as_ref()
            .map(|(url, state)| json!({ "script_url": url.as_str(), "state": state.as_str() }))
    };
    json!({
        "scope": info.scope.as_str(),
        "active": worker(&info.active),
        "waiting": worker(&info.waiting),
        "installing": worker(&info.installing),
    })
}

async fn list_workers(State(ctx): State<Shared>) -> Response {
    let all: Vec<Value> = ctx
        .host
        .registrations()
        .iter()
        .map(registration_json)
        .collect();
    Json(all).into_response()
}

#[derive(Deserialize)]
struct RegisterBody {
    script_url: String,
    #[serde(default)]
    scope: Option<String>,
    /// `classic` (default) or `module`.
    #[serde(default, rename = "type")]
    worker_type: Option<String>,
}

async fn register_worker(State(ctx): State<Shared>, Json(body): Json<RegisterBody>) -> Response {
    let parse = |what: &str, text: &str| {
        Url::parse(text).map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                "TypeError",
                &format!("bad {what} {text:?}: {e}"),
            )
        })
    };
    let script_url = match parse("script_url", &body.script_url) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let scope = match body.scope.as_deref().map(|s| parse("scope", s)).transpose() {
        Ok(s) => s,
        Err(r) => return r,
    };
    let worker_type = match body.worker_type.as_deref() {
        None => swrt_runtime::WorkerType::Classic,
        Some(text) => match swrt_runtime::WorkerType::parse(text) {
            Some(t) => t,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "TypeError",
                    &format!("type {text:?} is not a WorkerType (classic or module)"),
                )
            }
        },
    };
    match ctx
        .host
        .register_with_type(script_url, scope, worker_type)
        .await
    {
        Ok(info) => (StatusCode::OK, Json(registration_json(&info))).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, "RegisterError", &e.to_string()),
    }
}

/// Every fetch the engine still knows: running, finishing, and finished
/// ones kept for clicks.
async fn all_fetches(
    host: &ServiceWorkerHost,
    service: &swrt_bgfetch::BackgroundFetchService,
) -> Result<Vec<FetchView>, String> {
    let store = host
        .store()
        .ok_or("this host runs without a data dir, so without a store")?;
    let ids = tokio::task::spawn_blocking(move || {
        let mut rows = Vec::new();
        for state in [
            FetchState::Active,
            FetchState::Settled,
            FetchState::Dispatched,
            FetchState::Done,
        ] {
            rows.extend(store.fetches_in_state(state)?);
        }
        Ok::<_, swrt_bgfetch::StoreError>(rows)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let mut views = Vec::with_capacity(ids.len());
    for row in ids {
        if let Ok(Some(snapshot)) = service.get_by_unique_id(&row.unique_id).await {
            views.push(FetchView::from(&snapshot));
        }
    }
    Ok(views)
}

async fn list_fetches(State(ctx): State<Shared>) -> Response {
    let service = match engine(&ctx) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match all_fetches(&ctx.host, service).await {
        Ok(views) => Json(views).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal", &e),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RequestBody {
    Url(String),
    Full {
        url: String,
        #[serde(default)]
        method: Option<String>,
        #[serde(default)]
        headers: Vec<(String, String)>,
    },
}

#[derive(Deserialize)]
struct StartBody {
    scope: String,
    id: String,
    requests: Vec<RequestBody>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    icons: Vec<Icon>,
    #[serde(default)]
    download_total: u64,
}

async fn start_fetch(State(ctx): State<Shared>, Json(body): Json<StartBody>) -> Response {
    let service = match engine(&ctx) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let bad = |m: String| error(StatusCode::BAD_REQUEST, "TypeError", &m);
    let scope = match Url::parse(&body.scope) {
        Ok(s) => s,
        Err(e) => return bad(format!("bad scope {:?}: {e}", body.scope)),
    };
    let Some(registration) = ctx.host.registration(&scope).await else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("no registration with scope {scope}; register a worker first"),
        );
    };
    // Relative URLs resolve against the scope, as they would in a page there.
    let mut requests = Vec::with_capacity(body.requests.len());
    for r in body.requests {
        let (url, method, headers) = match r {
            RequestBody::Url(url) => (url, None, vec![]),
            RequestBody::Full {
                url,
                method,
                headers,
            } => (url, method, headers),
        };
        let url = match scope.join(&url) {
            Ok(u) => u,
            Err(e) => return bad(format!("bad request URL {url:?}: {e}")),
        };
        let mut spec = RequestSpec::get(url.as_str());
        if let Some(m) = method {
            spec.method = m.to_ascii_uppercase();
        }
        spec.headers = headers;
        requests.push(spec);
    }
    let icons = body
        .icons
        .into_iter()
        .map(|mut icon| {
            if let Ok(u) = scope.join(&icon.src) {
                icon.src = u.to_string();
            }
            icon
        })
        .collect();
    let request = FetchRequest {
        scope: scope.to_string(),
        id: body.id,
        requests,
        options: FetchOptions {
            title: body.title,
            icons,
            download_total: body.download_total,
        },
        origin: scope.origin().ascii_serialization(),
        policy: Default::default(),
        has_active_worker: registration.active.is_some(),
    };
    match service.fetch(request).await {
        Ok(snapshot) => (StatusCode::CREATED, Json(FetchView::from(&snapshot))).into_response(),
        Err(rejection) => {
            let (status, name) = match &rejection {
                FetchRejection::TypeError(_) => (StatusCode::BAD_REQUEST, "TypeError"),
                FetchRejection::QuotaExceeded(_) => {
                    (StatusCode::INSUFFICIENT_STORAGE, "QuotaExceededError")
                }
                FetchRejection::NotAllowed(_) => (StatusCode::FORBIDDEN, "NotAllowedError"),
                FetchRejection::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Internal"),
            };
            error(status, name, &rejection.to_string())
        }
    }
}

async fn view(ctx: &Ctx, unique_id: &str) -> Result<FetchView, Response> {
    let service = engine(ctx)?;
    match service.get_by_unique_id(unique_id).await {
        Ok(Some(snapshot)) => Ok(FetchView::from(&snapshot)),
        Ok(None) => Err(error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("no fetch {unique_id}"),
        )),
        Err(e) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            &e.to_string(),
        )),
    }
}

async fn get_fetch(State(ctx): State<Shared>, Path(unique_id): Path<String>) -> Response {
    match view(&ctx, &unique_id).await {
        Ok(v) => Json(v).into_response(),
        Err(r) => r,
    }
}

/// The UI handle of a known fetch (abort, click).
async fn control(ctx: &Ctx, unique_id: &str) -> Result<FetchControl, Response> {
    let v = view(ctx, unique_id).await?;
    Ok(FetchControl::new(engine(ctx)?.clone(), &v))
}

async fn abort_fetch(State(ctx): State<Shared>, Path(unique_id): Path<String>) -> Response {
    let control = match control(&ctx, &unique_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match control.abort().await {
        Ok(aborted) => Json(json!({ "aborted": aborted })).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            &e.to_string(),
        ),
    }
}

async fn click_fetch(State(ctx): State<Shared>, Path(unique_id): Path<String>) -> Response {
    let control = match control(&ctx, &unique_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // The click event may run for long (waitUntil); answer once it is
    // delivered rather than holding the request open. Errors are logged.
    tokio::spawn(async move {
        if let Err(e) = control.click().await {
            tracing::warn!("backgroundfetchclick for {}: {e}", control.unique_id());
        }
    });
    (StatusCode::ACCEPTED, Json(json!({ "clicked": true }))).into_response()
}

#[derive(Deserialize)]
struct NetworkBody {
    online: bool,
}

/// Background Sync fires while the host is online: a host that knows its
/// network state (or a test) says so here; going online fires what is due.
async fn set_network(State(ctx): State<Shared>, Json(body): Json<NetworkBody>) -> Response {
    ctx.host.set_online(body.online);
    Json(json!({ "online": body.online })).into_response()
}

#[derive(Deserialize)]
struct ClearOriginBody {
    origin: String,
}

/// Clears an origin's storage ("clear site data"): its service worker
/// registrations, IndexedDB databases and Cache API caches.
async fn clear_origin(State(ctx): State<Shared>, Json(body): Json<ClearOriginBody>) -> Response {
    let origin = match Url::parse(&body.origin) {
        Ok(url) if url.origin().is_tuple() => url,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "TypeError",
                &format!(
                    "{:?} has no origin to clear (an http(s) URL is needed)",
                    body.origin
                ),
            )
        }
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "TypeError",
                &format!("bad origin {:?}: {e}", body.origin),
            )
        }
    };
    match ctx.host.clear_origin_storage(&origin).await {
        Ok(cleared) => Json(json!({
            "origin": origin.origin().ascii_serialization(),
            "registrations": cleared.registrations,
            "databases": cleared.databases,
            "caches": cleared.caches,
        }))
        .into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "StorageError",
            &e.to_string(),
        ),
    }
}

async fn events(State(ctx): State<Shared>) -> Response {
    let service = match engine(&ctx) {
        Ok(s) => s.clone(),
        Err(r) => return r,
    };
    // Subscribe before listing, so no change between the two is lost.
    let changes = ctx.hub.subscribe();
    let initial = all_fetches(&ctx.host, &service).await.unwrap_or_default();
    let to_event = |v: &FetchView| {
        Event::default()
            .event("fetch")
            .json_data(v)
            .unwrap_or_else(|_| Event::default().comment("unserialisable"))
    };
    let first = futures::stream::iter(initial.iter().map(to_event).collect::<Vec<_>>());
    let rest = futures::stream::unfold(
        (changes, service),
        move |(mut changes, service)| async move {
            match changes.recv().await {
                Ok(v) => Some((to_event(&v), (changes, service))),
                // Missed changes: tell the client to re-list.
                Err(broadcast::error::RecvError::Lagged(_)) => Some((
                    Event::default().event("resync").data("{}"),
                    (changes, service),
                )),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        },
    );
    let stream = first.chain(rest).map(Ok::<_, std::convert::Infallible>);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback_host("127.0.0.1:7878"));
        assert!(is_loopback_host("localhost:1"));
        assert!(is_loopback_host("[::1]:80"));
        assert!(is_loopback_host("localhost"));
        assert!(!is_loopback_host("evil.example:7878"));
        assert!(!is_loopback_host("10.0.0.1:7878"));
        assert!(!is_loopback_host(""));
    }

    #[test]
    fn own_origin_matches_host() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(is_own_origin(
            &url("http://127.0.0.1:7878"),
            "127.0.0.1:7878"
        ));
        assert!(is_own_origin(&url("http://localhost"), "localhost"));
        assert!(is_own_origin(&url("http://[::1]:9"), "[::1]:9"));
        assert!(!is_own_origin(
            &url("http://127.0.0.1:8080"),
            "127.0.0.1:7878"
        ));
        assert!(!is_own_origin(
            &url("http://evil.example"),
            "127.0.0.1:7878"
        ));
        assert!(!is_own_origin(&url("file:///x"), "127.0.0.1:7878"));
        assert!(!is_own_origin(&url("http://127.0.0.1:7878"), ""));
    }

    #[test]
    fn tokens_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn openapi_is_json_and_names_every_route() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("valid JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in [
            "/api/workers",
            "/api/fetches",
            "/api/fetches/{unique_id}",
            "/api/fetches/{unique_id}/abort",
            "/api/fetches/{unique_id}/click",
            "/api/network",
            "/api/origins/clear",
            "/api/events",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }
    }
}
