//! The records of background fetches: reading them, and the changes a
//! download makes (response head, checkpoints, completion, in batches).

use crate::error::{Result, StoreError};
use crate::fetch::{corrupt, json_col, pack_body_rel, response_body_rel, u64_col, RECORD_COLS};
use crate::model::*;
use crate::sql::{params, Db, OptionalExtension, Row, SqlResult};
use crate::{add_usage, now_ms, Store};

/// A body column read from the database is a name the store wrote: a
/// relative path of plain components. Anything else comes from a damaged or
/// edited database and is refused as corrupt.
fn stored_body_name(stored: &str) -> SqlResult<()> {
    if crate::is_plain_relative(stored) {
        Ok(())
    } else {
        Err(corrupt("body path", stored))
    }
}

impl Store {
    fn record_from_row(&self, row: &Row) -> SqlResult<RecordRow> {
        let headers: String = row.get(4)?;
        let status: Option<i64> = row.get(9)?;
        let response = match status {
            None => None,
            Some(status) => {
                let rh: Option<String> = row.get(11)?;
                let ul: Option<String> = row.get(13)?;
                Some(ResponseMeta {
                    status: status.clamp(0, 999) as u16,
                    status_text: row.get::<Option<String>>(10)?.unwrap_or_default(),
                    headers: json_col(rh.as_deref().unwrap_or("[]"))?,
                    response_type: row.get::<Option<ResponseType>>(12)?.unwrap_or_default(),
                    url_list: json_col(ul.as_deref().unwrap_or("[]"))?,
                    etag: row.get(14)?,
                    last_modified: row.get(15)?,
                    complete_length: row.get::<Option<i64>>(16)?.map(|v| v.max(0) as u64),
                })
            }
        };
        let outcome: String = row.get(19)?;
        let fetch_uid: String = row.get(0)?;
        Ok(RecordRow {
            index: row.get::<i64>(1)? as u32,
            method: row.get(2)?,
            url: row.get(3)?,
            headers: json_col(&headers)?,
            mode: row.get(5)?,
            credentials: row.get(6)?,
            has_request_body: row
                .get::<Option<String>>(7)?
                .map(|p| stored_body_name(&p))
                .transpose()?
                .is_some(),
            request_body_len: u64_col(row, 8)?,
            response,
            body: row
                .get::<Option<String>>(17)?
                .map(|p| -> SqlResult<BodyLocation> {
                    stored_body_name(&p)?;
                    Ok(if p == pack_body_rel(&fetch_uid) {
                        BodyLocation::Pack
                    } else {
                        BodyLocation::Own
                    })
                })
                .transpose()?,
            bytes_stored: u64_col(row, 18)?,
            body_offset: u64_col(row, 21)?,
            integrity: row.get(22)?,
            outcome: RecordOutcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
            error_message: row.get(20)?,
            fetch_uid,
        })
    }

    /// Records of a fetch, by index.
    pub fn records(&self, unique_id: &str) -> Result<Vec<RecordRow>> {
        Ok(self.conn()?.query_map(
            &format!("SELECT {RECORD_COLS} FROM bg_records WHERE fetch_uid = ?1 ORDER BY idx"),
            params![unique_id],
            |r| self.record_from_row(r),
        )?)
    }

    /// One record.
    pub fn record(&self, unique_id: &str, index: u32) -> Result<Option<RecordRow>> {
        Ok(self
            .conn()?
            .query_row(
                &format!("SELECT {RECORD_COLS} FROM bg_records WHERE fetch_uid = ?1 AND idx = ?2"),
                params![unique_id, index as i64],
                |r| self.record_from_row(r),
            )
            .optional()?)
    }

    /// Store response headers for a record that (re)starts its body from
    /// `bytes_stored` (0 for a fresh start, N for an accepted resume). Sets
    /// the body path. One transaction, usage adjusted.
    pub fn record_set_response(
        &self,
        unique_id: &str,
        index: u32,
        meta: &ResponseMeta,
        bytes_stored: u64,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let (origin, old) = record_bytes(&tx, unique_id, index)?;
        set_response_tx(&tx, unique_id, index, meta)?;
        tx.execute(
            "UPDATE bg_records SET bytes_stored = ?3 WHERE fetch_uid = ?1 AND idx = ?2",
            params![unique_id, index as i64, bytes_stored as i64],
        )?;
        add_usage(&tx, &origin, bytes_stored as i64 - old)?;
        tx.commit()?;
        Ok(())
    }

    /// Durable-progress checkpoint: the caller synced the body up to
    /// `bytes_stored`; the fetch counters are stored in the same transaction.
    pub fn record_checkpoint(
        &self,
        unique_id: &str,
        index: u32,
        bytes_stored: u64,
        fetch_downloaded: u64,
        fetch_uploaded: u64,
    ) -> Result<()> {
        self.record_update(
            unique_id,
            index,
            None,
            bytes_stored,
            None,
            fetch_downloaded,
            fetch_uploaded,
        )
    }

    /// Finish a record with a final outcome. For `complete`/`bad-status` the
    /// caller must have synced the body first.
    #[allow(clippy::too_many_arguments)]
    pub fn record_finish(
        &self,
        unique_id: &str,
        index: u32,
        outcome: RecordOutcome,
        bytes_stored: u64,
        error: Option<&str>,
        fetch_downloaded: u64,
        fetch_uploaded: u64,
    ) -> Result<()> {
        self.record_update(
            unique_id,
            index,
            Some(outcome),
            bytes_stored,
            error,
            fetch_downloaded,
            fetch_uploaded,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn record_update(
        &self,
        unique_id: &str,
        index: u32,
        outcome: Option<RecordOutcome>,
        bytes_stored: u64,
        error: Option<&str>,
        fetch_downloaded: u64,
        fetch_uploaded: u64,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        record_update_tx(
            &tx,
            unique_id,
            index,
            outcome,
            bytes_stored,
            error,
            fetch_downloaded,
            fetch_uploaded,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Finish many records in one transaction (group commit: one WAL fsync
    /// for a whole batch of small bodies). Each body must have been synced.
    pub fn record_finish_batch(&self, items: &[RecordFinish]) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        for it in items {
            if let Some(meta) = &it.response {
                set_response_tx(&tx, &it.unique_id, it.index, meta)?;
            }
            if let Some(off) = it.packed_offset {
                tx.execute(
                    "UPDATE bg_records SET body_path = ?3, body_offset = ?4
                     WHERE fetch_uid = ?1 AND idx = ?2 AND outcome = 'pending'",
                    params![
                        it.unique_id,
                        it.index as i64,
                        pack_body_rel(&it.unique_id),
                        off as i64
                    ],
                )?;
            }
            record_update_tx(
                &tx,
                &it.unique_id,
                it.index,
                Some(it.outcome),
                it.bytes_stored,
                it.error.as_deref(),
                it.fetch_downloaded,
                it.fetch_uploaded,
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn set_response_tx(tx: &Db, unique_id: &str, index: u32, meta: &ResponseMeta) -> Result<()> {
    tx.execute(
        "UPDATE bg_records SET status = ?3, status_text = ?4, resp_headers = ?5, resp_type = ?6,
            url_list = ?7, etag = ?8, last_modified = ?9, complete_length = ?10, body_path = ?11,
            body_offset = 0
         WHERE fetch_uid = ?1 AND idx = ?2",
        params![
            unique_id,
            index as i64,
            meta.status as i64,
            meta.status_text,
            serde_json::to_string(&meta.headers)?,
            meta.response_type,
            serde_json::to_string(&meta.url_list)?,
            meta.etag,
            meta.last_modified,
            meta.complete_length.map(|v| v as i64),
            response_body_rel(unique_id, index)
        ],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn record_update_tx(
    tx: &Db,
    unique_id: &str,
    index: u32,
    outcome: Option<RecordOutcome>,
    bytes_stored: u64,
    error: Option<&str>,
    fetch_downloaded: u64,
    fetch_uploaded: u64,
) -> Result<()> {
    let (origin, old) = record_bytes(tx, unique_id, index)?;
    let n = match outcome {
        Some(o) => tx.execute(
            "UPDATE bg_records SET bytes_stored = ?3, outcome = ?4, error_message = ?5
             WHERE fetch_uid = ?1 AND idx = ?2 AND outcome = 'pending'",
            params![unique_id, index as i64, bytes_stored as i64, o.as_str(), error],
        )?,
        None => tx.execute(
            "UPDATE bg_records SET bytes_stored = ?3 WHERE fetch_uid = ?1 AND idx = ?2 AND outcome = 'pending'",
            params![unique_id, index as i64, bytes_stored as i64],
        )?,
    };
    if n == 0 {
        // Already final (e.g. aborted by settle): a late writer changes nothing.
        return Ok(());
    }
    tx.execute(
        "UPDATE bg_fetches SET downloaded = ?2, uploaded = ?3, updated_ms = ?4
         WHERE unique_id = ?1 AND state = 'active'",
        params![
            unique_id,
            fetch_downloaded as i64,
            fetch_uploaded as i64,
            now_ms()
        ],
    )?;
    add_usage(tx, &origin, bytes_stored as i64 - old)?;
    Ok(())
}

fn record_bytes(tx: &Db, unique_id: &str, index: u32) -> Result<(String, i64)> {
    tx.query_row(
        "SELECT f.origin, r.bytes_stored FROM bg_records r JOIN bg_fetches f ON f.unique_id = r.fetch_uid
         WHERE r.fetch_uid = ?1 AND r.idx = ?2",
        params![unique_id, index as i64],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("record {unique_id}/{index}")))
}
