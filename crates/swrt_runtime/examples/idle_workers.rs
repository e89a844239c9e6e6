//! Resident memory per idle service worker (see BENCHMARKS.md).
//!
//! Starts `--workers N` (default 100) service workers in one
//! [`ServiceWorkerHost`], each with its own scope and script, waits until all
//! are activated, checks that every one of them is really running, lets them
//! sit idle, and prints one JSON line:
//!
//! ```text
//! {"workers":100,"rss_before_kib":...,"rss_after_kib":...,"per_worker_kib":...}
//! ```
//!
//! Workers boot from a startup snapshot, as in the `swrt` binary;
//! `--from-source` creates each engine from source instead.
//!
//! Run with `cargo run --release -p swrt_runtime --example idle_workers -- --workers 100`.
//! `bench/run.sh` runs it next to `bench/node_idle_workers.mjs`, its Node reference.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use swrt_runtime::{
    ConsoleLevel, EventOutcome, HostDelegate, Limits, LocalOriginMapping, ScriptError,
    ServiceWorkerHost, TerminationReason,
};
use url::Url;

/// The worker script, with `__ID__` replaced per worker so that every worker
/// evaluates its own source (no sharing of compiled code between them could
/// flatter the numbers). It keeps a little state and checks it on `message`:
/// a listener that throws makes the dispatch fail, which the program reports.
const SCRIPT: &str = r#"
const state = { id: __ID__, installed: false, activated: false, messages: 0, seen: new Map() };
self.addEventListener("install", (event) => {
  event.waitUntil(Promise.resolve().then(() => { state.installed = true; }));
});
self.addEventListener("activate", () => {
  if (!state.installed) throw new Error("activate before install finished");
  state.activated = true;
});
self.addEventListener("message", (event) => {
  state.messages += 1;
  state.seen.set(state.messages, event.data);
  if (!state.activated) throw new Error("message before activate");
  if (event.data.id !== state.id) throw new Error(`wrong worker: ${event.data.id} != ${state.id}`);
  // Same count as expected means this isolate kept running: a stopped and
  // restarted worker would have lost `state` and count from 1 again.
  if (state.messages !== event.data.expect) {
    throw new Error(`expected message ${event.data.expect}, this is message ${state.messages}`);
  }
});
"#;

/// Counts what would mean a worker did not really run as intended.
#[derive(Default)]
struct Watch {
    errors: AtomicUsize,
    terminations: AtomicUsize,
}

impl HostDelegate for Watch {
    fn console(&self, script_url: &Url, _level: ConsoleLevel, message: &str) {
        eprintln!("{script_url}: {message}");
    }
    fn uncaught_error(&self, script_url: &Url, error: &ScriptError) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        eprintln!("{script_url}: uncaught {}", error.message);
    }
    fn worker_terminated(&self, script_url: &Url, reason: &TerminationReason) {
        self.terminations.fetch_add(1, Ordering::Relaxed);
        eprintln!("{script_url}: terminated: {reason}");
    }
}

struct Args {
    workers: usize,
    idle: Duration,
    from_source: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        workers: 100,
        idle: Duration::from_secs(2),
        from_source: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--workers" => {
                args.workers = value("--workers")?
                    .parse()
                    .map_err(|e| format!("--workers: {e}"))?;
            }
            "--idle-ms" => {
                let ms: u64 = value("--idle-ms")?
                    .parse()
                    .map_err(|e| format!("--idle-ms: {e}"))?;
                args.idle = Duration::from_millis(ms);
            }
            "--from-source" => args.from_source = true,
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: idle_workers [--workers N] [--idle-ms MS] [--from-source]"
                ))
            }
        }
    }
    if args.workers == 0 {
        return Err("--workers must be at least 1".into());
    }
    Ok(args)
}

/// The process's resident set size in KiB, as the kernel reports it.
fn rss_kib() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS line in /proc/self/status".to_string())
}

fn write_scripts(dir: &Path, workers: usize) -> Result<(), String> {
    for i in 0..workers {
        let sub = dir.join(format!("w{i}"));
        std::fs::create_dir_all(&sub).map_err(|e| format!("{}: {e}", sub.display()))?;
        let text = SCRIPT.replace("__ID__", &i.to_string());
        std::fs::write(sub.join("sw.js"), text).map_err(|e| format!("{}: {e}", sub.display()))?;
    }
    Ok(())
}

/// Sends worker `i` its `expect`-th message and requires the event to succeed.
async fn check(host: &ServiceWorkerHost, scope: &Url, i: usize, expect: u32) -> Result<(), String> {
    let data = json!({ "data": { "id": i, "expect": expect } });
    match host.dispatch_event(scope, "message", data).await {
        Ok(EventOutcome::Completed) => Ok(()),
        Ok(other) => Err(format!("{scope}: message {expect} ended with {other:?}")),
        Err(e) => Err(format!("{scope}: message {expect} failed: {e}")),
    }
}

async fn run(args: Args) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    write_scripts(dir.path(), args.workers)?;
    let origin = Url::parse("http://localhost/").expect("a valid literal URL");
    let watch = Arc::new(Watch::default());
    let host = ServiceWorkerHost::builder()
        // Idle workers must stay running for the measurement: the default
        // 30 s idle stop would free exactly the memory being measured.
        .limits(Limits {
            idle_timeout: Duration::from_secs(24 * 60 * 60),
            ..Limits::default()
        })
        .delegate(watch.clone())
        .local_origin(LocalOriginMapping {
            origin: origin.clone(),
            dir: dir.path().to_path_buf(),
        })
        .build();

    // Baseline: the host and the tokio runtime exist, no worker does.
    let rss_before = rss_kib()?;

    // Register all workers at once, as an embedder bringing up many scopes
    // would; each gets its own isolate and thread regardless.
    let mut registering = tokio::task::JoinSet::new();
    for i in 0..args.workers {
        let host = host.clone();
        let script = origin
            .join(&format!("w{i}/sw.js"))
            .expect("a valid relative URL");
        registering.spawn(async move { (i, host.register(script, None).await) });
    }
    let mut scopes = vec![None; args.workers];
    while let Some(joined) = registering.join_next().await {
        let (i, result) = joined.map_err(|e| format!("registration task: {e}"))?;
        let info = result.map_err(|e| format!("worker {i}: {e}"))?;
        scopes[i] = Some(info.scope);
    }
    let scopes: Vec<Url> = scopes
        .into_iter()
        .map(|s| s.expect("every index joined"))
        .collect();

    // Every worker must be running its own script with its state intact.
    for (i, scope) in scopes.iter().enumerate() {
        check(&host, scope, i, 1).await?;
    }

    // Idle: no event in flight; give the threads time to settle their heaps.
    tokio::time::sleep(args.idle).await;
    let rss_after = rss_kib()?;

    // Still the same isolates after the measurement (message 2, not 1 again),
    // so the memory measured was that of running workers.
    for (i, scope) in scopes.iter().enumerate() {
        check(&host, scope, i, 2).await?;
    }
    let errors = watch.errors.load(Ordering::Relaxed);
    let terminations = watch.terminations.load(Ordering::Relaxed);
    if errors + terminations > 0 {
        return Err(format!(
            "{errors} uncaught error(s) and {terminations} termination(s) during the run"
        ));
    }
    host.shutdown().await;

    let per_worker = rss_after.saturating_sub(rss_before) as f64 / args.workers as f64;
    // Formatted by hand to keep the documented key order (serde_json's map
    // may sort keys, depending on features other crates enable).
    Ok(format!(
        r#"{{"workers":{},"rss_before_kib":{rss_before},"rss_after_kib":{rss_after},"per_worker_kib":{per_worker:.1}}}"#,
        args.workers
    ))
}

/// Boots the workers from a startup snapshot, as the `swrt` binary does.
/// A child process creates it, so that the memory the snapshot's own engine
/// used and freed is not reused by the workers measured here.
fn use_snapshot() -> Result<(), String> {
    let file = tempfile::NamedTempFile::new().map_err(|e| format!("temp file: {e}"))?;
    let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
    let status = std::process::Command::new(exe)
        .arg(WRITE_SNAPSHOT)
        .arg(file.path())
        .status()
        .map_err(|e| format!("snapshot process: {e}"))?;
    if !status.success() {
        return Err(format!("the snapshot process failed: {status}"));
    }
    let blob = std::fs::read(file.path()).map_err(|e| format!("read the snapshot: {e}"))?;
    swrt_runtime::snapshot::use_service_worker_snapshot(Box::leak(blob.into_boxed_slice()));
    Ok(())
}

/// The argument that makes this program write a snapshot to a file and exit.
const WRITE_SNAPSHOT: &str = "--write-snapshot-to";

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    if argv.next().as_deref() == Some(WRITE_SNAPSHOT) {
        let path = argv.next().unwrap_or_default();
        let written = swrt_runtime::snapshot::create_service_worker_snapshot()
            .map_err(|e| e.to_string())
            .and_then(|blob| std::fs::write(&path, blob).map_err(|e| format!("{path}: {e}")));
        return match written {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("idle_workers: cannot write the snapshot: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("idle_workers: {e}");
            return ExitCode::from(2);
        }
    };
    if !args.from_source {
        if let Err(e) = use_snapshot() {
            eprintln!("idle_workers: {e}");
            return ExitCode::FAILURE;
        }
    }
    // The host needs a multi-thread runtime (importScripts blocks a worker
    // thread on host I/O); two threads match the benchmark machine.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("idle_workers: {e}");
            ExitCode::FAILURE
        }
    }
}
