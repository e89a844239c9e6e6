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

use crate::net::{self, HttpResponse};
use crate::scheduler::Permit;
use futures::TryStreamExt;
use hyper::header;
use std::sync::atomic::Ordering;
use std::time::Instant;
use swrt_store::{
    BodyId, CredentialsMode, FailureReason, RecordOutcome, RequestMode, ResponseMeta, ResponseType,
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
        let mut with_body = self.rec.has_request_body;
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
            let mut hm = request_headers(
                &self.rec.headers,
                with_body,
                cross,
                &method,
                &origin,
                range_from,
            )
            .map_err(Fail::Fatal)?;
            let body = if with_body {
                hm.insert(header::CONTENT_LENGTH, self.rec.request_body_len.into());
                self.upload_body().await?
            } else {
                net::empty_body()
            };
            let resp = self.send(request(&method, &cur, hm, body)?).await?;
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
            .send(request("OPTIONS", url, hm, net::empty_body())?)
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
    async fn send(&self, req: hyper::Request<net::RequestBody>) -> Result<HttpResponse, Fail> {
        let limit = self.inner.limits.header_timeout + self.inner.limits.connect_timeout;
        let target = req.uri().clone();
        match tokio::time::timeout(limit, self.inner.client.send(req)).await {
            Ok(sent) => sent.map_err(|e| net_err(&target, e)),
            Err(_) => Err(Fail::Network(
                format!("{target}: no response headers within {limit:?}"),
                false,
            )),
        }
    }

    /// Stream the request body from the store, counting `uploaded` as hyper
    /// pulls chunks (so the count follows what the socket accepted, give or
    /// take one chunk).
    async fn upload_body(&self) -> Result<net::RequestBody, Fail> {
        if !self.rec.has_request_body {
            return Err(Fail::Fatal("missing request body".into()));
        }
        let store = self.inner.data.store().clone();
        let (fetch, index) = (self.ctx.unique_id.clone(), self.rec.index);
        let reader = crate::body_read::blocking(move || {
            store.bodies().read(
                BodyId::Request {
                    fetch: &fetch,
                    index,
                },
                0,
            )
        })
        .await
        .map_err(|e| Fail::Fatal(format!("request body: {e}")))?;
        // A re-send (redirect 307/308) must not count the body twice.
        let prev = self.record_uploaded.swap(0, Ordering::AcqRel);
        self.ctx.uploaded.fetch_sub(prev, Ordering::AcqRel);
        let ctx = self.ctx.clone();
        let inner = self.inner.clone();
        let rec_up = self.record_uploaded.clone();
        let stream = crate::body_read::stream(reader, 64 << 10).inspect_ok(move |chunk| {
            let n = chunk.len() as u64;
            rec_up.fetch_add(n, Ordering::AcqRel);
            ctx.uploaded.fetch_add(n, Ordering::AcqRel);
            inner.notify_progress(&ctx);
        });
        Ok(net::streamed_body(stream))
    }

    async fn consume(
        &mut self,
        resp: HttpResponse,
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
                    content_length(&resp)
                } else {
                    None
                },
            };
            // A small announced body stays in memory until it is complete;
            // a non-OK response keeps an empty one (see `skips_body`).
            let small = encoding.is_none() && content_length(&resp).is_some_and(|n| n <= PACK_MAX);
            if skips_body(status) {
                self.sink.start_in_memory(0);
            } else if small {
                self.sink
                    .start_in_memory(content_length(&resp).unwrap_or(0) as usize);
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

/// One request of the chain.
fn request(
    method: &str,
    url: &Url,
    headers: header::HeaderMap,
    body: net::RequestBody,
) -> Result<hyper::Request<net::RequestBody>, Fail> {
    let method = hyper::Method::from_bytes(method.as_bytes())
        .map_err(|_| Fail::Fatal(format!("invalid method {method}")))?;
    // The fragment is not part of a request.
    let mut target = url.clone();
    target.set_fragment(None);
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(target.as_str())
        .body(body)
        .map_err(|e| Fail::Fatal(format!("invalid request to {url}: {e}")))?;
    *req.headers_mut() = headers;
    Ok(req)
}

/// The body's length as the response announces it (none for a chunked body).
fn content_length(resp: &HttpResponse) -> Option<u64> {
    hyper::body::Body::size_hint(resp.body()).exact()
}

#[cfg(test)]
#[path = "attempt_tests.rs"]
mod tests;
