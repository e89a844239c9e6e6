//! The database under the store: one connection to SQLite (embedded) or to
//! PostgreSQL (shared by a fleet), behind one small API.
//!
//! The store's statements are written once, in the SQL both engines speak:
//! `?N` placeholders (rewritten to `$N` for PostgreSQL), `ON CONFLICT`
//! upserts, `RETURNING`, and `CAST(SUM(..) AS BIGINT)` where PostgreSQL
//! would answer a NUMERIC. Rows come back as owned [`Value`]s, so the code
//! that decodes them does not know which engine answered.

mod postgres;
mod sqlite;

pub use postgres::tls_connector as postgres_tls_connector;
pub(crate) use postgres::PgConn;
pub(crate) use sqlite::STATEMENT_CACHE as SQLITE_STATEMENT_CACHE;

/// A column value, in SQLite's five storage classes (PostgreSQL's types map
/// onto them: integers and booleans to `Integer`, text to `Text`, bytea to
/// `Blob`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed, or its connection did.
    #[error("postgres: {0}")]
    Postgres(String),
    /// Another process holds the store's lock on the database.
    #[error("the database is in use by another swrt process")]
    InUse,
    /// A query that must answer one row answered none.
    #[error("the query returned no rows")]
    NoRows,
    /// A column did not hold what the store expected of it.
    #[error("column {column}: {message}")]
    Decode {
        /// The column's index in the row.
        column: usize,
        /// What was wrong with it.
        message: String,
    },
    /// A row decoded, but its content is not something this build knows.
    #[error(transparent)]
    Corrupt(Box<crate::StoreError>),
}

impl SqlError {
    /// True when the database's disk is full.
    pub(crate) fn is_storage_full(&self) -> bool {
        match self {
            SqlError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.code == rusqlite::ErrorCode::DiskFull
            }
            // SQLSTATE 53100, disk_full.
            SqlError::Postgres(message) => message.contains("53100"),
            _ => false,
        }
    }
}

pub(crate) type SqlResult<T> = std::result::Result<T, SqlError>;

/// A value the store binds as a statement parameter.
pub(crate) trait ToValue {
    fn to_value(&self) -> Value;
}

/// A value the store reads out of a column.
pub(crate) trait FromValue: Sized {
    fn from_value(value: &Value) -> std::result::Result<Self, String>;
}

/// The parameters of one statement.
pub(crate) type Params<'a> = &'a [&'a dyn ToValue];

/// `params![a, b]`: a statement's parameters, bound by position as `?1`, `?2`.
macro_rules! params {
    () => { &[] as $crate::sql::Params<'_> };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::sql::ToValue),+] as $crate::sql::Params<'_> };
}
pub(crate) use params;

/// One row of a result, owned.
#[derive(Debug)]
pub(crate) struct Row {
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn new(values: Vec<Value>) -> Row {
        Row { values }
    }

    /// Column `index`, converted.
    pub(crate) fn get<T: FromValue>(&self, index: usize) -> SqlResult<T> {
        let value = self.values.get(index).ok_or(SqlError::Decode {
            column: index,
            message: "no such column".into(),
        })?;
        T::from_value(value).map_err(|message| SqlError::Decode {
            column: index,
            message,
        })
    }
}

/// `.optional()` on a single-row query: no row is `None`, not an error.
pub(crate) trait OptionalExtension<T> {
    fn optional(self) -> SqlResult<Option<T>>;
}

impl<T> OptionalExtension<T> for SqlResult<T> {
    fn optional(self) -> SqlResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(SqlError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// An open connection to the store's database.
pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(PgConn),
}

/// How a transaction starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// Reads see a snapshot; writers serialise at their first write.
    Deferred,
    /// Serialised against every other `Exclusive` transaction from the
    /// start, across processes: for read-check-then-write sequences such as
    /// a quota check followed by an insert.
    Exclusive,
}

impl Db {
    /// Run one statement; the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: Params<'_>) -> SqlResult<usize> {
        match self {
            Db::Sqlite(c) => sqlite::execute(c, sql, params),
            Db::Postgres(c) => c.execute(sql, params),
        }
    }

    /// Run statements separated by `;`, without parameters.
    pub(crate) fn execute_batch(&self, sql: &str) -> SqlResult<()> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(c) => c.execute_batch(sql),
        }
    }

    /// Every row of a query, each decoded by `f`.
    pub(crate) fn query_map<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        mut f: impl FnMut(&Row) -> SqlResult<T>,
    ) -> SqlResult<Vec<T>> {
        let rows = match self {
            Db::Sqlite(c) => sqlite::query(c, sql, params)?,
            Db::Postgres(c) => c.query(sql, params)?,
        };
        rows.iter().map(&mut f).collect()
    }

    /// The first row of a query, decoded by `f`; [`SqlError::NoRows`] when
    /// there is none.
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        f: impl FnOnce(&Row) -> SqlResult<T>,
    ) -> SqlResult<T> {
        let rows = match self {
            Db::Sqlite(c) => sqlite::query(c, sql, params)?,
            Db::Postgres(c) => c.query(sql, params)?,
        };
        f(rows.first().ok_or(SqlError::NoRows)?)
    }

    /// Start a transaction; it rolls back unless [`Tx::commit`] is called.
    pub(crate) fn transaction(&mut self) -> SqlResult<Tx<'_>> {
        self.transaction_with(Begin::Deferred)
    }

    /// Start a transaction the way `begin` says.
    pub(crate) fn transaction_with(&mut self, begin: Begin) -> SqlResult<Tx<'_>> {
        match self {
            Db::Sqlite(c) => c.execute_batch(match begin {
                Begin::Deferred => "BEGIN DEFERRED",
                Begin::Exclusive => "BEGIN IMMEDIATE",
            })?,
            Db::Postgres(c) => c.begin(begin)?,
        }
        Ok(Tx {
            db: self,
            open: true,
        })
    }

    /// The SQLite connection, for SQLite's own settings; `None` on PostgreSQL.
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(c) => Some(c),
            Db::Postgres(_) => None,
        }
    }

    /// Close the connection, reporting what the engine says on the way out.
    pub(crate) fn close(self) -> SqlResult<()> {
        match self {
            Db::Sqlite(c) => {
                // Fold the WAL into the main file so the next open starts small.
                let _ = c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
                c.close().map_err(|(_, e)| SqlError::from(e))
            }
            Db::Postgres(c) => {
                drop(c);
                Ok(())
            }
        }
    }
}

/// An open transaction on a [`Db`]. Statements run through it (it
/// dereferences to the `Db`); dropping it without [`Tx::commit`] rolls back.
pub(crate) struct Tx<'a> {
    db: &'a mut Db,
    open: bool,
}

impl Tx<'_> {
    pub(crate) fn commit(mut self) -> SqlResult<()> {
        self.open = false;
        self.db.execute_batch("COMMIT")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            if let Err(e) = self.db.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "rolling back a transaction failed");
            }
        }
    }
}

// Conversions. Integers of every width travel as i64, booleans as 0 and 1
// (SQLite has no boolean type), enums of the model as their text.

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

macro_rules! integer_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Integer(*self as i64)
            }
        }
        impl FromValue for $t {
            fn from_value(value: &Value) -> std::result::Result<Self, String> {
                match value {
                    Value::Integer(i) => <$t>::try_from(*i)
                        .map_err(|_| format!("{i} is out of range for {}", stringify!($t))),
                    other => Err(format!("expected an integer, found {other:?}")),
                }
            }
        }
    )*};
}
integer_value!(i64, i32, u32, u16, u8);

impl ToValue for u64 {
    fn to_value(&self) -> Value {
        // Byte counts and sizes; no stored count comes near 2^63.
        Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToValue for usize {
    fn to_value(&self) -> Value {
        Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Integer(*self as i64)
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> std::result::Result<Self, String> {
        match value {
            Value::Integer(i) => Ok(*i != 0),
            other => Err(format!("expected a boolean, found {other:?}")),
        }
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> std::result::Result<Self, String> {
        match value {
            Value::Real(f) => Ok(*f),
            Value::Integer(i) => Ok(*i as f64),
            other => Err(format!("expected a number, found {other:?}")),
        }
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> std::result::Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> std::result::Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(format!("expected a blob, found {other:?}")),
        }
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> std::result::Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Db {
        Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap())
    }

    #[test]
    fn values_round_trip_through_sqlite() {
        let db = memory();
        db.execute_batch("CREATE TABLE t(i INTEGER, s TEXT, b BLOB, n INTEGER, f REAL)")
            .unwrap();
        db.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
            params![-7i64, "text", vec![0u8, 255], None::<i64>, 1.5f64],
        )
        .unwrap();
        let row = db
            .query_row("SELECT i, s, b, n, f FROM t", params![], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<String>(1)?,
                    r.get::<Vec<u8>>(2)?,
                    r.get::<Option<i64>>(3)?,
                    r.get::<f64>(4)?,
                ))
            })
            .unwrap();
        assert_eq!(row, (-7, "text".into(), vec![0, 255], None, 1.5));
        let err = db
            .query_row("SELECT s FROM t", params![], |r| r.get::<i64>(0))
            .unwrap_err();
        assert!(err.to_string().contains("expected an integer"), "{err}");
        assert!(matches!(
            db.query_row("SELECT i FROM t WHERE i = 0", params![], |r| r
                .get::<i64>(0)),
            Err(SqlError::NoRows)
        ));
    }

    #[test]
    fn a_dropped_transaction_rolls_back() {
        let mut db = memory();
        db.execute_batch("CREATE TABLE t(i INTEGER)").unwrap();
        {
            let tx = db.transaction().unwrap();
            tx.execute("INSERT INTO t VALUES (1)", params![]).unwrap();
        }
        let tx = db.transaction_with(Begin::Exclusive).unwrap();
        tx.execute("INSERT INTO t VALUES (2)", params![]).unwrap();
        tx.commit().unwrap();
        let all = db
            .query_map("SELECT i FROM t", params![], |r| r.get::<i64>(0))
            .unwrap();
        assert_eq!(all, [2]);
    }
}
