//! `swrt serve --store postgres://... --bodies s3://...`: the metadata goes
//! to PostgreSQL and a background fetch's bodies and the Cache API's to
//! object storage (a cluster of the test's own and moto's S3 server on
//! loopback); they come back byte for byte, and across a restart, with
//! nothing in the data dir but its lock. The servers are installed by
//! `scripts/setup.sh`; without them the test is skipped, except in CI, where
//! that is a failure.

mod common;

use std::time::{Duration, Instant};

use common::*;
use swrt_server::generated::byte_at;

const BIG: u64 = 3 * MIB;
const SMALL: &str = "a small body, stored in the fetch's pack\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_and_a_cache_round_trip_through_shared_storage() {
    swrt_test_servers::require_servers!();
    let moto = swrt_test_servers::S3::start().await;
    let postgres = swrt_test_servers::Postgres::start();
    let store = postgres.create_database("swrt");
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("small.txt"), SMALL).unwrap();
    std::fs::write(
        site.path().join("sw.js"),
        r#"
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  const cache = await caches.open("s3");
  await cache.put("/cached", new Response("cached in object storage"));
  const hit = await cache.match("/cached");
  await fetch(`/ping?cache=${encodeURIComponent(await hit.text())}`);
})()));
self.addEventListener("backgroundfetchsuccess", (event) => event.waitUntil((async () => {
  for (const record of await event.registration.matchAll()) {
    const name = new URL(record.request.url).pathname.slice(1);
    const response = await record.responseReady;
    const body = name === "small.txt"
      ? new TextEncoder().encode(await response.text())
      : await response.arrayBuffer();
    await fetch(`/digest?${name}`, { method: "POST", body });
  }
  await fetch("/ping?event=success");
})()));
"#,
    )
    .unwrap();
    let (origin, seen) = origin(site.path(), vec![big("/big.bin", BIG)], 16 * MIB).await;

    let mut cmd = swrt();
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    let bodies = format!("s3://{}/node-1", moto.bucket);
    let args = [
        "--store",
        &store,
        "--bodies",
        &bodies,
        "--s3-endpoint",
        &moto.endpoint,
        "--s3-region",
        "us-east-1",
    ];
    let (mut serve, out, api, token) = start_serve_with(data.path(), cmd, &args).await;
    assert!(
        out.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("bodies:    s3://swrt-bodies/node-1")),
        "the start says where the bodies are"
    );
    let client = control_client(&token);
    register_worker(&client, &api, &origin.origin().join("sw.js").unwrap()).await;
    until("the Cache API round trip", Duration::from_secs(30), || {
        seen.pinged("cache=cached%20in%20object%20storage")
    })
    .await;

    let unique_id = start_fetch(
        &client,
        &api,
        serde_json::json!({
            "scope": origin.origin(), "id": "s3", "requests": ["big.bin", "small.txt"],
        }),
    )
    .await;
    until("the success event", Duration::from_secs(60), || {
        seen.pinged("event=success")
    })
    .await;
    let big_bytes: Vec<u8> = (0..BIG).map(|i| byte_at(3, i)).collect();
    let digests = seen.digests.lock().unwrap().clone();
    assert_eq!(
        digests,
        vec![
            ("big.bin".to_string(), sha256_hex(&big_bytes)),
            ("small.txt".to_string(), sha256_hex(SMALL.as_bytes())),
        ]
    );
    assert!(
        !data.path().join("bodies").exists(),
        "no body was written to the data dir"
    );
    assert!(
        !data.path().join("swrt.sqlite3").exists(),
        "no database was made in the data dir"
    );
    let stored = moto.keys(&format!("node-1/{unique_id}/")).await;
    assert!(
        stored.iter().any(|k| k.contains("/0.body/"))
            && stored.iter().any(|k| k.contains("/small.pack/")),
        "{stored:?}"
    );
    // The records stay readable while the worker holds them; a restart
    // (start-up repair, if the stop did not already) deletes the finished
    // fetch's bodies from the bucket. The cached body stays.
    signal(&serve, "TERM");
    assert!(wait_exit(&mut serve, Duration::from_secs(20))
        .await
        .success());
    let mut cmd = swrt();
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    let (mut serve, _out, api, token) = start_serve_with(data.path(), cmd, &args).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let fetch_keys = moto.keys(&format!("node-1/{unique_id}/")).await;
        if fetch_keys.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "bodies left: {fetch_keys:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(moto.keys("node-1/cache/").await.len(), 1);
    // The registration came back from PostgreSQL, script and all: a new
    // fetch on it reaches the worker.
    let client = control_client(&token);
    start_fetch(
        &client,
        &api,
        serde_json::json!({
            "scope": origin.origin(), "id": "after-restart", "requests": ["small.txt"],
        }),
    )
    .await;
    until("the second fetch's event", Duration::from_secs(60), || {
        seen.digests.lock().unwrap().len() == 3
    })
    .await;
    assert_eq!(
        seen.digests.lock().unwrap()[2],
        ("small.txt".to_string(), sha256_hex(SMALL.as_bytes()))
    );
    assert!(!data.path().join("swrt.sqlite3").exists());
    signal(&serve, "TERM");
    assert!(wait_exit(&mut serve, Duration::from_secs(20))
        .await
        .success());
}
