//! The host as an embedder uses it: several workers in one process, limits
//! that terminate one worker only, idle stop and restart on demand.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use swrt_runtime::{
    ConsoleLevel, EventOutcome, HostDelegate, Limits, LocalOriginMapping, ScriptError,
    ServiceWorkerHost, TerminationReason, WorkerPrewarm,
};
use url::Url;

#[derive(Default)]
struct Recorder {
    lines: Mutex<Vec<String>>,
    terminated: Mutex<Vec<(String, TerminationReason)>>,
}

impl HostDelegate for Recorder {
    fn console(&self, script_url: &Url, _level: ConsoleLevel, message: &str) {
        self.lines
            .lock()
            .unwrap()
            .push(format!("{} {message}", script_url.path()));
    }
    fn uncaught_error(&self, script_url: &Url, error: &ScriptError) {
        self.lines.lock().unwrap().push(format!(
            "{} uncaught {}",
            script_url.path(),
            error.message
        ));
    }
    fn worker_terminated(&self, script_url: &Url, reason: &TerminationReason) {
        self.terminated
            .lock()
            .unwrap()
            .push((script_url.path().to_string(), reason.clone()));
    }
}

fn origin() -> Url {
    Url::parse("http://localhost/").unwrap()
}

/// Registers the worker at `path` of the origin; returns its scope.
async fn register(host: &ServiceWorkerHost, path: &str) -> Url {
    host.register(origin().join(path).unwrap(), None)
        .await
        .unwrap()
        .scope
}

fn host_with(
    files: &[(&str, &str)],
    limits: Limits,
) -> (ServiceWorkerHost, Arc<Recorder>, tempfile::TempDir) {
    prewarmed_host_with(files, limits, WorkerPrewarm::Off)
}

fn prewarmed_host_with(
    files: &[(&str, &str)],
    limits: Limits,
    prewarm: WorkerPrewarm,
) -> (ServiceWorkerHost, Arc<Recorder>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let recorder = Arc::new(Recorder::default());
    let host = ServiceWorkerHost::builder()
        .limits(limits)
        .prewarm(prewarm)
        .delegate(recorder.clone())
        .local_origin(LocalOriginMapping {
            origin: origin(),
            dir: dir.path().to_path_buf(),
        })
        .build();
    (host, recorder, dir)
}

const BOMB: &str = r#"
self.addEventListener("message", () => {
  const hoard = [];
  for (;;) hoard.push(new Array(100000).fill(hoard.length));
});
"#;

const COUNTER: &str = r#"
let count = 0;
self.addEventListener("message", (event) => {
  count += 1;
  console.log("count", count, event.data);
});
"#;

/// Reports what a realm was bound to, and whether anything is left in its
/// global scope from an earlier worker.
const WHERE_AM_I: &str = r#"
self.addEventListener("message", () => {
  const blob = URL.createObjectURL(new Blob(["x"]));
  console.log([
    location.href,
    new Request("r").url,
    blob.startsWith("blob:http://localhost/"),
    typeof globalThis.left,
  ].join(" "));
  globalThis.left = location.pathname;
});
"#;

/// A prewarmed realm is created before its worker is known: each worker
/// that takes one (at registration, and again after an idle stop) sees its
/// own URL, resolves relative URLs against it, mints blob: URLs of its
/// origin, and finds nothing of another worker in its global scope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prewarmed_realms_are_bound_to_their_worker_and_start_fresh() {
    let limits = Limits {
        idle_timeout: Duration::from_millis(100),
        ..Limits::default()
    };
    let (host, recorder, _dir) = prewarmed_host_with(
        &[("a/sw.js", WHERE_AM_I), ("b/sw.js", WHERE_AM_I)],
        limits,
        WorkerPrewarm::KeepOne,
    );
    let a = register(&host, "a/sw.js").await;
    let b = register(&host, "b/sw.js").await;
    for scope in [&a, &b, &a] {
        // Past the idle stop: each event wakes its worker in a new realm.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let outcome = host
            .dispatch_event(scope, "message", json!({"data": 1}))
            .await
            .unwrap();
        assert!(outcome.is_success(), "{outcome:?}");
    }
    let lines = recorder.lines.lock().unwrap().clone();
    let expected: Vec<String> = ["a", "b", "a"]
        .iter()
        .map(|w| {
            format!("/{w}/sw.js http://localhost/{w}/sw.js http://localhost/{w}/r true undefined")
        })
        .collect();
    assert_eq!(lines, expected);
    host.shutdown().await;
}

/// The heap limit holds in a prewarmed realm: its callback is bound with
/// the worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heap_bomb_in_a_prewarmed_realm_is_terminated() {
    let limits = Limits {
        heap_limit_bytes: 32 * 1024 * 1024,
        ..Limits::default()
    };
    let (host, _recorder, _dir) =
        prewarmed_host_with(&[("bomb/sw.js", BOMB)], limits, WorkerPrewarm::KeepOne);
    let bomb = register(&host, "bomb/sw.js").await;
    let outcome = host
        .dispatch_event(&bomb, "message", json!({"data": "go"}))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        EventOutcome::Terminated(TerminationReason::HeapLimitReached)
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heap_bomb_terminates_only_its_worker_and_restarts_on_demand() {
    let limits = Limits {
        heap_limit_bytes: 32 * 1024 * 1024,
        ..Limits::default()
    };
    let (host, recorder, _dir) =
        host_with(&[("bomb/sw.js", BOMB), ("counter/sw.js", COUNTER)], limits);
    let bomb = register(&host, "bomb/sw.js").await;
    let counter = register(&host, "counter/sw.js").await;

    let outcome = host
        .dispatch_event(&bomb, "message", json!({"data": "go"}))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        EventOutcome::Terminated(TerminationReason::HeapLimitReached)
    );
    assert_eq!(
        recorder.terminated.lock().unwrap().as_slice(),
        &[(
            "/bomb/sw.js".to_string(),
            TerminationReason::HeapLimitReached
        )]
    );

    // The other worker keeps its in-memory state: it was never touched.
    for n in 1..=2 {
        let outcome = host
            .dispatch_event(&counter, "message", json!({"data": n}))
            .await
            .unwrap();
        assert!(outcome.is_success(), "{outcome:?}");
    }
    // The terminated worker starts again when an event needs it.
    let again = host
        .dispatch_event(&counter, "message", json!({"data": 3}))
        .await
        .unwrap();
    assert!(again.is_success());
    let lines = recorder.lines.lock().unwrap().clone();
    assert!(
        lines.contains(&"/counter/sw.js count 3 3".to_string()),
        "{lines:?}"
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_worker_stops_and_loses_memory_then_restarts() {
    let limits = Limits {
        idle_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let (host, recorder, _dir) = host_with(&[("sw.js", COUNTER)], limits);
    let scope = register(&host, "sw.js").await;
    host.dispatch_event(&scope, "message", json!({"data": "a"}))
        .await
        .unwrap();
    host.dispatch_event(&scope, "message", json!({"data": "b"}))
        .await
        .unwrap();
    // Well past the idle timeout (also on a loaded machine) the worker is
    // stopped; in-memory state is gone.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    host.dispatch_event(&scope, "message", json!({"data": "c"}))
        .await
        .unwrap();
    let lines = recorder.lines.lock().unwrap().clone();
    assert_eq!(
        lines,
        vec!["/sw.js count 1 a", "/sw.js count 2 b", "/sw.js count 1 c"]
    );
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_until_cap_terminates_a_never_ending_event() {
    let script = r#"self.addEventListener("message", (e) => e.waitUntil(new Promise(() => {})));"#;
    let limits = Limits {
        wait_until_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (host, recorder, _dir) = host_with(&[("sw.js", script)], limits);
    let scope = register(&host, "sw.js").await;
    let outcome = host
        .dispatch_event(&scope, "message", json!({}))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        EventOutcome::Terminated(TerminationReason::WaitUntilTimeout)
    );
    assert_eq!(recorder.terminated.lock().unwrap().len(), 1);
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_loop_in_a_timer_is_terminated_and_worker_restarts() {
    let script = r#"
      self.addEventListener("message", (e) => {
        if (e.data === "spin") setTimeout(() => { for (;;) {} }, 0);
        else console.log("alive", e.data);
      });
    "#;
    let limits = Limits {
        // Short enough for a quick test, long enough that ordinary turns on a
        // loaded debug build stay under it.
        event_timeout: Duration::from_millis(1000),
        ..Limits::default()
    };
    let (host, recorder, _dir) = host_with(&[("sw.js", script)], limits);
    let scope = register(&host, "sw.js").await;
    let outcome = host
        .dispatch_event(&scope, "message", json!({"data": "spin"}))
        .await
        .unwrap();
    assert!(outcome.is_success());
    // The timer's loop is caught by the watchdog, not by an event deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while recorder.terminated.lock().unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the spinning timer was never terminated"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let outcome = host
        .dispatch_event(&scope, "message", json!({"data": "again"}))
        .await
        .unwrap();
    assert!(outcome.is_success(), "{outcome:?}");
    assert!(recorder
        .lines
        .lock()
        .unwrap()
        .contains(&"/sw.js alive again".to_string()));
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_root_certificate_makes_start_fail() {
    let certificate = swrt_runtime::Certificate::from_der(b"not a certificate").unwrap();
    let error = match ServiceWorkerHost::builder()
        .add_root_certificate(certificate)
        .start()
        .await
    {
        Ok(_) => panic!("a host must not start with an unusable root certificate"),
        Err(e) => e,
    };
    assert!(
        matches!(error, swrt_runtime::HostError::Invalid(_)),
        "{error}"
    );
}

/// A hostile script server: one that never answers, one that streams
/// without end. Both end in a precise error, not a hang or unbounded memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_script_servers_fail_the_fetch() {
    use axum::response::IntoResponse;
    let app = axum::Router::new()
        .route(
            "/stall.js",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "never"
            }),
        )
        .route(
            "/endless.js",
            axum::routing::get(|| async {
                let chunk = bytes::Bytes::from(vec![b' '; 1 << 20]);
                let stream = futures::StreamExt::map(futures::stream::repeat(chunk), |c| {
                    Ok::<_, std::io::Error>(c)
                });
                (
                    [("content-type", "text/javascript")],
                    axum::body::Body::from_stream(stream),
                )
                    .into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let loader = swrt_runtime::ScriptLoader::new(tokio::runtime::Handle::current(), None)
        .with_timeout(Duration::from_millis(500));
    let stalled = loader
        .fetch(&Url::parse(&format!("{base}/stall.js")).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        stalled.contains("did not deliver the script within 0.5 s"),
        "{stalled}"
    );
    let endless = swrt_runtime::ScriptLoader::new(tokio::runtime::Handle::current(), None)
        .fetch(&Url::parse(&format!("{base}/endless.js")).unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(endless.contains("larger than 32 MiB"), "{endless}");
}

/// A registration's last update check is stored: an update that finds the
/// script unchanged (so no new worker is stored) still moves it, and a host
/// restarted on the same data dir finds the time it recorded, which decides
/// when the registration is stale and soft-updated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_update_check_survives_a_restart() {
    use std::time::{SystemTime, UNIX_EPOCH};
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("sw.js"), COUNTER).unwrap();
    let data = tempfile::tempdir().unwrap();
    let start = || async {
        ServiceWorkerHost::builder()
            .local_origin(LocalOriginMapping {
                origin: origin(),
                dir: site.path().to_path_buf(),
            })
            .data_dir(data.path())
            .start()
            .await
            .unwrap()
    };
    let last_check = |host: &ServiceWorkerHost| {
        let registrations = host.registrations();
        assert_eq!(registrations.len(), 1);
        registrations[0]
            .last_update_check
            .expect("the registration was checked")
    };

    let host = start().await;
    register(&host, "sw.js").await;
    let installed = last_check(&host);
    // Let the clock leave the millisecond in which the worker was installed
    // and stored, so the update check's time is a later one.
    let stored = SystemTime::now();
    while SystemTime::now() <= stored + Duration::from_millis(2) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    register(&host, "sw.js").await;
    let checked = last_check(&host);
    assert!(checked > installed, "the unchanged update was a check");
    host.shutdown().await;

    let host = start().await;
    let millis = checked.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    assert_eq!(
        last_check(&host),
        UNIX_EPOCH + Duration::from_millis(millis),
        "restored at the stored millisecond"
    );
    host.shutdown().await;
}

/// A page that holds an IndexedDB connection with a transaction running.
const IDB_PAGE: &str = r#"
const open = indexedDB.open("kept", 1);
open.onupgradeneeded = () => open.result.createObjectStore("s").put("value", 1);
open.onsuccess = () => {
  const db = open.result;
  db.onclose = () => console.log("close", db.objectStoreNames.length);
  const tx = db.transaction("s", "readwrite");
  tx.onabort = () => console.log("abort", tx.error.name);
  tx.oncomplete = () => console.log("complete");
  // Keeps the transaction busy until something aborts it.
  const again = () => { tx.objectStore("s").get(1).onsuccess = again; };
  again();
  console.log("open", db.version);
};
"#;

/// Clearing an origin's storage closes its IndexedDB connections by force:
/// a page's running transaction aborts with AbortError, the connection
/// fires `close` after it, and the database is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_an_origin_closes_its_indexeddb_connections() {
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("page.js"), IDB_PAGE).unwrap();
    let recorder = Arc::new(Recorder::default());
    let host = ServiceWorkerHost::builder()
        .delegate(recorder.clone())
        .data_dir(data.path())
        .local_origin(LocalOriginMapping {
            origin: origin(),
            dir: site.path().to_path_buf(),
        })
        .start()
        .await
        .unwrap();
    let _page = host
        .open_page(origin().join("page.js").unwrap(), None)
        .await
        .unwrap();
    let lines = || recorder.lines.lock().unwrap().clone();
    for _ in 0..600 {
        if lines().iter().any(|l| l.ends_with("open 1")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cleared = host.clear_origin_storage(&origin()).await.unwrap();
    assert_eq!(cleared.databases, 1);
    for _ in 0..600 {
        if lines().iter().any(|l| l.contains("close")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        lines(),
        vec![
            "/page.js open 1",
            "/page.js abort AbortError",
            "/page.js close 1"
        ]
    );
    host.shutdown().await;
}
