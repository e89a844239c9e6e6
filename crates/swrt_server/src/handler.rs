//! The request handler: one fallback route that serves files under the root.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use tracing::{debug, warn};

use crate::conditional::{self, RangeOutcome};
use crate::path::{self, ResolveError};
use crate::{mime, wpt};

/// Read-buffer size for streaming file bodies.
const CHUNK: usize = 64 * 1024;
/// Sidecar `.headers` files larger than this are ignored.
const MAX_SIDECAR: u64 = 64 * 1024;

/// State shared by all requests of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Canonical root directory.
    pub root: PathBuf,
    /// Sees every request first (see [`crate::RequestHook`]).
    pub hook: Option<crate::RequestHook>,
    /// `.headers` sidecars and `?pipe=` apply (the WPT runner only).
    pub wpt_conventions: bool,
}

/// Axum fallback handler: serves every request.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let started = Instant::now();
    let req = match &shared.hook {
        Some(hook) => match hook.call(req).await {
            Ok(response) => return response,
            Err(req) => req,
        },
        None => req,
    };
    let method = req.method().clone();
    let uri = req.uri().clone();
    let response = respond(&shared, &method, &uri, req.headers()).await;
    debug!(
        %method,
        %uri,
        status = response.status().as_u16(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "origin request"
    );
    response
}

async fn respond(shared: &Shared, method: &Method, uri: &Uri, req: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed\n");
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    let Some(safe) = path::sanitize(uri.path()) else {
        warn!(path = uri.path(), "rejected unsafe request path");
        return not_found();
    };
    let resolved = match path::resolve(&shared.root, &safe).await {
        Ok(r) => r,
        Err(ResolveError::NotFound) => return not_found(),
        Err(ResolveError::Escapes(target)) => {
            warn!(path = uri.path(), target = %target.display(), "path resolves outside the root");
            return not_found();
        }
        Err(ResolveError::Io(e)) => {
            warn!(path = uri.path(), error = %e, "cannot resolve path");
            return not_found();
        }
    };
    match serve_file(shared, method, uri, req, &resolved).await {
        Ok(resp) => resp,
        Err(e) => {
            warn!(file = %resolved.canonical.display(), error = %e, "cannot serve file");
            not_found()
        }
    }
}

async fn serve_file(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    req: &HeaderMap,
    resolved: &path::Resolved,
) -> std::io::Result<Response> {
    let mut file = tokio::fs::File::open(&resolved.canonical).await?;
    let meta = file.metadata().await?;
    if !meta.is_file() {
        return Ok(not_found());
    }
    let len = meta.len();
    let mtime = meta.modified().ok();
    let etag = conditional::make_etag(len, mtime);

    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mime::content_type_for(&resolved.logical)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::ETAG, value(&etag));
    if let Some(mtime) = mtime {
        headers.insert(
            header::LAST_MODIFIED,
            value(&httpdate::fmt_http_date(mtime)),
        );
    }

    let not_modified = match (req.get(header::IF_NONE_MATCH), mtime) {
        (Some(inm), _) => inm
            .to_str()
            .is_ok_and(|v| conditional::if_none_match(v, &etag)),
        (None, Some(mtime)) => req
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| conditional::not_modified_since(v, mtime)),
        (None, None) => false,
    };

    let range = if not_modified {
        RangeOutcome::Full
    } else {
        let honour_range = req
            .get(header::IF_RANGE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| conditional::if_range_matches(v, &etag, mtime));
        match req.get(header::RANGE).and_then(|v| v.to_str().ok()) {
            Some(r) if honour_range => conditional::parse_range(r, len),
            _ => RangeOutcome::Full,
        }
    };

    let (mut status, body) = if not_modified {
        headers.remove(header::CONTENT_TYPE);
        headers.remove(header::ACCEPT_RANGES);
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else {
        let (status, start, count) = match range {
            RangeOutcome::Full => (StatusCode::OK, 0, len),
            RangeOutcome::Partial { start, end } => {
                headers.insert(
                    header::CONTENT_RANGE,
                    value(&format!("bytes {start}-{end}/{len}")),
                );
                (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
            }
            RangeOutcome::Unsatisfiable => {
                headers.insert(header::CONTENT_RANGE, value(&format!("bytes */{len}")));
                headers.remove(header::CONTENT_TYPE);
                (StatusCode::RANGE_NOT_SATISFIABLE, 0, 0)
            }
        };
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
        let body = if method == Method::HEAD || count == 0 {
            Body::empty()
        } else {
            if start > 0 {
                file.seek(SeekFrom::Start(start)).await?;
            }
            Body::from_stream(ReaderStream::with_capacity(file.take(count), CHUNK))
        };
        (status, body)
    };

    if shared.wpt_conventions {
        apply_wpt_conventions(
            &shared.root,
            &resolved.logical,
            uri,
            &mut status,
            &mut headers,
        )
        .await;
    }

    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    Ok(resp)
}

/// WPT conventions: the sidecar first, then the pipes (which win).
async fn apply_wpt_conventions(
    root: &Path,
    logical: &Path,
    uri: &Uri,
    status: &mut StatusCode,
    headers: &mut HeaderMap,
) {
    if let Some(lines) = read_sidecar(root, logical).await {
        wpt::apply_sidecar(headers, &lines);
    }
    if let Some(pipe) = pipe_param(uri) {
        match wpt::parse_pipes(&pipe) {
            Ok(calls) => wpt::apply_pipes(status, headers, &calls),
            Err(e) => warn!(pipe, error = %e, "malformed pipe parameter; ignored"),
        }
    }
}

/// Reads `NAME.headers` beside `logical`, if it exists inside the root.
async fn read_sidecar(root: &Path, logical: &Path) -> Option<Vec<(String, String)>> {
    let mut name = logical.file_name()?.to_os_string();
    name.push(".headers");
    let sidecar = logical.with_file_name(name);
    let canonical = path::canonical_within(root, &sidecar).await.ok()?;
    let meta = tokio::fs::metadata(&canonical).await.ok()?;
    if !meta.is_file() {
        return None;
    }
    if meta.len() > MAX_SIDECAR {
        warn!(file = %canonical.display(), "sidecar .headers file too large; ignored");
        return None;
    }
    match tokio::fs::read_to_string(&canonical).await {
        Ok(text) => Some(wpt::parse_headers_file(&text)),
        Err(e) => {
            warn!(file = %canonical.display(), error = %e, "cannot read .headers file");
            None
        }
    }
}

/// The first `pipe` query parameter, form-decoded.
fn pipe_param(uri: &Uri) -> Option<String> {
    let query = uri.query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "pipe")
        .map(|(_, v)| v.into_owned())
}

fn value(s: &str) -> HeaderValue {
    // Only called with ASCII we formatted ourselves.
    HeaderValue::from_str(s).expect("formatted header value is valid")
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    resp
}

fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "404 Not Found\n")
}
