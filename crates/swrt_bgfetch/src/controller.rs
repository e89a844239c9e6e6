//! Job controller: one per active fetch. Starts a downloader per pending
//! record, waits for all of them, decides the single result, then hands over
//! to completion.

use crate::completion;
use crate::downloader;
use crate::engine::{FetchCtx, Inner, JobGuard, LiveRecord};
use crate::progress::ProgressLimiter;
use crate::types::PolicyContext;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use swrt_store::{FailureReason, FetchResult, FetchRow, RecordOutcome};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Spawn the controller of `row` (which must be active).
pub(crate) fn spawn(inner: &Arc<Inner>, row: FetchRow) {
    let guard = JobGuard::new(inner);
    let inner = inner.clone();
    tokio::spawn(async move {
        let uid = row.unique_id.clone();
        run(inner.clone(), row).await;
        completion::complete(&inner, &uid, false).await;
        drop(guard);
    });
}

async fn run(inner: Arc<Inner>, row: FetchRow) {
    let uid = row.unique_id.clone();
    let records = {
        let id = uid.clone();
        match inner.data.run(move |s| s.records(&id)).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(fetch = %uid, error = %e, "cannot load records; failing fetch");
                settle(
                    &inner,
                    &uid,
                    FetchResult::Failure,
                    FailureReason::FetchError,
                    row.downloaded,
                    row.uploaded,
                    None,
                )
                .await;
                return;
            }
        }
    };
    let origin_url = match url::Url::parse(&row.origin) {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(fetch = %uid, error = %e, "stored origin is invalid; failing fetch");
            settle(
                &inner,
                &uid,
                FetchResult::Failure,
                FailureReason::FetchError,
                row.downloaded,
                row.uploaded,
                None,
            )
            .await;
            return;
        }
    };
    let policy: PolicyContext = serde_json::from_str(&row.policy_json).unwrap_or_default();
    let downloaded: u64 = records.iter().map(|r| r.bytes_stored).sum();
    let live = records
        .iter()
        .map(|r| {
            watch::channel(LiveRecord {
                meta: r.response.clone(),
                len: r.bytes_stored,
                outcome: r.outcome.is_final().then_some(r.outcome),
                error: r.error_message.clone(),
                generation: 0,
            })
            .0
        })
        .collect();
    let ctx = Arc::new(FetchCtx {
        unique_id: uid.clone(),
        origin: row.origin.clone(),
        origin_url,
        policy,
        download_total: row.download_total,
        downloaded: AtomicU64::new(downloaded),
        uploaded: AtomicU64::new(row.uploaded),
        cancel: CancellationToken::new(),
        stop_reason: Mutex::new(None),
        first_failure: Mutex::new(None),
        live,
        limiter: ProgressLimiter::new(inner.limits.progress_interval),
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
    tracing::info!(fetch = %uid, records = records.len(), "fetch running");

    let mut set = JoinSet::new();
    for rec in records
        .into_iter()
        .filter(|r| r.outcome == RecordOutcome::Pending)
    {
        set.spawn(downloader::run_record(inner.clone(), ctx.clone(), rec));
    }
    while let Some(r) = set.join_next().await {
        if let Err(e) = r {
            // A panicking downloader must not leave the fetch hanging.
            tracing::error!(fetch = %uid, error = %e, "downloader task failed");
            ctx.note_failure(FailureReason::FetchError);
        }
    }
    let (result, reason) = match ctx.stop_reason().or_else(|| ctx.first_failure()) {
        Some(r) => (FetchResult::Failure, r),
        None => (FetchResult::Success, FailureReason::None),
    };
    let d = ctx.downloaded.load(Ordering::Acquire);
    let u = ctx.uploaded.load(Ordering::Acquire);
    settle(&inner, &uid, result, reason, d, u, Some(&ctx)).await;
    inner.lock_running().remove(&uid);
}

/// `active` -> `settled` and the final progress event. A no-op if someone
/// else (abort) settled first.
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
        .run(move |s| s.settle_fetch(&id, result, reason, downloaded, uploaded))
        .await;
    match settled {
        Ok(true) => {
            tracing::info!(fetch = %uid, result = %result, reason = %reason, "fetch settled");
            emit_final(inner, uid, ctx).await;
            true
        }
        Ok(false) => false,
        Err(e) => {
            tracing::error!(fetch = %uid, error = %e, "cannot settle fetch");
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
