//! Startup snapshots: a service-worker engine booted from a serialised heap
//! instead of parsing and running the platform's JavaScript again.
//!
//! A snapshot holds the state right after the extensions' JavaScript ran
//! (deno_webidl, deno_web, deno_fetch, deno_crypto, swrt's own), before any
//! realm's bootstrap: no location, no worker, no script. Each realm booted
//! from it gets its own copy of that heap, then binds its worker and runs
//! the bootstrap as a realm created from source would, so nothing leaks
//! from one worker to another. What the engine's snapshot restore gets
//! wrong of the global scope's shape (see `record_shapes.js`) is put back
//! after the bootstrap, so scripts see the same globals either way.
//!
//! The blob is made by the same build as the binary that boots from it
//! (the `swrt` binary's build script calls [`create_service_worker_snapshot`]
//! and passes the result to [`use_service_worker_snapshot`]): the engine
//! identifies ops by their position in the extension set, so a blob from
//! another build could call the wrong op.

use std::sync::OnceLock;

use deno_core::{JsRuntimeForSnapshot, RuntimeOptions};

use crate::error::HostError;

const RECORD_SHAPES: &str = include_str!("record_shapes.js");
const RESTORE_SHAPES: &str = include_str!("restore_shapes.js");

static SERVICE_WORKER_SNAPSHOT: OnceLock<&'static [u8]> = OnceLock::new();

/// Serialises a service-worker engine with every extension's JavaScript
/// evaluated. Creates (and drops) an engine on a thread of its own, so it
/// can be called from anywhere, async code included.
pub fn create_service_worker_snapshot() -> Result<Vec<u8>, HostError> {
    std::thread::Builder::new()
        .name("startup snapshot".into())
        .spawn(snapshot_service_worker_engine)
        .map_err(|e| HostError::Engine(format!("cannot spawn the snapshot thread: {e}")))?
        .join()
        .map_err(|_| HostError::Engine("creating the startup snapshot panicked".into()))?
}

fn snapshot_service_worker_engine() -> Result<Vec<u8>, HostError> {
    // Creating an engine schedules its timers on a tokio runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| HostError::Engine(format!("tokio runtime: {e}")))?;
    let _entered = runtime.enter();
    let mut js = JsRuntimeForSnapshot::try_new(RuntimeOptions {
        extensions: crate::extension::worker_extensions(Default::default()),
        ..Default::default()
    })
    .map_err(|e| HostError::Engine(e.to_string()))?;
    js.execute_script("ext:swrt/snapshot/record_shapes.js", RECORD_SHAPES)
        .map_err(|e| HostError::Engine(format!("recording the global shapes: {e}")))?;
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

/// Which part of the snapshot boot's repairs to run (see
/// `restore_shapes.js`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum ShapeRepair {
    /// The global classes, as soon as the engine exists.
    GlobalClasses,
    /// The classes Rust defines, right after the realm's bootstrap put
    /// them on the global, before the worker's script.
    RustClasses,
}

/// Puts back what booting `js` from a snapshot lost of the global scope's
/// shape (see `restore_shapes.js`), the `part` given.
pub(crate) fn restore_shapes(
    js: &mut deno_core::JsRuntime,
    part: ShapeRepair,
) -> Result<(), HostError> {
    let of_rust_classes = matches!(part, ShapeRepair::RustClasses);
    let script = format!("({RESTORE_SHAPES})({of_rust_classes});");
    let redefined = js
        .execute_script("ext:swrt/snapshot/restore_shapes.js", script)
        .map_err(|e| HostError::Engine(format!("restoring the global shapes: {e}")))?;
    deno_core::scope!(scope, js);
    let redefined = deno_core::v8::Local::new(scope, redefined);
    tracing::debug!(
        ?part,
        redefined = %redefined.to_rust_string_lossy(scope),
        "properties a snapshot boot restored differently, redefined"
    );
    Ok(())
}
