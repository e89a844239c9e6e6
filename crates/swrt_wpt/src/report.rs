//! Results of a run, the per-file lines, the summary line and wptreport JSON.

use serde::{Deserialize, Serialize};

/// One subtest's result as testharness.js reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubtestResult {
    /// The subtest's name.
    pub name: String,
    /// PASS, FAIL, TIMEOUT, NOTRUN or PRECONDITION_FAILED.
    pub status: String,
    /// The failure message, if any.
    #[serde(default)]
    pub message: Option<String>,
}

/// One test file's (test URL's) result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    /// The test URL's path and query.
    pub test: String,
    /// Harness status: OK, ERROR, TIMEOUT, PRECONDITION_FAILED, CRASH or SKIP.
    pub status: String,
    /// Why the harness status is not OK.
    #[serde(default)]
    pub message: Option<String>,
    /// The subtests, in the order they finished.
    pub subtests: Vec<SubtestResult>,
    /// Milliseconds the file took.
    #[serde(default)]
    pub duration: u64,
}

impl TestResult {
    /// A variant swrt does not run.
    pub fn skipped(test: &str, reason: &str) -> Self {
        TestResult {
            test: test.to_string(),
            status: "SKIP".into(),
            message: Some(reason.to_string()),
            subtests: Vec::new(),
            duration: 0,
        }
    }

    /// Subtests that passed.
    pub fn passed(&self) -> usize {
        self.subtests.iter().filter(|s| s.status == "PASS").count()
    }

    /// Subtests that neither passed nor were skipped by a precondition.
    pub fn failed(&self) -> usize {
        self.subtests
            .iter()
            .filter(|s| !matches!(s.status.as_str(), "PASS" | "PRECONDITION_FAILED"))
            .count()
    }

    /// The line printed for this file: `PASS  /x.html (3/3)`, passed over
    /// every subtest that reported.
    pub fn line(&self) -> String {
        let total = self.subtests.len();
        let label = match self.status.as_str() {
            "SKIP" => {
                return format!(
                    "SKIP  {} ({})",
                    self.test,
                    self.message.as_deref().unwrap_or("skipped")
                )
            }
            "OK" if self.failed() == 0 => "PASS ",
            "OK" => "FAIL ",
            "TIMEOUT" => "TIMEOUT",
            "PRECONDITION_FAILED" => "PRECONDITION_FAILED",
            "CRASH" => "CRASH",
            _ => "ERROR",
        };
        let mut line = format!("{label} {} ({}/{total})", self.test, self.passed());
        if self.status != "OK" {
            if let Some(message) = &self.message {
                line.push_str(": ");
                line.push_str(&one_line(message));
            }
        }
        line
    }
}

/// First line of a message, trimmed to a readable length.
pub fn one_line(message: &str) -> String {
    let first = message.lines().next().unwrap_or("").trim();
    if first.chars().count() > 200 {
        let cut: String = first.chars().take(200).collect();
        format!("{cut}...")
    } else {
        first.to_string()
    }
}

/// Subtest counts of a run, and the files whose harness did not finish OK.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Subtests that passed.
    pub passed: usize,
    /// Subtests that did not pass; a file that ended with a harness error
    /// and reported no subtest counts as one.
    pub failed: usize,
    /// PRECONDITION_FAILED subtests, skipped files (each counts as one) and
    /// files whose harness said PRECONDITION_FAILED before any subtest.
    pub skipped: usize,
    /// Files per harness status other than OK and SKIP (ERROR, TIMEOUT,
    /// PRECONDITION_FAILED, CRASH), whatever their subtests did.
    pub harness: std::collections::BTreeMap<String, usize>,
}

impl Counts {
    /// Adds up `results`.
    pub fn of(results: &[TestResult]) -> Counts {
        let mut c = Counts::default();
        for r in results {
            match r.status.as_str() {
                "SKIP" => {
                    c.skipped += 1;
                    continue;
                }
                "OK" => {}
                other => *c.harness.entry(other.to_string()).or_default() += 1,
            }
            if r.subtests.is_empty() {
                match r.status.as_str() {
                    "OK" => {}
                    "PRECONDITION_FAILED" => c.skipped += 1,
                    _ => c.failed += 1,
                }
            }
            for s in &r.subtests {
                match s.status.as_str() {
                    "PASS" => c.passed += 1,
                    "PRECONDITION_FAILED" => c.skipped += 1,
                    _ => c.failed += 1,
                }
            }
        }
        c
    }

    /// The closing line: `N passed, N failed, N skipped` (CI reads it).
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }

    /// `Harness status of files: 1 ERROR, 2 TIMEOUT`, when any file's
    /// harness did not finish OK.
    pub fn harness_line(&self) -> Option<String> {
        if self.harness.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .harness
            .iter()
            .map(|(status, n)| format!("{n} {status}"))
            .collect();
        Some(format!("Harness status of files: {}", parts.join(", ")))
    }
}

/// The wptreport JSON document (`wpt run --log-wptreport`'s format).
pub fn wptreport(results: &[TestResult], time_start: u64, time_end: u64) -> serde_json::Value {
    let results: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            serde_json::json!({
                "test": r.test,
                "status": r.status,
                "message": r.message,
                "duration": r.duration,
                "subtests": r.subtests.iter().map(|s| serde_json::json!({
                    "name": s.name,
                    "status": s.status,
                    "message": s.message,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "time_start": time_start,
        "time_end": time_end,
        "run_info": {
            "product": "swrt",
            "browser_version": env!("CARGO_PKG_VERSION"),
            "os": std::env::consts::OS,
            "processor": std::env::consts::ARCH,
            "engine": if cfg!(feature = "v8") { "v8" } else { "quickjs" },
            "debug": cfg!(debug_assertions),
        },
        "results": results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(name: &str, status: &str) -> SubtestResult {
        SubtestResult {
            name: name.into(),
            status: status.into(),
            message: (status != "PASS").then(|| "assert_true: expected true got false".into()),
        }
    }

    #[test]
    fn lines_and_counts() {
        let ok = TestResult {
            test: "/a.html".into(),
            status: "OK".into(),
            message: None,
            subtests: vec![sub("x", "PASS"), sub("y", "PASS")],
            duration: 5,
        };
        let fail = TestResult {
            test: "/b.html".into(),
            status: "OK".into(),
            message: None,
            subtests: vec![
                sub("x", "PASS"),
                sub("y", "FAIL"),
                sub("z", "PRECONDITION_FAILED"),
            ],
            duration: 5,
        };
        let error = TestResult {
            test: "/c.html".into(),
            status: "ERROR".into(),
            message: Some("ReferenceError: foo is not defined\n  at ...".into()),
            subtests: vec![],
            duration: 5,
        };
        let skip = TestResult::skipped("/d.any.worker.html", "no dedicated workers");
        assert_eq!(ok.line(), "PASS  /a.html (2/2)");
        // Every subtest is in the total, a precondition failure too.
        assert_eq!(fail.line(), "FAIL  /b.html (1/3)");
        assert_eq!(
            error.line(),
            "ERROR /c.html (0/0): ReferenceError: foo is not defined"
        );
        assert_eq!(
            skip.line(),
            "SKIP  /d.any.worker.html (no dedicated workers)"
        );
        let all = [ok, fail, error, skip];
        let counts = Counts::of(&all);
        // 3 PASS; y FAIL and the ERROR file without subtests; z and the
        // skipped file.
        assert_eq!((counts.passed, counts.failed, counts.skipped), (3, 2, 2));
        assert_eq!(counts.line(), "3 passed, 2 failed, 2 skipped");
        assert_eq!(
            counts.harness_line().as_deref(),
            Some("Harness status of files: 1 ERROR")
        );
        assert_eq!(
            Counts::of(&all[..1]).line(),
            "2 passed, 0 failed, 0 skipped"
        );
        assert_eq!(Counts::of(&all[..1]).harness_line(), None);

        let json = wptreport(&all, 1, 2);
        assert_eq!(json["results"][1]["test"], "/b.html");
        assert_eq!(json["results"][1]["status"], "OK");
        assert_eq!(json["results"][1]["subtests"][1]["name"], "y");
        assert_eq!(json["results"][1]["subtests"][1]["status"], "FAIL");
        assert_eq!(
            json["results"][0]["subtests"][0]["message"],
            serde_json::Value::Null
        );
        assert_eq!(json["results"][3]["status"], "SKIP");
        assert_eq!(json["run_info"]["product"], "swrt");
        // It round-trips into the result type.
        let back: Vec<TestResult> = serde_json::from_value(json["results"].clone()).unwrap();
        assert_eq!(back, all);
    }

    #[test]
    fn harness_errors_count_their_subtests_only() {
        let file = |status: &str, subtests: Vec<SubtestResult>| TestResult {
            test: "/t.html".into(),
            status: status.into(),
            message: Some("harness message".into()),
            subtests,
            duration: 1,
        };
        // A TIMEOUT after two subtests: the subtests count, the file is on
        // the harness line, not counted a second time.
        let timeout = file("TIMEOUT", vec![sub("a", "PASS"), sub("b", "TIMEOUT")]);
        assert_eq!(timeout.line(), "TIMEOUT /t.html (1/2): harness message");
        // An ERROR with no subtests still counts as a failure.
        let error = file("ERROR", vec![]);
        // A harness precondition failure before any subtest is a skip.
        let precondition = file("PRECONDITION_FAILED", vec![]);
        let counts = Counts::of(&[timeout, error, precondition]);
        assert_eq!(counts.line(), "1 passed, 2 failed, 1 skipped");
        assert_eq!(
            counts.harness_line().as_deref(),
            Some("Harness status of files: 1 ERROR, 1 PRECONDITION_FAILED, 1 TIMEOUT")
        );
    }
}
