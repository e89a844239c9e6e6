//! Wake latency of an idle-stopped service worker (see BENCHMARKS.md).
//!
//! Registers one worker in a [`ServiceWorkerHost`] whose idle timeout is
//! short, then `--runs` times: waits until the host has stopped the idle
//! worker, dispatches a `message` event and times it until the event has
//! completed (a cold wake: a new isolate, the global scope built, the script
//! evaluated, the event run), then dispatches a second one to the running
//! worker (a warm event). The worker throws unless the cold event is the
//! first its isolate sees, so every cold figure really is a restart. Prints
//! one JSON line with the medians and 99th percentiles in milliseconds.
//!
//! The host keeps a prewarmed realm, as `swrt serve` does; `--no-prewarm`
//! measures a wake that creates its engine. Engines boot from a startup
//! snapshot, as in the `swrt` binary; `--from-source` creates them from
//! source instead.
//!
//! Run with `cargo run --release -p swrt_runtime --example wake_latency -- --runs 200`.
//! `bench/wake.sh` runs it next to `bench/node_wake.mjs`, its Node reference.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use swrt_runtime::{
    ConsoleLevel, EventOutcome, HostDelegate, Limits, LocalOriginMapping, ScriptError,
    ServiceWorkerHost, TerminationReason, WorkerPrewarm,
};
use url::Url;

/// Counts messages per isolate: a cold event must be the isolate's first.
const SCRIPT: &str = r#"
let messages = 0;
self.addEventListener("message", (event) => {
  messages += 1;
  if (event.data.cold && messages !== 1) {
    throw new Error(`not a cold start: this isolate has seen ${messages} messages`);
  }
});
"#;

#[derive(Default)]
struct Watch {
    errors: AtomicUsize,
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
        eprintln!("{script_url}: terminated: {reason}");
    }
}

struct Args {
    runs: usize,
    idle: Duration,
    prewarm: WorkerPrewarm,
    from_source: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        runs: 100,
        idle: Duration::from_millis(50),
        prewarm: WorkerPrewarm::KeepOne,
        from_source: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .ok_or_else(|| format!("{name} needs a value"))?
                .parse()
                .map_err(|e| format!("{name}: {e}"))
        };
        match flag.as_str() {
            "--runs" => args.runs = number("--runs")? as usize,
            "--idle-ms" => args.idle = Duration::from_millis(number("--idle-ms")?),
            "--no-prewarm" => args.prewarm = WorkerPrewarm::Off,
            "--from-source" => args.from_source = true,
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: wake_latency [--runs N] [--idle-ms MS] [--no-prewarm] [--from-source]"
                ))
            }
        }
    }
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(args)
}

/// The `q`-quantile (nearest rank) of sorted `values`, in milliseconds.
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

async fn timed_message(
    host: &ServiceWorkerHost,
    scope: &Url,
    cold: bool,
) -> Result<Duration, String> {
    let started = Instant::now();
    match host
        .dispatch_event(scope, "message", json!({ "data": { "cold": cold } }))
        .await
    {
        Ok(EventOutcome::Completed) => Ok(started.elapsed()),
        Ok(other) => Err(format!("message (cold: {cold}) ended with {other:?}")),
        Err(e) => Err(format!("message (cold: {cold}) failed: {e}")),
    }
}

async fn run(args: Args) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    std::fs::write(dir.path().join("sw.js"), SCRIPT).map_err(|e| format!("sw.js: {e}"))?;
    let origin = Url::parse("http://localhost/").expect("a valid literal URL");
    let watch = Arc::new(Watch::default());
    let host = ServiceWorkerHost::builder()
        .limits(Limits {
            idle_timeout: args.idle,
            ..Limits::default()
        })
        .prewarm(args.prewarm)
        .delegate(watch.clone())
        .local_origin(LocalOriginMapping {
            origin: origin.clone(),
            dir: dir.path().to_path_buf(),
        })
        .build();
    let script = origin.join("sw.js").expect("a valid relative URL");
    let scope = host
        .register(script, None)
        .await
        .map_err(|e| format!("register: {e}"))?
        .scope;

    let mut cold = Vec::with_capacity(args.runs);
    let mut warm = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        // Past the idle timeout, with room for the stop itself and for the
        // host to prewarm the next realm (wakes in `swrt serve` come at
        // least an idle timeout, 30 s by default, apart).
        tokio::time::sleep(args.idle * 2 + Duration::from_millis(300)).await;
        cold.push(timed_message(&host, &scope, true).await?);
        warm.push(timed_message(&host, &scope, false).await?);
    }
    let errors = watch.errors.load(Ordering::Relaxed);
    if errors > 0 {
        return Err(format!("{errors} uncaught error(s) during the run"));
    }
    host.shutdown().await;
    cold.sort();
    warm.sort();
    Ok(format!(
        r#"{{"runs":{},"cold_p50_ms":{:.2},"cold_p99_ms":{:.2},"warm_p50_ms":{:.3},"warm_p99_ms":{:.3}}}"#,
        args.runs,
        quantile_ms(&cold, 0.5),
        quantile_ms(&cold, 0.99),
        quantile_ms(&warm, 0.5),
        quantile_ms(&warm, 0.99),
    ))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("wake_latency: {e}");
            return ExitCode::from(2);
        }
    };
    // Workers boot from a startup snapshot, as in the `swrt` binary.
    if !args.from_source {
        match swrt_runtime::snapshot::create_service_worker_snapshot() {
            Ok(blob) => {
                swrt_runtime::snapshot::use_service_worker_snapshot(Box::leak(
                    blob.into_boxed_slice(),
                ));
            }
            Err(e) => {
                eprintln!("wake_latency: cannot create the startup snapshot: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
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
            eprintln!("wake_latency: {e}");
            ExitCode::FAILURE
        }
    }
}
