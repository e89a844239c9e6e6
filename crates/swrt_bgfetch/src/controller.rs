//! Job controller: one per active fetch. Starts a downloader per pending
//! record, waits for all of them, decides the single result, then hands over
//! to completion.

use crate::completion;
use crate::download;
use crate::engine::{FetchCtx, Inner, JobGuard};
use crate::progress::ProgressLimiter;
use crate::types::PolicyContext;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use swrt_store::{FailureReason, FetchResult, FetchRow, FetchState, RecordOutcome};
use tokio::task::JoinSet;

/// Spawn the controller of `row` (which must be active).
pub(crate) fn spawn(inner: &Arc<Inner>, row: FetchRow) {
    let guard = JobGuard::new(inner);
    let inner = inner.clone();
    tokio::spawn(async move {
        let uid = row.unique_id.clone();
        if run(inner.clone(), row).await {
            completion::complete(&inner, &uid, false).await;
        }
        crate::claims::job_ended(&inner, &uid).await;
        drop(guard);
    });
}

/// Run the fetch's records and settle it. Returns false if engine shutdown
/// interrupted the fetch (it stays active and resumes on the next start).
/// A fetch whose stored state cannot be run fails with `fetch-error`
/// (returns `run`'s "settled" answer).
async fn fail_unstartable(inner: &Arc<Inner>, row: &FetchRow) -> bool {
    settle(
        inner,
        &row.unique_id,
        FetchResult::Failure,
        FailureReason::FetchError,
        row.downloaded,
        row.uploaded,
        None,
    )
    .await;
    true
}

#[tracing::instrument(name = "fetch", skip_all, fields(fetch = %row.unique_id))]
async fn run(inner: Arc<Inner>, row: FetchRow) -> bool {
    let uid = row.unique_id.clone();
    let records = {
        let id = uid.clone();
        match inner.data.run(move |s| s.records(&id)).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "cannot load records; failing fetch");
                return fail_unstartable(&inner, &row).await;
            }
        }
    };
    let origin_url = match url::Url::parse(&row.origin) {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "stored origin is invalid; failing fetch");
            return fail_unstartable(&inner, &row).await;
        }
    };
    let policy: PolicyContext = serde_json::from_str(&row.policy_json).unwrap_or_default();
    let downloaded: u64 = records.iter().map(|r| r.bytes_stored).sum();
    let ctx = Arc::new(FetchCtx {
        unique_id: uid.clone(),
        origin: row.origin.clone(),
        origin_url,
        policy,
        download_total: row.download_total,
        downloaded: AtomicU64::new(downloaded),
        uploaded: AtomicU64::new(row.uploaded),
        cancel: inner.shutdown.child_token(),
        stop_reason: Mutex::new(None),
        first_failure: Mutex::new(None),
        live: Mutex::new(HashMap::new()),
        limiter: ProgressLimiter::new(inner.limits.progress_interval),
        ui_epoch: AtomicU64::new(0),
        lost: std::sync::atomic::AtomicBool::new(false),
        row: Mutex::new(row),
    });
    // Failures recorded before a restart count first, in index order.
    for r in &records {
        match r.outcome {
            RecordOutcome::BadStatus => ctx.note_failure(FailureReason::BadStatus),
            RecordOutcome::FetchError => ctx.note_failure(FailureReason::FetchError),
            _ => {}
        }
    }
    inner.lock_running().insert(uid.clone(), ctx.clone());
    // An abort that settled the fetch before this context was registered
    // found nothing to stop (`abort_unique` looks again after settling, so
    // one of the two sees the other): start no downloads for it.
    let id = uid.clone();
    if let Ok(found) = inner.data.run(move |s| s.get_fetch(&id)).await {
        if found.is_none_or(|r| r.state != FetchState::Active) {
            ctx.stop(FailureReason::Aborted);
        }
    }
    tracing::info!(records = records.len(), "fetch running");

    // Record tasks start lazily, a window at a time, instead of one task
    // per record up front (10,000 parked tasks cost ~50 MiB). The window is
    // larger than `per_fetch_connections` (all a fetch may use at once) so
    // that finished records waiting for their group commit, and records
    // waiting out a retry delay, do not idle the connections; bigger commit
    // batches also mean fewer fsyncs.
    let window = inner.limits.per_fetch_connections.max(1).saturating_mul(8);
    let mut todo = records
        .into_iter()
        .filter(|r| r.outcome == RecordOutcome::Pending);
    let mut set = JoinSet::new();
    let mut refreshed = false;
    loop {
        while set.len() < window && !ctx.cancel.is_cancelled() {
            match todo.next() {
                Some(rec) => {
                    set.spawn(download::run_record(inner.clone(), ctx.clone(), rec));
                }
                None => break,
            }
        }
        if !refreshed {
            refreshed = true;
            refresh_ui(&inner, &ctx).await;
        }
        match set.join_next().await {
            None => break,
            Some(Ok(())) => {}
            Some(Err(e)) => {
                // A panicking downloader must not leave the fetch hanging.
                tracing::error!(error = %e, "downloader task failed");
                ctx.note_failure(FailureReason::FetchError);
            }
        }
    }
    drop(todo);
    if (inner.stopping() || ctx.is_lost()) && ctx.stop_reason().is_none() {
        // Shutdown, not a result: leave the fetch active for the next start
        // (or, with its claim lost, for the engine that holds it now).
        inner.lock_running().remove(&uid);
        tracing::info!(lost = ctx.is_lost(), "fetch interrupted");
        return false;
    }
    let (result, reason) = match ctx.stop_reason().or_else(|| ctx.first_failure()) {
        Some(r) => (FetchResult::Failure, r),
        None => (FetchResult::Success, FailureReason::None),
    };
    let d = ctx.downloaded.load(Ordering::Acquire);
    let u = ctx.uploaded.load(Ordering::Acquire);
    settle(&inner, &uid, result, reason, d, u, Some(&ctx)).await;
    inner.lock_running().remove(&uid);
    true
}

/// An updateUI() between the row's load and the fetch's registration as
/// running went only to the store: copy it into the live row (progress
/// events carry it). If one lands while this reads, it updated the row
/// itself: keep that.
async fn refresh_ui(inner: &Arc<Inner>, ctx: &Arc<FetchCtx>) {
    let epoch = ctx.ui_epoch.load(Ordering::Acquire);
    let id = ctx.unique_id.clone();
    if let Ok(Some(r)) = inner.data.run(move |s| s.get_fetch(&id)).await {
        let mut row = ctx.row.lock().unwrap_or_else(|p| p.into_inner());
        if ctx.ui_epoch.load(Ordering::Acquire) == epoch {
            row.title = r.title;
            row.icons = r.icons;
        }
    }
}

/// `active` -> `settled` and the final progress event. A no-op if someone
/// else (abort) settled first.
#[tracing::instrument(name = "settle", skip_all, fields(fetch = %uid))]
pub(crate) async fn settle(
    inner: &Arc<Inner>,
    uid: &str,
    result: FetchResult,
    reason: FailureReason,
    downloaded: u64,
    uploaded: u64,
    ctx: Option<&Arc<FetchCtx>>,
) -> bool {
    let id = uid.to_string();
    let settled = inner
        .data
        .run(move |s| {
            match s.settle_fetch(&id, result, reason, downloaded, uploaded) {
                Err(e) if e.is_storage_full() => {
                    // The disk is full (whatever ended the fetch): it fails
                    // with quota-exceeded, its bodies go to make room, and
                    // the reserve covers the store's own writes.
                    tracing::warn!(error = %e, "disk full while settling; freeing the fetch's bodies");
                    s.release_space_reserve();
                    if let Err(e) = s.bodies().delete_fetch(&id) {
                        tracing::warn!(fetch = %id, error = %e, "cannot delete bodies");
                    }
                    s.settle_fetch(
                        &id,
                        FetchResult::Failure,
                        FailureReason::QuotaExceeded,
                        downloaded,
                        uploaded,
                    )
                }
                settled => settled,
            }
        })
        .await;
    match settled {
        Ok(true) => {
            tracing::info!(result = %result, reason = %reason, "fetch settled");
            emit_final(inner, uid, ctx).await;
            true
        }
        Ok(false) => false,
        Err(e) => {
            tracing::error!(error = %e, "cannot settle fetch");
            false
        }
    }
}

/// Deliver the final progress event (result set) exactly once per fetch.
pub(crate) async fn emit_final(inner: &Arc<Inner>, uid: &str, ctx: Option<&Arc<FetchCtx>>) {
    if let Some(ctx) = ctx {
        if !ctx.limiter.finish() {
            return;
        }
    }
    let id = uid.to_string();
    if let Ok(Some(row)) = inner.data.run(move |s| s.get_fetch(&id)).await {
        inner
            .progress
            .send(crate::types::RegistrationSnapshot::from_row(&row), true);
    }
}
