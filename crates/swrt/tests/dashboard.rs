//! The `swrt serve` dashboard, end to end in headless Chromium: register a
//! worker and start a fetch through the API, then in the dashboard see the
//! row (title, icon, moving progress bar), click Open and Abort, and see the
//! state change and the worker's events happen.
//!
//! Chromium is Debian's `/usr/bin/chromium`, driven by npm `playwright-core`
//! from `tests/dashboard/node_modules` (both installed by
//! `scripts/setup.sh`). Without them the test is skipped with a message, but
//! only outside CI: with `CI` set, missing tools fail it.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const SIZE: u64 = 24 * MIB;

fn tools_missing() -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dashboard");
    if !Path::new("/usr/bin/chromium").exists() {
        return Some("/usr/bin/chromium is missing (apt-get install chromium)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is missing".into());
    }
    if !dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return Some(format!(
            "playwright-core is missing in {}/node_modules (run scripts/setup.sh)",
            dir.display()
        ));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_headless_chromium() {
    if let Some(missing) = tools_missing() {
        if std::env::var_os("CI").is_some() {
            panic!("the dashboard test must run in CI, but {missing}");
        }
        eprintln!("SKIPPED dashboard_in_headless_chromium: {missing}");
        return;
    }
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    // Reports its events to the origin's /ping, where the browser script
    // looks for them (through /pings).
    std::fs::write(
        site.path().join("sw.js"),
        r#"
self.addEventListener("backgroundfetchclick", (e) =>
  e.waitUntil(fetch(`/ping?event=click&id=${e.registration.id}`)));
self.addEventListener("backgroundfetchabort", (e) =>
  e.waitUntil(fetch(`/ping?event=abort&id=${e.registration.id}`)));
"#,
    )
    .unwrap();
    // 24 MiB at 512 KiB/s: the fetch is still running when Abort is clicked.
    let (origin, seen) = origin(site.path(), vec![big("/big.bin", SIZE)], 512 * 1024).await;
    let (mut serve, _out, api, token) = start_serve(data.path()).await;

    // The browser script reads the pings through a tiny loopback endpoint.
    let pings = seen.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let pings_addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/pings",
            axum::routing::get(move || {
                let pings = pings.clone();
                async move { axum::Json(pings.pings.lock().unwrap().clone()) }
            }),
        );
        let _ = axum::serve(listener, app).await;
    });
    let _ = origin.origin(); // keep the origin alive until the end

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dashboard/dashboard.test.mjs");
    let mut node = tokio::process::Command::new("node");
    node.arg(&script)
        .current_dir(script.parent().unwrap())
        .env("API", &api)
        .env("TOKEN", &token)
        .env("ORIGIN", origin.origin().as_str())
        .env("PINGS", format!("http://{pings_addr}/"))
        .env("SIZE", SIZE.to_string())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(180), node.output())
        .await
        .expect("the browser test finished within 180 s")
        .expect("node ran");
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));

    signal(&serve, "TERM");
    wait_exit(&mut serve, Duration::from_secs(20)).await;
    assert!(output.status.success(), "the browser test failed");
    assert!(seen.pinged("event=click&id=dashboard-episode"));
    assert!(seen.pinged("event=abort&id=dashboard-episode"));
}
