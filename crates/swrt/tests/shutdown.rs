//! SIGTERM/SIGINT persist downloads in flight; the next start resumes them
//! (`swrt run`, `swrt serve`, `swrt demo`). The origin throttles its body so
//! the signal always lands mid-download, and records each `Range` header so
//! the test sees the resume rather than a restart from zero.

mod common;

use std::time::Duration;

use common::*;

const SIZE: u64 = 4 * MIB;
/// Bytes per second: the download takes about four seconds.
const RATE: u64 = MIB;

fn worker(dir: &std::path::Path) {
    let sw = format!(
        r#"{VERIFY_JS}
const SIZE = {SIZE};
// Started by the worker itself (swrt allows it): only once, even when a
// later run activates the worker again.
self.addEventListener("activate", (event) => event.waitUntil((async () => {{
  if (!(await self.registration.backgroundFetch.getIds()).includes("big")) {{
    await self.registration.backgroundFetch.fetch("big", ["/big.bin"], {{ title: "Big", downloadTotal: SIZE }});
    console.log("started");
  }}
}})()));
self.addEventListener("backgroundfetchsuccess", (event) => event.waitUntil((async () => {{
  const record = await event.registration.match("/big.bin");
  const bytes = new Uint8Array(await (await record.responseReady).arrayBuffer());
  console.log("verified", bytes.length, verify(bytes, 3, SIZE));
}})()));
self.addEventListener("backgroundfetchfail", (event) => console.log("failed", event.registration.failureReason));
"#
    );
    std::fs::write(dir.join("sw.js"), sw).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_resumes_after_sigterm() {
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    worker(site.path());
    let (origin, seen) = origin(site.path(), vec![big("/big.bin", SIZE)], RATE).await;
    let sw = origin.origin().join("sw.js").unwrap().to_string();

    let mut cmd = swrt();
    cmd.args(["run", "--data-dir"]).arg(data.path()).arg(&sw);
    let mut first = piped(cmd);
    let out = lines(&mut first);
    until("the download to start", Duration::from_secs(60), || {
        !seen.requests.lock().unwrap().is_empty()
    })
    .await;
    // Let some bytes arrive, so there is something to resume from.
    let status = interrupt(&mut first, "TERM", Duration::from_millis(1200)).await;
    assert_eq!(status.code(), Some(143), "SIGTERM exit status");
    assert!(out.lock().unwrap().iter().any(|l| l == "started"));
    assert!(
        !out.lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("verified")),
        "the download must not have finished before SIGTERM"
    );

    let mut cmd = swrt();
    cmd.args(["run", "--timeout", "60", "--data-dir"])
        .arg(data.path())
        .arg(&sw);
    let mut second = piped(cmd);
    let out = lines(&mut second);
    let status = wait_exit(&mut second, Duration::from_secs(90)).await;
    assert!(status.success(), "second run: {status:?}");
    let resumed = seen.resumed_from("/big.bin").expect("a Range request");
    assert!(resumed > 0 && resumed < SIZE, "resumed from {resumed}");
    let out = out.lock().unwrap();
    assert!(
        out.iter().any(|l| l == &format!("verified {SIZE} true")),
        "{out:?}"
    );
    assert!(
        !out.iter().any(|l| l == "started"),
        "no second fetch: {out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_resumes_after_sigterm() {
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    worker(site.path());
    // This worker is registered through the API; the fetch is started there too.
    std::fs::write(
        site.path().join("sw.js"),
        std::fs::read_to_string(site.path().join("sw.js"))
            .unwrap()
            .replace("\"big\"", "\"never-started-here\""),
    )
    .unwrap();
    let (origin, seen) = origin(site.path(), vec![big("/big.bin", SIZE)], RATE).await;
    let (mut first, _out, api, token) = start_serve(data.path()).await;
    let client = control_client(&token);
    register_worker(&client, &api, &origin.origin().join("sw.js").unwrap()).await;
    let unique_id = start_fetch(
        &client,
        &api,
        serde_json::json!({
            "scope": origin.origin(), "id": "big", "requests": ["big.bin"],
            "title": "Big", "download_total": SIZE,
        }),
    )
    .await;
    until("the download to start", Duration::from_secs(30), || {
        !seen.requests.lock().unwrap().is_empty()
    })
    .await;
    let status = interrupt(&mut first, "TERM", Duration::from_millis(1200)).await;
    assert!(status.success(), "serve exits 0 on SIGTERM: {status:?}");

    let (mut second, out, api, _token) = start_serve(data.path()).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = get_json(&client, format!("{api}api/fetches/{unique_id}")).await;
        if view["phase"] == "done" {
            assert_eq!(view["result"], "success", "{view}");
            assert_eq!(view["downloaded"], SIZE, "{view}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not done: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resumed = seen.resumed_from("/big.bin").expect("a Range request");
    assert!(resumed > 0 && resumed < SIZE, "resumed from {resumed}");
    assert!(
        out.lock()
            .unwrap()
            .iter()
            .any(|l| l.ends_with(&format!("verified {SIZE} true"))),
        "{:?}",
        out.lock().unwrap()
    );
    signal(&second, "INT");
    assert!(wait_exit(&mut second, Duration::from_secs(20))
        .await
        .success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_resumes_after_ctrl_c_then_answers_from_the_cache() {
    let data = tempfile::tempdir().unwrap();
    let demo = |extra: &[&str]| {
        let mut cmd = swrt();
        cmd.args(["demo", "--episodes-mib", "3,2", "--rate", "1", "--data-dir"])
            .arg(data.path())
            .args(extra);
        piped(cmd)
    };
    let mut first = demo(&[]);
    let out = lines(&mut first);
    until("both fetches to start", Duration::from_secs(60), || {
        out.lock()
            .unwrap()
            .iter()
            .filter(|l| l.ends_with("background fetch started"))
            .count()
            == 2
    })
    .await;
    let status = interrupt(&mut first, "INT", Duration::from_millis(1000)).await;
    assert_eq!(status.code(), Some(130));

    let mut second = demo(&[]);
    let out = lines(&mut second);
    assert!(wait_exit(&mut second, Duration::from_secs(90))
        .await
        .success());
    {
        let out = out.lock().unwrap();
        assert_eq!(
            out.iter().filter(|l| l.contains(": resuming, ")).count(),
            2,
            "{out:?}"
        );
        assert!(
            !out.iter().any(|l| l.ends_with("background fetch started")),
            "{out:?}"
        );
        assert_eq!(
            out.iter().filter(|l| l.contains("ready to listen")).count(),
            2,
            "{out:?}"
        );
    }

    let mut third = demo(&[]);
    let out = lines(&mut third);
    assert!(wait_exit(&mut third, Duration::from_secs(60))
        .await
        .success());
    let out = out.lock().unwrap();
    assert_eq!(
        out.iter()
            .filter(|l| l.contains("answered from the cache") && l.contains("bytes verified"))
            .count(),
        2,
        "{out:?}"
    );
    assert!(out
        .iter()
        .any(|l| l.starts_with("Every episode was answered from the cache")));
}
