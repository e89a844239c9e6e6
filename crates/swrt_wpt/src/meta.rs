//! `// META:` comments at the top of `.any.js` / `.window.js` / `.worker.js`
//! files (web-platform-tests "writing tests: file name flags and META").

/// The test harness time budget a file asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeoutKind {
    /// 10 s (times the multiplier).
    #[default]
    Normal,
    /// 60 s (times the multiplier): `// META: timeout=long`.
    Long,
}

/// What a test file's META comments say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// `global=` values, in order (comma lists flattened), as written.
    pub globals: Vec<String>,
    /// `script=` values, in order.
    pub scripts: Vec<String>,
    /// `timeout=long`.
    pub timeout: TimeoutKind,
    /// `title=`.
    pub title: Option<String>,
    /// `variant=` values (each a query string such as `?a=1`, or empty).
    pub variants: Vec<String>,
}

/// Reads the META block: the `// META: key=value` lines at the top of a
/// file (blank lines and other leading comments may come first; the block
/// ends at the first line of code, as upstream's manifest reader does).
pub fn parse_meta(source: &str) -> Meta {
    let mut meta = Meta::default();
    for line in source.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("//") else {
            break;
        };
        let Some(rest) = comment.trim_start().strip_prefix("META:") else {
            continue;
        };
        let Some((key, value)) = rest.trim().split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "global" => meta.globals.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(String::from),
            ),
            "script" => meta.scripts.push(value.to_string()),
            "timeout" if value == "long" => meta.timeout = TimeoutKind::Long,
            "title" => meta.title = Some(value.to_string()),
            "variant" => meta.variants.push(value.to_string()),
            _ => {}
        }
    }
    meta
}

/// The scopes an `.any.js` file runs in, after expanding `worker` and
/// applying the default (`window,dedicatedworker`). Upstream's list:
/// window, dedicatedworker, sharedworker, serviceworker (each optionally
/// `-module`), shadowrealm-in-*, jsshell; `worker` is dedicated + shared +
/// service.
pub fn any_scopes(meta: &Meta) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    };
    if meta.globals.is_empty() {
        push("window");
        push("dedicatedworker");
    }
    for global in &meta.globals {
        match global.as_str() {
            "worker" => {
                push("dedicatedworker");
                push("sharedworker");
                push("serviceworker");
            }
            "worker-module" => {
                push("dedicatedworker-module");
                push("sharedworker-module");
                push("serviceworker-module");
            }
            other => push(other),
        }
    }
    out
}

/// The wrapper-file suffix upstream gives each scope of an `.any.js` file.
pub fn any_suffix(scope: &str) -> String {
    match scope {
        "window" => ".any.html".into(),
        "dedicatedworker" => ".any.worker.html".into(),
        "dedicatedworker-module" => ".any.worker-module.html".into(),
        "jsshell" => ".any.js".into(),
        other => format!(".any.{other}.html"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_meta_block() {
        let src = "// META: global=window,serviceworker\n\
                   // META: script=/resources/utils.js\n\
                   //META: script=resources/b.js\n\
                   // META: timeout=long\n\
                   // META: title=Some title\n\
                   // META: variant=?a=1\n\
                   // META: variant=?b\n\
                   'use strict';\n\
                   // META: script=ignored.js\n";
        let meta = parse_meta(src);
        assert_eq!(meta.globals, ["window", "serviceworker"]);
        assert_eq!(meta.scripts, ["/resources/utils.js", "resources/b.js"]);
        assert_eq!(meta.timeout, TimeoutKind::Long);
        assert_eq!(meta.title.as_deref(), Some("Some title"));
        assert_eq!(meta.variants, ["?a=1", "?b"]);
    }

    #[test]
    fn leading_comments_and_blank_lines_are_skipped() {
        let src = "\n// Copyright\n\n// META: global=worker\n/* code */";
        assert_eq!(parse_meta(src).globals, ["worker"]);
        assert_eq!(
            parse_meta("test(() => {});\n// META: global=worker")
                .globals
                .len(),
            0
        );
    }

    #[test]
    fn scopes_expand_worker_and_default() {
        let meta = parse_meta("// META: global=window,worker\n");
        assert_eq!(
            any_scopes(&meta),
            ["window", "dedicatedworker", "sharedworker", "serviceworker"]
        );
        assert_eq!(any_scopes(&Meta::default()), ["window", "dedicatedworker"]);
        assert_eq!(any_suffix("serviceworker"), ".any.serviceworker.html");
        assert_eq!(any_suffix("dedicatedworker"), ".any.worker.html");
    }
}
