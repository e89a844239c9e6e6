//! Shared by the process-level tests: a loopback origin with throttled
//! generated files, a ping endpoint that records what workers report, and
//! helpers to run the `swrt` binary with bounded waits.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use swrt_server::generated::{artwork_png, GeneratedFile, GeneratedFiles};
use swrt_server::{HookFuture, RequestHook, StaticOrigin};

pub const MIB: u64 = 1024 * 1024;

/// What the origin saw.
#[derive(Default)]
pub struct Seen {
    /// `(path, Range header)` of every request of a generated file.
    pub requests: Mutex<Vec<(String, Option<String>)>>,
    /// Query strings of `/ping?...` requests (workers report events here).
    pub pings: Mutex<Vec<String>>,
    /// `(query, SHA-256 hex)` of every body `POST`ed to `/digest?...`:
    /// workers send back what they read, and the test checks it byte for
    /// byte.
    pub digests: Mutex<Vec<(String, String)>>,
}

impl Seen {
    /// Largest `bytes=N-` start seen for `path`.
    pub fn resumed_from(&self, path: &str) -> Option<u64> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .filter_map(|(_, r)| {
                r.as_deref()?
                    .strip_prefix("bytes=")?
                    .split('-')
                    .next()?
                    .parse()
                    .ok()
            })
            .max()
    }

    pub fn pinged(&self, needle: &str) -> bool {
        self.pings
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.contains(needle))
    }
}

/// Serves `dir` plus `files` (throttled to `rate` bytes/s per response),
/// `/ping` and `/digest` on a loopback port; `/icon.png` is a generated PNG.
/// `POST /upload` answers with the SHA-256 (hex) of the body it received.
pub async fn origin(dir: &Path, files: Vec<GeneratedFile>, rate: u64) -> (StaticOrigin, Arc<Seen>) {
    std::fs::write(dir.join("icon.png"), artwork_png(32, 32)).unwrap();
    let seen = Arc::new(Seen::default());
    let observer = seen.clone();
    let generated = GeneratedFiles::new(files)
        .rate_limit(Some(rate))
        .observe(Arc::new(move |path, range| {
            observer
                .requests
                .lock()
                .unwrap()
                .push((path.to_string(), range.map(str::to_string)));
        }));
    let pings = seen.clone();
    let hook = RequestHook::new(move |req| -> HookFuture {
        if req.uri().path() == "/ping" {
            pings
                .pings
                .lock()
                .unwrap()
                .push(req.uri().query().unwrap_or("").to_string());
            let mut resp = axum::response::Response::new(axum::body::Body::from("ok"));
            resp.headers_mut()
                .insert("access-control-allow-origin", "*".parse().unwrap());
            return Box::pin(async move { Ok(resp) });
        }
        if req.method() == axum::http::Method::POST
            && matches!(req.uri().path(), "/digest" | "/upload")
        {
            let digests = pings.clone();
            return Box::pin(async move {
                let query = req.uri().query().unwrap_or("").to_string();
                let upload = req.uri().path() == "/upload";
                let body = axum::body::to_bytes(req.into_body(), usize::MAX)
                    .await
                    .unwrap_or_default();
                let hex = sha256_hex(&body);
                if !upload {
                    digests.digests.lock().unwrap().push((query, hex.clone()));
                }
                Ok(axum::response::Response::new(axum::body::Body::from(hex)))
            });
        }
        let answer = generated.try_respond(req);
        Box::pin(async move { answer })
    });
    let server = StaticOrigin::builder(dir)
        .hook(hook)
        .shutdown_timeout(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    (server, seen)
}

pub fn swrt() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swrt"));
    cmd.env("RUST_LOG", "warn");
    cmd
}

/// Sends SIGTERM (or SIGINT) to a child this test started.
pub fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Lets the child run for `after` more (a download in flight gets some
/// bytes to resume from), sends `sig`, and waits up to 20 s for its exit.
pub async fn interrupt(child: &mut Child, sig: &str, after: Duration) -> ExitStatus {
    tokio::time::sleep(after).await;
    signal(child, sig);
    wait_exit(child, Duration::from_secs(20)).await
}

/// Waits for the child to exit, at most `limit`; kills it and panics after.
pub async fn wait_exit(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("swrt did not exit within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `cond` until it holds, at most `limit`.
pub async fn until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Collects a child's stdout lines on a thread.
pub fn lines(child: &mut Child) -> Arc<Mutex<Vec<String>>> {
    let out = Arc::new(Mutex::new(Vec::new()));
    let sink = out.clone();
    let stdout = child.stdout.take().expect("stdout piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    out
}

pub fn piped(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    cmd.spawn().expect("spawn swrt")
}

/// Starts `swrt serve` on a free loopback port. Returns the process, its
/// stdout lines, the API base URL and the bearer token it printed.
pub async fn start_serve(data_dir: &Path) -> (Child, Arc<Mutex<Vec<String>>>, String, String) {
    start_serve_with(data_dir, swrt(), &[]).await
}

/// [`start_serve`] with `cmd` (from [`swrt`], with an environment of the
/// test's own) and more arguments for `swrt serve`.
pub async fn start_serve_with(
    data_dir: &Path,
    mut cmd: Command,
    args: &[&str],
) -> (Child, Arc<Mutex<Vec<String>>>, String, String) {
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args);
    let mut child = piped(cmd);
    let out = lines(&mut child);
    let mut base = String::new();
    let mut token = String::new();
    until("swrt serve to listen", Duration::from_secs(60), || {
        let out = out.lock().unwrap();
        let after = |marker: &str| {
            out.iter()
                .find_map(|l| l.split(marker).nth(1))
                .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
        };
        base = after("listening on ").unwrap_or_default();
        token = after("token: ").unwrap_or_default();
        !base.is_empty() && !token.is_empty()
    })
    .await;
    (child, out, base, token)
}

/// Registers the worker at `script_url` through the control API at `api`;
/// panics unless the API accepts it.
pub async fn register_worker(client: &reqwest::Client, api: &str, script_url: &url::Url) {
    let registered = client
        .post(format!("{api}api/workers"))
        .json(&serde_json::json!({ "script_url": script_url }))
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success(), "{registered:?}");
}

/// Starts a background fetch through the control API at `api` (`request`
/// is the body of `POST /api/fetches`); returns its unique id.
pub async fn start_fetch(
    client: &reqwest::Client,
    api: &str,
    request: serde_json::Value,
) -> String {
    let started = get_json_response(client.post(format!("{api}api/fetches")).json(&request)).await;
    started["unique_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no fetch started: {started}"))
        .to_string()
}

/// `GET url` as JSON.
pub async fn get_json(client: &reqwest::Client, url: String) -> serde_json::Value {
    get_json_response(client.get(url)).await
}

async fn get_json_response(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// A client that sends `token` as the control API's bearer token.
pub fn control_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// The episode bytes check, in JavaScript, for worker scripts.
pub const VERIFY_JS: &str = r#"
function verify(bytes, seed, size) {
  let ok = bytes.length === size;
  for (let i = 0; i < bytes.length && ok; i += 997) ok = bytes[i] === (i * 31 + seed * 7 + 7) % 251;
  return ok;
}
"#;

/// SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn big(path: &str, len: u64) -> GeneratedFile {
    GeneratedFile::new(path, len, 3, "application/octet-stream")
}
