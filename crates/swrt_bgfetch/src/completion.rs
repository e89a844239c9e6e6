//! Completion: dispatch the single terminal event, then end the records'
//! availability and delete the bodies.

use crate::dispatch::{BackgroundFetchEventRequest, DispatchError, DispatchOutcome, EventKind};
use crate::engine::Inner;
use crate::types::RegistrationSnapshot;
use std::sync::Arc;
use swrt_store::FetchState;

/// Run [`complete`] as a job of the engine; with a shared store, the
/// fetch's claim ends with it.
pub(crate) fn spawn(inner: &Arc<Inner>, uid: String, redispatch: bool) {
    let guard = crate::engine::JobGuard::new(inner);
    let inner = inner.clone();
    tokio::spawn(async move {
        complete(&inner, &uid, redispatch).await;
        crate::claims::job_ended(&inner, &uid).await;
        drop(guard);
    });
}

/// Drive a settled fetch to `done`. With `redispatch` the fetch is already
/// `dispatched` (a previous process died during the event) and the same
/// event is offered again.
#[tracing::instrument(name = "completion", skip(inner, uid), fields(fetch = %uid))]
pub(crate) async fn complete(inner: &Arc<Inner>, uid: &str, redispatch: bool) {
    // On shutdown the fetch stays `settled` (or `dispatched`) and the next
    // start offers the event.
    if inner.stopping() {
        return;
    }
    if !redispatch {
        let id = uid.to_string();
        // Persist "event dispatched" before calling out. Only one caller can
        // win this transition, so there is only ever one terminal event.
        match inner.data.run(move |s| s.mark_dispatched(&id)).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::error!(error = %e, "cannot mark fetch dispatched");
                return;
            }
        }
    }
    let id = uid.to_string();
    let row = match inner.data.run(move |s| s.get_fetch(&id)).await {
        Ok(Some(r)) if r.state == FetchState::Dispatched => r,
        Ok(_) => return,
        Err(e) => {
            tracing::error!(error = %e, "cannot load fetch");
            return;
        }
    };
    let snapshot = RegistrationSnapshot::from_row(&row);
    let kind = EventKind::terminal_for(&snapshot);
    let abandoned = inner
        .abandoned
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(uid);
    if abandoned {
        tracing::info!("registration gone: no terminal event");
    } else if let Some(d) = &inner.dispatcher {
        let mut attempt = u32::from(redispatch);
        let mut failures = 0;
        loop {
            let ev = BackgroundFetchEventRequest {
                kind,
                registration: snapshot.clone(),
                attempt,
            };
            tracing::info!(event = kind.event_type(), attempt, "dispatching");
            let res = tokio::select! {
                r = d.dispatch(ev) => r,
                // Shutdown during the event: like a crash, it stays
                // `dispatched` and is offered again (attempt > 0) next start.
                _ = inner.shutdown.cancelled() => return,
            };
            match res {
                Ok(DispatchOutcome::Handled) => break,
                Ok(DispatchOutcome::HandlerFailed(m)) => {
                    tracing::warn!(event = kind.event_type(), error = %m, "handler failed; event ended");
                    break;
                }
                Err(DispatchError::WorkerUnavailable(m))
                    if failures < inner.limits.dispatch_retries =>
                {
                    failures += 1;
                    attempt += 1;
                    let delay = inner.limits.backoff(failures - 1);
                    tracing::warn!(error = %m, ?delay, "worker unavailable; re-offering event");
                    tokio::time::sleep(delay).await;
                }
                Err(DispatchError::WorkerUnavailable(m)) => {
                    // Never lose the records for a failure that may pass:
                    // the fetch stays `dispatched`, and the next start
                    // offers the event again.
                    tracing::warn!(error = %m, "worker unavailable after every retry; records kept, the event is offered again at the next start");
                    return;
                }
                Err(DispatchError::Fatal(m)) => {
                    tracing::warn!(error = %m, "event cannot be delivered; releasing the records");
                    break;
                }
            }
        }
    }
    finish_lifetime(inner, uid).await;
}

/// The terminal event ended: `recordsAvailable` becomes false and the bodies
/// go. The row stays for `Limits::click_retention` so a click can still carry
/// the registration.
async fn finish_lifetime(inner: &Arc<Inner>, uid: &str) {
    let id = uid.to_string();
    let pins = inner.pins.clone();
    let store = inner.data.store().clone();
    let released = match inner
        .data
        .run(move |s| {
            let records = s.records(&id)?;
            let freed: u64 = records
                .iter()
                .map(|r| r.bytes_stored + r.request_body_len)
                .sum();
            let done = s.mark_done(&id)?;
            let row = s.get_fetch(&id)?;
            // Delete bodies after the commit (start-up repair deletes them
            // again if we crash in between), unless a realm still holds
            // record objects: then the last of them deletes them.
            if !(done && pins.retire_if_pinned(&id, records, &store)) {
                if let Err(e) = s.bodies().delete_fetch(&id) {
                    tracing::warn!(fetch = %id, error = %e, "cannot delete bodies");
                }
            }
            Ok(row.filter(|_| done).map(|row| (row, freed)))
        })
        .await
    {
        Ok(row) => row,
        Err(e) => {
            tracing::error!(error = %e, "cannot finish fetch");
            return;
        }
    };
    if let Some((row, freed)) = released {
        inner.data.add_usage(&row.origin, -(freed as i64));
        tracing::info!("records released");
        // Every realm's registration objects learn that `recordsAvailable`
        // is false now (the result went out earlier; this repeats it).
        inner
            .progress
            .send(crate::types::RegistrationSnapshot::from_row(&row), true);
        let inner2 = inner.clone();
        let id = uid.to_string();
        let keep = inner.limits.click_retention;
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(keep) => {
                    let _ = inner2.data.run(move |s| s.delete_fetch(&id)).await;
                }
                // Start-up deletes rows past the retention period.
                _ = inner2.shutdown.cancelled() => {}
            }
        });
    }
}
