//! `fetch()` on reqwest: requests, redirects, cancellation and CORS.

pub(crate) mod ops;
