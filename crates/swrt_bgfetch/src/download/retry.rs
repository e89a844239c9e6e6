//! The retry loop of one record: run attempts until one gives a final
//! outcome, retrying network failures with exponential backoff (a failure
//! after bytes arrived resumes with `Range` and counts against the
//! resumption budget, one before against the retry budget), and starting
//! over from zero when a resume is refused. The decisions are pure
//! ([`RetryBudget`]); [`Downloader::run`] carries them out.

use super::{Downloader, Fail};
use crate::limits::Limits;
use std::time::Duration;
use swrt_store::RecordOutcome;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Try again after `delay`; `attempt` counts the retries of this kind.
    Retry {
        /// Backoff before the next attempt.
        delay: Duration,
        /// 1 for the first retry of this kind.
        attempt: u32,
    },
    /// The record fails.
    GiveUp,
}

/// Retries, resumptions and restarts one record has used.
#[derive(Debug, Default)]
pub(super) struct RetryBudget {
    retries: u32,
    resumes: u32,
    restarts: u32,
}

impl RetryBudget {
    /// A network failure of a `method` request; `progressed` = body bytes
    /// arrived in the failed attempt. Only GETs are retried: sending a
    /// request body again is not safe in general.
    pub(super) fn after_network_failure(
        &mut self,
        method: &str,
        progressed: bool,
        limits: &Limits,
    ) -> Next {
        if method != "GET" {
            return Next::GiveUp;
        }
        let (n, max) = if progressed {
            self.resumes += 1;
            (self.resumes, limits.max_resumptions)
        } else {
            self.retries += 1;
            (self.retries, limits.max_retries)
        };
        if n > max {
            return Next::GiveUp;
        }
        Next::Retry {
            delay: limits.backoff(n - 1),
            attempt: n,
        }
    }

    /// A resume was refused and the body starts over. A server that keeps
    /// changing the resource could loop forever: restarts are bounded like
    /// resumptions. True while more are allowed.
    pub(super) fn after_restart(&mut self, limits: &Limits) -> bool {
        self.restarts += 1;
        self.restarts <= limits.max_resumptions
    }
}

impl Downloader {
    pub(super) async fn run(&mut self) {
        let limits = self.inner.limits.clone();
        let mut budget = RetryBudget::default();
        loop {
            let r = match self.attempt().await {
                // A checkpoint of the old body may still be running.
                Err(Fail::Restart(why)) => {
                    self.join_checkpoint().await.and(Err(Fail::Restart(why)))
                }
                r => r,
            };
            match r {
                Ok(RecordOutcome::Complete) if self.integrity.is_some() => {
                    match self.integrity_mismatch() {
                        Some(why) => {
                            tracing::info!(%why, "record failed");
                            self.finish(RecordOutcome::FetchError, Some(why)).await;
                        }
                        None => self.finish(RecordOutcome::Complete, None).await,
                    }
                    return;
                }
                Ok(outcome) => {
                    self.finish(outcome, None).await;
                    return;
                }
                Err(Fail::Restart(why)) => {
                    tracing::info!(%why, "resume refused; restarting from zero");
                    self.reset_body();
                    if !budget.after_restart(&limits) {
                        self.finish(RecordOutcome::FetchError, Some(why)).await;
                        return;
                    }
                }
                Err(Fail::Network(msg, progressed)) => {
                    match budget.after_network_failure(&self.rec.method, progressed, &limits) {
                        Next::GiveUp => {
                            if self.rec.method == "GET" {
                                tracing::warn!(%msg, "giving up after retries");
                            }
                            self.finish(RecordOutcome::FetchError, Some(msg)).await;
                            return;
                        }
                        Next::Retry { delay, attempt } => {
                            tracing::info!(%msg, attempt, ?delay, "network failure; will retry");
                            tokio::time::sleep(delay).await;
                        }
                    }
                }
                Err(Fail::Fatal(msg)) => {
                    tracing::info!(%msg, "record failed");
                    self.finish(RecordOutcome::FetchError, Some(msg)).await;
                    return;
                }
                Err(Fail::Stop(reason, msg)) => {
                    // Persist this record's failure first: stopping cancels us.
                    self.finish(RecordOutcome::FetchError, Some(msg)).await;
                    self.ctx.stop(reason);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_retries: 2,
            max_resumptions: 3,
            retry_base_delay: Duration::from_millis(100),
            retry_max_delay: Duration::from_millis(250),
            ..Limits::default()
        }
    }

    #[test]
    fn failures_before_any_byte_use_the_retry_budget_with_backoff() {
        let l = limits();
        let mut b = RetryBudget::default();
        assert_eq!(
            b.after_network_failure("GET", false, &l),
            Next::Retry {
                delay: Duration::from_millis(100),
                attempt: 1
            }
        );
        assert_eq!(
            b.after_network_failure("GET", false, &l),
            Next::Retry {
                delay: Duration::from_millis(200),
                attempt: 2
            }
        );
        assert_eq!(b.after_network_failure("GET", false, &l), Next::GiveUp);
    }

    #[test]
    fn failures_after_bytes_resume_on_their_own_budget() {
        let l = limits();
        let mut b = RetryBudget::default();
        assert!(matches!(
            b.after_network_failure("GET", false, &l),
            Next::Retry { attempt: 1, .. }
        ));
        for n in 1..=3 {
            let delay = Duration::from_millis(100 * (1 << (n - 1))).min(l.retry_max_delay);
            assert_eq!(
                b.after_network_failure("GET", true, &l),
                Next::Retry { delay, attempt: n }
            );
        }
        assert_eq!(b.after_network_failure("GET", true, &l), Next::GiveUp);
        // The retry budget was not used up by the resumptions.
        assert!(matches!(
            b.after_network_failure("GET", false, &l),
            Next::Retry { attempt: 2, .. }
        ));
    }

    #[test]
    fn only_gets_are_retried() {
        let l = limits();
        for method in ["POST", "PUT", "HEAD", "DELETE"] {
            let mut b = RetryBudget::default();
            assert_eq!(b.after_network_failure(method, false, &l), Next::GiveUp);
            assert_eq!(b.after_network_failure(method, true, &l), Next::GiveUp);
        }
    }

    #[test]
    fn restarts_are_bounded_like_resumptions() {
        let l = limits();
        let mut b = RetryBudget::default();
        assert!(b.after_restart(&l));
        assert!(b.after_restart(&l));
        assert!(b.after_restart(&l));
        assert!(!b.after_restart(&l));
    }
}
