//! Runs every case under `runtime_tests/cases/<area>/`: a directory with real
//! worker (and page) scripts and a `case.json` saying how to run `swrt` and
//! what it must print. See runtime_tests/README.md for the format.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;

#[path = "support/aux_server.rs"]
mod aux_server;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// Arguments after `swrt` (run in the case directory).
    args: Vec<String>,
    /// Expected exit status.
    exit: i32,
    /// The exact stdout lines, in order. `{ORIGIN}` matches the embedded
    /// server's origin (`http://127.0.0.1:PORT`), `{ANY}` any text.
    stdout: Option<Vec<String>>,
    /// Lines that must appear somewhere in stdout (same placeholders).
    #[serde(default)]
    stdout_contains: Vec<String>,
    /// Substrings that must appear in stderr (same placeholders).
    #[serde(default)]
    stderr_contains: Vec<String>,
    /// Substrings that must not appear in stderr.
    #[serde(default)]
    stderr_excludes: Vec<String>,
    /// The page is also checked in headless Chromium (tests/chromium_parity.rs).
    #[serde(default)]
    #[allow(dead_code)]
    chromium: bool,
    /// Environment variables for the run.
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    /// Longest the run may take before the harness kills it (a hang is a failure).
    #[serde(default = "default_limit")]
    limit_secs: u64,
    /// Files of the case's copy to delete before this run (an origin whose
    /// scripts went away).
    #[serde(default)]
    remove: Vec<String>,
    /// Files of the case's copy to (over)write before this run, name to text
    /// (an origin whose scripts changed).
    #[serde(default)]
    write: std::collections::BTreeMap<String, String>,
    /// Scripts to bundle into the case's copy before the first run, output
    /// name to entry point: esbuild (from `runtime_tests/node_modules`,
    /// installed by `scripts/setup.sh` with the npm packages the entry
    /// points import) makes one classic script of each.
    #[serde(default)]
    bundle: std::collections::BTreeMap<String, String>,
    /// Further runs on the same data dir, each checked like the first
    /// (state that must survive a restart).
    #[serde(default)]
    then: Vec<Case>,
}

fn default_limit() -> u64 {
    60
}

fn pattern(expected: &str) -> regex::Regex {
    let escaped = regex::escape(expected)
        .replace(
            r"\{ORIGIN\}",
            r"http://(127\.0\.0\.1|localhost|\[::1\]):\d+",
        )
        .replace(r"\{ANY\}", ".*");
    regex::Regex::new(&format!("^{escaped}$")).expect("valid pattern")
}

fn contains(haystack: &str, expected: &str) -> bool {
    let escaped = regex::escape(expected)
        .replace(
            r"\{ORIGIN\}",
            r"http://(127\.0\.0\.1|localhost|\[::1\]):\d+",
        )
        .replace(r"\{ANY\}", ".*");
    regex::Regex::new(&escaped)
        .expect("valid pattern")
        .is_match(haystack)
}

/// Copies the case to a temp dir, replacing `{{AUX}}` in its text files
/// with the aux server's origin.
fn materialise(from: &Path, to: &Path, aux: &str) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            materialise(&entry.path(), &target, aux)?;
        } else {
            let bytes = std::fs::read(entry.path())?;
            match String::from_utf8(bytes) {
                Ok(text) => std::fs::write(&target, text.replace("{{AUX}}", aux))?,
                Err(e) => std::fs::write(&target, e.into_bytes())?,
            }
        }
    }
    Ok(())
}

fn run_case(dir: &Path, aux: &str) -> Result<(), Failed> {
    let text = std::fs::read_to_string(dir.join("case.json"))?;
    let case: Case = serde_json::from_str(&text).map_err(|e| format!("case.json: {e}"))?;
    let work = tempfile::tempdir()?;
    materialise(dir, work.path(), aux)?;
    for (output, entry) in &case.bundle {
        bundle(work.path(), entry, output)?;
    }
    let data = tempfile::tempdir()?;
    run_one(&case, work.path(), data.path())?;
    for (n, next) in case.then.iter().enumerate() {
        run_one(next, work.path(), data.path()).map_err(|e| {
            format!(
                "run {} of the case: {}",
                n + 2,
                e.message().unwrap_or("failed")
            )
        })?;
    }
    Ok(())
}

/// Bundles `entry` (and the npm packages it imports) into the classic
/// script `output`, both in the case's copy, for production as a web app's
/// build would (`process.env.NODE_ENV` is "production").
fn bundle(dir: &Path, entry: &str, output: &str) -> Result<(), Failed> {
    let modules =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../runtime_tests/node_modules");
    let esbuild = modules.join(".bin/esbuild");
    if !esbuild.exists() {
        return Err(format!(
            "{} is missing: run scripts/setup.sh to install the npm packages the runtime cases bundle",
            esbuild.display()
        )
        .into());
    }
    let result = Command::new(&esbuild)
        .arg(entry)
        .args([
            "--bundle",
            "--format=iife",
            "--define:process.env.NODE_ENV=\"production\"",
            "--log-level=warning",
        ])
        .arg(format!("--outfile={output}"))
        .env("NODE_PATH", &modules)
        .current_dir(dir)
        .output()?;
    if !result.status.success() {
        return Err(format!(
            "esbuild {entry} failed:\n{}",
            String::from_utf8_lossy(&result.stderr)
        )
        .into());
    }
    Ok(())
}

fn run_one(case: &Case, dir: &Path, data: &Path) -> Result<(), Failed> {
    for name in &case.remove {
        std::fs::remove_file(dir.join(name)).map_err(|e| format!("remove {name}: {e}"))?;
    }
    for (name, text) in &case.write {
        std::fs::write(dir.join(name), text).map_err(|e| format!("write {name}: {e}"))?;
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_swrt"));
    command.args(
        case.args
            .iter()
            .map(|a| a.replace("{DATA}", &data.display().to_string())),
    );
    command.current_dir(dir).envs(&case.env);
    command.stdin(std::process::Stdio::null());
    command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn()?;
    let output = wait_with_limit(child, Duration::from_secs(case.limit_secs))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let show = || format!("\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}");
    let code = output.status.code().unwrap_or(-1);
    if code != case.exit {
        return Err(format!("exit status {code}, expected {}{}", case.exit, show()).into());
    }
    if let Some(expected) = &case.stdout {
        let lines: Vec<&str> = stdout.lines().collect();
        if lines.len() != expected.len()
            || !lines
                .iter()
                .zip(expected)
                .all(|(line, want)| pattern(want).is_match(line))
        {
            return Err(format!(
                "stdout differs; expected lines:\n{}{}",
                expected.join("\n"),
                show()
            )
            .into());
        }
    }
    for want in &case.stdout_contains {
        if !stdout.lines().any(|line| pattern(want).is_match(line)) {
            return Err(format!("stdout lacks line {want:?}{}", show()).into());
        }
    }
    for want in &case.stderr_contains {
        if !contains(&stderr, want) {
            return Err(format!("stderr lacks {want:?}{}", show()).into());
        }
    }
    for unwanted in &case.stderr_excludes {
        if contains(&stderr, unwanted) {
            return Err(format!("stderr has {unwanted:?}{}", show()).into());
        }
    }
    Ok(())
}

/// Waits for the child, reading its pipes on threads so a chatty run can't
/// fill a pipe and stall; kills it after `limit` (a hang is a failure).
fn wait_with_limit(
    mut child: std::process::Child,
    limit: Duration,
) -> Result<std::process::Output, Failed> {
    use std::io::Read;
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let start = std::time::Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if timed_out {
        return Err(format!(
            "swrt did not exit within {limit:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        )
        .into());
    }
    Ok(std::process::Output {
        status,
        stdout,
        stderr,
    })
}

/// Every case directory under `dir`: one holding a `case.json`, found in
/// the area folders (`bgfetch/`, `workers/`, ...) at any depth.
fn find_cases(dir: &Path, cases: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.join("case.json").is_file() {
            cases.push(path);
        } else if path.is_dir() {
            find_cases(&path, cases);
        }
    }
}

fn main() {
    let args = Arguments::from_args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../runtime_tests/cases");
    assert!(root.is_dir(), "runtime_tests/cases exists");
    let mut dirs = Vec::new();
    find_cases(&root, &mut dirs);
    dirs.sort();
    let aux = aux_server::start();
    let trials = dirs
        .into_iter()
        .map(|dir| {
            // `area/case`: a filter can name the case or its whole area.
            let name = dir
                .strip_prefix(&root)
                .expect("found under the root")
                .to_string_lossy()
                .into_owned();
            let aux = aux.clone();
            Trial::test(name, move || run_case(&dir, &aux))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
