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

/// Runs a blocking store call off the realm's thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> swrt_store::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| IdbError::Unknown(format!("store task failed: {e}")))?
        .map_err(IdbError::from)
}

fn encode_changes(name: &str, data: &DbData, t: &Txn) -> (IdbDatabaseRow, Vec<IdbChange>) {
    let meta = data.meta();
    let row = IdbDatabaseRow {
        name: name.to_owned(),
        version: data.version,
        meta: serde_json::to_string(&meta).unwrap_or_else(|_| "{}".into()),
    };
    let mut changes = Vec::new();
    let put = |store: u64, key: &Vec<u8>, r: &Record| {
        IdbChange::Put(IdbRecordRow {
            store_id: store as i64,
            key: key.clone(),
            value: r.value.to_vec(),
            index_keys: encode_index_keys(&r.index_keys),
        })
    };
    if let Some(before) = &t.snapshot {
        // An upgrade may create, delete and rename object stores and
        // indexes: write the database whole.
        for id in before.stores.keys().chain(data.stores.keys()) {
            changes.push(IdbChange::ClearStore {
                store_id: *id as i64,
            });
        }
        for (id, s) in &data.stores {
            for (key, r) in &s.records {
                changes.push(put(*id, key, r));
            }
        }
    } else {
        for id in &t.cleared {
            changes.push(IdbChange::ClearStore {
                store_id: *id as i64,
            });
        }
        for (id, key) in &t.dirty {
            match data.stores.get(id).and_then(|s| s.records.get(key)) {
                Some(r) => changes.push(put(*id, key, r)),
                None => changes.push(IdbChange::Delete {
                    store_id: *id as i64,
                    key: key.clone(),
                }),
            }
        }
    }
    (row, changes)
}

fn encode_index_keys(keys: &[(u64, Vec<Vec<u8>>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (id, list) in keys {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for k in list {
            out.extend_from_slice(&(k.len() as u32).to_le_bytes());
            out.extend_from_slice(k);
        }
    }
    out
}

fn decode_index_keys(mut bytes: &[u8]) -> Option<Vec<(u64, Vec<Vec<u8>>)>> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if bytes.len() < n {
            return None;
        }
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        Some(head)
    }
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let id = u64::from_le_bytes(take(&mut bytes, 8)?.try_into().ok()?);
        let count = u32::from_le_bytes(take(&mut bytes, 4)?.try_into().ok()?);
        let mut list = Vec::new();
        for _ in 0..count {
            let len = u32::from_le_bytes(take(&mut bytes, 4)?.try_into().ok()?) as usize;
            list.push(take(&mut bytes, len)?.to_vec());
        }
        out.push((id, list));
    }
    Some(out)
}

fn decode_database(row: &IdbDatabaseRow, records: Vec<IdbRecordRow>) -> Result<DbData> {
    let meta: DbMeta = serde_json::from_str(&row.meta)
        .map_err(|e| IdbError::Unknown(format!("stored database schema is unreadable: {e}")))?;
    let mut data = DbData {
        version: row.version,
        next_id: meta.next_id,
        stores: BTreeMap::new(),
    };
    for mut s in meta.stores {
        let indexes = std::mem::take(&mut s.indexes)
            .into_iter()
            .map(|m| {
                (
                    m.id,
                    Index {
                        meta: m,
                        entries: BTreeSet::new(),
                    },
                )
            })
            .collect();
        data.stores.insert(
            s.id,
            ObjectStore {
                meta: s,
                records: BTreeMap::new(),
                indexes,
            },
        );
    }
    for r in records {
        let Some(store) = data.stores.get_mut(&(r.store_id as u64)) else {
            tracing::warn!(
                store = r.store_id,
                "IndexedDB record of an unknown object store skipped"
            );
            continue;
        };
        let index_keys = decode_index_keys(&r.index_keys)
            .ok_or_else(|| IdbError::Unknown("stored index keys are unreadable".into()))?;
        let record = Record {
            value: r.value.into(),
            index_keys: index_keys.into(),
        };
        set_record(store, r.key, Some(record));
    }
    Ok(data)
}

// Requests inside a running transaction.
impl Backend {
    fn with_txn<T>(
        &self,
        db: &Database,
        txn: u64,
        write: bool,
        f: impl FnOnce(&mut DbData, &mut Txn) -> Result<T>,
    ) -> Result<T> {
        let mut state = lock(db);
        if !state.txns.contains_key(&txn) {
            return Err(finished_error(&state, txn));
        }
        let DbState { data, txns, .. } = &mut *state;
        let t = txns
            .get_mut(&txn)
            .ok_or_else(|| IdbError::InvalidState("The transaction has finished.".into()))?;
        if !t.started {
            return Err(IdbError::InvalidState(
                "The transaction has not started.".into(),
            ));
        }
        if write && t.mode == Mode::Readonly {
            return Err(IdbError::InvalidState(
                "The transaction is read-only.".into(),
            ));
        }
        f(data, t)
    }

    fn schema_change<T>(
        &self,
        db: &Database,
        txn: u64,
        f: impl FnOnce(&mut DbData) -> Result<T>,
    ) -> Result<T> {
        self.with_txn(db, txn, true, |data, t| {
            if t.mode != Mode::Versionchange {
                return Err(IdbError::InvalidState(
                    "Not in a versionchange transaction.".into(),
                ));
            }
            f(data)
        })
    }

    /// `createObjectStore`: returns its id.
    pub fn create_store(
        &self,
        db: &Database,
        txn: u64,
        name: &str,
        key_path: serde_json::Value,
        auto_increment: bool,
    ) -> Result<u64> {
        self.schema_change(db, txn, |data| {
            if data.stores.values().any(|s| s.meta.name == name) {
                return Err(IdbError::Constraint(format!(
                    "An object store named {name:?} already exists."
                )));
            }
            data.next_id += 1;
            let id = data.next_id;
            data.stores.insert(
                id,
                ObjectStore {
                    meta: StoreMeta {
                        id,
                        name: name.to_owned(),
                        key_path,
                        auto_increment,
                        generator: 1.0,
                        indexes: Vec::new(),
                    },
                    records: BTreeMap::new(),
                    indexes: BTreeMap::new(),
                },
            );
            Ok(id)
        })
    }

    /// `deleteObjectStore`.
    pub fn delete_store(&self, db: &Database, txn: u64, store: u64) -> Result<()> {
        self.schema_change(db, txn, |data| {
            data.stores
                .remove(&store)
                .map(|_| ())
                .ok_or_else(|| IdbError::NotFound("No such object store.".into()))
        })
    }

    /// Renames an object store.
    pub fn rename_store(&self, db: &Database, txn: u64, store: u64, name: &str) -> Result<()> {
        self.schema_change(db, txn, |data| {
            if data
                .stores
                .values()
                .any(|s| s.meta.name == name && s.meta.id != store)
            {
                return Err(IdbError::Constraint(format!(
                    "An object store named {name:?} already exists."
                )));
            }
            let s = data.store_mut(store)?;
            s.meta.name = name.to_owned();
            Ok(())
        })
    }

    /// `createIndex`: returns its id. Its entries are added with
    /// [`Backend::add_index_keys`] for each existing record.
    #[allow(
        clippy::too_many_arguments,
        reason = "the IDL operation's arguments plus the transaction"
    )]
    pub fn create_index(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        name: &str,
        key_path: serde_json::Value,
        unique: bool,
        multi_entry: bool,
    ) -> Result<u64> {
        self.schema_change(db, txn, |data| {
            data.next_id += 1;
            let id = data.next_id;
            let s = data.store_mut(store)?;
            if s.indexes.values().any(|i| i.meta.name == name) {
                return Err(IdbError::Constraint(format!(
                    "An index named {name:?} already exists."
                )));
            }
            s.indexes.insert(
                id,
                Index {
                    meta: IndexMeta {
                        id,
                        name: name.to_owned(),
                        key_path,
                        unique,
                        multi_entry,
                    },
                    entries: BTreeSet::new(),
                },
            );
            Ok(id)
        })
    }

    /// Adds a record's keys to a new index (populating it in the upgrade).
    pub fn add_index_keys(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        index: u64,
        primary_key: &[u8],
        keys: Vec<Vec<u8>>,
    ) -> Result<()> {
        self.schema_change(db, txn, |data| {
            let s = data.store_mut(store)?;
            let ix = s.index_mut(index)?;
            if ix.meta.unique {
                for k in &keys {
                    if first_entry(&ix.entries, k).is_some_and(|pk| pk != primary_key) {
                        return Err(IdbError::Constraint(
                            "Existing records violate the new unique index.".into(),
                        ));
                    }
                }
            }
            for k in &keys {
                ix.entries.insert((k.clone(), primary_key.to_vec()));
            }
            let record = s
                .records
                .get_mut(primary_key)
                .ok_or_else(|| IdbError::NotFound("No such record.".into()))?;
            let mut index_keys = record.index_keys.to_vec();
            index_keys.push((index, keys));
            record.index_keys = index_keys.into();
            Ok(())
        })
    }

    /// `deleteIndex`.
    pub fn delete_index(&self, db: &Database, txn: u64, store: u64, index: u64) -> Result<()> {
        self.schema_change(db, txn, |data| {
            let s = data.store_mut(store)?;
            s.indexes
                .remove(&index)
                .ok_or_else(|| IdbError::NotFound("No such index.".into()))?;
            for record in s.records.values_mut() {
                if record.index_keys.iter().any(|(id, _)| *id == index) {
                    let kept: Vec<_> = record
                        .index_keys
                        .iter()
                        .filter(|(id, _)| *id != index)
                        .cloned()
                        .collect();
                    record.index_keys = kept.into();
                }
            }
            Ok(())
        })
    }

    /// Renames an index.
    pub fn rename_index(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        index: u64,
        name: &str,
    ) -> Result<()> {
        self.schema_change(db, txn, |data| {
            let s = data.store_mut(store)?;
            if s.indexes
                .values()
                .any(|i| i.meta.name == name && i.meta.id != index)
            {
                return Err(IdbError::Constraint(format!(
                    "An index named {name:?} already exists."
                )));
            }
            let ix = s.index_mut(index)?;
            ix.meta.name = name.to_owned();
            Ok(())
        })
    }

    /// The key generator's next key for `store`, consumed (the spec's
    /// "generate a key"); a ConstraintError once it passes 2^53.
    pub fn generate_key(&self, db: &Database, txn: u64, store: u64) -> Result<f64> {
        self.with_txn(db, txn, true, |data, t| {
            let s = data.store_mut(store)?;
            let current = s.meta.generator;
            if current > 9007199254740992.0 {
                return Err(IdbError::Constraint(
                    "The key generator is exhausted.".into(),
                ));
            }
            t.undo.push(Undo::Generator {
                store,
                old: current,
            });
            s.meta.generator = current + 1.0;
            Ok(current)
        })
    }

    /// `put` / `add` of a record whose key and index keys script computed.
    #[allow(
        clippy::too_many_arguments,
        reason = "the IDL operation's arguments plus the transaction"
    )]
    pub fn put(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        key: Vec<u8>,
        value: Vec<u8>,
        index_keys: Vec<(u64, Vec<Vec<u8>>)>,
        no_overwrite: bool,
    ) -> Result<()> {
        self.with_txn(db, txn, true, |data, t| {
            let s = data.store_mut(store)?;
            if no_overwrite && s.records.contains_key(&key) {
                return Err(IdbError::Constraint(
                    "A record with this key already exists.".into(),
                ));
            }
            let mut index_keys = index_keys;
            for (id, keys) in index_keys.iter_mut() {
                keys.sort();
                keys.dedup();
                let ix = s.index(*id)?;
                if ix.meta.unique {
                    for k in keys.iter() {
                        if first_entry(&ix.entries, k).is_some_and(|pk| pk != key.as_slice()) {
                            return Err(IdbError::Constraint(format!(
                                "Unable to add: the unique index {:?} has a record with this key.",
                                ix.meta.name
                            )));
                        }
                    }
                }
            }
            if s.meta.auto_increment {
                // An explicit number key moves the generator past it.
                if let Some(n) = key::encoded_number(&key) {
                    let next = (n.floor() + 1.0).min(9007199254740993.0);
                    if next > s.meta.generator {
                        t.undo.push(Undo::Generator {
                            store,
                            old: s.meta.generator,
                        });
                        s.meta.generator = next;
                    }
                }
            }
            let record = Record {
                value: value.into(),
                index_keys: index_keys.into(),
            };
            let old = set_record(s, key.clone(), Some(record));
            t.dirty.insert((store, key.clone()));
            t.undo.push(Undo::Record { store, key, old });
            Ok(())
        })
    }

    /// Deletes the records in `range`.
    pub fn delete(&self, db: &Database, txn: u64, store: u64, range: &KeyRange) -> Result<()> {
        self.with_txn(db, txn, true, |data, t| {
            let s = data.store_mut(store)?;
            let keys: Vec<Vec<u8>> = s
                .records
                .range::<Vec<u8>, _>(key_bounds(range))
                .map(|(k, _)| k.clone())
                .collect();
            for key in keys {
                let old = set_record(s, key.clone(), None);
                t.dirty.insert((store, key.clone()));
                t.undo.push(Undo::Record { store, key, old });
            }
            Ok(())
        })
    }

    /// Removes every record of `store`.
    pub fn clear(&self, db: &Database, txn: u64, store: u64) -> Result<()> {
        self.with_txn(db, txn, true, |data, t| {
            let s = data.store_mut(store)?;
            let records = std::mem::take(&mut s.records);
            let entries = s
                .indexes
                .iter_mut()
                .map(|(id, ix)| (*id, std::mem::take(&mut ix.entries)))
                .collect();
            t.undo.push(Undo::Clear {
                store,
                records,
                entries,
            });
            t.dirty.retain(|(id, _)| *id != store);
            t.cleared.insert(store);
            Ok(())
        })
    }

    /// Up to `limit` records of `store` (or of its index `index`) in
    /// `range`, in `direction` order (0: no limit).
    #[allow(
        clippy::too_many_arguments,
        reason = "the IDL operation's arguments plus the transaction"
    )]
    pub fn get_all(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        index: Option<u64>,
        range: &KeyRange,
        limit: u32,
        direction: Direction,
    ) -> Result<Vec<Found>> {
        self.with_txn(db, txn, false, |data, _| {
            let s = data.store(store)?;
            let limit = if limit == 0 {
                usize::MAX
            } else {
                limit as usize
            };
            let mut out = Vec::new();
            let mut step = CursorStep::default();
            while out.len() < limit {
                let Some(found) = cursor_find(s, index, range, direction, &step)? else {
                    break;
                };
                step.position = Some((found.key.clone(), found.primary_key.clone()));
                out.push(found);
            }
            Ok(out)
        })
    }

    /// The number of records (or index entries) in `range`.
    pub fn count(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        index: Option<u64>,
        range: &KeyRange,
    ) -> Result<u64> {
        self.with_txn(db, txn, false, |data, _| {
            let s = data.store(store)?;
            Ok(match index {
                None => s.records.range::<Vec<u8>, _>(key_bounds(range)).count() as u64,
                Some(index) => {
                    let ix = s.index(index)?;
                    ix.entries.range(entry_bounds(range)).count() as u64
                }
            })
        })
    }

    /// One cursor step: the record after `step.position` in `direction`.
    #[allow(
        clippy::too_many_arguments,
        reason = "the IDL operation's arguments plus the transaction"
    )]
    pub fn cursor_step(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        index: Option<u64>,
        range: &KeyRange,
        direction: Direction,
        step: &CursorStep,
    ) -> Result<Option<Found>> {
        self.with_txn(db, txn, false, |data, _| {
            let s = data.store(store)?;
            let mut step = step.clone();
            let count = step.count.max(1);
            let mut found = None;
            for _ in 0..count {
                found = cursor_find(s, index, range, direction, &step)?;
                let Some(f) = &found else {
                    return Ok(None);
                };
                step.position = Some((f.key.clone(), f.primary_key.clone()));
                step.target_key = None;
                step.target_primary_key = None;
            }
            Ok(found)
        })
    }
}

/// The first primary key with index key `k`.
fn first_entry<'a>(entries: &'a BTreeSet<(Vec<u8>, Vec<u8>)>, k: &[u8]) -> Option<&'a [u8]> {
    entries
        .range((k.to_vec(), Vec::new())..)
        .next()
        .filter(|(ik, _)| ik.as_slice() == k)
        .map(|(_, pk)| pk.as_slice())
}

/// The smallest byte string greater than `k`.
fn successor(k: &[u8]) -> Vec<u8> {
    let mut s = k.to_vec();
    s.push(0);
    s
}

fn key_bounds(range: &KeyRange) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let lower = match &range.lower {
        None => Bound::Unbounded,
        Some(l) if range.lower_open => Bound::Excluded(l.clone()),
        Some(l) => Bound::Included(l.clone()),
    };
    let upper = match &range.upper {
        None => Bound::Unbounded,
        Some(u) if range.upper_open => Bound::Excluded(u.clone()),
        Some(u) => Bound::Included(u.clone()),
    };
    (lower, upper)
}

type Entry = (Vec<u8>, Vec<u8>);

/// `range` over index entries (index key, primary key).
fn entry_bounds(range: &KeyRange) -> (Bound<Entry>, Bound<Entry>) {
    let lower = match &range.lower {
        None => Bound::Unbounded,
        Some(l) if range.lower_open => Bound::Included((successor(l), Vec::new())),
        Some(l) => Bound::Included((l.clone(), Vec::new())),
    };
    let upper = match &range.upper {
        None => Bound::Unbounded,
        Some(u) if range.upper_open => Bound::Excluded((u.clone(), Vec::new())),
        Some(u) => Bound::Excluded((successor(u), Vec::new())),
    };
    (lower, upper)
}

fn tighter_lower<T: Ord>(a: Bound<T>, b: Bound<T>) -> Bound<T> {
    use Bound::*;
    match (a, b) {
        (Unbounded, x) | (x, Unbounded) => x,
        (Included(x), Included(y)) => Included(x.max(y)),
        (Excluded(x), Excluded(y)) => Excluded(x.max(y)),
        (Included(x), Excluded(y)) | (Excluded(y), Included(x)) => {
            if x > y {
                Included(x)
            } else {
                Excluded(y)
            }
        }
    }
}

fn tighter_upper<T: Ord>(a: Bound<T>, b: Bound<T>) -> Bound<T> {
    use Bound::*;
    match (a, b) {
        (Unbounded, x) | (x, Unbounded) => x,
        (Included(x), Included(y)) => Included(x.min(y)),
        (Excluded(x), Excluded(y)) => Excluded(x.min(y)),
        (Included(x), Excluded(y)) | (Excluded(y), Included(x)) => {
            if x < y {
                Included(x)
            } else {
                Excluded(y)
            }
        }
    }
}

fn empty<T: Ord>(lower: &Bound<T>, upper: &Bound<T>) -> bool {
    use Bound::*;
    match (lower, upper) {
        (Included(l), Included(u)) => l > u,
        (Included(l), Excluded(u)) | (Excluded(l), Included(u)) | (Excluded(l), Excluded(u)) => {
            l >= u
        }
        _ => false,
    }
}

fn cursor_find(
    s: &ObjectStore,
    index: Option<u64>,
    range: &KeyRange,
    direction: Direction,
    step: &CursorStep,
) -> Result<Option<Found>> {
    let forward = direction.forward();
    match index {
        None => {
            let (mut lower, mut upper) = key_bounds(range);
            if let Some((k, _)) = &step.position {
                if forward {
                    lower = tighter_lower(lower, Bound::Excluded(k.clone()));
                } else {
                    upper = tighter_upper(upper, Bound::Excluded(k.clone()));
                }
            }
            if let Some(t) = &step.target_key {
                if forward {
                    lower = tighter_lower(lower, Bound::Included(t.clone()));
                } else {
                    upper = tighter_upper(upper, Bound::Included(t.clone()));
                }
            }
            if empty(&lower, &upper) {
                return Ok(None);
            }
            let mut iter = s.records.range::<Vec<u8>, _>((lower, upper));
            let hit = if forward {
                iter.next()
            } else {
                iter.next_back()
            };
            Ok(hit.map(|(k, r)| Found {
                key: k.clone(),
                primary_key: k.clone(),
                value: r.value.clone(),
            }))
        }
        Some(index) => {
            let ix = s.index(index)?;
            let (mut lower, mut upper) = entry_bounds(range);
            if let Some((k, pk)) = &step.position {
                match direction {
                    Direction::Next => {
                        lower = tighter_lower(lower, Bound::Excluded((k.clone(), pk.clone())))
                    }
                    Direction::NextUnique => {
                        lower = tighter_lower(lower, Bound::Included((successor(k), Vec::new())))
                    }
                    Direction::Prev => {
                        upper = tighter_upper(upper, Bound::Excluded((k.clone(), pk.clone())))
                    }
                    Direction::PrevUnique => {
                        upper = tighter_upper(upper, Bound::Excluded((k.clone(), Vec::new())))
                    }
                }
            }
            if let Some(t) = &step.target_key {
                let bound = match (&step.target_primary_key, forward) {
                    (Some(pk), true) => Bound::Included((t.clone(), pk.clone())),
                    (None, true) => Bound::Included((t.clone(), Vec::new())),
                    (Some(pk), false) => Bound::Included((t.clone(), pk.clone())),
                    (None, false) => Bound::Excluded((successor(t), Vec::new())),
                };
                if forward {
                    lower = tighter_lower(lower, bound);
                } else {
                    upper = tighter_upper(upper, bound);
                }
            }
            if empty(&lower, &upper) {
                return Ok(None);
            }
            let mut iter = ix.entries.range((lower.clone(), upper));
            let hit = if forward {
                iter.next()
            } else {
                iter.next_back()
            };
            let Some((k, mut pk)) = hit.map(|(k, pk)| (k, pk)) else {
                return Ok(None);
            };
            if direction == Direction::PrevUnique {
                // The first record of this key (still inside the range).
                let first = ix
                    .entries
                    .range((
                        tighter_lower(lower, Bound::Included((k.clone(), Vec::new()))),
                        Bound::Unbounded,
                    ))
                    .next();
                if let Some((_, first_pk)) = first {
                    pk = first_pk;
                }
            }
            let value = s
                .records
                .get(pk)
                .map(|r| r.value.clone())
                .ok_or_else(|| IdbError::Unknown("an index entry has no record".into()))?;
            let _ = direction.unique();
            Ok(Some(Found {
                key: k.clone(),
                primary_key: pk.clone(),
                value,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;

    const ORIGIN: &str = "https://a.test";

    fn k(n: f64) -> Vec<u8> {
        Key::Number(n).encode()
    }

    fn s(text: &str) -> Vec<u8> {
        Key::string(text).encode()
    }

    /// Opens `name` at version 1 with one object store (id returned) and
    /// an index on it, committed.
    async fn setup(backend: &Backend, name: &str, unique: bool) -> (Arc<Database>, u64, u64, u64) {
        let (tx, rx) = mpsc::unbounded_channel();
        // The connection listens for versionchange as long as the test runs.
        std::mem::forget(rx);
        let (db, step) = backend.open(ORIGIN, name, Some(1), tx).await.unwrap();
        let OpenStep::Upgrade { conn, blocked, .. } = step else {
            panic!("a new database needs an upgrade");
        };
        assert!(!blocked);
        let (txn, meta) = backend.upgrade(conn).await.unwrap();
        assert_eq!(meta.version, 1);
        let store = backend
            .create_store(&db, txn, "s", serde_json::Value::Null, true)
            .unwrap();
        let index = backend
            .create_index(&db, txn, store, "i", serde_json::json!("x"), unique, false)
            .unwrap();
        backend.commit(&db, txn).await.unwrap();
        (db, conn, store, index)
    }

    fn put(
        backend: &Backend,
        db: &Database,
        txn: u64,
        store: u64,
        index: u64,
        key: f64,
        tag: &str,
    ) -> Result<()> {
        backend.put(
            db,
            txn,
            store,
            k(key),
            tag.as_bytes().to_vec(),
            vec![(index, vec![s(tag)])],
            false,
        )
    }

    fn keys(found: &[Found]) -> Vec<Key> {
        found
            .iter()
            .map(|f| Key::decode(&f.primary_key).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn overlapping_writers_serialise_and_readers_share() {
        let backend = Backend::new(u64::MAX);
        let (db, conn, store, _) = setup(&backend, "sched", false).await;
        let w1 = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        let r1 = backend
            .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
            .unwrap();
        let w2 = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, w1));
        assert!(
            !backend.try_start(&db, r1),
            "a reader waits for an earlier overlapping writer"
        );
        assert!(!backend.try_start(&db, w2));
        backend.commit(&db, w1).await.unwrap();
        assert!(backend.try_start(&db, r1));
        assert!(
            !backend.try_start(&db, w2),
            "a writer waits for an earlier reader"
        );
        let r2 = backend
            .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
            .unwrap();
        assert!(
            !backend.try_start(&db, r2),
            "and later readers wait for that writer"
        );
        let waiting = {
            let backend = backend.clone();
            let db = db.clone();
            tokio::spawn(async move { backend.start(&db, w2).await })
        };
        backend.commit(&db, r1).await.unwrap();
        waiting.await.unwrap();
        backend.abort(&db, w2);
        assert!(backend.try_start(&db, r2));
    }

    #[tokio::test]
    async fn abort_undoes_puts_deletes_clears_and_key_generation() {
        let backend = Backend::new(u64::MAX);
        let (db, conn, store, index) = setup(&backend, "undo", false).await;
        let t1 = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t1));
        assert_eq!(backend.generate_key(&db, t1, store).unwrap(), 1.0);
        put(&backend, &db, t1, store, index, 1.0, "a").unwrap();
        put(&backend, &db, t1, store, index, 2.0, "b").unwrap();
        backend.commit(&db, t1).await.unwrap();

        let t2 = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t2));
        put(&backend, &db, t2, store, index, 1.0, "changed").unwrap();
        backend
            .delete(
                &db,
                t2,
                store,
                &KeyRange {
                    lower: Some(k(2.0)),
                    upper: Some(k(2.0)),
                    ..Default::default()
                },
            )
            .unwrap();
        backend.clear(&db, t2, store).unwrap();
        put(&backend, &db, t2, store, index, 50.0, "z").unwrap();
        assert_eq!(backend.generate_key(&db, t2, store).unwrap(), 51.0);
        backend.abort(&db, t2);

        let t3 = backend
            .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t3));
        let all = backend
            .get_all(
                &db,
                t3,
                store,
                None,
                &KeyRange::default(),
                0,
                Direction::Next,
            )
            .unwrap();
        assert_eq!(keys(&all), vec![Key::Number(1.0), Key::Number(2.0)]);
        assert_eq!(&*all[0].value, b"a");
        let by_index = backend
            .get_all(
                &db,
                t3,
                store,
                Some(index),
                &KeyRange::default(),
                0,
                Direction::Next,
            )
            .unwrap();
        assert_eq!(
            keys(&by_index),
            vec![Key::Number(1.0), Key::Number(2.0)],
            "index entries restored"
        );
        assert!(backend.generate_key(&db, t3, store).is_err(), "readonly");
        backend.abort(&db, t3);
        let t4 = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t4));
        assert_eq!(
            backend.generate_key(&db, t4, store).unwrap(),
            3.0,
            "the generator was rolled back"
        );
    }

    #[tokio::test]
    async fn a_unique_index_refuses_a_second_record_with_its_key() {
        let backend = Backend::new(u64::MAX);
        let (db, conn, store, index) = setup(&backend, "unique", true).await;
        let t = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t));
        put(&backend, &db, t, store, index, 1.0, "a").unwrap();
        let err = put(&backend, &db, t, store, index, 2.0, "a").unwrap_err();
        assert!(matches!(err, IdbError::Constraint(_)), "{err}");
        put(&backend, &db, t, store, index, 1.0, "a").unwrap();
        let err = backend
            .put(&db, t, store, k(1.0), vec![], vec![], true)
            .unwrap_err();
        assert!(
            matches!(err, IdbError::Constraint(_)),
            "add() of an existing key: {err}"
        );
    }

    #[tokio::test]
    async fn index_cursors_walk_every_direction() {
        let backend = Backend::new(u64::MAX);
        let (db, conn, store, index) = setup(&backend, "cursor", false).await;
        let t = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t));
        for (key, tag) in [(1.0, "a"), (2.0, "b"), (3.0, "a"), (4.0, "c"), (5.0, "b")] {
            put(&backend, &db, t, store, index, key, tag).unwrap();
        }
        let walk = |direction| {
            let found = backend
                .get_all(
                    &db,
                    t,
                    store,
                    Some(index),
                    &KeyRange::default(),
                    0,
                    direction,
                )
                .unwrap();
            keys(&found)
                .into_iter()
                .map(|k| match k {
                    Key::Number(n) => n as u32,
                    _ => unreachable!(),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(walk(Direction::Next), [1, 3, 2, 5, 4]);
        assert_eq!(walk(Direction::Prev), [4, 5, 2, 3, 1]);
        assert_eq!(walk(Direction::NextUnique), [1, 2, 4]);
        assert_eq!(walk(Direction::PrevUnique), [4, 2, 1]);
        let range = KeyRange {
            lower: Some(s("a")),
            upper: Some(s("b")),
            lower_open: true,
            upper_open: false,
        };
        assert_eq!(
            backend.count(&db, t, store, Some(index), &range).unwrap(),
            2
        );
        let step = CursorStep {
            position: Some((s("a"), k(1.0))),
            target_key: Some(s("b")),
            target_primary_key: Some(k(5.0)),
            count: 1,
        };
        let found = backend
            .cursor_step(
                &db,
                t,
                store,
                Some(index),
                &KeyRange::default(),
                Direction::Next,
                &step,
            )
            .unwrap()
            .unwrap();
        assert_eq!(Key::decode(&found.primary_key).unwrap(), Key::Number(5.0));
    }

    #[tokio::test]
    async fn committed_data_is_loaded_by_the_next_process() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store_handle = Arc::new(Store::open(dir.path()).unwrap());
            let backend = Backend::new(u64::MAX);
            backend.attach_store(store_handle.clone());
            let (db, conn, store, index) = setup(&backend, "durable", false).await;
            // A relaxed commit is written too: it survives the process.
            let t = backend
                .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Relaxed)
                .unwrap();
            assert!(backend.try_start(&db, t));
            put(&backend, &db, t, store, index, 7.0, "seven").unwrap();
            backend.commit(&db, t).await.unwrap();
            // Not committed: must not be on disk.
            let t = backend
                .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
                .unwrap();
            assert!(backend.try_start(&db, t));
            put(&backend, &db, t, store, index, 8.0, "eight").unwrap();
            assert!(
                store_handle.origin_usage(ORIGIN).unwrap() > 0,
                "usage counted"
            );
            store_handle.close().unwrap();
        }
        let backend = Backend::new(u64::MAX);
        backend.attach_store(Arc::new(Store::open(dir.path()).unwrap()));
        assert_eq!(
            backend.databases(ORIGIN).await.unwrap(),
            vec![("durable".to_owned(), 1)]
        );
        let (tx, _rx) = mpsc::unbounded_channel();
        let (db, step) = backend.open(ORIGIN, "durable", None, tx).await.unwrap();
        let OpenStep::Opened { conn, meta } = step else {
            panic!("no upgrade for an existing database");
        };
        let store = meta.stores[0].id;
        let index = meta.stores[0].indexes[0].id;
        let t = backend
            .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t));
        let all = backend
            .get_all(
                &db,
                t,
                store,
                Some(index),
                &KeyRange::default(),
                0,
                Direction::Next,
            )
            .unwrap();
        assert_eq!(keys(&all), vec![Key::Number(7.0)]);
        assert_eq!(&*all[0].value, b"seven");
        assert_eq!(backend.databases("https://b.test").await.unwrap(), vec![]);
        backend.commit(&db, t).await.unwrap();
        backend.close(&db, conn);
        assert!(!lock(&db).loaded, "a database nobody uses leaves memory");
        let (tx, _rx) = mpsc::unbounded_channel();
        let (_, step) = backend.open(ORIGIN, "durable", None, tx).await.unwrap();
        let OpenStep::Opened { meta, .. } = step else {
            panic!("no upgrade for an existing database");
        };
        assert_eq!(meta.version, 1, "and is loaded again from the store");
    }

    #[tokio::test]
    async fn a_commit_over_quota_aborts_and_leaves_the_data_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Backend::new(200);
        backend.attach_store(Arc::new(Store::open(dir.path()).unwrap()));
        let (db, conn, store, index) = setup(&backend, "quota", false).await;
        let t = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t));
        backend
            .put(
                &db,
                t,
                store,
                k(1.0),
                vec![0; 500],
                vec![(index, vec![s("a")])],
                false,
            )
            .unwrap();
        let err = backend.commit(&db, t).await.unwrap_err();
        assert!(matches!(err, IdbError::QuotaExceeded(_)), "{err}");
        let t = backend
            .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t));
        assert_eq!(
            backend
                .count(&db, t, store, None, &KeyRange::default())
                .unwrap(),
            0
        );
    }

    #[tokio::test]
    async fn an_upgrade_waits_until_other_connections_close() {
        let backend = Backend::new(u64::MAX);
        let (db, conn, _, _) = setup(&backend, "versions", false).await;
        let (tx, _rx) = mpsc::unbounded_channel();
        let opening = {
            let backend = backend.clone();
            tokio::spawn(async move { backend.open(ORIGIN, "versions", Some(2), tx).await })
        };
        // The first connection is sent versionchange; it handles it and stays open.
        tokio::task::yield_now().await;
        loop {
            if lock(&db).conns.get(&conn).is_some_and(|c| c.unacked > 0) {
                break;
            }
            tokio::task::yield_now().await;
        }
        backend.versionchange_handled(&db, conn);
        let (_, step) = opening.await.unwrap().unwrap();
        let OpenStep::Upgrade {
            conn: new_conn,
            old_version,
            blocked,
        } = step
        else {
            panic!("version 2 needs an upgrade");
        };
        assert_eq!(old_version, 1);
        assert!(blocked, "the first connection is still open");
        let upgrading = {
            let backend = backend.clone();
            tokio::spawn(async move { backend.upgrade(new_conn).await })
        };
        tokio::task::yield_now().await;
        assert!(!upgrading.is_finished());
        backend.close(&db, conn);
        let (_, meta) = upgrading.await.unwrap().unwrap();
        assert_eq!(meta.version, 2);
    }

    #[tokio::test]
    async fn clearing_an_origin_closes_its_connections_and_deletes_its_databases() {
        let dir = tempfile::tempdir().unwrap();
        let store_handle = Arc::new(Store::open(dir.path()).unwrap());
        let backend = Backend::new(u64::MAX);
        backend.attach_store(store_handle.clone());
        // One database with a committed record and a connection in the
        // middle of a write; another origin's database must stay.
        let (events, mut received) = mpsc::unbounded_channel();
        let (db, step) = backend
            .open(ORIGIN, "cleared", Some(1), events)
            .await
            .unwrap();
        let OpenStep::Upgrade { conn, .. } = step else {
            panic!("a new database needs an upgrade");
        };
        let (txn, _) = backend.upgrade(conn).await.unwrap();
        let store = backend
            .create_store(&db, txn, "s", serde_json::Value::Null, false)
            .unwrap();
        backend.commit(&db, txn).await.unwrap();
        let t = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t));
        backend
            .put(&db, t, store, k(1.0), b"one".to_vec(), vec![], false)
            .unwrap();
        backend.commit(&db, t).await.unwrap();
        let writing = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, writing));
        backend
            .put(&db, writing, store, k(2.0), b"two".to_vec(), vec![], false)
            .unwrap();
        let (other_events, _other_rx) = mpsc::unbounded_channel();
        let (other, step) = backend
            .open("https://b.test", "kept", Some(1), other_events)
            .await
            .unwrap();
        let OpenStep::Upgrade {
            conn: other_conn, ..
        } = step
        else {
            panic!("a new database needs an upgrade");
        };
        let (other_txn, _) = backend.upgrade(other_conn).await.unwrap();
        backend.commit(&other, other_txn).await.unwrap();
        assert!(store_handle.origin_usage(ORIGIN).unwrap() > 0);

        assert_eq!(backend.clear_origin(ORIGIN).await.unwrap(), 1);

        let event = received.try_recv().expect("the connection is told");
        assert!(event.forced_close, "{event:?}");
        assert!(
            backend
                .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
                .is_err(),
            "the connection is closed"
        );
        // The write in flight was aborted: its commit finds no transaction.
        assert!(backend.commit(&db, writing).await.is_err());
        assert_eq!(backend.databases(ORIGIN).await.unwrap(), vec![]);
        assert!(store_handle.idb_databases(ORIGIN).unwrap().is_empty());
        assert_eq!(store_handle.origin_usage(ORIGIN).unwrap(), 0);
        assert_eq!(
            backend.databases("https://b.test").await.unwrap(),
            vec![("kept".to_owned(), 1)]
        );
        // A new open starts from nothing.
        let (events, _rx) = mpsc::unbounded_channel();
        let (_, step) = backend.open(ORIGIN, "cleared", None, events).await.unwrap();
        assert!(matches!(step, OpenStep::Upgrade { old_version: 0, .. }));
    }
}
