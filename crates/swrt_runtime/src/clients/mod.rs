//! A service worker's `clients` (`Clients`, `Client`, `WindowClient`).

pub(crate) mod ops;

use deno_core::Extension;

use crate::embedded_js::js_file;

deno_core::extension!(
    swrt_clients,
    deps = [swrt_service_worker_scope],
    ops = [
        ops::op_swrt_clients_claim,
        ops::op_swrt_open_window,
        ops::op_swrt_clients_match_all,
        ops::op_swrt_client_post_message,
    ],
);

/// `clients`, in service-worker realms.
pub(crate) fn extension() -> Extension {
    let mut extension = swrt_clients::init();
    extension.lazy_loaded_js_files = std::borrow::Cow::Owned(vec![js_file!("40_clients.js")]);
    extension
}
