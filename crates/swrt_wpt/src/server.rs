//! The Rust origin server of a run (swrt_server's `StaticOrigin` over the WPT
//! root, with a hook for what the runner generates) and the wptserve process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Response, StatusCode};
use swrt_server::{HookFuture, HookRequest, RequestHook, StaticOrigin};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::meta::parse_meta;
use crate::subst::{substitute, HostConfig, RequestInfo, SUBDOMAINS};

const TESTHARNESSREPORT: &str = include_str!("../js/testharnessreport.js");
const TESTDRIVER: &str = include_str!("../js/testdriver.js");
const TESTDRIVER_VENDOR: &str = include_str!("../js/testdriver-vendor.js");
/// The wptserve launcher.
pub const SERVE_PY: &str = include_str!("../py/serve.py");

/// A `test_driver.set_permission` call.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PermissionRequest {
    /// Permission name, e.g. `background-fetch`.
    pub name: Option<String>,
    /// `granted`, `denied` or `prompt`.
    pub state: Option<String>,
    /// The calling page's origin.
    pub origin: Option<String>,
}

/// What the servers share with the runner.
pub struct State {
    /// The WPT root (canonical).
    pub root: PathBuf,
    /// wpt-runner's `testharness/` directory.
    pub resources: PathBuf,
    /// Host names and ports (ports filled once the front is bound).
    pub hosts: Mutex<HostConfig>,
    /// Generated wrapper documents by test URL (path and query).
    pub pages: Mutex<HashMap<String, String>>,
    /// What the runner's scripts need to know about the running test.
    pub runner_config: Mutex<Option<crate::page::RunnerConfig>>,
    /// Permission changes by token.
    pub permissions: Mutex<Vec<(String, PermissionRequest)>>,
    /// The host running the current test (tests run one at a time), which
    /// permission changes apply to.
    pub current_host: Mutex<Option<swrt_runtime::ServiceWorkerHost>>,
}

impl State {
    /// Fresh state.
    pub fn new(root: PathBuf, resources: PathBuf, hosts: HostConfig) -> Arc<State> {
        Arc::new(State {
            root,
            resources,
            hosts: Mutex::new(hosts),
            pages: Mutex::new(HashMap::new()),
            runner_config: Mutex::new(None),
            permissions: Mutex::new(Vec::new()),
            current_host: Mutex::new(None),
        })
    }
}

/// Starts the Rust origin server on an ephemeral loopback port.
pub async fn start_origin(state: Arc<State>) -> Result<StaticOrigin, String> {
    let hook_state = state.clone();
    let hook = RequestHook::new(move |req| -> HookFuture {
        let state = hook_state.clone();
        Box::pin(async move { hook(&state, req).await })
    });
    StaticOrigin::builder(state.root.clone())
        .wpt_conventions(true)
        .hook(hook)
        .start()
        .await
        .map_err(|e| e.to_string())
}

fn response(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response<Body> {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn javascript(body: impl Into<Body>) -> Response<Body> {
    response(StatusCode::OK, "text/javascript; charset=utf-8", body)
}

async fn hook(state: &State, req: HookRequest) -> Result<Response<Body>, HookRequest> {
    let path = req.uri().path().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    if path == WORKER_MODULE_GLOBAL {
        return Ok(javascript(WORKER_GLOBAL.to_string()));
    }
    let is_get = matches!(*req.method(), Method::GET | Method::HEAD);
    if !is_get {
        return Err(req);
    }
    let runner_file = match path.as_str() {
        "/resources/testharnessreport.js" => Some(TESTHARNESSREPORT),
        "/resources/testdriver.js" => Some(TESTDRIVER),
        "/resources/testdriver-vendor.js" => Some(TESTDRIVER_VENDOR),
        _ => None,
    };
    if let Some(text) = runner_file {
        // The running test's configuration comes first (tests run one at a
        // time, each in a fresh host).
        let config = state
            .runner_config
            .lock()
            .unwrap()
            .as_ref()
            .map(|c| c.script())
            .unwrap_or_default();
        return Ok(javascript(format!("{config}{text}")));
    }
    let npm_file = match path.as_str() {
        "/resources/testharness.js" => Some("testharness.js"),
        "/resources/idlharness.js" => Some("idlharness.js"),
        "/resources/webidl2/lib/webidl2.js" | "/resources/WebIDLParser.js" => Some("webidl2.js"),
        _ => None,
    };
    if let Some(name) = npm_file {
        return Ok(match tokio::fs::read(state.resources.join(name)).await {
            Ok(bytes) => javascript(bytes),
            Err(e) => response(
                StatusCode::NOT_FOUND,
                "text/plain",
                format!(
                    "swrt wpt: {name} is missing from {}: {e}\n",
                    state.resources.display()
                ),
            ),
        });
    }
    // idlharness tests load /interfaces/NAME.idl; an upstream checkout has
    // them, the project's own wpt/ takes them from npm @webref/idl (the
    // source WPT's copies are synced from).
    if let Some(name) = path.strip_prefix("/interfaces/") {
        if file_for(&state.root, &path).is_none() && name.ends_with(".idl") && !name.contains('/') {
            let webref = state.resources.join("../../@webref/idl").join(name);
            if let Ok(bytes) = tokio::fs::read(&webref).await {
                return Ok(response(StatusCode::OK, "text/plain; charset=utf-8", bytes));
            }
        }
    }
    if let Some(page) = state.pages.lock().unwrap().get(&path_and_query).cloned() {
        return Ok(response(StatusCode::OK, "text/html; charset=utf-8", page));
    }
    if let Some(base) = path.strip_suffix(".any.worker.js") {
        let source_url = format!("{base}.any.js");
        if let Some(file) = file_for(&state.root, &source_url) {
            if let Ok(text) = tokio::fs::read_to_string(&file).await {
                return Ok(javascript(worker_script(&source_url, &text)));
            }
        }
    }
    if let Some(base) = path.strip_suffix(".any.worker-module.js") {
        let source_url = format!("{base}.any.js");
        if let Some(file) = file_for(&state.root, &source_url) {
            if let Ok(text) = tokio::fs::read_to_string(&file).await {
                return Ok(javascript(worker_module_script(&source_url, &text)));
            }
        }
    }
    let file_name = path.rsplit('/').next().unwrap_or("");
    if file_name.contains(".sub.") && !file_name.ends_with(".headers") {
        if let Some(file) = file_for(&state.root, &path) {
            if let Ok(text) = tokio::fs::read_to_string(&file).await {
                let info = request_info(&req);
                let hosts = state.hosts.lock().unwrap().clone();
                let (body, errors) = substitute(&text, &hosts, &info);
                for e in errors {
                    tracing::warn!(path, "{e}");
                }
                let content_type = swrt_server::content_type_for(&file);
                return Ok(response(StatusCode::OK, content_type, body));
            }
        }
    }
    Err(req)
}

fn request_info(req: &HookRequest) -> RequestInfo {
    // The front adds X-Forwarded-Proto (dropping any the client sent) to
    // requests that arrived on an https port.
    let https = req
        .headers()
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let default_port = if https { 443 } else { 80 };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let (hostname, port) = match host.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().unwrap_or(default_port)),
        None => (host.to_string(), default_port),
    };
    RequestInfo {
        scheme: if https { "https" } else { "http" }.into(),
        hostname,
        port,
        path: req.uri().path().to_string(),
        query: req
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
    }
}

/// The file behind a URL path, if it is a file inside the root.
pub fn file_for(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(url_path)
        .decode_utf8()
        .ok()?;
    if decoded.split('/').any(|s| s == ".." || s.contains('\\')) {
        return None;
    }
    let file = root.join(decoded.trim_start_matches('/'));
    let canonical = file.canonicalize().ok()?;
    (canonical.starts_with(root) && canonical.is_file()).then_some(canonical)
}

/// The worker script of an `.any.js` file's serviceworker scope, as
/// upstream's `.any.worker.js` handler writes it.
pub fn worker_script(source_url: &str, source: &str) -> String {
    let meta = parse_meta(source);
    let mut out = String::new();
    if let Some(title) = &meta.title {
        out.push_str(&format!("self.META_TITLE = {};\n", json(title)));
    }
    out.push_str(
        "self.GLOBAL = {\n  isWindow: function() { return false; },\n  isWorker: function() { return true; },\n  isShadowRealm: function() { return false; },\n};\n",
    );
    out.push_str("importScripts(\"/resources/testharness.js\");\n");
    for script in &meta.scripts {
        out.push_str(&format!("importScripts({});\n", json(script)));
    }
    out.push_str(&format!("importScripts({});\ndone();\n", json(source_url)));
    out
}

/// What a worker's test files read from `GLOBAL`.
const WORKER_GLOBAL: &str = "self.GLOBAL = {\n  isWindow: function() { return false; },\n  isWorker: function() { return true; },\n  isShadowRealm: function() { return false; },\n};\n";

/// The runner's module that sets `GLOBAL` in module workers.
const WORKER_MODULE_GLOBAL: &str = "/_swrt_wpt/worker-module-global.js";

/// The module worker script of an `.any.js` file's worker-module scopes, as
/// upstream's `.any.worker-module.js` handler writes it: testharness.js, the
/// META scripts and the file are `import`ed (so they run before the body,
/// which only sets the globals' description and calls `done()`).
pub fn worker_module_script(source_url: &str, source: &str) -> String {
    let meta = parse_meta(source);
    let mut out = String::new();
    if let Some(title) = &meta.title {
        out.push_str(&format!("self.META_TITLE = {};\n", json(title)));
    }
    // Imports run before the module's body: the globals' description is a
    // module of its own, imported first, so the test file sees it.
    out.push_str(&format!("import {};\n", json(WORKER_MODULE_GLOBAL)));
    out.push_str("import \"/resources/testharness.js\";\n");
    for script in &meta.scripts {
        out.push_str(&format!("import {};\n", json(&module_specifier(script))));
    }
    out.push_str(&format!("import {};\ndone();\n", json(source_url)));
    out
}

/// A META script path as an import specifier: a relative path
/// (`resources/x.js`) would be a bare specifier, so it gets `./`.
fn module_specifier(script: &str) -> String {
    if script.starts_with('/')
        || script.starts_with("./")
        || script.starts_with("../")
        || script.contains("://")
    {
        script.to_string()
    } else {
        format!("./{script}")
    }
}

/// A JSON string literal (valid JavaScript).
pub fn json(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A running wptserve.
pub struct WptServe {
    /// Its loopback address.
    pub addr: std::net::SocketAddr,
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl WptServe {
    /// Starts wptserve for `root` with the run's host names and ports. Returns
    /// an error (the caller warns and goes on without it) when Python or
    /// wptserve is missing.
    pub async fn start(root: &Path, hosts: &HostConfig) -> Result<WptServe, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let script = dir.path().join("serve.py");
        std::fs::write(&script, SERVE_PY).map_err(|e| e.to_string())?;
        let config = serde_json::json!({
            "browser_host": hosts.browser_host,
            "alt_host": hosts.alt_host,
            "ports": hosts.ports,
            "https_ports": hosts.https_ports,
            "subdomains": SUBDOMAINS.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        });
        let python = std::env::var("SWRT_WPT_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = tokio::process::Command::new(&python)
            .arg(&script)
            .arg(root)
            .arg(config.to_string())
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {python}: {e}"))?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let first =
            tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line()).await;
        let port = match first {
            Ok(Ok(Some(line))) => line
                .strip_prefix("PORT ")
                .and_then(|p| p.trim().parse::<u16>().ok()),
            _ => None,
        };
        let Some(port) = port else {
            let _ = child.start_kill();
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                use tokio::io::AsyncReadExt;
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(2),
                    stderr.read_to_string(&mut err),
                )
                .await;
            }
            let last = err.lines().last().unwrap_or("no output").to_string();
            return Err(format!("wptserve did not start ({last})"));
        };
        // Keep its stderr drained (and visible at debug level).
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(target: "wptserve", "{line}");
                }
            });
        }
        Ok(WptServe {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            child,
            _dir: dir,
        })
    }

    /// Stops it (closing stdin ends it; kill if it lingers).
    pub async fn stop(mut self) {
        drop(self.child.stdin.take());
        if tokio::time::timeout(std::time::Duration::from_secs(3), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_script_imports_in_order() {
        let s = worker_script(
            "/bg/x.https.any.js",
            "// META: global=window,serviceworker\n// META: script=resources/utils.js\n// META: title=T\n",
        );
        let harness = s
            .find("importScripts(\"/resources/testharness.js\")")
            .unwrap();
        let utils = s.find("importScripts(\"resources/utils.js\")").unwrap();
        let test = s.find("importScripts(\"/bg/x.https.any.js\")").unwrap();
        assert!(harness < utils && utils < test);
        assert!(s.contains("self.META_TITLE = \"T\""));
        assert!(s.trim_end().ends_with("done();"));
    }

    #[test]
    fn worker_module_script_imports_the_global_first() {
        let s = worker_module_script(
            "/w/x.any.js",
            "// META: global=worker-module\n// META: script=resources/utils.js\n// META: script=/common/x.js\n",
        );
        let global = s
            .find(&format!("import \"{WORKER_MODULE_GLOBAL}\""))
            .unwrap();
        let harness = s.find("import \"/resources/testharness.js\"").unwrap();
        let utils = s.find("import \"./resources/utils.js\"").unwrap();
        let common = s.find("import \"/common/x.js\"").unwrap();
        let test = s.find("import \"/w/x.any.js\"").unwrap();
        assert!(global < harness && harness < utils && utils < common && common < test);
        assert!(!s.contains("importScripts"));
        assert!(s.trim_end().ends_with("done();"));
    }

    #[test]
    fn file_for_stays_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("a.js"), "").unwrap();
        assert!(file_for(&root, "/a.js").is_some());
        assert!(file_for(&root, "/../a.js").is_none());
        assert!(file_for(&root, "/%2e%2e/a.js").is_none());
        assert!(file_for(&root, "/missing.js").is_none());
    }
}
