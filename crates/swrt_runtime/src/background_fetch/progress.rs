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
            .add(ProgressWatchResource {
                rx: AsyncRefCell::new(rx),
                first: Cell::new(true),
                cancel: CancelHandle::new(),
            })
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
    let mut rx = RcRef::map(&resource, |r| &r.rx).borrow_mut().await;
    if resource.first.replace(false) {
        return Ok(Some(ProgressData::from(&*rx.borrow_and_update())));
    }
    let cancel = RcRef::map(&resource, |r| &r.cancel);
    match rx.changed().or_cancel(cancel).await {
        Ok(Ok(())) => Ok(Some(ProgressData::from(&*rx.borrow_and_update()))),
        // Closed: the fetch is done and its last state was handed out.
        Ok(Err(_)) | Err(_) => Ok(None),
    }
}
