//! What JS asks `fetch()` for, and how a fetch fails.

use deno_core::ResourceId;
use serde::Deserialize;

/// Errors of `fetch()`. All surface as `TypeError` in JS, as the spec requires
/// for network errors.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub(crate) enum FetchError {
    #[class(type)]
    #[error("NetworkError when attempting to fetch resource: {0}")]
    Network(String),
    #[class(type)]
    #[error("Invalid URL: {0}")]
    InvalidUrl(String),
    #[class(type)]
    #[error("URL scheme '{0}' is not supported")]
    Scheme(String),
    #[class(type)]
    #[error("Redirect was not allowed by the request's redirect mode")]
    RedirectNotAllowed,
    #[class(type)]
    #[error("Too many redirects")]
    TooManyRedirects,
    #[class("DOMExceptionAbortError")]
    #[error("The fetch was aborted")]
    Aborted,
    #[class(type)]
    #[error("Invalid header: {0}")]
    Header(String),
    #[class(type)]
    #[error("The response body does not match the request's integrity metadata {0:?}")]
    Integrity(String),
    /// A cross-origin request the CORS protocol refuses (mode, CORS check or
    /// preflight).
    #[class(type)]
    #[error("{0}")]
    Cors(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FetchArgs {
    pub(super) method: String,
    pub(super) url: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) has_body: bool,
    pub(super) redirect: String,
    pub(super) cancel_rid: Option<ResourceId>,
    /// `Request.integrity` (empty = none).
    #[serde(default)]
    pub(super) integrity: String,
    /// `Request.mode`: "cors", "no-cors" or "same-origin".
    #[serde(default)]
    pub(super) mode: String,
    /// `Request.credentials`: "omit", "same-origin" or "include".
    #[serde(default)]
    pub(super) credentials: String,
    /// The URL of the client making the request, whose origin is the
    /// request's origin. `None` for requests the runtime makes for a document
    /// (its scripts), which the CORS protocol does not govern here.
    #[serde(default)]
    pub(super) client_url: Option<String>,
}
