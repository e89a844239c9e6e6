//! A mixed workload under repeated SIGKILL at random instants.
//!
//! One registration starts four background fetches from its `activate`
//! handler: a large throttled body, many small ones, an upload, and a slow
//! one the test aborts through the control API after a restart. `swrt serve`
//! is then killed with SIGKILL at random instants, again and again, and
//! started on the same data dir each time. A last run is left to finish.
//!
//! Checked at the end:
//! - every fetch ended with its expected result, and its terminal event's
//!   handler ran to completion;
//! - a terminal event was never delivered twice within one process's life
//!   (a second delivery needs a kill in between);
//! - every body a handler read has the SHA-256 of the bytes the origin
//!   served, and the upload reached the server intact.
//!
//! Bounded for CI (about a minute). `SWRT_CRASH_KILLS=N` asks for N kills
//! (e.g. 100) and lifts the time bound; `SWRT_CRASH_SEED` replays a seed.

mod common;

use std::time::{Duration, Instant};

use common::*;
use swrt_server::generated::{byte_at, GeneratedFile};

const LARGE: u64 = 48 * MIB;
const SMALL: u64 = 16 * 1024;
const SMALL_COUNT: u8 = 40;
const SLOW: u64 = 128 * MIB;
const UPLOAD: u64 = 256 * 1024;
/// Marks the moment of a kill among the worker's pings.
const KILL: &str = "KILL";

/// A small deterministic generator: the kill instants come from it, and a
/// failing run prints its seed.
struct XorShift(u64);

impl XorShift {
    fn next_in(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        low + self.0 % (high - low)
    }
}

fn generated_bytes(seed: u8, len: u64) -> Vec<u8> {
    (0..len).map(|i| byte_at(seed, i)).collect()
}

fn upload_bytes() -> Vec<u8> {
    (0..UPLOAD).map(|i| (i * 13 + 5) as u8).collect()
}

/// The worker: `activate` starts the four fetches; each terminal event
/// sends every record's body back to `/digest`, lingers (a slow handler),
/// marks itself done in the Cache API, and reports whether it had already
/// completed once.
fn worker(dir: &std::path::Path) {
    let smalls: Vec<String> = (0..SMALL_COUNT).map(|i| format!("/s{i}.bin")).collect();
    let sw = format!(
        r#"
const SMALLS = {smalls};
self.addEventListener("activate", (event) => event.waitUntil((async () => {{
  const bgf = self.registration.backgroundFetch;
  await bgf.fetch("large", ["/large.bin"], {{ downloadTotal: {LARGE} }});
  await bgf.fetch("many", SMALLS);
  const upload = new Uint8Array({UPLOAD}).map((_, i) => (i * 13 + 5) & 255);
  await bgf.fetch("upload", [new Request("/upload", {{ method: "POST", body: upload }})]);
  await bgf.fetch("slow", ["/slow.bin"]);
  await fetch("/ping?ev=started");
}})()));

async function settle(event, name) {{
  const id = event.registration.id;
  await fetch(`/ping?ev=start&id=${{id}}&event=${{name}}`);
  const marks = await caches.open("completed");
  const again = Boolean(await marks.match(`/${{id}}`));
  if (name === "success") {{
    for (const record of await event.registration.matchAll()) {{
      const body = await (await record.responseReady).arrayBuffer();
      const url = new URL(record.request.url).pathname;
      await fetch(`/digest?id=${{id}}&url=${{url}}`, {{ method: "POST", body }});
    }}
  }}
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await marks.put(`/${{id}}`, new Response("done"));
  await fetch(`/ping?ev=${{again ? "again" : "done"}}&id=${{id}}&event=${{name}}`
    + `&reason=${{event.registration.failureReason}}`);
}}
self.addEventListener("backgroundfetchsuccess", (e) => e.waitUntil(settle(e, "success")));
self.addEventListener("backgroundfetchfail", (e) => e.waitUntil(settle(e, "fail")));
self.addEventListener("backgroundfetchabort", (e) => e.waitUntil(settle(e, "abort")));
"#,
        smalls = serde_json::to_string(&smalls).unwrap(),
    );
    std::fs::write(dir.join("sw.js"), sw).unwrap();
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Kills `child` with SIGKILL and records the moment among the pings.
fn kill(child: &mut std::process::Child, seen: &Seen) {
    child.kill().unwrap();
    child.wait().unwrap();
    seen.pings.lock().unwrap().push(KILL.to_string());
}

fn pings_of(seen: &Seen) -> Vec<String> {
    seen.pings.lock().unwrap().clone()
}

fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_sigkills_lose_no_byte_and_no_event() {
    let asked_kills = env_u64("SWRT_CRASH_KILLS");
    let kills = asked_kills.unwrap_or(12);
    // In CI the loop also stops after 40 s of killing, whatever the count.
    let kill_budget = asked_kills.map_or(Duration::from_secs(40), |_| Duration::MAX);
    let seed = env_u64("SWRT_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1
    });
    eprintln!("crash loop: seed {seed} (SWRT_CRASH_SEED={seed} replays it), {kills} kills");
    let mut random = XorShift(seed);

    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    worker(site.path());
    let mut files = vec![
        GeneratedFile::new("/large.bin", LARGE, 3, "application/octet-stream"),
        GeneratedFile::new("/slow.bin", SLOW, 4, "application/octet-stream"),
    ];
    for i in 0..SMALL_COUNT {
        files.push(GeneratedFile::new(
            format!("/s{i}.bin"),
            SMALL,
            10 + i,
            "application/octet-stream",
        ));
    }
    let (origin, seen) = origin(site.path(), files, 8 * MIB).await;

    // The first run registers the worker, whose `activate` starts the fetches.
    let (mut child, _out, mut api, token) = start_serve(data.path()).await;
    let mut client = control_client(&token);
    register_worker(&client, &api, &origin.origin().join("sw.js").unwrap()).await;
    until(
        "activate to start the fetches",
        Duration::from_secs(60),
        || seen.pinged("ev=started"),
    )
    .await;
    let listed = get_json(&client, format!("{api}api/fetches")).await;
    let slow_id = listed
        .as_array()
        .and_then(|all| all.iter().find(|f| f["id"] == "slow"))
        .and_then(|f| f["unique_id"].as_str())
        .unwrap_or_else(|| panic!("the slow fetch is not listed: {listed}"))
        .to_string();

    let killing = Instant::now();
    let mut done_kills = 0;
    while done_kills < kills && killing.elapsed() < kill_budget {
        tokio::time::sleep(Duration::from_millis(random.next_in(150, 2000))).await;
        kill(&mut child, &seen);
        done_kills += 1;
        let (next, _out, next_api, token) = start_serve(data.path()).await;
        child = next;
        api = next_api;
        client = control_client(&token);
        if done_kills == 2 {
            // Abort through the API of a process that did not start the fetch.
            let aborted = client
                .post(format!("{api}api/fetches/{slow_id}/abort"))
                .send()
                .await
                .unwrap();
            assert!(aborted.status().is_success(), "{aborted:?}");
        }
    }
    eprintln!(
        "crash loop: {done_kills} kills in {:.1} s",
        killing.elapsed().as_secs_f64()
    );

    // The last run is left to finish everything.
    let expected = [
        ("large", "success"),
        ("many", "success"),
        ("upload", "success"),
        ("slow", "abort"),
    ];
    until(
        "every terminal event to complete",
        Duration::from_secs(180),
        || {
            let pings = pings_of(&seen);
            expected.iter().all(|(id, _)| {
                pings.iter().any(|p| {
                    (p.starts_with("ev=done&") || p.starts_with("ev=again&"))
                        && query_value(p, "id") == Some(id)
                })
            })
        },
    )
    .await;
    // The engine ends each fetch once its event has completed.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed = get_json(&client, format!("{api}api/fetches")).await;
        let all = listed.as_array().cloned().unwrap_or_default();
        let ended = all.iter().filter(|f| f["phase"] == "done").count();
        if ended == expected.len() {
            for (id, event) in expected {
                let view = all.iter().find(|f| f["id"] == id).unwrap();
                let result = if event == "success" {
                    "success"
                } else {
                    "failure"
                };
                assert_eq!(view["result"], result, "{view}");
            }
            break;
        }
        assert!(Instant::now() < deadline, "not all done: {listed}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signal(&child, "TERM");
    assert!(wait_exit(&mut child, Duration::from_secs(30))
        .await
        .success());

    let pings = pings_of(&seen);
    for (id, event) in expected {
        // The event delivered is the one the fetch's outcome calls for.
        for p in pings
            .iter()
            .filter(|p| query_value(p, "id") == Some(id) && !p.starts_with("ev=started"))
        {
            assert_eq!(query_value(p, "event"), Some(event), "{id}: {p}");
        }
        // No second delivery without a kill since the previous one started.
        let mut delivered_since_kill = false;
        for p in &pings {
            if p == KILL {
                delivered_since_kill = false;
            } else if p.starts_with("ev=start&") && query_value(p, "id") == Some(id) {
                assert!(
                    !delivered_since_kill,
                    "{id} was delivered twice in one process (seed {seed}): {pings:?}"
                );
                delivered_since_kill = true;
            }
        }
    }
    let slow_reason = pings
        .iter()
        .find(|p| p.starts_with("ev=done&id=slow"))
        .and_then(|p| query_value(p, "reason"));
    // A redelivered abort reports `again`, so the reason may come from there.
    let slow_reason = slow_reason.or_else(|| {
        pings
            .iter()
            .find(|p| p.starts_with("ev=again&id=slow"))
            .and_then(|p| query_value(p, "reason"))
    });
    assert_eq!(slow_reason, Some("aborted"), "{pings:?}");

    // Every body read back is the origin's, byte for byte.
    let mut expected_digest = std::collections::HashMap::new();
    expected_digest.insert(
        "/large.bin".to_string(),
        sha256_hex(&generated_bytes(3, LARGE)),
    );
    for i in 0..SMALL_COUNT {
        expected_digest.insert(
            format!("/s{i}.bin"),
            sha256_hex(&generated_bytes(10 + i, SMALL)),
        );
    }
    // The upload's response is the SHA-256 (hex) of what the server received.
    expected_digest.insert(
        "/upload".to_string(),
        sha256_hex(sha256_hex(&upload_bytes()).as_bytes()),
    );
    let digests = seen.digests.lock().unwrap().clone();
    let mut checked = std::collections::HashSet::new();
    for (query, digest) in &digests {
        let url = query_value(query, "url").unwrap_or_default();
        let want = expected_digest
            .get(url)
            .unwrap_or_else(|| panic!("unexpected record {query}"));
        assert_eq!(digest, want, "{query} (seed {seed})");
        checked.insert(url.to_string());
    }
    assert_eq!(
        checked.len(),
        expected_digest.len(),
        "every record was read back at least once: {checked:?}"
    );

    let deliveries = pings.iter().filter(|p| p.starts_with("ev=start&")).count();
    let redelivered = deliveries - expected.len();
    let resumed = seen
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, range)| range.is_some())
        .count();
    eprintln!(
        "crash loop: {done_kills} kills survived, {} bodies verified, \
         {redelivered} events delivered again after a kill, {resumed} downloads resumed with Range",
        digests.len(),
    );
}
