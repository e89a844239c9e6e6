//! The bridge between the host and the Background Fetch engine: the engine
//! asks the host to wake a worker and dispatch its events (the
//! [`EventDispatcher`] side), and realms reach the engine through ops (the
//! [`BackgroundFetchContext`] side). Data flows one way each time:
//! JS -> ops -> engine -> store; engine -> dispatcher -> worker.

use std::future::Future;
use std::sync::{Arc, Weak};

use serde::Serialize;
use swrt_bgfetch::{
    BackgroundFetchEventRequest, BackgroundFetchService, DispatchError, DispatchOutcome,
    EventDispatcher, RegistrationSnapshot,
};
use swrt_store::{Icon, Store};
use tokio::runtime::Handle;
use url::Url;

use crate::host::HostInner;
use crate::realm::EventOutcome;

/// What realms need to reach the engine and the store beside it.
#[derive(Clone)]
pub(crate) struct BackgroundFetchContext {
    pub service: BackgroundFetchService,
    pub store: Arc<Store>,
    /// The host's multi-thread runtime: engine calls spawn long-lived tasks,
    /// which must not live on a realm's own (stoppable) runtime.
    pub runtime: Handle,
    /// Chromium rejects `fetch()` from service workers; swrt allows it
    /// unless the host asks for Chromium's behaviour.
    pub allow_worker_fetch: bool,
}

impl BackgroundFetchContext {
    /// Runs `fut` on the host runtime and waits for it.
    pub(crate) async fn on_host<F>(&self, fut: F) -> Result<F::Output, String>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime
            .spawn(fut)
            .await
            .map_err(|e| format!("engine task failed: {e}"))
    }

    /// Runs a blocking store call on the host's blocking pool.
    pub(crate) async fn with_store<T, F>(&self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> swrt_store::Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        self.runtime
            .spawn_blocking(move || f(&store))
            .await
            .map_err(|e| format!("store task failed: {e}"))?
            .map_err(|e| e.to_string())
    }
}

/// `BackgroundFetchRegistration`'s attributes as JS reads them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegistrationData {
    pub unique_id: String,
    pub scope: String,
    pub id: String,
    pub upload_total: u64,
    pub uploaded: u64,
    pub download_total: u64,
    pub downloaded: u64,
    pub result: &'static str,
    pub failure_reason: &'static str,
    pub records_available: bool,
    pub title: String,
    pub icons: Vec<Icon>,
}

impl From<&RegistrationSnapshot> for RegistrationData {
    fn from(s: &RegistrationSnapshot) -> Self {
        RegistrationData {
            unique_id: s.unique_id.clone(),
            scope: s.scope.clone(),
            id: s.id.clone(),
            upload_total: s.upload_total,
            uploaded: s.uploaded,
            download_total: s.download_total,
            downloaded: s.downloaded,
            result: s.result.as_str(),
            failure_reason: s.failure_reason.as_str(),
            records_available: s.records_available,
            title: s.title.clone(),
            icons: s.icons.clone(),
        }
    }
}

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
        let Some(registration) = host.registration_with_scope(&scope) else {
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
