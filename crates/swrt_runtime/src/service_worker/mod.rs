//! The service-worker side of a realm: the `ServiceWorker` and
//! `ServiceWorkerRegistration` objects every realm can hold, extendable
//! events, the ServiceWorkerGlobalScope and its `FetchEvent`, and the
//! `ServiceWorkerContainer` pages register with.

pub(crate) mod container;
pub(crate) mod router;
pub(crate) mod scope;

use deno_core::Extension;

use crate::embedded_js::js_file;

deno_core::extension!(
    swrt_service_worker,
    deps = [swrt_fetch],
    ops = [
        container::op_swrt_sw_update,
        container::op_swrt_navigation_preload,
        container::op_swrt_sw_unregister,
        container::op_swrt_sw_post_message,
    ],
);

deno_core::extension!(
    swrt_service_worker_scope,
    deps = [swrt_service_worker],
    ops = [
        scope::op_swrt_worker_info,
        scope::op_swrt_import_scripts,
        scope::op_swrt_skip_waiting,
        scope::op_swrt_add_routes,
        scope::op_swrt_fetch_event_respond,
    ],
);

deno_core::extension!(
    swrt_service_worker_container,
    deps = [swrt_service_worker],
    ops = [
        container::op_swrt_page_info,
        container::op_swrt_sw_register,
        container::op_swrt_sw_register_seen,
        container::op_swrt_fetch_event,
        container::op_swrt_sw_registrations,
    ],
);

/// Service-worker and registration objects and extendable events, in
/// every realm.
pub(crate) fn extension() -> Extension {
    let mut extension = swrt_service_worker::init();
    extension.lazy_loaded_js_files = std::borrow::Cow::Owned(vec![
        js_file!("20_extendable_event.js"),
        js_file!("30_service_worker_objects.js"),
    ]);
    extension
}

/// The ServiceWorkerGlobalScope's own ops and `FetchEvent`.
pub(crate) fn scope_extension() -> Extension {
    let mut extension = swrt_service_worker_scope::init();
    extension.lazy_loaded_js_files = std::borrow::Cow::Owned(vec![js_file!("41_fetch_event.js")]);
    extension
}

/// `navigator.serviceWorker` of a page, of a dedicated or shared worker,
/// and of a service worker (the worker realms never call the page-only
/// ops, `op_swrt_page_info` and `op_swrt_fetch_event`).
pub(crate) fn container_extension() -> Extension {
    let mut extension = swrt_service_worker_container::init();
    extension.lazy_loaded_js_files =
        std::borrow::Cow::Owned(vec![js_file!("50_service_worker_container.js")]);
    extension
}
