//! The service-worker side of a realm: its global scope and events, and
//! the `ServiceWorkerContainer` pages and workers register with.

pub(crate) mod container;
pub(crate) mod scope;
