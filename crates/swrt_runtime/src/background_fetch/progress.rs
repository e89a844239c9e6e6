//! A `BackgroundFetchRegistration` object's subscription to its fetch's
//! state (the engine's per-fetch watch), behind two ops: one subscribes,
//! one awaits the next state.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use deno_core::{
    op2, AsyncRefCell, CancelFuture, CancelHandle, OpState, RcRef, Resource, ResourceId,
};
use serde::Serialize;
use swrt_bgfetch::ProgressEvent;
use tokio::sync::watch;

use super::ops::{context, BgFetchError};
use super::RegistrationData;

/// A `BackgroundFetchRegistration` object's subscription to its fetch's
/// state: the engine's watch, which starts from the latest state and closes
/// when the fetch is done.
pub(crate) struct ProgressWatchResource {
    rx: AsyncRefCell<watch::Receiver<ProgressEvent>>,
    /// The state the watch started from has not been handed to JS yet (the
    /// object may have been made from an older read).
    first: Cell<bool>,
    cancel: CancelHandle,
}

impl ProgressWatchResource {
    fn new(rx: watch::Receiver<ProgressEvent>) -> Self {
        ProgressWatchResource {
            rx: AsyncRefCell::new(rx),
            first: Cell::new(true),
            cancel: CancelHandle::new(),
        }
    }

    /// The current state on the first call, then each change; None once
    /// the fetch is done (its last state handed out) or the resource closed.
    async fn next(self: Rc<Self>) -> Option<ProgressEvent> {
        let mut rx = RcRef::map(&self, |r| &r.rx).borrow_mut().await;
        if self.first.replace(false) {
            return Some(rx.borrow_and_update().clone());
        }
        let cancel = RcRef::map(&self, |r| &r.cancel);
        match rx.changed().or_cancel(cancel).await {
            Ok(Ok(())) => Some(rx.borrow_and_update().clone()),
            Ok(Err(_)) | Err(_) => None,
        }
    }
}

impl Resource for ProgressWatchResource {
    fn name(&self) -> Cow<'_, str> {
        "swrtBackgroundFetchProgress".into()
    }

    fn close(self: Rc<Self>) {
        self.cancel.cancel();
    }
}

/// A fetch's state as a registration object applies it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProgressData {
    registration: RegistrationData,
    /// True once the fetch has its result.
    is_final: bool,
}

impl From<&ProgressEvent> for ProgressData {
    fn from(event: &ProgressEvent) -> Self {
        ProgressData {
            registration: RegistrationData::from(&event.registration),
            is_final: event.is_final,
        }
    }
}

/// Subscribes a `BackgroundFetchRegistration` object to its fetch; null when
/// the engine no longer knows the fetch.
#[op2]
pub(crate) async fn op_swrt_bgfetch_watch(
    state: Rc<RefCell<OpState>>,
    #[string] unique_id: String,
) -> Result<Option<ResourceId>, BgFetchError> {
    let ctx = context(&state.borrow())?;
    let service = ctx.service.clone();
    let rx = ctx
        .on_host(async move { service.watch(&unique_id).await })
        .await
        .map_err(BgFetchError::from)??;
    Ok(rx.map(|rx| {
        state
            .borrow_mut()
            .resource_table
            .add(ProgressWatchResource::new(rx))
    }))
}

/// The fetch's next state: the current one on the first call, then each
/// change; null once the fetch is done (or the subscription was closed).
#[op2]
#[serde]
pub(crate) async fn op_swrt_bgfetch_watch_next(
    state: Rc<RefCell<OpState>>,
    #[smi] rid: ResourceId,
) -> Result<Option<ProgressData>, BgFetchError> {
    let Ok(resource) = state
        .borrow()
        .resource_table
        .get::<ProgressWatchResource>(rid)
    else {
        return Ok(None);
    };
    Ok(resource.next().await.as_ref().map(ProgressData::from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use swrt_bgfetch::RegistrationSnapshot;
    use swrt_store::{FailureReason, FetchResult, FetchState};

    fn event(downloaded: u64, state: FetchState) -> ProgressEvent {
        ProgressEvent {
            registration: RegistrationSnapshot {
                unique_id: "f".into(),
                scope: "https://a.test/".into(),
                id: "x".into(),
                origin: "https://a.test".into(),
                title: String::new(),
                icons: vec![],
                upload_total: 0,
                uploaded: 0,
                download_total: 0,
                downloaded,
                result: FetchResult::Pending,
                failure_reason: FailureReason::None,
                records_available: true,
                state,
            },
            is_final: false,
        }
    }

    fn downloaded(event: Option<ProgressEvent>) -> Option<u64> {
        event.map(|e| e.registration.downloaded)
    }

    #[tokio::test]
    async fn the_current_state_first_then_each_change_then_none_when_done() {
        let (tx, rx) = watch::channel(event(5, FetchState::Active));
        // Seen by the engine's watch already: a late object still gets it first.
        let resource = Rc::new(ProgressWatchResource::new(rx));
        assert_eq!(downloaded(resource.clone().next().await), Some(5));
        tx.send_replace(event(9, FetchState::Active));
        assert_eq!(downloaded(resource.clone().next().await), Some(9));
        // The last state before the engine drops the watch is not lost.
        tx.send_replace(event(12, FetchState::Done));
        drop(tx);
        assert_eq!(downloaded(resource.clone().next().await), Some(12));
        assert_eq!(downloaded(resource.next().await), None);
    }

    #[tokio::test]
    async fn closing_ends_a_pending_wait() {
        let (_tx, rx) = watch::channel(event(1, FetchState::Active));
        let resource = Rc::new(ProgressWatchResource::new(rx));
        assert_eq!(downloaded(resource.clone().next().await), Some(1));
        let waiting = resource.clone().next();
        resource.close();
        assert_eq!(downloaded(waiting.await), None);
    }
}
