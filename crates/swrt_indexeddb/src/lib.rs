//! IndexedDB (Indexed Database API 3.0) and StorageManager for swrt realms.
//!
//! One [`backend::Backend`] per process holds the databases of every
//! origin; each realm reaches it through the ops of the [`swrt_indexeddb`]
//! extension and sees its own origin's databases. A database in use lives
//! in memory (B-trees of encoded keys, loaded from the store on first
//! open); a transaction changes it in place with an undo log for abort, and
//! a commit writes its changes to the store in one SQLite transaction
//! before `complete` fires. The JavaScript (`js/`) implements the IDB*
//! interfaces, key conversion and the request/transaction event order.

pub mod backend;
pub mod key;
mod ops;

pub use backend::{Backend, IdbError};
pub use ops::IdbRealm;

deno_core::extension!(
    swrt_indexeddb,
    ops = [
        ops::op_idb_open,
        ops::op_idb_upgrade,
        ops::op_idb_versionchange_next,
        ops::op_idb_versionchange_handled,
        ops::op_idb_close,
        ops::op_idb_delete_database,
        ops::op_idb_delete_database_finish,
        ops::op_idb_databases,
        ops::op_idb_estimate,
        ops::op_idb_tick,
        ops::op_idb_blob_read,
        ops::op_idb_blob_insert,
        ops::op_idb_txn_create,
        ops::op_idb_txn_try_start,
        ops::op_idb_txn_start,
        ops::op_idb_txn_hold,
        ops::op_idb_txn_commit,
        ops::op_idb_txn_abort,
        ops::op_idb_meta,
        ops::op_idb_create_store,
        ops::op_idb_delete_store,
        ops::op_idb_rename_store,
        ops::op_idb_create_index,
        ops::op_idb_add_index_keys,
        ops::op_idb_delete_index,
        ops::op_idb_rename_index,
        ops::op_idb_generate_key,
        ops::op_idb_put,
        ops::op_idb_delete,
        ops::op_idb_clear,
        ops::op_idb_count,
        ops::op_idb_get_all,
        ops::op_idb_cursor,
    ],
    // Loaded on first use of `indexedDB`, an IDB* interface or
    // `navigator.storage`: realms that never touch storage do not pay for it.
    lazy_loaded_js = [ dir "js", "01_indexeddb.js" ],
);
