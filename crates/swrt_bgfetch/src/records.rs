//! Reading records: `match()`/`matchAll()` data, `responseReady`, and body
//! streams that also work while the download is still running.

use crate::engine::{Inner, LiveRecord};
use crate::error::{EngineError, RecordError};
use crate::service::BackgroundFetchService;
use crate::types::{RecordInfo, RequestSpec};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use std::sync::Arc;
use swrt_store::{
    BodyId, BodyLocation, BodyReader, FetchState, MatchOptions, MatchRequest, RecordOutcome,
    RecordRow, ResponseMeta,
};
use tokio::sync::watch;

const READ_CHUNK: usize = 64 << 10;

/// A record's response: what `responseReady` resolves with.
pub struct RecordResponse {
    /// The response head.
    pub meta: ResponseMeta,
    /// The body (see `body_stream`).
    pub body: BoxStream<'static, Result<Bytes, RecordError>>,
    /// The body's length, known once the record finished.
    pub length: Option<u64>,
}

impl BackgroundFetchService {
    /// Every record of a fetch, request bodies included. Fails with
    /// `RecordsUnavailable` once the terminal event has ended.
    pub async fn records(&self, unique_id: &str) -> Result<Vec<RecordInfo>, EngineError> {
        let mut records = Vec::new();
        for mut record in self.record_heads(unique_id).await? {
            if record.has_request_body {
                let body = read_request_body(self.inner(), unique_id, record.index).await?;
                record.request.body = Some(body);
            }
            records.push(record);
        }
        Ok(records)
    }

    /// A realm's hold on a fetch's records: while it lives, records it was
    /// handed keep their request and response bodies readable after the
    /// terminal event ends. Take it before `match_all`.
    pub fn pin_records(&self, unique_id: &str) -> crate::RecordsPin {
        self.inner().pins.pin(unique_id)
    }

    /// A record's request body, read when a `BackgroundFetchRecord`'s
    /// `request` is first used (also after the event ended, while pinned).
    pub async fn request_body(
        &self,
        unique_id: &str,
        index: u32,
    ) -> Result<Option<Vec<u8>>, RecordError> {
        let rec = load_record(self.inner(), unique_id, index).await?;
        if !rec.has_request_body {
            return Ok(None);
        }
        Ok(Some(
            read_request_body(self.inner(), unique_id, index).await?,
        ))
    }

    /// Every record of a fetch without its request body. Fails with
    /// `RecordsUnavailable` once the terminal event has ended
    /// (`match`/`matchAll` -> InvalidStateError).
    async fn record_heads(&self, unique_id: &str) -> Result<Vec<RecordInfo>, EngineError> {
        let inner = self.inner();
        let u = unique_id.to_string();
        let (row, recs) = inner
            .data
            .run(move |s| Ok((s.get_fetch(&u)?, s.records(&u)?)))
            .await?;
        let row = row.ok_or_else(|| EngineError::NotFound(unique_id.to_string()))?;
        if row.state == FetchState::Done {
            return Err(EngineError::RecordsUnavailable);
        }
        let ctx = inner.ctx(unique_id);
        let mut out = Vec::with_capacity(recs.len());
        for r in recs {
            let mut info = to_info(&r);
            if let Some(l) = ctx.as_ref().and_then(|c| c.live_get(r.index)) {
                info.response = l.meta.or(info.response);
                if let Some(o) = l.outcome {
                    info.outcome = o;
                }
                info.error = l.error.or(info.error);
            }
            out.push(info);
        }
        Ok(out)
    }

    /// `matchAll(request, options)` over a fetch's records, using the Cache
    /// API's "request matches cached item" rules. `None` = all records.
    pub async fn match_all(
        &self,
        unique_id: &str,
        query: Option<&RequestSpec>,
        opts: MatchOptions,
    ) -> Result<Vec<RecordInfo>, EngineError> {
        let recs = self.record_heads(unique_id).await?.into_iter();
        let Some(q) = query else {
            return Ok(recs.collect());
        };
        let qm = MatchRequest {
            method: &q.method,
            url: &q.url,
            headers: &q.headers,
        };
        Ok(recs
            .filter(|r| {
                let cm = MatchRequest {
                    method: &r.request.method,
                    url: &r.request.url,
                    headers: &r.request.headers,
                };
                let resp = r.response.as_ref().map(|m| m.headers.as_slice());
                swrt_store::request_matches_cached_item(qm, cm, resp, opts)
            })
            .collect())
    }

    /// `record.responseReady`: resolves with the response head once it has
    /// arrived (a `bad-status` response resolves too); rejects with TypeError
    /// for a failed record and AbortError for one the fetch ended before it
    /// finished.
    pub async fn response_ready(
        &self,
        unique_id: &str,
        index: u32,
    ) -> Result<ResponseMeta, RecordError> {
        self.response(unique_id, index).await.map(|r| r.meta)
    }

    /// `responseReady` and the body it carries: the response head (as
    /// `response_ready`), a stream of the body (as `body_stream`) and, for a
    /// record that finished, the body's length. A record that finished is
    /// read from the store once for all three.
    pub async fn response(
        &self,
        unique_id: &str,
        index: u32,
    ) -> Result<RecordResponse, RecordError> {
        let inner = self.inner().clone();
        if live_rx(&inner, unique_id, index).is_none() {
            let rec = load_record(&inner, unique_id, index).await?;
            if rec.outcome != RecordOutcome::Pending {
                return match (rec.outcome, rec.response.clone()) {
                    (RecordOutcome::Complete | RecordOutcome::BadStatus, Some(meta)) => {
                        let length = Some(rec.bytes_stored);
                        let mut body = BodyState::new(&inner, unique_id, index);
                        body.generation = Some(0);
                        body.settled = Some(rec);
                        Ok(RecordResponse {
                            meta,
                            body: body.into_stream().boxed(),
                            length,
                        })
                    }
                    (o, _) => Err(outcome_error(o, rec.error_message)),
                };
            }
        }
        let meta = self.live_response_head(unique_id, index).await?;
        Ok(RecordResponse {
            meta,
            body: self.body_stream(unique_id, index).boxed(),
            length: None,
        })
    }

    /// The response head of a record that is still downloading (or was, a
    /// moment ago): waits for it on the record's live state.
    async fn live_response_head(
        &self,
        unique_id: &str,
        index: u32,
    ) -> Result<ResponseMeta, RecordError> {
        let inner = self.inner().clone();
        if let Some(mut rx) = wait_live(&inner, unique_id, index).await {
            loop {
                {
                    let l = rx.borrow_and_update();
                    match (&l.meta, l.outcome) {
                        (_, Some(o))
                            if o != RecordOutcome::Complete && o != RecordOutcome::BadStatus =>
                        {
                            return Err(outcome_error(o, l.error.clone()))
                        }
                        (Some(m), o) if o.is_some() || !l.awaits_integrity => return Ok(m.clone()),
                        _ => {}
                    }
                }
                if rx.changed().await.is_err() {
                    break; // fetch finished: the store is authoritative now
                }
            }
        }
        let rec = load_record(&inner, unique_id, index).await?;
        match (rec.outcome, rec.response) {
            (RecordOutcome::Complete | RecordOutcome::BadStatus, Some(m)) => Ok(m),
            (o, _) => Err(outcome_error(o, rec.error_message)),
        }
    }

    /// The stored response body of a record as a stream of chunks. While the
    /// record downloads, yields what is stored and then waits for more; ends
    /// when the record completes. Memory use is one chunk.
    ///
    /// If the download has to restart from zero (a resume was refused) while
    /// a stream is reading, the stream fails with `RecordError::Io` rather
    /// than splice two different bodies.
    pub fn body_stream(
        &self,
        unique_id: &str,
        index: u32,
    ) -> impl Stream<Item = Result<Bytes, RecordError>> + Send + 'static {
        BodyState::new(self.inner(), unique_id, index).into_stream()
    }
}

impl BodyState {
    fn new(inner: &Arc<Inner>, unique_id: &str, index: u32) -> Self {
        BodyState {
            inner: inner.clone(),
            unique_id: unique_id.to_string(),
            index,
            reader: None,
            pos: 0,
            live: None,
            generation: None,
            settled: None,
            done: false,
        }
    }

    fn into_stream(self) -> impl Stream<Item = Result<Bytes, RecordError>> + Send + 'static {
        futures::stream::unfold(self, |mut st| async move {
            if st.done {
                return None;
            }
            match st.next_chunk().await {
                Ok(Some(b)) => Some((Ok(b), st)),
                Ok(None) => None,
                Err(e) => {
                    st.done = true;
                    Some((Err(e), st))
                }
            }
        })
    }
}

fn to_info(r: &RecordRow) -> RecordInfo {
    RecordInfo {
        unique_id: r.fetch_uid.clone(),
        index: r.index,
        request: RequestSpec {
            method: r.method.clone(),
            url: r.url.clone(),
            headers: r.headers.clone(),
            mode: r.mode.as_str().into(),
            credentials: r.credentials.as_str().into(),
            body: None,
            integrity: r.integrity.clone(),
        },
        has_request_body: r.has_request_body,
        outcome: r.outcome,
        response: r.response.clone(),
        bytes_stored: r.bytes_stored,
        error: r.error_message.clone(),
    }
}

fn outcome_error(o: RecordOutcome, msg: Option<String>) -> RecordError {
    match o {
        RecordOutcome::FetchError => {
            RecordError::TypeError(msg.unwrap_or_else(|| "network error".into()))
        }
        RecordOutcome::Aborted => {
            RecordError::Aborted("The background fetch ended before this record completed.".into())
        }
        _ => RecordError::Aborted("The record is not available.".into()),
    }
}

fn live_rx(inner: &Arc<Inner>, unique_id: &str, index: u32) -> Option<watch::Receiver<LiveRecord>> {
    inner.ctx(unique_id).and_then(|c| c.live_rx(index))
}

/// The live state of a pending record of an active fetch. Between `fetch()`
/// returning and its controller publishing live state (or while a restarted
/// engine is loading) the record is pending with no live state yet: poll
/// briefly instead of reporting it unavailable.
async fn wait_live(
    inner: &Arc<Inner>,
    unique_id: &str,
    index: u32,
) -> Option<watch::Receiver<LiveRecord>> {
    loop {
        if let Some(rx) = live_rx(inner, unique_id, index) {
            return Some(rx);
        }
        let u = unique_id.to_string();
        let pending = inner
            .data
            .run(move |s| {
                let active = s
                    .get_fetch(&u)?
                    .is_some_and(|f| f.state == FetchState::Active);
                let pending = s
                    .record(&u, index)?
                    .is_some_and(|r| r.outcome == RecordOutcome::Pending);
                Ok(active && pending)
            })
            .await
            .unwrap_or(false);
        if !pending {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn read_request_body(
    inner: &Arc<Inner>,
    unique_id: &str,
    index: u32,
) -> Result<Vec<u8>, RecordError> {
    let store = inner.data.store().clone();
    let fetch = unique_id.to_string();
    let read = async move {
        let reader = crate::body_read::blocking(move || {
            store.bodies().read(
                BodyId::Request {
                    fetch: &fetch,
                    index,
                },
                0,
            )
        })
        .await?;
        crate::body_read::read_to_end(reader).await
    };
    read.await
        .map_err(|e| RecordError::Io(format!("request body of record {index}: {e}")))
}

async fn load_record(
    inner: &Arc<Inner>,
    unique_id: &str,
    index: u32,
) -> Result<RecordRow, RecordError> {
    let u = unique_id.to_string();
    let (row, rec) = inner
        .data
        .run(move |s| Ok((s.get_fetch(&u)?, s.record(&u, index)?)))
        .await
        .map_err(|e| RecordError::Io(e.to_string()))?;
    if row.is_some_and(|r| r.state == FetchState::Done) {
        // A realm that holds the records pinned them before they went.
        return inner
            .pins
            .retired_record(unique_id, index)
            .ok_or_else(|| RecordError::Io("records are no longer available".into()));
    }
    rec.ok_or_else(|| RecordError::Io(format!("no record {index} in {unique_id}")))
}

struct BodyState {
    inner: Arc<Inner>,
    unique_id: String,
    index: u32,
    reader: Option<BodyReader>,
    pos: u64,
    live: Option<watch::Receiver<LiveRecord>>,
    generation: Option<u32>,
    /// The record's row once it finished (it does not change after that).
    settled: Option<RecordRow>,
    done: bool,
}

impl BodyState {
    /// Open the body at the reader's position: in the fetch's pack from
    /// `packed` on, or in the record's own body.
    async fn open(&self, packed: Option<u64>) -> std::io::Result<BodyReader> {
        let store = self.inner.data.store().clone();
        let (fetch, index, pos) = (self.unique_id.clone(), self.index, self.pos);
        crate::body_read::blocking(move || {
            let fetch = fetch.as_str();
            let (body, start) = match packed {
                Some(offset) => (BodyId::Pack { fetch }, offset),
                None => (BodyId::Response { fetch, index }, 0),
            };
            store.bodies().read(body, start + pos)
        })
        .await
    }

    async fn next_chunk(&mut self) -> Result<Option<Bytes>, RecordError> {
        if self.live.is_none() && self.generation.is_none() {
            self.live = wait_live(&self.inner, &self.unique_id, self.index).await;
        }
        loop {
            // How far may we read, is more coming, and where are the bytes
            // (`Some(offset)` in the fetch's pack, `None` in a body of its own)?
            let (avail, finished, packed) = match &mut self.live {
                Some(rx) => {
                    let l = rx.borrow_and_update().clone();
                    match self.generation {
                        // A restart only matters once bytes were delivered:
                        // every fresh response starts a new generation, the
                        // first one included.
                        Some(g) if g != l.generation && self.pos > 0 => {
                            return Err(RecordError::Io("the download restarted from zero".into()))
                        }
                        _ => self.generation = Some(l.generation),
                    }
                    match l.outcome {
                        Some(RecordOutcome::Complete | RecordOutcome::BadStatus) => {
                            (l.len, true, l.packed_offset)
                        }
                        Some(o) => return Err(outcome_error(o, l.error)),
                        None => (l.len, false, l.packed_offset),
                    }
                }
                None => {
                    let rec = match self.settled.take() {
                        Some(rec) => rec,
                        None => load_record(&self.inner, &self.unique_id, self.index).await?,
                    };
                    self.generation.get_or_insert(0);
                    let packed = (rec.body == Some(BodyLocation::Pack)).then_some(rec.body_offset);
                    match rec.outcome {
                        RecordOutcome::Complete | RecordOutcome::BadStatus => {
                            let available = rec.bytes_stored;
                            self.settled = Some(rec);
                            (available, true, packed)
                        }
                        o => return Err(outcome_error(o, rec.error_message)),
                    }
                }
            };
            if self.pos < avail {
                let reader = match self.reader.take() {
                    Some(r) => r,
                    None => match self.open(packed).await {
                        Ok(r) => r,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                            // The fetch settled and its bodies were cleaned
                            // up before this reader opened the body: say so.
                            load_record(&self.inner, &self.unique_id, self.index).await?;
                            return Err(RecordError::Io(format!("body missing: {e}")));
                        }
                        Err(e) => return Err(RecordError::Io(e.to_string())),
                    },
                };
                let want = (avail - self.pos).min(READ_CHUNK as u64) as usize;
                let (reader, buf) = crate::body_read::read_chunk(reader, want)
                    .await
                    .map_err(|e| RecordError::Io(e.to_string()))?;
                if !buf.is_empty() {
                    self.reader = Some(reader);
                    self.pos += buf.len() as u64;
                    return Ok(Some(buf));
                }
                if finished {
                    return Err(RecordError::Io("the body is shorter than recorded".into()));
                }
                // Written but not readable yet: a storage that shows bytes
                // only once they are synced. Reopen when the record moves on.
            } else if finished {
                return Ok(None);
            }
            let changed = match &mut self.live {
                Some(rx) => rx.changed().await.is_ok(),
                None => false,
            };
            if !changed {
                // The fetch finished and dropped its live state: re-read the store.
                self.live = None;
            }
        }
    }
}
