//! `swrt-bgfetch`: run background fetches from the command line on a data
//! directory, without JavaScript. Started with URLs it registers a fetch;
//! in every case it resumes whatever is active in the data directory and
//! exits when nothing is left to do.
//!
//! ```text
//! swrt-bgfetch --data-dir D fetch --id X [--download-total N] URL...
//! swrt-bgfetch --data-dir D            # resume only
//! ```

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use futures::StreamExt;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use swrt_bgfetch::*;

#[derive(Parser)]
#[command(
    version,
    about = "Durable background downloads (the swrt Background Fetch engine)"
)]
struct Cli {
    /// Data directory (created if missing; one process at a time).
    #[arg(long)]
    data_dir: PathBuf,
    /// Copy every record's body to this directory as `<id>-<index>` when
    /// the fetch ends (before the engine deletes its stored bodies).
    #[arg(long)]
    export_dir: Option<PathBuf>,
    /// Append one line per dispatched event (`<event> <unique-id> <id>`),
    /// fsynced, to this file.
    #[arg(long)]
    event_log: Option<PathBuf>,
    /// Global connection cap.
    #[arg(long)]
    connections: Option<usize>,
    /// Per-host connection cap.
    #[arg(long)]
    per_host: Option<usize>,
    /// Per-fetch connection cap.
    #[arg(long)]
    per_fetch: Option<usize>,
    /// First retry delay in milliseconds.
    #[arg(long)]
    retry_delay_ms: Option<u64>,
    /// Per-origin quota in bytes.
    #[arg(long)]
    quota: Option<u64>,
    /// Make stored bytes durable every N bytes per record.
    #[arg(long)]
    checkpoint_bytes: Option<u64>,
    /// Print only the final lines.
    #[arg(long, short)]
    quiet: bool,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Register a background fetch of the given URLs.
    Fetch {
        /// Developer id of the fetch.
        #[arg(long)]
        id: String,
        /// downloadTotal (0 = no limit).
        #[arg(long, default_value_t = 0)]
        download_total: u64,
        /// Title shown by hosts.
        #[arg(long, default_value = "")]
        title: String,
        /// Origin the fetch belongs to (default: the first URL's origin).
        #[arg(long)]
        origin: Option<String>,
        /// Read more URLs from this file, one per line.
        #[arg(long)]
        url_file: Option<PathBuf>,
        /// URLs to download.
        urls: Vec<String>,
    },
}

struct CliDispatcher {
    svc: OnceLock<BackgroundFetchService>,
    export_dir: Option<PathBuf>,
    event_log: Option<PathBuf>,
}

#[async_trait::async_trait]
impl EventDispatcher for CliDispatcher {
    async fn dispatch(
        &self,
        ev: BackgroundFetchEventRequest,
    ) -> Result<DispatchOutcome, DispatchError> {
        let reg = &ev.registration;
        println!(
            "event {} id={} result={} reason={} downloaded={}",
            ev.kind.event_type(),
            reg.id,
            reg.result,
            reg.failure_reason,
            reg.downloaded
        );
        if let (Some(dir), Some(svc)) = (&self.export_dir, self.svc.get()) {
            export(svc, dir, reg)
                .await
                .map_err(|e| DispatchError::Fatal(format!("{e:#}")))?;
        }
        if let Some(log) = &self.event_log {
            let line = format!("{} {} {}\n", ev.kind.event_type(), reg.unique_id, reg.id);
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|e| DispatchError::Fatal(e.to_string()))?;
            f.write_all(line.as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| DispatchError::Fatal(e.to_string()))?;
        }
        Ok(DispatchOutcome::Handled)
    }
}

async fn export(
    svc: &BackgroundFetchService,
    dir: &std::path::Path,
    reg: &RegistrationSnapshot,
) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for rec in svc.records(&reg.unique_id).await? {
        if !matches!(
            rec.outcome,
            RecordOutcome::Complete | RecordOutcome::BadStatus
        ) {
            continue;
        }
        let path = dir.join(format!("{}-{}", reg.id, rec.index));
        let mut f = tokio::fs::File::create(&path).await?;
        let mut s = Box::pin(svc.body_stream(&reg.unique_id, rec.index));
        while let Some(chunk) = s.next().await {
            tokio::io::AsyncWriteExt::write_all(&mut f, &chunk?).await?;
        }
        f.sync_all().await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWRT_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut limits = Limits::default();
    if let Some(n) = cli.connections {
        limits.global_connections = n;
    }
    if let Some(n) = cli.per_host {
        limits.per_host_connections = n;
    }
    if let Some(n) = cli.per_fetch {
        limits.per_fetch_connections = n;
    }
    if let Some(ms) = cli.retry_delay_ms {
        limits.retry_base_delay = Duration::from_millis(ms);
        limits.retry_max_delay = Duration::from_millis(ms.saturating_mul(8));
    }
    if let Some(q) = cli.quota {
        limits.quota_per_origin = q;
    }
    if let Some(n) = cli.checkpoint_bytes {
        limits.checkpoint_bytes = n;
    }
    let dispatcher = Arc::new(CliDispatcher {
        svc: OnceLock::new(),
        export_dir: cli.export_dir.clone(),
        event_log: cli.event_log.clone(),
    });
    let dir = cli.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(dir))
        .await?
        .with_context(|| format!("opening {}", cli.data_dir.display()))?;
    let svc = BackgroundFetchService::builder(Arc::new(store))
        .limits(limits)
        .dispatcher(dispatcher.clone())
        .start()
        .await
        .with_context(|| format!("starting on {}", cli.data_dir.display()))?;
    let _ = dispatcher.svc.set(svc.clone());

    if !cli.quiet {
        let mut rx = svc.subscribe();
        tokio::spawn(async move {
            while let Ok(p) = rx.recv().await {
                let r = &p.registration;
                println!(
                    "progress id={} downloaded={} total={} uploaded={}{}",
                    r.id,
                    r.downloaded,
                    r.download_total,
                    r.uploaded,
                    if p.is_final {
                        format!(" final result={} reason={}", r.result, r.failure_reason)
                    } else {
                        String::new()
                    }
                );
            }
        });
    }

    let mut failed = false;
    if let Some(Cmd::Fetch {
        id,
        download_total,
        title,
        origin,
        url_file,
        mut urls,
    }) = cli.cmd
    {
        if let Some(f) = url_file {
            let text =
                std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
            urls.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
        }
        let first = urls.first().context("no URLs given")?;
        let origin = match origin {
            Some(o) => o,
            None => url::Url::parse(first)?.origin().ascii_serialization(),
        };
        let req = FetchRequest {
            scope: format!("{origin}/"),
            id: id.clone(),
            requests: urls.iter().map(RequestSpec::get).collect(),
            options: FetchOptions {
                title,
                icons: vec![],
                download_total,
            },
            origin,
            policy: PolicyContext {
                csp_connect_src: Vec::new(),
                is_secure_context: true,
            },
            has_active_worker: true,
        };
        match svc.fetch(req).await {
            Ok(r) => println!(
                "registered id={} unique_id={} records={}",
                r.id,
                r.unique_id,
                urls.len()
            ),
            Err(e) => {
                eprintln!("swrt-bgfetch: fetch {id:?} rejected: {e}");
                failed = true;
            }
        }
    }
    svc.wait_idle().await;
    println!("idle");
    std::process::exit(i32::from(failed));
}
