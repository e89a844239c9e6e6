//! `swrt serve --bodies s3://...`: a background fetch's bodies and the
//! Cache API's go to object storage (moto's S3 server on loopback) and come
//! back byte for byte; the data dir keeps only the metadata. moto is
//! installed by `scripts/setup.sh`; without it the test is skipped, except
//! in CI, where that is a failure.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use swrt_server::generated::byte_at;

const BIG: u64 = 3 * MIB;
const SMALL: &str = "a small body, stored in the fetch's pack\n";

/// moto's S3 server on a loopback port, with one bucket; stops when dropped.
struct Moto {
    child: Child,
    endpoint: String,
    bucket: &'static str,
}

impl Moto {
    /// `None` (the test is skipped) when moto is not installed, outside CI.
    async fn start() -> Option<Moto> {
        let installed = Command::new("python3")
            .args(["-c", "import moto.server, flask"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            let missing = "moto's S3 server is not installed (pip install 'moto[server]')";
            assert!(
                std::env::var_os("CI").is_none(),
                "the S3 test must run in CI, but {missing}"
            );
            eprintln!("SKIPPED: {missing}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m moto.server");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "swrt-bodies",
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        // moto accepts unsigned requests: create the bucket once it answers.
        loop {
            let created = reqwest::Client::new()
                .put(format!("{}/{}", moto.endpoint, moto.bucket))
                .send()
                .await;
            match created {
                Ok(r) if r.status().is_success() => return Some(moto),
                _ if Instant::now() > deadline => panic!("moto's S3 server did not start"),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// The keys stored under `prefix`.
    async fn keys(&self, prefix: &str) -> Vec<String> {
        let listing = reqwest::Client::new()
            .get(format!(
                "{}/{}?list-type=2&prefix={prefix}",
                self.endpoint, self.bucket
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        listing
            .split("<Key>")
            .skip(1)
            .filter_map(|k| k.split("</Key>").next())
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_and_a_cache_round_trip_through_object_storage() {
    let Some(moto) = Moto::start().await else {
        return;
    };
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
    let (mut serve, _out, _api, _token) = start_serve_with(data.path(), cmd, &args).await;
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
    signal(&serve, "TERM");
    assert!(wait_exit(&mut serve, Duration::from_secs(20))
        .await
        .success());
}
