//! Dedicated and shared workers: their constructors and global scopes.

pub(crate) mod ops;

use deno_core::Extension;

use crate::embedded_js::js_file;

// The `Worker` and `SharedWorker` constructors: pages and dedicated and
// shared workers can create workers.
deno_core::extension!(
    swrt_worker_owner,
    deps = [swrt_service_worker],
    ops = [
        ops::op_swrt_worker_start,
        ops::op_swrt_worker_post,
        ops::op_swrt_worker_terminate,
        ops::op_swrt_shared_worker_connect,
    ],
);

// The global scope of a dedicated or shared worker.
deno_core::extension!(
    swrt_client_worker,
    deps = [swrt_worker_owner],
    ops = [
        ops::op_swrt_client_worker_info,
        ops::op_swrt_worker_post_owner,
        ops::op_swrt_worker_close,
        ops::op_swrt_worker_import_scripts,
        ops::op_swrt_worker_fetch_event,
    ],
);

/// `Worker` and `SharedWorker`, in pages and client workers.
pub(crate) fn owner_extension() -> Extension {
    let mut extension = swrt_worker_owner::init();
    extension.lazy_loaded_js_files = std::borrow::Cow::Owned(vec![js_file!("55_workers.js")]);
    extension
}

/// The global scope of a dedicated or shared worker.
pub(crate) fn global_scope_extension() -> Extension {
    let mut extension = swrt_client_worker::init();
    extension.lazy_loaded_js_files =
        std::borrow::Cow::Owned(vec![js_file!("56_worker_global_scope.js")]);
    extension
}
