//! Service-worker realms booted from a startup snapshot: the same global
//! scope as realms created from source, and nothing shared between workers.
//!
//! One test in its own binary: the snapshot is process-wide, and the realm
//! created from source must start before it is set.

use std::sync::{Arc, Mutex};

use serde_json::json;
use swrt_runtime::{
    ConsoleLevel, EventOutcome, HostDelegate, LocalOriginMapping, ScriptError, ServiceWorkerHost,
};
use url::Url;

#[derive(Default)]
struct Recorder {
    lines: Mutex<Vec<String>>,
}

impl HostDelegate for Recorder {
    fn console(&self, _script_url: &Url, _level: ConsoleLevel, message: &str) {
        self.lines.lock().unwrap().push(message.to_string());
    }
    fn uncaught_error(&self, script_url: &Url, error: &ScriptError) {
        panic!("{script_url}: uncaught {}", error.message);
    }
}

/// Prints the shape of the global scope: every property along the global
/// object's prototype chain with its descriptor, and for classes their
/// prototype's and their own properties and what each inherits from; then changes shared-looking
/// objects to see whether the next worker finds the change.
const SURFACE: &str = r#"
// What an object is, by the global that holds it (or its constructor's).
function nameOf(object) {
  if (object === null) return "null";
  for (const key of Reflect.ownKeys(globalThis)) {
    const d = Object.getOwnPropertyDescriptor(globalThis, key);
    if (d.value === object) return String(key);
    if (typeof d.value === "function" && d.value.prototype === object) return `${String(key)}.prototype`;
  }
  if (object === Function.prototype) return "Function.prototype";
  return "another object";
}
function describe(object, depth) {
  const out = [];
  for (const key of Reflect.ownKeys(object)) {
    const d = Object.getOwnPropertyDescriptor(object, key);
    const flags = `${d.writable}${d.enumerable}${d.configurable}`;
    if ("value" in d) {
      let line = `${String(key)}:${typeof d.value}:${flags}`;
      if (depth > 0 && typeof d.value === "function") {
        line += `(${d.value.length})^${nameOf(Object.getPrototypeOf(d.value))}`;
        if (d.value.prototype) {
          line += `{${describe(d.value.prototype, 0)}}^${nameOf(Object.getPrototypeOf(d.value.prototype))}`;
        }
        line += `[${describe(d.value, 0)}]`;
      }
      out.push(line);
    } else {
      out.push(`${String(key)}:${typeof d.get}/${typeof d.set}:${flags}`);
    }
  }
  return out.sort().join(",");
}
self.addEventListener("message", () => {
  const levels = [];
  for (let o = globalThis; o; o = Object.getPrototypeOf(o)) levels.push(describe(o, 1));
  console.log(levels.join("\n"));
  console.log(JSON.stringify([
    typeof globalThis.left,
    "left" in Headers.prototype,
    Response.prototype.text.name,
    new Headers({ a: "b" }).get("a"),
  ]));
  globalThis.left = 1;
  Headers.prototype.left = 1;
  Response.prototype.text = function changed() {};
});
"#;

async fn surface(host: &ServiceWorkerHost, recorder: &Recorder, path: &str) -> (String, String) {
    let scope = host
        .register(
            Url::parse("http://localhost/").unwrap().join(path).unwrap(),
            None,
        )
        .await
        .unwrap()
        .scope;
    let outcome = host
        .dispatch_event(&scope, "message", json!({ "data": null }))
        .await
        .unwrap();
    assert_eq!(outcome, EventOutcome::Completed);
    let mut lines = recorder.lines.lock().unwrap();
    let state = lines.pop().expect("the state line");
    let shape = lines.pop().expect("the shape line");
    (shape, state)
}

/// The top-level entries (a global property with what it holds) of one
/// shape that the other lacks, both ways.
fn differences(shape: &str, expected: &str) -> Vec<String> {
    fn entries(shape: &str) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        let (mut depth, mut start) = (0i32, 0);
        for (i, c) in shape.char_indices() {
            match c {
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                ',' | '\n' if depth == 0 => {
                    out.insert(shape[start..i].to_string());
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.insert(shape[start..].to_string());
        out
    }
    let (got, want) = (entries(shape), entries(expected));
    let extra = got.difference(&want).map(|e| format!("unexpected {e}"));
    let missing = want.difference(&got).map(|e| format!("missing {e}"));
    extra.chain(missing).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_realms_match_realms_from_source_and_start_fresh() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["source", "first", "second"] {
        std::fs::create_dir_all(dir.path().join(name)).unwrap();
        std::fs::write(dir.path().join(name).join("sw.js"), SURFACE).unwrap();
    }
    let recorder = Arc::new(Recorder::default());
    let host = ServiceWorkerHost::builder()
        .delegate(recorder.clone())
        .local_origin(LocalOriginMapping {
            origin: Url::parse("http://localhost/").unwrap(),
            dir: dir.path().to_path_buf(),
        })
        .build();
    let (from_source, _) = surface(&host, &recorder, "source/sw.js").await;

    let blob = swrt_runtime::snapshot::create_service_worker_snapshot().unwrap();
    assert!(swrt_runtime::snapshot::use_service_worker_snapshot(
        Box::leak(blob.into_boxed_slice())
    ));
    let (first, first_state) = surface(&host, &recorder, "first/sw.js").await;
    let (second, second_state) = surface(&host, &recorder, "second/sw.js").await;

    assert_eq!(differences(&first, &from_source), Vec::<String>::new());
    assert_eq!(differences(&second, &from_source), Vec::<String>::new());
    let fresh = r#"["undefined",false,"text","b"]"#;
    assert_eq!(first_state, fresh);
    assert_eq!(second_state, fresh, "a change of the first worker leaked");
}
