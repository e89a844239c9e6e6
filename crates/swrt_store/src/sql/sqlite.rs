//! The SQLite side of [`super::Db`]: statements through the connection's
//! statement cache (the per-record statements run thousands of times per
//! fetch; parsing them each time was a visible cost), rows copied out.

use super::{Params, Row, SqlResult, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;

/// Statements kept prepared per connection: every statement the store has
/// fits, so none is parsed twice.
pub(crate) const STATEMENT_CACHE: usize = 128;

struct Bound<'a>(&'a Value);

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Integer(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn bind(params: Params<'_>) -> Vec<Value> {
    params.iter().map(|p| p.to_value()).collect()
}

pub(super) fn execute(c: &Connection, sql: &str, params: Params<'_>) -> SqlResult<usize> {
    let values = bind(params);
    let bound: Vec<Bound<'_>> = values.iter().map(Bound).collect();
    Ok(c.prepare_cached(sql)?
        .execute(rusqlite::params_from_iter(bound.iter()))?)
}

pub(super) fn query(c: &Connection, sql: &str, params: Params<'_>) -> SqlResult<Vec<Row>> {
    let values = bind(params);
    let bound: Vec<Bound<'_>> = values.iter().map(Bound).collect();
    let mut statement = c.prepare_cached(sql)?;
    let columns = statement.column_count();
    let mut rows = statement.query(rusqlite::params_from_iter(bound.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Integer(i),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(Row::new(values));
    }
    Ok(out)
}
