//! The databases of every origin in the process, shared by all its realms
//! (each on its own thread), and the transaction scheduler.
//!
//! An open database lives in memory (loaded from the store on first open):
//! B-trees of encoded keys for records and index entries. A transaction
//! changes them in place, keeping an undo log for abort; on commit, its
//! changes are written to the store in one SQLite transaction before the
//! commit is reported, so "complete" means on disk. The scheduler keeps
//! transactions whose changes could be seen half-done from running at the
//! same time: a readwrite transaction waits for every earlier unfinished
//! transaction whose scope overlaps its own, a readonly one for earlier
//! overlapping readwrite ones, and a versionchange transaction runs alone.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde::{Deserialize, Serialize};
use swrt_store::{IdbChange, IdbDatabaseRow, IdbRecordRow, Store, StoreError};
use tokio::sync::{mpsc, Notify, OwnedMutexGuard};

use crate::key;

// Requests inside a running transaction (`requests`) use the key ranges
// and cursor steps of `ranges`; a commit and a first open go through
// `persist`.
mod persist;
mod ranges;
mod requests;
#[cfg(test)]
mod tests;

use persist::*;
use ranges::*;

/// Failures with the `DOMException` name the spec gives them.
#[derive(Debug, Clone, thiserror::Error, deno_error::JsError)]
pub enum IdbError {
    /// A uniqueness constraint or key generator limit.
    #[class("DOMExceptionConstraintError")]
    #[error("{0}")]
    Constraint(String),
    /// A key or range that is not valid here.
    #[class("DOMExceptionDataError")]
    #[error("{0}")]
    Data(String),
    /// An object store or index that does not exist.
    #[class("DOMExceptionNotFoundError")]
    #[error("{0}")]
    NotFound(String),
    /// An operation at the wrong moment (a finished transaction, say).
    #[class("DOMExceptionInvalidStateError")]
    #[error("{0}")]
    InvalidState(String),
    /// A version lower than the database's.
    #[class("DOMExceptionVersionError")]
    #[error("{0}")]
    Version(String),
    /// The transaction was aborted.
    #[class("DOMExceptionAbortError")]
    #[error("{0}")]
    Abort(String),
    /// The origin's quota would be exceeded.
    #[class("DOMExceptionQuotaExceededError")]
    #[error("{0}")]
    QuotaExceeded(String),
    /// The store failed (disk, database).
    #[class("DOMExceptionUnknownError")]
    #[error("{0}")]
    Unknown(String),
    /// A value that cannot be stored (a Blob whose bytes are gone).
    #[class("DOMExceptionDataCloneError")]
    #[error("{0}")]
    DataClone(String),
    /// The realm has no usable origin.
    #[class("DOMExceptionSecurityError")]
    #[error("{0}")]
    Security(String),
}

impl From<StoreError> for IdbError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::QuotaExceeded { .. } => IdbError::QuotaExceeded(e.to_string()),
            e if e.is_storage_full() => IdbError::QuotaExceeded(format!("the disk is full: {e}")),
            e => IdbError::Unknown(e.to_string()),
        }
    }
}

type Result<T> = std::result::Result<T, IdbError>;

/// A transaction's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Reads only.
    Readonly,
    /// Reads and writes records.
    Readwrite,
    /// The upgrade transaction: changes the schema too.
    Versionchange,
}

/// An index as script sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexMeta {
    /// Stable id (names can change).
    pub id: u64,
    /// The index's name.
    pub name: String,
    /// A string, an array of strings (compound), as script gave it.
    pub key_path: serde_json::Value,
    /// At most one record per index key.
    pub unique: bool,
    /// An array key path value makes one entry per member.
    pub multi_entry: bool,
}

/// An object store as script sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreMeta {
    /// Stable id (names can change).
    pub id: u64,
    /// The object store's name.
    pub name: String,
    /// null (out-of-line keys), a string or an array of strings.
    pub key_path: serde_json::Value,
    /// Has a key generator.
    pub auto_increment: bool,
    /// The key generator's current number (the next key it gives).
    pub generator: f64,
    /// Its indexes.
    pub indexes: Vec<IndexMeta>,
}

/// A database's schema: what the store keeps as `meta` and script reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DbMeta {
    /// The database's version (0: it does not exist).
    pub version: u64,
    /// The next id for an object store or index.
    pub next_id: u64,
    /// Its object stores.
    pub stores: Vec<StoreMeta>,
}

/// A key range over encoded keys.
#[derive(Debug, Clone, Default)]
pub struct KeyRange {
    /// Lower bound, if any.
    pub lower: Option<Vec<u8>>,
    /// Upper bound, if any.
    pub upper: Option<Vec<u8>>,
    /// The lower bound itself is outside.
    pub lower_open: bool,
    /// The upper bound itself is outside.
    pub upper_open: bool,
}

/// A cursor's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Increasing keys, every record.
    Next,
    /// Increasing keys, the first record of each key.
    NextUnique,
    /// Decreasing keys, every record.
    Prev,
    /// Decreasing keys, the first record of each key.
    PrevUnique,
}

impl Direction {
    fn forward(self) -> bool {
        matches!(self, Direction::Next | Direction::NextUnique)
    }
    fn unique(self) -> bool {
        matches!(self, Direction::NextUnique | Direction::PrevUnique)
    }
}

/// Where a cursor step starts from and what it looks for.
#[derive(Debug, Clone, Default)]
pub struct CursorStep {
    /// The cursor's current key and primary key (none for the first step).
    pub position: Option<(Vec<u8>, Vec<u8>)>,
    /// `continue(key)`: the found key must be at or beyond it.
    pub target_key: Option<Vec<u8>>,
    /// `continuePrimaryKey(key, primaryKey)`: with `target_key`.
    pub target_primary_key: Option<Vec<u8>>,
    /// `advance(count)`: steps to take (1 otherwise).
    pub count: u32,
}

/// A record found by a read: its (index or primary) key, primary key and value.
#[derive(Debug, Clone)]
pub struct Found {
    /// The key the source is ordered by.
    pub key: Vec<u8>,
    /// The record's primary key.
    pub primary_key: Vec<u8>,
    /// The serialized value.
    pub value: Arc<[u8]>,
}

/// A `versionchange` event for a connection: its old and new version
/// (None when the database is being deleted).
#[derive(Debug, Clone, Copy)]
pub struct VersionChange {
    /// The database's current version.
    pub old_version: u64,
    /// The version asked for; None for a delete.
    pub new_version: Option<u64>,
    /// The host closed the connection (its origin's data is being
    /// cleared): its transactions were aborted and the realm fires `close`
    /// instead of `versionchange`.
    pub forced_close: bool,
}

#[derive(Clone)]
struct Record {
    value: Arc<[u8]>,
    index_keys: Arc<[(u64, Vec<Vec<u8>>)]>,
}

#[derive(Clone)]
struct Index {
    meta: IndexMeta,
    /// (index key, primary key).
    entries: BTreeSet<(Vec<u8>, Vec<u8>)>,
}

#[derive(Clone)]
struct ObjectStore {
    meta: StoreMeta,
    records: BTreeMap<Vec<u8>, Record>,
    indexes: BTreeMap<u64, Index>,
}

impl ObjectStore {
    fn index(&self, id: u64) -> Result<&Index> {
        self.indexes
            .get(&id)
            .ok_or_else(|| IdbError::NotFound("No such index.".into()))
    }

    fn index_mut(&mut self, id: u64) -> Result<&mut Index> {
        self.indexes
            .get_mut(&id)
            .ok_or_else(|| IdbError::NotFound("No such index.".into()))
    }
}

#[derive(Clone, Default)]
struct DbData {
    version: u64,
    next_id: u64,
    stores: BTreeMap<u64, ObjectStore>,
}

impl DbData {
    fn store(&self, id: u64) -> Result<&ObjectStore> {
        self.stores
            .get(&id)
            .ok_or_else(|| IdbError::NotFound("No such object store.".into()))
    }

    fn store_mut(&mut self, id: u64) -> Result<&mut ObjectStore> {
        self.stores
            .get_mut(&id)
            .ok_or_else(|| IdbError::NotFound("No such object store.".into()))
    }

    fn meta(&self) -> DbMeta {
        DbMeta {
            version: self.version,
            next_id: self.next_id,
            stores: self
                .stores
                .values()
                .map(|s| {
                    let mut meta = s.meta.clone();
                    meta.indexes = s.indexes.values().map(|i| i.meta.clone()).collect();
                    meta
                })
                .collect(),
        }
    }
}

enum Undo {
    Record {
        store: u64,
        key: Vec<u8>,
        old: Option<Record>,
    },
    Generator {
        store: u64,
        old: f64,
    },
    Clear {
        store: u64,
        records: BTreeMap<Vec<u8>, Record>,
        entries: Vec<(u64, BTreeSet<Entry>)>,
    },
}

struct Txn {
    conn: u64,
    mode: Mode,
    /// None: every object store (versionchange).
    scope: Option<BTreeSet<u64>>,
    started: bool,
    undo: Vec<Undo>,
    dirty: BTreeSet<(u64, Vec<u8>)>,
    cleared: BTreeSet<u64>,
    /// The database before a versionchange transaction.
    snapshot: Option<DbData>,
    /// Holds the database's open queue until the upgrade ends.
    open_guard: Option<OwnedMutexGuard<()>>,
    durability: Durability,
}

/// How a committed transaction reaches the disk (`IDBTransaction.durability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// "strict" and "default": `complete` fires once the commit is synced
    /// to disk (it survives a power loss).
    Strict,
    /// "relaxed": `complete` fires once the commit is written to the OS,
    /// without waiting for the disk: it survives the process crashing but
    /// may be lost, whole, in a power loss or an OS crash.
    Relaxed,
}

impl Txn {
    fn overlaps(&self, other: &Txn) -> bool {
        match (&self.scope, &other.scope) {
            (Some(a), Some(b)) => a.intersection(b).next().is_some(),
            _ => true,
        }
    }
}

struct Conn {
    close_pending: bool,
    events: mpsc::UnboundedSender<VersionChange>,
    unacked: u32,
}

#[derive(Default)]
struct DbState {
    loaded: bool,
    data: DbData,
    conns: BTreeMap<u64, Conn>,
    /// Unfinished transactions by id, which is creation order.
    txns: BTreeMap<u64, Txn>,
    /// Transactions aborted by a forced close: their realm's next request
    /// fails with AbortError, as the abort's own error says.
    forced_aborts: BTreeSet<u64>,
}

/// The error for a request of a transaction that is gone.
fn finished_error(state: &DbState, txn: u64) -> IdbError {
    if state.forced_aborts.contains(&txn) {
        IdbError::Abort("The database connection was closed.".into())
    } else {
        IdbError::InvalidState("The transaction has finished.".into())
    }
}

/// One database of one origin.
pub struct Database {
    origin: String,
    name: String,
    state: Mutex<DbState>,
    changed: Notify,
    open_queue: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("origin", &self.origin)
            .field("name", &self.name)
            .finish()
    }
}

/// What `open` found.
#[derive(Debug)]
pub enum OpenStep {
    /// The connection is open at the database's version.
    Opened {
        /// The new connection.
        conn: u64,
        /// The database's schema.
        meta: DbMeta,
    },
    /// The version must change: the other connections were sent
    /// `versionchange`; `blocked` when some are still open after it.
    Upgrade {
        /// The new connection (its upgrade starts with [`Backend::upgrade`]).
        conn: u64,
        /// The database's version before.
        old_version: u64,
        /// Other connections are still open.
        blocked: bool,
    },
}

/// An open or delete request holding its database's open queue, with the
/// version an open asks for.
type PendingRequest = (Arc<Database>, OwnedMutexGuard<()>, Option<u64>);

/// The databases of every origin in the process.
pub struct Backend {
    store: OnceLock<Arc<Store>>,
    quota: AtomicU64,
    databases: Mutex<HashMap<(String, String), Arc<Database>>>,
    /// Open and delete requests waiting for an upgrade or for other
    /// connections to close, with the database's open queue they hold.
    pending: Mutex<HashMap<u64, PendingRequest>>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").finish_non_exhaustive()
    }
}

fn lock(db: &Database) -> MutexGuard<'_, DbState> {
    // Every change is applied whole under the lock: a panic cannot leave
    // half a change behind, so a poisoned lock is usable.
    db.state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Waits until `ready` holds for the database's state.
async fn wait_until(db: &Database, mut ready: impl FnMut(&mut DbState) -> bool) {
    loop {
        let notified = db.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if ready(&mut lock(db)) {
            return;
        }
        notified.await;
    }
}

impl Backend {
    /// A backend without durable storage (until [`Backend::attach_store`]),
    /// with `quota` bytes per origin.
    pub fn new(quota: u64) -> Arc<Backend> {
        Arc::new(Backend {
            store: OnceLock::new(),
            quota: AtomicU64::new(quota),
            databases: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        })
    }

    /// Keeps databases in `store` from now on. Call before any realm opens one.
    pub fn attach_store(&self, store: Arc<Store>) {
        let _ = self.store.set(store);
    }

    /// The per-origin quota in bytes.
    pub fn quota(&self) -> u64 {
        self.quota.load(AtomicOrdering::Relaxed)
    }

    /// Bytes `origin` stores (IndexedDB, Cache API and Background Fetch
    /// bodies), from the store; 0 without one.
    pub async fn usage(&self, origin: &str) -> Result<u64> {
        let Some(store) = self.store.get().cloned() else {
            return Ok(0);
        };
        let origin = origin.to_owned();
        blocking(move || store.origin_usage(&origin)).await
    }

    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, AtomicOrdering::Relaxed)
    }

    /// The database `name` of `origin` (not loaded yet if new here).
    pub fn database(&self, origin: &str, name: &str) -> Arc<Database> {
        self.databases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((origin.to_owned(), name.to_owned()))
            .or_insert_with(|| {
                Arc::new(Database {
                    origin: origin.to_owned(),
                    name: name.to_owned(),
                    state: Mutex::new(DbState::default()),
                    changed: Notify::new(),
                    open_queue: Arc::new(tokio::sync::Mutex::new(())),
                })
            })
            .clone()
    }

    async fn load(&self, db: &Arc<Database>) -> Result<()> {
        if lock(db).loaded {
            return Ok(());
        }
        let data = match self.store.get().cloned() {
            None => DbData::default(),
            Some(store) => {
                let (origin, name) = (db.origin.clone(), db.name.clone());
                match blocking(move || store.idb_load(&origin, &name)).await? {
                    None => DbData::default(),
                    Some((row, records)) => decode_database(&row, records)?,
                }
            }
        };
        let mut state = lock(db);
        if !state.loaded {
            state.data = data;
            state.loaded = true;
        }
        Ok(())
    }

    /// The names and versions of `origin`'s databases.
    pub async fn databases(&self, origin: &str) -> Result<Vec<(String, u64)>> {
        let mut found: BTreeMap<String, u64> = BTreeMap::new();
        if let Some(store) = self.store.get().cloned() {
            let o = origin.to_owned();
            for row in blocking(move || store.idb_databases(&o)).await? {
                found.insert(row.name, row.version);
            }
        }
        let loaded: Vec<Arc<Database>> = self
            .databases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|d| d.origin == origin)
            .cloned()
            .collect();
        for db in loaded {
            let state = lock(&db);
            if state.loaded {
                // Memory is the truth for a loaded database (an upgrade in
                // progress has not reached the store).
                if state.data.version > 0 {
                    found.insert(db.name.clone(), state.data.version);
                } else {
                    found.remove(&db.name);
                }
            }
        }
        Ok(found.into_iter().collect())
    }

    /// The spec's "open a database connection", up to the upgrade.
    pub async fn open(
        &self,
        origin: &str,
        name: &str,
        version: Option<u64>,
        events: mpsc::UnboundedSender<VersionChange>,
    ) -> Result<(Arc<Database>, OpenStep)> {
        let db = self.database(origin, name);
        let guard = db.open_queue.clone().lock_owned().await;
        self.load(&db).await?;
        let conn = self.id();
        let (current, requested, others) = {
            let mut state = lock(&db);
            let current = state.data.version;
            let requested = version.unwrap_or(current.max(1));
            if requested < current {
                return Err(IdbError::Version(format!(
                    "The requested version ({requested}) is less than the existing version ({current})."
                )));
            }
            state.conns.insert(
                conn,
                Conn {
                    close_pending: false,
                    events,
                    unacked: 0,
                },
            );
            if requested == current {
                let meta = state.data.meta();
                return Ok((db.clone(), OpenStep::Opened { conn, meta }));
            }
            let others = Self::send_versionchange(&mut state, conn, current, Some(requested));
            (current, requested, others)
        };
        let blocked = self.await_acks(&db, &others).await;
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(conn, (db.clone(), guard, Some(requested)));
        Ok((
            db,
            OpenStep::Upgrade {
                conn,
                old_version: current,
                blocked,
            },
        ))
    }

    fn send_versionchange(
        state: &mut DbState,
        except: u64,
        old_version: u64,
        new_version: Option<u64>,
    ) -> Vec<u64> {
        let mut sent = Vec::new();
        for (&id, conn) in state.conns.iter_mut() {
            if id == except || conn.close_pending {
                continue;
            }
            let event = VersionChange {
                old_version,
                new_version,
                forced_close: false,
            };
            if conn.events.send(event).is_ok() {
                conn.unacked += 1;
                sent.push(id);
            } else {
                // Its realm is gone.
                conn.close_pending = true;
            }
        }
        sent
    }

    /// Waits until each of `others` has handled its `versionchange` or
    /// closed; true when some are still open.
    async fn await_acks(&self, db: &Arc<Database>, others: &[u64]) -> bool {
        let mut blocked = false;
        wait_until(db, |state| {
            Self::reap_closed(state);
            let waiting = others.iter().any(|id| {
                state
                    .conns
                    .get(id)
                    .is_some_and(|c| c.unacked > 0 && !c.close_pending)
            });
            blocked = others
                .iter()
                .any(|id| state.conns.get(id).is_some_and(|c| !c.close_pending));
            !waiting
        })
        .await;
        blocked
    }

    /// Removes connections that asked to close and have no transaction left.
    fn reap_closed(state: &mut DbState) {
        let busy: BTreeSet<u64> = state.txns.values().map(|t| t.conn).collect();
        state
            .conns
            .retain(|id, c| !c.close_pending || busy.contains(id));
    }

    /// A connection's realm dispatched its `versionchange` event.
    pub fn versionchange_handled(&self, db: &Database, conn: u64) {
        if let Some(c) = lock(db).conns.get_mut(&conn) {
            c.unacked = c.unacked.saturating_sub(1);
        }
        db.changed.notify_waiters();
    }

    /// Waits for the other connections to close, then starts the upgrade
    /// transaction of `conn`; returns its id and the schema.
    pub async fn upgrade(&self, conn: u64) -> Result<(u64, DbMeta)> {
        let (db, guard, version) = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&conn)
            .ok_or_else(|| IdbError::InvalidState("no upgrade is pending".into()))?;
        let version = version.unwrap_or(1);
        wait_until(&db, |state| {
            Self::reap_closed(state);
            !state.conns.contains_key(&conn) || state.conns.keys().all(|&id| id == conn)
        })
        .await;
        let txn = self.id();
        let mut state = lock(&db);
        if !state.conns.contains_key(&conn) {
            return Err(IdbError::Abort(
                "The connection was closed before the upgrade".into(),
            ));
        }
        let snapshot = state.data.clone();
        state.data.version = version;
        state.txns.insert(
            txn,
            Txn {
                conn,
                mode: Mode::Versionchange,
                scope: None,
                started: true,
                undo: Vec::new(),
                dirty: BTreeSet::new(),
                cleared: BTreeSet::new(),
                snapshot: Some(snapshot),
                open_guard: Some(guard),
                durability: Durability::Strict,
            },
        );
        Ok((txn, state.data.meta()))
    }

    /// The spec's "delete a database", up to waiting for connections:
    /// returns a request id for [`Backend::finish_delete`] and whether
    /// connections are still open after their `versionchange`.
    pub async fn delete_database(&self, origin: &str, name: &str) -> Result<(u64, bool)> {
        let db = self.database(origin, name);
        let guard = db.open_queue.clone().lock_owned().await;
        self.load(&db).await?;
        let request = self.id();
        let others = {
            let mut state = lock(&db);
            let version = state.data.version;
            Self::send_versionchange(&mut state, 0, version, None)
        };
        let blocked = self.await_acks(&db, &others).await;
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(request, (db, guard, None));
        Ok((request, blocked))
    }

    /// Waits for every connection to close, deletes the database and
    /// returns its old version.
    pub async fn finish_delete(&self, request: u64) -> Result<u64> {
        let (db, _guard, _) = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&request)
            .ok_or_else(|| IdbError::InvalidState("no delete is pending".into()))?;
        wait_until(&db, |state| {
            Self::reap_closed(state);
            state.conns.is_empty()
        })
        .await;
        let old = lock(&db).data.version;
        if let Some(store) = self.store.get().cloned() {
            let (origin, name) = (db.origin.clone(), db.name.clone());
            blocking(move || store.idb_delete(&origin, &name)).await?;
        }
        lock(&db).data = DbData::default();
        Ok(old)
    }

    /// Clears `origin`'s IndexedDB data, as clearing a site's storage does:
    /// every open connection to its databases is closed by force (its
    /// transactions are aborted and its realm gets a `close` event), opens
    /// and deletes waiting on them fail, and every database is deleted.
    /// Returns how many databases there were.
    pub async fn clear_origin(&self, origin: &str) -> Result<usize> {
        let mut names: BTreeSet<String> = BTreeSet::new();
        if let Some(store) = self.store.get().cloned() {
            let o = origin.to_owned();
            names.extend(
                blocking(move || store.idb_databases(&o))
                    .await?
                    .into_iter()
                    .map(|row| row.name),
            );
        }
        names.extend(
            self.databases
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .keys()
                .filter(|(o, _)| o == origin)
                .map(|(_, name)| name.clone()),
        );
        let mut cleared = 0;
        for name in names {
            let db = self.database(origin, &name);
            // Opens and deletes waiting for an upgrade or for connections to
            // close hold the database's queue: they fail, and free it.
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, (pending, _, _)| !Arc::ptr_eq(pending, &db));
            self.force_close(&db);
            let _guard = db.open_queue.clone().lock_owned().await;
            // An upgrade that held the queue may have opened a connection.
            self.force_close(&db);
            let existed = {
                let state = lock(&db);
                state.loaded && state.data.version > 0
            };
            let stored = match self.store.get().cloned() {
                Some(store) => {
                    let (o, n) = (origin.to_owned(), name.clone());
                    blocking(move || store.idb_delete(&o, &n)).await?
                }
                None => false,
            };
            {
                let mut state = lock(&db);
                state.data = DbData::default();
                state.loaded = self.store.get().is_none();
            }
            db.changed.notify_waiters();
            if existed || stored {
                cleared += 1;
            }
        }
        Ok(cleared)
    }

    /// Closes every connection to `db` by force: aborts its transactions
    /// (a running upgrade reverts) and tells each realm to fire `close`.
    fn force_close(&self, db: &Database) {
        let txns: Vec<u64> = {
            let mut state = lock(db);
            let txns: Vec<u64> = state.txns.keys().copied().collect();
            state.forced_aborts.extend(txns.iter().copied());
            txns
        };
        for txn in txns {
            self.finish(db, txn, true);
        }
        {
            let mut state = lock(db);
            let version = state.data.version;
            for conn in state.conns.values_mut() {
                if !conn.close_pending {
                    let _ = conn.events.send(VersionChange {
                        old_version: version,
                        new_version: None,
                        forced_close: true,
                    });
                }
                conn.close_pending = true;
            }
            Self::reap_closed(&mut state);
        }
        db.changed.notify_waiters();
    }

    /// Forgets a pending open or delete whose realm went away.
    pub fn drop_pending(&self, request: u64) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&request);
    }

    /// `close()`: the connection closes once its transactions finish.
    pub fn close(&self, db: &Database, conn: u64) {
        {
            let mut state = lock(db);
            if let Some(c) = state.conns.get_mut(&conn) {
                c.close_pending = true;
            }
            Self::reap_closed(&mut state);
            self.unload_if_idle(db, &mut state);
        }
        db.changed.notify_waiters();
    }

    /// Drops a database nobody uses from memory (the store has all of it;
    /// the next open loads it again), so a long-running host holds only
    /// the databases in use. Not while an open or delete holds its queue.
    fn unload_if_idle(&self, db: &Database, state: &mut DbState) {
        if self.store.get().is_none()
            || !state.loaded
            || !state.conns.is_empty()
            || !state.txns.is_empty()
        {
            return;
        }
        if db.open_queue.try_lock().is_err() {
            return;
        }
        state.loaded = false;
        state.data = DbData::default();
    }

    /// Creates a transaction over `scope` (object store ids).
    pub fn create_transaction(
        &self,
        db: &Database,
        conn: u64,
        scope: &[u64],
        mode: Mode,
        durability: Durability,
    ) -> Result<u64> {
        let mut state = lock(db);
        if state.conns.get(&conn).is_none_or(|c| c.close_pending) {
            return Err(IdbError::InvalidState(
                "The database connection is closing.".into(),
            ));
        }
        for id in scope {
            if !state.data.stores.contains_key(id) {
                return Err(IdbError::NotFound(
                    "One of the specified object stores was not found.".into(),
                ));
            }
        }
        if mode == Mode::Versionchange {
            return Err(IdbError::InvalidState(
                "versionchange transactions come from open()".into(),
            ));
        }
        let txn = self.id();
        state.txns.insert(
            txn,
            Txn {
                conn,
                mode,
                scope: Some(scope.iter().copied().collect()),
                started: false,
                undo: Vec::new(),
                dirty: BTreeSet::new(),
                cleared: BTreeSet::new(),
                snapshot: None,
                open_guard: None,
                durability,
            },
        );
        Ok(txn)
    }

    fn startable(state: &DbState, txn: u64) -> bool {
        let Some(t) = state.txns.get(&txn) else {
            return true;
        };
        if t.started {
            return true;
        }
        state.txns.range(..txn).all(|(_, earlier)| {
            !earlier.overlaps(t) || (earlier.mode == Mode::Readonly && t.mode == Mode::Readonly)
        })
    }

    /// Starts `txn` if the scheduler allows it now.
    pub fn try_start(&self, db: &Database, txn: u64) -> bool {
        let mut state = lock(db);
        if Self::startable(&state, txn) {
            if let Some(t) = state.txns.get_mut(&txn) {
                t.started = true;
            }
            true
        } else {
            false
        }
    }

    /// Waits until `txn` may start, and starts it.
    pub async fn start(&self, db: &Database, txn: u64) {
        wait_until(db, |state| {
            if Self::startable(state, txn) {
                if let Some(t) = state.txns.get_mut(&txn) {
                    t.started = true;
                }
                true
            } else {
                false
            }
        })
        .await;
    }

    /// Waits until `txn` has committed or aborted.
    pub async fn finished(&self, db: &Database, txn: u64) {
        wait_until(db, |state| !state.txns.contains_key(&txn)).await;
    }

    /// Commits `txn`: its changes reach the store (one SQLite transaction)
    /// before this returns. On a store failure the transaction is aborted
    /// and the error returned.
    pub async fn commit(&self, db: &Arc<Database>, txn: u64) -> Result<()> {
        let write = {
            let state = lock(db);
            let t = state
                .txns
                .get(&txn)
                .ok_or_else(|| IdbError::InvalidState("The transaction has finished.".into()))?;
            let writes =
                t.mode == Mode::Versionchange || !t.dirty.is_empty() || !t.cleared.is_empty();
            match (writes, self.store.get()) {
                (true, Some(store)) => Some((
                    store.clone(),
                    encode_changes(&db.name, &state.data, t),
                    t.durability == Durability::Strict,
                )),
                _ => None,
            }
        };
        if let Some((store, (row, changes), synced)) = write {
            let origin = db.origin.clone();
            let quota = self.quota();
            let written =
                blocking(move || store.idb_commit(&origin, &row, &changes, quota, synced)).await;
            if let Err(e) = written {
                tracing::warn!(origin = %db.origin, database = %db.name, error = %e, "IndexedDB commit failed; the transaction is aborted");
                self.abort(db, txn);
                return Err(e);
            }
        }
        self.finish(db, txn, false);
        Ok(())
    }

    /// Aborts `txn`: every change it made is undone.
    pub fn abort(&self, db: &Database, txn: u64) {
        self.finish(db, txn, true);
    }

    fn finish(&self, db: &Database, txn: u64, undo: bool) {
        {
            let mut state = lock(db);
            let Some(mut t) = state.txns.remove(&txn) else {
                return;
            };
            if undo {
                if let Some(snapshot) = t.snapshot.take() {
                    state.data = snapshot;
                    // The connection that asked for the upgrade is closed.
                    if let Some(c) = state.conns.get_mut(&t.conn) {
                        c.close_pending = true;
                    }
                } else {
                    while let Some(step) = t.undo.pop() {
                        undo_step(&mut state.data, step);
                    }
                }
            }
            Self::reap_closed(&mut state);
            drop(t.open_guard.take());
            self.unload_if_idle(db, &mut state);
        }
        db.changed.notify_waiters();
    }

    /// The database's schema now.
    pub fn meta(&self, db: &Database) -> DbMeta {
        lock(db).data.meta()
    }
}

fn undo_step(data: &mut DbData, step: Undo) {
    match step {
        Undo::Record { store, key, old } => {
            if let Some(s) = data.stores.get_mut(&store) {
                set_record(s, key, old);
            }
        }
        Undo::Generator { store, old } => {
            if let Some(s) = data.stores.get_mut(&store) {
                s.meta.generator = old;
            }
        }
        Undo::Clear {
            store,
            records,
            entries,
        } => {
            if let Some(s) = data.stores.get_mut(&store) {
                s.records = records;
                for (id, e) in entries {
                    if let Some(index) = s.indexes.get_mut(&id) {
                        index.entries = e;
                    }
                }
            }
        }
    }
}

/// Replaces (or removes) the record at `key`, keeping the indexes in step;
/// returns the record that was there.
fn set_record(store: &mut ObjectStore, key: Vec<u8>, record: Option<Record>) -> Option<Record> {
    let old = store.records.remove(&key);
    if let Some(old) = &old {
        for (index, keys) in old.index_keys.iter() {
            if let Some(index) = store.indexes.get_mut(index) {
                for k in keys {
                    index.entries.remove(&(k.clone(), key.clone()));
                }
            }
        }
    }
    if let Some(record) = record {
        for (index, keys) in record.index_keys.iter() {
            if let Some(index) = store.indexes.get_mut(index) {
                for k in keys {
                    index.entries.insert((k.clone(), key.clone()));
                }
            }
        }
        store.records.insert(key, record);
    }
    old
}
