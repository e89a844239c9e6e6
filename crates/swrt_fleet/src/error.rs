//! The fleet's errors.

/// What went wrong talking to the shared services.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The PostgreSQL URL or options cannot be used.
    #[error("PostgreSQL configuration: {0}")]
    Config(String),
    /// PostgreSQL refused or failed a statement, or the connection broke.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection could be taken from the pool.
    #[error("PostgreSQL connection pool: {0}")]
    Pool(String),
    /// The object store refused or failed a request.
    #[error("object storage: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// The bodies URL or options cannot be used.
    #[error("object storage configuration: {0}")]
    ObjectStoreConfig(String),
    /// A change notification that is not one of ours.
    #[error("change notification: {0}")]
    Change(#[from] serde_json::Error),
}

impl From<deadpool_postgres::PoolError> for FleetError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => FleetError::Postgres(e),
            other => FleetError::Pool(other.to_string()),
        }
    }
}

/// A result with a [`FleetError`].
pub type Result<T, E = FleetError> = std::result::Result<T, E>;
