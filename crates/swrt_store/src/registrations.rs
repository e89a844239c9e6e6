//! Service-worker registration rows.

use crate::error::Result;
use crate::model::SwRegistration;
use crate::Store;
use rusqlite::{params, OptionalExtension};

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SwRegistration> {
    Ok(SwRegistration {
        scope: r.get(0)?,
        script_url: r.get(1)?,
        state: r.get(2)?,
        created_ms: r.get(3)?,
        updated_ms: r.get(4)?,
        worker_type: r.get(5)?,
        script_source: r.get(6)?,
        imported_scripts: json_column(r, 7)?,
        script_csp: json_column(r, 8)?,
    })
}

fn json_column<T: serde::de::DeserializeOwned>(
    r: &rusqlite::Row<'_>,
    index: usize,
) -> rusqlite::Result<T> {
    let json: String = r.get(index)?;
    serde_json::from_str(&json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl Store {
    /// Insert or replace a registration (keyed by scope; `created_ms` of an
    /// existing row is kept).
    pub fn put_registration(&self, reg: &SwRegistration) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO sw_registrations(scope, script_url, state, created_ms, updated_ms,
                worker_type, script_source, imported_scripts, script_csp)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(scope) DO UPDATE SET script_url = ?2, state = ?3, updated_ms = ?5,
                worker_type = ?6, script_source = ?7, imported_scripts = ?8, script_csp = ?9",
            params![
                reg.scope,
                reg.script_url,
                reg.state,
                reg.created_ms,
                reg.updated_ms,
                reg.worker_type,
                reg.script_source,
                serde_json::to_string(&reg.imported_scripts).expect("strings serialize"),
                serde_json::to_string(&reg.script_csp).expect("strings serialize"),
            ],
        )?;
        Ok(())
    }

    /// A registration by scope.
    pub fn get_registration(&self, scope: &str) -> Result<Option<SwRegistration>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT scope, script_url, state, created_ms, updated_ms, worker_type, script_source, imported_scripts, script_csp FROM sw_registrations WHERE scope = ?1",
                [scope],
                from_row,
            )
            .optional()?)
    }

    /// All registrations, by scope.
    pub fn list_registrations(&self) -> Result<Vec<SwRegistration>> {
        let conn = self.conn()?;
        let mut st = conn.prepare(
            "SELECT scope, script_url, state, created_ms, updated_ms, worker_type, script_source, imported_scripts, script_csp FROM sw_registrations ORDER BY scope",
        )?;
        let v = st
            .query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(v)
    }

    /// Remove a registration. Returns whether it existed.
    pub fn delete_registration(&self, scope: &str) -> Result<bool> {
        Ok(self
            .conn()?
            .execute("DELETE FROM sw_registrations WHERE scope = ?1", [scope])?
            == 1)
    }
}
