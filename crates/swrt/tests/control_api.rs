//! The `swrt serve` control API: it registers module service workers
//! (`"type": "module"`), rejects unknown worker types, and keeps web content
//! (the daemon's own workers, other origins' pages) out.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_module_workers() {
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("lib.mjs"),
        "export const ready = \"module ready\";\n",
    )
    .unwrap();
    std::fs::write(
        site.path().join("sw.mjs"),
        "import { ready } from \"./lib.mjs\";\nself.addEventListener(\"activate\", () => console.log(ready));\n",
    )
    .unwrap();
    let (origin, _seen) = origin(site.path(), vec![], MIB).await;
    let script_url = origin.origin().join("sw.mjs").unwrap();
    let (mut serve, out, api, token) = start_serve(data.path()).await;
    let client = control_client(&token);
    let register = |body: serde_json::Value| {
        let client = client.clone();
        let url = format!("{api}api/workers");
        async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let status = response.status();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };

    let (status, body) = register(serde_json::json!({
        "script_url": script_url, "scope": origin.origin().join("wasm/").unwrap(), "type": "wasm",
    }))
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "TypeError", "{body}");

    // As a classic script, `import` does not parse: the registration fails.
    let (status, body) = register(serde_json::json!({
        "script_url": script_url, "scope": origin.origin().join("classic/").unwrap(),
    }))
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("SyntaxError"),
        "{body}"
    );

    let (status, body) =
        register(serde_json::json!({ "script_url": script_url, "type": "module" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"]["state"], "activated", "{body}");
    until("the module's activate log", Duration::from_secs(30), || {
        out.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("module ready"))
    })
    .await;
    signal(&serve, "TERM");
    assert!(wait_exit(&mut serve, Duration::from_secs(20))
        .await
        .success());
}

/// Web content never reaches the control API: a worker the daemon runs gets
/// 403 for reads and writes over loopback (it cannot list or abort another
/// worker's fetch), requests of other origins' pages are refused, and
/// state-changing calls need the token even on loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_content_cannot_use_the_control_api() {
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir(site.path().join("victim")).unwrap();
    std::fs::create_dir(site.path().join("hostile")).unwrap();
    std::fs::write(site.path().join("victim/sw.js"), "// holds a fetch\n").unwrap();
    // Learns the API's address (and, as if it had leaked, the victim's
    // fetch id) from its script URL, tries to list fetches and workers, to
    // abort the victim's fetch and to register a worker, and reports what it
    // saw. CORS keeps it from reading the API's answers; the calls that
    // change state go out as no-cors requests, which CORS does not stop, so
    // only the server's refusal protects the victim. It also sets the
    // host's marker header itself, which must not help.
    std::fs::write(
        site.path().join("hostile/sw.js"),
        r#"
const params = new URL(location.href).searchParams;
const api = params.get("api");
async function probe(what, path, init) {
  try {
    const response = await fetch(api + path, init);
    console.log(`probe ${what} ${response.type} ${response.status}`);
  } catch (e) {
    console.log(`probe ${what} ${e.name}`);
  }
}
self.addEventListener("activate", (e) => e.waitUntil((async () => {
  await probe("list-fetches", "api/fetches");
  await probe("list-workers", "api/workers", { headers: { "swrt-realm": "" } });
  await probe("abort", `api/fetches/${params.get("id")}/abort`, { method: "POST", mode: "no-cors" });
  await probe("register", "api/workers", {
    method: "POST",
    mode: "no-cors",
    headers: { "content-type": "text/plain" },
    body: JSON.stringify({ script_url: new URL("sw.js", location.href).href }),
  });
  console.log("probes done");
})()));
"#,
    )
    .unwrap();
    let (origin, _seen) = origin(site.path(), vec![big("/big.bin", 8 * MIB)], 128 * 1024).await;
    let (mut serve, out, api, token) = start_serve(data.path()).await;
    let authorized = control_client(&token);
    let anonymous = reqwest::Client::new();
    let victim = origin.origin().join("victim/").unwrap();
    let register_victim = serde_json::json!({ "script_url": victim.join("sw.js").unwrap() });

    // Without the token, loopback clients may read but not change anything.
    let listed = anonymous
        .get(format!("{api}api/workers"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    for client in [
        anonymous.post(format!("{api}api/workers")),
        anonymous
            .post(format!("{api}api/workers"))
            .bearer_auth("not-the-token"),
    ] {
        let refused = client.json(&register_victim).send().await.unwrap();
        assert_eq!(refused.status(), 401);
    }

    // A page of another origin (a browser sends its Origin, or
    // Sec-Fetch-Site) is refused even with the token.
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let response = authorized
            .post(format!("{api}api/workers"))
            .header(name, value)
            .json(&register_victim)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{name}: {value}");
    }

    // The dashboard's own requests (same origin) work.
    let registered = authorized
        .post(format!("{api}api/workers"))
        .header("origin", api.trim_end_matches('/'))
        .header("sec-fetch-site", "same-origin")
        .json(&register_victim)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 200, "{:?}", registered.text().await);
    let started: serde_json::Value = authorized
        .post(format!("{api}api/fetches"))
        .json(&serde_json::json!({
            "scope": victim, "id": "victim", "requests": ["../big.bin"],
            "download_total": 8 * MIB,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unique_id = started["unique_id"].as_str().expect("a fetch").to_string();

    let hostile = origin
        .origin()
        .join(&format!("hostile/sw.js?api={api}&id={unique_id}"))
        .unwrap();
    let registered = authorized
        .post(format!("{api}api/workers"))
        .json(&serde_json::json!({ "script_url": hostile }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 200, "{:?}", registered.text().await);
    until(
        "the hostile worker's probes",
        Duration::from_secs(30),
        || {
            out.lock()
                .unwrap()
                .iter()
                .any(|l| l.ends_with("probes done"))
        },
    )
    .await;
    let probes: Vec<String> = out
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| l.split("] probe ").nth(1).map(str::to_string))
        .collect();
    assert_eq!(
        probes,
        [
            "list-fetches TypeError",
            "list-workers TypeError",
            "abort opaque 0",
            "register opaque 0"
        ],
        "a hosted worker reads nothing of the API"
    );

    let view = get_json(&authorized, format!("{api}api/fetches/{unique_id}")).await;
    // The server refused the calls that reached it.
    assert_ne!(view["failure_reason"], "aborted", "{view}");
    let workers = get_json(&authorized, format!("{api}api/workers")).await;
    assert_eq!(workers.as_array().map(Vec::len), Some(2), "{workers}");

    signal(&serve, "TERM");
    assert!(wait_exit(&mut serve, Duration::from_secs(20))
        .await
        .success());
}

/// `swrt serve --serve DIR` serves DIR on the same port after a restart, so
/// the workers registered from it keep their origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_directory_keeps_its_origin_across_restarts() {
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("sw.js"), "// a worker\n").unwrap();
    let mut origins = Vec::new();
    for _ in 0..2 {
        let mut cmd = swrt();
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .arg("--serve")
            .arg(site.path());
        let mut serve = piped(cmd);
        let out = lines(&mut serve);
        let mut origin = String::new();
        until(
            "swrt serve to serve the directory",
            Duration::from_secs(60),
            || {
                if let Some(o) = out
                    .lock()
                    .unwrap()
                    .iter()
                    .find_map(|l| l.trim().strip_prefix("serving ")?.rsplit(" as ").next())
                {
                    origin = o.to_string();
                }
                !origin.is_empty()
            },
        )
        .await;
        signal(&serve, "TERM");
        assert!(wait_exit(&mut serve, Duration::from_secs(20))
            .await
            .success());
        origins.push(origin);
    }
    assert!(origins[0].starts_with("http://127.0.0.1:"), "{origins:?}");
    assert_eq!(origins[0], origins[1]);
}

/// Background Sync through the daemon: while the API says the host is
/// offline, a worker's fetch fails and a registered sync waits;
/// `POST /api/network` online fires it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn going_online_through_the_api_fires_background_sync() {
    let site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("sw.js"),
        r#"
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  await self.registration.sync.register("outbox");
  console.log(`sync registered, onLine ${navigator.onLine}`);
  await fetch("/ping?event=offline").then(
    () => console.log("fetched while offline"),
    (error) => console.log(`fetch while offline: ${error.name}`));
})()));
self.addEventListener("sync", (event) =>
  event.waitUntil(fetch(`/ping?event=sync&tag=${event.tag}`)));
"#,
    )
    .unwrap();
    let (origin, seen) = origin(site.path(), vec![], MIB).await;
    let (mut serve, out, api, token) = start_serve(data.path()).await;
    let client = control_client(&token);
    let network = |online: bool| {
        client
            .post(format!("{api}api/network"))
            .json(&serde_json::json!({ "online": online }))
            .send()
    };
    assert!(network(false).await.unwrap().status().is_success());
    register_worker(&client, &api, &origin.origin().join("sw.js").unwrap()).await;
    let logged = |text: &str| out.lock().unwrap().iter().any(|l| l.contains(text));
    until("the sync registration", Duration::from_secs(30), || {
        logged("fetch while offline")
    })
    .await;
    assert!(logged("sync registered, onLine false"));
    assert!(logged("fetch while offline: TypeError"));
    assert!(!seen.pinged("event=offline"), "no request left the host");
    // Offline: the registration is kept and nothing fires.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !seen.pinged("event=sync"),
        "{:?}",
        seen.pings.lock().unwrap()
    );
    assert!(network(true).await.unwrap().status().is_success());
    until(
        "the sync event once online",
        Duration::from_secs(30),
        || seen.pinged("event=sync&tag=outbox"),
    )
    .await;
    signal(&serve, "TERM");
    assert!(wait_exit(&mut serve, Duration::from_secs(20))
        .await
        .success());
}

/// `POST /api/origins/clear` clears an origin's storage: its IndexedDB
/// databases, Cache API caches and registrations go, another origin's stay,
/// and a worker registered again starts from nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_an_origin_removes_its_indexeddb_caches_and_registrations() {
    let site = tempfile::tempdir().unwrap();
    let other_site = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let worker = r#"
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  console.log(`${location.origin} found databases [${names}] caches [${await caches.keys()}]`);
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("notes", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("notes");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  await new Promise((resolve, reject) => {
    const tx = db.transaction("notes", "readwrite");
    tx.objectStore("notes").put("a note", 1);
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
  await (await caches.open("pages")).put("/page", new Response("a page"));
  console.log(`${location.origin} stored`);
})()));
"#;
    std::fs::write(site.path().join("sw.js"), worker).unwrap();
    std::fs::write(other_site.path().join("sw.js"), worker).unwrap();
    let (site_origin, _seen) = origin(site.path(), vec![], MIB).await;
    let (other, _other_seen) = origin(other_site.path(), vec![], MIB).await;
    let (mut serve, out, api, token) = start_serve(data.path()).await;
    let client = control_client(&token);
    let count = |text: String| {
        out.lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(&text))
            .count()
    };
    let name = |o: &url::Url| o.origin().ascii_serialization();
    let (origin, other) = (site_origin.origin(), other.origin());
    for o in [&origin, &other] {
        register_worker(&client, &api, &o.join("sw.js").unwrap()).await;
        until("the worker to store", Duration::from_secs(30), || {
            count(format!("{} stored", name(o))) == 1
        })
        .await;
        assert_eq!(
            count(format!("{} found databases [] caches []", name(o))),
            1
        );
    }

    let clear = |body: serde_json::Value| {
        let request = client.post(format!("{api}api/origins/clear")).json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = clear(serde_json::json!({ "origin": "not a url" })).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "TypeError", "{body}");
    let (status, body) = clear(serde_json::json!({ "origin": origin.as_str() })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["origin"], name(&origin), "{body}");
    assert_eq!(body["databases"], 1, "{body}");
    assert_eq!(body["caches"], 1, "{body}");
    assert_eq!(body["registrations"], 1, "{body}");
    let workers = get_json(&client, format!("{api}api/workers")).await;
    let scopes: Vec<&str> = workers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["scope"].as_str())
        .collect();
    assert_eq!(scopes, vec![other.as_str()], "{workers}");

    // Registered again, the worker finds nothing of its origin's old data.
    register_worker(&client, &api, &origin.join("sw.js").unwrap()).await;
    until("the worker to store again", Duration::from_secs(30), || {
        count(format!("{} stored", name(&origin))) == 2
    })
    .await;
    assert_eq!(
        count(format!("{} found databases [] caches []", name(&origin))),
        2
    );
    signal(&serve, "TERM");
    assert!(wait_exit(&mut serve, Duration::from_secs(20))
        .await
        .success());
}
