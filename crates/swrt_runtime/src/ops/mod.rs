//! Rust ops behind the JavaScript in `js/`, grouped by the interface they serve.

pub(crate) mod console;
pub(crate) mod crypto;
pub(crate) mod fetch;
pub(crate) mod scope;
