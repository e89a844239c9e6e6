//! The deno_core extensions that make up a swrt realm.
//!
//! Reused from Deno: deno_webidl, deno_web (events, streams, URL, encoding,
//! Blob, timers, console formatting, structuredClone) and deno_fetch's
//! spec-tested `Headers`, `FormData`, `Request`, `Response` classes.
//!
//! Decision: deno_fetch's JS classes are reused, its network
//! path (`26_fetch.js`, hyper-based `op_fetch`) is not. Measured on this
//! machine: its classes load on QuickJS with a single stand-in module
//! (`ext:deno_net/02_tls.js`, loaded by `22_http_client.js`); the other module
//! it needs, `ext:deno_telemetry`, is only loaded by `26_fetch.js`, which swrt
//! never loads. `fetch()` itself lives in `js/10_fetch.js` on reqwest ops, so
//! redirects, cancellation and TLS are ours.

use std::sync::Arc;

use deno_core::{ascii_str_include, Extension, ExtensionFileSource};

use crate::embedded_js::embed;
use crate::ops;

deno_core::extension!(
    deno_net,
    lazy_loaded_js =
        ["02_tls.js" = { source = "(function(){ throw new Error('replaced at init'); })();" }],
);

deno_core::extension!(
    swrt_web,
    deps = [deno_webidl, deno_web, deno_fetch],
    ops = [
        ops::console::op_swrt_console,
        ops::crypto::op_swrt_random_values,
        ops::crypto::op_swrt_random_uuid,
        ops::fetch::op_swrt_fetch,
        ops::fetch::op_swrt_fetch_cancel_handle,
        ops::fetch::op_swrt_csp_allows,
        ops::fetch::op_swrt_integrity_matches,
        ops::realm::op_swrt_next_command,
        ops::realm::op_swrt_event_settled,
        ops::realm::op_swrt_report_uncaught,
        ops::realm::op_swrt_take_message,
        ops::realm::op_swrt_take_body,
        ops::container::op_swrt_sw_update,
        ops::container::op_swrt_sw_unregister,
        ops::container::op_swrt_sw_post_message,
        ops::background_fetch::op_swrt_bgfetch_fetch,
        ops::background_fetch::op_swrt_bgfetch_get,
        ops::background_fetch::op_swrt_bgfetch_ids,
        ops::background_fetch::op_swrt_bgfetch_abort,
        ops::background_fetch::op_swrt_bgfetch_match_all,
        ops::background_fetch::op_swrt_bgfetch_response,
        ops::background_fetch::op_swrt_bgfetch_update_ui,
        ops::background_fetch::op_swrt_bgfetch_set_permission,
        ops::cache::op_swrt_cache_open,
        ops::cache::op_swrt_cache_has,
        ops::cache::op_swrt_cache_delete,
        ops::cache::op_swrt_cache_keys,
        ops::cache::op_swrt_cache_match_all,
        ops::cache::op_swrt_cache_body,
        ops::cache::op_swrt_cache_body_begin,
        ops::cache::op_swrt_cache_body_write,
        ops::cache::op_swrt_cache_put,
        ops::cache::op_swrt_cache_delete_entries,
    ],
);

deno_core::extension!(
    swrt_worker,
    deps = [swrt_web],
    ops = [
        ops::scope::op_swrt_worker_info,
        ops::scope::op_swrt_import_scripts,
        ops::scope::op_swrt_skip_waiting,
        ops::scope::op_swrt_clients_claim,
        ops::scope::op_swrt_open_window,
        ops::scope::op_swrt_clients_match_all,
        ops::scope::op_swrt_client_post_message,
        ops::scope::op_swrt_fetch_event_respond,
    ],
);

deno_core::extension!(
    swrt_page,
    deps = [swrt_web],
    ops = [
        ops::container::op_swrt_page_info,
        ops::container::op_swrt_sw_register,
        ops::container::op_swrt_sw_register_seen,
        ops::container::op_swrt_fetch_event,
        ops::container::op_swrt_sw_registrations,
        crate::document::ops::op_swrt_html_parse,
        crate::document::ops::op_swrt_html_parse_fragment,
        crate::document::ops::op_swrt_inline_module,
        crate::document::ops::op_swrt_resource_failed,
        crate::document::frames::op_swrt_frame_create,
        crate::document::frames::op_swrt_frame_destroy,
        crate::document::frames::op_swrt_frame_eval,
        crate::document::frames::op_swrt_frame_open,
        crate::document::frames::op_swrt_frame_close,
        crate::document::frames::op_swrt_frame_open_remote,
        crate::document::frames::op_swrt_frame_loaded,
        crate::document::frames::op_swrt_window_post_message,
    ],
);

// The `Worker` and `SharedWorker` constructors: pages and dedicated and
// shared workers can create workers.
deno_core::extension!(
    swrt_worker_owner,
    deps = [swrt_web],
    ops = [
        ops::workers::op_swrt_worker_start,
        ops::workers::op_swrt_worker_post,
        ops::workers::op_swrt_worker_terminate,
        ops::workers::op_swrt_shared_worker_connect,
    ],
);

// The global scope of a dedicated or shared worker.
deno_core::extension!(
    swrt_client_worker,
    deps = [swrt_worker_owner],
    ops = [
        ops::workers::op_swrt_client_worker_info,
        ops::workers::op_swrt_worker_post_owner,
        ops::workers::op_swrt_worker_close,
        ops::workers::op_swrt_worker_import_scripts,
        ops::workers::op_swrt_worker_fetch_event,
    ],
);

/// The JavaScript of `js/`, embedded in the binary.
macro_rules! js_file {
    ($name:literal) => {
        ExtensionFileSource::new(
            concat!("ext:swrt/", $name),
            ascii_str_include!(concat!("../../../js/", $name)),
        )
    };
}

/// Modules shared by every realm, loaded on demand with `core.loadExtScript`.
fn shared_lazy_js() -> Vec<ExtensionFileSource> {
    vec![
        js_file!("01_web_platform.js"),
        js_file!("02_console.js"),
        js_file!("03_crypto.js"),
        js_file!("04_realm.js"),
        js_file!("05_content_security_policy.js"),
        js_file!("10_fetch.js"),
        js_file!("20_extendable_event.js"),
        js_file!("30_service_worker_objects.js"),
        js_file!("40_clients.js"),
        js_file!("41_fetch_event.js"),
        js_file!("50_service_worker_container.js"),
        js_file!("55_workers.js"),
        js_file!("56_worker_global_scope.js"),
        js_file!("60_dom.js"),
        js_file!("61_html_document.js"),
        js_file!("62_frames.js"),
        js_file!("70_background_fetch.js"),
        js_file!("71_cache.js"),
    ]
}

/// deno_webidl, deno_web, the deno_net stand-in and deno_fetch (their JS
/// embedded in the binary), then swrt_web.
fn web_extensions(
    location: url::Url,
    broadcast: deno_web::InMemoryBroadcastChannel,
) -> Vec<Extension> {
    let mut net = deno_net::init();
    net.lazy_loaded_js_files = std::borrow::Cow::Owned(vec![ExtensionFileSource::new(
        "ext:deno_net/02_tls.js",
        ascii_str_include!("../../../js/00_deno_net_tls.js"),
    )]);
    let mut web = swrt_web::init();
    web.lazy_loaded_js_files = std::borrow::Cow::Owned(shared_lazy_js());
    vec![
        embed(deno_webidl::deno_webidl::init()),
        embed(deno_web::deno_web::init(
            Arc::new(deno_web::BlobStore::default()),
            Some(location),
            false,
            broadcast,
        )),
        net,
        embed(deno_fetch::deno_fetch::init(deno_fetch::Options::default())),
        web,
        swrt_indexeddb::swrt_indexeddb::init(),
    ]
}

/// Every extension of a service-worker realm, in dependency order.
pub(crate) fn worker_extensions(
    location: url::Url,
    broadcast: deno_web::InMemoryBroadcastChannel,
) -> Vec<Extension> {
    let mut extensions = web_extensions(location, broadcast);
    let mut worker = swrt_worker::init();
    // The entry script runs at startup and builds the global scope.
    worker.js_files = std::borrow::Cow::Owned(vec![js_file!("90_service_worker_main.js")]);
    extensions.push(worker);
    extensions
}

/// Every extension of a page (window client) realm, in dependency order.
pub(crate) fn page_extensions(
    location: url::Url,
    broadcast: deno_web::InMemoryBroadcastChannel,
) -> Vec<Extension> {
    let mut extensions = web_extensions(location, broadcast);
    extensions.push(swrt_worker_owner::init());
    let mut page = swrt_page::init();
    page.js_files = std::borrow::Cow::Owned(vec![js_file!("91_window_main.js")]);
    extensions.push(page);
    extensions
}

/// Every extension of a dedicated or shared worker's realm, in dependency order.
pub(crate) fn client_worker_extensions(
    location: url::Url,
    broadcast: deno_web::InMemoryBroadcastChannel,
    kind: crate::realm::ClientWorkerKind,
) -> Vec<Extension> {
    let mut extensions = web_extensions(location, broadcast);
    extensions.push(swrt_worker_owner::init());
    let mut worker = swrt_client_worker::init();
    worker.js_files = std::borrow::Cow::Owned(vec![match kind {
        crate::realm::ClientWorkerKind::Dedicated => js_file!("92_dedicated_worker_main.js"),
        crate::realm::ClientWorkerKind::Shared => js_file!("93_shared_worker_main.js"),
    }]);
    extensions.push(worker);
    extensions
}
