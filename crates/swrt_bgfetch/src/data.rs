//! Data manager: the engine's only door to swrt_store. Runs blocking SQLite
//! and fsync work off the async threads, keeps the in-memory quota estimate,
//! and group-commits record completions.

use crate::error::EngineError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use swrt_store::{PackWriter, RecordFinish, Store, SyncPoint};
use tokio::sync::{mpsc, oneshot};

/// A completed record waiting for group commit.
pub(crate) struct FinishReq {
    pub item: RecordFinish,
    /// Body to make durable before the row is committed.
    pub sync: Option<SyncPoint>,
    /// A small body kept in memory: appended to the fetch's pack file (and
    /// synced) before the row is committed.
    pub data: Option<Vec<u8>>,
    pub ack: oneshot::Sender<Result<Option<u64>, FinishError>>,
}

/// Why a group commit failed.
#[derive(Debug, Clone)]
pub(crate) struct FinishError {
    pub message: String,
    /// The disk (or file-system quota) is full: `quota-exceeded`.
    pub storage_full: bool,
}

impl FinishError {
    fn io(what: &str, e: &std::io::Error) -> Self {
        FinishError {
            message: format!("{what}: {e}"),
            storage_full: swrt_store::is_storage_full_io(e),
        }
    }
}

impl std::fmt::Display for FinishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Store calls running at once on the blocking pool. SQLite serialises them
/// anyway (one connection); the bound keeps a burst (a `matchAll()` over
/// thousands of records asks for every response at once) from starting a
/// blocking thread per call.
const STORE_CALLS_AT_ONCE: usize = 4;

pub(crate) struct DataManager {
    store: Arc<Store>,
    /// Permits for [`DataManager::run`]: [`STORE_CALLS_AT_ONCE`].
    calls: tokio::sync::Semaphore,
    /// Per-origin usage estimate: the store's figure plus bytes written but
    /// not yet checkpointed. Loaded lazily.
    usage: Mutex<HashMap<String, u64>>,
    /// `None` once closed.
    finisher: Mutex<Option<mpsc::UnboundedSender<FinishReq>>>,
    finisher_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl DataManager {
    pub(crate) fn new(store: Arc<Store>) -> Arc<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(finisher_loop(store.clone(), rx));
        Arc::new(DataManager {
            store,
            calls: tokio::sync::Semaphore::new(STORE_CALLS_AT_ONCE),
            usage: Mutex::new(HashMap::new()),
            finisher: Mutex::new(Some(tx)),
            finisher_task: Mutex::new(Some(task)),
        })
    }

    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Run a store call on the blocking pool, at most
    /// [`STORE_CALLS_AT_ONCE`] at a time (the rest wait their turn).
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, EngineError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> swrt_store::Result<T> + Send + 'static,
    {
        let Ok(_permit) = self.calls.acquire().await else {
            return Err(EngineError::Stopped);
        };
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(swrt_store::StoreError::Closed)) => Err(EngineError::Stopped),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(EngineError::Stopped),
        }
    }

    /// Current usage estimate of `origin`.
    pub(crate) fn usage(&self, origin: &str) -> u64 {
        let mut m = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = m.get(origin) {
            return *v;
        }
        let v = self.store.origin_usage(origin).unwrap_or(0);
        m.insert(origin.to_string(), v);
        v
    }

    /// Adjust the usage estimate; returns the new value.
    pub(crate) fn add_usage(&self, origin: &str, delta: i64) -> u64 {
        {
            let mut m = self.usage.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(v) = m.get_mut(origin) {
                *v = (*v as i64).saturating_add(delta).max(0) as u64;
                return *v;
            }
        }
        let cur = self.usage(origin);
        let mut m = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        let v = (cur as i64).saturating_add(delta).max(0) as u64;
        m.insert(origin.to_string(), v);
        v
    }

    /// Queue a completion; resolves once the body is synced and the row
    /// committed, with the body's offset in the pack file if `data` was given.
    pub(crate) async fn finish(
        &self,
        item: RecordFinish,
        sync: Option<SyncPoint>,
        data: Option<Vec<u8>>,
    ) -> Result<Option<u64>, FinishError> {
        let stopped = || FinishError {
            message: "engine stopped".into(),
            storage_full: false,
        };
        let (ack, rx) = oneshot::channel();
        {
            let tx = self.finisher.lock().unwrap_or_else(|p| p.into_inner());
            tx.as_ref()
                .ok_or_else(stopped)?
                .send(FinishReq {
                    item,
                    sync,
                    data,
                    ack,
                })
                .map_err(|_| stopped())?;
        }
        rx.await.map_err(|_| stopped())?
    }

    /// Commit what is queued and stop the group committer; later store
    /// calls fail with [`EngineError::Stopped`]. The store itself stays open
    /// for its owner. Idempotent.
    pub(crate) async fn close(&self) {
        drop(
            self.finisher
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        let task = self
            .finisher_task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(t) = task {
            let _ = t.await;
        }
        // Waits for the calls in progress, then refuses new ones.
        let _all = self.calls.acquire_many(STORE_CALLS_AT_ONCE as u32).await;
        self.calls.close();
    }
}

/// Group commit, in two pipelined stages: stage 1 appends a batch's small
/// bodies to the pack files and syncs every body of the batch; stage 2
/// commits the batch's rows (one SQLite transaction, one WAL fsync). While
/// stage 2 commits batch k, stage 1 already syncs batch k+1, and new
/// completions queue up for the batch after. A batch's rows are committed
/// only after its own bodies are synced, and batches commit in order, so
/// "a body is synced before its record is marked complete" holds. With many
/// small bodies this turns thousands of fsync+commit pairs into a few dozen.
/// Ends (after committing everything queued) when the sender is dropped.
async fn finisher_loop(store: Arc<Store>, mut rx: mpsc::UnboundedReceiver<FinishReq>) {
    type Synced = (Vec<FinishReq>, Result<(), FinishError>);
    // Capacity 1: stage 1 runs at most one batch ahead of stage 2.
    let (to_commit, mut synced) = mpsc::channel::<Synced>(1);
    let st = store.clone();
    let committer = tokio::spawn(async move {
        while let Some((batch, r)) = synced.recv().await {
            let (batch, r) = match r {
                Err(e) => (batch, Err(e)),
                Ok(()) => {
                    let st = st.clone();
                    match tokio::task::spawn_blocking(move || {
                        let r = commit_rows(&st, &batch);
                        (batch, r)
                    })
                    .await
                    {
                        Ok(v) => v,
                        Err(e) => {
                            tracing::error!(error = %e, "commit task failed");
                            continue;
                        }
                    }
                }
            };
            for req in batch {
                let _ = req.ack.send(r.clone().map(|()| req.item.packed_offset));
            }
        }
    });
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 4096 {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let st = store.clone();
        let res = tokio::task::spawn_blocking(move || {
            let r = sync_bodies(&st, &mut batch);
            (batch, r)
        })
        .await;
        match res {
            Ok(v) => {
                if to_commit.send(v).await.is_err() {
                    break;
                }
            }
            Err(e) => tracing::error!(error = %e, "finisher task failed"),
        }
    }
    drop(to_commit);
    let _ = committer.await;
}

/// Stage 1: small bodies appended to their fetch's pack (one per fetch),
/// then every body of the batch made durable.
fn sync_bodies(store: &Store, batch: &mut [FinishReq]) -> Result<(), FinishError> {
    let bodies = store.bodies();
    let mut packs: HashMap<String, PackWriter> = HashMap::new();
    for req in batch.iter_mut() {
        let Some(data) = req.data.take() else {
            continue;
        };
        let uid = req.item.unique_id.clone();
        let pack = match packs.entry(uid) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let pack = bodies
                    .open_pack(e.key())
                    .map_err(|err| FinishError::io("pack file", &err))?;
                e.insert(pack)
            }
        };
        let offset = pack
            .append(&data)
            .map_err(|err| FinishError::io("writing pack file", &err))?;
        req.item.packed_offset = Some(offset);
    }
    for pack in packs.values_mut() {
        pack.sync()
            .map_err(|e| FinishError::io("syncing pack file", &e))?;
    }
    let points: Vec<SyncPoint> = batch.iter_mut().filter_map(|r| r.sync.take()).collect();
    bodies
        .sync_all(&points)
        .map_err(|e| FinishError::io("syncing bodies", &e))
}

/// Stage 2: the batch's rows, in one transaction.
fn commit_rows(store: &Store, batch: &[FinishReq]) -> Result<(), FinishError> {
    let items: Vec<RecordFinish> = batch.iter().map(|r| r.item.clone()).collect();
    store.record_finish_batch(&items).map_err(|e| FinishError {
        storage_full: e.is_storage_full(),
        message: e.to_string(),
    })
}
