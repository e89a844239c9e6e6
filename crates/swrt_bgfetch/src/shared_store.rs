//! The engine's store, shared with the state that lives beside background
//! fetches in the same data dir (service-worker registrations, the Cache API).

use std::sync::Arc;

use swrt_store::Store;

use crate::service::BackgroundFetchService;

impl BackgroundFetchService {
    /// The durable store this engine opened (one per data dir: the store's
    /// lock forbids a second opener). Calls are blocking; run them on a
    /// blocking thread.
    pub fn store(&self) -> Arc<Store> {
        self.inner().data.store().clone()
    }
}
