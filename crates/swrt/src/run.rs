//! `swrt run`: register one service worker and run until all work is done.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use swrt_runtime::{HostError, Limits, LocalOriginMapping, ServiceWorkerHost};
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

/// Where the worker script comes from and which origin it belongs to.
struct Origin {
    script_url: Url,
    local: Option<LocalOriginMapping>,
    _server: Option<StaticOrigin>,
}

pub async fn run(args: RunArgs) -> u8 {
    let limits = match limits(&args) {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    if let Some(dir) = &args.data_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return usage(format!("cannot create --data-dir {}: {e}", dir.display()));
        }
    }
    let origin = match resolve_origin(&args).await {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let delegate = Arc::new(CliDelegate::default());
    let mut builder = ServiceWorkerHost::builder()
        .limits(limits)
        .delegate(delegate.clone());
    if let Some(local) = origin.local.clone() {
        builder = builder.local_origin(local);
    }
    let host = builder.build();
    let script_url = origin.script_url.clone();
    tracing::info!(%script_url, "registering");

    let work = async {
        let result = host.register(script_url.clone(), None).await;
        // "All work is done": the lifecycle finished and no event is in flight.
        while host.events_in_flight() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        result
    };
    let result = match args.timeout {
        None => Some(work.await),
        Some(secs) => match seconds("timeout", secs) {
            Err(e) => return usage(e),
            Ok(limit) => tokio::time::timeout(limit, work).await.ok(),
        },
    };
    let code = match result {
        None => {
            eprintln!(
                "swrt: --timeout reached; still pending: {}",
                pending(&host, &script_url)
            );
            EXIT_FAILURE
        }
        Some(Err(error)) => {
            report(&error);
            EXIT_FAILURE
        }
        Some(Ok(_)) if delegate.failed() => EXIT_FAILURE,
        Some(Ok(_)) => EXIT_OK,
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

fn pending(host: &ServiceWorkerHost, script_url: &Url) -> String {
    match host.registrations().first() {
        None => format!("fetching and evaluating {script_url}"),
        Some(info) => {
            let mut parts = Vec::new();
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
            let events = host.events_in_flight();
            if events > 0 {
                parts.push(format!("{events} event(s) in flight"));
            }
            if parts.is_empty() {
                format!("evaluating {script_url}")
            } else {
                parts.join("; ")
            }
        }
    }
}

async fn resolve_origin(args: &RunArgs) -> Result<Origin, String> {
    let origin = match &args.origin {
        Some(text) => Some(parse_origin(text)?),
        None => None,
    };
    if let Some(root) = &args.root {
        if !root.is_dir() {
            return Err(format!("--root {} is not a directory", root.display()));
        }
        let relative = args.sw.trim_start_matches('/');
        if !root.join(relative).is_file() {
            return Err(format!(
                "no such file in --root: {}",
                root.join(relative).display()
            ));
        }
        let mut builder = StaticOrigin::builder(root.clone());
        if let Some(origin) = &origin {
            let host = origin.host_str().unwrap_or("127.0.0.1").to_string();
            let port = origin.port_or_known_default().unwrap_or(80);
            let addr = bind_address(&host, port)?;
            builder = builder
                .bind(addr)
                .host_name(host.trim_matches(|c| c == '[' || c == ']'));
        }
        let server = builder.start().await.map_err(|e| e.to_string())?;
        let script_url = server
            .origin()
            .join(relative)
            .map_err(|e| format!("bad worker path {relative}: {e}"))?;
        tracing::info!(origin = %server.origin(), "serving {}", root.display());
        return Ok(Origin {
            script_url,
            local: None,
            _server: Some(server),
        });
    }
    if args.sw.starts_with("http://") || args.sw.starts_with("https://") {
        let script_url = Url::parse(&args.sw).map_err(|e| format!("bad URL {}: {e}", args.sw))?;
        return Ok(Origin {
            script_url,
            local: None,
            _server: None,
        });
    }
    let path = PathBuf::from(&args.sw);
    if !path.is_file() {
        return Err(format!("no such file: {}", path.display()));
    }
    let origin = origin.unwrap_or_else(|| Url::parse("http://localhost/").expect("valid"));
    local_script(&path, origin)
}

/// A local file runs as `<origin>/<file name>`, with the file's directory
/// standing in for the origin's root so importScripts() finds its neighbours.
fn local_script(path: &Path, origin: Url) -> Result<Origin, String> {
    let path = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("the file name is not UTF-8")?;
    let script_url = origin
        .join(name)
        .map_err(|e| format!("bad file name {name}: {e}"))?;
    Ok(Origin {
        script_url,
        local: Some(LocalOriginMapping { origin, dir }),
        _server: None,
    })
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
