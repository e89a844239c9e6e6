//! The Cache API (`caches`, `Cache`).

pub(crate) mod ops;
