//! Fetches worker scripts: the main script and `importScripts()` URLs.
//!
//! Scripts come from http(s) servers (the embedded origin server among them),
//! from `file:` URLs, or from a directory mapped onto an origin that has no
//! server (`swrt run sw.js` without `--root`).

use std::path::{Component, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::runtime::Handle;
use url::Url;

/// How long fetching one script may take, headers and body, by default: a
/// server that stalls fails the registration instead of hanging it.
pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest script (or imported script or module) swrt loads: a server
/// streaming without end fails the registration instead of exhausting memory.
pub const MAX_SCRIPT_BYTES: usize = 32 << 20;

/// A fetched script: its final URL (after redirects) and its source text.
#[derive(Debug, Clone)]
pub struct ScriptSource {
    /// The URL the script was finally served from.
    pub url: Url,
    /// The script's source text.
    pub text: String,
    /// The `Service-Worker-Allowed` response header, if any.
    pub service_worker_allowed: Option<String>,
    /// Served as `text/html` (or, from a directory, named `.html`/`.htm`):
    /// a page to parse as a document rather than run as a script.
    pub html: bool,
    /// The policies of its `Content-Security-Policy` response headers (CSP,
    /// "parse a response's Content Security Policies"): a document's or a
    /// worker's own policy. Empty for files read from a directory.
    pub csp: Vec<String>,
}

/// The serialized policies of `Content-Security-Policy` header values: each
/// value is a comma-separated list of policies; empty ones are dropped.
pub fn csp_policies<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    values
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|policy| !policy.is_empty())
        .map(str::to_string)
        .collect()
}

/// Why a script or page could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The response's MIME type is not one the destination accepts (a
    /// worker script must be JavaScript): Service Workers' Update algorithm
    /// treats this as a security failure, not a network one.
    #[error("{0}")]
    MimeType(String),
    /// A URL of the local origin whose path leads out of the origin's
    /// directory (`..`, an absolute path).
    #[error("{0} escapes the origin's directory")]
    EscapesOrigin(Url),
    /// The loader's runtime stopped before the fetch finished.
    #[error("the script loader shut down")]
    ShutDown,
    /// Anything else: a network error, an HTTP status, an unreadable file.
    #[error("{0}")]
    Failed(String),
}

impl From<String> for LoadError {
    fn from(message: String) -> Self {
        LoadError::Failed(message)
    }
}

/// The cache mode of a script request (Fetch, "request's cache mode"), as
/// the Service Workers Update algorithm and `updateViaCache` choose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScriptCacheMode {
    /// "default": caches between swrt and the server may answer.
    #[default]
    Default,
    /// "no-cache": a cached answer must be revalidated with the server.
    /// swrt keeps no HTTP cache of its own; Fetch's HTTP-network-or-cache
    /// fetch sends `Cache-Control: max-age=0` for this mode, which makes
    /// proxies and the server revalidate.
    NoCache,
}

/// What a fetch is for: the response types it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Destination {
    /// A worker script or module: JavaScript only.
    Script,
    /// A page: an HTML document, or a script that runs as the page.
    Document,
}

/// The answer to a navigation preload request, whatever its status.
#[derive(Debug, Clone)]
pub struct PreloadResponse {
    /// The URL that answered (after redirects).
    pub url: Url,
    /// HTTP status.
    pub status: u16,
    /// HTTP status text.
    pub status_text: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// A directory that stands in for an origin that no server serves.
#[derive(Debug, Clone)]
pub struct LocalOriginMapping {
    /// The origin (`http://localhost`).
    pub origin: Url,
    /// The directory whose files appear at the origin's root.
    pub dir: PathBuf,
}

/// Loads scripts for workers. Cheap to clone; shared by all workers of a host.
#[derive(Clone)]
pub struct ScriptLoader {
    inner: Arc<LoaderInner>,
}

struct LoaderInner {
    client: reqwest::Client,
    timeout: Duration,
    local: Option<LocalOriginMapping>,
    handle: Handle,
}

impl ScriptLoader {
    /// Creates a loader whose network I/O runs on `handle` (a multi-thread runtime).
    pub fn new(handle: Handle, local: Option<LocalOriginMapping>) -> Self {
        Self::with_resolver(handle, local, &crate::HostResolver::system())
    }

    /// Like [`ScriptLoader::new`], resolving host names with `resolver` and
    /// trusting its extra root certificates
    /// ([`HostResolver::with_root_certificates`](crate::HostResolver::with_root_certificates)).
    pub fn with_resolver(
        handle: Handle,
        local: Option<LocalOriginMapping>,
        resolver: &crate::HostResolver,
    ) -> Self {
        let client = resolver
            .apply(reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(20)))
            .build()
            .expect("a reqwest client with parsed root certificates always builds");
        ScriptLoader {
            inner: Arc::new(LoaderInner {
                client,
                timeout: DEFAULT_SCRIPT_TIMEOUT,
                local,
                handle,
            }),
        }
    }

    /// The same loader with another limit on how long one script fetch may
    /// take ([`DEFAULT_SCRIPT_TIMEOUT`] by default).
    pub fn with_timeout(self, timeout: Duration) -> Self {
        let inner = &self.inner;
        ScriptLoader {
            inner: Arc::new(LoaderInner {
                client: inner.client.clone(),
                timeout,
                local: inner.local.clone(),
                handle: inner.handle.clone(),
            }),
        }
    }

    /// Fetches `url` as a classic worker script.
    pub async fn fetch(&self, url: &Url) -> Result<ScriptSource, LoadError> {
        self.fetch_for(url, Destination::Script, ScriptCacheMode::Default)
            .await
    }

    /// Fetches `url` as a worker script with the given cache mode.
    pub async fn fetch_with_cache_mode(
        &self,
        url: &Url,
        cache_mode: ScriptCacheMode,
    ) -> Result<ScriptSource, LoadError> {
        self.fetch_for(url, Destination::Script, cache_mode).await
    }

    /// Service Workers, navigation preload: the navigation's request with a
    /// `Service-Worker-Navigation-Preload` header, answered whatever its
    /// status or type.
    pub async fn fetch_navigation_preload(
        &self,
        url: &Url,
        header_value: &str,
    ) -> Result<PreloadResponse, LoadError> {
        if !matches!(url.scheme(), "http" | "https") || self.local_path(url)?.is_some() {
            return Err(LoadError::Failed(format!(
                "no navigation preload for {url}: it is not served over HTTP"
            )));
        }
        let request = self
            .inner
            .client
            .get(url.clone())
            .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .header("Service-Worker-Navigation-Preload", header_value);
        self.send_buffered(request, url, "navigation preload").await
    }

    /// Static routing, the network side of "race-network-and-fetch-handler":
    /// a same-origin request of a controlled client, answered whatever its
    /// status, its body read in full.
    pub(crate) async fn fetch_routed(
        &self,
        method: &str,
        url: &Url,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Result<PreloadResponse, LoadError> {
        if !matches!(url.scheme(), "http" | "https") || self.local_path(url)?.is_some() {
            return Err(LoadError::Failed(format!(
                "no network fetch for {url}: it is not served over HTTP"
            )));
        }
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| LoadError::Failed(format!("'{method}' is not a method")))?;
        let mut request = self.inner.client.request(method, url.clone());
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        self.send_buffered(request, url, "network").await
    }

    /// Sends `request` and reads its response in full, within the loader's
    /// time and size bounds.
    async fn send_buffered(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
        what: &str,
    ) -> Result<PreloadResponse, LoadError> {
        let fetch = async {
            let response = request
                .send()
                .await
                .map_err(|e| format!("network error: {e}"))?;
            let status = response.status();
            let headers = response
                .headers()
                .iter()
                .filter_map(|(name, value)| {
                    Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
                })
                .collect();
            let url = response.url().clone();
            let mut body = Vec::new();
            let mut chunks = response.bytes_stream();
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(|e| format!("network error: {e}"))?;
                if body.len() + chunk.len() > MAX_SCRIPT_BYTES {
                    return Err(LoadError::Failed(format!(
                        "the {what} response is larger than {} MiB",
                        MAX_SCRIPT_BYTES >> 20
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(PreloadResponse {
                url,
                status: status.as_u16(),
                status_text: status.canonical_reason().unwrap_or("").to_string(),
                headers,
                body,
            })
        };
        tokio::time::timeout(self.inner.timeout, fetch)
            .await
            .map_err(|_| LoadError::Failed(format!("the {what} fetch of {url} timed out")))?
    }

    /// Fetches a page: an HTML document (`text/html`), or a script that runs
    /// as the page (a JavaScript MIME type).
    pub async fn fetch_document(&self, url: &Url) -> Result<ScriptSource, LoadError> {
        self.fetch_for(url, Destination::Document, ScriptCacheMode::Default)
            .await
    }

    async fn fetch_for(
        &self,
        url: &Url,
        destination: Destination,
        cache_mode: ScriptCacheMode,
    ) -> Result<ScriptSource, LoadError> {
        if let Some(path) = self.local_path(url)? {
            return read_file(url, path).await;
        }
        match url.scheme() {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|_| format!("not a local path: {url}"))?;
                read_file(url, path).await
            }
            "http" | "https" => tokio::time::timeout(
                self.inner.timeout,
                self.fetch_http(url, destination, cache_mode),
            )
            .await
            .map_err(|_| {
                format!(
                    "the server did not deliver the script within {} s",
                    self.inner.timeout.as_secs_f64()
                )
            })?,
            other => Err(LoadError::Failed(format!(
                "scheme '{other}' is not supported for worker scripts"
            ))),
        }
    }

    /// Blocking variant for `importScripts()`, which is synchronous by spec.
    /// Must be called from a thread that is not driving `self`'s runtime.
    pub fn fetch_blocking(
        &self,
        url: &Url,
        cache_mode: ScriptCacheMode,
    ) -> Result<ScriptSource, LoadError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let this = self.clone();
        let url = url.clone();
        self.inner.handle.spawn(async move {
            let _ = tx.send(this.fetch_with_cache_mode(&url, cache_mode).await);
        });
        rx.recv().map_err(|_| LoadError::ShutDown)?
    }

    fn local_path(&self, url: &Url) -> Result<Option<PathBuf>, LoadError> {
        let Some(local) = &self.inner.local else {
            return Ok(None);
        };
        if url.origin() != local.origin.origin() {
            return Ok(None);
        }
        let mut path = local.dir.clone();
        let decoded = percent_decode(url.path());
        for component in std::path::Path::new(decoded.trim_start_matches('/')).components() {
            match component {
                Component::Normal(part) => path.push(part),
                Component::CurDir => {}
                _ => return Err(LoadError::EscapesOrigin(url.clone())),
            }
        }
        Ok(Some(path))
    }

    async fn fetch_http(
        &self,
        url: &Url,
        destination: Destination,
        cache_mode: ScriptCacheMode,
    ) -> Result<ScriptSource, LoadError> {
        let mut request = self.inner.client.get(url.clone());
        if cache_mode == ScriptCacheMode::NoCache {
            request = request.header(reqwest::header::CACHE_CONTROL, "max-age=0");
        }
        if destination == Destination::Script {
            request = request.header("Service-Worker", "script");
        } else {
            request = request.header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("network error: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(LoadError::Failed(format!(
                "HTTP status {}",
                status.as_u16()
            )));
        }
        // Service Workers §Update step "If ... is not a JavaScript MIME type,
        // ... reject": a worker script must be served as JavaScript.
        let mime = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let html = mime == "text/html";
        let accepted = is_javascript_mime(&mime) || (destination == Destination::Document && html);
        if !accepted {
            return Err(LoadError::MimeType(match destination {
                Destination::Script => format!("the script has an unsupported MIME type ('{mime}')"),
                Destination::Document => format!(
                    "the page has an unsupported MIME type ('{mime}'): expected text/html or JavaScript"
                ),
            }));
        }
        let final_url = response.url().clone();
        let csp = csp_policies(
            response
                .headers()
                .get_all("content-security-policy")
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        let service_worker_allowed = response
            .headers()
            .get("service-worker-allowed")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let too_large = || {
            LoadError::Failed(format!(
                "the script is larger than {} MiB",
                MAX_SCRIPT_BYTES >> 20
            ))
        };
        if response
            .content_length()
            .is_some_and(|len| len > MAX_SCRIPT_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| format!("network error: {e}"))?;
            if body.len() + chunk.len() > MAX_SCRIPT_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        // HTML, fetching a worker script: the body is UTF-8 decoded (a BOM is
        // dropped), whatever charset the response names.
        let text = String::from_utf8_lossy(body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&body))
            .into_owned();
        Ok(ScriptSource {
            url: final_url,
            text,
            service_worker_allowed,
            html,
            csp,
        })
    }
}

async fn read_file(url: &Url, path: PathBuf) -> Result<ScriptSource, LoadError> {
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{} is not valid UTF-8", path.display()))?;
    let html = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    Ok(ScriptSource {
        url: url.clone(),
        text,
        service_worker_allowed: None,
        html,
        csp: Vec::new(),
    })
}

fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The MIME Sniffing standard's JavaScript MIME type essence list.
pub fn is_javascript_mime(essence: &str) -> bool {
    matches!(
        essence,
        "application/ecmascript"
            | "application/javascript"
            | "application/x-ecmascript"
            | "application/x-javascript"
            | "text/ecmascript"
            | "text/javascript"
            | "text/javascript1.0"
            | "text/javascript1.1"
            | "text/javascript1.2"
            | "text/javascript1.3"
            | "text/javascript1.4"
            | "text/javascript1.5"
            | "text/jscript"
            | "text/livescript"
            | "text/x-ecmascript"
            | "text/x-javascript"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_header_values_split_into_policies() {
        assert_eq!(
            csp_policies([
                "connect-src 'self', default-src 'none'",
                " ",
                "script-src *"
            ]),
            ["connect-src 'self'", "default-src 'none'", "script-src *"]
        );
    }

    #[test]
    fn percent_decoding_handles_escapes_and_plain_text() {
        assert_eq!(percent_decode("/a%20b.js"), "/a b.js");
        assert_eq!(percent_decode("/%2e%2e/x"), "/../x");
        assert_eq!(percent_decode("/plain"), "/plain");
        assert_eq!(percent_decode("/bad%zz"), "/bad%zz");
    }

    #[test]
    fn javascript_mime_types() {
        assert!(is_javascript_mime("text/javascript"));
        assert!(is_javascript_mime("application/javascript"));
        assert!(!is_javascript_mime("text/html"));
        assert!(!is_javascript_mime(""));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn local_mapping_refuses_escapes() {
        let dir = std::env::temp_dir();
        let loader = ScriptLoader::new(
            Handle::current(),
            Some(LocalOriginMapping {
                origin: Url::parse("http://localhost").unwrap(),
                dir,
            }),
        );
        let err = loader
            .fetch(&Url::parse("http://localhost/a%2f..%2f..%2fetc/passwd").unwrap())
            .await;
        assert!(err.unwrap_err().to_string().contains("escapes"));
    }
}
