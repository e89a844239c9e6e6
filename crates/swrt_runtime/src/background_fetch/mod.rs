//! Background Fetch in a realm: its ops, its JavaScript and the
//! [`BackgroundFetchContext`] through which they reach the engine
//! (JS -> ops -> engine -> store). The other direction, the engine waking a
//! worker to dispatch its events, is the host's (`host/background_fetch.rs`).

pub(crate) mod ops;
pub(crate) mod progress;
pub mod ui;

use std::future::Future;
use std::sync::Arc;

use deno_core::Extension;
use serde::Serialize;
use swrt_bgfetch::{BackgroundFetchService, RegistrationSnapshot};
use swrt_store::{Icon, Store};
use tokio::runtime::Handle;

use crate::embedded_js::js_file;

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

/// Why a call through a [`BackgroundFetchContext`] failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ContextError {
    /// The engine task panicked or was cancelled.
    #[error("engine task failed: {0}")]
    EngineTask(tokio::task::JoinError),
    /// The blocking store task panicked or was cancelled.
    #[error("store task failed: {0}")]
    StoreTask(tokio::task::JoinError),
    /// The store refused or failed the call.
    #[error(transparent)]
    Store(#[from] swrt_store::StoreError),
}

impl BackgroundFetchContext {
    /// Runs `fut` on the host runtime and waits for it.
    pub(crate) async fn on_host<F>(&self, fut: F) -> Result<F::Output, ContextError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime
            .spawn(fut)
            .await
            .map_err(ContextError::EngineTask)
    }

    /// Runs a blocking store call on the host's blocking pool.
    pub(crate) async fn with_store<T, F>(&self, f: F) -> Result<T, ContextError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> swrt_store::Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        self.runtime
            .spawn_blocking(move || f(&store))
            .await
            .map_err(ContextError::StoreTask)?
            .map_err(ContextError::Store)
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

deno_core::extension!(
    swrt_background_fetch,
    deps = [swrt_service_worker],
    ops = [
        ops::op_swrt_bgfetch_fetch,
        ops::op_swrt_bgfetch_get,
        ops::op_swrt_bgfetch_ids,
        ops::op_swrt_bgfetch_abort,
        ops::op_swrt_bgfetch_match_all,
        ops::op_swrt_bgfetch_request_body,
        ops::op_swrt_bgfetch_response,
        ops::op_swrt_bgfetch_update_ui,
        progress::op_swrt_bgfetch_watch,
        progress::op_swrt_bgfetch_watch_next,
        ops::op_swrt_bgfetch_set_permission,
    ],
);

/// Background Fetch, in every realm.
pub(crate) fn extension() -> Extension {
    let mut extension = swrt_background_fetch::init();
    extension.lazy_loaded_js_files =
        std::borrow::Cow::Owned(vec![js_file!("70_background_fetch.js")]);
    extension
}
