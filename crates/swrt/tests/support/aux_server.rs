//! A loopback HTTP server the runtime tests talk to besides the origin the
//! case serves itself: upload echo, slow and sized bodies, CORS. Its origin
//! replaces `{{AUX}}` in a case's scripts.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;

/// Deterministic content: byte i is (i * 31 + 7) mod 251.
pub fn pattern_byte(i: u64) -> u8 {
    ((i.wrapping_mul(31) + 7) % 251) as u8
}

fn cors(headers: &mut HeaderMap) {
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, POST, PUT, OPTIONS"),
    );
    headers.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("*"),
    );
    headers.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("*"),
    );
}

#[derive(serde::Deserialize)]
struct SizeQuery {
    /// Milliseconds to wait between 16 KiB chunks.
    delay_ms: Option<u64>,
}

async fn bytes(Path(n): Path<u64>, Query(q): Query<SizeQuery>) -> Response {
    let n = n.min(64 * 1024 * 1024);
    let delay = Duration::from_millis(q.delay_ms.unwrap_or(0));
    let stream = futures::stream::unfold(0u64, move |offset| async move {
        if offset >= n {
            return None;
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let end = (offset + 16 * 1024).min(n);
        let chunk: Vec<u8> = (offset..end).map(pattern_byte).collect();
        Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), end))
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    cors(headers);
    headers.insert("content-length", HeaderValue::from(n));
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/octet-stream"),
    );
    response
}

async fn echo(method: Method, body: Bytes) -> Response {
    let mut headers = HeaderMap::new();
    cors(&mut headers);
    if method == Method::OPTIONS {
        return (StatusCode::NO_CONTENT, headers).into_response();
    }
    let text = format!("{method} {} bytes", body.len());
    (StatusCode::OK, headers, text).into_response()
}

/// `/redirect/CODE?to=URL`: a redirect with that status to `to`.
async fn redirect(
    Path(code): Path<u16>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let mut headers = HeaderMap::new();
    cors(&mut headers);
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    if let Some(to) = query.get("to").and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert("location", to);
    }
    (code, headers).into_response()
}

async fn status(Path(code): Path<u16>) -> Response {
    let mut headers = HeaderMap::new();
    cors(&mut headers);
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (code, headers, format!("status {}", code.as_u16())).into_response()
}

/// `/cors`: a resource whose CORS answer the query chooses, to test the
/// requesting side of the protocol. `allow` is the
/// `Access-Control-Allow-Origin` value (`origin` echoes the request's
/// `Origin`; absent: no header), `credentials=1` adds
/// `Access-Control-Allow-Credentials: true`, `expose`, `methods`, `headers`
/// and `max_age` fill the other `Access-Control-*` headers. Preflights
/// (`OPTIONS`) are counted per `token`; other methods answer with what the
/// server saw: the method, the `Origin` and `X-Custom` headers and that count.
async fn cors_resource(
    method: Method,
    request_headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    static PREFLIGHTS: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashMap<String, u32>>,
    > = std::sync::LazyLock::new(Default::default);
    let token = query.get("token").cloned().unwrap_or_default();
    let seen = |name: &str| {
        request_headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string()
    };
    let mut headers = HeaderMap::new();
    let allow = match query.get("allow").map(String::as_str) {
        Some("origin") => Some(seen("origin")),
        Some(value) => Some(value.to_string()),
        None => None,
    };
    let set = |headers: &mut HeaderMap, name: &'static str, value: Option<&String>| {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, value);
        }
    };
    set(&mut headers, "access-control-allow-origin", allow.as_ref());
    if query.get("credentials").is_some_and(|v| v == "1") {
        headers.insert(
            "access-control-allow-credentials",
            HeaderValue::from_static("true"),
        );
    }
    let mut preflights = PREFLIGHTS.lock().unwrap_or_else(|p| p.into_inner());
    if method == Method::OPTIONS {
        set(
            &mut headers,
            "access-control-allow-methods",
            query.get("methods"),
        );
        set(
            &mut headers,
            "access-control-allow-headers",
            query.get("headers"),
        );
        set(&mut headers, "access-control-max-age", query.get("max_age"));
        *preflights.entry(token).or_default() += 1;
        return (StatusCode::NO_CONTENT, headers).into_response();
    }
    set(
        &mut headers,
        "access-control-expose-headers",
        query.get("expose"),
    );
    headers.insert("x-secret", HeaderValue::from_static("secret"));
    headers.insert("x-shown", HeaderValue::from_static("shown"));
    headers.insert("set-cookie", HeaderValue::from_static("session=1"));
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    let count = preflights.get(&token).copied().unwrap_or(0);
    let text = format!(
        "{method} origin={} custom={} preflights={count}",
        seen("origin"),
        seen("x-custom")
    );
    (StatusCode::OK, headers, text).into_response()
}

/// Starts the server on 127.0.0.1 on a thread of its own; returns its origin.
pub fn start() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(async move {
            let app = Router::new()
                .route("/bytes/{n}", get(bytes))
                // Upload tests send bodies larger than axum's 2 MB default.
                .route(
                    "/echo",
                    any(echo).layer(axum::extract::DefaultBodyLimit::max(64 << 20)),
                )
                .route("/status/{code}", get(status))
                .route("/cors", any(cors_resource))
                .route("/redirect/{code}", get(redirect));
            let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .expect("bind 127.0.0.1");
            tx.send(listener.local_addr().expect("local addr"))
                .expect("report the address");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    let addr = rx.recv().expect("the aux server starts");
    format!("http://{addr}")
}
