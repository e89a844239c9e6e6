//! Public data types of the engine API.

use serde::{Deserialize, Serialize};
pub use swrt_store::{FailureReason, FetchResult, FetchState, Icon, RecordOutcome, ResponseMeta};

/// One request of a background fetch, as produced by the JS `Request`
/// constructor (or by an embedder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSpec {
    /// Method; normalised to upper case for the standard methods.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header list.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// `cors` (default), `same-origin`, `no-cors` (rejected), `navigate` (rejected).
    #[serde(default = "default_mode")]
    pub mode: String,
    /// `omit`, `same-origin` (default), `include`.
    #[serde(default = "default_credentials")]
    pub credentials: String,
    /// Request body.
    #[serde(default)]
    pub body: Option<Vec<u8>>,
    /// `Request.integrity`: Subresource Integrity metadata (empty = none).
    #[serde(default)]
    pub integrity: String,
}

fn default_mode() -> String {
    "cors".into()
}
fn default_credentials() -> String {
    "same-origin".into()
}

impl RequestSpec {
    /// A plain GET with default mode and credentials.
    pub fn get(url: impl Into<String>) -> Self {
        RequestSpec {
            method: "GET".into(),
            url: url.into(),
            headers: vec![],
            mode: default_mode(),
            credentials: default_credentials(),
            body: None,
            integrity: String::new(),
        }
    }
}

/// `BackgroundFetchOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchOptions {
    /// UI title.
    #[serde(default)]
    pub title: String,
    /// UI icons.
    #[serde(default)]
    pub icons: Vec<Icon>,
    /// Expected total download size; 0 = no limit.
    #[serde(default)]
    pub download_total: u64,
}

/// What the calling context's policies say about the fetch's requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyContext {
    /// The `connect-src` source lists (each already split on whitespace)
    /// of the caller's Content Security Policies, one per policy that
    /// restricts connections: a request must be allowed by every one. Empty
    /// = no restriction.
    #[serde(default, deserialize_with = "source_lists")]
    pub csp_connect_src: Vec<Vec<String>>,
    /// Whether the calling context is a secure context.
    #[serde(default = "yes")]
    pub is_secure_context: bool,
}

fn yes() -> bool {
    true
}

/// Reads `csp_connect_src` as a list of source lists, or as the single
/// optional list that fetches stored before several policies were kept
/// have (null, or one list).
fn source_lists<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Lists(Vec<Vec<String>>),
        One(Option<Vec<String>>),
    }
    Ok(match Stored::deserialize(d)? {
        Stored::Lists(lists) => lists,
        Stored::One(one) => one.into_iter().collect(),
    })
}

/// Arguments of [`crate::BackgroundFetchService::fetch`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchRequest {
    /// Service-worker registration scope.
    pub scope: String,
    /// Developer id.
    pub id: String,
    /// The requests (already one-element for a single request).
    pub requests: Vec<RequestSpec>,
    /// Options.
    #[serde(default)]
    pub options: FetchOptions,
    /// Origin of the registration, ASCII serialisation (`https://a.test`).
    pub origin: String,
    /// Caller's policy context.
    #[serde(default)]
    pub policy: PolicyContext,
    /// Whether the registration has an active worker (spec step: no active
    /// worker -> TypeError).
    pub has_active_worker: bool,
}

/// A copy of a registration's attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationSnapshot {
    /// Internal id.
    pub unique_id: String,
    /// Registration scope.
    pub scope: String,
    /// Developer id.
    pub id: String,
    /// Origin.
    pub origin: String,
    /// Title.
    pub title: String,
    /// Icons.
    pub icons: Vec<Icon>,
    /// `uploadTotal`.
    pub upload_total: u64,
    /// `uploaded`.
    pub uploaded: u64,
    /// `downloadTotal`.
    pub download_total: u64,
    /// `downloaded`.
    pub downloaded: u64,
    /// `result`.
    pub result: FetchResult,
    /// `failureReason`.
    pub failure_reason: FailureReason,
    /// `recordsAvailable`.
    pub records_available: bool,
    /// Engine lifecycle state.
    pub state: FetchState,
}

impl RegistrationSnapshot {
    pub(crate) fn from_row(r: &swrt_store::FetchRow) -> Self {
        RegistrationSnapshot {
            unique_id: r.unique_id.clone(),
            scope: r.scope.clone(),
            id: r.id.clone(),
            origin: r.origin.clone(),
            title: r.title.clone(),
            icons: r.icons.clone(),
            upload_total: r.upload_total,
            uploaded: r.uploaded,
            download_total: r.download_total,
            downloaded: r.downloaded,
            result: r.result,
            failure_reason: r.failure_reason,
            records_available: r.records_available(),
            state: r.state,
        }
    }
}

/// A progress notification (`progress` event on every registration object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressEvent {
    /// The registration's attributes at the time of the event.
    pub registration: RegistrationSnapshot,
    /// True for the last notification of the fetch (result decided).
    pub is_final: bool,
}

/// A record as seen by `match()`/`matchAll()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInfo {
    /// Internal fetch id.
    pub unique_id: String,
    /// Index in the request list.
    pub index: u32,
    /// The request (its body only from `records()`).
    pub request: RequestSpec,
    /// Whether the request has a body (read with `request_body`).
    pub has_request_body: bool,
    /// Outcome so far.
    pub outcome: RecordOutcome,
    /// Response head, once it arrived (CORS-filtered; without
    /// `Content-Range`/`Content-Length`).
    pub response: Option<ResponseMeta>,
    /// Durable body bytes.
    pub bytes_stored: u64,
    /// Failure detail (for the TypeError message).
    pub error: Option<String>,
}
