//! The Cache API (`caches`, `Cache`).

pub(crate) mod ops;

use deno_core::Extension;

use crate::embedded_js::js_file;

deno_core::extension!(
    swrt_cache,
    deps = [swrt_fetch],
    ops = [
        ops::op_swrt_cache_open,
        ops::op_swrt_cache_has,
        ops::op_swrt_cache_delete,
        ops::op_swrt_cache_keys,
        ops::op_swrt_cache_match_all,
        ops::op_swrt_cache_body,
        ops::op_swrt_cache_body_begin,
        ops::op_swrt_cache_body_write,
        ops::op_swrt_cache_put,
        ops::op_swrt_cache_delete_entries,
    ],
);

/// The Cache API, in every realm.
pub(crate) fn extension() -> Extension {
    let mut extension = swrt_cache::init();
    extension.lazy_loaded_js_files = std::borrow::Cow::Owned(vec![js_file!("71_cache.js")]);
    extension
}
