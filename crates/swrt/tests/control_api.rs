//! The `swrt serve` control API registers module service workers
//! (`"type": "module"`) and rejects unknown worker types.

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
    let client = reqwest::Client::new();
    let (mut serve, out, api) = start_serve(data.path()).await;
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
