//! Where a record's response body goes as it arrives: a small announced body
//! stays in memory and is packed with the fetch's other small bodies when it
//! completes; any other body is written as a body of its own in coalesced
//! writes, with checkpoints (a sync, then the byte count in the store)
//! running on the blocking pool while reading continues. Also the cap on
//! what a content-encoded body may decode to.

use crate::limits::Limits;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;
use swrt_store::{BodyId, BodyWriter, Store, SyncPoint};

/// Bodies announced (`Content-Length`, identity encoding) at most this big
/// are kept in memory and appended to the fetch's pack file when complete:
/// no file, inode, fsync or unlink per small record. Larger or unannounced
/// bodies stream to their own file (resumable with `Range`).
pub(crate) const PACK_MAX: u64 = 64 << 10;

/// Bytes of a body after which its first save point is taken, whatever
/// `Limits::checkpoint_bytes` and `checkpoint_interval` say.
const FIRST_CHECKPOINT_BYTES: u64 = 256 << 10;

/// Chunks buffered before a write at the latest, whatever their size.
const MAX_PENDING_CHUNKS: usize = 512;

/// A background checkpoint: `Err((error, from_sync))`.
type SyncJob = tokio::task::JoinHandle<Result<(), (std::io::Error, bool)>>;

/// Why a checkpoint failed.
#[derive(Debug)]
pub(super) enum CheckpointError {
    /// Syncing the file or recording the length failed (a full disk has
    /// kind `StorageFull`).
    Io(std::io::Error),
    /// The blocking task did not finish.
    TaskFailed,
}

/// One record's body on its way to storage.
pub(super) struct BodySink {
    /// Where the record's own body goes (once it does not fit in memory).
    store: Arc<Store>,
    fetch: String,
    index: u32,
    writer: Option<BodyWriter>,
    /// Chunks received but not yet written to `writer` (write coalescing:
    /// one `writev(2)` per `Limits::read_buffer` bytes instead of a
    /// `write(2)` per network chunk, and no copy into a staging buffer).
    pending: Vec<Bytes>,
    pending_len: usize,
    /// A small body kept in memory (see [`PACK_MAX`]).
    mem: Option<Vec<u8>>,
    /// Checkpoint running on the blocking pool: the length it makes durable
    /// and its task.
    sync_job: Option<(u64, SyncJob)>,
    /// Length covered by the last checkpoint started.
    ckpt_len: u64,
    ckpt_time: Instant,
}

impl BodySink {
    pub(super) fn new(store: Arc<Store>, fetch: String, index: u32) -> Self {
        BodySink {
            store,
            fetch,
            index,
            writer: None,
            pending: Vec::new(),
            pending_len: 0,
            mem: None,
            sync_job: None,
            ckpt_len: 0,
            ckpt_time: Instant::now(),
        }
    }

    fn body(&self) -> BodyId<'_> {
        BodyId::Response {
            fetch: &self.fetch,
            index: self.index,
        }
    }

    fn create(&self) -> std::io::Result<BodyWriter> {
        self.store.bodies().create(self.body())
    }

    /// Reopen the body of an earlier run, keeping at most `stored` bytes
    /// (what the store recorded as durable). Returns the kept length. Runs
    /// on the blocking pool: a resume reads what is stored.
    pub(super) async fn resume(&mut self, stored: u64) -> std::io::Result<u64> {
        let (store, fetch, index) = (self.store.clone(), self.fetch.clone(), self.index);
        let w = crate::body_read::blocking(move || {
            store.bodies().resume(
                BodyId::Response {
                    fetch: &fetch,
                    index,
                },
                stored,
            )
        })
        .await?;
        let len = w.len();
        self.ckpt_len = len;
        self.writer = Some(w);
        Ok(len)
    }

    /// A new body that fits in memory (`capacity` announced bytes).
    pub(super) fn start_in_memory(&mut self, capacity: usize) {
        self.mem = Some(Vec::with_capacity(capacity));
        self.restart_checkpoints();
    }

    /// A new body of its own, from zero.
    pub(super) fn start_file(&mut self) -> std::io::Result<()> {
        self.writer = Some(self.create()?);
        self.restart_checkpoints();
        Ok(())
    }

    fn restart_checkpoints(&mut self) {
        self.ckpt_len = 0;
        self.ckpt_time = Instant::now();
    }

    /// Take one chunk. A body kept in memory that grows past [`PACK_MAX`]
    /// (more than announced) moves to its own file.
    pub(super) fn push(&mut self, chunk: Bytes) -> std::io::Result<()> {
        match &mut self.mem {
            Some(m) if m.len() as u64 + chunk.len() as u64 <= PACK_MAX => {
                m.extend_from_slice(&chunk)
            }
            Some(_) => {
                let m = self.mem.take().unwrap_or_default();
                self.writer = Some(self.create()?);
                self.pending_len = m.len() + chunk.len();
                self.pending = vec![Bytes::from(m), chunk];
            }
            None => {
                self.pending_len += chunk.len();
                self.pending.push(chunk);
            }
        }
        Ok(())
    }

    /// The body is held in memory.
    pub(super) fn in_memory(&self) -> bool {
        self.mem.is_some()
    }

    /// Enough is buffered to write it out.
    pub(super) fn flush_due(&self, read_buffer: usize) -> bool {
        self.pending_len >= read_buffer.max(4096) || self.pending.len() >= MAX_PENDING_CHUNKS
    }

    /// Write what is buffered to the body's writer. Returns the body's length,
    /// or `None` while the body is held in memory.
    pub(super) fn flush(&mut self) -> std::io::Result<Option<u64>> {
        let Some(w) = self.writer.as_mut() else {
            return Ok(None);
        };
        if !self.pending.is_empty() {
            let chunks: Vec<&[u8]> = self.pending.iter().map(|b| &b[..]).collect();
            w.write_chunks(&chunks)?;
            self.pending.clear();
            self.pending_len = 0;
        }
        Ok(Some(w.len()))
    }

    /// A save point is due at file length `len`: the first one comes early,
    /// so a crash soon after the start resumes rather than starting over;
    /// later ones follow the limits.
    pub(super) fn checkpoint_due(&self, len: u64, limits: &Limits) -> bool {
        let first = self.ckpt_len == 0 && len >= FIRST_CHECKPOINT_BYTES;
        first
            || len - self.ckpt_len >= limits.checkpoint_bytes
            || self.ckpt_time.elapsed() >= limits.checkpoint_interval
    }

    /// Length covered by the last checkpoint started (0 for a new body).
    pub(super) fn checkpointed_len(&self) -> u64 {
        self.ckpt_len
    }

    /// Start making the written bytes durable on the blocking pool: a sync
    /// (`fdatasync` for a file), then `record(len)` (which records the
    /// length in the store). Returns false when the body has no file. The
    /// previous checkpoint must have been joined.
    pub(super) fn start_checkpoint<F>(&mut self, record: F) -> std::io::Result<bool>
    where
        F: FnOnce(u64) -> swrt_store::Result<()> + Send + 'static,
    {
        debug_assert!(self.sync_job.is_none(), "one checkpoint at a time");
        let Some(w) = self.writer.as_mut() else {
            return Ok(false);
        };
        let len = w.len();
        let point = w.sync_point()?;
        let job = tokio::task::spawn_blocking(move || {
            point.sync().map_err(|e| (e, true))?;
            record(len).map_err(|e| {
                let kind = if e.is_storage_full() {
                    std::io::ErrorKind::StorageFull
                } else {
                    std::io::ErrorKind::Other
                };
                (std::io::Error::new(kind, format!("checkpoint: {e}")), false)
            })
        });
        self.ckpt_len = len;
        self.ckpt_time = Instant::now();
        self.sync_job = Some((len, job));
        Ok(true)
    }

    /// Wait for the running checkpoint. `Ok(true)` when one completed (its
    /// length is now durable), `Ok(false)` when none was running.
    pub(super) async fn join_checkpoint(&mut self) -> Result<bool, CheckpointError> {
        let Some((len, job)) = self.sync_job.take() else {
            return Ok(false);
        };
        match job.await {
            Ok(Ok(())) => {
                if let Some(w) = self.writer.as_mut() {
                    w.mark_synced(len);
                }
                Ok(true)
            }
            Ok(Err((e, _))) => Err(CheckpointError::Io(e)),
            Err(_) => Err(CheckpointError::TaskFailed),
        }
    }

    /// Wait for the running checkpoint, ignoring its result.
    pub(super) async fn settle_checkpoint(&mut self) {
        if let Some((_, job)) = self.sync_job.take() {
            let _ = job.await;
        }
    }

    /// Bytes of the body received so far (written, buffered or in memory).
    pub(super) fn len(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.len())
            + self.pending_len as u64
            + self.mem.as_ref().map_or(0, |m| m.len() as u64)
    }

    /// Bytes of the body known to be durable.
    pub(super) fn synced_len(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.synced_len())
    }

    /// The length of a non-empty body of its own a request may resume from.
    pub(super) fn resumable_len(&self) -> Option<u64> {
        self.writer
            .as_ref()
            .filter(|w| !w.is_empty())
            .map(|w| w.len())
    }

    /// The body has a writer of its own (it is not held in memory).
    pub(super) fn has_file(&self) -> bool {
        self.writer.is_some()
    }

    /// A sync point of the body, for the group commit to sync.
    pub(super) fn sync_point(&mut self) -> Option<SyncPoint> {
        self.writer.as_mut().and_then(|w| w.sync_point().ok())
    }

    /// The body held in memory, taken out.
    pub(super) fn take_memory(&mut self) -> Option<Vec<u8>> {
        self.mem.take()
    }

    /// Forget the body (the file stays on disk for the store to remove or
    /// overwrite).
    pub(super) fn reset(&mut self) {
        self.writer = None;
        self.pending = Vec::new();
        self.pending_len = 0;
        self.mem = None;
        self.ckpt_len = 0;
    }
}

/// The decoded-size cap: a content-encoded body that decodes to more than
/// `Limits::decoded_allowance` of the `encoded` bytes received so far is a
/// decompression bomb. `Some(why)` when `decoded` is past the cap.
pub(super) fn decoded_cap_exceeded(limits: &Limits, encoded: u64, decoded: u64) -> Option<String> {
    let allowed = limits.decoded_allowance(encoded)?;
    (decoded > allowed).then(|| {
        format!(
            "the body decoded to more than {allowed} bytes from {encoded} bytes received (more than {} times)",
            limits.max_decoded_ratio
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    fn chunk(n: usize, byte: u8) -> Bytes {
        Bytes::from(vec![byte; n])
    }

    /// A sink for record 0 of fetch `f` in a new store, and its body file.
    fn sink_in(dir: &tempfile::TempDir) -> (BodySink, std::path::PathBuf) {
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let sink = BodySink::new(store, "f".into(), 0);
        (sink, dir.path().join("bodies/f/0.body"))
    }

    #[test]
    fn small_body_stays_in_memory_until_it_outgrows_the_pack_limit() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sink, path) = sink_in(&dir);
        sink.start_in_memory(10);
        sink.push(chunk(PACK_MAX as usize - 1, 1)).unwrap();
        assert!(sink.in_memory());
        assert!(!path.exists(), "no file for a small body");
        sink.push(chunk(1, 2)).unwrap();
        assert!(sink.in_memory());
        assert_eq!(sink.len(), PACK_MAX);
        // One byte more than announced: the body moves to its own file.
        sink.push(chunk(1, 3)).unwrap();
        assert!(!sink.in_memory());
        assert!(sink.has_file());
        assert_eq!(sink.len(), PACK_MAX + 1);
        assert_eq!(sink.flush().unwrap(), Some(PACK_MAX + 1));
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(on_disk.len() as u64, PACK_MAX + 1);
        assert_eq!(on_disk[0], 1);
        assert_eq!(on_disk[PACK_MAX as usize - 1], 2);
        assert_eq!(on_disk[PACK_MAX as usize], 3);
    }

    #[test]
    fn memory_body_is_taken_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sink, _) = sink_in(&dir);
        sink.start_in_memory(6);
        sink.push(Bytes::from_static(b"abc")).unwrap();
        sink.push(Bytes::from_static(b"def")).unwrap();
        assert_eq!(sink.flush().unwrap(), None, "nothing to write");
        assert_eq!(sink.take_memory().as_deref(), Some(&b"abcdef"[..]));
        assert_eq!(sink.len(), 0);
    }

    #[test]
    fn writes_are_coalesced_until_a_flush_is_due() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sink, path) = sink_in(&dir);
        sink.start_file().unwrap();
        for _ in 0..3 {
            sink.push(chunk(1000, 7)).unwrap();
        }
        assert!(!sink.flush_due(8192));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "still buffered");
        assert_eq!(sink.len(), 3000);
        for _ in 0..6 {
            sink.push(chunk(1000, 7)).unwrap();
        }
        assert!(sink.flush_due(8192));
        assert_eq!(sink.flush().unwrap(), Some(9000));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 9000);
        // Many tiny chunks are written too, whatever their total.
        for _ in 0..MAX_PENDING_CHUNKS {
            sink.push(chunk(1, 7)).unwrap();
        }
        assert!(sink.flush_due(1 << 20));
    }

    #[test]
    fn checkpoints_follow_the_limits_and_the_first_comes_early() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sink, _) = sink_in(&dir);
        sink.start_file().unwrap();
        let limits = Limits {
            checkpoint_bytes: 1 << 20,
            checkpoint_interval: Duration::from_secs(3600),
            ..Limits::default()
        };
        assert!(!sink.checkpoint_due(1000, &limits));
        assert!(sink.checkpoint_due(FIRST_CHECKPOINT_BYTES, &limits));
        sink.ckpt_len = FIRST_CHECKPOINT_BYTES;
        assert!(!sink.checkpoint_due(FIRST_CHECKPOINT_BYTES + 1000, &limits));
        assert!(sink.checkpoint_due(FIRST_CHECKPOINT_BYTES + (1 << 20), &limits));
        let soon = Limits {
            checkpoint_interval: Duration::ZERO,
            ..limits
        };
        assert!(sink.checkpoint_due(FIRST_CHECKPOINT_BYTES + 1, &soon));
    }

    #[tokio::test]
    async fn a_checkpoint_syncs_then_records_the_length() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sink, _) = sink_in(&dir);
        assert!(!sink.start_checkpoint(|_| Ok(())).unwrap(), "no file yet");
        sink.start_file().unwrap();
        sink.push(chunk(5000, 9)).unwrap();
        sink.flush().unwrap();
        let recorded = Arc::new(Mutex::new(None));
        let r = recorded.clone();
        assert!(sink
            .start_checkpoint(move |len| {
                *r.lock().unwrap() = Some(len);
                Ok(())
            })
            .unwrap());
        assert_eq!(sink.checkpointed_len(), 5000);
        assert_eq!(sink.synced_len(), 0, "durable only once joined");
        assert!(sink.join_checkpoint().await.unwrap());
        assert_eq!(*recorded.lock().unwrap(), Some(5000));
        assert_eq!(sink.synced_len(), 5000);
        assert!(!sink.join_checkpoint().await.unwrap(), "nothing running");

        // A store that is full: the error keeps its kind.
        sink.push(chunk(10, 9)).unwrap();
        sink.flush().unwrap();
        sink.start_checkpoint(|_| {
            Err(swrt_store::StoreError::Io(std::io::Error::from(
                std::io::ErrorKind::StorageFull,
            )))
        })
        .unwrap();
        match sink.join_checkpoint().await {
            Err(CheckpointError::Io(e)) => {
                assert_eq!(e.kind(), std::io::ErrorKind::StorageFull)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sink.synced_len(), 5000);
    }

    #[tokio::test]
    async fn resume_keeps_only_the_recorded_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sink, path) = sink_in(&dir);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![1u8; 3000]).unwrap();
        assert_eq!(sink.resume(2000).await.unwrap(), 2000);
        assert_eq!(sink.resumable_len(), Some(2000));
        assert_eq!(sink.checkpointed_len(), 2000);
        sink.push(chunk(5, 2)).unwrap();
        sink.flush().unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(on_disk.len(), 2005);
        assert_eq!(&on_disk[1998..], &[1, 1, 2, 2, 2, 2, 2]);
        sink.reset();
        assert_eq!(sink.len(), 0);
        assert_eq!(sink.resumable_len(), None);
    }

    #[test]
    fn the_decoded_size_cap() {
        let limits = Limits {
            max_decoded_ratio: 10,
            ..Limits::default()
        };
        let floor = crate::limits::DECODED_BODY_FLOOR;
        assert_eq!(decoded_cap_exceeded(&limits, 10, floor), None);
        assert!(decoded_cap_exceeded(&limits, 10, floor + 1).is_some());
        let big = floor;
        assert_eq!(decoded_cap_exceeded(&limits, big, big * 10), None);
        assert!(decoded_cap_exceeded(&limits, big, big * 10 + 1).is_some());
        let off = Limits {
            max_decoded_ratio: 0,
            ..Limits::default()
        };
        assert_eq!(decoded_cap_exceeded(&off, 1, u64::MAX), None);
    }
}
