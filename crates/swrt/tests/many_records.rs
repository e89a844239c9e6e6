//! A fetch of many requests completes its success event inside a worker's
//! heap limit: the handler takes every record with `matchAll()` and reads
//! every body while it holds them all.
//!
//! `SWRT_MANY_RECORDS` (default 10,000) and `SWRT_MANY_RECORDS_HEAP_MB`
//! (default 64) scale it; with 100000 and 512 (the default heap limit) it is
//! the 100,000-request run described in RELIABILITY.md.

use std::process::Command;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes the files of a fetch of `records` requests whose success handler
/// reads every body; returns the directory to run `swrt run --root .` in.
fn fetch_of(records: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // Each body is 100 bytes: its index, padded, so a mixed-up record shows.
    for name in ["a", "b"] {
        std::fs::write(
            dir.path().join(format!("{name}.txt")),
            format!("{name:-<100}"),
        )
        .unwrap();
    }
    let worker = format!(
        r#"const N = {records};
self.addEventListener("activate", (event) => {{
  const urls = [];
  for (let i = 0; i < N; i++) urls.push(`${{i % 2 ? "b" : "a"}}.txt?i=${{i}}`);
  event.waitUntil(self.registration.backgroundFetch.fetch("many", urls));
}});
self.addEventListener("backgroundfetchsuccess", (event) => {{
  event.waitUntil((async () => {{
    const records = await event.registration.matchAll();
    let bytes = 0;
    let wrong = 0;
    for (const record of records) {{
      const i = Number(new URL(record.request.url).searchParams.get("i"));
      const text = await (await record.responseReady).text();
      bytes += text.length;
      if (text[0] !== (i % 2 ? "b" : "a")) wrong++;
    }}
    console.log("records", records.length, "bytes", bytes, "wrong", wrong);
  }})());
}});
"#
    );
    std::fs::write(dir.path().join("sw.js"), worker).unwrap();
    dir
}

#[test]
fn a_success_handler_reads_every_record_within_the_heap_limit() {
    let records = env_number("SWRT_MANY_RECORDS", 10_000);
    let heap_mb = env_number("SWRT_MANY_RECORDS_HEAP_MB", 64);
    let dir = fetch_of(records);
    let out = Command::new(env!("CARGO_BIN_EXE_swrt"))
        .args(["run", "--root", ".", "--timeout", "1200"])
        .args(["--heap-limit-mb", &heap_mb.to_string(), "sw.js"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert_eq!(
        stdout.trim(),
        format!("records {records} bytes {} wrong 0", records * 100),
        "{stderr}"
    );
    assert!(!stderr.contains("heap limit"), "{stderr}");
}

/// A handler that does not fit ends its event when the heap limit terminates
/// it, without waiting for the `waitUntil` cap or the run's timeout, and the
/// engine's failure while it unwinds (deno_core cannot allocate the message
/// of the terminating exception) is not a crash.
#[test]
fn a_handler_past_its_heap_limit_ends_its_event_at_once() {
    let dir = fetch_of(20_000);
    let out = Command::new(env!("CARGO_BIN_EXE_swrt"))
        .args(["run", "--root", ".", "--heap-limit-mb", "48"])
        .args(["--timeout", "600", "--wait-until-timeout", "3600", "sw.js"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("terminated: heap limit reached"),
        "{stderr}"
    );
    assert!(stderr.contains("handler failed; event ended"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("--timeout reached"), "{stderr}");
}
