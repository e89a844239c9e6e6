//! A fleet of `swrt serve` nodes on one PostgreSQL database and one S3
//! prefix (a cluster of the test's own and moto's S3 server on loopback):
//! a node killed in the middle of a download is taken over by another, with
//! one terminal event; abort and click reach a fetch through a node that does
//! not run it; the Cache API written on one node is read on another; nodes
//! share many fetches. The servers are installed by `scripts/setup.sh`;
//! without them the tests are skipped, except in CI, where that is a
//! failure.

mod common;

use std::path::Path;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use swrt_server::generated::byte_at;
use swrt_test_servers::{require_servers, Postgres, S3};

/// Short leases, so that a dead node's fetches move on within seconds.
const LEASE_SECS: &str = "3";
/// Where no node dies: leases with room for a loaded machine's delays.
const CALM_LEASE_SECS: &str = "6";

const WORKER: &str = r#"
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  const cache = await caches.open("fleet");
  await cache.put("/cached", new Response("written by the node that installed me"));
})()));
self.addEventListener("backgroundfetchsuccess", (event) => event.waitUntil((async () => {
  const id = event.registration.id;
  for (const record of await event.registration.matchAll()) {
    const name = new URL(record.request.url).pathname.slice(1);
    const response = await record.responseReady;
    await fetch(`/digest?${id}/${name}`, { method: "POST", body: await response.arrayBuffer() });
  }
  console.log(`success ${id}`);
  await fetch(`/ping?success=${id}`);
})()));
self.addEventListener("backgroundfetchabort", (event) => event.waitUntil(
  fetch(`/ping?abort=${event.registration.id}`)));
self.addEventListener("backgroundfetchclick", (event) => event.waitUntil((async () => {
  const hit = await caches.match("/cached");
  const text = hit ? await hit.text() : "nothing";
  await fetch(`/ping?click=${event.registration.id}&cache=${encodeURIComponent(text)}`);
})()));
"#;

/// The shared servers of one fleet.
struct Fleet {
    _postgres: Postgres,
    s3: S3,
    store: String,
    lease_secs: &'static str,
}

impl Fleet {
    fn start(s3: S3, lease_secs: &'static str) -> Fleet {
        let postgres = Postgres::start();
        let store = postgres.create_database("fleet");
        Fleet {
            _postgres: postgres,
            s3,
            store,
            lease_secs,
        }
    }

    /// Starts node `name` with its own data dir; `extra` adds flags.
    async fn node(&self, data: &Path, name: &str, extra: &[&str]) -> Node {
        let mut cmd = swrt();
        cmd.env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test");
        let bodies = format!("s3://{}/fleet", self.s3.bucket);
        let mut args = vec![
            "--store",
            &self.store,
            "--bodies",
            &bodies,
            "--s3-endpoint",
            &self.s3.endpoint,
            "--s3-region",
            "us-east-1",
            "--fleet-node",
            name,
            "--fleet-lease-secs",
            self.lease_secs,
        ];
        args.extend_from_slice(extra);
        let (child, out, api, token) = start_serve_with(data, cmd, &args).await;
        Node {
            client: control_client(&token),
            child,
            out,
            api,
        }
    }
}

struct Node {
    child: Child,
    out: Arc<Mutex<Vec<String>>>,
    api: String,
    client: reqwest::Client,
}

impl Node {
    /// The fetches whose success event this node's worker logged.
    fn successes(&self) -> Vec<String> {
        self.out
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| l.split("success ").nth(1))
            .map(|id| id.trim().to_string())
            .collect()
    }

    async fn fetch_view(&self, unique_id: &str) -> serde_json::Value {
        get_json(&self.client, format!("{}api/fetches/{unique_id}", self.api)).await
    }

    async fn stop(mut self) {
        signal(&self.child, "TERM");
        assert!(wait_exit(&mut self.child, Duration::from_secs(30))
            .await
            .success());
    }
}

impl Drop for Node {
    /// A failing test leaves no node running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many `/ping?QUERY` requests had exactly this query.
fn pings(seen: &Seen, query: &str) -> usize {
    seen.pings
        .lock()
        .unwrap()
        .iter()
        .filter(|p| *p == query)
        .count()
}

/// A node is killed mid-download: a and b share `fleet`; a runs a 64 MiB
/// download throttled to 8 MiB/s, registered and started through a after
/// b started, until b's API shows 4 MiB stored; then a is SIGKILLed.
/// Bind `_keep` where it is taken apart: the origin server and the data
/// dirs must outlive the takeover.
struct Takeover {
    b: Node,
    seen: Arc<Seen>,
    killed: std::time::Instant,
    _keep: (
        tempfile::TempDir,
        [tempfile::TempDir; 2],
        swrt_server::StaticOrigin,
    ),
}

const TAKEOVER_BODY: u64 = 64 * MIB;

async fn kill_mid_download(fleet: &Fleet, worker: &str) -> Takeover {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("sw.js"), worker).unwrap();
    let (origin, seen) = origin(
        site.path(),
        vec![common::big("/big.bin", TAKEOVER_BODY)],
        8 * MIB,
    )
    .await;
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut a = fleet.node(dirs[0].path(), "a", &[]).await;
    let b = fleet.node(dirs[1].path(), "b", &[]).await;
    // Registered through a, after b started: b learns of it from the store.
    register_worker(&a.client, &a.api, &origin.origin().join("sw.js").unwrap()).await;
    let unique_id = start_fetch(
        &a.client,
        &a.api,
        serde_json::json!({ "scope": origin.origin(), "id": "big", "requests": ["big.bin"] }),
    )
    .await;
    // Through b's API, from the shared store: a's download makes progress.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = b.fetch_view(&unique_id).await;
        if view["downloaded"].as_u64().unwrap_or(0) >= 4 * MIB {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no progress: {view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signal(&a.child, "KILL");
    let killed = std::time::Instant::now();
    let _ = wait_exit(&mut a.child, Duration::from_secs(10)).await;
    Takeover {
        b,
        seen,
        killed,
        _keep: (site, dirs, origin),
    }
}

/// Six origins serving `worker` and five bodies of `len` bytes each
/// (`/f0.bin` to `/f29.bin`) at `rate` bytes a second (0: unthrottled): an
/// origin may have five active fetches, so thirty fetches need six.
async fn six_origins(worker: &str, len: u64, rate: u64) -> Vec<Site> {
    let mut sites = Vec::new();
    for o in 0..6 {
        let site = tempfile::tempdir().unwrap();
        std::fs::write(site.path().join("sw.js"), worker).unwrap();
        let files = (0..5)
            .map(|k| common::big(&format!("/f{}.bin", o * 5 + k), len))
            .collect();
        let (origin, seen) = origin(site.path(), files, rate).await;
        sites.push((site, origin, seen));
    }
    sites
}

type Site = (tempfile::TempDir, swrt_server::StaticOrigin, Arc<Seen>);

/// Registers the six origins' workers through `node`.
async fn register_six(node: &Node, sites: &[Site]) {
    for (_, origin, _) in sites {
        let script = origin.origin().join("sw.js").unwrap();
        register_worker(&node.client, &node.api, &script).await;
    }
}

/// Starts the thirty fetches `f0` to `f29` through `node`, five per origin.
async fn start_thirty(node: &Node, sites: &[Site]) {
    for (o, (_, origin, _)) in sites.iter().enumerate() {
        for k in 0..5 {
            let i = o * 5 + k;
            start_fetch(
                &node.client,
                &node.api,
                serde_json::json!({
                    "scope": origin.origin(), "id": format!("f{i}"),
                    "requests": [format!("f{i}.bin")],
                }),
            )
            .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_download_is_taken_over_with_one_success_event() {
    require_servers!();
    let fleet = Fleet::start(S3::start().await, LEASE_SECS);
    let Takeover { b, seen, _keep, .. } = kill_mid_download(&fleet, WORKER).await;

    until("b to finish the fetch", Duration::from_secs(90), || {
        pings(&seen, "success=big") > 0
    })
    .await;
    let resumed = seen.resumed_from("/big.bin").unwrap_or(0);
    assert!(
        resumed > 0,
        "b resumed with a Range request from the stored bytes, not from zero"
    );
    let bytes: Vec<u8> = (0..TAKEOVER_BODY).map(|i| byte_at(3, i)).collect();
    assert_eq!(
        seen.digests.lock().unwrap().clone(),
        vec![("big/big.bin".to_string(), sha256_hex(&bytes))]
    );
    assert_eq!(b.successes(), ["big"], "b ran the event");
    // Nothing else delivers it: a is dead, and b's event ended.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(pings(&seen, "success=big"), 1, "{:?}", seen.pings);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_and_click_go_through_a_node_that_does_not_run_the_fetch() {
    require_servers!();
    let fleet = Fleet::start(S3::start().await, CALM_LEASE_SECS);
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("sw.js"), WORKER).unwrap();
    let (origin, seen) = origin(site.path(), vec![common::big("/slow.bin", 32 * MIB)], MIB).await;
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = fleet.node(data_a.path(), "a", &[]).await;
    let b = fleet.node(data_b.path(), "b", &[]).await;
    register_worker(&a.client, &a.api, &origin.origin().join("sw.js").unwrap()).await;
    // b's event stream, which the dashboard follows.
    let stream = Arc::new(Mutex::new(String::new()));
    let mut events = b
        .client
        .get(format!("{}api/events", b.api))
        .send()
        .await
        .unwrap();
    let heard = stream.clone();
    tokio::spawn(async move {
        while let Ok(Some(chunk)) = events.chunk().await {
            heard
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    let unique_id = start_fetch(
        &a.client,
        &a.api,
        serde_json::json!({ "scope": origin.origin(), "id": "slow", "requests": ["slow.bin"] }),
    )
    .await;
    until("a to start downloading", Duration::from_secs(30), || {
        !seen.requests.lock().unwrap().is_empty()
    })
    .await;
    // a's progress reaches b's event stream.
    let progress_on_b = || {
        stream.lock().unwrap().lines().any(|line| {
            let Some(json) = line.strip_prefix("data:") else {
                return false;
            };
            let view: serde_json::Value = serde_json::from_str(json.trim()).unwrap_or_default();
            view["unique_id"] == unique_id.as_str()
                && view["downloaded"].as_u64().unwrap_or(0) > 0
                && view["result"] == ""
        })
    };
    until(
        "a's progress on b's event stream",
        Duration::from_secs(30),
        progress_on_b,
    )
    .await;

    // A click through b runs on b's instance of the worker, which reads the
    // cache a's instance wrote when it activated.
    let clicked = b
        .client
        .post(format!("{}api/fetches/{unique_id}/click", b.api))
        .send()
        .await
        .unwrap();
    assert!(clicked.status().is_success(), "{}", clicked.status());
    until("the click event", Duration::from_secs(30), || {
        seen.pings
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.starts_with("click=slow"))
    })
    .await;
    assert_eq!(
        pings(
            &seen,
            "click=slow&cache=written%20by%20the%20node%20that%20installed%20me"
        ),
        1,
        "{:?}",
        seen.pings
    );

    // An abort through b stops a's download, and a delivers the event.
    let aborted: serde_json::Value = b
        .client
        .post(format!("{}api/fetches/{unique_id}/abort", b.api))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(aborted["aborted"], true);
    until("the abort event", Duration::from_secs(30), || {
        pings(&seen, "abort=slow") > 0
    })
    .await;
    let view = a.fetch_view(&unique_id).await;
    assert_eq!(view["failure_reason"], "aborted", "{view}");
    // a stopped downloading: far less than the body arrived.
    let served = view["downloaded"].as_u64().unwrap();
    assert!(served < 32 * MIB, "{served}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(pings(&seen, "abort=slow"), 1, "{:?}", seen.pings);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_thirty_fetches_each_run_once() {
    require_servers!();
    let fleet = Fleet::start(S3::start().await, CALM_LEASE_SECS);
    // Each body takes about two seconds, so the first node cannot run them
    // all before the others claim what it has no room for.
    let sites = six_origins(WORKER, 2 * MIB, MIB).await;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let name = format!("n{i}");
        nodes.push(
            fleet
                .node(dir.path(), &name, &["--fleet-max-fetches", "10"])
                .await,
        );
    }
    register_six(&nodes[0], &sites).await;
    start_thirty(&nodes[0], &sites).await;
    let successes = |i: usize| pings(&sites[i / 5].2, &format!("success=f{i}"));
    until("thirty success events", Duration::from_secs(120), || {
        (0..30).all(|i| successes(i) > 0)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut all: Vec<String> = nodes.iter().flat_map(|n| n.successes()).collect();
    all.sort();
    let mut expected: Vec<String> = (0..30).map(|i| format!("f{i}")).collect();
    expected.sort();
    assert_eq!(all, expected, "every fetch's event ran once, on one node");
    for (i, node) in nodes.iter().enumerate() {
        let ran = node.successes().len();
        assert!(
            (1..=20).contains(&ran),
            "node {i} ran {ran} fetches: the work is spread"
        );
    }
    for i in 0..30 {
        assert_eq!(successes(i), 1, "f{i}");
    }
    for node in nodes {
        node.stop().await;
    }
}

const BENCH_WORKER: &str = r#"
self.addEventListener("backgroundfetchsuccess", (event) =>
  event.waitUntil(fetch(`/ping?success=${event.registration.id}`)));
"#;

/// The fleet benchmark (`bash bench/fleet.sh`): aggregate throughput of
/// 30 fetches of 8 MiB (six origins, five each: an origin's limit) through
/// one node on the embedded store (SQLite and files), and through fleets of
/// 1, 2 and 3 nodes on PostgreSQL and moto; then the time from a node's
/// death to its fetch's download resuming on another node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: bash bench/fleet.sh"]
async fn fleet_benchmark() {
    require_servers!();
    const BODY: u64 = 8 * MIB;
    println!("| setup | nodes | 30 x 8 MiB | MiB/s |");
    println!("|---|---|---|---|");
    for (setup, nodes) in [("embedded", 1), ("fleet", 1), ("fleet", 2), ("fleet", 3)] {
        let fleet = Fleet::start(S3::start().await, LEASE_SECS);
        let sites = six_origins(BENCH_WORKER, BODY, 0).await;
        let dirs: Vec<_> = (0..nodes).map(|_| tempfile::tempdir().unwrap()).collect();
        let mut started = Vec::new();
        for (i, dir) in dirs.iter().enumerate() {
            started.push(if setup == "embedded" {
                let (child, out, api, token) = start_serve_with(dir.path(), swrt(), &[]).await;
                Node {
                    client: control_client(&token),
                    child,
                    out,
                    api,
                }
            } else {
                fleet
                    .node(dir.path(), &format!("n{i}"), &["--fleet-max-fetches", "10"])
                    .await
            });
        }
        register_six(&started[0], &sites).await;
        let clock = std::time::Instant::now();
        start_thirty(&started[0], &sites).await;
        until("thirty success events", Duration::from_secs(600), || {
            (0..30).all(|i| pings(&sites[i / 5].2, &format!("success=f{i}")) > 0)
        })
        .await;
        let took = clock.elapsed().as_secs_f64();
        println!(
            "| {setup} | {nodes} | {took:.2} s | {:.0} |",
            30.0 * (BODY / MIB) as f64 / took
        );
        for node in started {
            node.stop().await;
        }
    }

    println!();
    println!("| lease | death to the resumed download's request |");
    println!("|---|---|");
    for _ in 0..3 {
        let fleet = Fleet::start(S3::start().await, LEASE_SECS);
        let Takeover {
            b,
            seen,
            killed,
            _keep,
        } = kill_mid_download(&fleet, BENCH_WORKER).await;
        until("the resumed request", Duration::from_secs(60), || {
            seen.resumed_from("/big.bin").is_some()
        })
        .await;
        println!(
            "| {LEASE_SECS} s | {:.2} s |",
            killed.elapsed().as_secs_f64()
        );
        b.stop().await;
    }
}
