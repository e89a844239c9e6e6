//! The PostgreSQL pool and the fleet's schema.

use crate::error::{FleetError, Result};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A connection outside the pool, and the future that drives it.
pub(crate) type DedicatedConnection = (
    tokio_postgres::Client,
    tokio_postgres::Connection<
        tokio_postgres::Socket,
        <MakeRustlsConnect as MakeTlsConnect<tokio_postgres::Socket>>::Stream,
    >,
);

/// Schema migrations, applied in order; the index plus one is the version.
/// Never edit one that has shipped: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: leases of background fetches.
    "CREATE TABLE swrt_fleet_leases (
        fetch_id    text PRIMARY KEY,
        origin      text NOT NULL,
        holder      text,
        expires_at  timestamptz,
        generation  bigint NOT NULL DEFAULT 0,
        finished    boolean NOT NULL DEFAULT false,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE INDEX swrt_fleet_leases_open ON swrt_fleet_leases (created_at)
        WHERE NOT finished;",
    // 2: which node runs each registration's worker, and the terminal
    // events waiting for a worker.
    "CREATE TABLE swrt_fleet_workers (
        registration_id text PRIMARY KEY,
        holder          text,
        expires_at      timestamptz,
        generation      bigint NOT NULL DEFAULT 0
    );
    CREATE TABLE swrt_fleet_events (
        fetch_id         text PRIMARY KEY,
        registration_id  text NOT NULL,
        kind             text NOT NULL,
        done             boolean NOT NULL DEFAULT false,
        dispatcher       text,
        dispatch_expires timestamptz,
        attempts         integer NOT NULL DEFAULT 0,
        created_at       timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE INDEX swrt_fleet_events_pending ON swrt_fleet_events (registration_id)
        WHERE NOT done;",
];

/// Held by the migrating node: other nodes wait, then find nothing to do.
const MIGRATION_LOCK: i64 = 0x7377_7274_666c_7431; // "swrtflt1"

/// A pool of connections to the fleet's PostgreSQL database.
#[derive(Clone)]
pub struct FleetDb {
    pool: Pool,
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
}

impl std::fmt::Debug for FleetDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetDb")
            .field("dbname", &self.config.get_dbname())
            .finish_non_exhaustive()
    }
}

impl FleetDb {
    /// Connects to `url` (`postgres://user:password@host:port/db`, or
    /// key=value form; a `host` that is a directory means a Unix socket)
    /// and brings the schema up to date.
    ///
    /// TCP connections use TLS as the URL's `sslmode` says (`prefer` by
    /// default: TLS when the server offers it; `require` for a managed
    /// server). Servers are checked against the webpki roots and the PEM
    /// file `PGSSLROOTCERT` names, as libpq reads it (a managed service's
    /// own CA).
    pub async fn connect(url: &str) -> Result<FleetDb> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| FleetError::Config(e.to_string()))?;
        let tls = tls_connector(std::env::var_os("PGSSLROOTCERT").map(Into::into))?;
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|e| FleetError::Pool(e.to_string()))?;
        let db = FleetDb { pool, config, tls };
        db.migrate().await?;
        Ok(db)
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object> {
        Ok(self.pool.get().await?)
    }

    /// A connection of its own, outside the pool (for `LISTEN`), and the
    /// future that drives it.
    pub(crate) async fn dedicated(&self) -> Result<DedicatedConnection> {
        Ok(self.config.connect(self.tls.clone()).await?)
    }

    /// The schema version this database is at.
    pub async fn schema_version(&self) -> Result<usize> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT coalesce(max(version), 0) FROM swrt_fleet_schema",
                &[],
            )
            .await?;
        Ok(row.get::<_, i32>(0) as usize)
    }

    async fn migrate(&self) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The lock comes first: `CREATE TABLE IF NOT EXISTS` is not safe
        // against a concurrent creator (the loser fails on the table's row
        // type), so nodes starting at once take turns for the whole migration.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS swrt_fleet_schema (version integer PRIMARY KEY)",
        )
        .await?;
        let current: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM swrt_fleet_schema",
                &[],
            )
            .await?
            .get(0);
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let version = index as i32 + 1;
            tracing::info!(version, "migrating the fleet schema");
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO swrt_fleet_schema (version) VALUES ($1)",
                &[&version],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The number of migrations this build knows.
    pub fn latest_schema_version() -> usize {
        MIGRATIONS.len()
    }
}

/// TLS for TCP connections, as the store's own PostgreSQL connection makes
/// it (the webpki roots, plus the certificates of the PEM file
/// `extra_roots`).
fn tls_connector(extra_roots: Option<std::path::PathBuf>) -> Result<MakeRustlsConnect> {
    swrt_store::postgres_tls_connector(extra_roots).map_err(FleetError::Config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_certificate_file_that_is_not_pem_is_a_configuration_error() {
        let file = std::env::temp_dir().join(format!("swrt-fleet-{}.pem", std::process::id()));
        std::fs::write(&file, "not a certificate").unwrap();
        let result = tls_connector(Some(file.clone()));
        std::fs::remove_file(&file).unwrap();
        // A file without a PEM certificate adds nothing; one that cannot be
        // read is an error.
        assert!(result.is_ok());
        assert!(matches!(
            tls_connector(Some("/nonexistent/ca.pem".into())),
            Err(FleetError::Config(_))
        ));
    }
}
