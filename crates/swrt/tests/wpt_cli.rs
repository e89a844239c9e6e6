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
        "// META: global=serviceworker,shadowrealm-in-window\n\
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
            .any(|l| l.starts_with("SKIP  /t/sw.https.any.shadowrealm-in-window.html")),
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

    // With expectations that list the failure and the skip: success.
    let expectations = root.join("expectations.json");
    let skip_entry = r#""/t/sw.https.any.shadowrealm-in-window.html": {"status": "SKIP", "reason": "no ShadowRealm"}"#;
    std::fs::write(
        &expectations,
        format!(
            r#"{{"/t/one.window.html": {{"subtests": {{"fails": {{"status": "FAIL", "reason": "it asserts 1 == 2"}}}}}}, {skip_entry}}}"#
        ),
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

    // A skip is compared like any status: unlisted, it is a difference.
    std::fs::write(
        &expectations,
        r#"{"/t/one.window.html": {"subtests": {"fails": {"status": "FAIL", "reason": "it asserts 1 == 2"}}}}"#,
    )
    .unwrap();
    let (code, stdout, _) = swrt_wpt(root, &exp);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            "UNEXPECTED /t/sw.https.any.shadowrealm-in-window.html: expected OK, got SKIP"
        ),
        "{stdout}"
    );

    // Entries for a test or a subtest that did not run are stale.
    std::fs::write(
        &expectations,
        format!(
            r#"{{"/t/one.window.html": {{"subtests": {{
                 "fails": {{"status": "FAIL", "reason": "it asserts 1 == 2"}},
                 "renamed": {{"status": "FAIL", "reason": "no longer exists"}}}}}},
               "/t/deleted.window.html": {{"status": "ERROR", "reason": "file is gone"}},
               {skip_entry}}}"#
        ),
    )
    .unwrap();
    let (code, stdout, _) = swrt_wpt(root, &exp);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("UNEXPECTED /t/one.window.html > renamed: expected FAIL, got MISSING"),
        "{stdout}"
    );
    assert!(
        stdout.contains("UNEXPECTED /t/deleted.window.html: expected ERROR, got MISSING"),
        "{stdout}"
    );

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
    assert_eq!(stdout.lines().last(), Some("1 passed, 0 failed, 0 skipped"));
}

#[test]
fn harness_errors_are_reported_on_their_own_line_and_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    std::fs::create_dir_all(&t).unwrap();
    // Throws before any subtest: the harness does not finish OK and no
    // subtest reports.
    std::fs::write(t.join("throws.window.js"), "throw new Error('at load');\n").unwrap();
    // Subtests, then an uncaught error: the subtests count, and the file
    // appears once on the harness line.
    std::fs::write(
        t.join("late.window.js"),
        "test(() => {}, 'runs');\n\
         setTimeout(() => { throw new Error('later'); }, 0);\n\
         promise_test(() => new Promise((r) => setTimeout(r, 50)), 'waits');\n",
    )
    .unwrap();
    let (code, stdout, stderr) = swrt_wpt(dir.path(), &["--timeout-multiplier", "0.1"]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ERROR /t/late.window.html (2/2)")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/t/throws.window.html (0/0)")),
        "{stdout}"
    );
    let harness = lines
        .iter()
        .find(|l| l.starts_with("Harness status of files: "))
        .unwrap_or_else(|| panic!("no harness line:\n{stdout}"));
    assert!(harness.contains("ERROR"), "{stdout}");
    // Two passing subtests; the file without subtests is one failure; the
    // harness errors are not counted again.
    assert_eq!(
        lines.last(),
        Some(&"2 passed, 1 failed, 0 skipped"),
        "{stdout}"
    );
}
