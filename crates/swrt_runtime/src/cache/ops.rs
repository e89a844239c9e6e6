//! Ops behind `CacheStorage` and `Cache`: entries live in the store, bodies
//! in its body storage; the matching rules are the store's
//! `request_matches_cached_item`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use deno_core::{op2, AsyncRefCell, JsBuffer, OpState, RcRef, Resource, ResourceId};
use serde::{Deserialize, Serialize};
use swrt_store::{
    request_matches_cached_item, BodyId, BodyWriter, CacheBodyKey, MatchOptions, MatchRequest,
    NewCacheEntry, Store,
};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::background_fetch::ops::{BodyStreamError, ChunkStreamResource, QueryOptions};
use crate::realm::RealmContext;

/// Errors of the Cache API, with the class the spec names.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub(crate) enum CacheError {
    #[class(type)]
    #[error("{0}")]
    Type(String),
    #[class("DOMExceptionQuotaExceededError")]
    #[error("{0}")]
    QuotaExceeded(String),
    #[class("DOMExceptionInvalidStateError")]
    #[error("{0}")]
    InvalidState(String),
    #[class(generic)]
    #[error("{0}")]
    Internal(String),
}

/// What realms need for the Cache API: the host's store and runtime, and
/// the per-origin quota the Cache API shares with Background Fetch.
#[derive(Clone)]
pub(crate) struct CacheStorageContext {
    pub store: Arc<Store>,
    /// The host's multi-thread runtime: body reads outlive a realm's turn.
    pub runtime: Handle,
    pub quota_per_origin: u64,
}

impl CacheStorageContext {
    /// Runs a blocking store call on the host's blocking pool.
    async fn with_store<T, F>(&self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> swrt_store::Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        self.runtime
            .spawn_blocking(move || f(&store))
            .await
            .map_err(|e| format!("store task failed: {e}"))?
            .map_err(|e| e.to_string())
    }
}

fn context(state: &OpState) -> Result<(CacheStorageContext, String), CacheError> {
    let ctx = state.try_borrow::<CacheStorageContext>().cloned().ok_or_else(|| {
        CacheError::Type(
            "The Cache API needs durable storage: start the host with a data dir (swrt run --data-dir DIR)".into(),
        )
    })?;
    let origin = state
        .borrow::<RealmContext>()
        .url
        .origin()
        .ascii_serialization();
    Ok((ctx, origin))
}

/// Runs a store call on the realm origin's caches.
async fn caches_of_origin<T, F>(state: &Rc<RefCell<OpState>>, f: F) -> Result<T, CacheError>
where
    T: Send + 'static,
    F: FnOnce(&swrt_store::Store, &str) -> swrt_store::Result<T> + Send + 'static,
{
    let (ctx, origin) = context(&state.borrow())?;
    ctx.with_store(move |s| f(s, &origin))
        .await
        .map_err(CacheError::Internal)
}

#[op2]
#[number]
pub(crate) async fn op_swrt_cache_open(
    state: Rc<RefCell<OpState>>,
    #[string] name: String,
) -> Result<i64, CacheError> {
    caches_of_origin(&state, move |s, origin| s.cache_open(origin, &name)).await
}

#[op2]
pub(crate) async fn op_swrt_cache_has(
    state: Rc<RefCell<OpState>>,
    #[string] name: String,
) -> Result<bool, CacheError> {
    caches_of_origin(&state, move |s, origin| s.cache_has(origin, &name)).await
}

#[op2]
pub(crate) async fn op_swrt_cache_delete(
    state: Rc<RefCell<OpState>>,
    #[string] name: String,
) -> Result<bool, CacheError> {
    caches_of_origin(&state, move |s, origin| s.cache_delete(origin, &name)).await
}

#[op2]
#[serde]
pub(crate) async fn op_swrt_cache_keys(
    state: Rc<RefCell<OpState>>,
) -> Result<Vec<String>, CacheError> {
    caches_of_origin(&state, |s, origin| s.cache_keys(origin)).await
}

/// A request as the Cache API compares it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CacheRequest {
    url: String,
    method: String,
    headers: Vec<(String, String)>,
}

/// A stored entry, without its body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CacheEntryData {
    entry_id: f64,
    request: CacheRequest,
    status: u16,
    status_text: String,
    headers: Vec<(String, String)>,
    response_type: String,
    url_list: Vec<String>,
    body_size: f64,
}

/// Cache "request matches cached item" for a query and a stored entry.
fn matches(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    entry: &NewCacheEntry,
    options: MatchOptions,
) -> bool {
    request_matches_cached_item(
        MatchRequest {
            method,
            url,
            headers,
        },
        MatchRequest {
            method: &entry.method,
            url: &entry.url,
            headers: &entry.request_headers,
        },
        Some(&entry.response_headers),
        options,
    )
}

fn strip_fragment(url: &str) -> String {
    url.split('#').next().unwrap_or(url).to_string()
}

/// Cache "query cache": the entries matching `query` (every entry when None),
/// in insertion order.
#[op2]
#[serde]
pub(crate) async fn op_swrt_cache_match_all(
    state: Rc<RefCell<OpState>>,
    #[number] cache_id: i64,
    #[serde] query: Option<CacheRequest>,
    #[serde] options: QueryOptions,
) -> Result<Vec<CacheEntryData>, CacheError> {
    let (ctx, _) = context(&state.borrow())?;
    let options = MatchOptions::from(options);
    let entries = ctx
        .with_store(move |s| s.cache_candidates(cache_id, None))
        .await
        .map_err(CacheError::Internal)?;
    Ok(entries
        .into_iter()
        .filter(|candidate| match &query {
            None => true,
            Some(q) => {
                let e = &candidate.entry;
                matches(&q.method, &q.url, &q.headers, e, options)
            }
        })
        .map(|c| CacheEntryData {
            entry_id: c.entry_id as f64,
            request: CacheRequest {
                url: c.entry.url,
                method: c.entry.method,
                headers: c.entry.request_headers,
            },
            status: c.entry.status,
            status_text: c.entry.status_text,
            headers: c.entry.response_headers,
            response_type: c.entry.response_type,
            url_list: c.entry.url_list,
            body_size: c.entry.body_size as f64,
        })
        .collect())
}

/// Opens a stored body as a stream for a `Response`.
#[op2]
#[smi]
pub(crate) async fn op_swrt_cache_body(
    state: Rc<RefCell<OpState>>,
    #[number] cache_id: i64,
    #[number] entry_id: i64,
) -> Result<Option<ResourceId>, CacheError> {
    let (ctx, _) = context(&state.borrow())?;
    let entries = ctx
        .with_store(move |s| s.cache_candidates(cache_id, None))
        .await
        .map_err(CacheError::Internal)?;
    let Some(key) = entries
        .into_iter()
        .find(|e| e.entry_id == entry_id)
        .and_then(|e| e.entry.body)
    else {
        return Ok(None);
    };
    let (tx, rx) = mpsc::channel(4);
    let store = ctx.store.clone();
    ctx.runtime.spawn(async move {
        // The store's readers block: open and read on the blocking pool,
        // one chunk at a time.
        let name = key.as_str().to_string();
        let opened =
            tokio::task::spawn_blocking(move || store.bodies().read(BodyId::Cache(&key), 0)).await;
        let mut reader = match opened {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let _ = tx
                    .send(Err(BodyStreamError::Missing { name, source: e }))
                    .await;
                return;
            }
            Err(e) => {
                let _ = tx
                    .send(Err(BodyStreamError::Read(std::io::Error::other(e))))
                    .await;
                return;
            }
        };
        loop {
            let read = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; 64 * 1024];
                let n = std::io::Read::read(&mut reader, &mut buf);
                (reader, buf, n)
            })
            .await;
            let (r, mut buf, n) = match read {
                Ok(v) => v,
                Err(e) => {
                    let _ = tx
                        .send(Err(BodyStreamError::Read(std::io::Error::other(e))))
                        .await;
                    return;
                }
            };
            reader = r;
            match n {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.send(Ok(Bytes::from(buf))).await.is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(BodyStreamError::Read(e))).await;
                    return;
                }
            }
        }
    });
    Ok(Some(
        state
            .borrow_mut()
            .resource_table
            .add(ChunkStreamResource::new(rx)),
    ))
}

/// A body being written for `cache.put()`, chunk by chunk so memory does not
/// grow with the body.
pub(crate) struct CacheBodyWriter {
    writer: AsyncRefCell<Option<(CacheBodyKey, BodyWriter)>>,
}

impl Resource for CacheBodyWriter {
    fn name(&self) -> Cow<'_, str> {
        "swrtCacheBodyWriter".into()
    }
}

#[op2]
#[smi]
pub(crate) async fn op_swrt_cache_body_begin(
    state: Rc<RefCell<OpState>>,
) -> Result<ResourceId, CacheError> {
    let (ctx, _) = context(&state.borrow())?;
    let store = ctx.store.clone();
    let writer = ctx
        .runtime
        .spawn_blocking(move || store.new_cache_body())
        .await
        .map_err(|e| CacheError::Internal(e.to_string()))?
        .map_err(|e| CacheError::Internal(e.to_string()))?;
    Ok(state.borrow_mut().resource_table.add(CacheBodyWriter {
        writer: AsyncRefCell::new(Some(writer)),
    }))
}

#[op2]
pub(crate) async fn op_swrt_cache_body_write(
    state: Rc<RefCell<OpState>>,
    #[smi] rid: ResourceId,
    #[buffer] chunk: JsBuffer,
) -> Result<(), CacheError> {
    let (ctx, _) = context(&state.borrow())?;
    let resource = state
        .borrow()
        .resource_table
        .get::<CacheBodyWriter>(rid)
        .map_err(|e| CacheError::Internal(e.to_string()))?;
    let mut slot = RcRef::map(&resource, |r| &r.writer).borrow_mut().await;
    let (key, mut writer) = slot
        .take()
        .ok_or_else(|| CacheError::InvalidState("the body was already committed".into()))?;
    let chunk = chunk.to_vec();
    let (writer, result) = ctx
        .runtime
        .spawn_blocking(move || {
            let r = writer.write_chunks(&[&chunk]);
            ((key, writer), r)
        })
        .await
        .map_err(|e| CacheError::Internal(e.to_string()))?;
    *slot = Some(writer);
    result.map_err(|e| {
        // ENOSPC / EDQUOT: the disk or the user's quota is full.
        if matches!(e.raw_os_error(), Some(28) | Some(122)) {
            CacheError::QuotaExceeded("The storage is full.".into())
        } else {
            CacheError::Internal(e.to_string())
        }
    })
}

/// The entry `cache.put()` stores.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutEntry {
    request: CacheRequest,
    status: u16,
    status_text: String,
    headers: Vec<(String, String)>,
    response_type: String,
    url_list: Vec<String>,
}

/// A put refused because the origin's storage would exceed its quota; JS
/// throws it as a `QuotaExceededError` with these `quota` and `requested`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QuotaRejection {
    message: String,
    quota: u64,
    requested: u64,
}

/// Cache "batch cache operations" for one put: syncs the body, then in one
/// transaction removes the entries the request matches and inserts the new
/// one. Resolves with a [`QuotaRejection`] instead when the origin's usage
/// (Cache API and Background Fetch together) would pass its quota.
#[op2]
#[serde]
pub(crate) async fn op_swrt_cache_put(
    state: Rc<RefCell<OpState>>,
    #[number] cache_id: i64,
    #[smi] body_rid: Option<ResourceId>,
    #[serde] entry: PutEntry,
) -> Result<Option<QuotaRejection>, CacheError> {
    let (ctx, origin) = context(&state.borrow())?;
    let quota = ctx.quota_per_origin;
    let writer = match body_rid {
        Some(rid) => {
            let resource = state
                .borrow_mut()
                .resource_table
                .take::<CacheBodyWriter>(rid)
                .map_err(|e| CacheError::Internal(e.to_string()))?;
            let writer = RcRef::map(&resource, |r| &r.writer)
                .borrow_mut()
                .await
                .take();
            writer
        }
        None => None,
    };
    let url = strip_fragment(&entry.request.url);
    ctx.with_store(move |s| {
        let (body, body_size) = match writer {
            Some((key, mut w)) => {
                w.sync()?;
                (Some(key), w.len())
            }
            None => (None, 0),
        };
        let existing = s.cache_candidates(cache_id, None)?;
        let replaced: Vec<&swrt_store::CacheEntry> = existing
            .iter()
            .filter(|c| {
                matches(
                    &entry.request.method,
                    &url,
                    &entry.request.headers,
                    &c.entry,
                    MatchOptions::default(),
                )
            })
            .collect();
        let freed: u64 = replaced.iter().map(|c| c.entry.body_size).sum();
        let usage = s.origin_usage(&origin)?.saturating_sub(freed);
        if usage.saturating_add(body_size) > quota {
            if let Some(key) = &body {
                if let Err(e) = s.bodies().delete(BodyId::Cache(key)) {
                    tracing::warn!(body = key.as_str(), error = %e, "cannot delete a refused cache body");
                }
            }
            return Ok(Some(QuotaRejection {
                message: format!(
                    "storing {body_size} bytes would pass the origin's quota of {quota} bytes ({usage} in use)"
                ),
                quota,
                requested: body_size,
            }));
        }
        let replace: Vec<i64> = replaced.iter().map(|c| c.entry_id).collect();
        let new = NewCacheEntry {
            url: url.clone(),
            method: entry.request.method.clone(),
            request_headers: entry.request.headers.clone(),
            status: entry.status,
            status_text: entry.status_text.clone(),
            response_headers: entry.headers.clone(),
            response_type: entry.response_type.clone(),
            url_list: entry.url_list.clone(),
            body,
            body_size,
        };
        s.cache_put(cache_id, &new, &replace).map(|_| None)
    })
    .await
    .map_err(CacheError::Internal)
}

/// `cache.delete(request, options)`: true when something was removed.
#[op2]
pub(crate) async fn op_swrt_cache_delete_entries(
    state: Rc<RefCell<OpState>>,
    #[number] cache_id: i64,
    #[serde] query: CacheRequest,
    #[serde] options: QueryOptions,
) -> Result<bool, CacheError> {
    let (ctx, _) = context(&state.borrow())?;
    let options = MatchOptions::from(options);
    ctx.with_store(move |s| {
        let ids: Vec<i64> = s
            .cache_candidates(cache_id, None)?
            .into_iter()
            .filter(|c| matches(&query.method, &query.url, &query.headers, &c.entry, options))
            .map(|c| c.entry_id)
            .collect();
        if ids.is_empty() {
            return Ok(false);
        }
        s.cache_delete_entries(cache_id, &ids).map(|n| n > 0)
    })
    .await
    .map_err(CacheError::Internal)
}
