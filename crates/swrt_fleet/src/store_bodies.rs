//! The store's bodies in object storage: [`S3Bodies`] is a
//! [`swrt_store::BodyStorage`] on a [`BodyStore`], so that `swrt serve`
//! keeps its metadata in SQLite and its bodies in S3.
//!
//! The store's interface blocks and object storage is async: each call runs
//! its requests on the runtime given at construction (`Handle::block_on`),
//! which works because the store's callers call it on the blocking pool,
//! never on a runtime worker. What the engine does from async code (create
//! a body, append to it, take a sync point) never touches the network:
//! writers buffer until a sync, and a body created again is emptied by its
//! first sync.

use crate::bodies::{BodyKey, BodyStore, S3Options};
use crate::error::{FleetError, Result};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use object_store::path::Path;
use std::any::Any;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use swrt_store::{
    BodyId, BodyReader, BodyStorage, BodySync, BodyWrite, BodyWriter, CacheBodyKey, PackWrite,
    PackWriter, SyncPoint,
};
use tokio::runtime::Handle;

/// Bodies in S3-compatible object storage, for [`swrt_store::Store`].
#[derive(Debug, Clone)]
pub struct S3Bodies {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    bodies: BodyStore,
    runtime: Handle,
    /// `s3://BUCKET/PREFIX`, for messages.
    location: String,
}

impl Shared {
    fn block_on<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> io::Result<T> {
        self.runtime.block_on(f).map_err(io_error)
    }
}

impl S3Bodies {
    /// Bodies under `url` (`s3://BUCKET/PREFIX`), reached with `options`
    /// and the `AWS_*` environment, whose requests run on `runtime`.
    pub fn new(url: &str, options: &S3Options, runtime: Handle) -> Result<S3Bodies> {
        Ok(S3Bodies {
            shared: Arc::new(Shared {
                bodies: BodyStore::s3(url, options)?,
                runtime,
                location: url.to_string(),
            }),
        })
    }
}

impl std::fmt::Display for S3Bodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shared.location)
    }
}

/// Where Cache API bodies live under the prefix (as if it were a fetch).
const CACHE: &str = "cache";

/// Where `body` lives: `<fetch>/<name>/` under the prefix, Cache API bodies
/// under `cache/<name>/`.
fn key(body: BodyId<'_>) -> BodyKey {
    let (fetch_id, name) = match body {
        BodyId::Request { fetch, index } => (fetch, format!("{index}.req")),
        BodyId::Response { fetch, index } => return BodyKey::response(fetch, index),
        BodyId::Pack { fetch } => (fetch, "small.pack".to_string()),
        BodyId::Cache(k) => (CACHE, k.name().to_string()),
    };
    BodyKey {
        fetch_id: fetch_id.to_string(),
        name,
    }
}

fn io_error(e: FleetError) -> io::Error {
    let kind = match &e {
        FleetError::ObjectStore(object_store::Error::NotFound { .. }) => io::ErrorKind::NotFound,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

impl BodyStorage for S3Bodies {
    fn create(&self, body: BodyId<'_>) -> io::Result<BodyWriter> {
        Ok(Box::new(S3Writer {
            shared: self.shared.clone(),
            key: key(body),
            fresh: true,
            flushed: 0,
            buf: Vec::new(),
            synced: 0,
        }))
    }

    fn resume(&self, body: BodyId<'_>, durable: u64) -> io::Result<BodyWriter> {
        let key = key(body);
        let kept = self
            .shared
            .block_on(self.shared.bodies.truncate(&key, durable))?;
        Ok(Box::new(S3Writer {
            shared: self.shared.clone(),
            key,
            fresh: false,
            flushed: kept,
            buf: Vec::new(),
            synced: 0,
        }))
    }

    fn put(&self, body: BodyId<'_>, data: &[u8]) -> io::Result<()> {
        let mut w = self.create(body)?;
        w.write_chunks(&[data])?;
        w.sync()
    }

    fn open_pack(&self, fetch: &str) -> io::Result<PackWriter> {
        let key = key(BodyId::Pack { fetch });
        let len = self.shared.block_on(self.shared.bodies.stored_len(&key))?;
        Ok(Box::new(S3Pack {
            shared: self.shared.clone(),
            key,
            flushed: len,
            buf: Vec::new(),
        }))
    }

    fn sync_all(&self, points: &[SyncPoint]) -> io::Result<()> {
        let puts = points.iter().map(|p| {
            p.as_any()
                .downcast_ref::<S3Sync>()
                .expect("an S3 store only hands out S3 sync points")
                .put()
        });
        self.shared
            .block_on(async { futures::future::try_join_all(puts).await.map(drop) })
    }

    fn read(&self, body: BodyId<'_>, offset: u64) -> io::Result<BodyReader> {
        let parts = self.shared.block_on(self.shared.bodies.parts(&key(body)))?;
        if parts.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no body {body:?} in {}", self.shared.location),
            ));
        }
        let ranges = parts
            .into_iter()
            .filter(|(_, start, size)| start + size > offset)
            .map(|(path, start, size)| (path, offset.saturating_sub(start)..size))
            .filter(|(_, range)| !range.is_empty())
            .collect();
        Ok(Box::new(S3Reader {
            shared: self.shared.clone(),
            parts: ranges,
            part: None,
            current: Bytes::new(),
        }))
    }

    fn truncate(&self, body: BodyId<'_>, len: u64) -> io::Result<()> {
        let key = key(body);
        self.shared
            .block_on(self.shared.bodies.truncate(&key, len))
            .map(drop)
    }

    fn delete(&self, body: BodyId<'_>) -> io::Result<()> {
        self.shared.block_on(self.shared.bodies.delete(&key(body)))
    }

    fn delete_fetch(&self, fetch: &str) -> io::Result<()> {
        self.shared.block_on(self.shared.bodies.delete_fetch(fetch))
    }

    fn cache_bodies(&self) -> io::Result<Vec<CacheBodyKey>> {
        let names = self.shared.block_on(self.shared.bodies.body_names(CACHE))?;
        Ok(names
            .iter()
            .filter_map(|n| CacheBodyKey::from_name(n))
            .collect())
    }

    fn is_empty(&self) -> io::Result<bool> {
        self.shared.block_on(self.shared.bodies.is_empty())
    }
}

/// A body being written: bytes are buffered up to a sync, which stores
/// them as one part object.
#[derive(Debug)]
struct S3Writer {
    shared: Arc<Shared>,
    key: BodyKey,
    /// Created, not resumed: the first sync deletes what an earlier body
    /// of the same name left, and stores a part even when empty, so that
    /// an empty body exists.
    fresh: bool,
    /// Bytes handed to sync points (stored, or being stored).
    flushed: u64,
    buf: Vec<u8>,
    synced: u64,
}

impl S3Writer {
    fn take_point(&mut self) -> S3Sync {
        let bytes = Bytes::from(std::mem::take(&mut self.buf));
        let point = S3Sync {
            shared: self.shared.clone(),
            key: self.key.clone(),
            offset: self.flushed,
            fresh: std::mem::take(&mut self.fresh),
            bytes,
        };
        self.flushed += point.bytes.len() as u64;
        point
    }
}

impl BodyWrite for S3Writer {
    fn write_chunks(&mut self, chunks: &[&[u8]]) -> io::Result<()> {
        for c in chunks {
            self.buf.extend_from_slice(c);
        }
        Ok(())
    }

    fn len(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    fn synced_len(&self) -> u64 {
        self.synced
    }

    fn sync(&mut self) -> io::Result<()> {
        self.take_point().sync()?;
        self.synced = self.len();
        Ok(())
    }

    fn sync_point(&mut self) -> io::Result<SyncPoint> {
        Ok(Box::new(self.take_point()))
    }

    fn mark_synced(&mut self, n: u64) {
        self.synced = n.min(self.len());
    }
}

/// One part to store: the bytes a writer buffered since its last sync.
struct S3Sync {
    shared: Arc<Shared>,
    key: BodyKey,
    offset: u64,
    fresh: bool,
    bytes: Bytes,
}

impl S3Sync {
    async fn put(&self) -> Result<()> {
        if self.fresh {
            self.shared.bodies.delete(&self.key).await?;
        }
        if self.fresh || !self.bytes.is_empty() {
            let bytes = self.bytes.clone();
            self.shared
                .bodies
                .put_part(&self.key, self.offset, bytes)
                .await?;
        }
        Ok(())
    }
}

impl BodySync for S3Sync {
    fn sync(&self) -> io::Result<()> {
        self.shared.block_on(self.put())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A fetch's pack: appended bodies are buffered until the sync, which
/// stores them as one part.
struct S3Pack {
    shared: Arc<Shared>,
    key: BodyKey,
    flushed: u64,
    buf: Vec<u8>,
}

impl PackWrite for S3Pack {
    fn append(&mut self, data: &[u8]) -> io::Result<u64> {
        let offset = self.flushed + self.buf.len() as u64;
        self.buf.extend_from_slice(data);
        Ok(offset)
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let bytes = Bytes::from(std::mem::take(&mut self.buf));
        let len = bytes.len() as u64;
        self.shared
            .block_on(self.shared.bodies.put_part(&self.key, self.flushed, bytes))?;
        self.flushed += len;
        Ok(())
    }
}

/// Reads the ranges of a body's parts, one part after the other, each as
/// its bytes arrive (a part can be a whole checkpoint's worth).
struct S3Reader {
    shared: Arc<Shared>,
    parts: VecDeque<(Path, std::ops::Range<u64>)>,
    /// In a mutex only to make the reader `Sync` (it is never shared:
    /// `get_mut` reaches it without locking).
    part: Option<std::sync::Mutex<BoxStream<'static, Result<Bytes>>>>,
    current: Bytes,
}

impl io::Read for S3Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if let Some(part) = self.part.as_mut() {
                let part = part.get_mut().unwrap_or_else(|p| p.into_inner());
                match self
                    .shared
                    .block_on(async { part.next().await.transpose() })?
                {
                    Some(bytes) => self.current = bytes,
                    None => self.part = None,
                }
                continue;
            }
            let Some((path, range)) = self.parts.pop_front() else {
                return Ok(0);
            };
            let part = self
                .shared
                .block_on(self.shared.bodies.stream_part(&path, range))?;
            self.part = Some(std::sync::Mutex::new(part));
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
