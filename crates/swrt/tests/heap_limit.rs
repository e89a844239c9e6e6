//! A worker that allocates without end is terminated at its heap limit,
//! and the process's memory stays near that limit: the peak resident set of
//! a run (the kernel's high-water mark, from wait4(2)) is compared with an
//! idle run of the same binary plus the limit and a fixed allowance.

use std::io::Read;
use std::process::{Command, Stdio};

const MIB: u64 = 1024 * 1024;
/// The heap limit given to the worker.
const LIMIT_MIB: u64 = 128;
/// Resident memory that is not the JavaScript heap's (allocator slack,
/// buffers of the engine's unwinding), on top of the idle run's.
const ALLOWANCE_MIB: u64 = 16;

/// Run `swrt` with `args` in `dir`; exit status, stderr and peak RSS in bytes.
// The child is reaped by wait4(2), which also reports its peak RSS.
#[allow(clippy::zombie_processes)]
fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_swrt"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let mut status = 0;
    // SAFETY: plain out-parameters; the child is ours and not waited for
    // elsewhere.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    // Linux reports ru_maxrss in KiB.
    (code, stderr, usage.ru_maxrss as u64 * 1024)
}

fn assert_bounded(script: &str, source: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("idle.js"), "// nothing to do\n").unwrap();
    std::fs::write(dir.path().join(script), source).unwrap();
    let (code, stderr, idle) = run(dir.path(), &["run", "idle.js"]);
    assert_eq!(code, 0, "{stderr}");
    let limit = LIMIT_MIB.to_string();
    let (code, stderr, peak) = run(
        dir.path(),
        &["run", "--heap-limit-mb", &limit, "--timeout", "60", script],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("heap limit reached"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The engine refuses allocations an eighth past the limit.
    let bound = idle + LIMIT_MIB * MIB + LIMIT_MIB * MIB / 8 + ALLOWANCE_MIB * MIB;
    assert!(
        peak <= bound,
        "peak RSS {} MiB, more than {} MiB (idle run {} MiB, limit {LIMIT_MIB} MiB)",
        peak / MIB,
        bound / MIB,
        idle / MIB
    );
}

#[test]
fn a_heap_bomb_is_terminated_near_the_limit() {
    assert_bounded(
        "sw.js",
        r#"self.addEventListener("install", () => {
  const hoard = [];
  for (;;) hoard.push(new Array(100000).fill(hoard.length));
});
"#,
    );
}

#[test]
fn a_heap_bomb_in_a_promise_job_is_terminated_near_the_limit() {
    // After an await, termination meets the engine's error handling, which
    // lets the script run on until allocations fail.
    assert_bounded(
        "sw.js",
        r#"self.addEventListener("activate", (event) => event.waitUntil((async () => {
  await 0;
  const hoard = [];
  for (;;) hoard.push(new Array(1 << 20).fill(1.5));
})()));
"#,
    );
}

/// A worker whose live heap stays below the limit keeps running however much
/// garbage it makes: QuickJS collects cycles only once its heap is 1.5 times
/// what was live after its last collection, so with three quarters of the
/// limit live it reaches the limit full of garbage, where the realm used to
/// be terminated. V8 collects first, and so does swrt now.
#[test]
fn garbage_alone_does_not_reach_the_heap_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sw.js"),
        r#"self.addEventListener("activate", (event) => event.waitUntil((async () => {
  // About 46 MiB that stays live, in 1 KiB strings: with the realm's own
  // heap, 80% of the 64 MiB limit, below its last eighth.
  const live = [];
  for (let i = 0; i < 46 * 1024; i++) live.push("x".repeat(1000) + i);
  // 400 MiB of cyclic garbage, in turns of the event loop and within them.
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 100000; i++) {
      const a = { round, i };
      a.self = a;
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  console.log("live strings", live.length);
})()));
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_swrt"))
        .args(["run", "--heap-limit-mb", "64", "--timeout", "120", "sw.js"])
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
        format!("live strings {}", 46 * 1024),
        "{stderr}"
    );
}
