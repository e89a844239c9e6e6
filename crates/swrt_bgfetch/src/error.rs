//! Errors of the engine API.

/// Rejections of [`crate::BackgroundFetchService::fetch`], mapped by the JS
/// layer onto the DOM exception of the same name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchRejection {
    /// `TypeError`.
    #[error("TypeError: {0}")]
    TypeError(String),
    /// `QuotaExceededError` (its `requested` and `quota` are null).
    #[error("QuotaExceededError: {0}")]
    QuotaExceeded(String),
    /// `NotAllowedError`.
    #[error("NotAllowedError: {0}")]
    NotAllowed(String),
    /// The engine could not persist the registration (I/O, database).
    #[error("engine error: {0}")]
    Internal(String),
}

/// Errors of the other engine calls.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Unknown fetch or record.
    #[error("not found: {0}")]
    NotFound(String),
    /// `recordsAvailable` is false (the terminal event has ended):
    /// `match()`/`matchAll()` reject with InvalidStateError.
    #[error("InvalidStateError: records are no longer available")]
    RecordsUnavailable,
    /// Invalid argument (maps to TypeError).
    #[error("TypeError: {0}")]
    TypeError(String),
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] swrt_store::StoreError),
    /// The engine is shutting down.
    #[error("engine stopped")]
    Stopped,
}

/// Why a record's body stream or `responseReady` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Network error or policy block: `TypeError`.
    #[error("TypeError: {0}")]
    TypeError(String),
    /// The fetch ended before this record finished: `AbortError`.
    #[error("AbortError: {0}")]
    Aborted(String),
    /// The stored body could not be read.
    #[error("i/o: {0}")]
    Io(String),
}
