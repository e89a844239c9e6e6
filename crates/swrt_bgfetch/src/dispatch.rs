//! The event-dispatch boundary: the engine decides *which* event fires; the
//! host runtime (swrt_runtime) wakes the worker, dispatches it and waits for
//! its lifetime (`waitUntil`) to end.

use crate::types::RegistrationSnapshot;
use serde::{Deserialize, Serialize};

/// Which service-worker event to fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// `backgroundfetchsuccess` (a `BackgroundFetchUpdateUIEvent`).
    Success,
    /// `backgroundfetchfail` (a `BackgroundFetchUpdateUIEvent`).
    Fail,
    /// `backgroundfetchabort` (a `BackgroundFetchEvent`).
    Abort,
    /// `backgroundfetchclick` (a `BackgroundFetchEvent`).
    Click,
}

impl EventKind {
    /// The DOM event type.
    pub fn event_type(self) -> &'static str {
        match self {
            EventKind::Success => "backgroundfetchsuccess",
            EventKind::Fail => "backgroundfetchfail",
            EventKind::Abort => "backgroundfetchabort",
            EventKind::Click => "backgroundfetchclick",
        }
    }

    /// Whether the event supports `updateUI()`.
    pub fn is_update_ui_event(self) -> bool {
        matches!(self, EventKind::Success | EventKind::Fail)
    }

    /// The terminal event for a settled registration.
    pub fn terminal_for(reg: &RegistrationSnapshot) -> EventKind {
        use swrt_store::{FailureReason, FetchResult};
        match (reg.result, reg.failure_reason) {
            (FetchResult::Success, _) => EventKind::Success,
            (_, FailureReason::Aborted) => EventKind::Abort,
            _ => EventKind::Fail,
        }
    }
}

/// An event for the runtime to dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackgroundFetchEventRequest {
    /// Which event.
    pub kind: EventKind,
    /// The registration the event carries (`event.registration`).
    pub registration: RegistrationSnapshot,
    /// 0 for the first delivery; >0 when re-offered after a worker failure or
    /// after a restart that interrupted a previous delivery.
    pub attempt: u32,
}

/// How the event's lifetime ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchOutcome {
    /// All `waitUntil` promises fulfilled (or none were given).
    Handled,
    /// A listener threw or a `waitUntil` promise rejected. The event still
    /// ended: like Chromium, the engine does not re-dispatch and cleans up.
    HandlerFailed(String),
}

/// The event could not be run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    /// The worker could not be started or crashed during the event; the engine
    /// re-offers the same event (up to `Limits::dispatch_retries` times), and
    /// beyond that keeps the records and offers it again at the next start.
    #[error("worker unavailable: {0}")]
    WorkerUnavailable(String),
    /// Permanent failure (registration gone, ...): the engine gives up and
    /// cleans up as if the event had ended.
    #[error("dispatch failed: {0}")]
    Fatal(String),
}

/// Implemented by the host runtime.
///
/// Delivery guarantee: for each fetch the engine calls `dispatch` with
/// exactly one terminal kind (Success, Fail or Abort), decided once and
/// persisted before the first call. The call is repeated with the *same* kind
/// only if the worker was unavailable (`Err(WorkerUnavailable)`) or if the
/// process died while the event was running (then after restart, with
/// `attempt > 0`): delivery is at-least-once for a crash during handling, and
/// a fetch never receives two *different* terminal events.
#[async_trait::async_trait]
pub trait EventDispatcher: Send + Sync + 'static {
    /// Dispatch `ev` to the registration's active worker (starting it if
    /// needed) and resolve when the event's lifetime has ended.
    async fn dispatch(
        &self,
        ev: BackgroundFetchEventRequest,
    ) -> Result<DispatchOutcome, DispatchError>;
}
