//! The end of a record: its final outcome persisted through the group
//! commit, or, when the fetch stops under it, the bytes it wrote saved for
//! the next start (engine shutdown) or released (abort, failure).

use super::{Downloader, Fail};
use std::sync::atomic::Ordering;
use swrt_store::{FailureReason, RecordFinish, RecordOutcome};

impl Downloader {
    /// Engine shutdown interrupted this record: write what is buffered, sync
    /// the body and record its length, so the next start resumes here
    /// (small bodies held in memory are simply downloaded again).
    pub(super) async fn persist_for_shutdown(&mut self) {
        if !self.sink.has_file() {
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
                bytes = self.sink.len(),
                "download state saved for the next start"
            ),
            Err(f) => {
                tracing::warn!(error = %f.message(), "could not save download state; the next start repeats unsaved bytes")
            }
        }
    }

    /// The store releases the bytes it recorded for this record when the
    /// fetch ends; the rest of the body (buffered, or written but not yet
    /// synced) stops counting against the quota now.
    fn uncount_beyond(&self, recorded: u64) {
        let unrecorded = self.sink.len().saturating_sub(recorded);
        if unrecorded > 0 {
            self.inner
                .data
                .add_usage(&self.ctx.origin, -(unrecorded as i64));
        }
    }

    /// The fetch stopped (abort, a failure that ends it) while this record
    /// ran: once its running checkpoint settles, what the store recorded is
    /// known, and the rest is uncounted.
    pub(super) async fn release_unrecorded(&mut self) {
        let _ = self.join_checkpoint().await;
        self.uncount_beyond(self.sink.synced_len());
        self.sink.reset();
    }

    /// Persist the final outcome (body synced first, via the group committer).
    pub(super) async fn finish(&mut self, mut outcome: RecordOutcome, mut error: Option<String>) {
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
        } else {
            self.sink.settle_checkpoint().await;
        }
        let keep = matches!(outcome, RecordOutcome::Complete | RecordOutcome::BadStatus);
        let bytes = if keep {
            self.sink.len()
        } else {
            let recorded = self.sink.synced_len();
            self.uncount_beyond(recorded);
            recorded
        };
        let data = if keep { self.sink.take_memory() } else { None };
        let sync = if keep { self.sink.sync_point() } else { None };
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
        let (outcome, error, packed) = match self.inner.data.finish(item, sync, data).await {
            Ok(off) => (outcome, error, off),
            Err(e) => {
                tracing::error!(error = %e, "could not store record outcome");
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
        self.sink.reset();
        self.live.send_modify(|l| {
            l.outcome = Some(outcome);
            l.error = error;
            l.len = bytes;
            l.packed_offset = packed;
        });
        self.inner.notify_progress(&self.ctx);
    }
}
