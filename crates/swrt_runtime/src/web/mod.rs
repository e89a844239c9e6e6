//! Platform glue shared by every realm: the deno extensions swrt reuses,
//! the console, crypto, the realm's command loop and Content Security Policy.

pub(crate) mod console;
pub(crate) mod crypto;
pub(crate) mod csp;
pub(crate) mod realm;

use deno_core::{ascii_str_include, Extension, ExtensionFileSource};

use crate::embedded_js::js_file;

// deno_fetch's `22_http_client.js` loads `ext:deno_net/02_tls.js`; swrt
// has no deno_net, so a stand-in module answers it.
deno_core::extension!(
    deno_net,
    lazy_loaded_js =
        ["02_tls.js" = { source = "(function(){ throw new Error('replaced at init'); })();" }],
);

/// The deno_net stand-in with its one module.
pub(crate) fn deno_net_extension() -> Extension {
    let mut net = deno_net::init();
    net.lazy_loaded_js_files = std::borrow::Cow::Owned(vec![ExtensionFileSource::new(
        "ext:deno_net/02_tls.js",
        ascii_str_include!("00_deno_net_tls.js"),
    )]);
    net
}

deno_core::extension!(
    swrt_web,
    deps = [deno_webidl, deno_web, deno_fetch, deno_crypto],
    ops = [
        console::op_swrt_console,
        crypto::op_swrt_random_uuid,
        csp::op_swrt_csp_allows,
        realm::op_swrt_next_command,
        realm::op_swrt_event_settled,
        realm::op_swrt_report_uncaught,
        realm::op_swrt_take_message,
        realm::op_swrt_take_body,
    ],
);

/// The platform glue every realm loads first.
pub(crate) fn extension() -> Extension {
    let mut web = swrt_web::init();
    web.lazy_loaded_js_files = std::borrow::Cow::Owned(vec![
        js_file!("01_web_platform.js"),
        js_file!("02_console.js"),
        js_file!("03_crypto.js"),
        js_file!("04_realm.js"),
        js_file!("05_content_security_policy.js"),
    ]);
    web
}
