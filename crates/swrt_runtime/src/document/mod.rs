//! HTML documents for page realms.
//!
//! Parsing is html5ever's implementation of the WHATWG HTML parser (tokenizer
//! and tree construction, error recovery included); the DOM that scripts use
//! is JavaScript (`60_dom.js`), built from the parsed tree by
//! `61_html_document.js`, which also runs the document's scripts as
//! the parser would reach them.
//!
//! Why the DOM is JavaScript rather than Rust objects behind ops: a page's
//! scripts touch the DOM constantly (testharness.js renders, helpers walk
//! the tree), and in a JS DOM each of those calls stays inside the engine
//! instead of crossing the op boundary and keeping Rust-side node handles
//! alive for the garbage collector. The parser, which is where a full
//! implementation of the spec matters most, stays in Rust.

pub(crate) mod frames;
pub(crate) mod ops;
pub(crate) mod parse;

use deno_core::Extension;

use crate::embedded_js::js_file;

/// Module scripts written inline in a document (`<script type=module>`),
/// by the URL the document gave them; the realm's module loader answers
/// their imports from here.
pub(crate) type InlineModules =
    std::rc::Rc<std::cell::RefCell<std::collections::HashMap<String, String>>>;

deno_core::extension!(
    swrt_document,
    deps = [swrt_service_worker_container],
    ops = [
        ops::op_swrt_html_parse,
        ops::op_swrt_html_parse_fragment,
        ops::op_swrt_inline_module,
        ops::op_swrt_resource_failed,
        frames::op_swrt_frame_create,
        frames::op_swrt_frame_destroy,
        frames::op_swrt_frame_eval,
        frames::op_swrt_frame_open,
        frames::op_swrt_frame_close,
        frames::op_swrt_frame_open_remote,
        frames::op_swrt_frame_loaded,
        frames::op_swrt_window_post_message,
    ],
);

/// The HTML document and its frames, in pages.
pub(crate) fn extension() -> Extension {
    let mut extension = swrt_document::init();
    extension.lazy_loaded_js_files = std::borrow::Cow::Owned(vec![
        js_file!("60_dom.js"),
        js_file!("61_html_document.js"),
        js_file!("62_frames.js"),
    ]);
    extension
}
