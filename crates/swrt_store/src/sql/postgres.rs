//! The PostgreSQL side of [`super::Db`]: one connection, owned by a thread of
//! its own that runs the async client on a private runtime. The store's API
//! is synchronous and is called from async tasks and blocking threads
//! alike; a private thread lets it block on the network from either without
//! nesting runtimes.

use super::{Begin, Params, Row, SqlError, SqlResult, Value};
use postgres_types::{to_sql_checked, IsNull, ToSql, Type};
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Arc;
use tokio_postgres::{Client, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Held by the one store open on a database, for as long as its connection
/// lives: a second swrt on the same database would resume and dispatch the
/// same fetches, as a second process on one data dir would.
const STORE_LOCK: i64 = 0x7377_7274_6f70_656e; // "swrtopen"

/// Serialises [`Begin::Exclusive`] transactions across every process on the
/// database, as SQLite's `BEGIN IMMEDIATE` does on one file.
const EXCLUSIVE_LOCK: i64 = 0x7377_7274_7374_6f72; // "swrtstor"

enum Request {
    Execute(String, Vec<Value>),
    Query(String, Vec<Value>),
    Batch(String),
}

enum Reply {
    Changed(u64),
    Rows(Vec<Row>),
    Done,
}

type Job = (Request, mpsc::Sender<SqlResult<Reply>>);

/// A connection to PostgreSQL, usable from any thread.
pub(crate) struct PgConn {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PgConn {
    /// Connect to `url` (`postgres://user:password@host:port/db`, or the
    /// key=value form; a `host` that is a directory means a Unix socket).
    /// TCP connections use TLS as the URL's `sslmode` says, with the webpki
    /// roots and the PEM file `PGSSLROOTCERT` names.
    ///
    /// `exclusive`: hold the store's lock on the database for the life of
    /// the connection (taken again after a reconnect), failing with
    /// [`SqlError::InUse`] while another process holds it.
    pub(crate) fn connect(url: &str, exclusive: bool) -> SqlResult<PgConn> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| SqlError::Postgres(format!("bad URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            // An address that drops packets would otherwise hold the start
            // for the system's TCP timeout, minutes.
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        let tls = tls_connector(std::env::var_os("PGSSLROOTCERT").map(Into::into))
            .map_err(SqlError::Postgres)?;
        let (jobs, incoming) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::channel::<SqlResult<()>>();
        let thread = std::thread::Builder::new()
            .name("swrt-store-postgres".into())
            .spawn(move || serve(config, tls, exclusive, incoming, ready))
            .map_err(|e| SqlError::Postgres(format!("cannot start the connection thread: {e}")))?;
        connected
            .recv()
            .map_err(|_| SqlError::Postgres("the connection thread ended".into()))??;
        Ok(PgConn {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    fn call(&self, request: Request) -> SqlResult<Reply> {
        let (reply, answer) = mpsc::channel();
        let gone = || SqlError::Postgres("the connection thread ended".into());
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send((request, reply))
            .map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }

    pub(super) fn execute(&self, sql: &str, params: Params<'_>) -> SqlResult<usize> {
        let values = params.iter().map(|p| p.to_value()).collect();
        match self.call(Request::Execute(sql.to_owned(), values))? {
            Reply::Changed(n) => Ok(n as usize),
            _ => unreachable!("an execute answers a count"),
        }
    }

    pub(super) fn query(&self, sql: &str, params: Params<'_>) -> SqlResult<Vec<Row>> {
        let values = params.iter().map(|p| p.to_value()).collect();
        match self.call(Request::Query(sql.to_owned(), values))? {
            Reply::Rows(rows) => Ok(rows),
            _ => unreachable!("a query answers rows"),
        }
    }

    pub(super) fn execute_batch(&self, sql: &str) -> SqlResult<()> {
        self.call(Request::Batch(sql.to_owned())).map(|_| ())
    }

    pub(super) fn begin(&self, begin: Begin) -> SqlResult<()> {
        match begin {
            Begin::Deferred => self.execute_batch("BEGIN"),
            Begin::Exclusive => self.execute_batch(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({EXCLUSIVE_LOCK})"
            )),
        }
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // Closing the channel ends the thread, which closes the connection.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    exclusive: bool,
    jobs: mpsc::Receiver<Job>,
    ready: mpsc::Sender<SqlResult<()>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = ready.send(Err(SqlError::Postgres(format!("no runtime: {e}"))));
            return;
        }
    };
    let connect = || async {
        let (client, connection) = config.connect(tls.clone()).await.map_err(pg_error)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "the store's PostgreSQL connection ended");
            }
        });
        if exclusive {
            let locked: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&STORE_LOCK])
                .await
                .map_err(pg_error)?
                .get(0);
            if !locked {
                return Err(SqlError::InUse);
            }
        }
        Ok::<_, SqlError>(client)
    };
    let mut client = match runtime.block_on(connect()) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let mut statements: HashMap<String, Statement> = HashMap::new();
    while let Ok((request, reply)) = jobs.recv() {
        if client.is_closed() {
            // The server went away between calls (a restart, a failover):
            // a new connection, and nothing prepared on the old one.
            statements.clear();
            match runtime.block_on(connect()) {
                Ok(c) => client = c,
                Err(e) => {
                    let _ = reply.send(Err(e));
                    continue;
                }
            }
        }
        let answer = runtime.block_on(run(&client, &mut statements, request));
        let _ = reply.send(answer);
    }
}

async fn run(
    client: &Client,
    statements: &mut HashMap<String, Statement>,
    request: Request,
) -> SqlResult<Reply> {
    match request {
        Request::Batch(sql) => {
            client.batch_execute(&sql).await.map_err(pg_error)?;
            Ok(Reply::Done)
        }
        Request::Execute(sql, values) => {
            let statement = prepared(client, statements, &sql).await?;
            let params: Vec<&(dyn ToSql + Sync)> =
                values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
            let n = client
                .execute(&statement, &params)
                .await
                .map_err(pg_error)?;
            Ok(Reply::Changed(n))
        }
        Request::Query(sql, values) => {
            let statement = prepared(client, statements, &sql).await?;
            let params: Vec<&(dyn ToSql + Sync)> =
                values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
            let rows = client.query(&statement, &params).await.map_err(pg_error)?;
            rows.iter()
                .map(row_values)
                .collect::<SqlResult<Vec<_>>>()
                .map(Reply::Rows)
        }
    }
}

async fn prepared(
    client: &Client,
    statements: &mut HashMap<String, Statement>,
    sql: &str,
) -> SqlResult<Statement> {
    if let Some(s) = statements.get(sql) {
        return Ok(s.clone());
    }
    let statement = client.prepare(&placeholders(sql)).await.map_err(pg_error)?;
    statements.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

/// `?N` placeholders as PostgreSQL writes them, `$N`; text in quotes is
/// left alone.
fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

fn row_values(row: &tokio_postgres::Row) -> SqlResult<Row> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let decode = |e: Box<dyn std::error::Error + Sync + Send>| SqlError::Decode {
            column: i,
            message: e.to_string(),
        };
        let value = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)
                .map_err(|e| decode(e.into()))?
                .map(Value::Integer)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)
                .map_err(|e| decode(e.into()))?
                .map(|v| Value::Integer(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)
                .map_err(|e| decode(e.into()))?
                .map(|v| Value::Integer(v.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)
                .map_err(|e| decode(e.into()))?
                .map(|v| Value::Integer(v.into()))
        } else if *ty == Type::FLOAT8 {
            row.try_get::<_, Option<f64>>(i)
                .map_err(|e| decode(e.into()))?
                .map(Value::Real)
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)
                .map_err(|e| decode(e.into()))?
                .map(Value::Blob)
        } else if [Type::TEXT, Type::VARCHAR, Type::NAME, Type::BPCHAR].contains(ty) {
            row.try_get::<_, Option<String>>(i)
                .map_err(|e| decode(e.into()))?
                .map(Value::Text)
        } else {
            return Err(SqlError::Decode {
                column: i,
                message: format!("PostgreSQL type {ty} has no store value (CAST it)"),
            });
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row::new(values))
}

fn pg_error(e: tokio_postgres::Error) -> SqlError {
    match e.as_db_error() {
        Some(db) => SqlError::Postgres(format!(
            "{} ({}): {}",
            db.severity(),
            db.code().code(),
            db.message()
        )),
        None => SqlError::Postgres(e.to_string()),
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => {
                if *ty == Type::INT8 {
                    i.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*i)?.to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (*i != 0).to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    (*i as f64).to_sql(ty, out)
                } else {
                    Err(format!("an integer for a {ty} parameter").into())
                }
            }
            Value::Real(f) => f.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`, which knows the value's kind.
        true
    }

    to_sql_checked!();
}

/// TLS for TCP connections to PostgreSQL: the webpki roots, plus the
/// certificates of `extra_roots` (a PEM file; a managed service's own CA).
pub fn tls_connector(extra_roots: Option<std::path::PathBuf>) -> Result<MakeRustlsConnect, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_roots {
        let certificates = CertificateDer::pem_file_iter(&path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollar_numbers_outside_quotes() {
        assert_eq!(
            placeholders("SELECT a FROM t WHERE b = ?1 AND c = '?' AND d = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $12"
        );
    }

    #[test]
    fn a_root_certificate_file_that_cannot_be_read_is_an_error() {
        assert!(tls_connector(Some("/nonexistent/ca.pem".into())).is_err());
    }
}
