//! Startup snapshots: a service-worker engine booted from a serialised heap
//! instead of parsing and running the platform's JavaScript again.
//!
//! A snapshot holds the state right after the extensions' JavaScript ran
//! (deno_webidl, deno_web, deno_fetch, deno_crypto, swrt's own), before any
//! realm's bootstrap: no location, no worker, no script. Each realm booted
//! from it gets its own copy of that heap, then binds its worker and runs
//! the bootstrap as a realm created from source would, so nothing leaks
//! from one worker to another.
//!
//! The blob is made by the same build as the binary that boots from it
//! (the `swrt` binary's build script calls [`create_service_worker_snapshot`]
//! and passes the result to [`use_service_worker_snapshot`]): the engine
//! identifies ops by their position in the extension set, so a blob from
//! another build could call the wrong op.

use std::sync::OnceLock;

use deno_core::{JsRuntimeForSnapshot, RuntimeOptions};

use crate::error::HostError;

static SERVICE_WORKER_SNAPSHOT: OnceLock<&'static [u8]> = OnceLock::new();

/// Serialises a service-worker engine with every extension's JavaScript
/// evaluated. Creates (and drops) an engine on the calling thread.
pub fn create_service_worker_snapshot() -> Result<Vec<u8>, HostError> {
    // Creating an engine schedules its timers on a tokio runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| HostError::Engine(format!("tokio runtime: {e}")))?;
    let _entered = runtime.enter();
    let js = JsRuntimeForSnapshot::try_new(RuntimeOptions {
        extensions: crate::extension::worker_extensions(Default::default()),
        ..Default::default()
    })
    .map_err(|e| HostError::Engine(e.to_string()))?;
    Ok(js.snapshot().into_vec())
}

/// Boots every service-worker realm this process creates from now on from
/// `blob`, which [`create_service_worker_snapshot`] made in the same build.
/// Realms created before the call are unaffected. Returns false (and keeps
/// the first) if a snapshot was already set.
pub fn use_service_worker_snapshot(blob: &'static [u8]) -> bool {
    SERVICE_WORKER_SNAPSHOT.set(blob).is_ok()
}

/// The snapshot service-worker realms boot from, if one was set.
pub(crate) fn service_worker_snapshot() -> Option<&'static [u8]> {
    SERVICE_WORKER_SNAPSHOT.get().copied()
}
