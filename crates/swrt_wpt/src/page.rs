//! The script a test page runs.
//!
//! swrt's page realms run one classic script and have no HTML parser or
//! `<script>` loading, so the runner builds that script: the runner's
//! prelude, then every script the test page would load (`<script src>`
//! fetched over the run's servers, inline scripts as they are), in order,
//! concatenated. Classic scripts share the global scope, so helpers declared
//! with `let`/`const`/`function` in one are visible in the next, as in a
//! browser. Differences (see wpt/README.md): a syntax error anywhere, or an
//! exception thrown at the top level of one script, stops the scripts after
//! it (a browser would run them), and `document.currentScript` is null.

use crate::discover::{Kind, TestFile};
use crate::meta::TimeoutKind;
use crate::server::json;

/// One script of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// `<script src=...>`: a URL (absolute, or relative to the page).
    Src(String),
    /// An inline script.
    Inline(String),
}

/// What a page needs besides its scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PagePlan {
    /// Scripts in order.
    pub scripts: Vec<Script>,
    /// `<meta name=timeout content=long>`.
    pub long: bool,
    /// `<title>`.
    pub title: Option<String>,
}

const GLOBAL_WINDOW: &str = "self.GLOBAL = {\n  isWindow: function() { return true; },\n  isWorker: function() { return false; },\n  isShadowRealm: function() { return false; },\n};";

/// The page of a generated test (`.window.js`, `.any.js` window and
/// serviceworker scopes), as upstream's wrappers write it.
pub fn plan_generated(test: &TestFile) -> PagePlan {
    let mut scripts = Vec::new();
    let long = test.meta.timeout == TimeoutKind::Long;
    let title = test.meta.title.clone();
    match test.kind {
        Kind::AnyWindow | Kind::Window => {
            if test.kind == Kind::AnyWindow {
                scripts.push(Script::Inline(GLOBAL_WINDOW.into()));
            }
            scripts.push(Script::Src("/resources/testharness.js".into()));
            scripts.push(Script::Src("/resources/testharnessreport.js".into()));
            for s in &test.meta.scripts {
                scripts.push(Script::Src(s.clone()));
            }
            scripts.push(Script::Src(test.source_url.clone()));
        }
        Kind::AnyServiceWorker => {
            scripts.push(Script::Src("/resources/testharness.js".into()));
            scripts.push(Script::Src("/resources/testharnessreport.js".into()));
            let base = test
                .source_url
                .strip_suffix(".any.js")
                .unwrap_or(&test.source_url);
            let variant = test.id.find('?').map(|i| &test.id[i..]).unwrap_or("");
            let worker = format!("{base}.any.worker.js{variant}");
            scripts.push(Script::Inline(format!(
                "(async function() {{\n  const scope = 'does/not/exist';\n  let reg = await navigator.serviceWorker.getRegistration(scope);\n  if (reg) await reg.unregister();\n  reg = await navigator.serviceWorker.register({}, {{scope}});\n  fetch_tests_from_worker(reg.installing || reg.waiting || reg.active);\n}})().catch((e) => setTimeout(() => {{ throw e; }}));",
                json(&worker)
            )));
        }
        Kind::AnyServiceWorkerModule => {
            scripts.extend(harness_scripts());
            scripts.push(Script::Inline(service_worker_module_wrapper(test)));
        }
        Kind::AnyDedicatedWorker { module } => {
            scripts.extend(harness_scripts());
            scripts.push(Script::Inline(dedicated_worker_wrapper(
                &worker_script_url(test, module),
                module,
            )));
        }
        Kind::AnySharedWorker { module } => {
            scripts.extend(harness_scripts());
            scripts.push(Script::Inline(shared_worker_wrapper(test, module)));
        }
        Kind::WorkerFile => {
            scripts.extend(harness_scripts());
            scripts.push(Script::Inline(dedicated_worker_wrapper(
                &format!("{}{}", test.source_url, variant_of(test)),
                false,
            )));
        }
        Kind::Html | Kind::Skipped(_) => {}
    }
    PagePlan {
        scripts,
        long,
        title,
    }
}

/// testharness.js and its report script, which every wrapper page loads.
fn harness_scripts() -> [Script; 2] {
    [
        Script::Src("/resources/testharness.js".into()),
        Script::Src("/resources/testharnessreport.js".into()),
    ]
}

/// The test's variant (`?1`), or "".
fn variant_of(test: &TestFile) -> &str {
    test.id.find('?').map(|i| &test.id[i..]).unwrap_or("")
}

/// The generated worker script of an `.any.js` file: `.any.worker.js`
/// (classic, `importScripts`) or `.any.worker-module.js` (`import`s), with
/// the test's variant.
fn worker_script_url(test: &TestFile, module: bool) -> String {
    let base = test
        .source_url
        .strip_suffix(".any.js")
        .unwrap_or(&test.source_url);
    let suffix = if module {
        ".any.worker-module.js"
    } else {
        ".any.worker.js"
    };
    format!("{base}{suffix}{}", variant_of(test))
}

/// The dedicatedworker scopes' page: the tests run in a `Worker`.
fn dedicated_worker_wrapper(worker_url: &str, module: bool) -> String {
    let options = if module { ", { type: 'module' }" } else { "" };
    format!(
        "fetch_tests_from_worker(new Worker({}{options}));",
        json(worker_url)
    )
}

/// The sharedworker scopes' page: the tests run in a `SharedWorker`.
fn shared_worker_wrapper(test: &TestFile, module: bool) -> String {
    let options = if module { ", { type: 'module' }" } else { "" };
    format!(
        "fetch_tests_from_worker(new SharedWorker({}{options}));",
        json(&worker_script_url(test, module))
    )
}

/// The serviceworker-module scope's page: registers the module worker of
/// the file (out of any page's scope) and gets the results from it.
fn service_worker_module_wrapper(test: &TestFile) -> String {
    format!(
        "(async function() {{\n  const scope = 'does/not/exist';\n  let reg = await navigator.serviceWorker.getRegistration(scope);\n  if (reg) await reg.unregister();\n  reg = await navigator.serviceWorker.register({}, {{ scope, type: 'module' }});\n  fetch_tests_from_worker(reg.installing || reg.waiting || reg.active);\n}})().catch((e) => setTimeout(() => {{ throw e; }}));",
        json(&worker_script_url(test, true))
    )
}

/// Reads an `.html` test: its `<script>` elements in document order (classic
/// scripts only), `<meta name=timeout content=long>` and `<title>`. Markup
/// other than that is not built into the document.
pub fn plan_html(html: &str) -> Result<PagePlan, String> {
    let html = strip_comments(html);
    let lower = html.to_ascii_lowercase();
    let mut plan = PagePlan::default();
    let mut pos = 0;
    while let Some(rel) = lower[pos..].find('<') {
        let start = pos + rel;
        let tag_end = match find_tag_end(&html, start) {
            Some(e) => e,
            None => break,
        };
        let tag = &html[start + 1..tag_end];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let attrs = parse_attrs(&tag[name.len()..]);
        let attr = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        pos = tag_end + 1;
        match name.as_str() {
            "script" => {
                let close = lower[pos..]
                    .find("</script")
                    .map(|i| pos + i)
                    .ok_or("a <script> element is not closed")?;
                let body = html[pos..close].to_string();
                pos = close;
                let ty = attr("type").unwrap_or_default().to_ascii_lowercase();
                let classic = ty.is_empty() || ty.contains("javascript") || ty == "text/ecmascript";
                if ty == "module" {
                    return Err(
                        "module scripts (<script type=module>) in .html tests are not supported"
                            .into(),
                    );
                }
                if !classic {
                    continue;
                }
                match attr("src") {
                    Some(src) => plan.scripts.push(Script::Src(src)),
                    None => plan.scripts.push(Script::Inline(body)),
                }
            }
            "meta"
                if attr("name").as_deref() == Some("timeout")
                    && attr("content").as_deref() == Some("long") =>
            {
                plan.long = true;
            }
            "title" => {
                if let Some(close) = lower[pos..].find("</title") {
                    plan.title = Some(decode_entities(html[pos..pos + close].trim()));
                }
            }
            _ => {}
        }
    }
    Ok(plan)
}

fn strip_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<!--") {
        out.push_str(&rest[..i]);
        match rest[i + 4..].find("-->") {
            Some(j) => rest = &rest[i + 4 + j + 3..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

fn find_tag_end(html: &str, start: usize) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = start + 1;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

fn parse_attrs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.trim_end_matches('/').chars().collect();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == '/') {
            i += 1;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '=' {
            i += 1;
        }
        if start == i {
            break;
        }
        let name: String = chars[start..i]
            .iter()
            .collect::<String>()
            .to_ascii_lowercase();
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < chars.len() && chars[i] == '=' {
            i += 1;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            if i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
                let q = chars[i];
                i += 1;
                let s = i;
                while i < chars.len() && chars[i] != q {
                    i += 1;
                }
                value = chars[s..i].iter().collect();
                i += 1;
            } else {
                let s = i;
                while i < chars.len() && !chars[i].is_whitespace() {
                    i += 1;
                }
                value = chars[s..i].iter().collect();
            }
        }
        out.push((name, decode_entities(&value)));
    }
    out
}

fn decode_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// What the prelude tells the runner's own scripts.
#[derive(Debug, Clone)]
pub struct PreludeConfig {
    /// The run's token for this page.
    pub token: String,
    /// testharness.js `timeout_multiplier`.
    pub timeout_multiplier: f64,
}

/// The first script of every page: the runner's configuration, then the bits
/// of markup testharness.js looks for (`<meta name=timeout>`, `<title>`,
/// `<div id=log>`).
pub fn prelude(plan: &PagePlan, config: &PreludeConfig) -> String {
    let mut out = format!(
        "self.__swrt_wpt = {{ token: {t}, report: \"/_swrt_wpt/report/\" + {t}, permission: \"/_swrt_wpt/permission/\" + {t}, timeoutMultiplier: {m} }};\n",
        t = json(&config.token),
        m = config.timeout_multiplier
    );
    out.push_str("(function () {\n");
    // HTML "the end": once the document has loaded, its client message queue
    // is enabled. swrt's page realms only enable it through onmessage or
    // startMessages() so far; do what a browser does here.
    out.push_str("  self.addEventListener(\"load\", () => { if (self.navigator && navigator.serviceWorker && navigator.serviceWorker.startMessages) navigator.serviceWorker.startMessages(); });\n");
    if plan.long {
        out.push_str("  const meta = document.createElement(\"meta\");\n  meta.name = \"timeout\";\n  meta.content = \"long\";\n  meta.setAttribute(\"name\", \"timeout\");\n  document.head.appendChild(meta);\n");
    }
    if let Some(title) = &plan.title {
        out.push_str(&format!("  document.title = {};\n", json(title)));
    }
    out.push_str("  const log = document.createElement(\"div\");\n  log.id = \"log\";\n  document.body.appendChild(log);\n})();\n");
    out
}

/// Concatenates `(label, source)` pairs into one classic script.
pub fn assemble(parts: &[(String, String)]) -> String {
    let mut out = String::new();
    for (label, source) in parts {
        out.push_str(&format!("\n;// ---- swrt wpt: {label}\n"));
        out.push_str(source);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_scripts_in_order() {
        let html = r#"<!doctype html>
<meta charset=utf-8>
<meta name="timeout" content="long">
<title>A &amp; B</title>
<!-- <script src="commented.js"></script> -->
<script src="/resources/testharness.js"></script>
<script src='/resources/testharnessreport.js'></script>
<script type="text/plain">not code</script>
<script src=resources/helper.js></script>
<div id=log></div>
<script>
  test(() => { assert_true("</div>".length > 0); }, "inline");
</script>"#;
        let plan = plan_html(html).unwrap();
        assert!(plan.long);
        assert_eq!(plan.title.as_deref(), Some("A & B"));
        assert_eq!(
            plan.scripts[..3],
            [
                Script::Src("/resources/testharness.js".into()),
                Script::Src("/resources/testharnessreport.js".into()),
                Script::Src("resources/helper.js".into()),
            ]
        );
        match &plan.scripts[3] {
            Script::Inline(s) => assert!(s.contains("\"inline\"")),
            other => panic!("{other:?}"),
        }
        assert_eq!(plan.scripts.len(), 4);
        assert!(plan_html("<script type=module>import x from './x.js'</script>").is_err());
    }

    fn any_test(kind: Kind, id: &str) -> TestFile {
        TestFile {
            id: id.into(),
            source: "x.any.js".into(),
            source_url: "/w/x.any.js".into(),
            kind,
            meta: crate::meta::Meta::default(),
        }
    }

    fn last_inline(plan: &PagePlan) -> &str {
        match plan.scripts.last() {
            Some(Script::Inline(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn worker_scopes_fetch_tests_from_their_worker() {
        let dedicated = plan_generated(&any_test(
            Kind::AnyDedicatedWorker { module: false },
            "/w/x.any.worker.html?v",
        ));
        assert_eq!(
            dedicated.scripts[0],
            Script::Src("/resources/testharness.js".into())
        );
        assert_eq!(
            last_inline(&dedicated),
            "fetch_tests_from_worker(new Worker(\"/w/x.any.worker.js?v\"));"
        );
        let shared = plan_generated(&any_test(
            Kind::AnySharedWorker { module: true },
            "/w/x.any.sharedworker-module.html",
        ));
        assert_eq!(
            last_inline(&shared),
            "fetch_tests_from_worker(new SharedWorker(\"/w/x.any.worker-module.js\", { type: 'module' }));"
        );
        let service = plan_generated(&any_test(
            Kind::AnyServiceWorkerModule,
            "/w/x.any.serviceworker-module.html",
        ));
        assert!(last_inline(&service)
            .contains("register(\"/w/x.any.worker-module.js\", { scope, type: 'module' })"));
    }

    #[test]
    fn prelude_sets_config_and_markup() {
        let plan = PagePlan {
            scripts: vec![],
            long: true,
            title: Some("t".into()),
        };
        let p = prelude(
            &plan,
            &PreludeConfig {
                token: "abc".into(),
                timeout_multiplier: 2.0,
            },
        );
        assert!(p.contains("token: \"abc\""));
        assert!(p.contains("timeoutMultiplier: 2"));
        assert!(p.contains("meta.content = \"long\""));
        assert!(p.contains("document.title = \"t\""));
    }
}
