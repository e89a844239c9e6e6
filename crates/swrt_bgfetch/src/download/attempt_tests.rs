//! Tests of one attempt against a loopback server speaking plain HTTP/1.1.

use super::*;
use crate::engine::{FetchCtx, LiveRecord};
use crate::progress::ProgressLimiter;
use crate::types::PolicyContext;
use crate::BackgroundFetchService;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use swrt_store::{FetchLimits, NewFetch, NewRequest, Store};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::watch;

/// The request line of every request the server answered.
type Log = Arc<Mutex<Vec<String>>>;

/// Answers `/redirect-*` with the status in the path and `Location:
/// /final`, anything else with `hello` (and an ETag).
async fn server() -> (String, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut socket = BufReader::new(socket);
                loop {
                    let mut head = Vec::new();
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if socket.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim_end().to_string();
                        if line.is_empty() {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        head.push(line);
                    }
                    let mut body = vec![0u8; length];
                    socket.read_exact(&mut body).await.unwrap();
                    let request_line = head[0].clone();
                    seen.lock().unwrap().push(request_line.clone());
                    let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
                    let reply = match path.strip_prefix("/redirect-") {
                        Some(status) => format!(
                            "HTTP/1.1 {status} Moved\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n"
                        ),
                        None => "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: 5\r\n\r\nhello"
                            .to_string(),
                    };
                    socket.get_mut().write_all(reply.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (base, log)
}

/// A downloader for one request of a fetch by `origin`, on a fresh engine.
async fn downloader(
    dir: &std::path::Path,
    origin: &str,
    method: &str,
    url: &str,
    body: Option<&[u8]>,
) -> (BackgroundFetchService, Downloader) {
    let store = Arc::new(Store::open(dir).unwrap());
    let svc = BackgroundFetchService::builder(store.clone())
        .start()
        .await
        .unwrap();
    let row = store
        .create_fetch(
            &NewFetch {
                unique_id: "f".into(),
                scope: format!("{origin}/"),
                id: "x".into(),
                origin: origin.into(),
                title: String::new(),
                icons: vec![],
                download_total: 0,
                ui_data: None,
                policy_json: "{}".into(),
            },
            &[NewRequest {
                method: method.into(),
                url: url.into(),
                headers: vec![],
                mode: RequestMode::Cors,
                credentials: CredentialsMode::SameOrigin,
                body: body.map(<[u8]>::to_vec),
                integrity: String::new(),
            }],
            &FetchLimits::NONE,
        )
        .unwrap();
    let rec = store.records("f").unwrap().remove(0);
    let inner = svc.inner().clone();
    let ctx = Arc::new(FetchCtx {
        unique_id: "f".into(),
        origin: origin.into(),
        origin_url: Url::parse(origin).unwrap(),
        policy: PolicyContext {
            csp_connect_src: vec![],
            is_secure_context: true,
        },
        download_total: 0,
        downloaded: AtomicU64::new(0),
        uploaded: AtomicU64::new(0),
        cancel: inner.shutdown.child_token(),
        stop_reason: Mutex::new(None),
        first_failure: Mutex::new(None),
        live: Mutex::new(HashMap::new()),
        limiter: ProgressLimiter::new(inner.limits.progress_interval),
        ui_epoch: AtomicU64::new(0),
        lost: std::sync::atomic::AtomicBool::new(false),
        row: Mutex::new(row),
    });
    let live = Arc::new(watch::channel(LiveRecord::default()).0);
    let url = Url::parse(url).unwrap();
    (svc, Downloader::new(inner, ctx, rec, url, live))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_a_redirect_and_keeps_a_small_body_in_memory() {
    let (base, log) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{base}/redirect-302");
    let (svc, mut d) = downloader(dir.path(), &base, "GET", &url, None).await;
    let outcome = d.attempt().await.map_err(|f| f.message().to_string());
    assert_eq!(outcome, Ok(RecordOutcome::Complete));
    let meta = d.meta.clone().unwrap();
    assert_eq!(meta.status, 200);
    assert_eq!(meta.url_list, vec![url, format!("{base}/final")]);
    assert_eq!(meta.response_type, ResponseType::Basic);
    assert_eq!(meta.etag.as_deref(), Some("\"v1\""));
    assert!(d.sink.in_memory());
    assert_eq!(d.sink.take_memory().as_deref(), Some(&b"hello"[..]));
    assert_eq!(d.ctx.downloaded.load(Ordering::Acquire), 5);
    assert_eq!(
        *log.lock().unwrap(),
        ["GET /redirect-302 HTTP/1.1", "GET /final HTTP/1.1"]
    );
    svc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_303_turns_a_post_into_a_get_and_a_307_keeps_it() {
    let (base, log) = server().await;
    let dir = tempfile::tempdir().unwrap();
    for (status, second) in [(303, "GET /final"), (307, "POST /final")] {
        log.lock().unwrap().clear();
        let url = format!("{base}/redirect-{status}");
        let sub = dir.path().join(status.to_string());
        let (svc, mut d) = downloader(&sub, &base, "POST", &url, Some(b"data")).await;
        let outcome = d.attempt().await.map_err(|f| f.message().to_string());
        assert_eq!(outcome, Ok(RecordOutcome::Complete), "{status}");
        let log = log.lock().unwrap().clone();
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(log[1].starts_with(second), "{status}: {log:?}");
        // A re-sent body counts once.
        let uploaded = d.ctx.uploaded.load(Ordering::Acquire);
        assert_eq!(uploaded, 4, "{status}");
        svc.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_origin_response_without_cors_headers_is_refused() {
    let (base, _log) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{base}/final");
    let (svc, mut d) = downloader(dir.path(), "http://page.test", "GET", &url, None).await;
    match d.attempt().await {
        Err(Fail::Fatal(why)) => assert!(why.contains("Access-Control-Allow-Origin"), "{why}"),
        Err(f) => panic!("expected a fatal CORS failure, got {:?}", f.message()),
        Ok(o) => panic!("expected a fatal CORS failure, got {o:?}"),
    }
    svc.shutdown().await;
}
