//! HTML documents for page realms.
//!
//! Parsing is html5ever's implementation of the WHATWG HTML parser (tokenizer
//! and tree construction, error recovery included); the DOM that scripts use
//! is JavaScript (`js/60_dom.js`), built from the parsed tree by
//! `js/61_html_document.js`, which also runs the document's scripts as
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

/// Module scripts written inline in a document (`<script type=module>`),
/// by the URL the document gave them; the realm's module loader answers
/// their imports from here.
pub(crate) type InlineModules =
    std::rc::Rc<std::cell::RefCell<std::collections::HashMap<String, String>>>;
