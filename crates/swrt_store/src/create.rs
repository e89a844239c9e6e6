//! Creating a background fetch: the checks and the insert in one SQLite
//! transaction, so that two concurrent `fetch()` calls can neither both take
//! the same id nor together pass the origin's limits.

use crate::error::{Result, StoreError};
use crate::fetch::{get_fetch_tx, request_body_rel};
use crate::model::{FetchRow, NewFetch, NewRequest};
use crate::sql::{params, Begin, OptionalExtension};
use crate::{add_usage, now_ms, BodyId, Store};

/// The limits a new fetch is checked against when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Active fetches an origin may have at once.
    pub max_active_per_origin: u64,
    /// Bytes an origin may store (Background Fetch and Cache API together).
    pub quota_per_origin: u64,
    /// The caller's own estimate of the origin's usage, which counts bytes
    /// written but not yet recorded in the store; the larger of it and the
    /// store's figure is checked against the quota.
    pub usage_estimate: u64,
}

impl FetchLimits {
    /// No limit at all (only the id is checked).
    pub const NONE: FetchLimits = FetchLimits {
        max_active_per_origin: u64::MAX,
        quota_per_origin: u64::MAX,
        usage_estimate: 0,
    };
}

/// Why [`Store::create_fetch`] refused a fetch. Nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum CreateFetchError {
    /// The registration already has an active fetch with this developer id.
    #[error("an active background fetch with id {id:?} already exists for {scope}")]
    IdExists {
        /// Service-worker registration scope.
        scope: String,
        /// Developer id.
        id: String,
    },
    /// The origin already has [`FetchLimits::max_active_per_origin`] active fetches.
    #[error("the origin already has {limit} active background fetches")]
    TooManyActive {
        /// The limit.
        limit: u64,
    },
    /// `downloadTotal` or the request bodies do not fit in the origin's free quota.
    #[error("{requested} bytes requested, {free} of the origin's {quota} bytes free")]
    QuotaExceeded {
        /// The larger of `downloadTotal` and the request bodies' size.
        requested: u64,
        /// Bytes the origin has left.
        free: u64,
        /// The origin's quota.
        quota: u64,
    },
    /// The store failed (a full disk shows as [`StoreError::is_storage_full`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::sql::SqlError> for CreateFetchError {
    fn from(e: crate::sql::SqlError) -> Self {
        CreateFetchError::Store(e.into())
    }
}

impl From<std::io::Error> for CreateFetchError {
    fn from(e: std::io::Error) -> Self {
        CreateFetchError::Store(e.into())
    }
}

impl From<serde_json::Error> for CreateFetchError {
    fn from(e: serde_json::Error) -> Self {
        CreateFetchError::Store(e.into())
    }
}

impl Store {
    /// Create an active fetch with its records (Chromium's
    /// `CreateMetadataTask`): in one transaction, refuse a developer id that
    /// is active in the registration, an origin at its active-fetch limit or
    /// a fetch that does not fit in the origin's free quota (checked in that
    /// order), then write and sync the request bodies and insert the rows.
    /// On any error nothing remains: no row, no body, no usage.
    pub fn create_fetch(
        &self,
        f: &NewFetch,
        requests: &[NewRequest],
        limits: &FetchLimits,
    ) -> Result<FetchRow, CreateFetchError> {
        let res = self.create_fetch_inner(f, requests, limits);
        if res.is_err() {
            if let Err(e) = self.bodies().delete_fetch(&f.unique_id) {
                tracing::warn!(fetch = %f.unique_id, error = %e, "cannot delete the bodies of a fetch not created");
            }
        }
        res
    }

    /// [`Store::create_fetch`] without limits; only the id is checked.
    pub fn insert_fetch(&self, f: &NewFetch, requests: &[NewRequest]) -> Result<FetchRow> {
        self.create_fetch(f, requests, &FetchLimits::NONE)
            .map_err(|e| match e {
                CreateFetchError::IdExists { scope, id } => {
                    StoreError::DuplicateActive { scope, id }
                }
                CreateFetchError::Store(e) => e,
                other => StoreError::Corrupt(format!("unexpected limit: {other}")),
            })
    }

    fn create_fetch_inner(
        &self,
        f: &NewFetch,
        requests: &[NewRequest],
        limits: &FetchLimits,
    ) -> Result<FetchRow, CreateFetchError> {
        let upload_total: u64 = requests
            .iter()
            .map(|r| r.body.as_ref().map_or(0, |b| b.len() as u64))
            .sum();
        let mut conn = self.conn()?;
        // Exclusive: the write lock is taken before the checks read.
        let tx = conn.transaction_with(Begin::Exclusive)?;
        let dup: Option<String> = tx
            .query_row(
                "SELECT unique_id FROM bg_fetches WHERE scope = ?1 AND id = ?2 AND state = 'active'",
                params![f.scope, f.id],
                |r| r.get(0),
            )
            .optional()?;
        if dup.is_some() {
            return Err(CreateFetchError::IdExists {
                scope: f.scope.clone(),
                id: f.id.clone(),
            });
        }
        let active: i64 = tx.query_row(
            "SELECT COUNT(*) FROM bg_fetches WHERE origin = ?1 AND state = 'active'",
            params![f.origin],
            |r| r.get(0),
        )?;
        if active.max(0) as u64 >= limits.max_active_per_origin {
            return Err(CreateFetchError::TooManyActive {
                limit: limits.max_active_per_origin,
            });
        }
        let stored: Option<i64> = tx
            .query_row(
                "SELECT bytes FROM origin_usage WHERE origin = ?1",
                params![f.origin],
                |r| r.get(0),
            )
            .optional()?;
        let usage = (stored.unwrap_or(0).max(0) as u64).max(limits.usage_estimate);
        let free = limits.quota_per_origin.saturating_sub(usage);
        if f.download_total > free || upload_total > free {
            return Err(CreateFetchError::QuotaExceeded {
                requested: f.download_total.max(upload_total),
                free,
                quota: limits.quota_per_origin,
            });
        }
        let mut req_paths = Vec::with_capacity(requests.len());
        for (i, r) in requests.iter().enumerate() {
            match &r.body {
                Some(b) => {
                    let body = BodyId::Request {
                        fetch: &f.unique_id,
                        index: i as u32,
                    };
                    self.bodies().put(body, b)?;
                    req_paths.push(Some(request_body_rel(&f.unique_id, i)));
                }
                None => req_paths.push(None),
            }
        }
        let now = now_ms();
        tx.execute(
            "INSERT INTO bg_fetches(unique_id, scope, id, origin, title, icons_json, ui_data,
                download_total, upload_total, state, created_ms, updated_ms, policy_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'active', ?10, ?10, ?11)",
            params![
                f.unique_id,
                f.scope,
                f.id,
                f.origin,
                f.title,
                serde_json::to_string(&f.icons)?,
                f.ui_data,
                f.download_total as i64,
                upload_total as i64,
                now,
                f.policy_json
            ],
        )?;
        for (i, (r, rel)) in requests.iter().zip(&req_paths).enumerate() {
            tx.execute(
                "INSERT INTO bg_records(fetch_uid, idx, method, url, req_headers, mode, credentials,
                    req_body_path, req_body_len, integrity)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    f.unique_id,
                    i as i64,
                    r.method,
                    r.url,
                    serde_json::to_string(&r.headers)?,
                    r.mode,
                    r.credentials,
                    rel,
                    r.body.as_ref().map_or(0, |b| b.len() as i64),
                    r.integrity
                ],
            )?;
        }
        add_usage(&tx, &f.origin, upload_total as i64)?;
        let row = get_fetch_tx(&tx, &f.unique_id)?
            .ok_or_else(|| StoreError::NotFound(f.unique_id.clone()))?;
        tx.commit()?;
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FailureReason, FetchResult};

    fn new_fetch(uid: &str, id: &str, download_total: u64) -> NewFetch {
        NewFetch {
            unique_id: uid.into(),
            scope: "https://a.test/".into(),
            id: id.into(),
            origin: "https://a.test".into(),
            title: String::new(),
            icons: vec![],
            download_total,
            ui_data: None,
            policy_json: "{}".into(),
        }
    }

    fn req(body: Option<&[u8]>) -> NewRequest {
        NewRequest {
            method: if body.is_some() { "POST" } else { "GET" }.into(),
            url: "https://a.test/1".into(),
            headers: vec![],
            mode: crate::RequestMode::Cors,
            credentials: crate::CredentialsMode::SameOrigin,
            body: body.map(<[u8]>::to_vec),
            integrity: String::new(),
        }
    }

    fn limits(max_active: u64, quota: u64, estimate: u64) -> FetchLimits {
        FetchLimits {
            max_active_per_origin: max_active,
            quota_per_origin: quota,
            usage_estimate: estimate,
        }
    }

    fn assert_nothing_of(s: &Store, uid: &str) {
        assert!(s.get_fetch(uid).unwrap().is_none());
        assert!(s.records(uid).unwrap().is_empty());
        assert!(!s.dir().join("bodies").join(uid).exists());
    }

    #[test]
    fn refuses_an_active_id_of_the_registration() {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::test_store::open(dir.path()).unwrap();
        let l = limits(10, 1000, 0);
        s.create_fetch(&new_fetch("u1", "same", 0), &[req(None)], &l)
            .unwrap();
        let err = s
            .create_fetch(&new_fetch("u2", "same", 0), &[req(Some(b"xyz"))], &l)
            .unwrap_err();
        assert!(matches!(err, CreateFetchError::IdExists { .. }), "{err}");
        assert_nothing_of(&s, "u2");
        assert_eq!(s.origin_usage("https://a.test").unwrap(), 0);
        s.settle_fetch("u1", FetchResult::Success, FailureReason::None, 0, 0)
            .unwrap();
        s.create_fetch(&new_fetch("u3", "same", 0), &[req(None)], &l)
            .unwrap();
    }

    #[test]
    fn refuses_past_the_active_fetch_limit() {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::test_store::open(dir.path()).unwrap();
        let l = limits(2, 1000, 0);
        s.create_fetch(&new_fetch("u1", "a", 0), &[req(None)], &l)
            .unwrap();
        s.create_fetch(&new_fetch("u2", "b", 0), &[req(None)], &l)
            .unwrap();
        let err = s
            .create_fetch(&new_fetch("u3", "c", 0), &[req(Some(b"x"))], &l)
            .unwrap_err();
        assert!(matches!(err, CreateFetchError::TooManyActive { limit: 2 }));
        assert_nothing_of(&s, "u3");
        // A settled fetch no longer counts.
        s.settle_fetch("u1", FetchResult::Success, FailureReason::None, 0, 0)
            .unwrap();
        s.create_fetch(&new_fetch("u3", "c", 0), &[req(None)], &l)
            .unwrap();
    }

    #[test]
    fn refuses_what_does_not_fit_in_the_free_quota() {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::test_store::open(dir.path()).unwrap();
        // 10 bytes of request body are stored: 90 of 100 are free.
        s.create_fetch(
            &new_fetch("u1", "a", 0),
            &[req(Some(&[0; 10]))],
            &limits(10, 100, 0),
        )
        .unwrap();
        let err = s
            .create_fetch(&new_fetch("u2", "b", 91), &[req(None)], &limits(10, 100, 0))
            .unwrap_err();
        assert!(matches!(
            err,
            CreateFetchError::QuotaExceeded {
                requested: 91,
                free: 90,
                quota: 100
            }
        ));
        let err = s
            .create_fetch(
                &new_fetch("u2", "b", 0),
                &[req(Some(&[0; 91]))],
                &limits(10, 100, 0),
            )
            .unwrap_err();
        assert!(matches!(
            err,
            CreateFetchError::QuotaExceeded { requested: 91, .. }
        ));
        assert_nothing_of(&s, "u2");
        // The caller's estimate counts when it is above the store's figure.
        let err = s
            .create_fetch(
                &new_fetch("u2", "b", 50),
                &[req(None)],
                &limits(10, 100, 60),
            )
            .unwrap_err();
        assert!(matches!(
            err,
            CreateFetchError::QuotaExceeded { free: 40, .. }
        ));
        let row = s
            .create_fetch(&new_fetch("u2", "b", 90), &[req(None)], &limits(10, 100, 5))
            .unwrap();
        assert_eq!(row.download_total, 90);
    }
}
