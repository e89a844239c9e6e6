//! One downloader per record: policy checks, CORS, redirects, streaming the
//! body to disk, retries with backoff, and resume with `Range`.

use crate::cors;
use crate::engine::{FetchCtx, Inner, LiveRecord};
use crate::integrity;
use crate::policy;
use crate::range::ContentRange;
use crate::scheduler::Permit;
use futures::{StreamExt, TryStreamExt};
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use swrt_store::{
    is_storage_full_io, BodyWriter, FailureReason, RecordFinish, RecordOutcome, RecordRow,
    ResponseMeta,
};
use tokio::io::{AsyncRead, AsyncReadExt, BufReader};
use tokio::sync::watch;
use url::Url;

/// Why an attempt did not produce a stored response.
enum Fail {
    /// Transient network failure; `bool` = bytes arrived in this attempt.
    Network(String, bool),
    /// Permanent failure of this record: `fetch-error`.
    Fatal(String),
    /// The whole fetch must stop with this reason (this record: `fetch-error`).
    Stop(FailureReason, String),
    /// Resume refused: discard stored bytes and request again without `Range`.
    Restart(String),
}

/// Request headers that script cannot set (Fetch "forbidden request-header")
/// or that the engine manages itself.
fn is_forbidden_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "accept-charset"
            | "accept-encoding"
            | "access-control-request-headers"
            | "access-control-request-method"
            | "connection"
            | "content-length"
            | "cookie"
            | "cookie2"
            | "date"
            | "dnt"
            | "expect"
            | "host"
            | "keep-alive"
            | "origin"
            | "referer"
            | "set-cookie"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "via"
            | "range"
    ) || n.starts_with("proxy-")
        || n.starts_with("sec-")
}

fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

fn net_err(e: reqwest::Error, progressed: bool) -> Fail {
    // Include the source chain: reqwest's top-level message is generic.
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    if e.is_builder() {
        Fail::Fatal(msg)
    } else {
        Fail::Network(msg, progressed)
    }
}

/// Bytes of a body after which its first save point is taken, whatever
/// `Limits::checkpoint_bytes` and `checkpoint_interval` say.
const FIRST_CHECKPOINT_BYTES: u64 = 256 << 10;

/// A background checkpoint: `Err((error, from_sync))`.
type SyncJob = tokio::task::JoinHandle<Result<(), (std::io::Error, bool)>>;

/// Bodies announced (`Content-Length`, identity encoding) at most this big
/// are kept in memory and appended to the fetch's pack file when complete:
/// no file, inode, fsync or unlink per small record. Larger or unannounced
/// bodies stream to their own file (resumable with `Range`).
pub(crate) const PACK_MAX: u64 = 64 << 10;

pub(crate) struct Downloader {
    inner: Arc<Inner>,
    ctx: Arc<FetchCtx>,
    rec: RecordRow,
    url: Url,
    live: Arc<watch::Sender<LiveRecord>>,
    writer: Option<BodyWriter>,
    /// Chunks received but not yet written to `writer` (write coalescing:
    /// one `writev(2)` per `Limits::read_buffer` bytes instead of a
    /// `write(2)` per network chunk, and no copy into a staging buffer).
    pending: Vec<bytes::Bytes>,
    pending_len: usize,
    /// A small body kept in memory (see [`PACK_MAX`]).
    mem: Option<Vec<u8>>,
    /// Checkpoint running on the blocking pool (fdatasync + SQLite) while
    /// reading continues: the byte count it makes durable and its task.
    sync_job: Option<(u64, SyncJob)>,
    meta: Option<ResponseMeta>,
    record_uploaded: Arc<AtomicU64>,
    ckpt_len: u64,
    ckpt_time: Instant,
    /// The response head is not in the store yet (written with the first
    /// checkpoint or with the completion, whichever comes first).
    meta_dirty: bool,
    /// The store holds bytes for this record from an earlier response.
    store_has_bytes: bool,
    /// `Request.integrity`, when it names a supported hash.
    integrity: Option<integrity::Metadata>,
    /// Hash of every body byte accepted so far (kept across a resume), so
    /// the check at the end needs no second pass over the stored body.
    hasher: Option<integrity::Hasher>,
}

/// Removes a record's live state when its task ends.
struct LiveGuard(Arc<FetchCtx>, u32);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.1);
    }
}

/// Run one record to a final outcome (or until the fetch is cancelled). On
/// engine shutdown the bytes written so far are synced and checkpointed so
/// the next start resumes the record.
pub(crate) async fn run_record(inner: Arc<Inner>, ctx: Arc<FetchCtx>, rec: RecordRow) {
    let cancel = ctx.cancel.clone();
    let index = rec.index;
    let live = Arc::new(
        watch::channel(LiveRecord {
            meta: rec.response.clone(),
            len: rec.bytes_stored,
            awaits_integrity: integrity::Metadata::parse(&rec.integrity).is_some(),
            ..LiveRecord::default()
        })
        .0,
    );
    ctx.live
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(index, live.clone());
    let _guard = LiveGuard(ctx.clone(), index);
    let Some(mut d) = prepare(inner.clone(), ctx.clone(), rec, live).await else {
        return;
    };
    let cancelled = tokio::select! {
        _ = cancel.cancelled() => true,
        _ = d.run() => false,
    };
    if cancelled {
        tracing::debug!(fetch = %ctx.unique_id, index, "record stopped with its fetch");
        if inner.stopping() && ctx.stop_reason().is_none() {
            d.persist_for_shutdown().await;
        } else {
            d.release_unrecorded().await;
        }
    }
}

async fn prepare(
    inner: Arc<Inner>,
    ctx: Arc<FetchCtx>,
    rec: RecordRow,
    live: Arc<watch::Sender<LiveRecord>>,
) -> Option<Downloader> {
    let url = match Url::parse(&rec.url) {
        Ok(u) => u,
        Err(e) => {
            let mut d = Downloader::new(
                inner,
                ctx,
                rec,
                Url::parse("about:blank").expect("valid"),
                live,
            );
            d.finish(RecordOutcome::FetchError, Some(format!("invalid URL: {e}")))
                .await;
            return None;
        }
    };
    let mut d = Downloader::new(inner, ctx, rec, url, live);
    d.init_stored_bytes();
    Some(d)
}

impl Downloader {
    fn new(
        inner: Arc<Inner>,
        ctx: Arc<FetchCtx>,
        rec: RecordRow,
        url: Url,
        live: Arc<watch::Sender<LiveRecord>>,
    ) -> Self {
        let integrity = integrity::Metadata::parse(&rec.integrity);
        Downloader {
            hasher: integrity.as_ref().map(integrity::Metadata::hasher),
            integrity,
            store_has_bytes: rec.bytes_stored > 0,
            meta: rec.response.clone(),
            inner,
            ctx,
            rec,
            url,
            live,
            writer: None,
            pending: Vec::new(),
            pending_len: 0,
            mem: None,
            sync_job: None,
            record_uploaded: Arc::new(AtomicU64::new(0)),
            ckpt_len: 0,
            ckpt_time: Instant::now(),
            meta_dirty: false,
        }
    }

    fn path(&self) -> std::path::PathBuf {
        self.inner
            .data
            .store()
            .response_body_path(&self.ctx.unique_id, self.rec.index)
    }

    /// Resume only GETs whose first response had a validator and was not
    /// content-encoded (ranges of an encoded body do not map onto the decoded
    /// bytes we store; the downloader clears the validators in that case).
    fn resumable(&self) -> bool {
        self.rec.method == "GET"
            && self
                .meta
                .as_ref()
                .is_some_and(|m| m.etag.is_some() || m.last_modified.is_some())
    }

    /// Bytes stored by an earlier run (before a restart): keep them if the
    /// record can resume, otherwise forget them.
    fn init_stored_bytes(&mut self) {
        let n = self.rec.bytes_stored;
        if n == 0 {
            return;
        }
        if self.resumable() {
            match BodyWriter::open_resume(&self.path(), n) {
                Ok(w) => {
                    let len = w.len();
                    if len < n {
                        self.ctx.downloaded.fetch_sub(n - len, Ordering::AcqRel);
                        self.inner
                            .data
                            .add_usage(&self.ctx.origin, -((n - len) as i64));
                    }
                    self.ckpt_len = len;
                    self.writer = Some(w);
                    self.live.send_modify(|l| l.len = len);
                    if let Err(e) = self.hash_kept_prefix(len) {
                        tracing::warn!(error = %e, "cannot hash stored body; restarting");
                        self.reset_body();
                    }
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "cannot reopen stored body; restarting"),
            }
        }
        self.ctx.downloaded.fetch_sub(n, Ordering::AcqRel);
        self.inner.data.add_usage(&self.ctx.origin, -(n as i64));
        self.live.send_modify(|l| {
            l.len = 0;
            l.generation += 1;
        });
    }

    /// After a restart, a resumed body's integrity hash must cover the bytes
    /// kept from before: read them once, here (later bytes are hashed as
    /// they arrive).
    fn hash_kept_prefix(&mut self, len: u64) -> std::io::Result<()> {
        use std::io::Read;
        let path = self.path();
        let Some(h) = self.hasher.as_mut() else {
            return Ok(());
        };
        let mut file = std::fs::File::open(path)?.take(len);
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            h.update(&buf[..n]);
        }
    }

    /// Fetch "main fetch" step 22 (integrity): a complete body that does not
    /// match the request's integrity metadata makes the response a network
    /// error. `Some(reason)` when it does not match.
    fn integrity_mismatch(&mut self) -> Option<String> {
        let metadata = self.integrity.as_ref()?;
        let hasher = self.hasher.take()?;
        (!metadata.matches(&hasher.finish())).then(|| {
            format!(
                "the response body does not match the request's integrity metadata {:?}",
                self.rec.integrity
            )
        })
    }

    async fn run(&mut self) {
        let limits = self.inner.limits.clone();
        let mut retries = 0u32;
        let mut resumes = 0u32;
        let mut restarts = 0u32;
        loop {
            let r = match self.attempt().await {
                // A checkpoint of the old body may still be running.
                Err(Fail::Restart(why)) => {
                    self.join_checkpoint().await.and(Err(Fail::Restart(why)))
                }
                r => r,
            };
            match r {
                Ok(RecordOutcome::Complete) if self.integrity.is_some() => {
                    match self.integrity_mismatch() {
                        Some(why) => {
                            tracing::info!(fetch = %self.ctx.unique_id, index = self.rec.index, %why, "record failed");
                            self.finish(RecordOutcome::FetchError, Some(why)).await;
                        }
                        None => self.finish(RecordOutcome::Complete, None).await,
                    }
                    return;
                }
                Ok(outcome) => {
                    self.finish(outcome, None).await;
                    return;
                }
                Err(Fail::Restart(why)) => {
                    restarts += 1;
                    tracing::info!(fetch = %self.ctx.unique_id, index = self.rec.index, %why, "resume refused; restarting from zero");
                    self.reset_body();
                    // A server that keeps changing the resource could loop
                    // forever; bound it like resumptions.
                    if restarts > limits.max_resumptions {
                        self.finish(RecordOutcome::FetchError, Some(why)).await;
                        return;
                    }
                }
                Err(Fail::Network(msg, progressed)) => {
                    if self.rec.method != "GET" {
                        // Only GETs are retried: re-sending a body is not safe in general.
                        self.finish(RecordOutcome::FetchError, Some(msg)).await;
                        return;
                    }
                    let (n, max) = if progressed {
                        resumes += 1;
                        (resumes, limits.max_resumptions)
                    } else {
                        retries += 1;
                        (retries, limits.max_retries)
                    };
                    if n > max {
                        tracing::warn!(fetch = %self.ctx.unique_id, index = self.rec.index, %msg, "giving up after retries");
                        self.finish(RecordOutcome::FetchError, Some(msg)).await;
                        return;
                    }
                    let delay = limits.backoff(n - 1);
                    tracing::info!(fetch = %self.ctx.unique_id, index = self.rec.index, %msg, attempt = n, ?delay, "network failure; will retry");
                    tokio::time::sleep(delay).await;
                }
                Err(Fail::Fatal(msg)) => {
                    tracing::info!(fetch = %self.ctx.unique_id, index = self.rec.index, %msg, "record failed");
                    self.finish(RecordOutcome::FetchError, Some(msg)).await;
                    return;
                }
                Err(Fail::Stop(reason, msg)) => {
                    // Persist this record's failure first: stopping cancels us.
                    self.finish(RecordOutcome::FetchError, Some(msg)).await;
                    self.ctx.stop(reason);
                    return;
                }
            }
        }
    }

    /// Forget stored bytes (resume refused / 200 to a range request).
    /// Callers first wait for a running checkpoint ([`Self::join_checkpoint`]).
    fn reset_body(&mut self) {
        let old = self.body_len();
        if old > 0 {
            self.ctx.downloaded.fetch_sub(old, Ordering::AcqRel);
            self.inner.data.add_usage(&self.ctx.origin, -(old as i64));
        }
        self.writer = None;
        self.pending.clear();
        self.pending_len = 0;
        self.mem = None;
        self.ckpt_len = 0;
        self.hasher = self.integrity.as_ref().map(integrity::Metadata::hasher);
        self.live.send_modify(|l| {
            l.len = 0;
            l.meta = None;
            l.generation += 1;
        });
    }

    async fn attempt(&mut self) -> Result<RecordOutcome, Fail> {
        let origin_url = self.ctx.origin_url.clone();
        let origin = self.ctx.origin.clone();
        let include = self.rec.credentials == "include";
        let range_from = match &self.writer {
            Some(w) if !w.is_empty() && self.resumable() => Some(w.len()),
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
            if cross && self.rec.mode == "same-origin" {
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
            let mut hm = HeaderMap::new();
            for (k, v) in &self.rec.headers {
                if is_forbidden_header(k) {
                    continue;
                }
                if !with_body && k.to_ascii_lowercase().starts_with("content-") {
                    continue; // dropped when a redirect turned the request into a GET
                }
                let (Ok(name), Ok(val)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) else {
                    return Err(Fail::Fatal(format!("invalid header {k}")));
                };
                hm.append(name, val);
            }
            if cross || !matches!(method.as_str(), "GET" | "HEAD") {
                if let Ok(v) = HeaderValue::from_str(&origin) {
                    hm.insert(header::ORIGIN, v);
                }
            }
            match range_from {
                Some(n) => {
                    hm.insert(
                        header::RANGE,
                        HeaderValue::from_str(&format!("bytes={n}-")).expect("ascii"),
                    );
                    // Byte offsets must refer to the identity representation.
                    hm.insert(
                        header::ACCEPT_ENCODING,
                        HeaderValue::from_static("identity"),
                    );
                }
                None => {
                    hm.insert(
                        header::ACCEPT_ENCODING,
                        HeaderValue::from_static("gzip, deflate, br"),
                    );
                }
            }
            req = req.headers(hm);
            if with_body {
                req = self.upload_body(req).await?;
            }
            let resp = self.send(req).await?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                if let Some(loc) = resp.headers().get(header::LOCATION) {
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
                    let loc = loc
                        .to_str()
                        .map_err(|_| Fail::Fatal("invalid Location header".into()))?;
                    let next = cur.join(loc).map_err(|e| {
                        Fail::Fatal(format!("invalid redirect target {loc:?}: {e}"))
                    })?;
                    // Fetch "HTTP-redirect fetch" step 12: POST->GET on 301/302, non-GET/HEAD->GET on 303.
                    if ((status == 301 || status == 302) && method == "POST")
                        || (status == 303 && !matches!(method.as_str(), "GET" | "HEAD"))
                    {
                        method = "GET".into();
                        with_body = false;
                    }
                    cur = next;
                    url_list.push(cur.to_string());
                    continue;
                }
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

    /// Decide whether a 206 continues the stored bytes: its Content-Range
    /// must start at the stored length and run to the end, and the complete
    /// length, ETag and Last-Modified must agree with the first response.
    fn check_206(&self, h: &HeaderMap, n: u64) -> Result<(), String> {
        let meta = self.meta.as_ref().ok_or("no stored response")?;
        let value = h
            .get(header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .ok_or("206 without Content-Range")?;
        let cr = ContentRange::parse(value)
            .ok_or_else(|| format!("malformed Content-Range {value:?}"))?;
        if cr.first != n {
            return Err(format!(
                "Content-Range starts at {}, expected {n}",
                cr.first
            ));
        }
        if cr.complete.is_none() || cr.complete != meta.complete_length {
            return Err(format!(
                "complete length {:?} differs from the first response's {:?}",
                cr.complete, meta.complete_length
            ));
        }
        // `Range: bytes=n-` asks for the rest: a range that ends early would
        // leave a hole at the end of a body reported complete.
        if cr.complete != Some(cr.last + 1) {
            return Err(format!("Content-Range {value:?} ends before the body does"));
        }
        let get = |name: header::HeaderName| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if get(header::ETAG) != meta.etag {
            return Err("ETag changed".into());
        }
        if get(header::LAST_MODIFIED) != meta.last_modified {
            return Err("Last-Modified changed".into());
        }
        if h.get(header::CONTENT_ENCODING)
            .is_some_and(|v| v != "identity")
        {
            return Err("206 is content-encoded".into());
        }
        Ok(())
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
                self.check_206(&h, n).map_err(Fail::Restart)?;
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
                response_type: if tainted { "cors" } else { "basic" }.into(),
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
                self.mem = Some(Vec::new());
            } else if small {
                self.mem = Some(Vec::with_capacity(
                    resp.content_length().unwrap_or(0) as usize
                ));
            } else {
                self.writer = Some(BodyWriter::create(&self.path()).map_err(|e| self.io_fail(e))?);
            }
            if self.store_has_bytes || self.ckpt_len > 0 {
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
            self.ckpt_len = 0;
            self.ckpt_time = Instant::now();
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
                if let Some(allowed) = self.inner.limits.decoded_allowance(encoded) {
                    if decoded > allowed {
                        break Err(Fail::Stop(
                            FailureReason::QuotaExceeded,
                            format!(
                                "the body decoded to more than {allowed} bytes from {encoded} bytes received (more than {} times)",
                                self.inner.limits.max_decoded_ratio
                            ),
                        ));
                    }
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
            if self.body_len() != c {
                return Err(Fail::Restart(format!(
                    "the resumed body ended at {} of {c} bytes",
                    self.body_len()
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

    /// Bytes of the current body received so far (written, buffered or in memory).
    fn body_len(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.len())
            + self.pending_len as u64
            + self.mem.as_ref().map_or(0, |m| m.len() as u64)
    }

    /// Take one network chunk: count it, enforce `downloadTotal` and the
    /// quota, and buffer it (memory body or write-coalescing buffer).
    async fn accept(&mut self, chunk: bytes::Bytes) -> Result<(), Fail> {
        let n = chunk.len() as u64;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&chunk);
        }
        let downloaded = self.ctx.downloaded.fetch_add(n, Ordering::AcqRel) + n;
        let usage = self.inner.data.add_usage(&self.ctx.origin, n as i64);
        match &mut self.mem {
            Some(m) if m.len() as u64 + n <= PACK_MAX => m.extend_from_slice(&chunk),
            Some(_) => {
                // More than announced: spill to a file of its own.
                let m = self.mem.take().unwrap_or_default();
                self.writer = Some(BodyWriter::create(&self.path()).map_err(|e| self.io_fail(e))?);
                self.pending_len = m.len() + chunk.len();
                self.pending = vec![bytes::Bytes::from(m), chunk];
            }
            None => {
                self.pending_len += chunk.len();
                self.pending.push(chunk);
            }
        }
        if self.ctx.download_total > 0 && downloaded > self.ctx.download_total {
            return Err(Fail::Stop(
                FailureReason::DownloadTotalExceeded,
                format!(
                    "downloaded {downloaded} bytes, more than downloadTotal {}",
                    self.ctx.download_total
                ),
            ));
        }
        if usage > self.inner.limits.quota_per_origin {
            return Err(Fail::Stop(
                FailureReason::QuotaExceeded,
                "storage quota exceeded".into(),
            ));
        }
        if self.mem.is_some() {
            self.inner.notify_progress(&self.ctx);
        } else if self.pending_len >= self.inner.limits.read_buffer.max(4096)
            || self.pending.len() >= 512
        {
            self.flush_pending().await?;
        }
        Ok(())
    }

    /// Write the coalescing buffer to the body file, publish the new length
    /// to readers, and start a checkpoint when one is due.
    async fn flush_pending(&mut self) -> Result<(), Fail> {
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        if !self.pending.is_empty() {
            let chunks: Vec<&[u8]> = self.pending.iter().map(|b| &b[..]).collect();
            let r = w.write_chunks(&chunks);
            drop(chunks);
            if let Err(e) = r {
                return Err(self.io_fail(e));
            }
            self.pending.clear();
            self.pending_len = 0;
        }
        let len = w.len();
        self.live.send_if_modified(|l| {
            let changed = l.len != len;
            l.len = len;
            changed
        });
        self.inner.notify_progress(&self.ctx);
        // The first save point comes early, so a crash soon after the start
        // resumes rather than starting over; later ones follow the limits.
        let first = self.ckpt_len == 0 && len >= FIRST_CHECKPOINT_BYTES;
        if first
            || len - self.ckpt_len >= self.inner.limits.checkpoint_bytes
            || self.ckpt_time.elapsed() >= self.inner.limits.checkpoint_interval
        {
            self.checkpoint().await?;
        }
        Ok(())
    }

    fn io_fail(&self, e: std::io::Error) -> Fail {
        if is_storage_full_io(&e) {
            Fail::Stop(FailureReason::QuotaExceeded, format!("disk full: {e}"))
        } else {
            Fail::Fatal(format!("writing body: {e}"))
        }
    }

    /// Start making the bytes so far durable (fdatasync, then the byte
    /// count in SQLite) on the blocking pool while reading continues. At
    /// most one checkpoint runs at a time: a due checkpoint first waits for
    /// the previous one (backpressure when the disk is slower than the network).
    async fn checkpoint(&mut self) -> Result<(), Fail> {
        self.join_checkpoint().await?;
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        let len = w.len();
        let file = w
            .try_clone_file()
            .map_err(|e| Fail::Fatal(format!("body: {e}")))?;
        let (uid, idx) = (self.ctx.unique_id.clone(), self.rec.index);
        let d = self.ctx.downloaded.load(Ordering::Acquire);
        let u = self.ctx.uploaded.load(Ordering::Acquire);
        let meta = if self.meta_dirty {
            self.meta.clone()
        } else {
            None
        };
        let store = self.inner.data.store().clone();
        let job = tokio::task::spawn_blocking(move || {
            file.sync_data().map_err(|e| (e, true))?;
            let r = (|| {
                if let Some(m) = &meta {
                    store.record_set_response(&uid, idx, m, len)?;
                }
                store.record_checkpoint(&uid, idx, len, d, u)
            })();
            r.map_err(|e| {
                let full = e.is_storage_full();
                let kind = if full {
                    std::io::ErrorKind::StorageFull
                } else {
                    std::io::ErrorKind::Other
                };
                (std::io::Error::new(kind, format!("checkpoint: {e}")), false)
            })
        });
        // The head goes into the store with this checkpoint.
        self.meta_dirty = false;
        self.ckpt_len = len;
        self.ckpt_time = Instant::now();
        self.sync_job = Some((len, job));
        Ok(())
    }

    /// Wait for the running checkpoint, if any.
    async fn join_checkpoint(&mut self) -> Result<(), Fail> {
        let Some((len, job)) = self.sync_job.take() else {
            return Ok(());
        };
        match job.await {
            Ok(Ok(())) => {
                if let Some(w) = self.writer.as_mut() {
                    w.mark_synced(len);
                }
                self.store_has_bytes = true;
                Ok(())
            }
            Ok(Err((e, _))) if is_storage_full_io(&e) => Err(self.io_fail(e)),
            Ok(Err((e, _))) => Err(Fail::Fatal(e.to_string())),
            Err(_) => Err(Fail::Fatal("sync task failed".into())),
        }
    }

    /// Engine shutdown interrupted this record: write what is buffered, sync
    /// the body and record its length, so the next start resumes here
    /// (small bodies held in memory are simply downloaded again).
    async fn persist_for_shutdown(&mut self) {
        if self.writer.is_none() {
            return;
        }
        let r = async {
            self.flush_pending().await?;
            self.checkpoint().await?;
            self.join_checkpoint().await
        }
        .await;
        match r {
            Ok(()) => tracing::debug!(
                fetch = %self.ctx.unique_id,
                index = self.rec.index,
                bytes = self.writer.as_ref().map_or(0, |w| w.len()),
                "download state saved for the next start"
            ),
            Err(Fail::Fatal(m) | Fail::Network(m, _) | Fail::Restart(m) | Fail::Stop(_, m)) => {
                tracing::warn!(fetch = %self.ctx.unique_id, index = self.rec.index, error = %m, "could not save download state; the next start repeats unsaved bytes")
            }
        }
    }

    /// The store releases the bytes it recorded for this record when the
    /// fetch ends; the rest of the body (buffered, or written but not yet
    /// synced) stops counting against the quota now.
    fn uncount_beyond(&self, recorded: u64) {
        let unrecorded = self.body_len().saturating_sub(recorded);
        if unrecorded > 0 {
            self.inner
                .data
                .add_usage(&self.ctx.origin, -(unrecorded as i64));
        }
    }

    /// The fetch stopped (abort, a failure that ends it) while this record
    /// ran: once its running checkpoint settles, what the store recorded is
    /// known, and the rest is uncounted.
    async fn release_unrecorded(&mut self) {
        let _ = self.join_checkpoint().await;
        let recorded = self.writer.as_ref().map_or(0, |w| w.synced_len());
        self.uncount_beyond(recorded);
        self.writer = None;
        self.pending = Vec::new();
        self.pending_len = 0;
        self.mem = None;
    }

    /// Persist the final outcome (body synced first, via the group committer).
    async fn finish(&mut self, mut outcome: RecordOutcome, mut error: Option<String>) {
        let keep = matches!(outcome, RecordOutcome::Complete | RecordOutcome::BadStatus);
        if keep {
            if let Err(f) = async {
                self.flush_pending().await?;
                self.join_checkpoint().await
            }
            .await
            {
                let (reason, msg) = match f {
                    Fail::Stop(r, m) => (Some(r), m),
                    Fail::Fatal(m) | Fail::Network(m, _) | Fail::Restart(m) => (None, m),
                };
                outcome = RecordOutcome::FetchError;
                error = Some(msg);
                if let Some(r) = reason {
                    self.ctx.stop(r);
                }
            }
        } else if let Some((_, job)) = self.sync_job.take() {
            let _ = job.await;
        }
        let keep = matches!(outcome, RecordOutcome::Complete | RecordOutcome::BadStatus);
        let bytes = if keep {
            self.body_len()
        } else {
            let recorded = self.writer.as_ref().map_or(0, |w| w.synced_len());
            self.uncount_beyond(recorded);
            recorded
        };
        let data = if keep { self.mem.take() } else { None };
        let file = match (&self.writer, keep) {
            (Some(w), true) => w.try_clone_file().ok(),
            _ => None,
        };
        let item = RecordFinish {
            unique_id: self.ctx.unique_id.clone(),
            index: self.rec.index,
            outcome,
            bytes_stored: bytes,
            error: error.clone(),
            fetch_downloaded: self.ctx.downloaded.load(Ordering::Acquire),
            fetch_uploaded: self.ctx.uploaded.load(Ordering::Acquire),
            response: if self.meta_dirty {
                self.meta.clone()
            } else {
                None
            },
            packed_offset: None,
        };
        let (outcome, error, packed) = match self.inner.data.finish(item, file, data).await {
            Ok(off) => (outcome, error, off),
            Err(e) => {
                tracing::error!(fetch = %self.ctx.unique_id, index = self.rec.index, error = %e, "could not store record outcome");
                // Record the failure itself (no body), so the record reads
                // as fetch-error rather than aborted.
                let item = RecordFinish {
                    unique_id: self.ctx.unique_id.clone(),
                    index: self.rec.index,
                    outcome: RecordOutcome::FetchError,
                    bytes_stored: 0,
                    error: Some(e.message.clone()),
                    fetch_downloaded: self.ctx.downloaded.load(Ordering::Acquire),
                    fetch_uploaded: self.ctx.uploaded.load(Ordering::Acquire),
                    response: None,
                    packed_offset: None,
                };
                let _ = self.inner.data.finish(item, None, None).await;
                if e.storage_full {
                    self.ctx.stop(FailureReason::QuotaExceeded);
                }
                self.ctx.note_failure(FailureReason::FetchError);
                (RecordOutcome::FetchError, Some(e.message), None)
            }
        };
        match outcome {
            RecordOutcome::BadStatus => self.ctx.note_failure(FailureReason::BadStatus),
            RecordOutcome::FetchError => self.ctx.note_failure(FailureReason::FetchError),
            _ => {}
        }
        self.writer = None;
        self.pending = Vec::new();
        self.pending_len = 0;
        self.mem = None;
        self.live.send_modify(|l| {
            l.outcome = Some(outcome);
            l.error = error;
            l.len = bytes;
            l.packed_offset = packed;
        });
        self.inner.notify_progress(&self.ctx);
    }
}

/// Background Fetch "complete a record" stores a response whose status is
/// not an ok status without its body: the record keeps URL, status and
/// headers, its body reads as empty, and nothing of it is downloaded.
fn skips_body(status: reqwest::StatusCode) -> bool {
    !status.is_success()
}

/// A response body as a sequence of chunks: the network chunks themselves
/// for identity bodies (no copy), decoded blocks for `Content-Encoding`.
enum BodySource {
    Raw(futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>),
    /// Decoder, its output buffer, and the encoded bytes taken from the
    /// network so far.
    Decoded(Pin<Box<dyn AsyncRead + Send>>, Vec<u8>, Arc<AtomicU64>),
}

impl BodySource {
    fn new(resp: reqwest::Response, encoding: Option<&str>, buf: usize) -> Self {
        type Dec =
            fn(BufReader<Box<dyn AsyncRead + Send + Unpin>>) -> Pin<Box<dyn AsyncRead + Send>>;
        let dec: Dec = match encoding {
            Some("gzip") | Some("x-gzip") => {
                |r| Box::pin(async_compression::tokio::bufread::GzipDecoder::new(r))
            }
            Some("br") => |r| Box::pin(async_compression::tokio::bufread::BrotliDecoder::new(r)),
            Some("deflate") => |r| Box::pin(async_compression::tokio::bufread::ZlibDecoder::new(r)),
            // Unknown codings are stored as received, like browsers do.
            _ => return BodySource::Raw(resp.bytes_stream().boxed()),
        };
        let encoded = Arc::new(AtomicU64::new(0));
        let counter = encoded.clone();
        let raw: Box<dyn AsyncRead + Send + Unpin> = Box::new(tokio_util::io::StreamReader::new(
            resp.bytes_stream()
                .inspect_ok(move |c| {
                    counter.fetch_add(c.len() as u64, Ordering::Relaxed);
                })
                .map_err(std::io::Error::other)
                .boxed(),
        ));
        BodySource::Decoded(
            dec(BufReader::new(raw)),
            vec![0u8; buf.clamp(4096, 64 << 10)],
            encoded,
        )
    }

    /// Encoded bytes received so far, for a content-encoded body.
    fn encoded_len(&self) -> Option<u64> {
        match self {
            BodySource::Raw(_) => None,
            BodySource::Decoded(_, _, n) => Some(n.load(Ordering::Relaxed)),
        }
    }

    async fn next(&mut self) -> std::io::Result<Option<bytes::Bytes>> {
        match self {
            BodySource::Raw(s) => match s.next().await {
                None => Ok(None),
                Some(Ok(b)) => Ok(Some(b)),
                Some(Err(e)) => Err(std::io::Error::other(e)),
            },
            BodySource::Decoded(r, buf, _) => {
                let n = r.read(buf).await?;
                Ok((n > 0).then(|| bytes::Bytes::copy_from_slice(&buf[..n])))
            }
        }
    }
}
