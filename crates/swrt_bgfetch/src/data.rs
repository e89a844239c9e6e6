//! Data manager: the engine's only door to swrt_store. Runs blocking SQLite
//! and fsync work off the async threads, keeps the in-memory quota estimate,
//! and group-commits record completions.

use crate::error::EngineError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use swrt_store::{RecordFinish, Store};
use tokio::sync::{mpsc, oneshot};

/// A completed record waiting for group commit.
pub(crate) struct FinishReq {
    pub item: RecordFinish,
    /// Body file to make durable before the row is committed.
    pub file: Option<std::fs::File>,
    pub ack: oneshot::Sender<Result<(), String>>,
}

pub(crate) struct DataManager {
    store: Arc<Store>,
    /// Per-origin usage estimate: the store's figure plus bytes written but
    /// not yet checkpointed. Loaded lazily.
    usage: Mutex<HashMap<String, u64>>,
    finisher: mpsc::UnboundedSender<FinishReq>,
}

impl DataManager {
    pub(crate) fn new(store: Store) -> Arc<Self> {
        let store = Arc::new(store);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(finisher_loop(store.clone(), rx));
        Arc::new(DataManager {
            store,
            usage: Mutex::new(HashMap::new()),
            finisher: tx,
        })
    }

    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Run a store call on the blocking pool.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, EngineError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> swrt_store::Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(r) => Ok(r?),
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
        let cur = self.usage(origin);
        let mut m = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        let v = (cur as i64).saturating_add(delta).max(0) as u64;
        m.insert(origin.to_string(), v);
        v
    }

    /// Queue a completion; resolves once the body is synced and the row committed.
    pub(crate) async fn finish(
        &self,
        item: RecordFinish,
        file: Option<std::fs::File>,
    ) -> Result<(), String> {
        let (ack, rx) = oneshot::channel();
        self.finisher
            .send(FinishReq { item, file, ack })
            .map_err(|_| "engine stopped".to_string())?;
        rx.await.map_err(|_| "engine stopped".to_string())?
    }
}

/// Group commit: while one batch is being synced and committed, new
/// completions queue up and go into the next batch. With many small bodies
/// this turns thousands of fsync+commit pairs into a few dozen.
async fn finisher_loop(store: Arc<Store>, mut rx: mpsc::UnboundedReceiver<FinishReq>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 4096 {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let store = store.clone();
        let res = tokio::task::spawn_blocking(move || {
            let r = commit_batch(&store, &mut batch);
            (batch, r)
        })
        .await;
        match res {
            Ok((batch, r)) => {
                for req in batch {
                    let _ = req.ack.send(r.clone());
                }
            }
            Err(e) => tracing::error!(error = %e, "finisher task failed"),
        }
    }
}

fn commit_batch(store: &Store, batch: &mut [FinishReq]) -> Result<(), String> {
    let files: Vec<&std::fs::File> = batch.iter().filter_map(|r| r.file.as_ref()).collect();
    sync_files(&files).map_err(|e| format!("syncing bodies: {e}"))?;
    let items: Vec<RecordFinish> = batch.iter().map(|r| r.item.clone()).collect();
    store.record_finish_batch(&items).map_err(|e| e.to_string())
}

/// Make the given files durable. Several files on Linux: one `syncfs(2)` on
/// their file system instead of one `fdatasync` each (all body files live in
/// one directory tree, so one file system).
fn sync_files(files: &[&std::fs::File]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if files.len() > 2 {
        use std::os::fd::AsRawFd;
        // SAFETY: the fd is valid for the duration of the call (borrowed File).
        let rc = unsafe { libc::syncfs(files[0].as_raw_fd()) };
        if rc == 0 {
            return Ok(());
        }
        return Err(std::io::Error::last_os_error());
    }
    for f in files {
        f.sync_data()?;
    }
    Ok(())
}
