//! One downloader per record, in parts:
//!
//! | part | what it does |
//! |---|---|
//! | [`attempt`] (+ `http`, `body_source`) | one HTTP attempt: request, CORS, redirects, `206` validation, reading the body |
//! | [`body_sink`] | the body on its way to disk: memory/pack or file, coalesced writes, checkpoints, decoded-size cap |
//! | [`retry`] | the loop over attempts: backoff, resume or restart decisions |
//! | `finish` | the record's final outcome, and saving state on shutdown |
//!
//! This module holds the state they share ([`Downloader`]) and the body
//! bookkeeping that ties the sink to the fetch's counters and live state.

mod attempt;
mod body_sink;
mod body_source;
mod finish;
mod http;
mod retry;

use crate::engine::{FetchCtx, Inner, LiveRecord};
use crate::integrity;
use body_sink::{BodySink, CheckpointError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use swrt_store::{is_storage_full_io, FailureReason, RecordOutcome, RecordRow, ResponseMeta};
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

impl Fail {
    fn message(&self) -> &str {
        match self {
            Fail::Network(m, _) | Fail::Fatal(m) | Fail::Stop(_, m) | Fail::Restart(m) => m,
        }
    }
}

pub(crate) struct Downloader {
    inner: Arc<Inner>,
    ctx: Arc<FetchCtx>,
    rec: RecordRow,
    url: Url,
    live: Arc<watch::Sender<LiveRecord>>,
    sink: BodySink,
    meta: Option<ResponseMeta>,
    record_uploaded: Arc<AtomicU64>,
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
#[tracing::instrument(name = "record", skip_all, fields(fetch = %ctx.unique_id, index = rec.index))]
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
        tracing::debug!("record stopped with its fetch");
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
    d.init_stored_bytes().await;
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
        let sink = BodySink::new(inner.data.store().clone(), ctx.unique_id.clone(), rec.index);
        Downloader {
            hasher: integrity.as_ref().map(integrity::Metadata::hasher),
            integrity,
            store_has_bytes: rec.bytes_stored > 0,
            meta: rec.response.clone(),
            sink,
            inner,
            ctx,
            rec,
            url,
            live,
            record_uploaded: Arc::new(AtomicU64::new(0)),
            meta_dirty: false,
        }
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
    async fn init_stored_bytes(&mut self) {
        let n = self.rec.bytes_stored;
        if n == 0 {
            return;
        }
        if self.resumable() {
            match self.sink.resume(n).await {
                Ok(len) => {
                    if len < n {
                        self.ctx.downloaded.fetch_sub(n - len, Ordering::AcqRel);
                        self.inner
                            .data
                            .add_usage(&self.ctx.origin, -((n - len) as i64));
                    }
                    self.live.send_modify(|l| l.len = len);
                    if let Err(e) = self.hash_kept_prefix(len).await {
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
    async fn hash_kept_prefix(&mut self, len: u64) -> std::io::Result<()> {
        let Some(h) = self.hasher.as_mut() else {
            return Ok(());
        };
        let store = self.inner.data.store().clone();
        let (fetch, index) = (self.ctx.unique_id.clone(), self.rec.index);
        let mut reader = crate::body_read::blocking(move || {
            let body = swrt_store::BodyId::Response {
                fetch: &fetch,
                index,
            };
            store.bodies().read(body, 0)
        })
        .await?;
        let mut left = len;
        while left > 0 {
            let want = left.min(64 << 10) as usize;
            let (r, chunk) = crate::body_read::read_chunk(reader, want).await?;
            if chunk.is_empty() {
                return Ok(());
            }
            h.update(&chunk);
            left -= chunk.len() as u64;
            reader = r;
        }
        Ok(())
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

    /// Forget stored bytes (resume refused / 200 to a range request).
    /// Callers first wait for a running checkpoint ([`Self::join_checkpoint`]).
    fn reset_body(&mut self) {
        let old = self.sink.len();
        if old > 0 {
            self.ctx.downloaded.fetch_sub(old, Ordering::AcqRel);
            self.inner.data.add_usage(&self.ctx.origin, -(old as i64));
        }
        self.sink.reset();
        self.hasher = self.integrity.as_ref().map(integrity::Metadata::hasher);
        self.live.send_modify(|l| {
            l.len = 0;
            l.meta = None;
            l.generation += 1;
        });
    }

    /// Take one network chunk: count it, enforce `downloadTotal` and the
    /// quota, and hand it to the body sink.
    async fn accept(&mut self, chunk: bytes::Bytes) -> Result<(), Fail> {
        let n = chunk.len() as u64;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&chunk);
        }
        let downloaded = self.ctx.downloaded.fetch_add(n, Ordering::AcqRel) + n;
        let usage = self.inner.data.add_usage(&self.ctx.origin, n as i64);
        self.sink.push(chunk).map_err(|e| self.io_fail(e))?;
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
        if self.sink.in_memory() {
            self.inner.notify_progress(&self.ctx);
        } else if self.sink.flush_due(self.inner.limits.read_buffer) {
            self.flush_pending().await?;
        }
        Ok(())
    }

    /// Write the sink's buffer to the body, publish the new length
    /// to readers, and start a checkpoint when one is due.
    async fn flush_pending(&mut self) -> Result<(), Fail> {
        let len = match self.sink.flush() {
            Ok(Some(len)) => len,
            Ok(None) => return Ok(()),
            Err(e) => return Err(self.io_fail(e)),
        };
        self.live.send_if_modified(|l| {
            let changed = l.len != len;
            l.len = len;
            changed
        });
        self.inner.notify_progress(&self.ctx);
        if self.sink.checkpoint_due(len, &self.inner.limits) {
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
        let (uid, idx) = (self.ctx.unique_id.clone(), self.rec.index);
        let d = self.ctx.downloaded.load(Ordering::Acquire);
        let u = self.ctx.uploaded.load(Ordering::Acquire);
        let meta = if self.meta_dirty {
            self.meta.clone()
        } else {
            None
        };
        let store = self.inner.data.store().clone();
        let started = self
            .sink
            .start_checkpoint(move |len| {
                if let Some(m) = &meta {
                    store.record_set_response(&uid, idx, m, len)?;
                }
                store.record_checkpoint(&uid, idx, len, d, u)
            })
            .map_err(|e| Fail::Fatal(format!("body: {e}")))?;
        if started {
            // The head goes into the store with this checkpoint.
            self.meta_dirty = false;
        }
        Ok(())
    }

    /// Wait for the running checkpoint, if any.
    async fn join_checkpoint(&mut self) -> Result<(), Fail> {
        match self.sink.join_checkpoint().await {
            Ok(true) => {
                self.store_has_bytes = true;
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(CheckpointError::Io(e)) if is_storage_full_io(&e) => Err(self.io_fail(e)),
            Err(CheckpointError::Io(e)) => Err(Fail::Fatal(e.to_string())),
            Err(CheckpointError::TaskFailed) => Err(Fail::Fatal("sync task failed".into())),
        }
    }
}
