//! Two processes on one data dir: the second gets a clear error and exits,
//! the first finishes untouched.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_second_process_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sw = dir.path().join("sw.js");
    // Holds the first run in its install event long enough for the second to start.
    std::fs::write(
        &sw,
        r#"self.addEventListener("install", (e) => e.waitUntil(new Promise((r) => setTimeout(r, 3000))));
           self.addEventListener("activate", () => console.log("first run activated"));"#,
    )
    .unwrap();
    let data = dir.path().join("data");
    let swrt = env!("CARGO_BIN_EXE_swrt");
    let first = Command::new(swrt)
        .args(["run", "--data-dir"])
        .arg(&data)
        .arg(&sw)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first process holds the lock.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !data.join("LOCK").exists() {
        assert!(
            Instant::now() < deadline,
            "the first run never created its lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = Command::new(swrt)
        .args(["run", "--data-dir"])
        .arg(&data)
        .arg(&sw)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("in use by another swrt process"),
        "stderr: {stderr}"
    );
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        "first run activated"
    );
}
