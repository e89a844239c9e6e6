//! The ops behind `fetch()`: start a request on reqwest (rustls), hand the
//! response and its body stream to JS, cancel on abort, and check
//! Subresource Integrity. The request itself (redirects, CORS) is
//! `network.rs`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use deno_core::{
    op2, AsyncRefCell, AsyncResult, BufView, CancelFuture, CancelHandle, JsBuffer, OpState, RcRef,
    Resource, ResourceId,
};
use futures::{Stream, StreamExt};
use serde::Serialize;

use crate::realm::RealmContext;
use swrt_bgfetch::{cors, fetch_steps};

use super::network::{describe, run_fetch, ResponseKind};
use super::request::{FetchArgs, FetchError};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FetchResult {
    status: u16,
    status_text: String,
    headers: Vec<(String, String)>,
    url_list: Vec<String>,
    /// `Response.type`: "basic", "cors", "opaque" or "opaqueredirect".
    response_type: &'static str,
    body_rid: Option<ResourceId>,
}

/// Cancels an in-flight fetch when JS closes it (an `AbortSignal` fired).
pub(crate) struct FetchCancelResource(Rc<CancelHandle>);

impl Resource for FetchCancelResource {
    fn name(&self) -> Cow<'_, str> {
        "swrtFetchCancel".into()
    }
    fn close(self: Rc<Self>) {
        self.0.cancel()
    }
}

type BodyStream = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>>>>;

/// A response body being received, read by JS through `readableStreamForRid`.
pub(crate) struct FetchBodyResource {
    stream: AsyncRefCell<(BodyStream, Bytes)>,
    cancel: Rc<CancelHandle>,
}

impl Resource for FetchBodyResource {
    fn name(&self) -> Cow<'_, str> {
        "swrtFetchBody".into()
    }

    fn read(self: Rc<Self>, limit: usize) -> AsyncResult<BufView> {
        Box::pin(async move {
            let cancel = self.cancel.clone();
            let mut guard = RcRef::map(&self, |r| &r.stream).borrow_mut().await;
            let (stream, pending) = &mut *guard;
            if pending.is_empty() {
                match stream.next().or_cancel(cancel).await {
                    Err(_) => return Err(deno_error::JsErrorBox::from_err(FetchError::Aborted)),
                    Ok(None) => return Ok(BufView::empty()),
                    Ok(Some(Err(e))) => {
                        return Err(deno_error::JsErrorBox::from_err(FetchError::Network(
                            e.to_string(),
                        )))
                    }
                    Ok(Some(Ok(chunk))) => *pending = chunk,
                }
            }
            let take = pending.len().min(limit.max(1));
            Ok(BufView::from(pending.split_to(take)))
        })
    }

    fn close(self: Rc<Self>) {
        self.cancel.cancel()
    }
}

#[op2(fast)]
#[smi]
pub(crate) fn op_swrt_fetch_cancel_handle(state: &mut OpState) -> ResourceId {
    state
        .resource_table
        .add(FetchCancelResource(Rc::new(CancelHandle::new())))
}

#[op2]
#[serde]
pub(crate) async fn op_swrt_fetch(
    state: Rc<RefCell<OpState>>,
    #[serde] args: FetchArgs,
    #[buffer] body: JsBuffer,
) -> Result<FetchResult, FetchError> {
    let (client, cancel) = {
        let state = state.borrow();
        // An offline host has no network: every fetch is a network error,
        // as in a browser whose connection is down (a service worker's
        // cache still answers what it handles).
        if !crate::background_sync::host_online(&state) {
            return Err(FetchError::Network(format!(
                "the host is offline, cannot fetch {}",
                args.url
            )));
        }
        let client = state.borrow::<RealmContext>().http.clone();
        let cancel = args
            .cancel_rid
            .and_then(|rid| state.resource_table.get::<FetchCancelResource>(rid).ok())
            .map(|r| r.0.clone())
            .unwrap_or_else(|| Rc::new(CancelHandle::new()));
        (client, cancel)
    };
    let body = if args.has_body {
        Some(Bytes::copy_from_slice(&body))
    } else {
        None
    };
    let integrity = swrt_bgfetch::integrity::Metadata::parse(&args.integrity);
    let integrity_text = args.integrity.clone();
    let include_credentials = args.credentials == "include";
    let result = run_fetch(&client, args, body)
        .or_cancel(cancel.clone())
        .await;
    let (response, url_list, kind) = match result {
        Err(_) => return Err(FetchError::Aborted),
        Ok(r) => r?,
    };
    let status = response.status();
    // Fetch "main fetch" step 14: the filtered response script sees. An
    // opaque response also has an empty URL list (its URL is "").
    let (status_code, status_text, headers, url_list) = match kind {
        ResponseKind::Opaque => (0, String::new(), Vec::new(), Vec::new()),
        ResponseKind::OpaqueRedirect => (0, String::new(), Vec::new(), url_list),
        ResponseKind::Basic | ResponseKind::Cors => (
            status.as_u16(),
            status.canonical_reason().unwrap_or("").to_string(),
            cors::filtered_response_headers(
                response.headers(),
                kind == ResponseKind::Cors,
                include_credentials,
            ),
            url_list,
        ),
    };
    let null_body = fetch_steps::is_null_body_status(status.as_u16())
        || matches!(kind, ResponseKind::Opaque | ResponseKind::OpaqueRedirect);
    if let (Some(_), ResponseKind::Opaque) = (&integrity, kind) {
        // Subresource Integrity: an opaque response is not eligible for
        // integrity validation, so it never matches.
        return Err(FetchError::Integrity(integrity_text));
    }
    // Fetch "main fetch" step 22: with integrity metadata the whole body is
    // read (hashed as it arrives) and checked before the response is
    // returned; a mismatch is a network error.
    let mut stream: BodyStream = Box::pin(response.bytes_stream());
    if let Some(metadata) = &integrity {
        let bytes = read_verified(stream, metadata, &integrity_text)
            .or_cancel(cancel.clone())
            .await
            .map_err(|_| FetchError::Aborted)??;
        stream = Box::pin(futures::stream::iter([Ok(bytes)]));
    }
    let body_rid = if null_body {
        None
    } else {
        // The body gets its own cancel handle: JS closes the request's handle
        // as soon as the headers arrive, and closes the body's on abort.
        Some(state.borrow_mut().resource_table.add(FetchBodyResource {
            stream: AsyncRefCell::new((stream, Bytes::new())),
            cancel: Rc::new(CancelHandle::new()),
        }))
    };
    Ok(FetchResult {
        status: status_code,
        status_text,
        headers,
        url_list,
        response_type: kind.type_name(),
        body_rid,
    })
}

/// Read a whole body, hashing it chunk by chunk, and return it if it matches
/// the integrity metadata.
async fn read_verified(
    stream: impl Stream<Item = Result<Bytes, reqwest::Error>>,
    metadata: &swrt_bgfetch::integrity::Metadata,
    integrity: &str,
) -> Result<Bytes, FetchError> {
    let mut stream = std::pin::pin!(stream);
    let mut hasher = metadata.hasher();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| FetchError::Network(describe(&e)))?;
        hasher.update(&chunk);
        body.extend_from_slice(&chunk);
    }
    if !metadata.matches(&hasher.finish()) {
        return Err(FetchError::Integrity(integrity.to_string()));
    }
    Ok(Bytes::from(body))
}

/// Subresource Integrity for a body already in memory (a response a
/// service worker supplied): does it match `integrity`? Metadata naming no
/// supported algorithm matches anything.
#[op2(fast)]
pub(crate) fn op_swrt_integrity_matches(#[string] integrity: &str, #[buffer] body: &[u8]) -> bool {
    swrt_bgfetch::integrity::Metadata::parse(integrity).is_none_or(|m| m.matches_bytes(body))
}
