//! IndexedDB databases: one row per database (its version and schema as
//! JSON) and one row per record. A committed IndexedDB transaction is one
//! call here and so one SQLite transaction: after a crash the database is
//! as the last committed IndexedDB transaction left it.

use crate::sql::{params, Db, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::{add_usage, Store};

/// A stored database.
#[derive(Debug, Clone, PartialEq)]
pub struct IdbDatabaseRow {
    /// The database's name.
    pub name: String,
    /// Its version.
    pub version: u64,
    /// Its schema (object stores, indexes, key generators), as the
    /// IndexedDB backend wrote it.
    pub meta: String,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct IdbRecordRow {
    /// The object store the record belongs to.
    pub store_id: i64,
    /// The encoded primary key.
    pub key: Vec<u8>,
    /// The serialized value.
    pub value: Vec<u8>,
    /// The record's index keys, encoded by the backend.
    pub index_keys: Vec<u8>,
}

/// One change of a committed IndexedDB transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum IdbChange {
    /// Insert or replace a record.
    Put(IdbRecordRow),
    /// Remove the record with this key, if any.
    Delete {
        /// Its object store.
        store_id: i64,
        /// Its encoded key.
        key: Vec<u8>,
    },
    /// Remove every record of an object store (cleared or deleted).
    ClearStore {
        /// The object store.
        store_id: i64,
    },
}

fn record_size(row: &IdbRecordRow) -> i64 {
    (row.key.len() + row.value.len() + row.index_keys.len()) as i64
}

impl Store {
    /// The databases of `origin`, by name.
    pub fn idb_databases(&self, origin: &str) -> Result<Vec<IdbDatabaseRow>> {
        Ok(self.conn()?.query_map(
            "SELECT name, version, meta FROM idb_databases WHERE origin = ?1 ORDER BY name",
            params![origin],
            |r| {
                Ok(IdbDatabaseRow {
                    name: r.get(0)?,
                    version: r.get::<i64>(1)?.max(0) as u64,
                    meta: r.get(2)?,
                })
            },
        )?)
    }

    /// The database `name` of `origin` and all its records, if it exists.
    pub fn idb_load(
        &self,
        origin: &str,
        name: &str,
    ) -> Result<Option<(IdbDatabaseRow, Vec<IdbRecordRow>)>> {
        let conn = self.conn()?;
        let found: Option<(i64, i64, String)> = conn
            .query_row(
                "SELECT db_id, version, meta FROM idb_databases WHERE origin = ?1 AND name = ?2",
                params![origin, name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((db_id, version, meta)) = found else {
            return Ok(None);
        };
        let records = conn.query_map(
            "SELECT store_id, key, value, index_keys FROM idb_records WHERE db_id = ?1",
            params![db_id],
            |r| {
                Ok(IdbRecordRow {
                    store_id: r.get(0)?,
                    key: r.get(1)?,
                    value: r.get(2)?,
                    index_keys: r.get(3)?,
                })
            },
        )?;
        let row = IdbDatabaseRow {
            name: name.to_owned(),
            version: version.max(0) as u64,
            meta,
        };
        Ok(Some((row, records)))
    }

    /// Writes a committed transaction of database `db.name` of `origin` in
    /// one SQLite transaction: the database row (created if missing), then
    /// `changes` in order. Fails with [`StoreError::QuotaExceeded`], writing
    /// nothing, when the changes add bytes and the origin would then store
    /// more than `quota`.
    ///
    /// `synced`: the commit returns once it is synced to disk (SQLite's
    /// `synchronous=FULL`, the store's default). Without it the commit
    /// returns once the WAL is written to the OS (`synchronous=NORMAL`):
    /// it survives the process crashing, and a power loss can lose it, but
    /// only whole (IndexedDB's "relaxed" durability).
    pub fn idb_commit(
        &self,
        origin: &str,
        db: &IdbDatabaseRow,
        changes: &[IdbChange],
        quota: u64,
        synced: bool,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        // PostgreSQL's durability is the server's to set (synchronous_commit);
        // a relaxed commit there is an ordinary one.
        let relax = !synced && conn.sqlite().is_some();
        if !relax {
            return Self::idb_commit_in(&mut conn, origin, db, changes, quota);
        }
        if let Some(c) = conn.sqlite() {
            c.pragma_update(None, "synchronous", "NORMAL")?;
        }
        let result = Self::idb_commit_in(&mut conn, origin, db, changes, quota);
        // Every other write of the store stays synced.
        let restored = match conn.sqlite() {
            Some(c) => c.pragma_update(None, "synchronous", "FULL"),
            None => Ok(()),
        };
        result?;
        restored?;
        Ok(())
    }

    fn idb_commit_in(
        conn: &mut Db,
        origin: &str,
        db: &IdbDatabaseRow,
        changes: &[IdbChange],
        quota: u64,
    ) -> Result<()> {
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO idb_databases(origin, name, version, meta) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(origin, name) DO UPDATE SET version = ?3, meta = ?4",
            params![origin, db.name, db.version as i64, db.meta],
        )?;
        let db_id: i64 = tx.query_row(
            "SELECT db_id FROM idb_databases WHERE origin = ?1 AND name = ?2",
            params![origin, db.name],
            |r| r.get(0),
        )?;
        let mut delta: i64 = 0;
        for change in changes {
            match change {
                IdbChange::Put(row) => {
                    delta += record_size(row) - stored_size(&tx, db_id, row.store_id, &row.key)?;
                    tx.execute(
                        "INSERT INTO idb_records(db_id, store_id, key, value, index_keys)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT(db_id, store_id, key) DO UPDATE
                         SET value = excluded.value, index_keys = excluded.index_keys",
                        params![db_id, row.store_id, row.key, row.value, row.index_keys],
                    )?;
                }
                IdbChange::Delete { store_id, key } => {
                    delta -= stored_size(&tx, db_id, *store_id, key)?;
                    tx.execute(
                        "DELETE FROM idb_records WHERE db_id = ?1 AND store_id = ?2 AND key = ?3",
                        params![db_id, store_id, key],
                    )?;
                }
                IdbChange::ClearStore { store_id } => {
                    let bytes: i64 = tx.query_row(
                        "SELECT COALESCE(SUM(LENGTH(key) + LENGTH(value) + LENGTH(index_keys)), 0)
                           FROM idb_records WHERE db_id = ?1 AND store_id = ?2",
                        params![db_id, store_id],
                        |r| r.get(0),
                    )?;
                    delta -= bytes;
                    tx.execute(
                        "DELETE FROM idb_records WHERE db_id = ?1 AND store_id = ?2",
                        params![db_id, store_id],
                    )?;
                }
            }
        }
        if delta > 0 {
            let usage: i64 = tx
                .query_row(
                    "SELECT bytes FROM origin_usage WHERE origin = ?1",
                    params![origin],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(0);
            let usage = usage.max(0) as u64;
            if usage + delta as u64 > quota {
                return Err(StoreError::QuotaExceeded {
                    usage,
                    requested: delta as u64,
                    quota,
                });
            }
        }
        add_usage(&tx, origin, delta)?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes database `name` of `origin` and its records. True if it existed.
    pub fn idb_delete(&self, origin: &str, name: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let db_id: Option<i64> = tx
            .query_row(
                "SELECT db_id FROM idb_databases WHERE origin = ?1 AND name = ?2",
                params![origin, name],
                |r| r.get(0),
            )
            .optional()?;
        let Some(db_id) = db_id else {
            return Ok(false);
        };
        let bytes: i64 = tx.query_row(
            "SELECT COALESCE(SUM(LENGTH(key) + LENGTH(value) + LENGTH(index_keys)), 0)
               FROM idb_records WHERE db_id = ?1",
            params![db_id],
            |r| r.get(0),
        )?;
        tx.execute("DELETE FROM idb_records WHERE db_id = ?1", params![db_id])?;
        tx.execute("DELETE FROM idb_databases WHERE db_id = ?1", params![db_id])?;
        add_usage(&tx, origin, -bytes)?;
        tx.commit()?;
        Ok(true)
    }
}

fn stored_size(tx: &Db, db_id: i64, store_id: i64, key: &[u8]) -> Result<i64> {
    Ok(tx
        .query_row(
            "SELECT LENGTH(key) + LENGTH(value) + LENGTH(index_keys) FROM idb_records
              WHERE db_id = ?1 AND store_id = ?2 AND key = ?3",
            params![db_id, store_id, key],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(store_id: i64, key: &[u8], value: &[u8]) -> IdbRecordRow {
        IdbRecordRow {
            store_id,
            key: key.to_vec(),
            value: value.to_vec(),
            index_keys: vec![],
        }
    }

    fn db(version: u64) -> IdbDatabaseRow {
        IdbDatabaseRow {
            name: "db".into(),
            version,
            meta: "{}".into(),
        }
    }

    #[test]
    fn committed_records_survive_reopen_and_count_in_usage() {
        let dir = tempfile::tempdir().unwrap();
        let o = "https://a.test";
        {
            let s = crate::test_store::open(dir.path()).unwrap();
            s.idb_commit(
                o,
                &db(1),
                &[
                    IdbChange::Put(row(1, b"k1", b"v1")),
                    IdbChange::Put(row(1, b"k2", b"vv2")),
                ],
                u64::MAX,
                true,
            )
            .unwrap();
            assert_eq!(s.origin_usage(o).unwrap(), 4 + 5);
            s.idb_commit(
                o,
                &db(1),
                &[
                    IdbChange::Delete {
                        store_id: 1,
                        key: b"k1".to_vec(),
                    },
                    IdbChange::Put(row(1, b"k2", b"v")),
                ],
                u64::MAX,
                // Relaxed durability: not synced, but written.
                false,
            )
            .unwrap();
            assert_eq!(s.origin_usage(o).unwrap(), 3);
            let conn = s.conn().unwrap();
            if let Some(c) = conn.sqlite() {
                let synchronous: i64 = c
                    .pragma_query_value(None, "synchronous", |r| r.get(0))
                    .unwrap();
                assert_eq!(synchronous, 2, "other writes stay synchronous=FULL");
            }
            drop(conn);
        }
        let s = crate::test_store::open(dir.path()).unwrap();
        assert_eq!(s.origin_usage(o).unwrap(), 3, "recomputed at open");
        let (found, records) = s.idb_load(o, "db").unwrap().unwrap();
        assert_eq!(found, db(1));
        assert_eq!(records, vec![row(1, b"k2", b"v")]);
        assert_eq!(s.idb_databases(o).unwrap(), vec![db(1)]);
        assert!(s.idb_load("https://b.test", "db").unwrap().is_none());
        assert!(s.idb_delete(o, "db").unwrap());
        assert!(s.idb_load(o, "db").unwrap().is_none());
        assert_eq!(s.origin_usage(o).unwrap(), 0);
    }

    #[test]
    fn a_commit_over_quota_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::test_store::open(dir.path()).unwrap();
        let o = "https://a.test";
        s.idb_commit(
            o,
            &db(1),
            &[IdbChange::Put(row(1, b"a", b"1234"))],
            10,
            true,
        )
        .unwrap();
        let err = s
            .idb_commit(
                o,
                &db(2),
                &[
                    IdbChange::ClearStore { store_id: 1 },
                    IdbChange::Put(row(1, b"b", b"12345678901")),
                ],
                10,
                false,
            )
            .unwrap_err();
        assert!(
            matches!(err, StoreError::QuotaExceeded { quota: 10, .. }),
            "{err}"
        );
        let (found, records) = s.idb_load(o, "db").unwrap().unwrap();
        assert_eq!(found.version, 1);
        assert_eq!(records, vec![row(1, b"a", b"1234")]);
        assert_eq!(s.origin_usage(o).unwrap(), 5);
    }
}
