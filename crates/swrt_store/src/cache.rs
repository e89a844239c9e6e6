//! Cache API storage: per-origin cache names and their entries. The JS layer
//! applies the query algorithm (see [`crate::request_matches_cached_item`]);
//! this module stores rows and bodies transactionally.

use crate::error::{Result, StoreError};
use crate::sql::{params, Db, OptionalExtension, Row, SqlError, SqlResult};
use crate::{add_usage, now_ms, BodyId, CacheBodyKey, Store};

/// An entry to insert with [`Store::cache_put`].
#[derive(Debug, Clone, Default)]
pub struct NewCacheEntry {
    /// Request URL (fragment already removed by the caller).
    pub url: String,
    /// Request method.
    pub method: String,
    /// Request headers (kept for `Vary`).
    pub request_headers: Vec<(String, String)>,
    /// Response status.
    pub status: u16,
    /// Response status text.
    pub status_text: String,
    /// Response headers.
    pub response_headers: Vec<(String, String)>,
    /// Response type (`basic`, `cors`, `default`, `opaque`).
    pub response_type: String,
    /// Response URL list.
    pub url_list: Vec<String>,
    /// The body, from [`Store::new_cache_body`], already written and synced.
    pub body: Option<CacheBodyKey>,
    /// Body length in bytes.
    pub body_size: u64,
}

/// A stored entry.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    /// Row id; increasing = insertion order.
    pub entry_id: i64,
    /// The entry's fields.
    pub entry: NewCacheEntry,
}

fn url_no_query(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

fn pairs(s: &str) -> SqlResult<Vec<(String, String)>> {
    serde_json::from_str(s).map_err(|e| SqlError::Corrupt(Box::new(StoreError::Json(e))))
}

impl Store {
    /// Open (create if missing) cache `name` of `origin`; returns its id.
    pub fn cache_open(&self, origin: &str, name: &str) -> Result<i64> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO caches(origin, name, created_ms) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![origin, name, now_ms()],
        )?;
        Ok(conn.query_row(
            "SELECT cache_id FROM caches WHERE origin = ?1 AND name = ?2",
            params![origin, name],
            |r| r.get(0),
        )?)
    }

    /// The id of `origin`'s cache `name`, if there is one (nothing is created).
    pub fn cache_id(&self, origin: &str, name: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT cache_id FROM caches WHERE origin = ?1 AND name = ?2",
                params![origin, name],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Whether `origin` has a cache called `name`.
    pub fn cache_has(&self, origin: &str, name: &str) -> Result<bool> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT 1 FROM caches WHERE origin = ?1 AND name = ?2",
                params![origin, name],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Cache names of `origin` in creation order (`caches.keys()`).
    pub fn cache_keys(&self, origin: &str) -> Result<Vec<String>> {
        Ok(self.conn()?.query_map(
            "SELECT name FROM caches WHERE origin = ?1 ORDER BY cache_id",
            params![origin],
            |r| r.get(0),
        )?)
    }

    /// Delete cache `name` and its entries' bodies. Returns whether it existed.
    pub fn cache_delete(&self, origin: &str, name: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let id: Option<i64> = tx
            .query_row(
                "SELECT cache_id FROM caches WHERE origin = ?1 AND name = ?2",
                params![origin, name],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else { return Ok(false) };
        let (paths, bytes) = entry_bodies(&tx, "cache_id = ?1", id)?;
        tx.execute("DELETE FROM cache_entries WHERE cache_id = ?1", params![id])?;
        tx.execute("DELETE FROM caches WHERE cache_id = ?1", params![id])?;
        add_usage(&tx, origin, -bytes)?;
        tx.commit()?;
        drop(conn);
        self.remove_bodies(paths);
        Ok(true)
    }

    /// Insert `entry` into cache `cache_id`, deleting `replace` (the entries the
    /// caller's matching found to be overwritten) in the same transaction.
    pub fn cache_put(&self, cache_id: i64, entry: &NewCacheEntry, replace: &[i64]) -> Result<i64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let origin: String = tx.query_row(
            "SELECT origin FROM caches WHERE cache_id = ?1",
            params![cache_id],
            |r| r.get(0),
        )?;
        let mut old_paths = Vec::new();
        let mut freed = 0i64;
        for id in replace {
            let (p, b) = entry_bodies_pair(&tx, *id, cache_id)?;
            old_paths.extend(p);
            freed += b;
            tx.execute(
                "DELETE FROM cache_entries WHERE entry_id = ?1 AND cache_id = ?2",
                params![id, cache_id],
            )?;
        }
        let body = entry.body.as_ref().map(CacheBodyKey::as_str);
        let id: i64 = tx.query_row(
            "INSERT INTO cache_entries(cache_id, url, url_no_query, method, req_headers, status,
                status_text, resp_headers, resp_type, url_list, body_path, body_size)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             RETURNING entry_id",
            params![
                cache_id,
                entry.url,
                url_no_query(&entry.url),
                entry.method,
                serde_json::to_string(&entry.request_headers)?,
                entry.status as i64,
                entry.status_text,
                serde_json::to_string(&entry.response_headers)?,
                entry.response_type,
                serde_json::to_string(&entry.url_list)?,
                body,
                entry.body_size as i64
            ],
            |r| r.get(0),
        )?;
        add_usage(&tx, &origin, entry.body_size as i64 - freed)?;
        tx.commit()?;
        drop(conn);
        self.remove_bodies(old_paths);
        Ok(id)
    }

    /// Candidate entries for a query on `url`: same URL ignoring the query
    /// string, in insertion order. The caller applies
    /// [`crate::request_matches_cached_item`]. `None` returns every entry
    /// (`cache.keys()` / `matchAll()` without a request).
    pub fn cache_candidates(&self, cache_id: i64, url: Option<&str>) -> Result<Vec<CacheEntry>> {
        let conn = self.conn()?;
        let sql = "SELECT entry_id, url, method, req_headers, status, status_text, resp_headers,
                resp_type, url_list, body_path, body_size FROM cache_entries WHERE cache_id = ?1";
        let map = |r: &Row| -> SqlResult<CacheEntry> {
            Ok(CacheEntry {
                entry_id: r.get(0)?,
                entry: NewCacheEntry {
                    url: r.get(1)?,
                    method: r.get(2)?,
                    request_headers: pairs(&r.get::<String>(3)?)?,
                    status: r.get::<i64>(4)?.clamp(0, 999) as u16,
                    status_text: r.get(5)?,
                    response_headers: pairs(&r.get::<String>(6)?)?,
                    response_type: r.get(7)?,
                    url_list: serde_json::from_str(&r.get::<String>(8)?).unwrap_or_default(),
                    body: r
                        .get::<Option<String>>(9)?
                        .map(|p| {
                            CacheBodyKey::from_stored(p.clone())
                                .ok_or_else(|| crate::fetch::corrupt("cache body", &p))
                        })
                        .transpose()?,
                    body_size: r.get::<i64>(10)?.max(0) as u64,
                },
            })
        };
        let v = match url {
            Some(u) => conn.query_map(
                &format!("{sql} AND url_no_query = ?2 ORDER BY entry_id"),
                params![cache_id, url_no_query(u)],
                map,
            )?,
            None => conn.query_map(&format!("{sql} ORDER BY entry_id"), params![cache_id], map)?,
        };
        Ok(v)
    }

    /// Delete entries by id (in one transaction). Returns how many existed.
    pub fn cache_delete_entries(&self, cache_id: i64, ids: &[i64]) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let origin: Option<String> = tx
            .query_row(
                "SELECT origin FROM caches WHERE cache_id = ?1",
                params![cache_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(origin) = origin else { return Ok(0) };
        let mut paths = Vec::new();
        let mut freed = 0;
        let mut n = 0;
        for id in ids {
            let (p, b) = entry_bodies_pair(&tx, *id, cache_id)?;
            paths.extend(p);
            freed += b;
            n += tx.execute(
                "DELETE FROM cache_entries WHERE entry_id = ?1 AND cache_id = ?2",
                params![id, cache_id],
            )?;
        }
        add_usage(&tx, &origin, -freed)?;
        tx.commit()?;
        drop(conn);
        self.remove_bodies(paths);
        Ok(n)
    }

    /// Delete the Cache API bodies no entry claims: written, but the
    /// process ended (or the put was abandoned) before [`Store::cache_put`]
    /// committed them. Run at open, before any body is being written.
    /// Best effort: what cannot be listed or deleted waits for the next open.
    pub(crate) fn sweep_cache_bodies(&self) -> Result<()> {
        let claimed: std::collections::HashSet<String> = {
            let conn = self.conn()?;
            conn.query_map(
                "SELECT body_path FROM cache_entries WHERE body_path IS NOT NULL",
                params![],
                |r| r.get::<String>(0),
            )?
            .into_iter()
            .collect()
        };
        let stored = match self.bodies().cache_bodies() {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list cache bodies to sweep");
                return Ok(());
            }
        };
        let orphans: Vec<String> = stored
            .into_iter()
            .map(|k| k.as_str().to_string())
            .filter(|k| !claimed.contains(k))
            .collect();
        if !orphans.is_empty() {
            tracing::info!(
                count = orphans.len(),
                "deleting cache bodies no entry claims"
            );
            self.remove_bodies(orphans);
        }
        Ok(())
    }

    fn remove_bodies(&self, stored: Vec<String>) {
        for p in stored {
            let Some(key) = CacheBodyKey::from_stored(p) else {
                tracing::warn!("not deleting a cache body with a damaged name");
                continue;
            };
            if let Err(e) = self.bodies().delete(BodyId::Cache(&key)) {
                tracing::warn!(body = key.as_str(), error = %e, "could not delete cache body");
            }
        }
    }
}

fn entry_bodies(tx: &Db, cond: &str, id: i64) -> Result<(Vec<String>, i64)> {
    let rows = tx.query_map(
        &format!("SELECT body_path, body_size FROM cache_entries WHERE {cond}"),
        params![id],
        |r| Ok((r.get::<Option<String>>(0)?, r.get::<i64>(1)?)),
    )?;
    let mut paths = Vec::new();
    let mut bytes = 0;
    for (p, b) in rows {
        paths.extend(p);
        bytes += b;
    }
    Ok((paths, bytes))
}

fn entry_bodies_pair(tx: &Db, id: i64, cache_id: i64) -> Result<(Vec<String>, i64)> {
    let r: Option<(Option<String>, i64)> = tx
        .query_row(
            "SELECT body_path, body_size FROM cache_entries WHERE entry_id = ?1 AND cache_id = ?2",
            params![id, cache_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(r.map(|(p, b)| (p.into_iter().collect(), b))
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{request_matches_cached_item, MatchOptions, MatchRequest};

    #[test]
    fn cache_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::test_store::open(dir.path()).unwrap();
        let o = "https://a.test";
        assert!(!s.cache_has(o, "v1").unwrap());
        assert_eq!(s.cache_id(o, "v1").unwrap(), None);
        assert!(
            !s.cache_has(o, "v1").unwrap(),
            "looking up an id creates nothing"
        );
        let c = s.cache_open(o, "v1").unwrap();
        assert_eq!(s.cache_open(o, "v1").unwrap(), c);
        assert_eq!(s.cache_id(o, "v1").unwrap(), Some(c));
        s.cache_open(o, "v2").unwrap();
        assert_eq!(s.cache_keys(o).unwrap(), vec!["v1", "v2"]);

        let (key, mut w) = s.new_cache_body().unwrap();
        w.write_chunks(&[b"body!"]).unwrap();
        w.sync().unwrap();
        let p = dir.path().join(key.as_str());
        assert!(p.starts_with(dir.path().join("bodies/cache")));
        let e = NewCacheEntry {
            url: "https://a.test/x?q=1".into(),
            method: "GET".into(),
            status: 200,
            status_text: "OK".into(),
            response_type: "basic".into(),
            body: Some(key.clone()),
            body_size: 5,
            ..Default::default()
        };
        let id1 = s.cache_put(c, &e, &[]).unwrap();
        assert_eq!(s.origin_usage(o).unwrap(), 5);
        let cands = s.cache_candidates(c, Some("https://a.test/x")).unwrap();
        assert_eq!(cands.len(), 1);
        let q = MatchRequest {
            method: "GET",
            url: "https://a.test/x",
            headers: &[],
        };
        let ce = &cands[0].entry;
        let cached = MatchRequest {
            method: &ce.method,
            url: &ce.url,
            headers: &ce.request_headers,
        };
        assert!(!request_matches_cached_item(
            q,
            cached,
            Some(&ce.response_headers),
            MatchOptions::default()
        ));
        assert!(request_matches_cached_item(
            q,
            cached,
            Some(&ce.response_headers),
            MatchOptions {
                ignore_search: true,
                ..Default::default()
            }
        ));
        assert_eq!(cands[0].entry.body.as_ref(), Some(&key));

        // Replace atomically.
        let e2 = NewCacheEntry {
            body: None,
            body_size: 0,
            ..e.clone()
        };
        let id2 = s.cache_put(c, &e2, &[id1]).unwrap();
        assert!(id2 > id1);
        assert!(!p.exists());
        assert_eq!(s.origin_usage(o).unwrap(), 0);
        // A put into a missing cache fails without deleting anything.
        assert!(s.cache_put(9999, &e2, &[id2]).is_err());
        assert_eq!(s.cache_candidates(c, None).unwrap().len(), 1);
        assert_eq!(s.cache_delete_entries(c, &[id2]).unwrap(), 1);
        assert!(s.cache_delete(o, "v1").unwrap());
        assert!(!s.cache_delete(o, "v1").unwrap());
        assert_eq!(s.cache_keys(o).unwrap(), vec!["v2"]);
    }

    #[test]
    fn bodies_no_entry_claims_are_swept_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let (kept, abandoned) = {
            let s = crate::test_store::open(dir.path()).unwrap();
            let c = s.cache_open("https://a.test", "v1").unwrap();
            let (kept, mut w) = s.new_cache_body().unwrap();
            w.write_chunks(&[b"kept"]).unwrap();
            w.sync().unwrap();
            let e = NewCacheEntry {
                url: "https://a.test/x".into(),
                method: "GET".into(),
                status: 200,
                response_type: "basic".into(),
                body: Some(kept.clone()),
                body_size: 4,
                ..Default::default()
            };
            s.cache_put(c, &e, &[]).unwrap();
            // Written and synced, but the process ends before the put.
            let (abandoned, mut w) = s.new_cache_body().unwrap();
            w.write_chunks(&[b"abandoned"]).unwrap();
            w.sync().unwrap();
            (kept, abandoned)
        };
        assert!(dir.path().join(abandoned.as_str()).exists());
        let s = crate::test_store::open(dir.path()).unwrap();
        assert_eq!(s.bodies().cache_bodies().unwrap(), vec![kept.clone()]);
        assert!(!dir.path().join(abandoned.as_str()).exists());
        assert!(dir.path().join(kept.as_str()).exists());
    }
}
