//! The deno_core extensions that make up each kind of swrt realm. Every
//! feature folder declares its own extension (its ops and its JavaScript);
//! this module puts them together per realm kind and adds the entry script
//! that builds the kind's global scope.
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
//! never loads. `fetch()` itself lives in `fetch/10_fetch.js` on reqwest ops, so
//! redirects, cancellation and TLS are ours.

use std::sync::Arc;

use deno_core::{Extension, ExtensionFileSource};

use crate::embedded_js::{embed, js_file};
use crate::realm::ClientWorkerKind;

// The entry scripts, one per realm kind: each runs at startup, after every
// extension of its realm, and builds the global scope.
deno_core::extension!(swrt_service_worker_realm, deps = [swrt_clients]);
deno_core::extension!(swrt_window_realm, deps = [swrt_document]);
deno_core::extension!(swrt_worker_realm, deps = [swrt_client_worker]);

/// An entry extension running `file`.
fn entry(mut extension: Extension, file: ExtensionFileSource) -> Extension {
    extension.js_files = std::borrow::Cow::Owned(vec![file]);
    extension
}

/// deno_webidl, deno_web, the deno_net stand-in, deno_fetch and deno_crypto
/// (their JS embedded in the binary), then what every swrt realm has: the
/// platform glue, `fetch()`, service-worker and registration objects, the
/// Cache API and Background Fetch.
///
/// The location is left unset here: each realm binds its own when it gets
/// its worker or page, so an engine can be created ahead of time.
fn common_extensions(broadcast: deno_web::InMemoryBroadcastChannel) -> Vec<Extension> {
    vec![
        embed(deno_webidl::deno_webidl::init()),
        embed(deno_web::deno_web::init(
            Arc::new(deno_web::BlobStore::default()),
            None,
            false,
            broadcast,
        )),
        crate::web::deno_net_extension(),
        embed(deno_fetch::deno_fetch::init(deno_fetch::Options::default())),
        // WebCrypto: `crypto.getRandomValues()`, `randomUUID()` and `subtle`.
        embed(deno_crypto::deno_crypto::init(None)),
        crate::web::extension(),
        crate::fetch::extension(),
        crate::service_worker::extension(),
        crate::cache::extension(),
        crate::background_fetch::extension(),
        crate::background_sync::extension(),
        embed(swrt_indexeddb::swrt_indexeddb::init()),
    ]
}

/// Every extension of a service-worker realm, in dependency order.
pub(crate) fn worker_extensions(broadcast: deno_web::InMemoryBroadcastChannel) -> Vec<Extension> {
    let mut extensions = common_extensions(broadcast);
    extensions.push(crate::service_worker::scope_extension());
    // WorkerNavigator.serviceWorker: a service worker has a container too.
    extensions.push(crate::service_worker::container_extension());
    extensions.push(crate::clients::extension());
    extensions.push(entry(
        swrt_service_worker_realm::init(),
        js_file!("realm/90_service_worker_main.js"),
    ));
    extensions
}

/// Every extension of a page (window client) realm, in dependency order.
pub(crate) fn page_extensions(broadcast: deno_web::InMemoryBroadcastChannel) -> Vec<Extension> {
    let mut extensions = common_extensions(broadcast);
    extensions.push(crate::workers::owner_extension());
    extensions.push(crate::service_worker::container_extension());
    extensions.push(crate::document::extension());
    extensions.push(entry(
        swrt_window_realm::init(),
        js_file!("realm/91_window_main.js"),
    ));
    extensions
}

/// Every extension of a dedicated or shared worker's realm, in dependency order.
pub(crate) fn client_worker_extensions(
    broadcast: deno_web::InMemoryBroadcastChannel,
    kind: ClientWorkerKind,
) -> Vec<Extension> {
    let mut extensions = common_extensions(broadcast);
    extensions.push(crate::workers::owner_extension());
    // WorkerNavigator.serviceWorker: a worker client has a container.
    extensions.push(crate::service_worker::container_extension());
    extensions.push(crate::workers::global_scope_extension());
    extensions.push(entry(
        swrt_worker_realm::init(),
        match kind {
            ClientWorkerKind::Dedicated => js_file!("realm/92_dedicated_worker_main.js"),
            ClientWorkerKind::Shared => js_file!("realm/93_shared_worker_main.js"),
        },
    ));
    extensions
}
