//! A realm's heap limit, enforced on its live heap: a realm is terminated
//! when what it still references nears the limit, not when garbage does.
//!
//! V8 collects before it calls the near-limit callback; QuickJS does not. It
//! collects cycles only once its allocated size passes 1.5 times what was
//! live after the previous collection, so a realm whose live heap is above
//! two thirds of the limit reaches the limit full of collectable garbage.
//! The callback cannot collect itself (it runs inside an allocation), so it
//! grants a small grace (a sixteenth of the limit) and asks for a full
//! collection at the next safe point: an interrupt while script runs, or the
//! end of the event loop's turn. That collection decides: still near the
//! limit terminates the realm, otherwise the limit is put back where it was.
//! A realm that uses up the grace before a safe point is terminated, as
//! before.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use deno_core::v8;
use deno_core::JsRuntime;

use super::{RealmShared, TerminationReason};

/// The part of the limit's state the callbacks share; lives in
/// [`RealmShared`], which outlives the realm's engine.
#[derive(Debug, Default)]
pub(crate) struct HeapLimitState {
    /// The realm's limit, in bytes (0: none installed).
    limit: AtomicUsize,
    /// The callback granted grace and a collection has not decided yet.
    collection_requested: AtomicBool,
}

/// Watches `js`'s heap against `limit` bytes. `shared` must outlive `js`
/// (the realm's thread holds it longer than the engine).
pub(crate) fn install(js: &mut JsRuntime, shared: &Arc<RealmShared>, limit: usize) {
    if limit == 0 {
        return;
    }
    shared.heap.limit.store(limit, Ordering::Relaxed);
    let data = Arc::as_ptr(shared) as *mut c_void;
    js.v8_isolate()
        .add_near_heap_limit_callback(near_heap_limit, data);
}

/// The headroom the engine keeps below the limit: the callback is called
/// once the heap is within it, and a realm still within it after a full
/// collection is out of memory.
fn headroom(limit: usize) -> usize {
    (limit / 8).max(2 * 1024 * 1024)
}

/// What the callback grants until the collection it asked for has run.
fn grace(limit: usize) -> usize {
    (limit / 16).max(1024 * 1024)
}

unsafe extern "C" fn near_heap_limit(
    data: *mut c_void,
    current_heap_limit: usize,
    _initial_heap_limit: usize,
) -> usize {
    // SAFETY: `data` is the realm's `RealmShared`, alive while its engine is.
    let shared = unsafe { &*(data as *const RealmShared) };
    let limit = shared.heap.limit.load(Ordering::Relaxed);
    if shared
        .heap
        .collection_requested
        .swap(true, Ordering::AcqRel)
    {
        // The grace ran out before a collection could run: the realm
        // allocates faster than it reaches a safe point.
        terminate(shared);
        return current_heap_limit;
    }
    match shared.isolate_handle.get() {
        Some(handle) if handle.request_interrupt(collect_at_interrupt, data) => {
            limit + grace(limit)
        }
        _ => {
            terminate(shared);
            current_heap_limit
        }
    }
}

unsafe extern "C" fn collect_at_interrupt(mut isolate: v8::UnsafeRawIsolatePtr, data: *mut c_void) {
    // SAFETY: as for `near_heap_limit`; the interrupt runs on the realm's
    // thread, between two steps of its script, where the engine may collect.
    let shared = unsafe { &*(data as *const RealmShared) };
    let isolate = unsafe { v8::Isolate::ref_from_raw_isolate_ptr_mut(&mut isolate) };
    collect_and_decide(isolate, shared);
}

/// At the end of an event-loop turn: the collection the callback asked
/// for, if the interrupt did not run it yet.
pub(crate) fn collect_if_requested(js: &mut JsRuntime, shared: &RealmShared) {
    collect_and_decide(js.v8_isolate(), shared);
}

/// Runs the collection the callback asked for, if it has not run yet.
fn collect_and_decide(isolate: &mut v8::Isolate, shared: &RealmShared) {
    if !shared.heap.collection_requested.load(Ordering::Acquire) {
        return;
    }
    let limit = shared.heap.limit.load(Ordering::Relaxed);
    isolate.low_memory_notification();
    let stats = isolate.get_heap_statistics();
    // V8 counts live objects in `used_heap_size`; QuickJS's real size is
    // what it allocated, `malloced_memory`.
    let live = stats.used_heap_size().max(stats.malloced_memory());
    if live.saturating_add(headroom(limit)) >= limit {
        tracing::debug!(
            live,
            limit,
            "heap still near its limit after a full collection"
        );
        terminate(shared);
        return;
    }
    tracing::debug!(
        live,
        limit,
        "a full collection brought the heap back under its limit"
    );
    // Back to the realm's own limit: removing the callback restores it,
    // adding it again arms it.
    let data = shared as *const RealmShared as *mut c_void;
    isolate.remove_near_heap_limit_callback(near_heap_limit, limit);
    isolate.add_near_heap_limit_callback(near_heap_limit, data);
    shared
        .heap
        .collection_requested
        .store(false, Ordering::Release);
}

fn terminate(shared: &RealmShared) {
    shared.mark_terminated(TerminationReason::HeapLimitReached);
    if let Some(handle) = shared.isolate_handle.get() {
        handle.terminate_execution();
    }
}
