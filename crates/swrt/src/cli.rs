//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// swrt: a service-worker runtime with durable Background Fetch.
#[derive(Debug, Parser)]
#[command(name = "swrt", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register a service worker, run its lifecycle and exit when all work is done.
    Run(RunArgs),
    /// Run web-platform-tests (testharness.js tests) and report each subtest.
    Wpt(WptArgs),
    /// Download a sample podcast with Background Fetch, with live progress.
    Demo(DemoArgs),
    /// A long-running host for many origins' workers, with an HTTP control API and a dashboard.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo keeps its site and durable state [default: ./.swrt-data/demo].
    /// Runs on the same dir resume or reuse earlier downloads.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Serve the podcast site on this loopback origin, e.g. http://127.0.0.1:8787
    /// [default: the origin recorded in the data dir, else a free port].
    #[arg(long, value_name = "URL")]
    pub origin: Option<String>,
    /// Bandwidth limit per download, in MiB/s (0 = unlimited), so the progress is visible.
    #[arg(long, value_name = "MIB_PER_S", default_value_t = 4.0)]
    pub rate: f64,
    /// Episode sizes in MiB, comma-separated (one background fetch each).
    #[arg(long, value_name = "MIB,...", value_delimiter = ',', default_values_t = vec![24.0, 32.0, 28.0])]
    pub episodes_mib: Vec<f64>,
    /// Delete the data dir first and start over.
    #[arg(long)]
    pub fresh: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where durable state lives (registrations, background fetches, caches).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Address of the control API and dashboard. State-changing calls always
    /// need the bearer token (printed at start); beyond loopback every call does.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    pub listen: String,
    /// The bearer token to require (default: a random one, printed at start).
    /// Given explicitly, every API call needs it, reads included.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Also serve DIR as an origin on loopback (its URL is printed at start);
    /// register workers from it by URL.
    #[arg(long, value_name = "DIR")]
    pub serve: Option<PathBuf>,
    /// The origin for --serve, e.g. http://127.0.0.1:8080 [default: a free
    /// port on the first start, the same one on later starts with this data dir].
    #[arg(long, value_name = "URL", requires = "serve")]
    pub serve_origin: Option<String>,
    /// Reject backgroundFetch.fetch() called from a service worker (Chromium's behaviour).
    #[arg(long)]
    pub no_worker_background_fetch: bool,
    /// Keep registrations, background fetches, their records, the Cache API
    /// entries and IndexedDB in this PostgreSQL database
    /// (postgres://USER:PASSWORD@HOST:PORT/DB; sslmode=require for a
    /// managed server, whose CA may be named by PGSSLROOTCERT) instead of
    /// SQLite in the data dir. One swrt process uses a database at a time.
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Run as node NAME (unique in the fleet) of a fleet of swrt serve
    /// processes that share --store and --bodies: each node runs the
    /// background fetches it holds a lease on, and takes over those of a
    /// node that stopped once their lease expires.
    #[arg(long, value_name = "NAME", requires_all = ["store", "bodies"])]
    pub fleet_node: Option<String>,
    /// How long a node's lease on a fetch lasts without renewal; a node
    /// renews every third of it.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, requires = "fleet_node",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub fleet_lease_secs: u64,
    /// The most background fetches this node runs at once; the fleet's
    /// other nodes take the rest.
    #[arg(long, value_name = "N", default_value_t = 32, requires = "fleet_node",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub fleet_max_fetches: u64,
    /// Keep the bodies of background fetches and the Cache API in
    /// S3-compatible object storage (s3://BUCKET/PREFIX) instead of files in
    /// the data dir, which keeps everything else. Credentials come from
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
    #[arg(long, value_name = "URL")]
    pub bodies: Option<String>,
    /// The S3 service's URL, for services other than AWS [default: AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL", requires = "bodies")]
    pub s3_endpoint: Option<String>,
    /// The S3 region [default: AWS_REGION, else us-east-1].
    #[arg(long, value_name = "REGION", requires = "bodies")]
    pub s3_region: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Serve this directory as the origin; <SW> is then a path inside it.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The origin. Default: http://localhost, served from the local file's
    /// directory. Given with local files, only scripts come from the files
    /// and other requests go to this origin's server; with --root, the
    /// address to serve on.
    #[arg(long, value_name = "URL")]
    pub origin: Option<String>,
    /// Where durable state lives: registrations, background fetches, caches
    /// (created if missing; without it a temporary dir is used and removed).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Reject backgroundFetch.fetch() called from a service worker with
    /// NotAllowedError, as Chromium does (swrt allows it by default).
    #[arg(long)]
    pub no_worker_background_fetch: bool,
    /// End the run with status 1 if work is still pending after SECS seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Longest a script may run without yielding before it is terminated.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub event_timeout: f64,
    /// Heap limit per worker isolate, in MiB.
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub heap_limit_mb: usize,
    /// Cap on how long waitUntil() may extend one event.
    #[arg(long, value_name = "SECS", default_value_t = 300.0)]
    pub wait_until_timeout: f64,
    /// Stop a worker after this many idle seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub idle_timeout: f64,
    /// Run offline: scripts' fetch() calls fail with a network error
    /// (TypeError), `navigator.onLine` is false, and Background Sync events
    /// do not fire (their registrations are kept for a later run); by
    /// default the host is online and the run waits for every sync event of
    /// the origin, retries included.
    #[arg(long)]
    pub offline: bool,
    /// Delay before a failed sync event's first retry; each later retry
    /// waits three times as long, and the third attempt is the last
    /// (Chromium waits five minutes).
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub sync_retry_delay: f64,
    /// Run FILE (a classic script or an ES module) in a page of the origin;
    /// the page may register the worker itself, so <SW> becomes optional.
    #[arg(long, value_name = "FILE")]
    pub client: Option<String>,
    /// How to run <SW>: as a classic script or an ES module
    /// [default: module for a .mjs file, classic otherwise].
    #[arg(long = "type", value_name = "TYPE", value_enum)]
    pub worker_type: Option<WorkerTypeArg>,
    /// The service worker script: a path (inside --root, or a local file) or an http(s) URL.
    #[arg(value_name = "SW", required_unless_present = "client")]
    pub sw: Option<String>,
}

/// `--type` of `swrt run` (RegistrationOptions.type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkerTypeArg {
    /// A classic script (importScripts() loads more).
    Classic,
    /// An ES module (import statements load more).
    Module,
}

impl RunArgs {
    /// The worker type for <SW>: --type, else from the file extension.
    pub fn worker_type(&self) -> swrt_runtime::WorkerType {
        match self.worker_type {
            Some(WorkerTypeArg::Module) => swrt_runtime::WorkerType::Module,
            Some(WorkerTypeArg::Classic) => swrt_runtime::WorkerType::Classic,
            None if self.sw.as_deref().is_some_and(|sw| sw.ends_with(".mjs")) => {
                swrt_runtime::WorkerType::Module
            }
            None => swrt_runtime::WorkerType::Classic,
        }
    }
}

#[derive(Debug, Args)]
pub struct WptArgs {
    /// The test tree: an upstream web-platform-tests checkout or the project's wpt/.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub wpt_root: PathBuf,
    /// Compare the results with this expectations file (JSON, see wpt/README.md).
    #[arg(long, value_name = "FILE")]
    pub expectations: Option<PathBuf>,
    /// Write the results as wptreport JSON.
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// Multiply testharness.js timeouts (10 s, or 60 s with `META: timeout=long`).
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub timeout_multiplier: f64,
    /// npm wpt-runner's testharness/ directory (found automatically by default).
    #[arg(long, value_name = "DIR")]
    pub resources: Option<PathBuf>,
    /// Print each test's console output and runtime errors.
    #[arg(long, short)]
    pub verbose: bool,
    /// Tests to run: directories, files or test URLs under --wpt-root (default: all).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
}
