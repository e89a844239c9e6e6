//! Shared engine state and the per-fetch context used by the job controller
//! and the downloaders.

use crate::data::DataManager;
use crate::dispatch::EventDispatcher;
use crate::limits::Limits;
use crate::progress::{Offer, ProgressHub, ProgressLimiter};
use crate::scheduler::Scheduler;
use crate::types::{PolicyContext, RegistrationSnapshot};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use swrt_store::{FailureReason, FetchRow, RecordOutcome, ResponseMeta};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Live state of one record while its fetch runs; readers of the body and of
/// `responseReady` watch it.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveRecord {
    pub meta: Option<ResponseMeta>,
    /// Bytes written to the body (may be ahead of the durable count).
    pub len: u64,
    pub outcome: Option<RecordOutcome>,
    pub error: Option<String>,
    /// Bumped whenever the body restarts from zero.
    pub generation: u32,
    /// The finished body lives in the fetch's pack file at this offset
    /// (small bodies); `None` = its own file.
    pub packed_offset: Option<u64>,
    /// The request has integrity metadata: the response is a network error
    /// until the whole body is verified, so `responseReady` waits for the
    /// outcome instead of resolving with the head.
    pub awaits_integrity: bool,
}

pub(crate) struct Inner {
    pub data: Arc<DataManager>,
    pub limits: Limits,
    pub client: crate::net::HttpClient,
    pub sched: Scheduler,
    pub dispatcher: Option<Arc<dyn EventDispatcher>>,
    pub progress: ProgressHub,
    pub running: Mutex<HashMap<String, Arc<FetchCtx>>>,
    pub permissions: Mutex<HashMap<String, bool>>,
    /// Fetches whose service worker registration went away: they end
    /// without a terminal event (see `abandon_registration`).
    pub abandoned: Mutex<std::collections::HashSet<String>>,
    /// Number of controller and completion tasks alive (for `wait_idle`).
    pub jobs: watch::Sender<usize>,
    /// Cancelled by [`crate::BackgroundFetchService::shutdown`]; every
    /// fetch's cancellation token is a child of it.
    pub shutdown: CancellationToken,
    /// Completed once shutdown finished (makes it idempotent).
    pub shutdown_done: tokio::sync::OnceCell<()>,
    /// Successful CORS preflights, shared by all fetches.
    pub preflights: crate::cors::PreflightCache,
    /// Realms holding record objects keep ended fetches' bodies readable.
    pub pins: Arc<crate::record_pins::RecordPins>,
    /// With a store shared by several engines: the claims this engine
    /// holds, and the fetches it holds them on.
    pub claims: Option<Arc<dyn crate::claims::FetchClaims>>,
    pub claimed: Mutex<std::collections::HashSet<String>>,
}

/// Decrements the job count when dropped.
pub(crate) struct JobGuard(pub Arc<Inner>);

impl JobGuard {
    pub(crate) fn new(inner: &Arc<Inner>) -> Self {
        inner.jobs.send_modify(|n| *n += 1);
        JobGuard(inner.clone())
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.0.jobs.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Inner {
    pub(crate) fn stopping(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    pub(crate) fn lock_running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<FetchCtx>>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn lock_claimed(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.claimed.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn ctx(&self, unique_id: &str) -> Option<Arc<FetchCtx>> {
        self.lock_running().get(unique_id).cloned()
    }

    /// Snapshot of a row, with live counters if the fetch is running.
    pub(crate) fn snapshot(&self, row: &FetchRow) -> RegistrationSnapshot {
        let mut s = RegistrationSnapshot::from_row(row);
        // The row is authoritative for the UI (updateUI) and the state; a
        // running fetch's counters are ahead of the stored ones.
        match self.ctx(&row.unique_id) {
            Some(ctx) if row.state == swrt_store::FetchState::Active => {
                s.downloaded = ctx.downloaded.load(Ordering::Acquire);
                s.uploaded = ctx.uploaded.load(Ordering::Acquire);
            }
            _ => {}
        }
        s
    }

    /// Rate-limited progress notification for a running fetch.
    pub(crate) fn notify_progress(self: &Arc<Self>, ctx: &Arc<FetchCtx>) {
        match ctx.limiter.offer() {
            Offer::Now => self.progress.send(ctx.snapshot(), false),
            Offer::Later(d) => {
                let inner = self.clone();
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(d).await;
                    if ctx.limiter.flush() {
                        inner.progress.send(ctx.snapshot(), false);
                    }
                });
            }
            Offer::Skip => {}
        }
    }
}

/// Per-fetch state shared by the controller and its downloaders.
pub(crate) struct FetchCtx {
    pub row: Mutex<FetchRow>,
    pub unique_id: String,
    pub origin: String,
    pub origin_url: url::Url,
    pub policy: PolicyContext,
    pub download_total: u64,
    pub downloaded: AtomicU64,
    pub uploaded: AtomicU64,
    pub cancel: CancellationToken,
    /// Set when the whole fetch must stop (abort, downloadTotal, quota).
    pub stop_reason: Mutex<Option<FailureReason>>,
    /// First non-success record outcome, in the order they happened.
    pub first_failure: Mutex<Option<FailureReason>>,
    /// Live state of the records whose download task is running (created
    /// when the task starts, removed when it ends; the store is
    /// authoritative for every other record).
    pub live: Mutex<HashMap<u32, Arc<watch::Sender<LiveRecord>>>>,
    pub limiter: ProgressLimiter,
    /// Bumped by every `updateUI()` applied to `row` (see controller::run).
    pub ui_epoch: AtomicU64,
    /// Another engine holds the fetch now: stop without settling it.
    pub lost: std::sync::atomic::AtomicBool,
}

impl FetchCtx {
    pub(crate) fn snapshot(&self) -> RegistrationSnapshot {
        let row = self.row.lock().unwrap_or_else(|p| p.into_inner());
        let mut s = RegistrationSnapshot::from_row(&row);
        s.downloaded = self.downloaded.load(Ordering::Acquire);
        s.uploaded = self.uploaded.load(Ordering::Acquire);
        s
    }

    /// Stop every download of this fetch with `reason` (first reason wins).
    pub(crate) fn stop(&self, reason: FailureReason) {
        {
            let mut r = self.stop_reason.lock().unwrap_or_else(|p| p.into_inner());
            if r.is_none() {
                *r = Some(reason);
            }
        }
        self.cancel.cancel();
    }

    /// This engine lost its claim on the fetch: its downloads stop, and the
    /// fetch stays active for the engine that holds it now.
    pub(crate) fn lose(&self) {
        self.lost.store(true, Ordering::Release);
        self.cancel.cancel();
    }

    pub(crate) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }

    pub(crate) fn stop_reason(&self) -> Option<FailureReason> {
        *self.stop_reason.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn note_failure(&self, reason: FailureReason) {
        let mut r = self.first_failure.lock().unwrap_or_else(|p| p.into_inner());
        if r.is_none() {
            *r = Some(reason);
        }
    }

    pub(crate) fn live_rx(&self, index: u32) -> Option<watch::Receiver<LiveRecord>> {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&index)
            .map(|s| s.subscribe())
    }

    pub(crate) fn live_get(&self, index: u32) -> Option<LiveRecord> {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&index)
            .map(|s| s.borrow().clone())
    }

    pub(crate) fn first_failure(&self) -> Option<FailureReason> {
        *self.first_failure.lock().unwrap_or_else(|p| p.into_inner())
    }
}
