//! Engine panics end the realm, not the process's view of it.
//!
//! deno_core unwraps values the engine may fail to allocate when a heap
//! limit terminates a script (the message of the terminating exception), so
//! a realm that reached its limit can panic while unwinding. The realm is
//! dead either way: its thread must still report that, so that pending
//! events fail at once instead of waiting for their time limits, and the
//! panic of a realm that was already terminated is not printed as a crash.

use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Once};

use futures::FutureExt;

use super::RealmShared;
use crate::delegate::TerminationReason;

thread_local! {
    /// The realm this thread runs, read by the panic hook.
    static CURRENT_REALM: RefCell<Option<Arc<RealmShared>>> = const { RefCell::new(None) };
}

/// Runs `realm` (one realm's whole life on this thread). If the engine
/// panics, the realm counts as terminated (with the reason it already had,
/// or `EngineFailed`) and this returns normally.
pub(crate) async fn run_contained(shared: &Arc<RealmShared>, realm: impl Future<Output = ()>) {
    install_panic_hook();
    CURRENT_REALM.with(|current| *current.borrow_mut() = Some(shared.clone()));
    let outcome = AssertUnwindSafe(realm).catch_unwind().await;
    CURRENT_REALM.with(|current| current.borrow_mut().take());
    if let Err(panic) = outcome {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        if shared.is_terminated() {
            tracing::debug!(url = %shared.url, %message, "engine failed while a terminated realm unwound");
        } else {
            tracing::error!(url = %shared.url, %message, "the JavaScript engine failed; the realm ends");
            shared.mark_terminated(TerminationReason::EngineFailed);
        }
    }
}

/// Panics of a terminated realm's thread go to the log, not stderr; every
/// other panic reaches the hook that was installed before.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let terminated = CURRENT_REALM
                .try_with(|current| {
                    current
                        .try_borrow()
                        .ok()
                        .and_then(|shared| shared.as_ref().map(|s| s.is_terminated()))
                        .unwrap_or(false)
                })
                .unwrap_or(false);
            if terminated {
                tracing::debug!("engine panic in a terminated realm: {info}");
            } else {
                previous(info);
            }
        }));
    });
}
