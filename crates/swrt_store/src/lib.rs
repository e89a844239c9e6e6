//! Durable state for swrt: service-worker registrations, background fetches
//! and their records, per-origin usage, and Cache API entries.
//!
//! Layout of a data directory:
//!
//! ```text
//! dir/LOCK            exclusive lock held while a Store is open
//! dir/swrt.sqlite3    SQLite database (WAL, synchronous=FULL), unless
//!                     the metadata lives in PostgreSQL (see Metadata)
//! dir/bodies/         bodies, when they are files (see FileBodies)
//! ```
//!
//! Every state change is one database transaction. Bodies go through the
//! store's [`BodyStorage`] and are synced before the row that claims them
//! complete is committed, so a crash at any instant leaves either the old or
//! the new state, never a row pointing at bytes that are not stored.

#![warn(missing_docs)]

mod bodies;
mod cache;
mod create;
#[cfg(test)]
mod decode_properties;
mod error;
mod fetch;
mod indexeddb;
mod matching;
mod model;
mod records;
mod registrations;
mod schema;
mod sql;
mod sync;
#[cfg(test)]
mod test_store;

pub use bodies::{
    BodyId, BodyReader, BodyStorage, BodySync, BodyWrite, BodyWriter, CacheBodyKey, FileBodies,
    PackWrite, PackWriter, SyncPoint,
};
pub use cache::{CacheEntry, NewCacheEntry};
pub use create::{CreateFetchError, FetchLimits};
pub use error::{is_storage_full_io, Result, StoreError};
pub use indexeddb::{IdbChange, IdbDatabaseRow, IdbRecordRow};
pub use matching::{request_matches_cached_item, MatchOptions, MatchRequest};
pub use model::*;
pub use schema::SCHEMA_VERSION;
pub use sql::{postgres_tls_connector, SqlError};
pub use sync::{DueSync, SyncAfter, SyncOutcome, SyncState};

use sql::{params, Db, OptionalExtension};

/// The file holding the store's disk space reserve.
const SPACE_RESERVE_FILE: &str = "space.reserve";
/// Disk space set aside so that settling fetches and delivering their events
/// still works once the disk is full (a settle writes a few pages).
pub const SPACE_RESERVE_BYTES: u64 = 4 << 20;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Where a store keeps its metadata (registrations, fetches, records, Cache
/// API entries, IndexedDB): the bodies are the [`BodyStorage`]'s business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metadata {
    /// `swrt.sqlite3` in the data directory: the embedded default.
    Sqlite,
    /// A PostgreSQL database, by connection URL
    /// (`postgres://user:password@host:port/db`).
    Postgres {
        /// The connection URL.
        url: String,
        /// Several stores (a fleet of nodes) use the database at once.
        /// Otherwise the store holds a lock on it, and a second one is
        /// refused; shared, the store leaves alone what another store may
        /// be writing: its start-up does not sweep unclaimed Cache API
        /// bodies, and the fetches' repair is the engine's, per claimed
        /// fetch ([`Store::repair_fetch`]).
        shared: bool,
    },
}

/// An open data directory. Cheap to share behind an `Arc`; all methods take
/// `&self` and serialise on one database connection (SQLite serialises
/// writers anyway, and every call is a short transaction).
pub struct Store {
    /// `None` once [`Store::close`] ran.
    conn: Mutex<Option<Db>>,
    metadata: Metadata,
    dir: PathBuf,
    bodies: Box<dyn BodyStorage>,
    // Held until the Store is closed or dropped; dropping the file releases the lock.
    lock: Mutex<Option<File>>,
}

/// The open database connection, borrowed from the store's mutex.
pub(crate) struct ConnGuard<'a>(MutexGuard<'a, Option<Db>>);

impl std::ops::Deref for ConnGuard<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.0.as_ref().expect("checked open in Store::conn")
    }
}

impl std::ops::DerefMut for ConnGuard<'_> {
    fn deref_mut(&mut self) -> &mut Db {
        self.0.as_mut().expect("checked open in Store::conn")
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("metadata", &self.metadata.redacted())
            .field("bodies", &self.bodies)
            .finish()
    }
}

impl Store {
    /// Open (creating if needed) the data directory `dir`.
    ///
    /// Fails with [`StoreError::Locked`] if another process, or another open
    /// `Store` in this process, holds `dir/LOCK`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(dir.as_ref(), Metadata::Sqlite, None)
    }

    /// Open the data directory `dir` as [`Store::open`] does, with the
    /// bodies in `bodies` instead of files under `dir/bodies/`. The
    /// metadata stays in `dir`'s database.
    pub fn open_with_bodies(dir: impl AsRef<Path>, bodies: Box<dyn BodyStorage>) -> Result<Store> {
        Store::open_with(dir.as_ref(), Metadata::Sqlite, Some(bodies))
    }

    /// Open the data directory `dir` with the metadata where `metadata`
    /// says and the bodies in `bodies` (files under `dir/bodies/` when
    /// `None`). The directory still holds the lock and the disk space
    /// reserve.
    pub fn open_with(
        dir: &Path,
        metadata: Metadata,
        bodies: Option<Box<dyn BodyStorage>>,
    ) -> Result<Store> {
        let dir = dir.to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        // flock(2) semantics: the lock belongs to this open file description,
        // so a second open() in the same process conflicts too.
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked { path: lock_path })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        // Give the reserve back first: a disk that filled up while the last
        // process ran still has room to open and repair the store.
        let reserve = dir.join(SPACE_RESERVE_FILE);
        if let Err(e) = std::fs::remove_file(&reserve) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(e.into());
            }
        }
        let bodies = match bodies {
            Some(b) => b,
            None => Box::new(FileBodies::open(&dir)?),
        };
        let db = match &metadata {
            Metadata::Sqlite => schema::open_sqlite(&dir.join("swrt.sqlite3"), &*bodies)?,
            Metadata::Postgres { url, shared } => schema::open_postgres(url, *shared, &*bodies)?,
        };
        let store = Store {
            conn: Mutex::new(Some(db)),
            metadata,
            dir,
            bodies,
            lock: Mutex::new(Some(lock)),
        };
        store.recompute_usage()?;
        if !store.is_shared() {
            store.sweep_cache_bodies()?;
        }
        store.restore_space_reserve();
        Ok(store)
    }

    /// Sets aside [`SPACE_RESERVE_BYTES`] of disk in a file of the data dir,
    /// for [`Store::release_space_reserve`] to give back when the disk is
    /// full. Best effort: without room for it the store still works.
    fn restore_space_reserve(&self) {
        use std::io::Write;
        let path = self.dir.join(SPACE_RESERVE_FILE);
        let written = (|| {
            let mut file = File::create(&path)?;
            // Real blocks, not a sparse file: set_len would reserve nothing.
            let zeros = vec![0u8; 64 << 10];
            for _ in 0..SPACE_RESERVE_BYTES / zeros.len() as u64 {
                file.write_all(&zeros)?;
            }
            file.sync_all()
        })();
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot reserve disk space for the store");
            let _ = std::fs::remove_file(&path);
        }
    }

    /// Frees the disk space set aside at open, so that a store on a full
    /// disk can still record how things ended. True if there was a reserve.
    pub fn release_space_reserve(&self) -> bool {
        let released = std::fs::remove_file(self.dir.join(SPACE_RESERVE_FILE)).is_ok();
        if released {
            tracing::warn!(dir = %self.dir.display(), "disk full: released the store's space reserve");
        }
        released
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the bodies are: every body is written, read and deleted
    /// through it.
    pub fn bodies(&self) -> &dyn BodyStorage {
        &*self.bodies
    }

    /// Current schema version of the database.
    pub fn schema_version(&self) -> Result<i64> {
        schema::version(&*self.conn()?)
    }

    /// The schema version this build migrates the store's database to
    /// (SQLite and PostgreSQL count their migrations apart).
    pub fn latest_schema_version(&self) -> i64 {
        match self.metadata {
            Metadata::Sqlite => SCHEMA_VERSION,
            Metadata::Postgres { .. } => schema::latest_postgres(),
        }
    }

    /// True when other stores use the same database at once (see
    /// [`Metadata::Postgres`]).
    pub fn is_shared(&self) -> bool {
        matches!(self.metadata, Metadata::Postgres { shared: true, .. })
    }

    /// Where the metadata lives.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    pub(crate) fn conn(&self) -> Result<ConnGuard<'_>> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (transactions roll back on drop), so a poisoned mutex is usable.
        let g = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if g.is_none() {
            return Err(StoreError::Closed);
        }
        Ok(ConnGuard(g))
    }

    /// Close the database and release the data-directory lock, so another
    /// `Store` (in this or another process) can open `dir`. Waits for a call
    /// in progress on another thread; every later call fails with
    /// [`StoreError::Closed`]. Idempotent.
    pub fn close(&self) -> Result<()> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner()).take();
        let res = match conn {
            Some(c) => c.close().map_err(StoreError::from),
            None => Ok(()),
        };
        // The lock goes last: nobody may open the database while it is still open here.
        drop(self.lock.lock().unwrap_or_else(|p| p.into_inner()).take());
        res
    }

    /// True after [`Store::close`].
    pub fn is_closed(&self) -> bool {
        self.conn
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Open a new Cache API body: its key, for [`NewCacheEntry::body`]
    /// once written and synced, and its writer.
    pub fn new_cache_body(&self) -> std::io::Result<(CacheBodyKey, BodyWriter)> {
        let key = CacheBodyKey::unique();
        let writer = self.bodies.create(BodyId::Cache(&key))?;
        Ok((key, writer))
    }

    /// Recompute `origin_usage` from the rows that own bytes. Run at open so
    /// that a counter can never drift from the truth across crashes.
    pub fn recompute_usage(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM origin_usage", params![])?;
        tx.execute(
            "INSERT INTO origin_usage(origin, bytes)
             SELECT origin, CAST(SUM(b) AS BIGINT) FROM (
                SELECT f.origin AS origin, r.bytes_stored + r.req_body_len AS b
                  FROM bg_records r JOIN bg_fetches f ON f.unique_id = r.fetch_uid
                UNION ALL
                SELECT c.origin, e.body_size FROM cache_entries e JOIN caches c ON c.cache_id = e.cache_id
                UNION ALL
                SELECT d.origin, LENGTH(r.key) + LENGTH(r.value) + LENGTH(r.index_keys)
                  FROM idb_records r JOIN idb_databases d ON d.db_id = r.db_id
             ) AS owned GROUP BY origin",
            params![],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Bytes stored for `origin`: background-fetch bodies, Cache API bodies
    /// and IndexedDB records.
    pub fn origin_usage(&self, origin: &str) -> Result<u64> {
        let v: Option<i64> = self
            .conn()?
            .query_row(
                "SELECT bytes FROM origin_usage WHERE origin = ?1",
                params![origin],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.unwrap_or(0).max(0) as u64)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn add_usage(tx: &Db, origin: &str, delta: i64) -> Result<()> {
    if delta == 0 {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO origin_usage(origin, bytes) VALUES (?1, ?3)
         ON CONFLICT(origin) DO UPDATE SET bytes = CASE
            WHEN origin_usage.bytes + ?2 > 0 THEN origin_usage.bytes + ?2 ELSE 0 END",
        params![origin, delta, delta.max(0)],
    )?;
    Ok(())
}

impl Metadata {
    /// How logs and errors name it: a PostgreSQL URL without its password.
    pub fn redacted(&self) -> String {
        match self {
            Metadata::Sqlite => "sqlite".into(),
            Metadata::Postgres { url, .. } => match url::Url::parse(url) {
                Ok(mut u) if u.password().is_some() => {
                    let _ = u.set_password(Some("***"));
                    u.to_string()
                }
                _ if url.contains("password") => "postgres (key=value settings)".into(),
                _ => url.clone(),
            },
        }
    }
}

/// True for a non-empty relative path made of plain names only.
pub(crate) fn is_plain_relative(rel: &str) -> bool {
    !rel.is_empty()
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_truncated_database_with_bodies_left_is_refused() {
        for truncate in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let s = Store::open(dir.path()).unwrap();
            s.bodies()
                .put(
                    BodyId::Response {
                        fetch: "a-fetch",
                        index: 0,
                    },
                    b"bytes",
                )
                .unwrap();
            s.close().unwrap();
            drop(s);
            let db = dir.path().join("swrt.sqlite3");
            if truncate {
                std::fs::File::create(&db).unwrap();
            } else {
                std::fs::remove_file(&db).unwrap();
            }
            let _ = std::fs::remove_file(dir.path().join("swrt.sqlite3-wal"));
            let Err(err) = Store::open(dir.path()) else {
                panic!("a store without its database opened");
            };
            assert!(
                matches!(&err, StoreError::DatabaseLost(m) if m.contains("missing or empty")),
                "{err}"
            );
            // The bodies are still there for whoever restores the database.
            assert!(dir.path().join("bodies/a-fetch/0.body").exists());
        }
    }

    #[test]
    fn a_new_data_dir_opens() {
        let dir = tempfile::tempdir().unwrap();
        Store::open(dir.path()).unwrap().close().unwrap();
        Store::open(dir.path()).unwrap();
    }

    #[test]
    fn migrates_from_empty_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
            s.put_registration(&SwRegistration {
                scope: "https://a.test/".into(),
                script_url: "https://a.test/sw.js".into(),
                state: WorkerState::Activated,
                created_ms: 1,
                updated_ms: 2,
                worker_type: ScriptType::Module,
                script_source: Some("import './a.js';".into()),
                imported_scripts: vec![("https://a.test/a.js".into(), "export {};".into())],
                script_csp: vec!["connect-src 'self'".into()],
                update_via_cache: UpdateViaCache::None,
                navigation_preload_enabled: true,
                navigation_preload_header: "v2".into(),
                last_update_check_ms: Some(3),
                router_rules: r#"[{"condition":{"requestMode":"navigate"},"source":"network"}]"#
                    .into(),
            })
            .unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        let r = s.get_registration("https://a.test/").unwrap().unwrap();
        assert_eq!(r.script_url, "https://a.test/sw.js");
        assert_eq!(r.worker_type, "module");
        assert_eq!(r.script_source.as_deref(), Some("import './a.js';"));
        assert_eq!(r.imported_scripts[0].0, "https://a.test/a.js");
        assert_eq!(r.script_csp, ["connect-src 'self'"]);
        assert_eq!(r.update_via_cache, UpdateViaCache::None);
        assert!(r.navigation_preload_enabled);
        assert_eq!(r.navigation_preload_header, "v2");
        assert_eq!(r.last_update_check_ms, Some(3));
        assert!(r.router_rules.contains("navigate"));
        assert_eq!(s.list_registrations().unwrap().len(), 1);

        // The registration's own state changes without rewriting its worker.
        assert!(s
            .set_registration_update_check("https://a.test/", 40, UpdateViaCache::All)
            .unwrap());
        assert!(s
            .set_registration_navigation_preload("https://a.test/", false, "v3")
            .unwrap());
        let r = s.get_registration("https://a.test/").unwrap().unwrap();
        assert_eq!(
            (r.update_via_cache, r.last_update_check_ms),
            (UpdateViaCache::All, Some(40))
        );
        assert_eq!(
            (
                r.navigation_preload_enabled,
                r.navigation_preload_header.as_str()
            ),
            (false, "v3")
        );
        assert_eq!(r.script_source.as_deref(), Some("import './a.js';"));
        assert!(
            !s.set_registration_navigation_preload("https://b.test/", true, "x")
                .unwrap(),
            "no row for a registration that is not stored"
        );
    }

    #[test]
    fn second_open_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("in use"));
        drop(s);
        Store::open(dir.path()).unwrap();
    }

    #[test]
    fn a_second_store_on_one_postgres_database_is_refused() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let metadata = crate::test_store::metadata(a.path());
        if metadata == Metadata::Sqlite {
            return; // PostgreSQL only: SQLite's is the data dir's lock above.
        }
        let first = Store::open_with(a.path(), metadata.clone(), None).unwrap();
        assert_eq!(
            first.schema_version().unwrap(),
            first.latest_schema_version()
        );
        let err = Store::open_with(b.path(), metadata.clone(), None).unwrap_err();
        assert!(matches!(err, StoreError::DatabaseInUse(_)), "{err}");
        first.close().unwrap();
        Store::open_with(b.path(), metadata, None).unwrap();
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let c = rusqlite::Connection::open(dir.path().join("swrt.sqlite3")).unwrap();
        c.execute_batch("PRAGMA user_version = 999").unwrap();
        drop(c);
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { found: 999, .. }));
    }
}
