//! Versioned schema. SQLite's `PRAGMA user_version` holds the number of
//! migrations applied; each migration runs in its own transaction together
//! with the bump of `user_version`, so a crash mid-upgrade leaves the
//! previous version intact. PostgreSQL has its own list of migrations (its
//! types and identity columns differ), counted in `swrt_store_schema`.

mod postgres;

use crate::error::{Result, StoreError};
use crate::sql::{Db, PgConn};
use crate::BodyStorage;
use rusqlite::Connection;
use std::path::Path;

/// Ordered migrations. Never edit a shipped entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    r#"
    CREATE TABLE sw_registrations (
        scope        TEXT PRIMARY KEY,
        script_url   TEXT NOT NULL,
        state        TEXT NOT NULL,
        created_ms   INTEGER NOT NULL,
        updated_ms   INTEGER NOT NULL
    );

    CREATE TABLE bg_fetches (
        unique_id       TEXT PRIMARY KEY,
        scope           TEXT NOT NULL,
        id              TEXT NOT NULL,
        origin          TEXT NOT NULL,
        title           TEXT NOT NULL DEFAULT '',
        icons_json      TEXT NOT NULL DEFAULT '[]',
        ui_data         TEXT,
        policy_json     TEXT NOT NULL DEFAULT '{}',
        download_total  INTEGER NOT NULL DEFAULT 0,
        upload_total    INTEGER NOT NULL DEFAULT 0,
        downloaded      INTEGER NOT NULL DEFAULT 0,
        uploaded        INTEGER NOT NULL DEFAULT 0,
        state           TEXT NOT NULL,
        result          TEXT NOT NULL DEFAULT '',
        failure_reason  TEXT NOT NULL DEFAULT '',
        created_ms      INTEGER NOT NULL,
        updated_ms      INTEGER NOT NULL,
        settled_ms      INTEGER,
        done_ms         INTEGER
    );
    -- The spec allows one *active* fetch per (registration, id); finished ones
    -- may linger for click events, so the uniqueness is partial.
    CREATE UNIQUE INDEX bg_fetches_active_id ON bg_fetches(scope, id) WHERE state = 'active';
    CREATE INDEX bg_fetches_origin ON bg_fetches(origin, state);

    CREATE TABLE bg_records (
        fetch_uid        TEXT NOT NULL REFERENCES bg_fetches(unique_id) ON DELETE CASCADE,
        idx              INTEGER NOT NULL,
        method           TEXT NOT NULL,
        url              TEXT NOT NULL,
        req_headers      TEXT NOT NULL,
        mode             TEXT NOT NULL,
        credentials      TEXT NOT NULL,
        req_body_path    TEXT,
        req_body_len     INTEGER NOT NULL DEFAULT 0,
        status           INTEGER,
        status_text      TEXT,
        resp_headers     TEXT,
        resp_type        TEXT,
        url_list         TEXT,
        etag             TEXT,
        last_modified    TEXT,
        complete_length  INTEGER,
        body_path        TEXT,
        bytes_stored     INTEGER NOT NULL DEFAULT 0,
        outcome          TEXT NOT NULL DEFAULT 'pending',
        error_message    TEXT,
        PRIMARY KEY (fetch_uid, idx)
    );

    CREATE TABLE origin_usage (
        origin  TEXT PRIMARY KEY,
        bytes   INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE caches (
        cache_id    INTEGER PRIMARY KEY AUTOINCREMENT,
        origin      TEXT NOT NULL,
        name        TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        UNIQUE (origin, name)
    );

    CREATE TABLE cache_entries (
        entry_id       INTEGER PRIMARY KEY AUTOINCREMENT,
        cache_id       INTEGER NOT NULL REFERENCES caches(cache_id) ON DELETE CASCADE,
        url            TEXT NOT NULL,
        url_no_query   TEXT NOT NULL,
        method         TEXT NOT NULL,
        req_headers    TEXT NOT NULL,
        status         INTEGER NOT NULL,
        status_text    TEXT NOT NULL,
        resp_headers   TEXT NOT NULL,
        resp_type      TEXT NOT NULL,
        url_list       TEXT NOT NULL,
        body_path      TEXT,
        body_size      INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX cache_entries_lookup ON cache_entries(cache_id, url_no_query);
    "#,
    // 2: small response bodies share one pack file per fetch (no file per
    // record); `body_offset` is where a record's bytes start in `body_path`.
    r#"
    ALTER TABLE bg_records ADD COLUMN body_offset INTEGER NOT NULL DEFAULT 0;
    "#,
    // 3: module service workers (rows written before are classic), and the
    // active worker's script and imported scripts, so a restart runs the
    // code that was installed, without the network.
    r#"
    ALTER TABLE sw_registrations ADD COLUMN worker_type TEXT NOT NULL DEFAULT 'classic';
    ALTER TABLE sw_registrations ADD COLUMN script_source TEXT;
    ALTER TABLE sw_registrations ADD COLUMN imported_scripts TEXT NOT NULL DEFAULT '[]';
    "#,
    // 4: a record's request keeps its integrity metadata (Subresource
    // Integrity), checked when the body is complete.
    r#"
    ALTER TABLE bg_records ADD COLUMN integrity TEXT NOT NULL DEFAULT '';
    "#,
    // 5: the active worker's Content Security Policy, delivered with its
    // script, so a restarted worker enforces what the installed one did.
    r#"
    ALTER TABLE sw_registrations ADD COLUMN script_csp TEXT NOT NULL DEFAULT '[]';
    "#,
    // 6: IndexedDB. `meta` is the database's version, object stores,
    // indexes and key generators (JSON, owned by swrt_indexeddb); a record
    // keeps its encoded key, its serialized value and its index keys, so
    // the indexes are rebuilt from the records without running script.
    r#"
    CREATE TABLE idb_databases (
        db_id    INTEGER PRIMARY KEY AUTOINCREMENT,
        origin   TEXT NOT NULL,
        name     TEXT NOT NULL,
        version  INTEGER NOT NULL,
        meta     TEXT NOT NULL,
        UNIQUE (origin, name)
    );
    CREATE TABLE idb_records (
        db_id       INTEGER NOT NULL REFERENCES idb_databases(db_id) ON DELETE CASCADE,
        store_id    INTEGER NOT NULL,
        key         BLOB NOT NULL,
        value       BLOB NOT NULL,
        index_keys  BLOB NOT NULL,
        PRIMARY KEY (db_id, store_id, key)
    ) WITHOUT ROWID;
    "#,
    // 7: Background Sync registrations, one per (scope, tag).
    r#"
    CREATE TABLE sync_registrations (
        scope TEXT NOT NULL,
        tag TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL DEFAULT 0,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (scope, tag)
    );
    "#,
    // 8: what a registration keeps besides its worker: its update via cache
    // mode, its navigation preload state and when an update last checked
    // its script (NULL for rows written before: `updated_ms` stands in);
    // and the active worker's router rules (JSON, owned by swrt_runtime).
    r#"
    ALTER TABLE sw_registrations ADD COLUMN update_via_cache TEXT NOT NULL DEFAULT 'imports';
    ALTER TABLE sw_registrations ADD COLUMN navigation_preload_enabled INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sw_registrations ADD COLUMN navigation_preload_header TEXT NOT NULL DEFAULT 'true';
    ALTER TABLE sw_registrations ADD COLUMN last_update_check_ms INTEGER;
    ALTER TABLE sw_registrations ADD COLUMN router_rules TEXT NOT NULL DEFAULT '[]';
    "#,
];

/// Highest schema version this build understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Open the SQLite database at `path`, creating and migrating it as needed.
pub(crate) fn open_sqlite(path: &Path, bodies: &dyn BodyStorage) -> Result<Db> {
    // SQLite makes a new, empty database of a missing or empty file, which
    // would silently forget every fetch whose bodies are still stored.
    let empty = std::fs::metadata(path).map_or(true, |m| m.len() == 0);
    if empty {
        refuse_if_bodies_remain(&format!("{} is missing or empty", path.display()), bodies)?;
    }
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a committed transaction survives power loss, which the
    // "synced body before complete row" protocol relies on.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(crate::sql::SQLITE_STATEMENT_CACHE);
    migrate(&mut conn)?;
    Ok(Db::Sqlite(conn))
}

/// Connect to the PostgreSQL database at `url`, creating and migrating the
/// store's tables as needed; unless `shared`, with the store's lock held.
pub(crate) fn open_postgres(url: &str, shared: bool, bodies: &dyn BodyStorage) -> Result<Db> {
    let conn = PgConn::connect(url, !shared).map_err(|e| match e {
        crate::sql::SqlError::InUse => StoreError::DatabaseInUse(
            crate::Metadata::Postgres {
                url: url.into(),
                shared,
            }
            .redacted(),
        ),
        other => other.into(),
    })?;
    let mut db = Db::Postgres(conn);
    postgres::migrate(&mut db, |found| {
        if found == 0 {
            refuse_if_bodies_remain("the PostgreSQL database has no swrt tables", bodies)
        } else {
            Ok(())
        }
    })?;
    Ok(db)
}

/// The highest PostgreSQL schema version this build knows.
pub(crate) fn latest_postgres() -> i64 {
    postgres::latest()
}

/// The schema version of an open database.
pub(crate) fn version(db: &Db) -> Result<i64> {
    match db {
        Db::Sqlite(c) => Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?),
        Db::Postgres(_) => postgres::version(db),
    }
}

/// A database without the store's tables next to stored bodies was deleted,
/// truncated or pointed at by mistake: refuse to start rather than lose
/// track of those downloads.
fn refuse_if_bodies_remain(what: &str, bodies: &dyn BodyStorage) -> Result<()> {
    if !bodies.is_empty()? {
        return Err(StoreError::DatabaseLost(format!(
            "{what}, but {bodies} holds downloaded bodies: the database was deleted, \
             truncated or is not this store's. Restore it, or move the bodies away to \
             start over",
        )));
    }
    Ok(())
}

/// Bring the database up to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        // user_version cannot be bound as a parameter.
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied store migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data dir written by an older build keeps its rows through the
    /// upgrade; what the new column did not know defaults sensibly.
    #[test]
    fn upgrade_from_version_2_keeps_registrations_as_classic() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, sql) in MIGRATIONS.iter().take(2).enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .unwrap();
        }
        conn.execute(
            "INSERT INTO sw_registrations(scope, script_url, state, created_ms, updated_ms)
             VALUES ('https://a.test/', 'https://a.test/sw.js', 'activated', 1, 1)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let (version, worker_type, source, imports): (i64, String, Option<String>, String) = conn
            .query_row(
                "SELECT (SELECT user_version FROM pragma_user_version), worker_type,
                        script_source, imported_scripts FROM sw_registrations",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(worker_type, "classic");
        assert_eq!(source, None, "fetched again on first start, as before");
        assert_eq!(imports, "[]");
    }

    /// A store of schema 7 opens with its registrations' update via cache
    /// mode, navigation preload state and last update check at the values a
    /// registration starts with (the last check unknown).
    #[test]
    fn upgrade_from_version_7_gives_registrations_default_settings() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, sql) in MIGRATIONS.iter().take(7).enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .unwrap();
        }
        conn.execute(
            "INSERT INTO sw_registrations(scope, script_url, state, created_ms, updated_ms)
             VALUES ('https://a.test/', 'https://a.test/sw.js', 'activated', 1, 5)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let row: (String, bool, String, Option<i64>, String) = conn
            .query_row(
                "SELECT update_via_cache, navigation_preload_enabled,
                        navigation_preload_header, last_update_check_ms, router_rules
                 FROM sw_registrations",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            ("imports".into(), false, "true".into(), None, "[]".into())
        );
    }
}
