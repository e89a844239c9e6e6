//! The documents tests run in.
//!
//! An `.html` test is served as it is and loaded as an HTML document; its
//! `<script>` elements load and run as a browser runs them. A generated test
//! (`.window.js`, `.any.js` in the window and service-worker scopes) gets
//! the wrapper document upstream's server writes for it.

use crate::discover::{Kind, TestFile};
use crate::meta::TimeoutKind;
use crate::server::json;

const GLOBAL_WINDOW: &str = "self.GLOBAL = {\n  isWindow: function() { return true; },\n  isWorker: function() { return false; },\n  isShadowRealm: function() { return false; },\n};";

/// Escapes text for an HTML attribute value or element content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn script_src(src: &str) -> String {
    format!("<script src=\"{}\"></script>\n", escape(src))
}

/// The wrapper document of a generated test (`.window.js`, `.any.js` window
/// and serviceworker scopes), as upstream's server writes it; None for
/// tests that are documents of their own or are not run.
pub fn generated_html(test: &TestFile) -> Option<String> {
    let mut out = String::from("<!doctype html>\n<meta charset=utf-8>\n");
    if test.meta.timeout == TimeoutKind::Long {
        out.push_str("<meta name=\"timeout\" content=\"long\">\n");
    }
    if let Some(title) = &test.meta.title {
        out.push_str(&format!("<title>{}</title>\n", escape(title)));
    }
    match test.kind {
        Kind::AnyWindow | Kind::Window => {
            if test.kind == Kind::AnyWindow {
                out.push_str(&format!("<script>\n{GLOBAL_WINDOW}\n</script>\n"));
            }
            out.push_str(&script_src("/resources/testharness.js"));
            out.push_str(&script_src("/resources/testharnessreport.js"));
            for s in &test.meta.scripts {
                out.push_str(&script_src(s));
            }
            out.push_str("<div id=log></div>\n");
            out.push_str(&script_src(&test.source_url));
        }
        Kind::AnyServiceWorker => {
            out.push_str(&harness_and_log());
            out.push_str(&inline_script(&service_worker_wrapper(test, false)));
        }
        Kind::AnyServiceWorkerModule => {
            out.push_str(&harness_and_log());
            out.push_str(&inline_script(&service_worker_wrapper(test, true)));
        }
        Kind::AnyDedicatedWorker { module } => {
            out.push_str(&harness_and_log());
            out.push_str(&inline_script(&dedicated_worker_wrapper(
                &worker_script_url(test, module),
                module,
            )));
        }
        Kind::AnySharedWorker { module } => {
            out.push_str(&harness_and_log());
            out.push_str(&inline_script(&shared_worker_wrapper(test, module)));
        }
        Kind::WorkerFile => {
            out.push_str(&harness_and_log());
            out.push_str(&inline_script(&dedicated_worker_wrapper(
                &format!("{}{}", test.source_url, variant_of(test)),
                false,
            )));
        }
        Kind::Html | Kind::Skipped(_) => return None,
    }
    Some(out)
}

/// testharness.js, its report script and the log element, which every
/// worker wrapper page has.
fn harness_and_log() -> String {
    let mut out = script_src("/resources/testharness.js");
    out.push_str(&script_src("/resources/testharnessreport.js"));
    out.push_str("<div id=log></div>\n");
    out
}

fn inline_script(code: &str) -> String {
    format!("<script>\n{code}\n</script>\n")
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

/// The serviceworker scopes' page: registers the worker of the file (out
/// of any page's scope) and gets the results from it.
fn service_worker_wrapper(test: &TestFile, module: bool) -> String {
    let options = if module { ", type: 'module'" } else { "" };
    format!(
        "(async function() {{\n  const scope = 'does/not/exist';\n  let reg = await navigator.serviceWorker.getRegistration(scope);\n  if (reg) await reg.unregister();\n  reg = await navigator.serviceWorker.register({}, {{ scope{options} }});\n  fetch_tests_from_worker(reg.installing || reg.waiting || reg.active);\n}})();",
        json(&worker_script_url(test, module))
    )
}

/// Whether an `.html` test asks for the long timeout
/// (`<meta name="timeout" content="long">`).
pub fn html_asks_long_timeout(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(start) = rest.find("<meta") {
        let tag = &rest[start..];
        let end = tag.find('>').unwrap_or(tag.len());
        let tag = &tag[..end];
        let unquoted = tag.replace(['"', '\''], "");
        if unquoted.contains("name=timeout") && unquoted.contains("content=long") {
            return true;
        }
        rest = &rest[start + end..];
    }
    false
}

/// What the runner tells its own scripts (`testharnessreport.js`,
/// `testdriver-vendor.js`) about the test that is running.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// The run's token for this test.
    pub token: String,
    /// testharness.js `timeout_multiplier`.
    pub timeout_multiplier: f64,
}

impl RunnerConfig {
    /// `self.__swrt_wpt = {...}`, the line the runner puts before its scripts.
    pub fn script(&self) -> String {
        format!(
            "self.__swrt_wpt = {{ token: {t}, timeoutMultiplier: {m} }};\n",
            t = json(&self.token),
            m = self.timeout_multiplier
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::Meta;

    fn test_file(kind: Kind, meta: Meta) -> TestFile {
        TestFile {
            id: "/dir/a.any.html".into(),
            source: "a.any.js".into(),
            source_url: "/dir/a.any.js".into(),
            kind,
            meta,
        }
    }

    fn any_test(kind: Kind, id: &str) -> TestFile {
        TestFile {
            id: id.into(),
            source: "x.any.js".into(),
            source_url: "/w/x.any.js".into(),
            kind,
            meta: Meta::default(),
        }
    }

    #[test]
    fn worker_scopes_fetch_tests_from_their_worker() {
        let dedicated = generated_html(&any_test(
            Kind::AnyDedicatedWorker { module: false },
            "/w/x.any.worker.html?v",
        ))
        .unwrap();
        assert!(
            dedicated.contains("/resources/testharness.js"),
            "{dedicated}"
        );
        assert!(
            dedicated.contains("fetch_tests_from_worker(new Worker(\"/w/x.any.worker.js?v\"));"),
            "{dedicated}"
        );
        let shared = generated_html(&any_test(
            Kind::AnySharedWorker { module: true },
            "/w/x.any.sharedworker-module.html",
        ))
        .unwrap();
        assert!(
            shared.contains("fetch_tests_from_worker(new SharedWorker(\"/w/x.any.worker-module.js\", { type: 'module' }));"),
            "{shared}"
        );
        let service = generated_html(&any_test(
            Kind::AnyServiceWorkerModule,
            "/w/x.any.serviceworker-module.html",
        ))
        .unwrap();
        assert!(
            service.contains("register(\"/w/x.any.worker-module.js\", { scope, type: 'module' })"),
            "{service}"
        );
    }

    #[test]
    fn window_wrapper_loads_the_harness_the_meta_scripts_and_the_test_in_order() {
        let meta = Meta {
            scripts: vec!["/common/utils.js".into(), "resources/helper.js".into()],
            timeout: TimeoutKind::Long,
            title: Some("A & B".into()),
            ..Meta::default()
        };
        let html = generated_html(&test_file(Kind::AnyWindow, meta)).unwrap();
        let order = [
            "<meta name=\"timeout\" content=\"long\">",
            "<title>A &amp; B</title>",
            "self.GLOBAL",
            "/resources/testharness.js",
            "/resources/testharnessreport.js",
            "/common/utils.js",
            "resources/helper.js",
            "<div id=log>",
            "/dir/a.any.js",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|s| {
                html.find(s)
                    .unwrap_or_else(|| panic!("{s} missing from {html}"))
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{html}");
    }

    #[test]
    fn service_worker_wrapper_registers_the_worker_variant() {
        let mut test = test_file(Kind::AnyServiceWorker, Meta::default());
        test.id = "/dir/a.any.serviceworker.html?v=1".into();
        let html = generated_html(&test).unwrap();
        assert!(html.contains("\"/dir/a.any.worker.js?v=1\""), "{html}");
        assert!(html.contains("fetch_tests_from_worker"));
        assert!(generated_html(&test_file(Kind::Html, Meta::default())).is_none());
    }

    #[test]
    fn long_timeout_in_markup() {
        assert!(html_asks_long_timeout(
            "<title>x</title><META name=\"timeout\" content='long'>"
        ));
        assert!(html_asks_long_timeout("<meta content=long name=timeout>"));
        assert!(!html_asks_long_timeout("<meta name=viewport content=long>"));
        assert!(!html_asks_long_timeout("<p>name=timeout content=long</p>"));
    }

    #[test]
    fn runner_config_script() {
        let config = RunnerConfig {
            token: "abc".into(),
            timeout_multiplier: 2.0,
        };
        let script = config.script();
        assert!(script.contains("token: \"abc\""));
        assert!(script.contains("timeoutMultiplier: 2"));
    }
}
