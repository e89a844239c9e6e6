//! `swrt demo`: the canonical Background Fetch flow, end to end, on the
//! terminal.
//!
//! An embedded loopback origin serves a small podcast site: `page.js` and
//! `sw.js` (from `examples/podcast/`, compiled in), `episodes.json`, a
//! generated PNG cover, and episodes of deterministic bytes served as
//! `audio/mpeg` with `Range` support and a bandwidth limit (so the progress
//! is visible). The page registers the worker and starts one background
//! fetch per episode; the engine downloads them durably while a progress bar
//! per fetch shows title, bytes, rate and ETA; the worker copies each
//! episode into the Cache API and calls `updateUI()`.
//!
//! Durable state is per origin, so the demo records its origin in the data
//! dir and serves on the same loopback port next time: a second run finds
//! the episodes in the cache, and a run after Ctrl-C resumes the downloads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use swrt_runtime::swrt_bgfetch::FetchState;
use swrt_runtime::{
    ConsoleLevel, FetchView, HostDelegate, ScriptError, ServiceWorkerHost, TerminationReason,
    WorkerPrewarm,
};
use swrt_server::generated::{artwork_png, GeneratedFile, GeneratedFiles};
use swrt_server::StaticOrigin;
use url::Url;

use crate::cli::DemoArgs;
use crate::output::format_error;
use crate::progress::{Printer, TerminalUi};
use crate::signal;

const SW_JS: &str = include_str!("../../../examples/podcast/sw.js");
const PAGE_JS: &str = include_str!("../../../examples/podcast/page.js");
const MIB: u64 = 1024 * 1024;
/// The worker's cache (see examples/podcast/sw.js).
const CACHE_NAME: &str = "podcast-episodes";
/// How long a terminal event left over from an interrupted run may take
/// before the page opens anyway.
const LEFTOVER_EVENT_WAIT: Duration = Duration::from_secs(60);

const TITLES: &[&str] = &[
    "Episode 1: Service workers without a browser",
    "Episode 2: Downloads that survive a restart",
    "Episode 3: Caches, records and updateUI",
    "Episode 4: What Range requests are for",
    "Episode 5: Interesting things",
];

/// The default data dir: `./.swrt-data/demo` (ignored by git), so the demo's
/// state sits next to where it was started and is easy to find and delete.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(".swrt-data").join("demo")
}

struct Episode {
    id: String,
    title: String,
    path: String,
    size: u64,
    seed: u8,
}

fn episodes(sizes_mib: &[f64]) -> Vec<Episode> {
    sizes_mib
        .iter()
        .enumerate()
        .map(|(i, mib)| Episode {
            id: format!("episode-{}", i + 1),
            title: TITLES
                .get(i)
                .map(|t| t.to_string())
                .unwrap_or_else(|| format!("Episode {}", i + 1)),
            path: format!("/episodes/{}.mp3", i + 1),
            size: (mib * MIB as f64).round().max(1.0) as u64,
            seed: (i + 1) as u8,
        })
        .collect()
}

pub async fn demo(args: DemoArgs) -> u8 {
    match run(args).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("swrt demo: {message}");
            1
        }
    }
}

async fn run(args: DemoArgs) -> Result<u8, String> {
    // Handlers first: a Ctrl-C during start-up must not kill the process
    // halfway through writing state.
    let stop = signal::install();
    tokio::pin!(stop);
    let began = Instant::now();

    if args.episodes_mib.is_empty() || args.episodes_mib.len() > TITLES.len() {
        return Err(format!("--episodes-mib takes 1 to {} sizes", TITLES.len()));
    }
    if args
        .episodes_mib
        .iter()
        .any(|m| !m.is_finite() || *m <= 0.0)
    {
        return Err("--episodes-mib sizes must be positive".into());
    }
    if !args.rate.is_finite() || args.rate < 0.0 {
        return Err("--rate must be a number of MiB/s (0 = unlimited)".into());
    }
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    if args.fresh && data_dir.exists() {
        std::fs::remove_dir_all(&data_dir)
            .map_err(|e| format!("cannot remove {}: {e}", data_dir.display()))?;
    }
    let site = data_dir.join("site");
    let state = data_dir.join("state");
    for dir in [&site, &state] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let data_dir = data_dir.canonicalize().unwrap_or(data_dir);
    let episodes = episodes(&args.episodes_mib);
    write_site(&site, &episodes)?;

    // The origin: recorded in the data dir so every run is the same origin.
    let origin_file = data_dir.join("origin");
    let wanted = match &args.origin {
        Some(text) => Some(parse_loopback_origin(text)?),
        None => std::fs::read_to_string(&origin_file)
            .ok()
            .and_then(|t| parse_loopback_origin(t.trim()).ok()),
    };
    let files = GeneratedFiles::new(
        episodes
            .iter()
            .map(|e| GeneratedFile::new(&e.path, e.size, e.seed, "audio/mpeg"))
            .collect(),
    )
    .rate_limit((args.rate > 0.0).then_some((args.rate * MIB as f64) as u64));
    let mut builder = StaticOrigin::builder(&site)
        .hook(files.into_hook())
        .shutdown_timeout(Duration::from_millis(500));
    if let Some((addr, host)) = &wanted {
        builder = builder.bind(*addr).host_name(host.clone());
    }
    let server = builder.start().await.map_err(|e| match &wanted {
        Some((addr, _)) => format!(
            "{e}\n  the demo's state belongs to the origin on {addr}; free that port, \
             pass another --origin (a new origin starts over) or use --fresh"
        ),
        None => e.to_string(),
    })?;
    let origin = server.origin();
    std::fs::write(&origin_file, origin.as_str())
        .map_err(|e| format!("cannot write {}: {e}", origin_file.display()))?;
    let origin_name = origin.origin().ascii_serialization();

    let printer = Printer::detect();
    let ui = TerminalUi::new(printer.clone());
    let delegate = Arc::new(DemoDelegate {
        printer: printer.clone(),
        failed: AtomicBool::new(false),
    });
    printer.status(&format!(
        "swrt demo: podcast site on {origin}, state in {}",
        data_dir.display()
    ));
    let host = ServiceWorkerHost::builder()
        .delegate(delegate.clone())
        .data_dir(&state)
        .background_fetch_ui(ui.clone())
        .prewarm(WorkerPrewarm::First)
        .start()
        .await
        .map_err(|e| e.to_string())?;

    let work = async {
        // A terminal event that an interrupted run left unfinished runs again
        // now; let it put its episode in the cache before the page looks.
        wait_leftover_events(&host, &origin_name).await;
        let page_url = origin.join("page.js").expect("a relative path");
        let mut page = host
            .open_page(page_url.clone(), Some(true))
            .await
            .map_err(|e| e.to_string())?;
        if let Err(error) = page.evaluated().await {
            return Err(format!("the page failed: {}", format_error(&error)));
        }
        while host.events_in_flight() > 0 || host.background_fetch_work(&origin_name).await > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    };
    let outcome = tokio::select! {
        result = work => Some(result),
        stop = &mut stop => {
            ui.abandon();
            let views = latest(&host, ui.views()).await;
            printer.status("");
            printer.status("Interrupted; saving the downloads in flight ...");
            host.shutdown().await;
            for v in views.iter().filter(|v| v.result.is_empty()) {
                eprintln!(
                    "  {}: {:.1} of {:.1} MiB stored",
                    v.title,
                    v.downloaded as f64 / MIB as f64,
                    v.download_total as f64 / MIB as f64
                );
            }
            eprintln!(
                "Run the same command again to resume (state in {}).",
                data_dir.display()
            );
            server.shutdown().await;
            return Ok(stop.exit_code());
        }
    };
    let views = latest(&host, ui.views()).await;
    host.shutdown().await;
    server.shutdown().await;
    if let Some(Err(message)) = outcome {
        return Err(message);
    }

    let failed =
        delegate.failed.load(Ordering::Acquire) || views.iter().any(|v| v.result != "success");
    println!();
    if views.is_empty() {
        println!("Every episode was answered from the cache; nothing was downloaded.");
    } else {
        println!("Background fetches:");
        for v in &views {
            let result = if v.result == "success" {
                "success".to_string()
            } else {
                format!("{} ({})", v.result, v.failure_reason)
            };
            println!(
                "  {:<11} {:<8} {:>7.1} MiB  \"{}\"",
                v.id,
                result,
                v.downloaded as f64 / MIB as f64,
                v.title
            );
        }
    }
    println!(
        "Done in {:.1} s. The episodes live in the Cache API cache \"{CACHE_NAME}\" of {origin_name},",
        began.elapsed().as_secs_f64()
    );
    println!("stored under {}.", state.display());
    println!("Run `swrt demo` again to play them from the cache; `swrt demo --fresh` starts over.");
    Ok(u8::from(failed))
}

/// Views re-read from the engine: the UI's copy may predate the end of the
/// terminal event (and its `updateUI()` title).
async fn latest(host: &ServiceWorkerHost, views: Vec<FetchView>) -> Vec<FetchView> {
    let Some(service) = host.background_fetch() else {
        return views;
    };
    let mut out = Vec::with_capacity(views.len());
    for view in views {
        match service.get_by_unique_id(&view.unique_id).await {
            Ok(Some(snapshot)) => out.push(FetchView::from(&snapshot)),
            _ => out.push(view),
        }
    }
    out
}

async fn wait_leftover_events(host: &ServiceWorkerHost, origin: &str) {
    let Some(store) = host.store() else {
        return;
    };
    let deadline = Instant::now() + LEFTOVER_EVENT_WAIT;
    loop {
        let store = store.clone();
        let origin = origin.to_string();
        let pending = tokio::task::spawn_blocking(move || {
            let mut n = 0;
            for state in [FetchState::Settled, FetchState::Dispatched] {
                n += store
                    .fetches_in_state(state)?
                    .iter()
                    .filter(|f| f.origin == origin)
                    .count();
            }
            Ok::<_, swrt_runtime::swrt_bgfetch::StoreError>(n)
        })
        .await;
        match pending {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(_)) if Instant::now() >= deadline => return,
            Ok(Ok(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Writes the site the origin serves. Rewritten on every run with the same
/// bytes, so re-registering the worker finds it unchanged.
fn write_site(site: &Path, episodes: &[Episode]) -> Result<(), String> {
    let list: Vec<serde_json::Value> = episodes
        .iter()
        .map(|e| {
            serde_json::json!({
                "id": e.id, "title": e.title, "url": e.path, "size": e.size, "seed": e.seed,
            })
        })
        .collect();
    let index = "<!doctype html><meta charset=utf-8><title>swrt podcast demo</title>\n\
                 <img src=artwork.png alt=''><h1>swrt podcast demo</h1>\n\
                 <script type=module src=page.js></script>\n";
    let files: [(&str, Vec<u8>); 5] = [
        ("sw.js", SW_JS.as_bytes().to_vec()),
        ("page.js", PAGE_JS.as_bytes().to_vec()),
        (
            "episodes.json",
            serde_json::to_vec_pretty(&list).map_err(|e| e.to_string())?,
        ),
        ("artwork.png", artwork_png(64, 64)),
        ("index.html", index.as_bytes().to_vec()),
    ];
    for (name, bytes) in files {
        let path = site.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            std::fs::write(&path, &bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// `http://HOST:PORT` on loopback -> the socket address and the host name.
fn parse_loopback_origin(text: &str) -> Result<(SocketAddr, String), String> {
    let url = Url::parse(text).map_err(|e| format!("bad --origin {text}: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!("--origin must be an http:// origin, got {text}"));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("--origin {text} has no host"))?
        .trim_matches(|c| c == '[' || c == ']')
        .to_string();
    let port = url.port().unwrap_or(80);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .find(|a| a.ip().is_loopback())
        .ok_or_else(|| format!("--origin {text} is not a loopback address"))?;
    Ok((addr, host))
}

/// Worker and page output, printed above the progress bars.
struct DemoDelegate {
    printer: Printer,
    failed: AtomicBool,
}

impl HostDelegate for DemoDelegate {
    fn console(&self, _script_url: &Url, _level: ConsoleLevel, message: &str) {
        self.printer.line(message);
    }

    fn open_window(&self, _script_url: &Url, url: &Url) -> bool {
        self.printer
            .status(&format!("swrt demo: the worker asked to open {url}"));
        false
    }

    fn uncaught_error(&self, script_url: &Url, error: &ScriptError) {
        self.failed.store(true, Ordering::Release);
        self.printer.status(&format!(
            "Uncaught error in {script_url}: {}",
            format_error(error)
        ));
    }

    fn worker_terminated(&self, script_url: &Url, reason: &TerminationReason) {
        self.failed.store(true, Ordering::Release);
        self.printer.status(&format!(
            "swrt demo: worker {script_url} was terminated: {reason}"
        ));
    }
}
