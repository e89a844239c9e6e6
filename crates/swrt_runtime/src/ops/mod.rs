//! Rust ops behind the JavaScript in `js/`, grouped by the interface they serve.

pub(crate) mod background_fetch;
pub(crate) mod cache;
pub(crate) mod console;
pub(crate) mod container;
pub(crate) mod crypto;
pub(crate) mod fetch;
pub(crate) mod realm;
pub(crate) mod scope;
pub(crate) mod workers;

use std::cell::RefCell;
use std::rc::Rc;

use deno_core::OpState;
use tokio::sync::oneshot;

use crate::realm::{HostRequest, RealmContext};

/// Sends the request `request` builds (from the realm's context and a
/// reply sender) to the host and waits for the reply; None when the host
/// is gone.
pub(crate) async fn ask_host<T>(
    state: &Rc<RefCell<OpState>>,
    request: impl FnOnce(&RealmContext, oneshot::Sender<T>) -> HostRequest,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    {
        let state = state.borrow();
        let ctx = state.borrow::<RealmContext>();
        ctx.host_requests.send(request(ctx, tx));
    }
    rx.await.ok()
}
