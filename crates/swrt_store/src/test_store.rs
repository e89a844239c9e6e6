//! Opening a store in the unit tests. With `SWRT_TEST_POSTGRES` set (a
//! key=value connection string to a server the tests may create databases
//! on), the tests that are not about SQLite run against PostgreSQL: the same
//! assertions over the other database.

use crate::{Metadata, Store};
use std::path::Path;

/// The store for data directory `dir`: SQLite in `dir`, or, with
/// `SWRT_TEST_POSTGRES`, a PostgreSQL database of `dir`'s own (created on
/// first use, so reopening `dir` finds what was stored).
pub(crate) fn open(dir: &Path) -> crate::Result<Store> {
    Store::open_with(dir, metadata(dir), None)
}

/// Where [`open`] keeps `dir`'s metadata.
pub(crate) fn metadata(dir: &Path) -> Metadata {
    let Ok(server) = std::env::var("SWRT_TEST_POSTGRES") else {
        return Metadata::Sqlite;
    };
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut hasher);
    let name = format!("swrt_test_{:016x}", hasher.finish());
    let admin = crate::sql::Db::Postgres(crate::sql::PgConn::connect(&server, false).unwrap());
    if let Err(e) = admin.execute_batch(&format!("CREATE DATABASE {name}")) {
        assert!(e.to_string().contains("42P04"), "create {name}: {e}");
    }
    Metadata::Postgres {
        url: format!("{server} dbname={name}"),
        shared: false,
    }
}
