//! Background Sync registrations: one row per (scope, tag), durable across
//! restarts. Every transition is one statement or one transaction, so a
//! crash leaves a registration either before or after it.

use crate::sql::{params, OptionalExtension};

use crate::error::Result;
use crate::Store;

/// Where a sync registration is in its life (WICG Background Sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// Registered; fires as soon as the host is online.
    Pending,
    /// Its event failed; fires again at `next_attempt_ms`.
    Waiting,
    /// Its event is being dispatched.
    Firing,
    /// Registered again while firing: fires once more after this event.
    ReregisteredWhileFiring,
}

impl SyncState {
    fn as_str(self) -> &'static str {
        match self {
            SyncState::Pending => "pending",
            SyncState::Waiting => "waiting",
            SyncState::Firing => "firing",
            SyncState::ReregisteredWhileFiring => "reregistered-while-firing",
        }
    }

    fn parse(text: &str) -> Option<SyncState> {
        Some(match text {
            "pending" => SyncState::Pending,
            "waiting" => SyncState::Waiting,
            "firing" => SyncState::Firing,
            "reregistered-while-firing" => SyncState::ReregisteredWhileFiring,
            _ => return None,
        })
    }
}

/// A sync registration that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSync {
    /// The service-worker registration's scope.
    pub scope: String,
    /// The developer's tag.
    pub tag: String,
    /// Events already dispatched for it (0 before the first).
    pub attempts: u32,
}

/// How a sync event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Its `waitUntil` promises fulfilled.
    Succeeded,
    /// It rejected, threw, or the worker could not run it.
    Failed,
}

/// What a finished event leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncAfter {
    /// The registration is gone (success, or the last attempt failed).
    Removed,
    /// Fires again at this time (ms since the epoch).
    RetryAt(i64),
    /// Was registered again while firing: fires again now.
    Pending,
}

impl Store {
    /// SyncManager.register(tag): a new registration is pending; one that
    /// is firing fires once more afterwards; any other is left as it is.
    pub fn sync_register(&self, scope: &str, tag: &str) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let state: Option<String> = tx
            .query_row(
                "SELECT state FROM sync_registrations WHERE scope = ?1 AND tag = ?2",
                params![scope, tag],
                |r| r.get(0),
            )
            .optional()?;
        match state.as_deref().and_then(SyncState::parse) {
            None => {
                tx.execute(
                    "INSERT INTO sync_registrations(scope, tag, state, attempts, next_attempt_ms, created_ms)
                     VALUES (?1, ?2, 'pending', 0, 0, ?3)
                     ON CONFLICT(scope, tag) DO UPDATE SET state = 'pending', attempts = 0,
                        next_attempt_ms = 0, created_ms = excluded.created_ms",
                    params![scope, tag, crate::now_ms()],
                )?;
            }
            Some(SyncState::Firing) => {
                tx.execute(
                    "UPDATE sync_registrations SET state = ?3 WHERE scope = ?1 AND tag = ?2",
                    params![scope, tag, SyncState::ReregisteredWhileFiring.as_str()],
                )?;
            }
            Some(_) => {}
        }
        tx.commit()?;
        Ok(())
    }

    /// SyncManager.getTags(): the tags of `scope`'s registrations, oldest
    /// first.
    pub fn sync_tags(&self, scope: &str) -> Result<Vec<String>> {
        Ok(self.conn()?.query_map(
            "SELECT tag FROM sync_registrations WHERE scope = ?1 ORDER BY created_ms, rowid",
            params![scope],
            |r| r.get(0),
        )?)
    }

    /// Registrations due at `now_ms` (pending, or waiting with their retry
    /// time reached), marked firing in the same transaction.
    pub fn sync_take_due(&self, now_ms: i64) -> Result<Vec<DueSync>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let due = tx.query_map(
            "SELECT scope, tag, attempts FROM sync_registrations
              WHERE state = 'pending' OR (state = 'waiting' AND next_attempt_ms <= ?1)
              ORDER BY created_ms, rowid",
            params![now_ms],
            |r| {
                Ok(DueSync {
                    scope: r.get(0)?,
                    tag: r.get(1)?,
                    attempts: r.get(2)?,
                })
            },
        )?;
        for sync in &due {
            tx.execute(
                "UPDATE sync_registrations SET state = 'firing' WHERE scope = ?1 AND tag = ?2",
                params![sync.scope, sync.tag],
            )?;
        }
        tx.commit()?;
        Ok(due)
    }

    /// The earliest retry time among waiting registrations, if any.
    pub fn sync_next_retry(&self) -> Result<Option<i64>> {
        Ok(self.conn()?.query_row(
            "SELECT MIN(next_attempt_ms) FROM sync_registrations WHERE state = 'waiting'",
            params![],
            |r| r.get(0),
        )?)
    }

    /// Records how an event ended. A failure counts an attempt; past
    /// `max_attempts` the registration is removed, otherwise it waits until
    /// `retry_at_ms`.
    pub fn sync_finish(
        &self,
        scope: &str,
        tag: &str,
        outcome: SyncOutcome,
        max_attempts: u32,
        retry_at_ms: i64,
    ) -> Result<SyncAfter> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let row: Option<(String, u32)> = tx
            .query_row(
                "SELECT state, attempts FROM sync_registrations WHERE scope = ?1 AND tag = ?2",
                params![scope, tag],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((state, attempts)) = row else {
            return Ok(SyncAfter::Removed);
        };
        let after = if SyncState::parse(&state) == Some(SyncState::ReregisteredWhileFiring) {
            tx.execute(
                "UPDATE sync_registrations SET state = 'pending', attempts = 0 WHERE scope = ?1 AND tag = ?2",
                params![scope, tag],
            )?;
            SyncAfter::Pending
        } else if outcome == SyncOutcome::Succeeded || attempts + 1 >= max_attempts {
            tx.execute(
                "DELETE FROM sync_registrations WHERE scope = ?1 AND tag = ?2",
                params![scope, tag],
            )?;
            SyncAfter::Removed
        } else {
            tx.execute(
                "UPDATE sync_registrations SET state = 'waiting', attempts = attempts + 1, next_attempt_ms = ?3
                  WHERE scope = ?1 AND tag = ?2",
                params![scope, tag, retry_at_ms],
            )?;
            SyncAfter::RetryAt(retry_at_ms)
        };
        tx.commit()?;
        Ok(after)
    }

    /// After a restart: events that were firing when the process ended are
    /// due again (the interrupted attempt is not counted).
    pub fn sync_recover(&self) -> Result<usize> {
        Ok(self.conn()?.execute(
            "UPDATE sync_registrations SET state = 'pending'
              WHERE state IN ('firing', 'reregistered-while-firing')",
            params![],
        )?)
    }

    /// Registrations of `origin`'s scopes (`origin` serialized without a
    /// trailing slash, as `https://a.test:8443`): work a run waits for.
    pub fn sync_count(&self, origin: &str) -> Result<usize> {
        // A scope of the origin is the origin followed by its path, so the
        // prefix ends with the path's first slash (`http://a` is not a
        // prefix of `http://a:8080/`'s scopes).
        let prefix = format!("{origin}/");
        let n: i64 = self.conn()?.query_row(
            "SELECT COUNT(*) FROM sync_registrations WHERE substr(scope, 1, ?2) = ?1",
            params![prefix, prefix.chars().count() as i64],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// Removes every sync registration of `scope` (its service-worker
    /// registration is gone).
    pub fn sync_remove_scope(&self, scope: &str) -> Result<usize> {
        Ok(self.conn()?.execute(
            "DELETE FROM sync_registrations WHERE scope = ?1",
            params![scope],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::test_store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn a_registration_fires_once_and_goes() {
        let (_dir, s) = store();
        s.sync_register("https://a/", "t").unwrap();
        s.sync_register("https://a/", "t").unwrap();
        assert_eq!(s.sync_tags("https://a/").unwrap(), ["t"]);
        let due = s.sync_take_due(0).unwrap();
        assert_eq!(due.len(), 1);
        assert!(s.sync_take_due(0).unwrap().is_empty(), "firing is not due");
        let after = s
            .sync_finish("https://a/", "t", SyncOutcome::Succeeded, 3, 0)
            .unwrap();
        assert_eq!(after, SyncAfter::Removed);
        assert!(s.sync_tags("https://a/").unwrap().is_empty());
    }

    #[test]
    fn failures_wait_then_the_last_attempt_removes() {
        let (_dir, s) = store();
        s.sync_register("https://a/", "t").unwrap();
        let mut now = 1_000;
        for attempt in 0..2 {
            let due = s.sync_take_due(now).unwrap();
            assert_eq!(due[0].attempts, attempt);
            let retry_at = now + 4_000;
            let after = s
                .sync_finish("https://a/", "t", SyncOutcome::Failed, 3, retry_at)
                .unwrap();
            assert_eq!(after, SyncAfter::RetryAt(retry_at));
            assert!(
                s.sync_take_due(retry_at - 1).unwrap().is_empty(),
                "not before its retry time"
            );
            assert_eq!(s.sync_next_retry().unwrap(), Some(retry_at));
            now = retry_at;
        }
        let due = s.sync_take_due(now).unwrap();
        assert_eq!(due[0].attempts, 2, "the third attempt is the last chance");
        let after = s
            .sync_finish("https://a/", "t", SyncOutcome::Failed, 3, 9_000)
            .unwrap();
        assert_eq!(after, SyncAfter::Removed);
    }

    #[test]
    fn counts_only_the_scopes_of_one_origin() {
        let (_dir, s) = store();
        s.sync_register("http://a/", "t").unwrap();
        s.sync_register("http://a/app/", "t").unwrap();
        s.sync_register("http://a:8080/", "t").unwrap();
        s.sync_register("http://ab/", "t").unwrap();
        assert_eq!(s.sync_count("http://a").unwrap(), 2);
        assert_eq!(s.sync_count("http://a:8080").unwrap(), 1);
    }

    #[test]
    fn registered_again_while_firing_fires_again() {
        let (_dir, s) = store();
        s.sync_register("https://a/", "t").unwrap();
        s.sync_take_due(0).unwrap();
        s.sync_register("https://a/", "t").unwrap();
        let after = s
            .sync_finish("https://a/", "t", SyncOutcome::Succeeded, 3, 0)
            .unwrap();
        assert_eq!(after, SyncAfter::Pending);
        assert_eq!(s.sync_take_due(0).unwrap().len(), 1);
    }

    #[test]
    fn an_event_interrupted_by_a_crash_is_due_again_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = crate::test_store::open(dir.path()).unwrap();
            s.sync_register("https://a/", "t").unwrap();
            s.sync_take_due(0).unwrap();
            s.close().unwrap();
        }
        let s = crate::test_store::open(dir.path()).unwrap();
        assert!(s.sync_take_due(0).unwrap().is_empty());
        assert_eq!(s.sync_recover().unwrap(), 1);
        assert_eq!(s.sync_take_due(0).unwrap().len(), 1);
    }
}
