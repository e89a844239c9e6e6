//! Rust ops behind the JavaScript in `js/`, grouped by the interface they serve.

pub(crate) mod background_fetch;
pub(crate) mod cache;
pub(crate) mod console;
pub(crate) mod container;
pub(crate) mod crypto;
pub(crate) mod fetch;
pub(crate) mod realm;
pub(crate) mod scope;
pub(crate) mod workers;
