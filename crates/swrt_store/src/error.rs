//! Typed errors of the store.

use std::path::PathBuf;

/// Everything that can go wrong while reading or writing durable state.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (or another `Store` in this process) holds the data
    /// directory. Two writers on one SQLite file plus body directory would
    /// interleave body files, so the second opener is refused instead.
    #[error(
        "data directory is in use by another swrt process (lock file {path} is held); \
         stop that process or choose another --data-dir"
    )]
    Locked {
        /// The lock file that could not be acquired.
        path: PathBuf,
    },
    /// Another swrt process has the store's PostgreSQL database open. Two
    /// would resume and dispatch the same fetches, so the second is refused.
    #[error(
        "the database {0} is in use by another swrt process; stop that process or use another \
         database"
    )]
    DatabaseInUse(String),
    /// The database was written by a newer swrt whose schema this build does not know.
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// `PRAGMA user_version` found on disk.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// An active background fetch with this developer id already exists in the registration.
    #[error("an active background fetch with id {id:?} already exists for {scope}")]
    DuplicateActive {
        /// Service-worker registration scope.
        scope: String,
        /// Developer-supplied id.
        id: String,
    },
    /// The store was closed ([`crate::Store::close`]); the engine is shutting down.
    #[error("the data directory was closed")]
    Closed,
    /// A row that the caller referred to does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Stored data could not be decoded (a corrupted or hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database file is missing or empty while body files remain: it was
    /// deleted or truncated, and opening would forget those downloads.
    #[error("{0}")]
    DatabaseLost(String),
    /// A write would take the origin past its storage quota; nothing was written.
    #[error(
        "storage quota exceeded: {usage} bytes used, {requested} more requested, quota {quota}"
    )]
    QuotaExceeded {
        /// Bytes the origin stores now.
        usage: u64,
        /// Bytes the write would add.
        requested: u64,
        /// The origin's quota.
        quota: u64,
    },
    /// The database (SQLite or PostgreSQL) failed.
    #[error("database: {0}")]
    Database(crate::sql::SqlError),
    /// File-system failure (body files, lock file, directory creation). A full
    /// disk shows up here with `ErrorKind::StorageFull`.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// JSON column could not be (de)serialised.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl StoreError {
    /// True when the underlying cause is a full disk / exhausted quota on the
    /// file system, which the engine maps to `quota-exceeded`.
    pub fn is_storage_full(&self) -> bool {
        match self {
            StoreError::Io(e) => is_storage_full_io(e),
            StoreError::Database(e) => e.is_storage_full(),
            _ => false,
        }
    }
}

impl From<crate::sql::SqlError> for StoreError {
    fn from(e: crate::sql::SqlError) -> Self {
        match e {
            // A row the store could not make sense of is the store's own
            // error, whichever database held it.
            crate::sql::SqlError::Corrupt(inner) => *inner,
            other => StoreError::Database(other),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.into())
    }
}

/// True when an I/O error means "no space left" (ENOSPC) or "quota exceeded" (EDQUOT).
pub fn is_storage_full_io(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
