//! The https origin ports: TLS with the run's generated CA, routed like the
//! http ports; a host that trusts the CA fetches https URLs from a page and
//! from a service worker, one that does not cannot; the proxy tunnels
//! `CONNECT` to the run's ports only.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use swrt_runtime::{ConsoleLevel, HostDelegate, ScriptError, ServiceWorkerHost};
use swrt_wpt::front::{self, Front};
use swrt_wpt::server::{self, State};
use swrt_wpt::subst::HostConfig;
use swrt_wpt::tls::TestCa;
use url::Url;

#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl HostDelegate for Lines {
    fn console(&self, _url: &Url, _level: ConsoleLevel, message: &str) {
        self.0.lock().unwrap().push(message.to_string());
    }
    fn uncaught_error(&self, url: &Url, error: &ScriptError) {
        self.0
            .lock()
            .unwrap()
            .push(format!("uncaught in {url}: {}", error.message));
    }
}

impl Lines {
    async fn wait_for(&self, prefix: &str) -> String {
        for _ in 0..200 {
            if let Some(line) = self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return line.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no console line starting with {prefix:?}; got {:?}",
            self.0.lock().unwrap()
        );
    }
}

const PAGE: &str = r#"
fetch("https://www1.{{host}}:{{ports[https][1]}}/data.txt")
  .then((r) => r.text())
  .then((t) => console.log("page got " + t + " over {{location[scheme]}}"),
        (e) => console.log("page failed " + e));
"#;

const WORKER: &str = r#"
self.addEventListener("install", (event) => {
  event.waitUntil(fetch("https://{{host}}:{{ports[https][0]}}/data.txt")
    .then((r) => r.text())
    .then((t) => console.log("worker got " + t), (e) => console.log("worker failed " + e)));
});
"#;

struct Servers {
    ca: TestCa,
    front: Front,
    _origin: swrt_server::StaticOrigin,
    _dir: tempfile::TempDir,
}

fn write(root: &Path, name: &str, text: &str) {
    std::fs::write(root.join(name), text).unwrap();
}

async fn servers() -> Servers {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, "data.txt", "tls data");
    // The page reads it from another origin (www1), so CORS must allow it.
    write(
        &root,
        "data.txt.headers",
        "Access-Control-Allow-Origin: *\n",
    );
    write(&root, "page.sub.js", PAGE);
    write(&root, "sw.sub.js", WORKER);
    let hosts = HostConfig {
        browser_host: "web-platform.test".into(),
        alt_host: "not-web-platform.test".into(),
        ports: [0, 0],
        https_ports: [0, 0],
    };
    let state = State::new(root.clone(), root.clone(), hosts.clone());
    let origin = server::start_origin(state.clone()).await.unwrap();
    let mut names: HashSet<String> = hosts.all_hosts().into_iter().collect();
    names.extend(["localhost".to_string(), "127.0.0.1".to_string()]);
    let ca = TestCa::generate(&names.iter().cloned().collect::<Vec<_>>()).unwrap();
    let (front, _routes) = front::start(
        front::Routes {
            internal: origin.local_addr(),
            wptserve: Default::default(),
            hosts: names,
            origin_ports: [0, 0],
            https_ports: [0, 0],
        },
        ca.server_config.clone(),
    )
    .await
    .unwrap();
    {
        let mut hosts = state.hosts.lock().unwrap();
        hosts.ports = front.ports;
        hosts.https_ports = front.https_ports;
    }
    Servers {
        ca,
        front,
        _origin: origin,
        _dir: dir,
    }
}

fn loopback_names() -> HashMap<String, IpAddr> {
    HostConfig {
        browser_host: "web-platform.test".into(),
        alt_host: "not-web-platform.test".into(),
        ports: [0, 0],
        https_ports: [0, 0],
    }
    .all_hosts()
    .into_iter()
    .map(|h| (h, IpAddr::from([127, 0, 0, 1])))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_and_worker_fetch_https_urls_with_the_run_ca() {
    let s = servers().await;
    assert_ne!(s.front.https_ports, s.front.ports);
    let lines = Arc::new(Lines::default());
    let host = ServiceWorkerHost::builder()
        .delegate(lines.clone())
        .resolve_hosts(loopback_names(), false)
        .add_root_certificate(s.ca.root_certificate().unwrap())
        .start()
        .await
        .unwrap();
    let base = Url::parse(&format!(
        "https://web-platform.test:{}/",
        s.front.https_ports[0]
    ))
    .unwrap();

    let mut page = host
        .open_page(base.join("page.sub.js").unwrap(), Some(false))
        .await
        .unwrap();
    page.evaluated().await.unwrap();
    assert_eq!(
        lines.wait_for("page ").await,
        "page got tls data over https"
    );

    host.register(base.join("sw.sub.js").unwrap(), Some(base.clone()))
        .await
        .unwrap();
    assert_eq!(lines.wait_for("worker ").await, "worker got tls data");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_without_the_ca_cannot_load_https_scripts() {
    let s = servers().await;
    let host = ServiceWorkerHost::builder()
        .resolve_hosts(loopback_names(), false)
        .start()
        .await
        .unwrap();
    let url = Url::parse(&format!(
        "https://web-platform.test:{}/page.sub.js",
        s.front.https_ports[0]
    ))
    .unwrap();
    let error = match host.open_page(url, Some(false)).await {
        Ok(_) => panic!("an unknown CA must not be trusted"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("network error"), "{error}");
    host.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_tunnels_connect_to_the_run_ports_only() {
    let s = servers().await;
    let proxy = format!("http://127.0.0.1:{}", s.front.proxy_port);
    let client = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(&proxy).unwrap())
        .add_root_certificate(
            reqwest::Certificate::from_der(&s.ca.root_certificate().unwrap().to_der()).unwrap(),
        )
        .build()
        .unwrap();
    for port in s.front.https_ports {
        let url = format!("https://www1.web-platform.test:{port}/data.txt");
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.text().await.unwrap(), "tls data");
    }
    // http keeps working, through the proxy and directly.
    let url = format!("http://web-platform.test:{}/data.txt", s.front.ports[1]);
    assert_eq!(
        client.get(&url).send().await.unwrap().text().await.unwrap(),
        "tls data"
    );
    // A name or port that is not the run's is refused by the proxy.
    for url in [
        format!("https://example.test:{}/data.txt", s.front.https_ports[0]),
        "https://web-platform.test:1/data.txt".to_string(),
    ] {
        assert!(client.get(&url).send().await.is_err(), "{url}");
    }
}
