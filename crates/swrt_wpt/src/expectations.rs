//! The expectations file: which results are expected to differ from a full
//! pass, and why. Format (JSON; see wpt/README.md):
//!
//! ```json
//! {
//!   "/dir/test.https.any.serviceworker.html": {
//!     "status": "TIMEOUT",
//!     "reason": "why the harness does not finish",
//!     "subtests": {
//!       "subtest name": { "status": "FAIL", "reason": "why" },
//!       "flaky one": { "status": ["PASS", "FAIL"], "reason": "why" }
//!     }
//!   }
//! }
//! ```
//!
//! Anything not listed is expected to pass (harness `OK`, subtests `PASS`);
//! a file swrt skips is expected only when listed with status `SKIP`.
//! Every entry needs a non-empty `reason`. Keys starting with `$` (such as
//! `"$comment"`) are ignored. An entry for a test or subtest that did not run
//! is stale and counts as a difference.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::report::TestResult;

const HARNESS_STATUSES: &[&str] = &[
    "OK",
    "ERROR",
    "TIMEOUT",
    "PRECONDITION_FAILED",
    "CRASH",
    "SKIP",
];
const SUBTEST_STATUSES: &[&str] = &["PASS", "FAIL", "TIMEOUT", "NOTRUN", "PRECONDITION_FAILED"];

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubtest {
    status: OneOrMany,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    status: Option<OneOrMany>,
    reason: Option<String>,
    #[serde(default)]
    subtests: BTreeMap<String, RawSubtest>,
}

/// An expected outcome and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Any of these statuses is expected.
    pub statuses: Vec<String>,
    /// Why.
    pub reason: String,
}

/// What is expected of one test URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestExpectation {
    /// The harness status (None: `OK`).
    pub status: Option<Expected>,
    /// Subtests expected not to simply pass.
    pub subtests: BTreeMap<String, Expected>,
}

/// A parsed, validated expectations file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Per test URL.
    pub tests: BTreeMap<String, TestExpectation>,
}

/// One way the results differ from the expectations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The test URL.
    pub test: String,
    /// The subtest, or None for the harness status.
    pub subtest: Option<String>,
    /// What was expected.
    pub expected: Vec<String>,
    /// What happened (`MISSING` for a listed subtest that did not run).
    pub actual: String,
    /// The result's message, if any.
    pub message: Option<String>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.subtest {
            Some(name) => format!("{} > {name}", self.test),
            None => self.test.clone(),
        };
        write!(
            f,
            "{what}: expected {}, got {}",
            self.expected.join(" or "),
            self.actual
        )?;
        if let Some(message) = &self.message {
            write!(f, " ({})", crate::report::one_line(message))?;
        }
        Ok(())
    }
}

fn checked(
    where_: &str,
    statuses: OneOrMany,
    reason: Option<String>,
    allowed: &[&str],
) -> Result<Expected, String> {
    let statuses = statuses.into_vec();
    if statuses.is_empty() {
        return Err(format!("{where_}: \"status\" is empty"));
    }
    for s in &statuses {
        if !allowed.contains(&s.as_str()) {
            return Err(format!(
                "{where_}: unknown status {s:?} (one of {})",
                allowed.join(", ")
            ));
        }
    }
    let reason = reason.map(|r| r.trim().to_string()).unwrap_or_default();
    if reason.is_empty() {
        return Err(format!(
            "{where_}: every expectation needs a non-empty \"reason\""
        ));
    }
    Ok(Expected { statuses, reason })
}

impl Expectations {
    /// Parses and validates the file's text.
    pub fn parse(text: &str) -> Result<Expectations, String> {
        let raw: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let mut tests = BTreeMap::new();
        for (test, value) in raw {
            if test.starts_with('$') {
                continue;
            }
            if !test.starts_with('/') {
                return Err(format!(
                    "{test:?}: keys are test URLs starting with '/', e.g. /dir/x.any.html"
                ));
            }
            let raw: RawTest = serde_json::from_value(value).map_err(|e| format!("{test}: {e}"))?;
            let status = match raw.status {
                Some(s) => Some(checked(&test, s, raw.reason, HARNESS_STATUSES)?),
                None if raw.reason.is_some() && raw.subtests.is_empty() => {
                    return Err(format!("{test}: a \"reason\" without a \"status\""))
                }
                None => None,
            };
            if status.is_none() && raw.subtests.is_empty() {
                return Err(format!("{test}: expects nothing (no status, no subtests)"));
            }
            let mut subtests = BTreeMap::new();
            for (name, sub) in raw.subtests {
                let expected = checked(
                    &format!("{test} > {name}"),
                    sub.status,
                    sub.reason,
                    SUBTEST_STATUSES,
                )?;
                subtests.insert(name, expected);
            }
            tests.insert(test, TestExpectation { status, subtests });
        }
        Ok(Expectations { tests })
    }

    /// Reads and validates a file.
    pub fn load(path: &std::path::Path) -> Result<Expectations, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Expectations::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Where `result` differs from what is expected: its harness status
    /// (`SKIP` included), each subtest, and listed subtests that did not run.
    pub fn diff(&self, result: &TestResult) -> Vec<Difference> {
        let mut out = Vec::new();
        let empty = TestExpectation::default();
        let expected = self.tests.get(&result.test).unwrap_or(&empty);
        let harness: Vec<String> = expected
            .status
            .as_ref()
            .map(|e| e.statuses.clone())
            .unwrap_or_else(|| vec!["OK".into()]);
        let harness_as_expected = harness.contains(&result.status);
        if !harness_as_expected {
            out.push(Difference {
                test: result.test.clone(),
                subtest: None,
                expected: harness,
                actual: result.status.clone(),
                message: result.message.clone(),
            });
        }
        for sub in &result.subtests {
            let statuses = expected
                .subtests
                .get(&sub.name)
                .map(|e| e.statuses.clone())
                .unwrap_or_else(|| vec!["PASS".into()]);
            if !statuses.contains(&sub.status) {
                out.push(Difference {
                    test: result.test.clone(),
                    subtest: Some(sub.name.clone()),
                    expected: statuses,
                    actual: sub.status.clone(),
                    message: sub.message.clone(),
                });
            }
        }
        // A listed subtest that did not run is stale: it disappeared, or the
        // harness status (when that differs, it is reported above instead)
        // leaves no room for it.
        for (name, e) in &expected.subtests {
            if harness_as_expected && !result.subtests.iter().any(|s| &s.name == name) {
                out.push(Difference {
                    test: result.test.clone(),
                    subtest: Some(name.clone()),
                    expected: e.statuses.clone(),
                    actual: "MISSING".into(),
                    message: Some("stale expectation: the file has no subtest of this name".into()),
                });
            }
        }
        out
    }

    /// Entries for test URLs that are not among `ran` (only meaningful when
    /// the whole tree ran): stale, to be deleted or fixed.
    pub fn stale_tests<'a>(&self, ran: impl IntoIterator<Item = &'a str>) -> Vec<Difference> {
        let ran: std::collections::BTreeSet<&str> = ran.into_iter().collect();
        self.tests
            .iter()
            .filter(|(test, _)| !ran.contains(test.as_str()))
            .map(|(test, e)| Difference {
                test: test.clone(),
                subtest: None,
                expected: e
                    .status
                    .as_ref()
                    .map(|s| s.statuses.clone())
                    .unwrap_or_else(|| vec!["OK".into()]),
                actual: "MISSING".into(),
                message: Some("stale expectation: no test with this URL ran".into()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SubtestResult;

    fn result(status: &str, subs: &[(&str, &str)]) -> TestResult {
        TestResult {
            test: "/a.any.html".into(),
            status: status.into(),
            message: None,
            subtests: subs
                .iter()
                .map(|(n, s)| SubtestResult {
                    name: n.to_string(),
                    status: s.to_string(),
                    message: None,
                })
                .collect(),
            duration: 0,
        }
    }

    const FILE: &str = r#"{
      "$comment": "ignored",
      "/a.any.html": {
        "subtests": {
          "broken": { "status": "FAIL", "reason": "not implemented" },
          "flaky": { "status": ["PASS", "TIMEOUT"], "reason": "races the timer" }
        }
      },
      "/b.any.html": { "status": "TIMEOUT", "reason": "hangs" }
    }"#;

    #[test]
    fn parses_and_validates() {
        let e = Expectations::parse(FILE).unwrap();
        assert_eq!(e.tests.len(), 2);
        assert_eq!(
            e.tests["/b.any.html"].status.as_ref().unwrap().statuses,
            ["TIMEOUT"]
        );
        let missing_reason = r#"{"/a.html": {"subtests": {"x": {"status": "FAIL"}}}}"#;
        assert!(Expectations::parse(missing_reason)
            .unwrap_err()
            .contains("reason"));
        let blank_reason = r#"{"/a.html": {"status": "ERROR", "reason": "  "}}"#;
        assert!(Expectations::parse(blank_reason)
            .unwrap_err()
            .contains("reason"));
        let bad_status = r#"{"/a.html": {"subtests": {"x": {"status": "OK", "reason": "r"}}}}"#;
        assert!(Expectations::parse(bad_status)
            .unwrap_err()
            .contains("unknown status"));
        assert!(Expectations::parse(r#"{"/a.html": {}}"#).is_err());
        assert!(Expectations::parse(r#"{"a.html": {"status": "ERROR", "reason": "r"}}"#).is_err());
        assert!(
            Expectations::parse(r#"{"/a.html": {"status": "ERROR", "reason": "r", "x": 1}}"#)
                .is_err()
        );
        assert!(Expectations::parse("[").is_err());
    }

    #[test]
    fn diffs_results() {
        let e = Expectations::parse(FILE).unwrap();
        // Exactly as expected.
        let r = result(
            "OK",
            &[("ok", "PASS"), ("broken", "FAIL"), ("flaky", "TIMEOUT")],
        );
        assert!(e.diff(&r).is_empty());
        // An unexpected pass is a difference; so is an unexpected failure.
        let r = result(
            "OK",
            &[("ok", "FAIL"), ("broken", "PASS"), ("flaky", "PASS")],
        );
        let d = e.diff(&r);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].subtest.as_deref(), Some("ok"));
        assert_eq!(d[1].subtest.as_deref(), Some("broken"));
        assert_eq!(d[1].actual, "PASS");
        assert_eq!(
            d[1].to_string(),
            "/a.any.html > broken: expected FAIL, got PASS"
        );
        // A listed subtest that no longer exists is stale.
        let r = result("OK", &[("ok", "PASS"), ("flaky", "PASS")]);
        let d = e.diff(&r);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].actual, "MISSING");
        // Harness status.
        let mut r = result("TIMEOUT", &[]);
        r.test = "/b.any.html".into();
        assert!(e.diff(&r).is_empty());
        r.status = "OK".into();
        assert_eq!(e.diff(&r)[0].expected, ["TIMEOUT"]);
        // Unlisted tests must pass; a skip is a difference unless listed.
        let mut r = result("ERROR", &[]);
        r.test = "/c.html".into();
        assert_eq!(e.diff(&r).len(), 1);
        let d = e.diff(&TestResult::skipped("/c.html", "x"));
        assert_eq!(
            (d[0].expected.clone(), d[0].actual.as_str()),
            (vec!["OK".to_string()], "SKIP")
        );
    }

    #[test]
    fn skips_harness_statuses_and_stale_entries() {
        let e = Expectations::parse(
            r#"{
              "/skip.any.worker.html": { "status": "SKIP", "reason": "no dedicated workers" },
              "/err.html": { "status": "ERROR", "reason": "throws at load" },
              "/slow.html": {
                "status": "TIMEOUT", "reason": "never completes",
                "subtests": { "first": { "status": "PASS", "reason": "runs before the hang" } }
              },
              "/gone.html": { "status": "ERROR", "reason": "file was deleted" }
            }"#,
        )
        .unwrap();
        // SKIP is compared: listed and skipped is fine; listed and run is not.
        assert!(e
            .diff(&TestResult::skipped("/skip.any.worker.html", "x"))
            .is_empty());
        let mut r = result("OK", &[("a", "PASS")]);
        r.test = "/skip.any.worker.html".into();
        assert_eq!(e.diff(&r)[0].expected, ["SKIP"]);
        // Harness statuses are compared.
        let mut r = result("OK", &[]);
        r.test = "/err.html".into();
        assert_eq!(e.diff(&r)[0].actual, "OK");
        r.status = "ERROR".into();
        assert!(e.diff(&r).is_empty());
        // A listed subtest that disappeared from a file that timed out as
        // expected is stale.
        let mut r = result("TIMEOUT", &[]);
        r.test = "/slow.html".into();
        let d = e.diff(&r);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].subtest.as_deref(), Some("first"));
        assert_eq!(d[0].actual, "MISSING");
        // An entry for a test that did not run at all is stale.
        let stale = e.stale_tests(["/skip.any.worker.html", "/err.html", "/slow.html"]);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].test, "/gone.html");
        assert!(stale[0].to_string().contains("stale expectation"));
    }
}
