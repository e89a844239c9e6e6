//! Service-worker registration rows.

use crate::error::Result;
use crate::model::{SwRegistration, UpdateViaCache};
use crate::sql::{params, OptionalExtension, Row, SqlResult};
use crate::Store;

/// The columns [`from_row`] reads, in its order.
const COLUMNS: &str = "scope, script_url, state, created_ms, updated_ms, worker_type, \
     script_source, imported_scripts, script_csp, update_via_cache, \
     navigation_preload_enabled, navigation_preload_header, last_update_check_ms, router_rules";

fn from_row(r: &Row) -> SqlResult<SwRegistration> {
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
        update_via_cache: r.get(9)?,
        navigation_preload_enabled: r.get(10)?,
        navigation_preload_header: r.get(11)?,
        last_update_check_ms: r.get(12)?,
        router_rules: r.get(13)?,
    })
}

fn json_column<T: serde::de::DeserializeOwned>(r: &Row, index: usize) -> SqlResult<T> {
    let json: String = r.get(index)?;
    crate::fetch::json_col(&json)
}

impl Store {
    /// Insert or replace a registration (keyed by scope; `created_ms` of an
    /// existing row is kept).
    pub fn put_registration(&self, reg: &SwRegistration) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO sw_registrations(scope, script_url, state, created_ms, updated_ms,
                worker_type, script_source, imported_scripts, script_csp, update_via_cache,
                navigation_preload_enabled, navigation_preload_header, last_update_check_ms,
                router_rules)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT(scope) DO UPDATE SET script_url = ?2, state = ?3, updated_ms = ?5,
                worker_type = ?6, script_source = ?7, imported_scripts = ?8, script_csp = ?9,
                update_via_cache = ?10, navigation_preload_enabled = ?11,
                navigation_preload_header = ?12, last_update_check_ms = ?13, router_rules = ?14",
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
                reg.update_via_cache,
                reg.navigation_preload_enabled,
                reg.navigation_preload_header,
                reg.last_update_check_ms,
                reg.router_rules,
            ],
        )?;
        Ok(())
    }

    /// Records an update check of a stored registration: when it fetched the
    /// main script and the update via cache mode it now has. Returns whether
    /// the registration is stored (one whose first worker has not activated
    /// yet is not).
    pub fn set_registration_update_check(
        &self,
        scope: &str,
        last_update_check_ms: i64,
        update_via_cache: UpdateViaCache,
    ) -> Result<bool> {
        Ok(self.conn()?.execute(
            "UPDATE sw_registrations SET last_update_check_ms = ?2, update_via_cache = ?3
             WHERE scope = ?1",
            params![scope, last_update_check_ms, update_via_cache],
        )? == 1)
    }

    /// Records a stored registration's navigation preload state. Returns
    /// whether the registration is stored.
    pub fn set_registration_navigation_preload(
        &self,
        scope: &str,
        enabled: bool,
        header_value: &str,
    ) -> Result<bool> {
        Ok(self.conn()?.execute(
            "UPDATE sw_registrations
             SET navigation_preload_enabled = ?2, navigation_preload_header = ?3
             WHERE scope = ?1",
            params![scope, enabled, header_value],
        )? == 1)
    }

    /// A registration by scope.
    pub fn get_registration(&self, scope: &str) -> Result<Option<SwRegistration>> {
        Ok(self
            .conn()?
            .query_row(
                &format!("SELECT {COLUMNS} FROM sw_registrations WHERE scope = ?1"),
                params![scope],
                from_row,
            )
            .optional()?)
    }

    /// All registrations, by scope.
    pub fn list_registrations(&self) -> Result<Vec<SwRegistration>> {
        Ok(self.conn()?.query_map(
            &format!("SELECT {COLUMNS} FROM sw_registrations ORDER BY scope"),
            params![],
            from_row,
        )?)
    }

    /// Remove a registration. Returns whether it existed.
    pub fn delete_registration(&self, scope: &str) -> Result<bool> {
        Ok(self.conn()?.execute(
            "DELETE FROM sw_registrations WHERE scope = ?1",
            params![scope],
        )? == 1)
    }
}
