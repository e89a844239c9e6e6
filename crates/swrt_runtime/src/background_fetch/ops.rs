//! Ops behind `BackgroundFetchManager`, `BackgroundFetchRegistration` and
//! `BackgroundFetchRecord`: each calls the engine on the host's runtime.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use deno_core::{
    op2, AsyncRefCell, AsyncResult, BufView, JsBuffer, OpState, RcRef, Resource, ResourceId,
    ToJsBuffer,
};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use swrt_bgfetch::{
    EngineError, FetchOptions, FetchRejection, FetchRequest, PolicyContext, RecordError,
    RequestSpec,
};
use swrt_store::{Icon, MatchOptions};
use tokio::sync::{mpsc, oneshot};

use crate::background_fetch::{BackgroundFetchContext, ContextError, RegistrationData};
use crate::realm::{HostRequest, RealmContext, WorkerContext};

/// Errors with the class the spec names.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub(crate) enum BgFetchError {
    #[class(type)]
    #[error("{0}")]
    Type(String),
    #[class("DOMExceptionNotAllowedError")]
    #[error("{0}")]
    NotAllowed(String),
    #[class("DOMExceptionInvalidStateError")]
    #[error("{0}")]
    InvalidState(String),
    #[class("DOMExceptionAbortError")]
    #[error("{0}")]
    Abort(String),
    #[class(generic)]
    #[error("{0}")]
    Internal(String),
}

impl From<ContextError> for BgFetchError {
    fn from(e: ContextError) -> Self {
        BgFetchError::Internal(e.to_string())
    }
}

impl From<EngineError> for BgFetchError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::RecordsUnavailable => BgFetchError::InvalidState(
                "The records associated with this background fetch are no longer available.".into(),
            ),
            EngineError::TypeError(m) => BgFetchError::Type(m),
            other => BgFetchError::Internal(other.to_string()),
        }
    }
}

pub(super) fn context(state: &OpState) -> Result<BackgroundFetchContext, BgFetchError> {
    state.try_borrow::<BackgroundFetchContext>().cloned().ok_or_else(|| {
        BgFetchError::Type(
            "Background Fetch needs durable storage: start the host with a data dir (swrt run --data-dir DIR)".into(),
        )
    })
}

/// A request as it crosses between JS and Rust: the body is a `Uint8Array`
/// (a byte buffer, not an array of numbers). JS hands over
/// `JsRequest<JsBuffer>` and receives `JsRequest<ToJsBuffer>`
/// (`record.request`).
#[derive(Deserialize, Serialize)]
pub(crate) struct JsRequest<B> {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    mode: String,
    credentials: String,
    body: Option<B>,
    /// `Request.integrity` (an empty string when the request has none).
    #[serde(default)]
    integrity: String,
}

impl From<JsRequest<JsBuffer>> for RequestSpec {
    fn from(r: JsRequest<JsBuffer>) -> Self {
        RequestSpec {
            method: r.method,
            url: r.url,
            headers: r.headers,
            mode: r.mode,
            credentials: r.credentials,
            body: r.body.map(|b| b.to_vec()),
            integrity: r.integrity,
        }
    }
}

impl From<RequestSpec> for JsRequest<ToJsBuffer> {
    fn from(r: RequestSpec) -> Self {
        JsRequest {
            method: r.method,
            url: r.url,
            headers: r.headers,
            mode: r.mode,
            credentials: r.credentials,
            body: r.body.map(ToJsBuffer::from),
            integrity: r.integrity,
        }
    }
}

/// What `fetch()` settles with. A quota rejection is a value rather than an
/// op error: JS builds the `QuotaExceededError` with its `quota` and
/// `requested`, which an op error's class and message cannot carry.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum FetchCallResult {
    Registered(RegistrationData),
    QuotaExceeded {
        message: String,
        quota: Option<u64>,
        requested: Option<u64>,
    },
}

/// `BackgroundFetchManager.fetch(id, requests, options)`.
#[op2]
#[serde]
pub(crate) async fn op_swrt_bgfetch_fetch(
    state: Rc<RefCell<OpState>>,
    #[string] scope: String,
    #[string] id: String,
    #[serde] requests: Vec<JsRequest<JsBuffer>>,
    #[serde] options: FetchOptions,
    #[serde] csp_connect_src: Vec<Vec<String>>,
) -> Result<FetchCallResult, BgFetchError> {
    let (ctx, origin, secure, in_worker, host_requests) = {
        let state = state.borrow();
        let realm = state.borrow::<RealmContext>();
        (
            context(&state)?,
            realm.url.origin().ascii_serialization(),
            realm.secure_context,
            state.try_borrow::<WorkerContext>().is_some(),
            realm.host_requests.clone(),
        )
    };
    if in_worker && !ctx.allow_worker_fetch {
        return Err(BgFetchError::NotAllowed(
            "Failed to execute 'fetch' on 'BackgroundFetchManager': backgroundFetch.fetch() is not allowed in service worker environments.".into(),
        ));
    }
    let scope_url =
        url::Url::parse(&scope).map_err(|_| BgFetchError::Type(format!("bad scope {scope}")))?;
    let (tx, rx) = oneshot::channel();
    let _ = host_requests.send(HostRequest::HasActiveWorker {
        scope: scope_url,
        reply: tx,
    });
    let has_active_worker = rx.await.unwrap_or(false);
    let request = FetchRequest {
        scope,
        id,
        requests: requests.into_iter().map(RequestSpec::from).collect(),
        options,
        origin,
        policy: PolicyContext {
            csp_connect_src,
            is_secure_context: secure,
        },
        has_active_worker,
    };
    let service = ctx.service.clone();
    let result = ctx
        .on_host(async move { service.fetch(request).await })
        .await
        .map_err(BgFetchError::from)?;
    match result {
        Ok(snapshot) => Ok(FetchCallResult::Registered(RegistrationData::from(
            &snapshot,
        ))),
        Err(FetchRejection::TypeError(m)) => Err(BgFetchError::Type(m)),
        Err(FetchRejection::QuotaExceeded(q)) => Ok(FetchCallResult::QuotaExceeded {
            message: q.message,
            quota: q.quota,
            requested: q.requested,
        }),
        Err(FetchRejection::NotAllowed(m)) => Err(BgFetchError::NotAllowed(m)),
        Err(FetchRejection::Internal(m)) => Err(BgFetchError::Internal(m)),
    }
}

/// `BackgroundFetchManager.get(id)`: only active fetches.
#[op2]
#[serde]
pub(crate) async fn op_swrt_bgfetch_get(
    state: Rc<RefCell<OpState>>,
    #[string] scope: String,
    #[string] id: String,
) -> Result<Option<RegistrationData>, BgFetchError> {
    let ctx = context(&state.borrow())?;
    let service = ctx.service.clone();
    let found = ctx
        .on_host(async move { service.get(&scope, &id).await })
        .await
        .map_err(BgFetchError::from)??;
    Ok(found.as_ref().map(RegistrationData::from))
}

/// `BackgroundFetchManager.getIds()`.
#[op2]
#[serde]
pub(crate) async fn op_swrt_bgfetch_ids(
    state: Rc<RefCell<OpState>>,
    #[string] scope: String,
) -> Result<Vec<String>, BgFetchError> {
    let ctx = context(&state.borrow())?;
    let service = ctx.service.clone();
    Ok(ctx
        .on_host(async move { service.ids(&scope).await })
        .await
        .map_err(BgFetchError::from)??)
}

/// `BackgroundFetchRegistration.abort()`.
#[op2]
pub(crate) async fn op_swrt_bgfetch_abort(
    state: Rc<RefCell<OpState>>,
    #[string] unique_id: String,
) -> Result<bool, BgFetchError> {
    let ctx = context(&state.borrow())?;
    let service = ctx.service.clone();
    Ok(ctx
        .on_host(async move { service.abort_unique(&unique_id).await })
        .await
        .map_err(BgFetchError::from)??)
}

/// `CacheQueryOptions` as JS passes it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct QueryOptions {
    pub ignore_search: bool,
    pub ignore_method: bool,
    pub ignore_vary: bool,
}

impl From<QueryOptions> for MatchOptions {
    fn from(o: QueryOptions) -> Self {
        MatchOptions {
            ignore_search: o.ignore_search,
            ignore_method: o.ignore_method,
            ignore_vary: o.ignore_vary,
        }
    }
}

/// A record for `match()`/`matchAll()`: its request without the body, which
/// `op_swrt_bgfetch_request_body` reads when the record's `request` is used.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecordData {
    index: u32,
    request: JsRequest<ToJsBuffer>,
    has_request_body: bool,
}

/// The fetches whose records this realm was handed: the realm's pins keep
/// their bodies readable until the realm ends (records build their request
/// and response on first use, which may come after the event ended).
#[derive(Default)]
struct RealmRecordPins(std::collections::HashMap<String, swrt_bgfetch::RecordsPin>);

#[op2]
#[serde]
pub(crate) async fn op_swrt_bgfetch_match_all(
    state: Rc<RefCell<OpState>>,
    #[string] unique_id: String,
    #[serde] query: Option<JsRequest<JsBuffer>>,
    #[serde] options: QueryOptions,
) -> Result<Vec<RecordData>, BgFetchError> {
    let ctx = context(&state.borrow())?;
    let service = ctx.service.clone();
    let options = MatchOptions::from(options);
    let query = query.map(RequestSpec::from);
    // Pinned before the records are read: if the event ends in between,
    // the read fails, or the pin keeps what was read.
    let pin = ctx.service.pin_records(&unique_id);
    let uid = unique_id.clone();
    let records = ctx
        .on_host(async move { service.match_all(&uid, query.as_ref(), options).await })
        .await
        .map_err(BgFetchError::from)??;
    {
        let mut state = state.borrow_mut();
        if !state.has::<RealmRecordPins>() {
            state.put(RealmRecordPins::default());
        }
        state
            .borrow_mut::<RealmRecordPins>()
            .0
            .entry(unique_id)
            .or_insert(pin);
    }
    Ok(records
        .into_iter()
        .map(|r| RecordData {
            index: r.index,
            request: r.request.into(),
            has_request_body: r.has_request_body,
        })
        .collect())
}

/// The body of a record's request, read when `record.request` is first used.
#[op2]
#[serde]
pub(crate) async fn op_swrt_bgfetch_request_body(
    state: Rc<RefCell<OpState>>,
    #[string] unique_id: String,
    #[smi] index: u32,
) -> Result<Option<ToJsBuffer>, BgFetchError> {
    let ctx = context(&state.borrow())?;
    let service = ctx.service.clone();
    let body = ctx
        .on_host(async move { service.request_body(&unique_id, index).await })
        .await
        .map_err(BgFetchError::from)?
        .map_err(|e| BgFetchError::Type(e.to_string()))?;
    Ok(body.map(ToJsBuffer::from))
}

/// The response of a record, as `responseReady` resolves it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecordResponseData {
    status: u16,
    status_text: String,
    /// The header list as `name:value` lines: one string rather than two
    /// per header, for handlers that hold many responses. Names hold no
    /// `:` and values no line break (the engine stored valid headers).
    header_lines: String,
    response_type: String,
    url_list: Vec<String>,
    body_rid: Option<ResourceId>,
    /// A small finished body, read with the head (then `body_rid` is null).
    body_bytes: Option<ToJsBuffer>,
}

/// Why a body stream read by JS broke off (JS sees a TypeError).
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyStreamError {
    /// Reading a Background Fetch record's body failed.
    #[error(transparent)]
    Record(#[from] swrt_bgfetch::RecordError),
    /// A cached response's body is gone.
    #[error("cached body {name} is missing: {source}")]
    Missing {
        /// The body's name in the store.
        name: String,
        /// Why it could not be opened.
        source: std::io::Error,
    },
    /// Reading a cached response's body failed.
    #[error(transparent)]
    Read(std::io::Error),
}

/// A body read by JS through `readableStreamForRid`, fed by a pump task on
/// the host runtime (the engine's stream also follows a live download).
pub(crate) struct ChunkStreamResource {
    rx: AsyncRefCell<(mpsc::Receiver<Result<Bytes, BodyStreamError>>, Bytes)>,
    /// Starts the pump on the first read, if it was not started already.
    start: RefCell<Option<Box<dyn FnOnce()>>>,
}

impl ChunkStreamResource {
    /// A stream whose pump already runs.
    pub(crate) fn new(rx: mpsc::Receiver<Result<Bytes, BodyStreamError>>) -> Self {
        ChunkStreamResource {
            rx: AsyncRefCell::new((rx, Bytes::new())),
            start: RefCell::new(None),
        }
    }

    /// A stream whose pump `start` starts when JS first reads it.
    pub(crate) fn starting(
        rx: mpsc::Receiver<Result<Bytes, BodyStreamError>>,
        start: Box<dyn FnOnce()>,
    ) -> Self {
        ChunkStreamResource {
            rx: AsyncRefCell::new((rx, Bytes::new())),
            start: RefCell::new(Some(start)),
        }
    }
}

impl Resource for ChunkStreamResource {
    fn name(&self) -> Cow<'_, str> {
        "swrtBodyStream".into()
    }

    fn read(self: Rc<Self>, limit: usize) -> AsyncResult<BufView> {
        if let Some(start) = self.start.borrow_mut().take() {
            start();
        }
        Box::pin(async move {
            let mut guard = RcRef::map(&self, |r| &r.rx).borrow_mut().await;
            let (rx, pending) = &mut *guard;
            if pending.is_empty() {
                match rx.recv().await {
                    None => return Ok(BufView::empty()),
                    Some(Err(e)) => return Err(deno_error::JsErrorBox::type_error(e.to_string())),
                    Some(Ok(chunk)) => *pending = chunk,
                }
            }
            let take = pending.len().min(limit.max(1));
            Ok(BufView::from(pending.split_to(take)))
        })
    }
}

#[op2]
#[serde]
pub(crate) async fn op_swrt_bgfetch_response(
    state: Rc<RefCell<OpState>>,
    #[string] unique_id: String,
    #[smi] index: u32,
) -> Result<RecordResponseData, BgFetchError> {
    let ctx = context(&state.borrow())?;
    let service = ctx.service.clone();
    let (meta, body) = ctx
        .on_host(async move {
            let response = service.response(&unique_id, index).await?;
            // A small finished body comes along with the head: a Response
            // with a static body is a fraction of the heap of one with a
            // stream, and needs no further op.
            let body = match response.length {
                Some(length) if length <= INLINE_BODY_MAX => {
                    let mut bytes = Vec::with_capacity(length as usize);
                    let mut stream = response.body;
                    while let Some(chunk) = stream.next().await {
                        bytes.extend_from_slice(&chunk?);
                    }
                    RecordBody::Inline(bytes)
                }
                _ => RecordBody::Stream(response.body),
            };
            Ok::<_, RecordError>((response.meta, body))
        })
        .await
        .map_err(BgFetchError::from)?
        .map_err(|e| match e {
            RecordError::TypeError(m) => BgFetchError::Type(format!("Failed to fetch: {m}")),
            RecordError::Aborted(m) => BgFetchError::Abort(format!(
                "The background fetch was aborted before this record finished: {m}"
            )),
            other => BgFetchError::Type(other.to_string()),
        })?;
    let null_body = matches!(meta.status, 101 | 103 | 204 | 205 | 304);
    let (stream, body_bytes) = match body {
        _ if null_body => (None, None),
        RecordBody::Inline(bytes) => (None, Some(ToJsBuffer::from(bytes))),
        RecordBody::Stream(stream) => (Some(stream), None),
    };
    let body_rid = stream.map(|stream| {
        let (tx, rx) = mpsc::channel(4);
        let pump = async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(item) = stream.next().await {
                if tx.send(item.map_err(BodyStreamError::from)).await.is_err() {
                    return;
                }
            }
        };
        let runtime = ctx.runtime.clone();
        // The file is opened when the body is first read: a handler that
        // takes many responses holds no file or buffer for unread ones.
        let start = Box::new(move || drop(runtime.spawn(pump)));
        state
            .borrow_mut()
            .resource_table
            .add(ChunkStreamResource::starting(rx, start))
    });
    Ok(RecordResponseData {
        status: meta.status,
        status_text: meta.status_text,
        header_lines: header_lines(&meta.headers),
        response_type: meta.response_type.as_str().into(),
        url_list: meta.url_list,
        body_rid,
        body_bytes,
    })
}

fn header_lines(headers: &[(String, String)]) -> String {
    let mut lines = String::new();
    for (name, value) in headers {
        if !lines.is_empty() {
            lines.push('\n');
        }
        lines.push_str(name);
        lines.push(':');
        lines.push_str(value);
    }
    lines
}

/// Bodies up to this size are read with the response head.
const INLINE_BODY_MAX: u64 = 4096;

enum RecordBody {
    Inline(Vec<u8>),
    Stream(futures::stream::BoxStream<'static, Result<Bytes, RecordError>>),
}

/// `BackgroundFetchUpdateUIEvent.updateUI()`; the JS side enforces "once per
/// event, while active".
#[op2]
pub(crate) async fn op_swrt_bgfetch_update_ui(
    state: Rc<RefCell<OpState>>,
    #[string] unique_id: String,
    #[string] title: Option<String>,
    #[serde] icons: Option<Vec<Icon>>,
) -> Result<bool, BgFetchError> {
    let ctx = context(&state.borrow())?;
    let service = ctx.service.clone();
    Ok(ctx
        .on_host(async move { service.update_ui(&unique_id, title, icons).await })
        .await
        .map_err(BgFetchError::from)??)
}

/// `test_driver.set_permission({name: "background-fetch"}, state)` and host
/// policy: a denied origin gets NotAllowedError from `fetch()`.
#[op2(fast)]
pub(crate) fn op_swrt_bgfetch_set_permission(
    state: &mut OpState,
    granted: bool,
) -> Result<(), BgFetchError> {
    let ctx = context(state)?;
    let origin = state
        .borrow::<RealmContext>()
        .url
        .origin()
        .ascii_serialization();
    ctx.service.set_permission(&origin, granted);
    Ok(())
}
