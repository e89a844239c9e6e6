//! `swrt wpt` end to end: a tiny test tree with one passing and one failing
//! subtest (plus a service-worker variant and a skipped scope), run with and
//! without expectations. Needs npm's wpt-runner (scripts/setup.sh installs it).

use std::path::Path;
use std::process::Command;

fn swrt_wpt(root: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_swrt"))
        .arg("wpt")
        .arg("--wpt-root")
        .arg(root)
        .args(extra)
        .output()
        .expect("swrt runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        t.join("one.window.js"),
        "test(() => { assert_true(true); }, 'passes');\n\
         test(() => { assert_equals(1, 2, 'one is not two'); }, 'fails');\n",
    )
    .unwrap();
    std::fs::write(
        t.join("sw.https.any.js"),
        "// META: global=serviceworker,dedicatedworker\n\
         test(() => { assert_true(self instanceof ServiceWorkerGlobalScope); }, 'in a worker');\n",
    )
    .unwrap();
    dir
}

#[test]
fn reports_lines_summary_json_and_exit_codes() {
    let dir = tree();
    let root = dir.path();
    let json = root.join("report.json");

    // Without expectations: any failing subtest fails the run.
    let (code, stdout, stderr) = swrt_wpt(root, &["--json", json.to_str().unwrap()]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.contains(&"FAIL  /t/one.window.html (1/2)"),
        "{stdout}"
    );
    assert!(
        lines.contains(&"PASS  /t/sw.https.any.serviceworker.html (1/1)"),
        "{stdout}\n{stderr}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("SKIP  /t/sw.https.any.worker.html")),
        "{stdout}"
    );
    assert!(
        stdout.contains("    FAIL    fails: assert_equals: one is not two expected 2 but got 1"),
        "{stdout}"
    );
    assert_eq!(
        lines.last(),
        Some(&"2 passed, 1 failed, 1 skipped"),
        "{stdout}"
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    let one = results
        .iter()
        .find(|r| r["test"] == "/t/one.window.html")
        .unwrap();
    assert_eq!(one["status"], "OK");
    assert_eq!(one["subtests"][0]["name"], "passes");
    assert_eq!(one["subtests"][0]["status"], "PASS");
    assert_eq!(one["subtests"][1]["status"], "FAIL");
    assert_eq!(report["run_info"]["product"], "swrt");

    // With expectations that list the failure: success.
    let expectations = root.join("expectations.json");
    std::fs::write(
        &expectations,
        r#"{"/t/one.window.html": {"subtests": {"fails": {"status": "FAIL", "reason": "it asserts 1 == 2"}}}}"#,
    )
    .unwrap();
    let exp = ["--expectations", expectations.to_str().unwrap()];
    let (code, stdout, _) = swrt_wpt(root, &exp);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("All results match the expectations."),
        "{stdout}"
    );
    assert_eq!(stdout.lines().last(), Some("2 passed, 1 failed, 1 skipped"));

    // An unexpected pass is a difference too.
    std::fs::write(
        &expectations,
        r#"{"/t/one.window.html": {"subtests": {
             "fails": {"status": "FAIL", "reason": "it asserts 1 == 2"},
             "passes": {"status": "FAIL", "reason": "pretend it used to fail"}}}}"#,
    )
    .unwrap();
    let (code, stdout, _) = swrt_wpt(root, &exp);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("UNEXPECTED /t/one.window.html > passes: expected FAIL, got PASS"),
        "{stdout}"
    );

    // Every expected failure needs a reason.
    std::fs::write(
        &expectations,
        r#"{"/t/one.window.html": {"subtests": {"fails": {"status": "FAIL"}}}}"#,
    )
    .unwrap();
    let (code, _, stderr) = swrt_wpt(root, &exp);
    assert_eq!(code, 2);
    assert!(stderr.contains("reason"), "{stderr}");

    // One test selected by its URL.
    let (code, stdout, _) = swrt_wpt(root, &["/t/sw.https.any.serviceworker.html"]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 0 failed"));
}
