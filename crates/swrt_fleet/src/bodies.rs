//! Bodies in S3-compatible object storage.
//!
//! A body is a run of ranged objects: `PREFIX/<fetch>/<record>/<offset>`,
//! each written whole at a checkpoint (an S3 `PUT` is atomic), with the
//! offset zero-padded so that listing returns them in order. The bytes
//! stored are the longest run of parts that starts at 0 with no gap; a
//! node resuming a download asks the origin server for the rest with
//! `Range`, whatever node stored the first parts.

use crate::error::{FleetError, Result};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use std::sync::Arc;

/// Where to reach the object store, beyond what the `AWS_*` environment
/// variables say (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_REGION`, `AWS_ENDPOINT_URL`, ...). Set fields win over the
/// environment.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// The service's URL, for S3-compatible services other than AWS.
    pub endpoint: Option<String>,
    /// The region (`us-east-1` if neither this nor the environment says).
    pub region: Option<String>,
    /// The access key id.
    pub access_key_id: Option<String>,
    /// The secret access key.
    pub secret_access_key: Option<String>,
}

/// One body: a record's request or response body of one fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyKey {
    /// The fetch's unique id.
    pub fetch_id: String,
    /// The record's index, and which of its bodies.
    pub name: String,
}

impl BodyKey {
    /// The response body of record `index` of `fetch_id`.
    pub fn response(fetch_id: &str, index: u32) -> BodyKey {
        BodyKey {
            fetch_id: fetch_id.to_string(),
            name: format!("{index}.body"),
        }
    }
}

/// The bodies of a fleet, under one bucket and prefix.
#[derive(Debug, Clone)]
pub struct BodyStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl BodyStore {
    /// Bodies under `url` (`s3://BUCKET/PREFIX`).
    pub fn s3(url: &str, options: &S3Options) -> Result<BodyStore> {
        let parsed = url::Url::parse(url)
            .map_err(|e| FleetError::ObjectStoreConfig(format!("{url}: {e}")))?;
        if parsed.scheme() != "s3" {
            return Err(FleetError::ObjectStoreConfig(format!(
                "{url}: expected s3://BUCKET/PREFIX"
            )));
        }
        let bucket = parsed
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| FleetError::ObjectStoreConfig(format!("{url}: no bucket")))?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = &options.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(region) = &options.region {
            builder = builder.with_region(region);
        }
        if let Some(key) = &options.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &options.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder.build()?;
        Ok(BodyStore::new(Arc::new(store), parsed.path()))
    }

    /// Bodies in `store` under `prefix`.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> BodyStore {
        BodyStore {
            store,
            prefix: Path::from(prefix.trim_matches('/')),
        }
    }

    fn body_dir(&self, key: &BodyKey) -> Path {
        self.prefix
            .child(key.fetch_id.as_str())
            .child(key.name.as_str())
    }

    /// Stores `bytes` as the part of `key` that starts at `offset`.
    pub async fn put_part(&self, key: &BodyKey, offset: u64, bytes: Bytes) -> Result<()> {
        let path = self.body_dir(key).child(format!("{offset:020}"));
        self.store.put(&path, PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// Every part object of `key`, by offset: (path, offset, length).
    async fn listed(&self, key: &BodyKey) -> Result<Vec<(Path, u64, u64)>> {
        let mut listed: Vec<(Path, u64, u64)> = self
            .store
            .list(Some(&self.body_dir(key)))
            .map_ok(|meta| {
                let offset = meta
                    .location
                    .filename()
                    .and_then(|name| name.parse::<u64>().ok());
                (meta.location, offset, meta.size)
            })
            .try_filter_map(
                |(path, offset, size)| async move { Ok(offset.map(|o| (path, o, size))) },
            )
            .try_collect()
            .await?;
        listed.sort_by_key(|(_, offset, _)| *offset);
        Ok(listed)
    }

    /// The parts of `key` that form its stored bytes: (path, offset, length)
    /// of the run that starts at 0 with no gap.
    pub(crate) async fn parts(&self, key: &BodyKey) -> Result<Vec<(Path, u64, u64)>> {
        let listed = self.listed(key).await?;
        let mut run = Vec::new();
        let mut end = 0u64;
        for (path, offset, size) in listed {
            if offset != end {
                // A part after a gap (its predecessor never reached storage)
                // is not part of the body.
                break;
            }
            end += size;
            run.push((path, offset, size));
        }
        Ok(run)
    }

    /// How many bytes of `key` are stored, from 0 without a gap.
    pub async fn stored_len(&self, key: &BodyKey) -> Result<u64> {
        Ok(self
            .parts(key)
            .await?
            .last()
            .map(|(_, offset, size)| offset + size)
            .unwrap_or(0))
    }

    /// The stored bytes of `key`, read part after part.
    pub async fn read(&self, key: &BodyKey) -> Result<BoxStream<'static, Result<Bytes>>> {
        let parts = self.parts(key).await?;
        let store = self.store.clone();
        Ok(futures::stream::iter(parts)
            .then(move |(path, _, _)| {
                let store = store.clone();
                async move { Ok::<_, object_store::Error>(store.get(&path).await?.into_stream()) }
            })
            .try_flatten()
            .map_err(FleetError::from)
            .boxed())
    }

    /// Bytes `range` of the part object at `path`, as they arrive.
    pub(crate) async fn stream_part(
        &self,
        path: &Path,
        range: std::ops::Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes>>> {
        let options = object_store::GetOptions {
            range: Some(range.into()),
            ..Default::default()
        };
        let got = self.store.get_opts(path, options).await?;
        Ok(got.into_stream().map_err(FleetError::from).boxed())
    }

    /// Keeps the first `len` bytes of `key` and deletes the rest: parts
    /// past `len`, and parts after a gap (a later part could otherwise close
    /// the gap and make them look stored). A part that straddles `len` is
    /// rewritten shorter (one `PUT` replaces it whole). Returns the length
    /// kept, less than `len` when fewer bytes are stored.
    pub async fn truncate(&self, key: &BodyKey, len: u64) -> Result<u64> {
        let mut kept = 0u64;
        let mut drop = Vec::new();
        for (path, offset, size) in self.listed(key).await? {
            if offset != kept || offset >= len {
                drop.push(path);
            } else if offset + size > len {
                let head = self.store.get_range(&path, 0..len - offset).await?;
                self.store.put(&path, PutPayload::from(head)).await?;
                kept = len;
            } else {
                kept = offset + size;
            }
        }
        self.delete_paths(drop).await?;
        Ok(kept)
    }

    /// Deletes `key`, every part of it.
    pub async fn delete(&self, key: &BodyKey) -> Result<()> {
        let paths = self.listed(key).await?.into_iter().map(|(p, _, _)| p);
        self.delete_paths(paths.collect()).await
    }

    async fn delete_paths(&self, paths: Vec<Path>) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        self.store
            .delete_stream(futures::stream::iter(paths.into_iter().map(Ok)).boxed())
            .try_collect::<Vec<_>>()
            .await?;
        Ok(())
    }

    /// The names of the bodies of `fetch_id` that have a part stored.
    pub async fn body_names(&self, fetch_id: &str) -> Result<Vec<String>> {
        let dir = self.prefix.child(fetch_id);
        let depth = dir.parts().count();
        let mut names: Vec<String> = self
            .store
            .list(Some(&dir))
            .map_ok(|meta| {
                meta.location
                    .parts()
                    .nth(depth)
                    .map(|name| name.as_ref().to_string())
            })
            .try_filter_map(|name| async move { Ok(name) })
            .try_collect()
            .await?;
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// True when nothing at all is stored under the prefix.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self
            .store
            .list(Some(&self.prefix))
            .next()
            .await
            .transpose()?
            .is_none())
    }

    /// Deletes every body of `fetch_id`.
    pub async fn delete_fetch(&self, fetch_id: &str) -> Result<()> {
        let dir = self.prefix.child(fetch_id);
        let paths = self
            .store
            .list(Some(&dir))
            .map_ok(|meta| meta.location)
            .boxed();
        self.store
            .delete_stream(paths)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(())
    }
}
