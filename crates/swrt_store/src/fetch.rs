//! Background fetch rows: reading them and moving them through their states
//! (creating one is in `create`, their records are in `records`). The file
//! passes 500 lines because its tests cover the whole fetch and record
//! lifecycle across those modules, in one place.

use crate::error::{Result, StoreError};
use crate::model::*;
use crate::sql::{params, Db, OptionalExtension, Row, SqlError, SqlResult};
use crate::{add_usage, now_ms, BodyId, Store};

const FETCH_COLS: &str =
    "unique_id, scope, id, origin, title, icons_json, ui_data, download_total, \
    upload_total, downloaded, uploaded, state, result, failure_reason, created_ms, updated_ms, \
    settled_ms, done_ms, policy_json";

pub(crate) const RECORD_COLS: &str =
    "fetch_uid, idx, method, url, req_headers, mode, credentials, \
    req_body_path, req_body_len, status, status_text, resp_headers, resp_type, url_list, etag, \
    last_modified, complete_length, body_path, bytes_stored, outcome, error_message, body_offset, \
    integrity";

pub(crate) fn corrupt(what: &str, v: &str) -> SqlError {
    SqlError::Corrupt(Box::new(StoreError::Corrupt(format!("{what}: {v:?}"))))
}

pub(crate) fn json_col<T: serde::de::DeserializeOwned>(s: &str) -> SqlResult<T> {
    serde_json::from_str(s).map_err(|e| SqlError::Corrupt(Box::new(StoreError::Json(e))))
}

pub(crate) fn u64_col(row: &Row, i: usize) -> SqlResult<u64> {
    Ok(row.get::<i64>(i)?.max(0) as u64)
}

fn fetch_from_row(row: &Row) -> SqlResult<FetchRow> {
    let state: String = row.get(11)?;
    let result: String = row.get(12)?;
    let reason: String = row.get(13)?;
    let icons: String = row.get(5)?;
    Ok(FetchRow {
        unique_id: row.get(0)?,
        scope: row.get(1)?,
        id: row.get(2)?,
        origin: row.get(3)?,
        title: row.get(4)?,
        icons: json_col(&icons)?,
        ui_data: row.get(6)?,
        download_total: u64_col(row, 7)?,
        upload_total: u64_col(row, 8)?,
        downloaded: u64_col(row, 9)?,
        uploaded: u64_col(row, 10)?,
        state: FetchState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        result: FetchResult::parse(&result).ok_or_else(|| corrupt("result", &result))?,
        failure_reason: FailureReason::parse(&reason).ok_or_else(|| corrupt("reason", &reason))?,
        created_ms: row.get(14)?,
        updated_ms: row.get(15)?,
        settled_ms: row.get(16)?,
        done_ms: row.get(17)?,
        policy_json: row.get(18)?,
    })
}

/// What a record's `body_path` column holds for a body of its own. The
/// columns keep the names of the file layout the database started with; the
/// store reads them only to tell a packed body from one of its own.
pub(crate) fn response_body_rel(unique_id: &str, index: u32) -> String {
    format!("bodies/{}/{index}.body", sanitize(unique_id))
}

/// What a record's `body_path` column holds for a body in the fetch's pack.
pub(crate) fn pack_body_rel(unique_id: &str) -> String {
    format!("bodies/{}/small.pack", sanitize(unique_id))
}

/// What a record's `req_body_path` column holds for its request body.
pub(crate) fn request_body_rel(unique_id: &str, index: usize) -> String {
    format!("bodies/{}/{index}.req", sanitize(unique_id))
}

impl Store {
    /// A fetch by internal id, in any state.
    pub fn get_fetch(&self, unique_id: &str) -> Result<Option<FetchRow>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        get_fetch_tx(&tx, unique_id)
    }

    /// The *active* fetch with developer id `id` in registration `scope`
    /// (`BackgroundFetchManager.get()` only sees active fetches).
    pub fn active_fetch(&self, scope: &str, id: &str) -> Result<Option<FetchRow>> {
        Ok(self
            .conn()?
            .query_row(
                &format!(
                    "SELECT {FETCH_COLS} FROM bg_fetches WHERE scope = ?1 AND id = ?2 AND state = 'active'"
                ),
                params![scope, id],
                fetch_from_row,
            )
            .optional()?)
    }

    /// The most recent fetch (any state) with developer id `id` in `scope`.
    pub fn latest_fetch(&self, scope: &str, id: &str) -> Result<Option<FetchRow>> {
        Ok(self
            .conn()?
            .query_row(
                &format!(
                    "SELECT {FETCH_COLS} FROM bg_fetches WHERE scope = ?1 AND id = ?2
                     ORDER BY created_ms DESC, rowid DESC LIMIT 1"
                ),
                params![scope, id],
                fetch_from_row,
            )
            .optional()?)
    }

    /// Developer ids of the active fetches of a registration, oldest first.
    pub fn active_ids(&self, scope: &str) -> Result<Vec<String>> {
        Ok(self.conn()?.query_map(
            "SELECT id FROM bg_fetches WHERE scope = ?1 AND state = 'active' ORDER BY created_ms, rowid",
            params![scope],
            |r| r.get(0),
        )?)
    }

    /// Number of active fetches of an origin.
    pub fn count_active(&self, origin: &str) -> Result<u64> {
        let n: i64 = self.conn()?.query_row(
            "SELECT COUNT(*) FROM bg_fetches WHERE origin = ?1 AND state = 'active'",
            params![origin],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Fetches of `origin` that still have work: downloading, or settled with
    /// their terminal event not yet handled.
    pub fn count_unfinished(&self, origin: &str) -> Result<u64> {
        let n: i64 = self.conn()?.query_row(
            "SELECT COUNT(*) FROM bg_fetches WHERE origin = ?1 AND state IN ('active', 'settled', 'dispatched')",
            params![origin],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// All fetches in `state`, oldest first.
    pub fn fetches_in_state(&self, state: FetchState) -> Result<Vec<FetchRow>> {
        Ok(self.conn()?.query_map(
            &format!(
                "SELECT {FETCH_COLS} FROM bg_fetches WHERE state = ?1 ORDER BY created_ms, rowid"
            ),
            params![state.as_str()],
            fetch_from_row,
        )?)
    }

    /// Store the fetch-level progress counters.
    pub fn update_progress(&self, unique_id: &str, downloaded: u64, uploaded: u64) -> Result<()> {
        self.conn()?.execute(
            "UPDATE bg_fetches SET downloaded = ?2, uploaded = ?3, updated_ms = ?4 WHERE unique_id = ?1",
            params![unique_id, downloaded as i64, uploaded as i64, now_ms()],
        )?;
        Ok(())
    }

    /// Replace the UI title and icons (`updateUI()`). Returns false (and
    /// changes nothing) for an unknown fetch or one whose terminal event has
    /// ended (`done`): `updateUI()` only works while the event is active.
    pub fn set_ui(
        &self,
        unique_id: &str,
        title: Option<&str>,
        icons: Option<&[Icon]>,
    ) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut n = 0;
        if let Some(t) = title {
            n += tx.execute(
                "UPDATE bg_fetches SET title = ?2, updated_ms = ?3 WHERE unique_id = ?1 AND state != 'done'",
                params![unique_id, t, now_ms()],
            )?;
        }
        if let Some(i) = icons {
            n += tx.execute(
                "UPDATE bg_fetches SET icons_json = ?2, updated_ms = ?3 WHERE unique_id = ?1 AND state != 'done'",
                params![unique_id, serde_json::to_string(i)?, now_ms()],
            )?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// Decide the fetch's result: `active` -> `settled`, in one transaction
    /// that also marks every unfinished record `aborted` and stores the final
    /// counters. Returns false (and changes nothing) if the fetch was not
    /// active, which is what makes a second terminal outcome impossible.
    pub fn settle_fetch(
        &self,
        unique_id: &str,
        result: FetchResult,
        reason: FailureReason,
        downloaded: u64,
        uploaded: u64,
    ) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let now = now_ms();
        let n = tx.execute(
            "UPDATE bg_fetches SET state = 'settled', result = ?2, failure_reason = ?3,
                downloaded = ?4, uploaded = ?5, settled_ms = ?6, updated_ms = ?6
             WHERE unique_id = ?1 AND state = 'active'",
            params![
                unique_id,
                result.as_str(),
                reason.as_str(),
                downloaded as i64,
                uploaded as i64,
                now
            ],
        )?;
        if n == 1 {
            tx.execute(
                "UPDATE bg_records SET outcome = 'aborted' WHERE fetch_uid = ?1 AND outcome = 'pending'",
                params![unique_id],
            )?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// `settled` -> `dispatched`: persisted *before* the terminal event is
    /// handed to the worker. Returns false if the fetch was not settled.
    pub fn mark_dispatched(&self, unique_id: &str) -> Result<bool> {
        let n = self.conn()?.execute(
            "UPDATE bg_fetches SET state = 'dispatched', updated_ms = ?2 WHERE unique_id = ?1 AND state = 'settled'",
            params![unique_id, now_ms()],
        )?;
        Ok(n == 1)
    }

    /// `settled`/`dispatched` -> `done`: the terminal event's lifetime ended.
    /// Records become unavailable and their byte counts leave the origin's
    /// usage in the same transaction; the caller then deletes the bodies
    /// ([`crate::BodyStorage::delete_fetch`]; done again at start-up for
    /// crash safety).
    pub fn mark_done(&self, unique_id: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let Some((origin, bytes)) = stored_usage(
            &tx,
            "SELECT origin FROM bg_fetches WHERE unique_id = ?1 AND state IN ('settled', 'dispatched')",
            unique_id,
        )?
        else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE bg_records SET body_path = NULL, req_body_path = NULL, bytes_stored = 0, req_body_len = 0
             WHERE fetch_uid = ?1",
            params![unique_id],
        )?;
        let now = now_ms();
        tx.execute(
            "UPDATE bg_fetches SET state = 'done', done_ms = ?2, updated_ms = ?2 WHERE unique_id = ?1",
            params![unique_id, now],
        )?;
        add_usage(&tx, &origin, -bytes)?;
        tx.commit()?;
        Ok(true)
    }

    /// Delete a fetch row, its records and its bodies.
    pub fn delete_fetch(&self, unique_id: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let Some((origin, bytes)) = stored_usage(
            &tx,
            "SELECT origin FROM bg_fetches WHERE unique_id = ?1",
            unique_id,
        )?
        else {
            return Ok(false);
        };
        tx.execute(
            "DELETE FROM bg_records WHERE fetch_uid = ?1",
            params![unique_id],
        )?;
        tx.execute(
            "DELETE FROM bg_fetches WHERE unique_id = ?1",
            params![unique_id],
        )?;
        add_usage(&tx, &origin, -bytes)?;
        tx.commit()?;
        drop(conn);
        self.bodies.delete_fetch(unique_id)?;
        Ok(true)
    }

    /// Start-up repair. For every fetch:
    /// - `done`: delete bodies left behind by a crash after commit;
    /// - `active`: cut each pending record's body to its durable count
    ///   (bytes after the last checkpoint were never trusted) and recompute
    ///   `downloaded` from the records.
    ///
    /// Returns the active fetches, to be resumed.
    pub fn repair(&self) -> Result<Vec<FetchRow>> {
        for f in self.fetches_in_state(FetchState::Done)? {
            self.bodies.delete_fetch(&f.unique_id)?;
        }
        for f in self.fetches_in_state(FetchState::Active)? {
            self.repair_active(&f)?;
        }
        self.recompute_usage()?;
        self.fetches_in_state(FetchState::Active)
    }

    /// Start-up repair of one fetch, for an engine that shares the store
    /// with others and resumes only the fetches it claimed: what
    /// [`Store::repair`] does for every fetch, done for `unique_id`.
    /// Returns the fetch as it is afterwards (`None` if there is none).
    pub fn repair_fetch(&self, unique_id: &str) -> Result<Option<FetchRow>> {
        let Some(f) = self.get_fetch(unique_id)? else {
            return Ok(None);
        };
        match f.state {
            FetchState::Done => self.bodies.delete_fetch(unique_id)?,
            FetchState::Active => self.repair_active(&f)?,
            FetchState::Settled | FetchState::Dispatched => {}
        }
        self.get_fetch(unique_id)
    }

    /// Cut each pending record's body to its durable count and the pack to
    /// its committed end, and store `downloaded` as the records say.
    fn repair_active(&self, f: &FetchRow) -> Result<()> {
        let mut downloaded = 0;
        let mut pack_end = 0;
        for r in self.records(&f.unique_id)? {
            downloaded += r.bytes_stored;
            if r.body == Some(BodyLocation::Pack) {
                pack_end = pack_end.max(r.body_offset + r.bytes_stored);
            }
            if r.outcome == RecordOutcome::Pending {
                let body = BodyId::Response {
                    fetch: &f.unique_id,
                    index: r.index,
                };
                self.bodies.truncate(body, r.bytes_stored)?;
            }
        }
        // Bytes appended to the pack by a batch that never committed.
        let pack = BodyId::Pack {
            fetch: &f.unique_id,
        };
        self.bodies.truncate(pack, pack_end)?;
        self.update_progress(&f.unique_id, downloaded, f.uploaded)
    }
}

pub(crate) fn get_fetch_tx(tx: &Db, unique_id: &str) -> Result<Option<FetchRow>> {
    Ok(tx
        .query_row(
            &format!("SELECT {FETCH_COLS} FROM bg_fetches WHERE unique_id = ?1"),
            params![unique_id],
            fetch_from_row,
        )
        .optional()?)
}

/// Keep ids usable as a directory name whatever a caller passes: the engine
/// uses uuids, but the store must not let a `..` escape `bodies/`.
pub(crate) fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The origin of the fetch `origin_query` finds (by unique id) and the bytes
/// its records hold, which leave the origin's usage when they go.
fn stored_usage(tx: &Db, origin_query: &str, unique_id: &str) -> Result<Option<(String, i64)>> {
    let origin: Option<String> = tx
        .query_row(origin_query, params![unique_id], |r| r.get(0))
        .optional()?;
    let Some(origin) = origin else {
        return Ok(None);
    };
    let bytes: i64 = tx.query_row(
        "SELECT CAST(COALESCE(SUM(bytes_stored + req_body_len), 0) AS BIGINT) FROM bg_records
         WHERE fetch_uid = ?1",
        params![unique_id],
        |r| r.get(0),
    )?;
    Ok(Some((origin, bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn read_body(s: &Store, body: BodyId<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        s.bodies()
            .read(body, 0)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn body_dir_exists(dir: &std::path::Path, uid: &str) -> bool {
        dir.join("bodies").join(uid).exists()
    }

    fn new_fetch(uid: &str, id: &str) -> NewFetch {
        NewFetch {
            unique_id: uid.into(),
            scope: "https://a.test/".into(),
            id: id.into(),
            origin: "https://a.test".into(),
            title: "t".into(),
            icons: vec![Icon {
                src: "i.png".into(),
                ..Default::default()
            }],
            download_total: 0,
            ui_data: None,
            policy_json: "{}".into(),
        }
    }

    fn req(url: &str, body: Option<&[u8]>) -> NewRequest {
        NewRequest {
            method: if body.is_some() { "POST" } else { "GET" }.into(),
            url: url.into(),
            headers: vec![("x-a".into(), "1".into())],
            mode: RequestMode::Cors,
            credentials: CredentialsMode::SameOrigin,
            body: body.map(|b| b.to_vec()),
            integrity: String::new(),
        }
    }

    #[test]
    fn fetch_lifecycle_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::test_store::open(dir.path()).unwrap();
        let f = s
            .insert_fetch(
                &new_fetch("u1", "one"),
                &[
                    req("https://a.test/1", None),
                    req("https://a.test/2", Some(b"abc")),
                ],
            )
            .unwrap();
        assert_eq!(f.upload_total, 3);
        assert_eq!(f.state, FetchState::Active);
        assert_eq!(s.origin_usage("https://a.test").unwrap(), 3);
        assert_eq!(
            s.active_ids("https://a.test/").unwrap(),
            vec!["one".to_string()]
        );
        assert_eq!(s.count_active("https://a.test").unwrap(), 1);
        let recs = s.records("u1").unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].request_body(), None);
        assert_eq!(read_body(&s, recs[1].request_body().unwrap()), b"abc");

        let meta = ResponseMeta {
            status: 200,
            status_text: "OK".into(),
            response_type: ResponseType::Basic,
            etag: Some("\"e\"".into()),
            ..Default::default()
        };
        s.record_set_response("u1", 0, &meta, 0).unwrap();
        let own = BodyId::Response {
            fetch: "u1",
            index: 0,
        };
        let mut w = s.bodies().create(own).unwrap();
        w.write_chunks(&[b"hello"]).unwrap();
        w.sync().unwrap();
        s.record_checkpoint("u1", 0, 5, 5, 0).unwrap();
        assert_eq!(s.origin_usage("https://a.test").unwrap(), 8);
        drop(w);
        drop(s);

        // Reopen: data and usage survive.
        let s = crate::test_store::open(dir.path()).unwrap();
        assert_eq!(s.origin_usage("https://a.test").unwrap(), 8);
        let r0 = s.record("u1", 0).unwrap().unwrap();
        assert_eq!(r0.bytes_stored, 5);
        assert_eq!(r0.body, Some(BodyLocation::Own));
        assert_eq!(r0.response_body(), (own, 0));
        assert_eq!(r0.response.as_ref().unwrap().etag.as_deref(), Some("\"e\""));
        s.record_finish("u1", 0, RecordOutcome::Complete, 5, None, 5, 3)
            .unwrap();
        assert!(s
            .settle_fetch("u1", FetchResult::Failure, FailureReason::Aborted, 5, 3)
            .unwrap());
        // A second settle is refused: never two terminal outcomes.
        assert!(!s
            .settle_fetch("u1", FetchResult::Success, FailureReason::None, 5, 3)
            .unwrap());
        let recs = s.records("u1").unwrap();
        assert_eq!(recs[0].outcome, RecordOutcome::Complete);
        assert_eq!(recs[1].outcome, RecordOutcome::Aborted);
        assert!(s.active_ids("https://a.test/").unwrap().is_empty());
        assert!(s.mark_dispatched("u1").unwrap());
        assert!(!s.mark_dispatched("u1").unwrap());
        assert!(s.mark_done("u1").unwrap());
        assert_eq!(s.origin_usage("https://a.test").unwrap(), 0);
        let f = s.get_fetch("u1").unwrap().unwrap();
        assert!(!f.records_available());
        assert_eq!(f.failure_reason, FailureReason::Aborted);
        assert!(s.delete_fetch("u1").unwrap());
        assert!(s.get_fetch("u1").unwrap().is_none());
        assert!(!body_dir_exists(dir.path(), "u1"));
    }

    #[test]
    fn duplicate_active_id_is_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::test_store::open(dir.path()).unwrap();
        s.insert_fetch(&new_fetch("u1", "same"), &[req("https://a.test/1", None)])
            .unwrap();
        let err = s
            .insert_fetch(
                &new_fetch("u2", "same"),
                &[req("https://a.test/1", Some(b"xyz"))],
            )
            .unwrap_err();
        assert!(matches!(err, StoreError::DuplicateActive { .. }));
        // Nothing of the failed insert remains: no row, no records, no body, no usage.
        assert!(s.get_fetch("u2").unwrap().is_none());
        assert!(s.records("u2").unwrap().is_empty());
        assert!(!body_dir_exists(dir.path(), "u2"));
        assert_eq!(s.origin_usage("https://a.test").unwrap(), 0);
        // Once the first is settled, the id may be reused.
        s.settle_fetch("u1", FetchResult::Success, FailureReason::None, 0, 0)
            .unwrap();
        s.insert_fetch(&new_fetch("u3", "same"), &[req("https://a.test/1", None)])
            .unwrap();
    }

    #[test]
    fn repair_truncates_undurable_bytes() {
        // Store-wide at start-up, and per fetch, as an engine sharing the
        // store repairs a fetch it claimed.
        for per_fetch in [false, true] {
            repair_truncates_undurable_bytes_of_one_fetch(per_fetch);
        }
    }

    fn repair_truncates_undurable_bytes_of_one_fetch(per_fetch: bool) {
        let dir = tempfile::tempdir().unwrap();
        let own = BodyId::Response {
            fetch: "u1",
            index: 0,
        };
        {
            let s = crate::test_store::open(dir.path()).unwrap();
            s.insert_fetch(&new_fetch("u1", "x"), &[req("https://a.test/1", None)])
                .unwrap();
            s.record_set_response(
                "u1",
                0,
                &ResponseMeta {
                    status: 200,
                    ..Default::default()
                },
                0,
            )
            .unwrap();
            let mut w = s.bodies().create(own).unwrap();
            w.write_chunks(&[b"durable"]).unwrap();
            w.sync().unwrap();
            s.record_checkpoint("u1", 0, 7, 7, 0).unwrap();
            w.write_chunks(&[b"-not-checkpointed"]).unwrap();
            // A batch of small bodies whose rows never committed.
            s.bodies()
                .open_pack("u1")
                .unwrap()
                .append(b"uncommitted")
                .unwrap();
        }
        let s = crate::test_store::open(dir.path()).unwrap();
        let active = if per_fetch {
            vec![s.repair_fetch("u1").unwrap().unwrap()]
        } else {
            s.repair().unwrap()
        };
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].downloaded, 7);
        assert_eq!(read_body(&s, own), b"durable");
        assert_eq!(read_body(&s, BodyId::Pack { fetch: "u1" }), b"");
    }
}
