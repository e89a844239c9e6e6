//! `swrt serve`: a long-running host for many origins' service workers,
//! steered through an HTTP JSON control API with a web dashboard.
//!
//! Workers are registered by URL (any http(s) server; `--serve DIR` adds a
//! loopback origin for convenience). State lives in `--data-dir` (metadata in
//! PostgreSQL with `--store postgres://...`, bodies in S3-compatible object
//! storage with `--bodies s3://...`): on restart the
//! registrations come back and unfinished downloads resume. SIGINT and
//! SIGTERM stop the engine first, which syncs and records every download in
//! flight, then the workers.

mod control;

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use control::{ControlHub, ControlServer};
use swrt_fleet::{S3Bodies, S3Options};
use swrt_runtime::{
    ConsoleLevel, HostDelegate, ScriptError, ServiceWorkerHost, TerminationReason, WorkerPrewarm,
};
use swrt_server::StaticOrigin;
use swrt_store::BodyStorage;
use url::Url;

use crate::cli::ServeArgs;
use crate::output::format_error;
use crate::signal;

/// In the data dir: the address `--serve DIR` was last served on.
const SERVE_ORIGIN_FILE: &str = "serve-origin";

pub async fn serve(args: ServeArgs) -> u8 {
    match run(args).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("swrt serve: {message}");
            2
        }
    }
}

/// How long `--bodies` may take to answer at start.
const BODIES_PROBE: Duration = Duration::from_secs(10);

/// The object storage `--bodies` names, once it answered: a bad URL or a
/// store that cannot be reached stops the start with a message, before any
/// worker runs.
async fn s3_bodies(url: &str, args: &ServeArgs) -> Result<S3Bodies, String> {
    let options = S3Options {
        // Passed on rather than left to the environment, so that a plain
        // http:// endpoint (a local S3-compatible service) is allowed.
        endpoint: args
            .s3_endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok()),
        region: args.s3_region.clone(),
        ..S3Options::default()
    };
    let bodies = S3Bodies::new(url, &options, tokio::runtime::Handle::current())
        .map_err(|e| format!("bad --bodies {url}: {e}"))?;
    // The store's calls block: probe on the blocking pool, as it will run.
    let probe = bodies.clone();
    let answered = tokio::time::timeout(
        BODIES_PROBE,
        tokio::task::spawn_blocking(move || probe.is_empty()),
    )
    .await;
    match answered {
        Ok(Ok(Ok(_))) => Ok(bodies),
        Ok(Ok(Err(e))) => Err(format!("cannot reach --bodies {url}: {e}")),
        Ok(Err(e)) => Err(format!("cannot reach --bodies {url}: {e}")),
        Err(_) => Err(format!(
            "cannot reach --bodies {url}: no answer within {} s",
            BODIES_PROBE.as_secs()
        )),
    }
}

/// The database `--store` names; `shared` by the nodes of a fleet.
fn store_metadata(url: &str, shared: bool) -> Result<swrt_store::Metadata, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(swrt_store::Metadata::Postgres {
            url: url.to_string(),
            shared,
        })
    } else {
        Err(format!(
            "bad --store {url}: expected a PostgreSQL URL, postgres://USER:PASSWORD@HOST:PORT/DB"
        ))
    }
}

/// The fleet's database (the `--store` one) and this node's leases on the
/// fleet's fetches there.
async fn fleet_claims(
    node: &str,
    url: &str,
    args: &ServeArgs,
) -> Result<(swrt_fleet::FleetDb, Arc<dyn swrt_bgfetch::FetchClaims>), String> {
    if node.is_empty() {
        return Err("--fleet-node must not be empty".into());
    }
    let db = swrt_fleet::FleetDb::connect(url)
        .await
        .map_err(|e| format!("cannot use --store for the fleet: {e}"))?;
    let leases =
        swrt_fleet::Leases::new(db.clone(), node, Duration::from_secs(args.fleet_lease_secs));
    let claims = swrt_fleet::FleetClaims::new(leases, args.fleet_max_fetches as usize);
    Ok((db, Arc::new(claims)))
}

async fn run(args: ServeArgs) -> Result<u8, String> {
    let stop = signal::install();
    let listen = resolve(&args.listen)?;
    // Anyone who can call the API can make this machine download and run
    // code: state-changing calls always need a token (a random one unless
    // given), and beyond loopback every call does.
    if args.token.as_deref() == Some("") {
        return Err("--token must not be empty".into());
    }
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|e| format!("cannot create --data-dir {}: {e}", args.data_dir.display()))?;
    let bodies = match &args.bodies {
        Some(url) => Some(s3_bodies(url, &args).await?),
        None => None,
    };

    let origin = match &args.serve {
        None => None,
        Some(dir) => {
            let fresh = || StaticOrigin::builder(dir).shutdown_timeout(Duration::from_secs(1));
            let mut builder = fresh();
            // Without --serve-origin, the port of the last run: the workers
            // registered from DIR keep their origin (and so their
            // registrations and data) across restarts.
            let remembered = args.data_dir.join(SERVE_ORIGIN_FILE);
            let last = match &args.serve_origin {
                Some(_) => None,
                None => std::fs::read_to_string(&remembered)
                    .ok()
                    .and_then(|t| t.trim().parse::<SocketAddr>().ok())
                    .filter(|a| a.ip().is_loopback()),
            };
            if let Some(addr) = last {
                builder = builder.bind(addr);
            }
            if let Some(text) = &args.serve_origin {
                let url =
                    Url::parse(text).map_err(|e| format!("bad --serve-origin {text}: {e}"))?;
                let host = url.host_str().unwrap_or("127.0.0.1").to_string();
                let addr = resolve(&format!(
                    "{host}:{}",
                    url.port_or_known_default().unwrap_or(80)
                ))?;
                if !addr.ip().is_loopback() {
                    return Err(format!("--serve-origin {text} is not a loopback address"));
                }
                builder = builder
                    .bind(addr)
                    .host_name(host.trim_matches(|c| c == '[' || c == ']'));
            }
            let started = match (builder.start().await, last) {
                (Ok(origin), _) => origin,
                (Err(e), Some(addr)) => {
                    eprintln!(
                        "swrt serve: cannot serve {} on its previous address {addr} ({e}); \
                         using a free port, so its workers' origin changes",
                        dir.display()
                    );
                    fresh().start().await.map_err(|e| e.to_string())?
                }
                (Err(e), None) => return Err(e.to_string()),
            };
            if args.serve_origin.is_none() {
                if let Err(e) = std::fs::write(&remembered, started.local_addr().to_string()) {
                    eprintln!("swrt serve: cannot write {}: {e}", remembered.display());
                }
            }
            Some(started)
        }
    };

    let hub = ControlHub::new();
    let mut builder = ServiceWorkerHost::builder()
        .delegate(Arc::new(ServeDelegate))
        .data_dir(&args.data_dir)
        .allow_worker_initiated_fetch(!args.no_worker_background_fetch)
        .background_fetch_ui(hub.clone())
        // A worker woken for an event takes a ready realm.
        .prewarm(WorkerPrewarm::KeepOne);
    if let Some(bodies) = bodies {
        builder = builder.bodies(Box::new(bodies));
    }
    if let Some(url) = &args.store {
        builder = builder.metadata(store_metadata(url, args.fleet_node.is_some())?);
    }
    let mut fleet = None;
    if let (Some(node), Some(url)) = (&args.fleet_node, &args.store) {
        let (db, claims) = fleet_claims(node, url, &args).await?;
        builder = builder.background_fetch_claims(claims);
        fleet = Some((node.clone(), db));
    }
    let host = builder.start().await.map_err(|e| e.to_string())?;
    if let (Some((node, db)), Some(service)) = (fleet, host.background_fetch()) {
        // Every node's dashboard and event stream show the whole fleet's fetches.
        swrt_fleet::spawn_progress_relay(service.clone(), swrt_fleet::Changes::new(db), node);
    }
    let control = ControlServer::builder(host.clone(), hub)
        .listen(listen)
        .token(args.token.clone())
        .start()
        .await
        .map_err(|e| e.to_string())?;

    let base = format!("http://{}/", control.local_addr());
    // The first line is machine-readable (tests and scripts wait for it).
    say(&format!("swrt serve: listening on {base}"));
    let token = control.token();
    say(&format!(
        "  token:     {token}  (send Authorization: Bearer <token>)"
    ));
    say(&format!("  dashboard: {base}#token={token}"));
    say(&format!("  API:       {base}openapi.json"));
    say(&format!("  data dir:  {}", args.data_dir.display()));
    if let Some(url) = &args.bodies {
        say(&format!("  bodies:    {url}"));
    }
    if let Some(node) = &args.fleet_node {
        say(&format!(
            "  fleet:     node {node}, leases of {} s, up to {} fetches",
            args.fleet_lease_secs, args.fleet_max_fetches
        ));
    }
    if let Some(origin) = &origin {
        say(&format!(
            "  serving {} as {}",
            origin.root().display(),
            origin.origin()
        ));
    }
    for registration in host.registrations() {
        say(&format!("  restored registration {}", registration.scope));
    }

    let stop = stop.await;
    say(&format!(
        "swrt serve: {} received; saving downloads in flight and stopping",
        match stop {
            signal::Stop::Interrupt => "SIGINT",
            signal::Stop::Terminate => "SIGTERM",
        }
    ));
    control.shutdown().await;
    host.shutdown().await;
    if let Some(origin) = origin {
        origin.shutdown().await;
    }
    say("swrt serve: stopped");
    Ok(0)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn resolve(text: &str) -> Result<SocketAddr, String> {
    text.to_socket_addrs()
        .map_err(|e| format!("bad address {text}: {e}"))?
        .next()
        .ok_or_else(|| format!("{text} resolves to no address"))
}

/// Worker output, one line each, prefixed with the script so many origins'
/// workers can share one log.
struct ServeDelegate;

impl HostDelegate for ServeDelegate {
    fn console(&self, script_url: &Url, _level: ConsoleLevel, message: &str) {
        say(&format!("[{script_url}] {message}"));
    }

    fn open_window(&self, script_url: &Url, url: &Url) -> bool {
        // A daemon has no windows; the request is reported so an operator
        // (or a wrapper reading the log) can act on it.
        say(&format!("[{script_url}] clients.openWindow({url})"));
        false
    }

    fn uncaught_error(&self, script_url: &Url, error: &ScriptError) {
        eprintln!("Uncaught error in {script_url}: {}", format_error(error));
    }

    fn worker_terminated(&self, script_url: &Url, reason: &TerminationReason) {
        eprintln!("swrt serve: worker {script_url} was terminated: {reason}");
    }
}
