//! Loopback test server and helpers shared by the integration tests.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swrt_bgfetch::*;

pub mod faults;

/// Deterministic body content.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

pub fn sha(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub query: String,
    pub range: Option<String>,
    pub origin: Option<String>,
    pub body_len: usize,
    /// Arrival time (to merge the logs of several servers).
    pub at: std::time::Instant,
}

#[derive(Default)]
pub struct ServerState {
    pub attempts: Mutex<HashMap<String, usize>>,
    pub log: Mutex<Vec<Logged>>,
    pub inflight: AtomicUsize,
    pub max_inflight: AtomicUsize,
}

pub struct TestServer {
    pub base: String,
    pub state: Arc<ServerState>,
}

impl TestServer {
    pub fn url(&self, q: &str) -> String {
        format!("{}/f?{q}", self.base)
    }
    pub fn log(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }
}

struct InflightGuard(Arc<ServerState>);
impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Start a server on 127.0.0.1:0. One handler, driven by query parameters:
/// n (size), key (attempt counter), cut (drop the connection after this
/// absolute offset), cuts (how many attempts are cut, default 1), etag,
/// etag2 (ETag from the second attempt on), ignore_range, status, gzip,
/// delay_ms (per chunk), head_delay_ms (before the response head), chunk,
/// redirect (hops left), acao, acac, expose, allow_methods, allow_headers,
/// max_age (preflight `Access-Control-Max-Age`).
pub async fn start_server() -> TestServer {
    let state = Arc::new(ServerState::default());
    let app = Router::new()
        .route("/f", axum::routing::any(handler))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    TestServer {
        base: format!("http://127.0.0.1:{}", addr.port()),
        state,
    }
}

async fn handler(
    State(st): State<Arc<ServerState>>,
    method: Method,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let get = |k: &str| q.get(k).cloned();
    let num = |k: &str, d: usize| q.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let mut qs: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    qs.sort();
    st.log.lock().unwrap().push(Logged {
        method: method.to_string(),
        query: qs.join("&"),
        range: headers
            .get("range")
            .map(|v| v.to_str().unwrap().to_string()),
        origin: headers
            .get("origin")
            .map(|v| v.to_str().unwrap().to_string()),
        body_len: body.len(),
        at: std::time::Instant::now(),
    });
    let head_delay = num("head_delay_ms", 0) as u64;
    if head_delay > 0 {
        tokio::time::sleep(Duration::from_millis(head_delay)).await;
    }
    let mut b = Response::builder();
    if let Some(a) = get("acao") {
        b = b.header("access-control-allow-origin", a);
    }
    if get("acac").is_some() {
        b = b.header("access-control-allow-credentials", "true");
    }
    if let Some(e) = get("expose") {
        b = b.header("access-control-expose-headers", e);
    }
    if method == Method::OPTIONS {
        if let Some(m) = get("allow_methods") {
            b = b.header("access-control-allow-methods", m);
        }
        if let Some(h) = get("allow_headers") {
            b = b.header("access-control-allow-headers", h);
        }
        if let Some(a) = get("max_age") {
            b = b.header("access-control-max-age", a);
        }
        return b.status(204).body(Body::empty()).unwrap();
    }
    if method == Method::POST && get("echo").is_some() {
        return b
            .status(200)
            .body(Body::from(format!("{}", body.len())))
            .unwrap();
    }
    if let Some(hops) = get("redirect").and_then(|v| v.parse::<usize>().ok()) {
        if hops > 0 {
            let mut q2 = q.clone();
            q2.insert("redirect".into(), (hops - 1).to_string());
            let qs: Vec<_> = q2.iter().map(|(k, v)| format!("{k}={v}")).collect();
            return b
                .status(302)
                .header("location", format!("/f?{}", qs.join("&")))
                .body(Body::empty())
                .unwrap();
        }
    }
    let key = get("key").unwrap_or_default();
    let attempt = {
        let mut a = st.attempts.lock().unwrap();
        let c = a.entry(key).or_default();
        *c += 1;
        *c - 1
    };
    let n = num("n", 1000);
    let full = pattern(n);
    let status = num("status", 200) as u16;
    let etag = if attempt > 0 && get("etag2").is_some() {
        get("etag2").unwrap()
    } else {
        get("etag").unwrap_or_else(|| "\"v1\"".into())
    };
    b = b
        .header("etag", etag)
        .header("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT")
        .header("accept-ranges", "bytes")
        .header("x-secret", "s")
        .header("content-type", "application/octet-stream");
    if get("gzip").is_some() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&full).unwrap();
        let z = enc.finish().unwrap();
        return b
            .status(status)
            .header("content-encoding", "gzip")
            .header("content-length", z.len())
            .body(Body::from(z))
            .unwrap();
    }
    let range_start = headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.trim_end_matches('-').parse::<usize>().ok());
    let (start, code) = match range_start {
        Some(s) if get("ignore_range").is_none() && s <= n && status == 200 => {
            b = b.header(
                "content-range",
                format!("bytes {s}-{}/{n}", n.saturating_sub(1)),
            );
            (s, 206)
        }
        _ => (0, status),
    };
    let body_bytes = full[start..].to_vec();
    let cut = get("cut")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|_| attempt < num("cuts", 1));
    let chunk = num("chunk", 16 * 1024);
    let delay = Duration::from_millis(num("delay_ms", 0) as u64);
    let len = body_bytes.len();
    st.inflight.fetch_add(1, Ordering::SeqCst);
    let now = st.inflight.load(Ordering::SeqCst);
    st.max_inflight.fetch_max(now, Ordering::SeqCst);
    let guard = InflightGuard(st.clone());
    let stream = async_stream(body_bytes, start, cut, chunk, delay, guard);
    b.status(code)
        .header("content-length", len)
        .body(Body::from_stream(stream))
        .unwrap()
}

fn async_stream(
    body: Vec<u8>,
    start: usize,
    cut: Option<usize>,
    chunk: usize,
    delay: Duration,
    guard: InflightGuard,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures::stream::unfold(
        (body, 0usize, guard),
        move |(body, pos, guard)| async move {
            if pos >= body.len() {
                return None;
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let abs = start + pos;
            if let Some(c) = cut {
                if abs >= c {
                    // Let hyper flush what it buffered, then drop the connection.
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    return Some((Err(std::io::Error::other("cut")), (body, usize::MAX, guard)));
                }
            }
            let mut end = (pos + chunk).min(body.len());
            if let Some(c) = cut {
                end = end.min(c - start);
            }
            let b = Bytes::copy_from_slice(&body[pos..end]);
            Some((Ok(b), (body, end, guard)))
        },
    )
}

/// One recorded event: kind, registration, and records with their bodies.
pub type Event = (
    EventKind,
    RegistrationSnapshot,
    Vec<(RecordInfo, Option<Vec<u8>>)>,
);

/// Dispatcher that records every event and, for terminal events, reads the
/// records' bodies while they are still available.
#[derive(Default)]
pub struct Recorder {
    pub svc: std::sync::OnceLock<BackgroundFetchService>,
    /// The store the test opened for the engine (the engine never closes it).
    pub store: std::sync::OnceLock<Arc<Store>>,
    pub events: Mutex<Vec<Event>>,
    pub notify: tokio::sync::Notify,
    /// When set, a terminal event's lifetime lasts until the test adds a
    /// permit, as a worker's `waitUntil` would hold it open: records stay
    /// readable meanwhile.
    pub hold: std::sync::OnceLock<Arc<tokio::sync::Semaphore>>,
}

#[async_trait::async_trait]
impl EventDispatcher for Recorder {
    async fn dispatch(
        &self,
        ev: BackgroundFetchEventRequest,
    ) -> Result<DispatchOutcome, DispatchError> {
        let mut recs = Vec::new();
        if ev.kind != EventKind::Click {
            if let Some(svc) = self.svc.get() {
                for r in svc.records(&ev.registration.unique_id).await.unwrap() {
                    let body = if matches!(
                        r.outcome,
                        RecordOutcome::Complete | RecordOutcome::BadStatus
                    ) {
                        Some(read_body(svc, &r.unique_id, r.index).await.unwrap())
                    } else {
                        None
                    };
                    recs.push((r, body));
                }
            }
        }
        self.events
            .lock()
            .unwrap()
            .push((ev.kind, ev.registration, recs));
        self.notify.notify_waiters();
        if let (Some(hold), false) = (self.hold.get(), ev.kind == EventKind::Click) {
            let _ = hold.acquire().await.map(|p| p.forget());
        }
        Ok(DispatchOutcome::Handled)
    }
}

impl Recorder {
    pub fn terminal(&self, unique_id: &str) -> Vec<Event> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, r, _)| *k != EventKind::Click && r.unique_id == unique_id)
            .cloned()
            .collect()
    }
}

pub async fn read_body(
    svc: &BackgroundFetchService,
    uid: &str,
    idx: u32,
) -> Result<Vec<u8>, RecordError> {
    use futures::StreamExt;
    let mut s = Box::pin(svc.body_stream(uid, idx));
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c?);
    }
    Ok(out)
}

pub fn test_limits() -> Limits {
    Limits {
        retry_base_delay: Duration::from_millis(10),
        retry_max_delay: Duration::from_millis(50),
        idle_timeout: Duration::from_secs(10),
        progress_interval: Duration::from_millis(20),
        ..Limits::default()
    }
}

pub async fn start_engine(
    dir: &std::path::Path,
    limits: Limits,
) -> (BackgroundFetchService, Arc<Recorder>) {
    init_tracing();
    let rec = Arc::new(Recorder::default());
    let store = open_store(dir).await;
    let _ = rec.store.set(store.clone());
    let svc = BackgroundFetchService::builder(store)
        .limits(limits)
        .dispatcher(rec.clone())
        .start()
        .await
        .unwrap();
    let _ = rec.svc.set(svc.clone());
    (svc, rec)
}

/// Open the data directory as a host does before it starts the engine.
pub async fn open_store(dir: &std::path::Path) -> Arc<Store> {
    let dir = dir.to_path_buf();
    let store = tokio::task::spawn_blocking(move || Store::open(dir))
        .await
        .unwrap()
        .unwrap();
    Arc::new(store)
}

/// Close a store after its engine shut down, releasing the data directory.
pub async fn close_store(store: &Arc<Store>) {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.close())
        .await
        .unwrap()
        .unwrap();
}

impl Recorder {
    /// Close the store [`start_engine`] opened.
    pub async fn close_store(&self) {
        close_store(self.store.get().expect("started with start_engine")).await;
    }
}

pub fn request(origin: &str, id: &str, urls: &[String]) -> FetchRequest {
    FetchRequest {
        scope: format!("{origin}/"),
        id: id.into(),
        requests: urls.iter().map(RequestSpec::get).collect(),
        options: FetchOptions::default(),
        origin: origin.into(),
        policy: PolicyContext {
            csp_connect_src: Vec::new(),
            is_secure_context: true,
        },
        has_active_worker: true,
    }
}

/// Run a fetch to completion and return its single terminal event.
pub async fn run_to_end(svc: &BackgroundFetchService, rec: &Recorder, req: FetchRequest) -> Event {
    let reg = svc.fetch(req).await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), svc.wait_idle())
        .await
        .expect("fetch finished in time");
    let ev = rec.terminal(&reg.unique_id);
    assert_eq!(ev.len(), 1, "exactly one terminal event");
    ev.into_iter().next().unwrap()
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWRT_LOG")
                .unwrap_or_else(|_| "off".into()),
        )
        .with_test_writer()
        .try_init();
}
