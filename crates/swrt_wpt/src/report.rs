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

    /// The line printed for this file: `PASS  /x.html (3/3)`.
    pub fn line(&self) -> String {
        let counted = self
            .subtests
            .iter()
            .filter(|s| s.status != "PRECONDITION_FAILED")
            .count();
        let label = match self.status.as_str() {
            "SKIP" => {
                return format!(
                    "SKIP  {} ({})",
                    self.test,
                    self.message.as_deref().unwrap_or("skipped")
                )
            }
            "OK" if self.passed() == counted => "PASS ",
            "OK" => "FAIL ",
            "TIMEOUT" => "TIMEOUT",
            "PRECONDITION_FAILED" => "PRECONDITION_FAILED",
            "CRASH" => "CRASH",
            _ => "ERROR",
        };
        let mut line = format!("{label} {} ({}/{})", self.test, self.passed(), counted);
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

/// Subtest counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Subtests that passed.
    pub passed: usize,
    /// Subtests that did not pass, plus files whose harness did not finish OK.
    pub failed: usize,
    /// Skipped variants and PRECONDITION_FAILED subtests.
    pub skipped: usize,
}

impl Counts {
    /// Adds up `results`.
    pub fn of(results: &[TestResult]) -> Counts {
        let mut c = Counts::default();
        for r in results {
            if r.status == "SKIP" {
                c.skipped += 1;
                continue;
            }
            if !matches!(r.status.as_str(), "OK" | "PRECONDITION_FAILED") {
                c.failed += 1;
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

    /// `N passed, N failed` (`, N skipped` when any were).
    pub fn line(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        line
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
        assert_eq!(fail.line(), "FAIL  /b.html (1/2)");
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
        assert_eq!(
            counts,
            Counts {
                passed: 3,
                failed: 2,
                skipped: 2
            }
        );
        assert_eq!(counts.line(), "3 passed, 2 failed, 2 skipped");
        assert_eq!(
            Counts {
                passed: 1,
                failed: 0,
                skipped: 0
            }
            .line(),
            "1 passed, 0 failed"
        );

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
}
