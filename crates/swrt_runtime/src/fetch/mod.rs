//! `fetch()` on reqwest: requests, redirects, cancellation, CORS and
//! Subresource Integrity.

mod network;
pub(crate) mod ops;
mod request;

use deno_core::Extension;

use crate::embedded_js::js_file;

deno_core::extension!(
    swrt_fetch,
    deps = [swrt_web],
    ops = [
        ops::op_swrt_fetch,
        ops::op_swrt_fetch_cancel_handle,
        ops::op_swrt_integrity_matches,
    ],
);

/// `fetch()`, in every realm.
pub(crate) fn extension() -> Extension {
    let mut extension = swrt_fetch::init();
    extension.lazy_loaded_js_files = std::borrow::Cow::Owned(vec![js_file!("10_fetch.js")]);
    extension
}
