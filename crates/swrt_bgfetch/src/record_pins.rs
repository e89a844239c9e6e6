//! Record pins: a realm that was handed a fetch's `BackgroundFetchRecord`s
//! keeps their bodies readable after the terminal event ends.
//!
//! `match()`/`matchAll()` stop working when the event's lifetime ends
//! (`recordsAvailable` becomes false), but the record objects a realm already
//! holds build their `request` and `responseReady` on first use, which may
//! come later. While any realm pins a fetch, ending its lifetime keeps a copy
//! of the record rows in memory and leaves the bodies stored; the last pin
//! to go deletes them. A crash or shutdown in between leaves the bodies to
//! start-up repair, which deletes the bodies of every finished fetch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use swrt_store::{RecordRow, Store};

/// Which fetches realms pin, and the rows of those whose lifetime ended.
#[derive(Default)]
pub(crate) struct RecordPins {
    state: Mutex<PinState>,
}

#[derive(Default)]
struct PinState {
    /// Live pins per fetch.
    counts: HashMap<String, usize>,
    /// Fetches whose lifetime ended while pinned: their record rows as they
    /// were before the store forgot the bodies, and the store to delete the
    /// bodies from once unpinned.
    retired: HashMap<String, Retired>,
}

struct Retired {
    rows: HashMap<u32, RecordRow>,
    store: Arc<Store>,
}

impl RecordPins {
    fn lock(&self) -> MutexGuard<'_, PinState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a pin on `unique_id`; dropping the returned guard releases it.
    pub(crate) fn pin(self: &Arc<Self>, unique_id: &str) -> RecordsPin {
        *self.lock().counts.entry(unique_id.to_string()).or_insert(0) += 1;
        RecordsPin {
            pins: self.clone(),
            unique_id: unique_id.to_string(),
            runtime: tokio::runtime::Handle::try_current().ok(),
        }
    }

    /// The fetch's lifetime ended. If it is pinned, keep `rows` for readers
    /// and return true: the caller must leave the bodies in `store`.
    pub(crate) fn retire_if_pinned(
        &self,
        unique_id: &str,
        rows: Vec<RecordRow>,
        store: &Arc<Store>,
    ) -> bool {
        let mut state = self.lock();
        if state.counts.get(unique_id).copied().unwrap_or(0) == 0 {
            return false;
        }
        let rows = rows.into_iter().map(|r| (r.index, r)).collect();
        state.retired.insert(
            unique_id.to_string(),
            Retired {
                rows,
                store: store.clone(),
            },
        );
        true
    }

    /// A record of a fetch whose lifetime ended while pinned.
    pub(crate) fn retired_record(&self, unique_id: &str, index: u32) -> Option<RecordRow> {
        self.lock()
            .retired
            .get(unique_id)
            .and_then(|r| r.rows.get(&index).cloned())
    }

    #[cfg(test)]
    fn is_retired(&self, unique_id: &str) -> bool {
        self.lock().retired.contains_key(unique_id)
    }

    fn unpin(&self, unique_id: &str) -> Option<Arc<Store>> {
        let mut state = self.lock();
        let count = state.counts.get_mut(unique_id)?;
        *count -= 1;
        if *count > 0 {
            return None;
        }
        state.counts.remove(unique_id);
        state.retired.remove(unique_id).map(|r| r.store)
    }
}

/// A realm's hold on one fetch's records (see the module docs).
pub struct RecordsPin {
    pins: Arc<RecordPins>,
    unique_id: String,
    runtime: Option<tokio::runtime::Handle>,
}

impl std::fmt::Debug for RecordsPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordsPin")
            .field("unique_id", &self.unique_id)
            .finish()
    }
}

impl Drop for RecordsPin {
    fn drop(&mut self) {
        let Some(store) = self.pins.unpin(&self.unique_id) else {
            return;
        };
        let fetch = self.unique_id.clone();
        let remove = move || {
            if let Err(e) = store.bodies().delete_fetch(&fetch) {
                tracing::warn!(fetch, error = %e, "cannot delete bodies");
            }
        };
        // The last reader may be a realm's thread: delete off it. Without a
        // runtime the bodies stay for start-up repair.
        if let Some(runtime) = &self.runtime {
            drop(runtime.spawn_blocking(remove));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: u32) -> RecordRow {
        RecordRow {
            fetch_uid: "f".into(),
            index,
            method: "GET".into(),
            url: format!("https://example.test/{index}"),
            headers: Vec::new(),
            mode: swrt_store::RequestMode::Cors,
            credentials: swrt_store::CredentialsMode::SameOrigin,
            has_request_body: false,
            request_body_len: 0,
            integrity: String::new(),
            response: None,
            body: None,
            bytes_stored: 0,
            body_offset: 0,
            outcome: swrt_store::RecordOutcome::Complete,
            error_message: None,
        }
    }

    #[test]
    fn an_unpinned_fetch_is_not_retired() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let pins = Arc::new(RecordPins::default());
        assert!(!pins.retire_if_pinned("f", vec![row(0)], &store));
        assert!(pins.retired_record("f", 0).is_none());
    }

    #[tokio::test]
    async fn the_last_pin_deletes_the_bodies_of_a_retired_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let body = swrt_store::BodyId::Response {
            fetch: "f",
            index: 0,
        };
        store.bodies().put(body, b"x").unwrap();
        let bodies = dir.path().join("bodies/f");
        assert!(bodies.exists());
        let pins = Arc::new(RecordPins::default());
        let first = pins.pin("f");
        let second = pins.pin("f");
        assert!(pins.retire_if_pinned("f", vec![row(0), row(1)], &store));
        assert_eq!(pins.retired_record("f", 1).map(|r| r.index), Some(1));
        drop(first);
        assert!(pins.is_retired("f"), "one pin is left");
        assert!(bodies.exists());
        drop(second);
        assert!(!pins.is_retired("f"));
        for _ in 0..100 {
            if !bodies.exists() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the bodies were not deleted");
    }
}
