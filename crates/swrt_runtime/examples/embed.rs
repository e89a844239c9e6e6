//! Embedding swrt with your own background-fetch UI.
//!
//! Starts a loopback HTTP server with a service worker and a 2 MiB file,
//! a host on a temporary data dir with a UI delegate that prints what a
//! notification would show, registers the worker (which starts a background
//! fetch when it activates), then "clicks" the finished fetch.
//!
//! ```sh
//! cargo run -p swrt_runtime --example embed
//! ```

use std::sync::{Arc, Mutex};

use swrt_runtime::{
    BackgroundFetchUi, ConsoleLevel, FetchControl, FetchView, HostDelegate, ServiceWorkerHost,
};
use tokio::sync::Notify;
use url::Url;

const SW: &str = r#"
self.addEventListener("activate", (event) => event.waitUntil(
  self.registration.backgroundFetch.fetch("movie", ["/movie.bin"], {
    title: "A movie", icons: [{ src: "/icon.png", sizes: "64x64", type: "image/png" }],
    downloadTotal: 2 * 1024 * 1024,
  })));
self.addEventListener("backgroundfetchsuccess", (event) => event.waitUntil(
  event.updateUI({ title: "A movie (ready)" })));
self.addEventListener("backgroundfetchclick", (event) => event.waitUntil(
  clients.openWindow("/watch")));
"#;

/// What a notification area would show; here, lines on stdout.
struct PrintUi {
    controls: Mutex<Vec<FetchControl>>,
    finished: Notify,
}

impl BackgroundFetchUi for PrintUi {
    fn fetch_shown(&self, fetch: &FetchView, control: FetchControl) {
        let icon = fetch.icons.first().map(|i| i.src.as_str()).unwrap_or("-");
        println!("[ui] new download \"{}\" (icon {icon})", fetch.title);
        self.controls.lock().unwrap().push(control);
    }
    fn progress(&self, fetch: &FetchView) {
        let percent = fetch.fraction().unwrap_or(0.0) * 100.0;
        println!("[ui] {}: {percent:.0}%", fetch.id);
    }
    fn ui_updated(&self, fetch: &FetchView) {
        println!("[ui] title is now \"{}\"", fetch.title);
    }
    fn settled(&self, fetch: &FetchView) {
        println!(
            "[ui] {}: {} {}",
            fetch.id, fetch.result, fetch.failure_reason
        );
    }
    fn finished(&self, _fetch: &FetchView) {
        self.finished.notify_one();
    }
}

/// Console output and window requests of the worker.
struct Delegate;

impl HostDelegate for Delegate {
    fn console(&self, _script_url: &Url, _level: ConsoleLevel, message: &str) {
        println!("[worker] {message}");
    }
    fn open_window(&self, _script_url: &Url, url: &Url) -> bool {
        println!("[host] the worker asks to open {url}");
        true
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The origin: sw.js and a 2 MiB "movie", on loopback.
    let app = axum::Router::new()
        .route(
            "/sw.js",
            axum::routing::get(|| async { ([("content-type", "text/javascript")], SW) }),
        )
        .route(
            "/movie.bin",
            axum::routing::get(|| async { vec![7u8; 2 * 1024 * 1024] }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = Url::parse(&format!("http://{}/", listener.local_addr()?))?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let data = tempfile::tempdir()?;
    let ui = Arc::new(PrintUi {
        controls: Mutex::new(Vec::new()),
        finished: Notify::new(),
    });
    let host = ServiceWorkerHost::builder()
        .data_dir(data.path())
        .delegate(Arc::new(Delegate))
        .background_fetch_ui(ui.clone())
        .start()
        .await?;
    host.register(origin.join("sw.js")?, None).await?;

    // Wait for the worker's success event to end, then act as a user who
    // clicks the notification.
    ui.finished.notified().await;
    let control = ui.controls.lock().unwrap().first().cloned();
    if let Some(control) = control {
        control.click().await?;
    }
    host.shutdown().await;
    Ok(())
}
