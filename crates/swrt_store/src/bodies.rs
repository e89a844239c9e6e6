//! Where bodies live. Callers name a body by what it belongs to
//! ([`BodyId`]) and write or read it through the store's [`BodyStorage`];
//! only the storage knows how a name maps onto files (or objects).
//!
//! Every method blocks (file I/O, or a round trip to a remote store): call
//! them on a blocking thread, as the engine and the runtime do.
//!
//! The durability contract is the same whatever the storage: a writer's
//! bytes are durable only up to its last sync point, the caller records
//! that length in SQLite after the sync, and a writer resumed after a crash
//! ([`BodyStorage::resume`]) starts from the recorded length, dropping
//! anything past it.

mod files;

pub use files::FileBodies;

use std::any::Any;
use std::fmt;
use std::io;

/// A body, named by what it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyId<'a> {
    /// The request body of record `index` of a fetch.
    Request {
        /// The fetch's unique id.
        fetch: &'a str,
        /// The record's index.
        index: u32,
    },
    /// The response body of record `index` of a fetch, stored on its own.
    Response {
        /// The fetch's unique id.
        fetch: &'a str,
        /// The record's index.
        index: u32,
    },
    /// A fetch's pack: its small response bodies, back to back (each
    /// record's offset and length say where its bytes are). One body for
    /// many small ones saves a create, a sync and a delete per record.
    Pack {
        /// The fetch's unique id.
        fetch: &'a str,
    },
    /// The body of a Cache API entry.
    Cache(&'a CacheBodyKey),
}

/// The name of a Cache API body, as its entry's row stores it. Bodies are
/// written before the row that claims them, so the name is chosen first
/// ([`crate::Store::new_cache_body`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheBodyKey(String);

impl CacheBodyKey {
    /// A key read back from the database. The store only writes relative
    /// names of plain components; anything else (absolute, `..`, empty)
    /// comes from a damaged or edited database and could name a file outside
    /// the data dir, so it is refused.
    pub(crate) fn from_stored(stored: String) -> Option<CacheBodyKey> {
        crate::is_plain_relative(&stored).then_some(CacheBodyKey(stored))
    }

    /// A new key no other body has.
    pub(crate) fn unique() -> CacheBodyKey {
        use std::sync::atomic::{AtomicU64, Ordering};
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        CacheBodyKey(format!(
            "{CACHE_DIR}/{nanos:x}-{}-{n}.body",
            std::process::id()
        ))
    }

    /// The key as stored in the database.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's own name, unique among Cache API bodies: what a storage
    /// lists them by.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }

    /// The key of the Cache API body called `name` (see
    /// [`CacheBodyKey::name`]), for a storage listing its bodies. `None`
    /// for a name that is not one plain component.
    pub fn from_name(name: &str) -> Option<CacheBodyKey> {
        let plain = crate::is_plain_relative(name) && !name.contains('/');
        plain.then(|| CacheBodyKey(format!("{CACHE_DIR}/{name}")))
    }
}

/// Where [`CacheBodyKey`]s put Cache API bodies, relative to the data dir.
const CACHE_DIR: &str = "bodies/cache";

/// Where the bodies of a store live. One per [`crate::Store`].
pub trait BodyStorage: Send + Sync + fmt::Debug + fmt::Display {
    /// Start `body` from zero, dropping anything stored under its name.
    fn create(&self, body: BodyId<'_>) -> io::Result<BodyWriter>;

    /// Continue `body` after its first `durable` bytes (the length recorded
    /// in the database): bytes past it were never trusted and are dropped.
    /// If fewer bytes are stored, the writer continues from what there is
    /// (its [`BodyWrite::len`]).
    fn resume(&self, body: BodyId<'_>, durable: u64) -> io::Result<BodyWriter>;

    /// Store all of `body` at once, durably (a request body, known whole
    /// when its fetch is created).
    fn put(&self, body: BodyId<'_>, data: &[u8]) -> io::Result<()>;

    /// Open the fetch's pack for appending small bodies.
    fn open_pack(&self, fetch: &str) -> io::Result<PackWriter>;

    /// Make every body behind `points` durable, as one batch (a group
    /// commit of many finished records).
    fn sync_all(&self, points: &[SyncPoint]) -> io::Result<()>;

    /// Read `body` from byte `offset` on. The reader ends where the stored
    /// bytes end: the caller knows how many of them count.
    fn read(&self, body: BodyId<'_>, offset: u64) -> io::Result<BodyReader>;

    /// Cut `body` to at most `len` bytes, durably (start-up repair of bytes
    /// past the last recorded checkpoint). A missing body is left missing.
    fn truncate(&self, body: BodyId<'_>, len: u64) -> io::Result<()>;

    /// Delete `body`. Deleting a missing body succeeds.
    fn delete(&self, body: BodyId<'_>) -> io::Result<()>;

    /// Delete every body of a fetch. Deleting none succeeds.
    fn delete_fetch(&self, fetch: &str) -> io::Result<()>;

    /// Every Cache API body stored, for the sweep at open of bodies no
    /// entry claims (written, but the process ended before `cache_put`).
    fn cache_bodies(&self) -> io::Result<Vec<CacheBodyKey>>;

    /// True when no body at all is stored.
    fn is_empty(&self) -> io::Result<bool>;
}

/// A body being appended to: see [`BodyWrite`].
pub type BodyWriter = Box<dyn BodyWrite>;

/// Appends to one body. Appended bytes are durable once a sync covering
/// them returned: [`BodyWrite::sync`] here, or a [`SyncPoint`] synced on
/// another thread followed by [`BodyWrite::mark_synced`].
pub trait BodyWrite: Send + Sync + fmt::Debug {
    /// Append chunks, in order, without joining them first.
    fn write_chunks(&mut self, chunks: &[&[u8]]) -> io::Result<()>;

    /// Bytes of the body so far (durable or not).
    fn len(&self) -> u64;

    /// True when the body is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes known to be durable.
    fn synced_len(&self) -> u64;

    /// Make everything appended so far durable.
    fn sync(&mut self) -> io::Result<()>;

    /// A handle that makes everything appended so far durable when synced,
    /// on another thread while this writer goes on appending. Its length is
    /// [`BodyWrite::len`] at the time of the call.
    fn sync_point(&mut self) -> io::Result<SyncPoint>;

    /// Record that a sync point covering `n` bytes was synced.
    fn mark_synced(&mut self, n: u64);
}

/// A pending sync of a body: see [`BodyWrite::sync_point`].
pub type SyncPoint = Box<dyn BodySync>;

/// Makes the bytes behind it durable.
pub trait BodySync: Send + Any {
    /// Make the bytes durable.
    fn sync(&self) -> io::Result<()>;

    /// For [`BodyStorage::sync_all`], which batches its own kind of point.
    fn as_any(&self) -> &dyn Any;
}

/// A fetch's pack, open for appending: see [`PackWrite`].
pub type PackWriter = Box<dyn PackWrite>;

/// Appends small bodies to a fetch's pack.
pub trait PackWrite: Send {
    /// Append one body; returns the offset it starts at.
    fn append(&mut self, data: &[u8]) -> io::Result<u64>;

    /// Make everything appended durable.
    fn sync(&mut self) -> io::Result<()>;
}

/// Reads a body: see [`BodyStorage::read`].
pub type BodyReader = Box<dyn io::Read + Send + Sync>;
