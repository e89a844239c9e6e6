//! Background Sync in a realm: `registration.sync` (SyncManager) and the
//! `sync` event's class, in JavaScript, and the ops through which they
//! reach the store and the host's scheduler (`host/background_sync.rs`).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use deno_core::{op2, Extension, OpState};
use swrt_store::Store;
use tokio::runtime::Handle;
use url::Url;

use crate::embedded_js::js_file;
use crate::host::SyncScheduler;
use crate::realm::RealmContext;

/// What realms need for Background Sync.
#[derive(Clone)]
pub(crate) struct BackgroundSyncContext {
    pub store: Arc<Store>,
    /// The host's multi-thread runtime, for blocking store calls.
    pub runtime: Handle,
    pub scheduler: Arc<SyncScheduler>,
}

/// Errors of SyncManager, with the class the spec names.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub(crate) enum SyncError {
    #[class("DOMExceptionInvalidStateError")]
    #[error("{0}")]
    InvalidState(String),
    #[class("DOMExceptionSecurityError")]
    #[error("{0}")]
    Security(String),
    #[class(generic)]
    #[error("{0}")]
    Internal(String),
}

/// The context, after checking that `scope` belongs to the realm's origin.
fn context(state: &OpState, scope: &str) -> Result<BackgroundSyncContext, SyncError> {
    let ctx = state
        .try_borrow::<BackgroundSyncContext>()
        .cloned()
        .ok_or_else(|| {
            SyncError::InvalidState(
                "Background Sync needs durable storage: start the host with a data dir".into(),
            )
        })?;
    let realm_origin = state.borrow::<RealmContext>().url.origin();
    let same_origin = Url::parse(scope).is_ok_and(|scope| scope.origin() == realm_origin);
    if !same_origin {
        return Err(SyncError::Security(format!(
            "the registration {scope} is not of this realm's origin"
        )));
    }
    Ok(ctx)
}

async fn with_store<T, F>(ctx: &BackgroundSyncContext, f: F) -> Result<T, SyncError>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> swrt_store::Result<T> + Send + 'static,
{
    let store = ctx.store.clone();
    ctx.runtime
        .spawn_blocking(move || f(&store))
        .await
        .map_err(|e| SyncError::Internal(format!("store task failed: {e}")))?
        .map_err(|e| SyncError::Internal(e.to_string()))
}

/// SyncManager.register(tag) for the registration at `scope`.
#[op2]
pub(crate) async fn op_swrt_sync_register(
    state: Rc<RefCell<OpState>>,
    #[string] scope: String,
    #[string] tag: String,
) -> Result<(), SyncError> {
    let ctx = context(&state.borrow(), &scope)?;
    with_store(&ctx, move |s| s.sync_register(&scope, &tag)).await?;
    ctx.scheduler.poke();
    Ok(())
}

/// SyncManager.getTags() for the registration at `scope`.
#[op2]
#[serde]
pub(crate) async fn op_swrt_sync_tags(
    state: Rc<RefCell<OpState>>,
    #[string] scope: String,
) -> Result<Vec<String>, SyncError> {
    let ctx = context(&state.borrow(), &scope)?;
    with_store(&ctx, move |s| s.sync_tags(&scope)).await
}

/// Whether the host is online (`navigator.onLine`): a host without the
/// Background Sync scheduler (no data dir) is always online.
pub(crate) fn host_online(state: &OpState) -> bool {
    state
        .try_borrow::<BackgroundSyncContext>()
        .is_none_or(|ctx| ctx.scheduler.is_online())
}

#[op2(fast)]
pub(crate) fn op_swrt_host_online(state: &mut OpState) -> bool {
    host_online(state)
}

deno_core::extension!(
    swrt_background_sync,
    deps = [swrt_service_worker],
    ops = [
        op_swrt_sync_register,
        op_swrt_sync_tags,
        op_swrt_host_online
    ],
);

/// Background Sync, in every realm.
pub(crate) fn extension() -> Extension {
    let mut extension = swrt_background_sync::init();
    extension.lazy_loaded_js_files =
        std::borrow::Cow::Owned(vec![js_file!("72_background_sync.js")]);
    extension
}
