//! HTML pages print in swrt what they print in Chromium: each runtime case
//! whose `case.json` has `"chromium": true` is also opened in Debian's
//! headless Chromium (driven by npm `playwright-core`, both installed by
//! `scripts/setup.sh`), and its console lines must be the case's expected
//! `stdout`, which `runtime_tests` checks against `swrt run`. Without the
//! tools the test is skipped with a message, but only outside CI.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tools_missing() -> Option<String> {
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dashboard/node_modules");
    if !Path::new("/usr/bin/chromium").exists() {
        return Some("/usr/bin/chromium is missing (apt-get install chromium)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is missing".into());
    }
    if !modules.join("playwright-core/package.json").exists() {
        return Some(format!(
            "playwright-core is missing in {}",
            modules.display()
        ));
    }
    None
}

fn parity_cases() -> Vec<(PathBuf, String, Vec<String>)> {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../runtime_tests/cases");
    let mut out = Vec::new();
    // Cases sit one level down, in their area's folder.
    let dirs = std::fs::read_dir(&cases)
        .unwrap()
        .flat_map(|area| std::fs::read_dir(area.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().path());
    for dir in dirs {
        let Ok(text) = std::fs::read_to_string(dir.join("case.json")) else {
            continue;
        };
        let case: serde_json::Value = serde_json::from_str(&text).unwrap();
        if case["chromium"] != serde_json::Value::Bool(true) {
            continue;
        }
        let args: Vec<&str> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        let page = args
            .windows(2)
            .find(|w| w[0] == "--client")
            .map(|w| w[1].to_string())
            .expect("a chromium case names its page with --client");
        let stdout = case["stdout"]
            .as_array()
            .expect("a chromium case lists its exact stdout")
            .iter()
            .map(|l| l.as_str().unwrap().to_string())
            .collect();
        out.push((dir, page, stdout));
    }
    out.sort();
    out
}

#[test]
fn html_pages_print_what_chromium_prints() {
    if let Some(missing) = tools_missing() {
        if std::env::var_os("CI").is_some() {
            panic!("the Chromium parity test must run in CI, but {missing}");
        }
        eprintln!("SKIPPED html_pages_print_what_chromium_prints: {missing}");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/chromium/console.mjs");
    let cases = parity_cases();
    assert!(
        !cases.is_empty(),
        "no runtime case is marked \"chromium\": true"
    );
    let mut failures = Vec::new();
    for (dir, page, expected) in cases {
        let output = Command::new("node")
            .arg(&script)
            .arg(&dir)
            .arg(&page)
            .arg(expected.len().to_string())
            .output()
            .expect("node runs");
        let printed: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        if printed != expected || !output.status.success() {
            failures.push(format!(
                "{}: Chromium printed\n{}\n--- expected\n{}\n--- stderr\n{}",
                dir.display(),
                printed.join("\n"),
                expected.join("\n"),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
