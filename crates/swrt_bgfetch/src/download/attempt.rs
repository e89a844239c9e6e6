//! One HTTP attempt of a record: policy checks, the request (headers,
//! `Origin`, `Range` when resuming, the streamed request body), CORS
//! preflights and checks, redirects, validation of a `206` that resumes a
//! body, and reading the response into the body sink.

use super::body_sink::{decoded_cap_exceeded, PACK_MAX};
use super::body_source::BodySource;
use super::http::{check_resumed_206, host_key, net_err, request_headers, skips_body};
use super::{Downloader, Fail};
use crate::cors;
use crate::fetch_steps;
use crate::policy;

use crate::scheduler::Permit;
use futures::TryStreamExt;
use reqwest::header;
use std::sync::atomic::Ordering;
use std::time::Instant;
use swrt_store::{
    CredentialsMode, FailureReason, RecordOutcome, RequestMode, ResponseMeta, ResponseType,
};
use url::Url;

impl Downloader {
    pub(super) async fn attempt(&mut self) -> Result<RecordOutcome, Fail> {
        let origin_url = self.ctx.origin_url.clone();
        let origin = self.ctx.origin.clone();
        let include = self.rec.credentials == CredentialsMode::Include;
        let range_from = match self.sink.resumable_len() {
            Some(n) if self.resumable() => Some(n),
            _ => None,
        };
        let mut cur = self.url.clone();
        let mut method = self.rec.method.clone();
        let mut with_body = self.rec.request_body_path.is_some();
        let mut url_list = vec![cur.to_string()];
        let mut tainted = false;
        let mut redirects = 0u32;

        // Policy before taking a connection slot: a blocked URL costs nothing.
        policy::check_url(&cur, &origin_url, &self.ctx.policy).map_err(Fail::Fatal)?;
        let permit = self
            .inner
            .sched
            .acquire(&self.ctx.unique_id, &host_key(&cur))
            .await;
        loop {
            // Every request of the chain (each redirect hop) is checked.
            policy::check_request_url(&cur, &origin_url, &self.ctx.policy, redirects)
                .map_err(Fail::Fatal)?;
            let cross = cors::is_cross_origin(&cur, &origin_url);
            if cross && self.rec.mode == RequestMode::SameOrigin {
                return Err(Fail::Fatal(format!(
                    "{cur} is cross-origin and the request mode is same-origin"
                )));
            }
            tainted |= cross;
            if cross
                && cors::needs_preflight(&method, &self.rec.headers)
                && !self.inner.preflights.covers(
                    &origin,
                    &cur,
                    include,
                    &method,
                    &self.rec.headers,
                    Instant::now(),
                )
            {
                self.preflight(&cur, &method, include).await?;
            }
            let mut req = self.inner.client.request(
                reqwest::Method::from_bytes(method.as_bytes())
                    .map_err(|_| Fail::Fatal(format!("invalid method {method}")))?,
                cur.clone(),
            );
            let hm = request_headers(
                &self.rec.headers,
                with_body,
                cross,
                &method,
                &origin,
                range_from,
            )
            .map_err(Fail::Fatal)?;
            req = req.headers(hm);
            if with_body {
                req = self.upload_body(req).await?;
            }
            let resp = self.send(req).await?;
            let status = resp.status().as_u16();
            if let Some(loc) = fetch_steps::redirect_location(status, resp.headers()) {
                if cross {
                    cors::cors_check(resp.headers(), &origin, include).map_err(Fail::Fatal)?;
                }
                redirects += 1;
                if redirects > self.inner.limits.max_redirects {
                    return Err(Fail::Fatal(format!(
                        "more than {} redirects",
                        self.inner.limits.max_redirects
                    )));
                }
                let next = fetch_steps::resolve_location(&cur, loc)
                    .map_err(|e| Fail::Fatal(e.to_string()))?;
                if fetch_steps::redirect_rewrites_to_get(status, &method) {
                    method = "GET".into();
                    with_body = false;
                }
                cur = next;
                url_list.push(cur.to_string());
                continue;
            }
            if cross {
                cors::cors_check(resp.headers(), &origin, include).map_err(Fail::Fatal)?;
            }
            return self
                .consume(resp, permit, url_list, tainted, include, range_from)
                .await;
        }
    }

    async fn preflight(&self, url: &Url, method: &str, include: bool) -> Result<(), Fail> {
        let hm = cors::preflight_request_headers(&self.ctx.origin, method, &self.rec.headers)
            .map_err(Fail::Fatal)?;
        let resp = self
            .send(
                self.inner
                    .client
                    .request(reqwest::Method::OPTIONS, url.clone())
                    .headers(hm),
            )
            .await?;
        cors::preflight_check(
            resp.status().as_u16(),
            resp.headers(),
            &self.ctx.origin,
            method,
            &self.rec.headers,
            include,
        )
        .map_err(Fail::Fatal)?;
        self.inner.preflights.store(
            &self.ctx.origin,
            url,
            include,
            method,
            resp.headers(),
            Instant::now(),
        );
        Ok(())
    }

    /// Sends `req` and waits for the response headers, at most
    /// `Limits::header_timeout` (on top of the connect timeout): a server
    /// that accepts and never answers is a network failure, not a hang.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, Fail> {
        let limit = self.inner.limits.header_timeout + self.inner.limits.connect_timeout;
        match tokio::time::timeout(limit, req.send()).await {
            Ok(sent) => sent.map_err(|e| net_err(e, false)),
            Err(_) => Err(Fail::Network(
                format!("no response headers within {limit:?}"),
                false,
            )),
        }
    }

    /// Stream the request body from its file, counting `uploaded` as hyper
    /// pulls chunks (so the count follows what the socket accepted, give or
    /// take one chunk).
    async fn upload_body(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, Fail> {
        let path = self
            .rec
            .request_body_path
            .clone()
            .ok_or_else(|| Fail::Fatal("missing request body".into()))?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| Fail::Fatal(format!("request body: {e}")))?;
        // A re-send (redirect 307/308) must not count the body twice.
        let prev = self.record_uploaded.swap(0, Ordering::AcqRel);
        self.ctx.uploaded.fetch_sub(prev, Ordering::AcqRel);
        let ctx = self.ctx.clone();
        let inner = self.inner.clone();
        let rec_up = self.record_uploaded.clone();
        let stream =
            tokio_util::io::ReaderStream::with_capacity(file, 64 << 10).inspect_ok(move |chunk| {
                let n = chunk.len() as u64;
                rec_up.fetch_add(n, Ordering::AcqRel);
                ctx.uploaded.fetch_add(n, Ordering::AcqRel);
                inner.notify_progress(&ctx);
            });
        Ok(req
            .header(header::CONTENT_LENGTH, self.rec.request_body_len)
            .body(reqwest::Body::wrap_stream(stream)))
    }

    async fn consume(
        &mut self,
        resp: reqwest::Response,
        permit: Permit,
        url_list: Vec<String>,
        tainted: bool,
        include: bool,
        range_from: Option<u64>,
    ) -> Result<RecordOutcome, Fail> {
        let status = resp.status();
        let h = resp.headers().clone();
        let encoding = h
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty() && s != "identity");
        let mut fresh = true;
        if let Some(n) = range_from {
            if status.as_u16() == 206 {
                check_resumed_206(self.meta.as_ref(), &h, n).map_err(Fail::Restart)?;
                fresh = false;
            }
            // Any other status is a complete new response: a 200 means the
            // server ignored Range, so the stored bytes are discarded and this
            // body is stored from zero (downloaded decreases).
        }
        if fresh {
            self.join_checkpoint().await?;
            self.reset_body();
            let get = |name: header::HeaderName| {
                h.get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let meta = ResponseMeta {
                status: status.as_u16(),
                status_text: status.canonical_reason().unwrap_or("").to_string(),
                headers: cors::exposed_headers(&h, tainted, include),
                response_type: if tainted {
                    ResponseType::Cors
                } else {
                    ResponseType::Basic
                },
                url_list,
                etag: if encoding.is_none() {
                    get(header::ETAG)
                } else {
                    None
                },
                last_modified: if encoding.is_none() {
                    get(header::LAST_MODIFIED)
                } else {
                    None
                },
                complete_length: if encoding.is_none() && status.as_u16() != 206 {
                    resp.content_length()
                } else {
                    None
                },
            };
            // A small announced body stays in memory until it is complete;
            // a non-OK response keeps an empty one (see `skips_body`).
            let small = encoding.is_none() && resp.content_length().is_some_and(|n| n <= PACK_MAX);
            if skips_body(status) {
                self.sink.start_in_memory(0);
            } else if small {
                self.sink
                    .start_in_memory(resp.content_length().unwrap_or(0) as usize);
            } else {
                self.sink.start_file().map_err(|e| self.io_fail(e))?;
            }
            if self.store_has_bytes || self.sink.checkpointed_len() > 0 {
                // Replacing a body the store knows about: record the new head
                // and the zero length before writing, so a crash cannot pair
                // new bytes with the old validators.
                let (uid, idx, m) = (self.ctx.unique_id.clone(), self.rec.index, meta.clone());
                self.inner
                    .data
                    .run(move |s| s.record_set_response(&uid, idx, &m, 0))
                    .await
                    .map_err(|e| Fail::Fatal(format!("storing response: {e}")))?;
                self.store_has_bytes = false;
                self.meta_dirty = false;
            } else {
                // First response: defer the head to the first checkpoint or
                // the completion (one group commit instead of two fsyncs per
                // small record). A crash before that just restarts the record.
                self.meta_dirty = true;
            }
            self.meta = Some(meta.clone());
            self.live.send_modify(|l| {
                l.meta = Some(meta);
                l.len = 0;
            });
        }
        self.inner.notify_progress(&self.ctx);
        if skips_body(status) {
            drop(resp);
            drop(permit);
            return Ok(RecordOutcome::BadStatus);
        }

        let idle = self.inner.limits.idle_timeout;
        let mut progressed = false;
        // Decoded bytes of a content-encoded body in this attempt (such a
        // body never resumes, so an attempt holds all of it).
        let mut decoded = 0u64;
        let mut source = BodySource::new(resp, encoding.as_deref(), self.inner.limits.read_buffer);
        let res = loop {
            let chunk = match tokio::time::timeout(idle, source.next()).await {
                Err(_) => break Err(Fail::Network(format!("no data for {idle:?}"), progressed)),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                    break Err(Fail::Fatal(format!("cannot decode body: {e}")))
                }
                Ok(Err(e)) => break Err(Fail::Network(format!("reading body: {e}"), progressed)),
                Ok(Ok(None)) => break Ok(()),
                Ok(Ok(Some(c))) => c,
            };
            progressed = true;
            if let Some(encoded) = source.encoded_len() {
                decoded += chunk.len() as u64;
                if let Some(why) = decoded_cap_exceeded(&self.inner.limits, encoded, decoded) {
                    break Err(Fail::Stop(FailureReason::QuotaExceeded, why));
                }
            }
            if let Err(f) = self.accept(chunk).await {
                break Err(f);
            }
        };
        // Whatever arrived is written, also before a retry with `Range`.
        let res = res.and(self.flush_pending().await);
        res?;
        // A 206 whose body is shorter than its `Content-Range` ended cleanly
        // but leaves the body short: start over rather than complete it.
        let complete = self.meta.as_ref().and_then(|m| m.complete_length);
        if let (false, Some(c)) = (fresh, complete) {
            if self.sink.len() != c {
                return Err(Fail::Restart(format!(
                    "the resumed body ended at {} of {c} bytes",
                    self.sink.len()
                )));
            }
        }
        drop(permit);
        Ok(if status.is_success() {
            RecordOutcome::Complete
        } else {
            RecordOutcome::BadStatus
        })
    }
}

#[cfg(test)]
mod tests {
    //! One attempt against a loopback server speaking plain HTTP/1.1.

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
                            if let Some(v) =
                                line.to_ascii_lowercase().strip_prefix("content-length:")
                            {
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
}
