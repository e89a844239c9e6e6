//! Finding test files under the WPT root and the test URLs (ids) they yield.

use std::path::{Path, PathBuf};

use crate::meta::{any_scopes, any_suffix, parse_meta, Meta};

/// How a test runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `.window.js`: a generated page runs the file.
    Window,
    /// `.any.js`, window scope: a generated page runs the file.
    AnyWindow,
    /// `.any.js`, serviceworker scope: a generated page registers a generated
    /// worker that `importScripts` the file; results come back through
    /// `fetch_tests_from_worker`.
    AnyServiceWorker,
    /// `.any.js`, serviceworker-module scope: as [`Kind::AnyServiceWorker`],
    /// with a module worker that `import`s the file.
    AnyServiceWorkerModule,
    /// `.any.js`, dedicatedworker(-module) scope: a generated page runs a
    /// `new Worker` whose script loads testharness.js and the file; results
    /// come back through `fetch_tests_from_worker`.
    AnyDedicatedWorker {
        /// `{type: 'module'}`, with `import` statements instead of `importScripts`.
        module: bool,
    },
    /// `.any.js`, sharedworker(-module) scope: as [`Kind::AnyDedicatedWorker`]
    /// with a `new SharedWorker`.
    AnySharedWorker {
        /// `{type: 'module'}`.
        module: bool,
    },
    /// `.worker.js`: a generated page runs the file as a dedicated worker
    /// (the file loads testharness.js itself and calls `done()`).
    WorkerFile,
    /// An `.html` test: its scripts run in order in a page.
    Html,
    /// A scope swrt cannot run; reported as skipped with this reason.
    Skipped(String),
}

/// One test URL (the unit of results).
#[derive(Debug, Clone)]
pub struct TestFile {
    /// The test URL's path and query, e.g. `/bg/get-ids.https.window.html`.
    pub id: String,
    /// The source file on disk.
    pub source: PathBuf,
    /// The source file's URL path, e.g. `/bg/get-ids.https.window.js`.
    pub source_url: String,
    /// How it runs.
    pub kind: Kind,
    /// The source's META block (empty for `.html`).
    pub meta: Meta,
}

/// Directories that hold support files, not tests.
const SUPPORT_DIRS: &[&str] = &[
    "resources",
    "support",
    "tools",
    "common",
    "node_modules",
    "fonts",
    "media",
];

/// Collects the tests under `root` selected by `selectors` (paths relative to
/// the root, directories or files, or test URLs such as
/// `/dir/x.any.serviceworker.html`); no selector means the whole root.
pub fn discover(root: &Path, selectors: &[String]) -> Result<Vec<TestFile>, String> {
    let root = root
        .canonicalize()
        .map_err(|e| format!("--wpt-root {}: {e}", root.display()))?;
    let mut out = Vec::new();
    if selectors.is_empty() {
        walk(&root, &root, &mut out)?;
    }
    for selector in selectors {
        let (path_part, query) = match selector.split_once('?') {
            Some((p, q)) => (p, Some(format!("?{q}"))),
            None => (selector.as_str(), None),
        };
        let on_disk = {
            let direct = PathBuf::from(path_part);
            if direct.is_absolute() && direct.starts_with(&root) {
                direct
            } else {
                root.join(path_part.trim_start_matches('/'))
            }
        };
        if on_disk.is_dir() {
            let mut found = Vec::new();
            walk(&root, &on_disk, &mut found)?;
            out.extend(found);
        } else if on_disk.is_file() && query.is_none() && is_test_source(&on_disk) {
            out.extend(tests_for_file(&root, &on_disk)?);
        } else {
            // A test URL: find the source it was generated from.
            let id_path = format!(
                "/{}",
                on_disk
                    .strip_prefix(&root)
                    .map_err(|_| format!("{selector} is outside --wpt-root"))?
                    .to_string_lossy()
            );
            let Some(source) = source_for_id(&root, &id_path) else {
                return Err(format!("{selector}: no such test under {}", root.display()));
            };
            let wanted: Vec<TestFile> = tests_for_file(&root, &source)?
                .into_iter()
                .filter(|t| {
                    let (path, q) = match t.id.split_once('?') {
                        Some((p, q)) => (p, Some(format!("?{q}"))),
                        None => (t.id.as_str(), None),
                    };
                    (path == id_path || t.source_url == id_path) && (query.is_none() || q == query)
                })
                .collect();
            if wanted.is_empty() {
                return Err(format!("{selector}: no such test variant"));
            }
            out.extend(wanted);
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|t| seen.insert(t.id.clone()));
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<TestFile>) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if !SUPPORT_DIRS.contains(&name) {
                walk(root, &path, out)?;
            }
        } else if is_test_source(&path) {
            out.extend(tests_for_file(root, &path)?);
        }
    }
    Ok(())
}

fn is_test_source(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.contains("-manual.") || name.contains("-ref.") || name.contains("-notref.") {
        return false;
    }
    if name.ends_with(".any.js") || name.ends_with(".window.js") || name.ends_with(".worker.js") {
        return true;
    }
    if name.ends_with(".html") || name.ends_with(".htm") {
        // Only testharness.js tests (reftests and support pages are not tests here).
        return std::fs::read_to_string(path)
            .map(|text| text.contains("/resources/testharness.js"))
            .unwrap_or(false);
    }
    false
}

fn source_for_id(root: &Path, id_path: &str) -> Option<PathBuf> {
    let rel = id_path.trim_start_matches('/');
    let candidates: Vec<String> = if let Some(i) = rel.find(".any.") {
        vec![format!("{}.any.js", &rel[..i])]
    } else if let Some(base) = rel.strip_suffix(".window.html") {
        vec![format!("{base}.window.js")]
    } else if let Some(base) = rel.strip_suffix(".worker.html") {
        vec![format!("{base}.worker.js")]
    } else {
        vec![]
    };
    candidates
        .into_iter()
        .map(|c| root.join(c))
        .find(|p| p.is_file())
}

fn url_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    format!("/{}", parts.join("/"))
}

/// The tests one source file yields (one per scope and variant).
pub fn tests_for_file(root: &Path, path: &Path) -> Result<Vec<TestFile>, String> {
    let source_url = url_path(root, path);
    let name = source_url.clone();
    let read = || std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut push = |id: String, kind: Kind, meta: &Meta| {
        let variants = if meta.variants.is_empty() {
            vec![String::new()]
        } else {
            meta.variants.clone()
        };
        for variant in variants {
            out.push(TestFile {
                id: format!("{id}{variant}"),
                source: path.to_path_buf(),
                source_url: source_url.clone(),
                kind: kind.clone(),
                meta: meta.clone(),
            });
        }
    };
    if let Some(base) = name.strip_suffix(".any.js") {
        let meta = parse_meta(&read()?);
        for scope in any_scopes(&meta) {
            let id = format!("{base}{}", any_suffix(&scope));
            let kind = match scope.as_str() {
                "window" => Kind::AnyWindow,
                "serviceworker" => Kind::AnyServiceWorker,
                "dedicatedworker" => Kind::AnyDedicatedWorker { module: false },
                "dedicatedworker-module" => Kind::AnyDedicatedWorker { module: true },
                "sharedworker" => Kind::AnySharedWorker { module: false },
                "sharedworker-module" => Kind::AnySharedWorker { module: true },
                "serviceworker-module" => Kind::AnyServiceWorkerModule,
                s if s.starts_with("shadowrealm") => {
                    Kind::Skipped(format!("{s} scope: swrt has no ShadowRealm"))
                }
                other => Kind::Skipped(format!("{other} scope is not run by swrt")),
            };
            push(id, kind, &meta);
        }
    } else if let Some(base) = name.strip_suffix(".window.js") {
        let meta = parse_meta(&read()?);
        push(format!("{base}.window.html"), Kind::Window, &meta);
    } else if let Some(base) = name.strip_suffix(".worker.js") {
        let meta = parse_meta(&read()?);
        push(format!("{base}.worker.html"), Kind::WorkerFile, &meta);
    } else {
        push(name, Kind::Html, &Meta::default());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tests_and_variants() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/resources")).unwrap();
        std::fs::write(
            root.join("a/x.https.any.js"),
            "// META: global=window,worker\ntest(()=>{});",
        )
        .unwrap();
        std::fs::write(
            root.join("a/y.window.js"),
            "// META: variant=?1\n// META: variant=?2\n",
        )
        .unwrap();
        std::fs::write(root.join("a/resources/helper.any.js"), "").unwrap();
        std::fs::write(
            root.join("a/page.html"),
            "<script src=/resources/testharness.js></script>",
        )
        .unwrap();
        std::fs::write(root.join("a/other.html"), "<p>not a test</p>").unwrap();
        let tests = discover(root, &[]).unwrap();
        let ids: Vec<&str> = tests.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "/a/page.html",
                "/a/x.https.any.html",
                "/a/x.https.any.worker.html",
                "/a/x.https.any.sharedworker.html",
                "/a/x.https.any.serviceworker.html",
                "/a/y.window.html?1",
                "/a/y.window.html?2",
            ]
        );
        assert_eq!(tests[4].kind, Kind::AnyServiceWorker);
        assert_eq!(tests[2].kind, Kind::AnyDedicatedWorker { module: false });
        assert_eq!(tests[3].kind, Kind::AnySharedWorker { module: false });
        let one = discover(root, &["/a/x.https.any.serviceworker.html".into()]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].source_url, "/a/x.https.any.js");
        let file = discover(root, &["a/y.window.js".into()]).unwrap();
        assert_eq!(file.len(), 2);
        assert!(discover(root, &["a/missing.any.js".into()]).is_err());
    }
}
