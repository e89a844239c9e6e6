//! Errors of the engine API.

/// Rejections of [`crate::BackgroundFetchService::fetch`], mapped by the JS
/// layer onto the DOM exception of the same name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchRejection {
    /// `TypeError`.
    #[error("TypeError: {0}")]
    TypeError(String),
    /// `QuotaExceededError`, with its `quota` and `requested` where known.
    #[error("QuotaExceededError: {0}")]
    QuotaExceeded(Quota),
    /// `NotAllowedError`.
    #[error("NotAllowedError: {0}")]
    NotAllowed(String),
    /// The engine could not persist the registration (I/O, database).
    #[error("engine error: {0}")]
    Internal(String),
}

/// What a `QuotaExceededError` reports (WebIDL `QuotaExceededErrorOptions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// The message.
    pub message: String,
    /// The limit, in bytes, when the rejection is about storage.
    pub quota: Option<u64>,
    /// The bytes the call asked for, when the rejection is about storage.
    pub requested: Option<u64>,
}

impl Quota {
    /// A rejection that is not about a number of bytes.
    pub fn message(message: impl Into<String>) -> Self {
        Quota {
            message: message.into(),
            quota: None,
            requested: None,
        }
    }
}

impl std::fmt::Display for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
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
    /// Reading one record failed.
    #[error(transparent)]
    Record(#[from] RecordError),
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
