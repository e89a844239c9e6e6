//! The host's side of the Background Fetch engine: the engine asks it to
//! wake a registration's worker and dispatch an event
//! (engine -> dispatcher -> worker).

use std::sync::Weak;

use serde::Serialize;
use swrt_bgfetch::{BackgroundFetchEventRequest, DispatchError, DispatchOutcome, EventDispatcher};
use url::Url;

use super::HostInner;
use crate::background_fetch::RegistrationData;
use crate::realm::EventOutcome;

/// `BackgroundFetchEventInit`: what the event's JS constructor receives.
#[derive(Debug, Serialize)]
struct BackgroundFetchEventInit {
    registration: RegistrationData,
}

/// Wakes the registration's active worker (starting it, or restoring the
/// registration from the store after a restart) and dispatches the event.
pub(crate) struct RuntimeDispatcher {
    pub host: Weak<HostInner>,
}

#[async_trait::async_trait]
impl EventDispatcher for RuntimeDispatcher {
    async fn dispatch(
        &self,
        ev: BackgroundFetchEventRequest,
    ) -> Result<DispatchOutcome, DispatchError> {
        let gone = || DispatchError::WorkerUnavailable("the host is shutting down".into());
        // Events interrupted by a crash are re-offered while the host is
        // still restoring its registrations: wait for them, so a registration
        // that is coming back is not taken for a missing one. The host is
        // not held meanwhile, so a host that fails to start can drop.
        let mut restored = self
            .host
            .upgrade()
            .ok_or_else(gone)?
            .registrations_restored
            .subscribe();
        restored.wait_for(|done| *done).await.map_err(|_| gone())?;
        let host = self.host.upgrade().ok_or_else(gone)?;
        let scope = Url::parse(&ev.registration.scope).map_err(|e| {
            DispatchError::Fatal(format!("bad scope {}: {e}", ev.registration.scope))
        })?;
        let Some(registration) = host.registration_or_stored(&scope).await else {
            return Err(DispatchError::Fatal(format!(
                "no registration for scope {scope}"
            )));
        };
        let Some(version) = registration.active() else {
            return Err(DispatchError::WorkerUnavailable(format!(
                "no active worker for {scope}"
            )));
        };
        let event_type = ev.kind.event_type();
        tracing::info!(%scope, id = %ev.registration.id, event_type, attempt = ev.attempt, "dispatching");
        let init = BackgroundFetchEventInit {
            registration: RegistrationData::from(&ev.registration),
        };
        let data = serde_json::to_value(&init)
            .map_err(|e| DispatchError::Fatal(format!("event data: {e}")))?;
        match version
            .dispatch(&host, &registration, event_type, data)
            .await
        {
            Ok(EventOutcome::Completed) => Ok(DispatchOutcome::Handled),
            Ok(EventOutcome::Rejected(e)) | Ok(EventOutcome::ListenerThrew(e)) => {
                Ok(DispatchOutcome::HandlerFailed(e.message))
            }
            // The handler itself made the host stop the worker (it ran past
            // a budget or the heap limit): the event ended, as in Chromium;
            // running it again would only repeat that.
            Ok(EventOutcome::Terminated(reason)) => Ok(DispatchOutcome::HandlerFailed(format!(
                "the worker was terminated during the event: {reason}"
            ))),
            Ok(EventOutcome::WorkerGone) => Err(DispatchError::WorkerUnavailable(
                "the worker stopped during the event".into(),
            )),
            Err(e) => Err(DispatchError::WorkerUnavailable(e.to_string())),
        }
    }
}
