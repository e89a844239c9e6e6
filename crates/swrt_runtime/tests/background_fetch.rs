//! Background Fetch through the embedding API: a host with a data dir, a
//! worker, a fetch started from Rust, the terminal event in the worker, and
//! the click entry point reaching `clients.openWindow`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use swrt_bgfetch::{FetchOptions, FetchRequest, PolicyContext, RequestSpec};
use swrt_runtime::{ConsoleLevel, HostDelegate, LocalOriginMapping, ServiceWorkerHost};
use url::Url;

#[derive(Default)]
struct Recorder {
    lines: Mutex<Vec<String>>,
    windows: Mutex<Vec<String>>,
}

impl HostDelegate for Recorder {
    fn console(&self, _script_url: &Url, _level: ConsoleLevel, message: &str) {
        self.lines.lock().unwrap().push(message.to_string());
    }
    fn open_window(&self, _script_url: &Url, url: &Url) -> bool {
        self.windows.lock().unwrap().push(url.to_string());
        true
    }
}

const WORKER: &str = r#"
self.addEventListener("backgroundfetchsuccess", (event) => {
  event.waitUntil(event.registration.matchAll().then((records) => {
    console.log("success " + event.registration.id + " " + records.length);
  }));
});
self.addEventListener("backgroundfetchfail", (event) => {
  console.log("fail " + event.registration.failureReason);
});
self.addEventListener("backgroundfetchclick", (event) => {
  console.log("click " + event.registration.id + " " + event.registration.result);
  event.waitUntil(clients.openWindow("/episodes/" + event.registration.id));
});
"#;

async fn serve_bytes() -> Url {
    // Cross-origin to http://localhost: the response must pass CORS.
    let app = axum::Router::new().route(
        "/episode",
        axum::routing::get(|| async {
            ([("access-control-allow-origin", "*")], vec![7u8; 50_000])
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Url::parse(&format!("http://{addr}/episode")).unwrap()
}

async fn wait_for(recorder: &Recorder, line: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !recorder.lines.lock().unwrap().iter().any(|l| l == line) {
        assert!(
            std::time::Instant::now() < deadline,
            "never saw {line:?}: {:?}",
            recorder.lines.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_from_rust_then_click_opens_a_window() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("sw.js"), WORKER).unwrap();
    let data = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let origin = Url::parse("http://localhost/").unwrap();
    let host = ServiceWorkerHost::builder()
        .delegate(recorder.clone())
        .local_origin(LocalOriginMapping {
            origin: origin.clone(),
            dir: site.path().to_path_buf(),
        })
        .data_dir(data.path())
        .start()
        .await
        .unwrap();
    let scope = host
        .register(origin.join("sw.js").unwrap(), None)
        .await
        .unwrap()
        .scope;
    let episode = serve_bytes().await;
    let engine = host
        .background_fetch()
        .expect("a host with a data dir has the engine");
    let snapshot = engine
        .fetch(FetchRequest {
            scope: scope.to_string(),
            id: "ep-1".into(),
            requests: vec![RequestSpec::get(episode.as_str())],
            options: FetchOptions {
                title: "Episode 1".into(),
                ..Default::default()
            },
            origin: "http://localhost".into(),
            policy: PolicyContext {
                csp_connect_src: Vec::new(),
                is_secure_context: true,
            },
            has_active_worker: true,
        })
        .await
        .unwrap();
    assert_eq!(snapshot.title, "Episode 1");
    wait_for(&recorder, "success ep-1 1").await;

    // The host's UI was activated: the worker gets backgroundfetchclick.
    assert!(engine.click(scope.as_str(), "ep-1").await.unwrap());
    wait_for(&recorder, "click ep-1 success").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while recorder.windows.lock().unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "openWindow never reached the host"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        recorder.windows.lock().unwrap()[0],
        "http://localhost/episodes/ep-1"
    );
    host.shutdown().await;
}

const CACHE_WORKER: &str = r#"
self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open("quota");
    await cache.put("/a", new Response("a".repeat(600)));
    console.log("stored 600");
    try {
      await cache.put("/b", new Response("b".repeat(600)));
      console.log("stored 600 more");
    } catch (e) {
      console.log(`put: ${e instanceof QuotaExceededError} ${e.name} quota=${e.quota} requested=${e.requested}`);
    }
    console.log(`b cached: ${(await cache.match("/b")) !== undefined}`);
    // Replacing an entry frees its bytes first.
    await cache.put("/a", new Response("c".repeat(900)));
    console.log("replaced with 900");
  })());
});
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_put_past_the_quota_is_a_quota_exceeded_error() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("sw.js"), CACHE_WORKER).unwrap();
    let data = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let origin = Url::parse("http://localhost/").unwrap();
    let host = ServiceWorkerHost::builder()
        .delegate(recorder.clone())
        .local_origin(LocalOriginMapping {
            origin: origin.clone(),
            dir: site.path().to_path_buf(),
        })
        .data_dir(data.path())
        .background_fetch_limits(swrt_bgfetch::Limits {
            quota_per_origin: 1000,
            ..swrt_bgfetch::Limits::default()
        })
        .start()
        .await
        .unwrap();
    host.register(origin.join("sw.js").unwrap(), None)
        .await
        .unwrap();
    wait_for(&recorder, "stored 600").await;
    wait_for(
        &recorder,
        "put: true QuotaExceededError quota=1000 requested=600",
    )
    .await;
    wait_for(&recorder, "b cached: false").await;
    wait_for(&recorder, "replaced with 900").await;
    host.shutdown().await;
}
