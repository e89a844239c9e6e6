//! Ops behind `js/`: each realm holds an [`IdbRealm`] in its OpState, which
//! names its origin and tracks the connections and transactions it owns
//! (so that a realm that ends aborts its transactions and closes its
//! connections).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use deno_core::{op2, AsyncRefCell, OpState, RcRef};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::backend::{
    Backend, CursorStep, Database, DbMeta, Direction, Durability, Found, IdbError, KeyRange, Mode,
    OpenStep, VersionChange,
};

type Result<T> = std::result::Result<T, IdbError>;

/// A realm's view of the process's IndexedDB: its origin's databases.
pub struct IdbRealm {
    backend: Arc<Backend>,
    /// None for an opaque origin, which has no storage.
    origin: Option<String>,
    conns: HashMap<u64, Arc<Database>>,
    txns: HashMap<u64, Arc<Database>>,
    pending: HashSet<u64>,
    events: HashMap<u64, Rc<AsyncRefCell<mpsc::UnboundedReceiver<VersionChange>>>>,
}

impl IdbRealm {
    /// The realm of `origin` (its ASCII serialization; None when opaque).
    pub fn new(backend: Arc<Backend>, origin: Option<String>) -> IdbRealm {
        IdbRealm {
            backend,
            origin,
            conns: HashMap::new(),
            txns: HashMap::new(),
            pending: HashSet::new(),
            events: HashMap::new(),
        }
    }

    fn origin(&self) -> Result<String> {
        self.origin.clone().ok_or_else(|| {
            IdbError::Security("IndexedDB is not available to an opaque origin.".into())
        })
    }

    fn conn(&self, conn: f64) -> Result<Arc<Database>> {
        self.conns
            .get(&(conn as u64))
            .cloned()
            .ok_or_else(|| IdbError::InvalidState("The database connection is closed.".into()))
    }

    fn txn(&self, txn: f64) -> Result<Arc<Database>> {
        self.txns
            .get(&(txn as u64))
            .cloned()
            .ok_or_else(|| IdbError::InvalidState("The transaction has finished.".into()))
    }
}

/// The backend and the database of transaction `txn`, for an async op
/// (taken out of the OpState before the op awaits).
fn backend_and_txn(
    state: &Rc<RefCell<OpState>>,
    txn: f64,
) -> Result<(Arc<Backend>, Arc<Database>)> {
    let state = state.borrow();
    let realm = state.borrow::<IdbRealm>();
    Ok((realm.backend.clone(), realm.txn(txn)?))
}

impl Drop for IdbRealm {
    fn drop(&mut self) {
        for (txn, db) in self.txns.drain() {
            self.backend.abort(&db, txn);
        }
        for (conn, db) in self.conns.drain() {
            self.backend.close(&db, conn);
        }
        for request in self.pending.drain() {
            self.backend.drop_pending(request);
        }
    }
}

fn realm(state: &Rc<RefCell<OpState>>) -> (Arc<Backend>, Result<String>) {
    let state = state.borrow();
    let realm = state.borrow::<IdbRealm>();
    (realm.backend.clone(), realm.origin())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OpenResult {
    conn: u64,
    upgrade: bool,
    old_version: u64,
    blocked: bool,
    meta: Option<DbMeta>,
}

#[op2]
#[serde]
pub(crate) async fn op_idb_open(
    state: Rc<RefCell<OpState>>,
    #[string] name: String,
    version: f64,
) -> Result<OpenResult> {
    let (backend, origin) = realm(&state);
    let origin = origin?;
    let (tx, rx) = mpsc::unbounded_channel();
    let version = (version >= 1.0).then_some(version as u64);
    let (db, step) = backend.open(&origin, &name, version, tx).await?;
    let conn = match &step {
        OpenStep::Opened { conn, .. } | OpenStep::Upgrade { conn, .. } => *conn,
    };
    {
        let mut state = state.borrow_mut();
        let realm = state.borrow_mut::<IdbRealm>();
        realm.conns.insert(conn, db);
        realm.events.insert(conn, Rc::new(AsyncRefCell::new(rx)));
        if matches!(step, OpenStep::Upgrade { .. }) {
            realm.pending.insert(conn);
        }
    }
    Ok(match step {
        OpenStep::Opened { conn, meta } => OpenResult {
            conn,
            upgrade: false,
            old_version: meta.version,
            blocked: false,
            meta: Some(meta),
        },
        OpenStep::Upgrade {
            conn,
            old_version,
            blocked,
        } => OpenResult {
            conn,
            upgrade: true,
            old_version,
            blocked,
            meta: None,
        },
    })
}

#[derive(Serialize)]
pub(crate) struct UpgradeResult {
    txn: u64,
    meta: DbMeta,
}

#[op2]
#[serde]
pub(crate) async fn op_idb_upgrade(
    state: Rc<RefCell<OpState>>,
    conn: f64,
) -> Result<UpgradeResult> {
    let (backend, _) = realm(&state);
    let conn = conn as u64;
    let result = backend.upgrade(conn).await;
    let mut state = state.borrow_mut();
    let realm = state.borrow_mut::<IdbRealm>();
    realm.pending.remove(&conn);
    let (txn, meta) = result?;
    let db = realm
        .conns
        .get(&conn)
        .cloned()
        .ok_or_else(|| IdbError::Abort("The connection was closed.".into()))?;
    realm.txns.insert(txn, db);
    Ok(UpgradeResult { txn, meta })
}

/// The next `versionchange` for a connection: [old, new (null: deleted),
/// closed by force], or null once the connection is gone.
#[op2]
#[serde]
pub(crate) async fn op_idb_versionchange_next(
    state: Rc<RefCell<OpState>>,
    conn: f64,
) -> Option<(u64, Option<u64>, bool)> {
    let rx = state
        .borrow()
        .borrow::<IdbRealm>()
        .events
        .get(&(conn as u64))
        .cloned()?;
    let mut rx = RcRef::map(rx, |r| r).borrow_mut().await;
    rx.recv()
        .await
        .map(|e| (e.old_version, e.new_version, e.forced_close))
}

#[op2(fast)]
pub(crate) fn op_idb_versionchange_handled(state: &mut OpState, conn: f64) {
    let realm = state.borrow::<IdbRealm>();
    if let Ok(db) = realm.conn(conn) {
        realm.backend.versionchange_handled(&db, conn as u64);
    }
}

#[op2(fast)]
pub(crate) fn op_idb_close(state: &mut OpState, conn: f64) {
    let realm = state.borrow_mut::<IdbRealm>();
    let id = conn as u64;
    if let Some(db) = realm.conns.remove(&id) {
        realm.backend.close(&db, id);
    }
    realm.events.remove(&id);
}

#[op2]
#[serde]
pub(crate) async fn op_idb_delete_database(
    state: Rc<RefCell<OpState>>,
    #[string] name: String,
) -> Result<(u64, bool)> {
    let (backend, origin) = realm(&state);
    let (request, blocked) = backend.delete_database(&origin?, &name).await?;
    state
        .borrow_mut()
        .borrow_mut::<IdbRealm>()
        .pending
        .insert(request);
    Ok((request, blocked))
}

#[op2]
pub(crate) async fn op_idb_delete_database_finish(
    state: Rc<RefCell<OpState>>,
    request: f64,
) -> Result<f64> {
    let (backend, _) = realm(&state);
    let request = request as u64;
    let result = backend.finish_delete(request).await;
    state
        .borrow_mut()
        .borrow_mut::<IdbRealm>()
        .pending
        .remove(&request);
    Ok(result? as f64)
}

#[op2]
#[serde]
pub(crate) async fn op_idb_databases(state: Rc<RefCell<OpState>>) -> Result<Vec<(String, u64)>> {
    let (backend, origin) = realm(&state);
    backend.databases(&origin?).await
}

/// `navigator.storage.estimate()`: [usage, quota].
#[op2]
#[serde]
pub(crate) async fn op_idb_estimate(state: Rc<RefCell<OpState>>) -> Result<(u64, u64)> {
    let (backend, origin) = realm(&state);
    let usage = backend.usage(&origin?).await?;
    Ok((usage, backend.quota()))
}

fn blob_store(state: &OpState) -> Arc<dyn deno_web::BlobStoreTrait> {
    state.borrow::<Arc<dyn deno_web::BlobStoreTrait>>().clone()
}

/// The bytes of a blob part of the realm's blob store, for a stored value
/// that must outlive the realm.
#[op2]
#[buffer]
pub(crate) fn op_idb_blob_read(state: &mut OpState, #[string] id: &str) -> Result<Vec<u8>> {
    use futures::FutureExt;
    let gone = || IdbError::DataClone("The Blob's data is no longer available.".into());
    let id = uuid::Uuid::parse_str(id).map_err(|_| gone())?;
    let part = blob_store(state).get_part(&id).ok_or_else(gone)?;
    // Parts are bytes in memory: reading them completes at once.
    let bytes = part.read().now_or_never().ok_or_else(gone)?.to_vec();
    Ok(bytes)
}

/// Puts stored Blob bytes in the realm's blob store; returns the part's id.
#[op2]
#[string]
pub(crate) fn op_idb_blob_insert(state: &mut OpState, #[buffer] bytes: &[u8]) -> String {
    let part = deno_web::InMemoryBlobPart::from(bytes.to_vec());
    blob_store(state).insert_part(Arc::new(part)).to_string()
}

/// Resolves on a later turn of the event loop: each IndexedDB event is
/// fired in a task of its own, after the microtasks of the one before.
#[op2]
pub(crate) async fn op_idb_tick() {
    tokio::task::yield_now().await;
}

#[op2]
pub(crate) fn op_idb_txn_create(
    state: &mut OpState,
    conn: f64,
    #[serde] scope: Vec<u64>,
    #[string] mode: &str,
    #[string] durability: &str,
) -> Result<f64> {
    let realm = state.borrow_mut::<IdbRealm>();
    let db = realm.conn(conn)?;
    let mode = match mode {
        "readwrite" => Mode::Readwrite,
        _ => Mode::Readonly,
    };
    let durability = match durability {
        "relaxed" => Durability::Relaxed,
        _ => Durability::Strict,
    };
    let txn = realm
        .backend
        .create_transaction(&db, conn as u64, &scope, mode, durability)?;
    realm.txns.insert(txn, db);
    Ok(txn as f64)
}

#[op2(fast)]
pub(crate) fn op_idb_txn_try_start(state: &mut OpState, txn: f64) -> bool {
    let realm = state.borrow::<IdbRealm>();
    match realm.txn(txn) {
        Ok(db) => realm.backend.try_start(&db, txn as u64),
        Err(_) => true,
    }
}

#[op2]
pub(crate) async fn op_idb_txn_start(state: Rc<RefCell<OpState>>, txn: f64) {
    if let Ok((backend, db)) = backend_and_txn(&state, txn) {
        backend.start(&db, txn as u64).await;
    }
}

/// Pending until the transaction has finished: a realm with a running
/// transaction has work in flight (its requests' events are fired by
/// immediates, which the host's idle check does not see).
#[op2]
pub(crate) async fn op_idb_txn_hold(state: Rc<RefCell<OpState>>, txn: f64) {
    if let Ok((backend, db)) = backend_and_txn(&state, txn) {
        backend.finished(&db, txn as u64).await;
    }
}

#[op2]
pub(crate) async fn op_idb_txn_commit(state: Rc<RefCell<OpState>>, txn: f64) -> Result<()> {
    let (backend, db) = backend_and_txn(&state, txn)?;
    let result = backend.commit(&db, txn as u64).await;
    state
        .borrow_mut()
        .borrow_mut::<IdbRealm>()
        .txns
        .remove(&(txn as u64));
    result
}

#[op2(fast)]
pub(crate) fn op_idb_txn_abort(state: &mut OpState, txn: f64) {
    let realm = state.borrow_mut::<IdbRealm>();
    if let Some(db) = realm.txns.remove(&(txn as u64)) {
        realm.backend.abort(&db, txn as u64);
    }
}

/// The schema a connection sees now (after an aborted upgrade, say).
#[op2]
#[serde]
pub(crate) fn op_idb_meta(state: &mut OpState, conn: f64) -> Result<DbMeta> {
    let realm = state.borrow::<IdbRealm>();
    let db = realm.conn(conn)?;
    Ok(realm.backend.meta(&db))
}

fn with_txn<T>(
    state: &mut OpState,
    txn: f64,
    f: impl FnOnce(&Backend, &Database, u64) -> Result<T>,
) -> Result<T> {
    let realm = state.borrow::<IdbRealm>();
    let db = realm.txn(txn)?;
    f(&realm.backend, &db, txn as u64)
}

#[op2]
pub(crate) fn op_idb_create_store(
    state: &mut OpState,
    txn: f64,
    #[string] name: String,
    #[serde] key_path: serde_json::Value,
    auto_increment: bool,
) -> Result<f64> {
    with_txn(state, txn, |b, db, t| {
        b.create_store(db, t, &name, key_path, auto_increment)
            .map(|id| id as f64)
    })
}

#[op2(fast)]
pub(crate) fn op_idb_delete_store(state: &mut OpState, txn: f64, store: f64) -> Result<()> {
    with_txn(state, txn, |b, db, t| b.delete_store(db, t, store as u64))
}

#[op2(fast)]
pub(crate) fn op_idb_rename_store(
    state: &mut OpState,
    txn: f64,
    store: f64,
    #[string] name: String,
) -> Result<()> {
    with_txn(state, txn, |b, db, t| {
        b.rename_store(db, t, store as u64, &name)
    })
}

#[op2]
pub(crate) fn op_idb_create_index(
    state: &mut OpState,
    txn: f64,
    store: f64,
    #[string] name: String,
    #[serde] key_path: serde_json::Value,
    unique: bool,
    multi_entry: bool,
) -> Result<f64> {
    with_txn(state, txn, |b, db, t| {
        b.create_index(db, t, store as u64, &name, key_path, unique, multi_entry)
            .map(|id| id as f64)
    })
}

#[op2(fast)]
pub(crate) fn op_idb_add_index_keys(
    state: &mut OpState,
    txn: f64,
    store: f64,
    index: f64,
    #[buffer] primary_key: &[u8],
    #[buffer] keys: &[u8],
) -> Result<()> {
    let keys = unpack(keys)?;
    with_txn(state, txn, |b, db, t| {
        b.add_index_keys(db, t, store as u64, index as u64, primary_key, keys)
    })
}

#[op2(fast)]
pub(crate) fn op_idb_delete_index(
    state: &mut OpState,
    txn: f64,
    store: f64,
    index: f64,
) -> Result<()> {
    with_txn(state, txn, |b, db, t| {
        b.delete_index(db, t, store as u64, index as u64)
    })
}

#[op2(fast)]
pub(crate) fn op_idb_rename_index(
    state: &mut OpState,
    txn: f64,
    store: f64,
    index: f64,
    #[string] name: String,
) -> Result<()> {
    with_txn(state, txn, |b, db, t| {
        b.rename_index(db, t, store as u64, index as u64, &name)
    })
}

#[op2(fast)]
pub(crate) fn op_idb_generate_key(state: &mut OpState, txn: f64, store: f64) -> Result<f64> {
    with_txn(state, txn, |b, db, t| b.generate_key(db, t, store as u64))
}

/// `index_keys`: for each index, its id, then its keys (see [`unpack`]).
#[op2(fast)]
pub(crate) fn op_idb_put(
    state: &mut OpState,
    txn: f64,
    store: f64,
    #[buffer] key: &[u8],
    #[buffer] value: &[u8],
    #[buffer] index_keys: &[u8],
    no_overwrite: bool,
) -> Result<()> {
    let index_keys = unpack_index_keys(index_keys)?;
    with_txn(state, txn, |b, db, t| {
        b.put(
            db,
            t,
            store as u64,
            key.to_vec(),
            value.to_vec(),
            index_keys,
            no_overwrite,
        )
    })
}

fn range(lower: &[u8], upper: &[u8], flags: u32) -> KeyRange {
    KeyRange {
        lower: (!lower.is_empty()).then(|| lower.to_vec()),
        upper: (!upper.is_empty()).then(|| upper.to_vec()),
        lower_open: flags & 1 != 0,
        upper_open: flags & 2 != 0,
    }
}

fn direction(d: u32) -> Direction {
    match d {
        1 => Direction::NextUnique,
        2 => Direction::Prev,
        3 => Direction::PrevUnique,
        _ => Direction::Next,
    }
}

fn index(i: f64) -> Option<u64> {
    (i >= 0.0).then_some(i as u64)
}

#[op2(fast)]
pub(crate) fn op_idb_delete(
    state: &mut OpState,
    txn: f64,
    store: f64,
    #[buffer] lower: &[u8],
    #[buffer] upper: &[u8],
    flags: u32,
) -> Result<()> {
    let r = range(lower, upper, flags);
    with_txn(state, txn, |b, db, t| b.delete(db, t, store as u64, &r))
}

#[op2(fast)]
pub(crate) fn op_idb_clear(state: &mut OpState, txn: f64, store: f64) -> Result<()> {
    with_txn(state, txn, |b, db, t| b.clear(db, t, store as u64))
}

#[op2(fast)]
pub(crate) fn op_idb_count(
    state: &mut OpState,
    txn: f64,
    store: f64,
    index_id: f64,
    #[buffer] lower: &[u8],
    #[buffer] upper: &[u8],
    flags: u32,
) -> Result<f64> {
    let r = range(lower, upper, flags);
    with_txn(state, txn, |b, db, t| {
        b.count(db, t, store as u64, index(index_id), &r)
            .map(|n| n as f64)
    })
}

/// Records in a range: for each, the fields `what` asks for (1: key, 2:
/// primary key, 4: value), each as a length-prefixed byte string.
#[op2]
#[buffer]
pub(crate) fn op_idb_get_all(
    state: &mut OpState,
    txn: f64,
    store: f64,
    index_id: f64,
    #[buffer] lower: &[u8],
    #[buffer] upper: &[u8],
    flags: u32,
    limit: u32,
    dir: u32,
    what: u32,
) -> Result<Vec<u8>> {
    let r = range(lower, upper, flags);
    let found = with_txn(state, txn, |b, db, t| {
        b.get_all(
            db,
            t,
            store as u64,
            index(index_id),
            &r,
            limit,
            direction(dir),
        )
    })?;
    let mut out = Vec::new();
    for f in &found {
        pack_found(&mut out, f, what);
    }
    Ok(out)
}

/// One cursor step (see `op_idb_get_all` for the result); empty when the
/// cursor is done. Empty key arguments are absent; `target` is the packed
/// key (and primary key) of `continue()` / `continuePrimaryKey()`. Up to
/// `prefetch` records after the one found follow it.
#[op2]
#[buffer]
pub(crate) fn op_idb_cursor(
    state: &mut OpState,
    txn: f64,
    store: f64,
    index_id: f64,
    #[buffer] lower: &[u8],
    #[buffer] upper: &[u8],
    flags: u32,
    dir: u32,
    #[buffer] position_key: &[u8],
    #[buffer] position_primary_key: &[u8],
    #[buffer] target: &[u8],
    count: u32,
    what: u32,
    prefetch: u32,
) -> Result<Vec<u8>> {
    let r = range(lower, upper, flags);
    let mut target = unpack(target)?.into_iter();
    let step = CursorStep {
        position: (!position_key.is_empty())
            .then(|| (position_key.to_vec(), position_primary_key.to_vec())),
        target_key: target.next(),
        target_primary_key: target.next(),
        count,
    };
    let found = with_txn(state, txn, |b, db, t| {
        b.cursor_step(
            db,
            t,
            store as u64,
            index(index_id),
            &r,
            direction(dir),
            &step,
        )
    })?;
    let mut out = Vec::new();
    let Some(mut last) = found else {
        return Ok(out);
    };
    pack_found(&mut out, &last, what);
    // The records after it, for `continue()` calls to come.
    for _ in 0..prefetch {
        let step = CursorStep {
            position: Some((last.key.clone(), last.primary_key.clone())),
            count: 1,
            ..CursorStep::default()
        };
        let next = with_txn(state, txn, |b, db, t| {
            b.cursor_step(
                db,
                t,
                store as u64,
                index(index_id),
                &r,
                direction(dir),
                &step,
            )
        })?;
        let Some(next) = next else {
            break;
        };
        pack_found(&mut out, &next, what);
        last = next;
    }
    Ok(out)
}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn pack_found(out: &mut Vec<u8>, f: &Found, what: u32) {
    if what & 1 != 0 {
        push_bytes(out, &f.key);
    }
    if what & 2 != 0 {
        push_bytes(out, &f.primary_key);
    }
    if what & 4 != 0 {
        push_bytes(out, &f.value);
    }
}

fn malformed() -> IdbError {
    IdbError::Data("malformed key list".into())
}

/// Length-prefixed (u32 little endian) byte strings, back to back.
fn unpack(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 4 {
            return Err(malformed());
        }
        let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        bytes = &bytes[4..];
        if bytes.len() < len {
            return Err(malformed());
        }
        out.push(bytes[..len].to_vec());
        bytes = &bytes[len..];
    }
    Ok(out)
}

/// For each index: a length-prefixed id (decimal text), a length-prefixed
/// count n (decimal text), then n length-prefixed keys.
fn unpack_index_keys(bytes: &[u8]) -> Result<Vec<(u64, Vec<Vec<u8>>)>> {
    let items = unpack(bytes)?;
    let mut items = items.into_iter();
    let mut out = Vec::new();
    let number = |b: Vec<u8>| -> Result<u64> {
        std::str::from_utf8(&b)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(malformed)
    };
    while let Some(id) = items.next() {
        let id = number(id)?;
        let count = number(items.next().ok_or_else(malformed)?)?;
        let mut keys = Vec::new();
        for _ in 0..count {
            keys.push(items.next().ok_or_else(malformed)?);
        }
        out.push((id, keys));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_lists_round_trip_and_bad_ones_are_refused() {
        let mut packed = Vec::new();
        for part in [&b"1"[..], b"2", b"ab", b"", b"7", b"0"] {
            push_bytes(&mut packed, part);
        }
        assert_eq!(
            unpack_index_keys(&packed).unwrap(),
            vec![(1, vec![b"ab".to_vec(), vec![]]), (7, vec![])]
        );
        assert!(unpack(&packed[..packed.len() - 1]).is_err());
        assert!(unpack_index_keys(&packed[..12]).is_err());
    }
}
