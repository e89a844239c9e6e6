//! A SIGKILL after a download completed loses neither the terminal event nor
//! the data: the next start restores the registration first, then offers
//! the interrupted event again, with the records intact.

mod common;

use std::time::Duration;

use common::*;

const SIZE: u64 = 2 * MIB;

/// The first delivery of `backgroundfetchsuccess` marks itself in the Cache
/// API, reports, and never ends (the test kills the daemon then). The next
/// delivery finds the mark, reads the record back and reports the check.
fn worker(dir: &std::path::Path) {
    let sw = format!(
        r#"{VERIFY_JS}
const SIZE = {SIZE};
self.addEventListener("backgroundfetchsuccess", (event) => event.waitUntil((async () => {{
  const marks = await caches.open("deliveries");
  if (!(await marks.match("/first"))) {{
    await marks.put("/first", new Response("seen"));
    await fetch("/ping?event=success-first");
    await new Promise(() => {{}});
  }}
  const record = await event.registration.match("/big.bin");
  const bytes = new Uint8Array(await (await record.responseReady).arrayBuffer());
  await fetch(`/ping?event=success-again&ok=${{verify(bytes, 3, SIZE)}}&len=${{bytes.length}}`);
}})()));
self.addEventListener("backgroundfetchfail", (event) =>
  event.waitUntil(fetch(`/ping?event=fail&reason=${{event.registration.failureReason}}`)));
"#
    );
    std::fs::write(dir.join("sw.js"), sw).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_the_success_handler_redelivers_it_with_the_records() {
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    worker(site.path());
    let (origin, seen) = origin(site.path(), vec![big("/big.bin", SIZE)], 64 * MIB).await;

    let (mut first, _out, api, token) = start_serve(data.path()).await;
    let client = control_client(&token);
    register_worker(&client, &api, &origin.origin().join("sw.js").unwrap()).await;
    let unique_id = start_fetch(
        &client,
        &api,
        serde_json::json!({
            "scope": origin.origin(), "id": "big", "requests": ["big.bin"],
            "download_total": SIZE,
        }),
    )
    .await;
    until(
        "the first success handler to run",
        Duration::from_secs(60),
        || seen.pinged("event=success-first"),
    )
    .await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();

    let (mut second, _out, api, token) = start_serve(data.path()).await;
    let client = control_client(&token);
    until(
        "the success event to be delivered again",
        Duration::from_secs(60),
        || seen.pinged("event=success-again"),
    )
    .await;
    assert!(
        seen.pinged(&format!("event=success-again&ok=true&len={SIZE}")),
        "the record survived intact: {:?}",
        seen.pings.lock().unwrap()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let view = get_json(&client, format!("{api}api/fetches/{unique_id}")).await;
        if view["phase"] == "done" {
            assert_eq!(view["result"], "success", "{view}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not done: {view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signal(&second, "TERM");
    assert!(wait_exit(&mut second, Duration::from_secs(20))
        .await
        .success());
    let pings = seen.pings.lock().unwrap().clone();
    let deliveries = |needle: &str| pings.iter().filter(|p| p.contains(needle)).count();
    assert_eq!(deliveries("event=success-first"), 1, "{pings:?}");
    assert_eq!(deliveries("event=success-again"), 1, "{pings:?}");
    assert_eq!(deliveries("event=fail"), 0, "{pings:?}");
}

/// A SIGKILL a second into a download (before the periodic save points,
/// every 2 s or 16 MiB) still resumes with `Range`: the first save point
/// comes early.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_early_in_a_download_resumes_it() {
    const LARGE: u64 = 8 * MIB;
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("sw.js"),
        "self.addEventListener(\"backgroundfetchsuccess\", () => {});\n",
    )
    .unwrap();
    // 1 MiB/s: the first megabyte arrives after about a second.
    let (origin, seen) = origin(site.path(), vec![big("/big.bin", LARGE)], MIB).await;
    let (mut first, _out, api, token) = start_serve(data.path()).await;
    let client = control_client(&token);
    register_worker(&client, &api, &origin.origin().join("sw.js").unwrap()).await;
    let unique_id = start_fetch(
        &client,
        &api,
        serde_json::json!({
            "scope": origin.origin(), "id": "large", "requests": ["big.bin"],
            "download_total": LARGE,
        }),
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let view = get_json(&client, format!("{api}api/fetches/{unique_id}")).await;
        if view["downloaded"].as_u64().unwrap_or(0) >= MIB {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no progress: {view}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();

    let (mut second, _out, _api, _token) = start_serve(data.path()).await;
    until("the download to resume", Duration::from_secs(30), || {
        seen.resumed_from("/big.bin").is_some()
    })
    .await;
    let resumed = seen.resumed_from("/big.bin").unwrap();
    assert!(resumed > 0 && resumed < LARGE, "resumed from {resumed}");
    signal(&second, "TERM");
    assert!(wait_exit(&mut second, Duration::from_secs(20))
        .await
        .success());
}
