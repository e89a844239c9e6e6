//! Process restart: SIGKILL the CLI mid-download, start it again on the same
//! data directory, and check every body and the single terminal event.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_swrt-bgfetch"))
}

/// Run to exit with a time bound; returns stdout.
fn run_bounded(mut cmd: Command, limit: Duration) -> String {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
            assert!(status.success(), "exit {status}: {out}");
            return out;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("swrt-bgfetch did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// The killed child is waited for on every path except a panicking assertion.
#[allow(clippy::zombie_processes)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_download_then_resume() {
    let srv = start_server().await;
    let data = tempfile::tempdir().unwrap();
    let export = tempfile::tempdir().unwrap();
    let events = data.path().join("events.log");
    let sizes = [3_000_000usize, 2_000_000, 1_000];
    let urls: Vec<String> = sizes
        .iter()
        .enumerate()
        .map(|(i, n)| srv.url(&format!("n={n}&chunk=20000&delay_ms=10&key=k{i}")))
        .collect();
    let common_args = |c: &mut Command| {
        c.arg("--data-dir")
            .arg(data.path())
            .arg("--event-log")
            .arg(&events)
            .arg("--export-dir")
            .arg(export.path())
            .arg("--retry-delay-ms")
            .arg("10")
            .arg("--checkpoint-bytes")
            .arg("100000");
    };

    // Run 1: start the fetch, kill -9 once enough bytes are on disk.
    let mut c = bin();
    common_args(&mut c);
    c.arg("fetch").arg("--id").arg("big").args(&urls);
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let killed = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(d) = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("downloaded="))
            {
                if d.parse::<u64>().unwrap() > 1_000_000 {
                    child.kill().unwrap(); // SIGKILL
                    child.wait().unwrap();
                    return true;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(60), "no progress");
            assert!(
                !line.starts_with("event"),
                "finished before the kill: {line}"
            );
        }
        false
    })
    .await
    .unwrap();
    assert!(killed, "process ended before it could be killed");
    assert!(!events.exists() || std::fs::read_to_string(&events).unwrap().is_empty());

    // Run 2: resume "big" and add a second fetch; exits when both are done.
    let mut c = bin();
    common_args(&mut c);
    c.arg("fetch")
        .arg("--id")
        .arg("small")
        .arg(srv.url("n=5000&key=s"));
    let out = tokio::task::spawn_blocking(move || run_bounded(c, Duration::from_secs(120)))
        .await
        .unwrap();
    assert!(out.contains("idle"), "{out}");

    // Run 3: nothing left; must not dispatch anything again.
    let mut c = bin();
    common_args(&mut c);
    tokio::task::spawn_blocking(move || run_bounded(c, Duration::from_secs(60)))
        .await
        .unwrap();

    let log = std::fs::read_to_string(&events).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    let big: Vec<_> = lines.iter().filter(|l| l.ends_with(" big")).collect();
    let small: Vec<_> = lines.iter().filter(|l| l.ends_with(" small")).collect();
    assert_eq!(big.len(), 1, "{log}");
    assert_eq!(small.len(), 1, "{log}");
    assert!(big[0].starts_with("backgroundfetchsuccess "), "{log}");
    for (i, n) in sizes.iter().enumerate() {
        let body = std::fs::read(export.path().join(format!("big-{i}"))).unwrap();
        assert_eq!(sha(&body), sha(&pattern(*n)), "record {i}");
    }
    assert_eq!(
        std::fs::read(export.path().join("small-0")).unwrap(),
        pattern(5000)
    );
    // The restart resumed with Range rather than starting over.
    assert!(
        srv.log().iter().any(|l| l.range.is_some()),
        "no Range request after restart"
    );
}
