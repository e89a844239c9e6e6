//! swrt_wpt: runs web-platform-tests (testharness.js tests) on swrt.
//!
//! A run, for `swrt wpt --wpt-root DIR [PATH...]`:
//!
//! 1. [`discover`] finds the tests (`.window.js`, `.any.js` per scope and
//!    variant, testharness `.html` files) and the test URL (id) of each.
//! 2. Servers on loopback (see [`front`] and [`server`]): two http origin
//!    ports (`ports[http][0]`, `[1]`), two https origin ports (`ports[https]`,
//!    TLS with a CA generated for the run, see [`tls`], which every host of
//!    the run trusts), a forward proxy the runtime's HTTP clients
//!    are pointed at, swrt_server over the WPT root with the runner's hook
//!    (testharness.js from npm `wpt-runner` at `/resources/`, the runner's
//!    `testharnessreport.js` and `testdriver*.js`, generated wrappers,
//!    `.sub.` substitution, the report endpoint), and wptserve for `.py`
//!    handlers.
//! 3. Per test URL: a fresh [`ServiceWorkerHost`] (fresh realms) that trusts
//!    the run's CA, a page at `https://web-platform.test:HTTPS_PORT/<id>`
//!    (`.https.` tests) or `http://web-platform.test:PORT/<id>` (the others)
//!    loaded as an HTML document (the test file itself, or the wrapper
//!    document [`page`] writes); `testharnessreport.js` POSTs each result and the completion
//!    to the runner; the host is shut down before the next test.
//! 4. Results: one line per test URL, the subtest summary line, the
//!    comparison with the [`expectations`], and wptreport JSON ([`report`]).

pub mod discover;
pub mod expectations;
pub mod front;
pub mod meta;
pub mod page;
pub mod report;
pub mod server;
pub mod subst;
pub mod tls;

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use swrt_runtime::{ConsoleLevel, HostDelegate, Limits, ScriptError, ServiceWorkerHost};
use tokio::sync::mpsc;
use url::Url;

use crate::discover::{Kind, TestFile};
use crate::expectations::Expectations;
use crate::report::{Counts, SubtestResult, TestResult};
use crate::subst::HostConfig;

/// Exit status: results as expected.
pub const EXIT_OK: u8 = 0;
/// Exit status: failures (no expectations) or differences from them.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: usage error.
pub const EXIT_USAGE: u8 = 2;

/// The main WPT host name (resolved to loopback by the run's proxy).
pub const BROWSER_HOST: &str = "web-platform.test";
/// The alternate host name (`hosts[alt][]`).
pub const ALT_HOST: &str = "not-web-platform.test";

/// What `swrt wpt` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The test tree (an upstream checkout or the project's wpt/).
    pub wpt_root: PathBuf,
    /// Test paths or URLs under the root; empty means all.
    pub paths: Vec<String>,
    /// The expectations file.
    pub expectations: Option<PathBuf>,
    /// Where to write wptreport JSON.
    pub json: Option<PathBuf>,
    /// Multiplies testharness.js timeouts (10 s normal, 60 s long).
    pub timeout_multiplier: f64,
    /// wpt-runner's `testharness/` directory (found automatically if None).
    pub resources: Option<PathBuf>,
    /// Print console output and runtime errors of every test.
    pub verbose: bool,
}

/// Finds npm `wpt-runner`'s `testharness/` directory.
pub fn find_resources(explicit: Option<&PathBuf>) -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = explicit {
        candidates.push(p.clone());
    } else {
        if let Ok(p) = std::env::var("SWRT_WPT_RESOURCES") {
            candidates.push(PathBuf::from(p));
        }
        let tail = "wpt/node_modules/wpt-runner/testharness";
        candidates.push(PathBuf::from(tail));
        if let Ok(exe) = std::env::current_exe() {
            // target/<profile>/swrt -> the repository.
            if let Some(repo) = exe
                .parent()
                .and_then(|p| p.parent())
                .and_then(|p| p.parent())
            {
                candidates.push(repo.join(tail));
            }
        }
        candidates.push(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(tail),
        );
    }
    candidates
        .iter()
        .find(|p| p.join("testharness.js").is_file())
        .and_then(|p| p.canonicalize().ok())
        .ok_or_else(|| {
            format!(
                "cannot find testharness.js from npm wpt-runner (looked in {}); run scripts/setup.sh, or `npm install --prefix wpt wpt-runner@7.0.0`, or pass --resources DIR",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// Collects what one test's realms print, and takes the page's results out
/// of its console (see `js/testharnessreport.js`).
struct TestDelegate {
    lines: Mutex<Vec<String>>,
    token: String,
    /// `[swrt-wpt-report TOKEN] `: a console line starting with it is a report.
    report_prefix: String,
    /// `[swrt-wpt-permission TOKEN] `: a `test_driver.set_permission` call.
    permission_prefix: String,
    reports: mpsc::UnboundedSender<serde_json::Value>,
    /// Where permission changes apply (the current host) and are recorded.
    state: Option<Arc<server::State>>,
}

impl TestDelegate {
    fn new(
        token: &str,
        reports: mpsc::UnboundedSender<serde_json::Value>,
        state: Option<Arc<server::State>>,
    ) -> Self {
        TestDelegate {
            lines: Mutex::new(Vec::new()),
            token: token.to_string(),
            report_prefix: report_prefix(token),
            permission_prefix: format!("[swrt-wpt-permission {token}] "),
            reports,
            state,
        }
    }

    /// A `test_driver.set_permission` line of this test: applied to the
    /// running host now, so the page's promise may resolve right after.
    fn permission(&self, message: &str) -> bool {
        let Some(json) = message.strip_prefix(&self.permission_prefix) else {
            return false;
        };
        let Ok(p) = serde_json::from_str::<server::PermissionRequest>(json) else {
            return false;
        };
        tracing::info!(?p, "test_driver.set_permission");
        if let Some(state) = &self.state {
            if let (Some(host), Some(name), Some(origin)) = (
                state.current_host.lock().unwrap().as_ref(),
                &p.name,
                &p.origin,
            ) {
                host.set_permission(origin, name, p.state.as_deref().unwrap_or("granted"));
            }
            state
                .permissions
                .lock()
                .unwrap()
                .push((self.token.clone(), p));
        }
        true
    }

    /// A report line of this test: its JSON.
    fn report(&self, message: &str) -> Option<serde_json::Value> {
        serde_json::from_str(message.strip_prefix(&self.report_prefix)?).ok()
    }

    fn push(&self, line: String) {
        let mut lines = self.lines.lock().unwrap();
        if lines.len() < 500 {
            lines.push(line);
        }
    }
}

impl HostDelegate for TestDelegate {
    fn console(&self, script_url: &Url, level: ConsoleLevel, message: &str) {
        if let Some(report) = self.report(message) {
            let _ = self.reports.send(report);
            return;
        }
        if self.permission(message) {
            return;
        }
        let level = match level {
            ConsoleLevel::Debug => "debug",
            ConsoleLevel::Info => "log",
            ConsoleLevel::Warn => "warn",
            ConsoleLevel::Error => "error",
        };
        self.push(format!(
            "console.{level} ({}): {message}",
            script_url.path()
        ));
    }
    fn uncaught_error(&self, script_url: &Url, error: &ScriptError) {
        self.push(format!(
            "uncaught error in {}: {}",
            script_url.path(),
            error.message
        ));
    }
    fn worker_terminated(&self, script_url: &Url, reason: &swrt_runtime::TerminationReason) {
        self.push(format!("worker {} terminated: {reason}", script_url.path()));
    }
}

struct Run {
    state: Arc<server::State>,
    /// `http://web-platform.test:ports[http][0]/`.
    origin: Url,
    /// `https://web-platform.test:ports[https][0]/`, where `.https.` tests
    /// open (as upstream's runner serves them).
    https_origin: Url,
    client: reqwest::Client,
    multiplier: f64,
    /// The run's CA, trusted by every host of a test (https origins).
    root_certificate: swrt_runtime::Certificate,
    /// WPT host names, all on loopback: every host of a test resolves them
    /// there, refuses any other name, and treats them as secure contexts.
    test_hosts: std::collections::HashMap<String, std::net::IpAddr>,
}

/// Runs the tests and prints to `out`; returns the exit status.
pub async fn run(options: Options, out: &mut (dyn Write + Send)) -> u8 {
    match run_inner(options, out).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("swrt wpt: {message}");
            EXIT_USAGE
        }
    }
}

async fn run_inner(options: Options, out: &mut (dyn Write + Send)) -> Result<u8, String> {
    if !(options.timeout_multiplier.is_finite() && options.timeout_multiplier > 0.0) {
        return Err("--timeout-multiplier must be a positive number".into());
    }
    let root = options
        .wpt_root
        .canonicalize()
        .map_err(|e| format!("--wpt-root {}: {e}", options.wpt_root.display()))?;
    if !root.is_dir() {
        return Err(format!("--wpt-root {} is not a directory", root.display()));
    }
    let resources = find_resources(options.resources.as_ref())?;
    let expectations = options
        .expectations
        .as_deref()
        .map(Expectations::load)
        .transpose()?;
    let tests = discover::discover(&root, &options.paths)?;
    if tests.is_empty() {
        return Err(format!("no tests found under {}", root.display()));
    }

    // Servers.
    let hosts = HostConfig {
        browser_host: BROWSER_HOST.into(),
        alt_host: ALT_HOST.into(),
        ports: [0, 0],
        https_ports: [0, 0],
    };
    let state = server::State::new(root.clone(), resources, hosts.clone());
    let origin_server = server::start_origin(state.clone()).await?;
    let mut known_hosts: std::collections::HashSet<String> =
        hosts.all_hosts().into_iter().collect();
    known_hosts.extend(["localhost".to_string(), "127.0.0.1".to_string()]);
    // A CA for this run and a leaf certificate for every host name.
    let mut cert_names: Vec<String> = known_hosts.iter().cloned().collect();
    cert_names.sort();
    let ca = tls::TestCa::generate(&cert_names)?;
    let root_certificate = ca.root_certificate()?;
    // wptserve needs the origin ports, so it starts after the front.
    let (front, routes) = front::start(
        front::Routes {
            internal: origin_server.local_addr(),
            wptserve: Default::default(),
            hosts: known_hosts,
            origin_ports: [0, 0],
            https_ports: [0, 0],
        },
        ca.server_config.clone(),
    )
    .await
    .map_err(|e| format!("cannot listen on loopback: {e}"))?;
    {
        let mut hosts = state.hosts.lock().unwrap();
        hosts.ports = front.ports;
        hosts.https_ports = front.https_ports;
    }
    let hosts = state.hosts.lock().unwrap().clone();
    let wptserve = match server::WptServe::start(&root, &hosts).await {
        Ok(w) => {
            let _ = routes.wptserve.set(w.addr);
            Some(w)
        }
        Err(e) => {
            eprintln!("swrt wpt: {e}; tests that use Python handlers (*.py) will fail");
            None
        }
    };

    // Point every HTTP client the runtime builds at the run's proxy, so WPT
    // host names reach the loopback servers and nothing else leaves the
    // machine (see front.rs); https goes through it as CONNECT tunnels to the
    // https ports. Each test's host also resolves those names itself
    // (`resolve_hosts`) and trusts the run's CA.
    let proxy = format!("http://127.0.0.1:{}", front.proxy_port);
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        std::env::set_var(var, &proxy);
    }
    for var in ["NO_PROXY", "no_proxy"] {
        std::env::remove_var(var);
    }
    let client = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(&proxy).map_err(|e| e.to_string())?)
        .add_root_certificate(
            reqwest::Certificate::from_der(&root_certificate.to_der())
                .map_err(|e| e.to_string())?,
        )
        .build()
        .map_err(|e| e.to_string())?;
    let origin = Url::parse(&format!(
        "http://{}:{}/",
        hosts.browser_host, hosts.ports[0]
    ))
    .map_err(|e| e.to_string())?;
    let https_origin = Url::parse(&format!(
        "https://{}:{}/",
        hosts.browser_host, hosts.https_ports[0]
    ))
    .map_err(|e| e.to_string())?;
    let test_hosts = hosts
        .all_hosts()
        .into_iter()
        .map(|h| (h, std::net::IpAddr::from([127, 0, 0, 1])))
        .collect();
    let run = Run {
        state: state.clone(),
        origin,
        https_origin,
        client,
        multiplier: options.timeout_multiplier,
        root_certificate,
        test_hosts,
    };

    let time_start = now_ms();
    let mut results = Vec::new();
    let mut differences = Vec::new();
    for test in &tests {
        let result = match &test.kind {
            Kind::Skipped(reason) => TestResult::skipped(&test.id, reason),
            _ => run.one(test, options.verbose, out).await,
        };
        let _ = writeln!(out, "{}", result.line());
        for sub in &result.subtests {
            if sub.status != "PASS" {
                let mut line = format!("    {:<7} {}", sub.status, sub.name);
                if let Some(m) = &sub.message {
                    line.push_str(": ");
                    line.push_str(&report::one_line(m));
                }
                let _ = writeln!(out, "{line}");
            }
        }
        if let Some(e) = &expectations {
            for d in e.diff(&result) {
                let _ = writeln!(out, "    UNEXPECTED {d}");
                differences.push(d);
            }
        }
        let _ = out.flush();
        results.push(result);
    }
    let time_end = now_ms();
    // Entries for tests that did not run: only a run of the whole tree can
    // tell (a selection leaves the others out on purpose).
    if let (Some(e), true) = (&expectations, options.paths.is_empty()) {
        for d in e.stale_tests(results.iter().map(|r| r.test.as_str())) {
            let _ = writeln!(out, "UNEXPECTED {d}");
            differences.push(d);
        }
    }

    if let Some(path) = &options.json {
        let json = report::wptreport(&results, time_start, time_end);
        let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }

    if let Some(w) = wptserve {
        w.stop().await;
    }
    drop(front);
    origin_server.shutdown().await;

    let counts = Counts::of(&results);
    let code = match &expectations {
        Some(_) => {
            if differences.is_empty() {
                let _ = writeln!(out, "All results match the expectations.");
                EXIT_OK
            } else {
                let _ = writeln!(
                    out,
                    "{} result(s) differ from the expectations:",
                    differences.len()
                );
                for d in &differences {
                    let _ = writeln!(out, "    {d}");
                }
                EXIT_FAILED
            }
        }
        None if counts.failed > 0 => EXIT_FAILED,
        None => EXIT_OK,
    };
    if let Some(line) = counts.harness_line() {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{}", counts.line());
    let _ = out.flush();
    Ok(code)
}

/// True when the test URL's file name has a `.https.` (or `.h2.`) flag: such
/// tests open on the https origin, as upstream's runner serves them.
pub fn opens_on_https(id: &str) -> bool {
    let path = id.split(['?', '#']).next().unwrap_or(id);
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split('.').any(|flag| flag == "https" || flag == "h2")
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Run {
    /// The origin a test opens on (see [`opens_on_https`]).
    fn origin_for(&self, id: &str) -> &Url {
        if opens_on_https(id) {
            &self.https_origin
        } else {
            &self.origin
        }
    }

    /// Fetches a script the page would load, through the run's proxy.
    async fn fetch_text(&self, url: &Url) -> Result<String, String> {
        let resp = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("cannot load {url}: {e}"))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("cannot load {url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("cannot load {url}: HTTP {status}"));
        }
        Ok(text)
    }

    /// The document a test runs in (served at its URL while it runs), and
    /// whether it asks for the long timeout.
    async fn document(
        &self,
        test: &TestFile,
        page_url: &Url,
    ) -> Result<(Option<String>, bool), String> {
        match page::generated_html(test) {
            Some(html) => Ok((
                Some(html),
                test.meta.timeout == crate::meta::TimeoutKind::Long,
            )),
            None => {
                let html = self.fetch_text(page_url).await?;
                Ok((None, page::html_asks_long_timeout(&html)))
            }
        }
    }

    async fn one(
        &self,
        test: &TestFile,
        verbose: bool,
        out: &mut (dyn Write + Send),
    ) -> TestResult {
        let started = Instant::now();
        let mut result = TestResult {
            test: test.id.clone(),
            status: "OK".into(),
            message: None,
            subtests: Vec::new(),
            duration: 0,
        };
        let page_url = match self
            .origin_for(&test.id)
            .join(test.id.trim_start_matches('/'))
        {
            Ok(u) => u,
            Err(e) => {
                result.status = "ERROR".into();
                result.message = Some(format!("bad test URL: {e}"));
                return result;
            }
        };
        let (generated, long) = match self.document(test, &page_url).await {
            Ok(d) => d,
            Err(e) => {
                result.status = "ERROR".into();
                result.message = Some(e);
                return result;
            }
        };
        let token = uuid::Uuid::new_v4().simple().to_string();
        let (tx, mut rx) = mpsc::unbounded_channel();
        *self.state.runner_config.lock().unwrap() = Some(page::RunnerConfig {
            token: token.clone(),
            timeout_multiplier: self.multiplier,
        });
        // A generated test's wrapper document is served at the test's URL;
        // an .html test is served from disk as it is.
        if let Some(html) = generated {
            self.state
                .pages
                .lock()
                .unwrap()
                .insert(test.id.clone(), html);
        }

        let harness_secs = if long { 60.0 } else { 10.0 } * self.multiplier;
        // testharness.js times out first and reports; this is the backstop.
        let backstop = Duration::from_secs_f64(harness_secs + 10.0);
        let delegate = Arc::new(TestDelegate::new(&token, tx, Some(self.state.clone())));
        // A fresh data dir per test file: one file's durable state (background
        // fetches, caches, registrations) cannot leak into the next.
        let data_dir = match tempfile::Builder::new().prefix("swrt-wpt-").tempdir() {
            Ok(d) => d,
            Err(e) => {
                result.status = "ERROR".into();
                result.message = Some(format!("cannot create a data dir: {e}"));
                return result;
            }
        };
        let host = match ServiceWorkerHost::builder()
            .limits(Limits::default())
            .delegate(delegate.clone())
            .data_dir(data_dir.path())
            .resolve_hosts(self.test_hosts.clone(), false)
            .add_root_certificate(self.root_certificate.clone())
            .start()
            .await
        {
            Ok(host) => host,
            Err(e) => {
                result.status = "ERROR".into();
                result.message = Some(format!("cannot start the host: {e}"));
                return result;
            }
        };
        *self.state.current_host.lock().unwrap() = Some(host.clone());
        let mut partial: Vec<SubtestResult> = Vec::new();
        let mut evaluation_error: Option<String> = None;
        let mut completed = false;
        match host.open_page(page_url.clone(), None).await {
            Err(e) => {
                result.status = "ERROR".into();
                result.message = Some(format!("cannot open the page: {e}"));
                completed = true;
            }
            Ok(mut page) => {
                let deadline = tokio::time::sleep(backstop);
                tokio::pin!(deadline);
                let mut evaluated = false;
                while !completed {
                    tokio::select! {
                        r = page.evaluated(), if !evaluated => {
                            evaluated = true;
                            if let Err(e) = r {
                                evaluation_error = Some(e.message.clone());
                            }
                        }
                        msg = rx.recv() => {
                            let Some(msg) = msg else { break };
                            match msg.get("kind").and_then(|k| k.as_str()) {
                                Some("result") => {
                                    if let Some(s) = msg.get("subtest").and_then(subtest) {
                                        partial.push(s);
                                    }
                                }
                                Some("complete") => {
                                    completed = true;
                                    result.status = msg.get("status").and_then(|s| s.as_str()).unwrap_or("ERROR").to_string();
                                    result.message = msg.get("message").and_then(|s| s.as_str()).map(String::from);
                                    result.subtests = msg.get("subtests").and_then(|s| s.as_array()).map(|a| a.iter().filter_map(subtest).collect()).unwrap_or_default();
                                }
                                _ => {}
                            }
                        }
                        _ = &mut deadline => break,
                    }
                }
            }
        }
        if !completed {
            result.status = "TIMEOUT".into();
            result.message = Some(format!(
                "no completion from testharness.js within {:.0} s",
                backstop.as_secs_f64()
            ));
            result.subtests = partial;
        }
        if let Some(error) = evaluation_error {
            // In a browser an uncaught error in a page script makes the harness
            // status ERROR (unless the test allows uncaught exceptions).
            if result.status == "OK" {
                result.status = "ERROR".into();
                result.message = Some(format!("uncaught error while running the page: {error}"));
            } else if result.message.is_none() {
                result.message = Some(error);
            }
        }
        if tokio::time::timeout(Duration::from_secs(10), host.shutdown())
            .await
            .is_err()
        {
            delegate.push("the host did not shut down within 10 s".into());
        }
        drop(data_dir);
        self.state.pages.lock().unwrap().remove(&test.id);
        let permissions: Vec<_> = {
            let mut all = self.state.permissions.lock().unwrap();
            let (mine, rest): (Vec<_>, Vec<_>) = all.drain(..).partition(|(t, _)| *t == token);
            *all = rest;
            mine
        };
        result.duration = started.elapsed().as_millis() as u64;
        let failed = result.status != "OK" || result.subtests.iter().any(|s| s.status != "PASS");
        if verbose || (failed && std::env::var_os("SWRT_WPT_LOGS").is_some()) {
            for (_, p) in permissions {
                let _ = writeln!(
                    out,
                    "    | test_driver.set_permission({:?}, {:?}) for {:?}",
                    p.name, p.state, p.origin
                );
            }
            for line in delegate.lines.lock().unwrap().iter() {
                let _ = writeln!(out, "    | {line}");
            }
        }
        result
    }
}

/// The tag testharnessreport.js puts before each report of the page with
/// this token.
fn report_prefix(token: &str) -> String {
    format!("[swrt-wpt-report {token}] ")
}

fn subtest(v: &serde_json::Value) -> Option<SubtestResult> {
    Some(SubtestResult {
        name: v.get("name")?.as_str()?.to_string(),
        status: v.get("status")?.as_str()?.to_string(),
        message: v.get("message").and_then(|m| m.as_str()).map(String::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_come_from_console_lines_with_the_token() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let delegate = TestDelegate::new("abc", tx, None);
        let page = Url::parse("https://web-platform.test/x.html").unwrap();
        let line = format!(
            "{}{{\"kind\":\"complete\",\"status\":\"OK\"}}",
            report_prefix("abc")
        );
        delegate.console(&page, ConsoleLevel::Info, &line);
        // Another page's token, and ordinary output, are console output.
        let other = format!("{}{{\"kind\":\"complete\"}}", report_prefix("xyz"));
        delegate.console(&page, ConsoleLevel::Info, &other);
        delegate.console(&page, ConsoleLevel::Info, "hello");
        // A test_driver.set_permission call is taken out of the output too.
        delegate.console(
            &page,
            ConsoleLevel::Info,
            "[swrt-wpt-permission abc] {\"name\":\"background-fetch\",\"state\":\"denied\"}",
        );
        assert_eq!(rx.try_recv().unwrap()["status"], "OK");
        assert!(rx.try_recv().is_err());
        assert_eq!(delegate.lines.lock().unwrap().len(), 2);
    }

    #[test]
    fn https_flag_in_the_file_name_picks_the_https_origin() {
        assert!(opens_on_https("/bg/fetch.https.window.html"));
        assert!(opens_on_https("/sw/x.https.any.serviceworker.html?v=1"));
        assert!(opens_on_https("/x/y.h2.any.html"));
        assert!(!opens_on_https("/x/y.any.html"));
        assert!(!opens_on_https("/https/y.window.html"));
        assert!(!opens_on_https("/x/y.window.html?https.z"));
    }
}
