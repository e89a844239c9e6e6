//! `swrt run`: register a service worker and/or run a page of its origin,
//! and exit when all work is done.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use swrt_runtime::{
    BackgroundSyncConfig, HostError, Limits, LocalOriginMapping, ServiceWorkerHost, WorkerPrewarm,
};
use swrt_server::StaticOrigin;
use url::Url;

use crate::cli::RunArgs;
use crate::output::{format_error, CliDelegate};

const EXIT_OK: u8 = 0;
const EXIT_FAILURE: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// A usage error: one line on stderr, exit status 2.
fn usage(message: impl std::fmt::Display) -> u8 {
    eprintln!("swrt: {message}");
    EXIT_USAGE
}

fn seconds(name: &str, value: f64) -> Result<Duration, String> {
    if value.is_finite() && value > 0.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(format!(
            "--{name} must be a positive number of seconds, got {value}"
        ))
    }
}

/// Where the worker and page scripts come from and which origin they belong to.
struct Origin {
    script_url: Option<Url>,
    client_url: Option<Url>,
    local: Option<LocalOriginMapping>,
    /// A host name whose port-less URLs go to a loopback server (the
    /// server serving a local file's directory as `http://localhost`).
    route: Option<(String, SocketAddr)>,
    _server: Option<StaticOrigin>,
}

pub async fn run(args: RunArgs) -> u8 {
    // SIGINT/SIGTERM: stop gracefully so downloads in flight are persisted.
    let stop = crate::signal::install();
    let limits = match limits(&args) {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    let sync_retry_delay = match seconds("sync-retry-delay", args.sync_retry_delay) {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    let timeout = match args
        .timeout
        .map(|secs| seconds("timeout", secs))
        .transpose()
    {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    // Without --data-dir the run's state lives in a temporary dir.
    let temporary = match &args.data_dir {
        Some(_) => None,
        None => match tempfile::Builder::new().prefix("swrt-data-").tempdir() {
            Ok(dir) => Some(dir),
            Err(e) => {
                eprintln!("swrt: cannot create a temporary data dir: {e}");
                return EXIT_FAILURE;
            }
        },
    };
    let data_dir = match (&args.data_dir, &temporary) {
        (Some(dir), _) => dir.clone(),
        (None, Some(tmp)) => tmp.path().to_path_buf(),
        (None, None) => unreachable!("one of them is set"),
    };
    if let Err(e) = std::fs::create_dir_all(&data_dir) {
        return usage(format!(
            "cannot create --data-dir {}: {e}",
            data_dir.display()
        ));
    }
    let origin = match resolve_origin(&args).await {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let delegate = Arc::new(CliDelegate::default());
    let mut builder = ServiceWorkerHost::builder()
        .limits(limits)
        .delegate(delegate.clone())
        .data_dir(&data_dir)
        .allow_worker_initiated_fetch(!args.no_worker_background_fetch)
        // The first worker's engine is created while the origin and the
        // script are fetched.
        .prewarm(WorkerPrewarm::First)
        .background_sync(BackgroundSyncConfig {
            online: !args.offline,
            min_retry_delay: sync_retry_delay,
            ..BackgroundSyncConfig::default()
        });
    if let Some(local) = origin.local.clone() {
        builder = builder.local_origin(local);
    }
    if let Some((name, addr)) = &origin.route {
        builder = builder.route_host(name, *addr);
    }
    let host = match builder.start().await {
        Ok(host) => host,
        Err(e) => {
            eprintln!("swrt: {e}");
            return EXIT_FAILURE;
        }
    };
    let origin_name = origin
        .script_url
        .as_ref()
        .or(origin.client_url.as_ref())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();

    let page_done = AtomicBool::new(origin.client_url.is_none());
    let work = async {
        if let Some(script_url) = &origin.script_url {
            tracing::info!(%script_url, "registering");
            host.register_with_type(script_url.clone(), None, args.worker_type())
                .await?;
        }
        if let Some(client_url) = &origin.client_url {
            tracing::info!(%client_url, "opening page");
            let mut page = host.open_page(client_url.clone(), None).await?;
            if let Err(error) = page.evaluated().await {
                eprintln!("Uncaught error in {client_url}: {}", format_error(&error));
                delegate.mark_failed();
            }
            page_done.store(true, Ordering::Release);
        }
        // "All work is done": lifecycles finished, no background fetch of the
        // origin is active or waiting for its event, no event is in flight,
        // and no page or worker has a timer, a request or a message pending.
        let quiet = || async {
            host.events_in_flight() == 0
                && host.pages_idle()
                && host.background_fetch_work(&origin_name).await == 0
                && host.background_sync_work(&origin_name).await == 0
        };
        loop {
            if quiet().await {
                // A MessagePort message between two client realms is counted
                // nowhere while it travels, but wakes its receiver at once:
                // with clients, quiet must hold again a moment later with no
                // client realm having run in between.
                let Some(turns) = host.client_turns() else {
                    break;
                };
                tokio::time::sleep(Duration::from_millis(20)).await;
                if quiet().await && host.client_turns() == Some(turns) {
                    break;
                }
                continue;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok::<(), HostError>(())
    };
    let bounded = async {
        match timeout {
            None => Some(work.await),
            Some(limit) => tokio::time::timeout(limit, work).await.ok(),
        }
    };
    let result = tokio::select! {
        result = bounded => result,
        stop = stop => {
            let fetches = host.background_fetch_work(&origin_name).await;
            eprintln!(
                "swrt: stopping on {stop:?}; {fetches} background fetch(es) saved, a run with the same --data-dir resumes them"
            );
            // The engine stops first (see ServiceWorkerHost::shutdown): it
            // syncs every body and records how far each download got.
            host.shutdown().await;
            return stop.exit_code();
        }
    };
    let code = match result {
        None => {
            let page_pending = !page_done.load(Ordering::Acquire);
            let fetches = host.background_fetch_work(&origin_name).await;
            let mut what = pending(&host, origin.script_url.as_ref(), page_pending);
            if fetches > 0 {
                what.push_str(&format!(
                    "; {fetches} background fetch(es) of {origin_name} not finished"
                ));
            }
            eprintln!("swrt: --timeout reached; still pending: {what}");
            EXIT_FAILURE
        }
        Some(Err(error)) => {
            report(&error);
            if is_module_syntax_in_classic(&error, origin.script_url.as_ref(), &args) {
                eprintln!(
                    "hint: if the worker is an ES module (import/export), run it with --type module (or name it .mjs)"
                );
            }
            EXIT_FAILURE
        }
        Some(Ok(())) if delegate.failed() => EXIT_FAILURE,
        Some(Ok(())) => EXIT_OK,
    };
    host.shutdown().await;
    code
}

fn limits(args: &RunArgs) -> Result<Limits, String> {
    if args.heap_limit_mb == 0 {
        return Err("--heap-limit-mb must be at least 1".into());
    }
    Ok(Limits {
        event_timeout: seconds("event-timeout", args.event_timeout)?,
        wait_until_timeout: seconds("wait-until-timeout", args.wait_until_timeout)?,
        heap_limit_bytes: args.heap_limit_mb.saturating_mul(1024 * 1024),
        idle_timeout: seconds("idle-timeout", args.idle_timeout)?,
    })
}

/// A classic worker script that does not parse may be an ES module.
fn is_module_syntax_in_classic(
    error: &HostError,
    script_url: Option<&Url>,
    args: &RunArgs,
) -> bool {
    match error {
        HostError::Evaluation { url, error } => {
            args.worker_type() == swrt_runtime::WorkerType::Classic
                && script_url.is_some_and(|script| script.as_str() == url)
                && error.message.contains("SyntaxError")
        }
        _ => false,
    }
}

fn report(error: &HostError) {
    match error {
        HostError::Evaluation { url, error } => {
            eprintln!("error: {url} failed to evaluate: {}", format_error(error))
        }
        HostError::InstallFailed { url, error } => {
            eprintln!("error: install of {url} failed: {}", format_error(error))
        }
        other => eprintln!("error: {other}"),
    }
}

fn pending(host: &ServiceWorkerHost, script_url: Option<&Url>, page_pending: bool) -> String {
    let mut parts = Vec::new();
    match host.registrations().first() {
        None => {
            if let Some(url) = script_url {
                parts.push(format!("fetching and evaluating {url}"));
            }
        }
        Some(info) => {
            if let Some((url, state)) = &info.installing {
                parts.push(format!(
                    "{url} is {} (install event not finished)",
                    state.as_str()
                ));
            }
            if let Some((url, state)) = &info.waiting {
                parts.push(format!("{url} is {} (waiting to activate)", state.as_str()));
            }
            if let Some((url, state)) = &info.active {
                parts.push(format!("{url} is {}", state.as_str()));
            }
        }
    }
    let events = host.events_in_flight();
    if events > 0 {
        parts.push(format!("{events} event(s) or register job(s) in flight"));
    }
    if page_pending {
        parts.push("the page script has not finished (a top-level await is still waiting)".into());
    }
    if parts.is_empty() {
        parts.push("nothing the host can name".into());
    }
    parts.join("; ")
}

async fn resolve_origin(args: &RunArgs) -> Result<Origin, String> {
    let origin = match &args.origin {
        Some(text) => Some(parse_origin(text)?),
        None => None,
    };
    if let Some(root) = &args.root {
        return serve_root(root, origin, args).await;
    }
    let is_url = |s: &str| s.starts_with("http://") || s.starts_with("https://");
    let mut origin_out = Origin {
        script_url: None,
        client_url: None,
        local: None,
        route: None,
        _server: None,
    };
    let mut local_files: Vec<(bool, PathBuf)> = Vec::new();
    for (is_client, arg) in [(false, &args.sw), (true, &args.client)] {
        let Some(arg) = arg else { continue };
        if is_url(arg) {
            let url = Url::parse(arg).map_err(|e| format!("bad URL {arg}: {e}"))?;
            if is_client {
                origin_out.client_url = Some(url);
            } else {
                origin_out.script_url = Some(url);
            }
        } else if !Path::new(arg).is_file() {
            return Err(format!("no such file: {arg}"));
        } else {
            local_files.push((is_client, PathBuf::from(arg)));
        }
    }
    let Some((_, first)) = local_files.first() else {
        return Ok(origin_out);
    };
    let origin = origin.unwrap_or_else(|| Url::parse("http://localhost/").expect("valid"));
    // The first file's directory stands in for the origin's root; the other
    // file must live under it so both have URLs on the origin.
    let first = first
        .canonicalize()
        .map_err(|e| format!("{}: {e}", first.display()))?;
    let dir = first
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    for (is_client, path) in &local_files {
        let url = local_url(path, &dir, &origin)?;
        if *is_client {
            origin_out.client_url = Some(url);
        } else {
            origin_out.script_url = Some(url);
        }
    }
    if args.origin.is_none() {
        // The directory is the whole origin: a loopback server answers for
        // http://localhost, so fetch(), the Cache API and Background Fetch
        // read the files the scripts come from. With --origin, requests go
        // to that origin's own server (only scripts come from the files).
        let server = StaticOrigin::builder(dir.clone())
            .host_name("localhost")
            .start()
            .await
            .map_err(|e| format!("cannot serve {}: {e}", dir.display()))?;
        tracing::info!(addr = %server.local_addr(), "serving {} as {origin}", dir.display());
        origin_out.route = Some(("localhost".into(), server.local_addr()));
        origin_out._server = Some(server);
    }
    origin_out.local = Some(LocalOriginMapping { origin, dir });
    Ok(origin_out)
}

/// `--root DIR`: the embedded server is the origin; both files are paths in DIR.
async fn serve_root(root: &Path, origin: Option<Url>, args: &RunArgs) -> Result<Origin, String> {
    if !root.is_dir() {
        return Err(format!("--root {} is not a directory", root.display()));
    }
    let inside = |path: &String| -> Result<String, String> {
        let relative = path.trim_start_matches('/').to_string();
        if !root.join(&relative).is_file() {
            return Err(format!(
                "no such file in --root: {}",
                root.join(&relative).display()
            ));
        }
        Ok(relative)
    };
    let sw = args.sw.as_ref().map(inside).transpose()?;
    let client = args.client.as_ref().map(inside).transpose()?;
    let mut builder = StaticOrigin::builder(root.to_path_buf());
    if let Some(origin) = &origin {
        let host = origin.host_str().unwrap_or("127.0.0.1").to_string();
        let port = origin.port_or_known_default().unwrap_or(80);
        let addr = bind_address(&host, port)?;
        builder = builder
            .bind(addr)
            .host_name(host.trim_matches(|c| c == '[' || c == ']'));
    }
    let server = builder.start().await.map_err(|e| e.to_string())?;
    let base = server.origin();
    tracing::info!(origin = %base, "serving {}", root.display());
    let join = |relative: String| {
        base.join(&relative)
            .map_err(|e| format!("bad path {relative}: {e}"))
    };
    Ok(Origin {
        script_url: sw.map(join).transpose()?,
        client_url: client.map(join).transpose()?,
        local: None,
        route: None,
        _server: Some(server),
    })
}

/// A local file runs as `<origin>/<path relative to dir>`; `dir` stands in
/// for the origin's root so importScripts() finds neighbouring files.
fn local_url(path: &Path, dir: &Path, origin: &Url) -> Result<Url, String> {
    let path = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let relative = path.strip_prefix(dir).map_err(|_| {
        format!(
            "{} must be inside {}, the directory that stands in for the origin (use --root to choose it)",
            path.display(),
            dir.display()
        )
    })?;
    let relative = relative.to_str().ok_or("the file name is not UTF-8")?;
    origin
        .join(relative)
        .map_err(|e| format!("bad file name {relative}: {e}"))
}

fn parse_origin(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("bad --origin {text}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "--origin must be an http(s) origin such as http://localhost:8080, got {text}"
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "--origin must be an origin without a path, got {text}"
        ));
    }
    Ok(url)
}

fn bind_address(host: &str, port: u16) -> Result<SocketAddr, String> {
    let host = host.trim_matches(|c| c == '[' || c == ']');
    let candidates: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve --origin host {host}: {e}"))?
        .collect();
    candidates
        .iter()
        .find(|a| a.ip().is_loopback())
        .copied()
        .ok_or_else(|| {
            format!("--origin host {host} is not a loopback address; swrt only serves on loopback")
        })
}
