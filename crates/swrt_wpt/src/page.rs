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
            out.push_str(&script_src("/resources/testharness.js"));
            out.push_str(&script_src("/resources/testharnessreport.js"));
            out.push_str("<div id=log></div>\n");
            let base = test
                .source_url
                .strip_suffix(".any.js")
                .unwrap_or(&test.source_url);
            let variant = test.id.find('?').map(|i| &test.id[i..]).unwrap_or("");
            let worker = format!("{base}.any.worker.js{variant}");
            out.push_str(&format!(
                "<script>\n(async function() {{\n  const scope = 'does/not/exist';\n  let reg = await navigator.serviceWorker.getRegistration(scope);\n  if (reg) await reg.unregister();\n  reg = await navigator.serviceWorker.register({}, {{scope}});\n  fetch_tests_from_worker(reg.installing || reg.waiting || reg.active);\n}})();\n</script>\n",
                json(&worker)
            ));
        }
        Kind::Html | Kind::Skipped(_) => return None,
    }
    Some(out)
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
            "self.__swrt_wpt = {{ token: {t}, permission: \"/_swrt_wpt/permission/\" + {t}, timeoutMultiplier: {m} }};\n",
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
