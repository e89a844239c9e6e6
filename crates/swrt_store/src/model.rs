//! Row types and the small enums stored as text.

use crate::BodyId;
use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            /// The text stored in the database (and exposed to script where applicable).
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s),+ } }
            /// Parse the stored text.
            pub fn parse(s: &str) -> Option<Self> { match s { $($s => Some($name::$v),)+ _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// Like `text_enum!`, for values that also cross the engine's boundary as
/// text: serde and SQLite read and write the same text as `as_str`.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            /// The text stored in the database and exposed to script.
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s),+ } }
            /// Parse the text.
            pub fn parse(s: &str) -> Option<Self> { match s { $($s => Some($name::$v),)+ _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
        impl PartialEq<&str> for $name {
            fn eq(&self, text: &&str) -> bool { self.as_str() == *text }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        concat!("invalid ", stringify!($name), " {:?}"),
                        text
                    ))
                })
            }
        }
        impl crate::sql::ToValue for $name {
            fn to_value(&self) -> crate::sql::Value {
                crate::sql::Value::Text(self.as_str().to_owned())
            }
        }
        impl crate::sql::FromValue for $name {
            fn from_value(v: &crate::sql::Value) -> std::result::Result<Self, String> {
                let text = <String as crate::sql::FromValue>::from_value(v)?;
                $name::parse(&text).ok_or_else(|| {
                    format!(concat!("corrupt row: ", stringify!($name), ": {:?}"), text)
                })
            }
        }
    };
}

wire_enum!(
    /// How a stored worker's script runs (RegistrationOptions.type).
    ScriptType {
        /// A classic script.
        Classic = "classic",
        /// An ES module.
        Module = "module",
    }
);

wire_enum!(
    /// A registration's update via cache mode (`ServiceWorkerUpdateViaCache`).
    UpdateViaCache {
        /// Imported scripts may come from the HTTP cache, the main script not.
        Imports = "imports",
        /// Every script fetch of an update may come from the HTTP cache.
        All = "all",
        /// No script fetch of an update may come from the HTTP cache.
        None = "none",
    }
);

wire_enum!(
    /// Fetch `RequestMode`.
    RequestMode {
        /// `navigate`.
        Navigate = "navigate",
        /// `same-origin`: a cross-origin URL is a network error.
        SameOrigin = "same-origin",
        /// `no-cors`.
        NoCors = "no-cors",
        /// `cors` (the default of a constructed `Request`).
        Cors = "cors",
    }
);

wire_enum!(
    /// Fetch `RequestCredentials`.
    CredentialsMode {
        /// `omit`.
        Omit = "omit",
        /// `same-origin` (the default).
        SameOrigin = "same-origin",
        /// `include`: credentials go cross-origin too.
        Include = "include",
    }
);

wire_enum!(
    /// `Response.type` of a stored response.
    ResponseType {
        /// Same-origin.
        Basic = "basic",
        /// Cross-origin, through the CORS protocol.
        Cors = "cors",
    }
);

// The macro derives a fixed list of traits; Default is written by hand.
#[allow(clippy::derivable_impls)]
impl Default for ResponseType {
    fn default() -> Self {
        ResponseType::Basic
    }
}

wire_enum!(
    /// `ServiceWorker.state` of a registration's stored worker.
    WorkerState {
        /// `installing`.
        Installing = "installing",
        /// `installed`.
        Installed = "installed",
        /// `activating`.
        Activating = "activating",
        /// `activated`.
        Activated = "activated",
        /// `redundant`.
        Redundant = "redundant",
    }
);

text_enum!(
    /// Lifecycle of a background fetch row.
    FetchState {
        /// Downloads may be running; counts toward the per-origin active limit.
        Active = "active",
        /// Result decided; terminal event not yet handed to the dispatcher.
        Settled = "settled",
        /// Terminal event handed to the dispatcher, its lifetime not yet over.
        /// A crash here re-dispatches the *same* event after restart.
        Dispatched = "dispatched",
        /// Event handled; records unavailable, bodies deleted; row kept for clicks.
        Done = "done",
    }
);

text_enum!(
    /// `BackgroundFetchRegistration.result`.
    FetchResult {
        /// Not settled yet (`""`).
        Pending = "",
        /// All records complete with 2xx.
        Success = "success",
        /// See the failure reason.
        Failure = "failure",
    }
);

text_enum!(
    /// `BackgroundFetchRegistration.failureReason`.
    FailureReason {
        /// No failure (`""`).
        None = "",
        /// `abort()` was called.
        Aborted = "aborted",
        /// A response status was outside 200-299.
        BadStatus = "bad-status",
        /// A network error or a policy block (scheme, port, CSP, CORS...).
        FetchError = "fetch-error",
        /// Storage quota was exhausted while storing.
        QuotaExceeded = "quota-exceeded",
        /// More bytes than `downloadTotal` arrived.
        DownloadTotalExceeded = "download-total-exceeded",
    }
);

text_enum!(
    /// Per-record outcome.
    RecordOutcome {
        /// Not finished (may have partial bytes).
        Pending = "pending",
        /// 2xx response fully stored.
        Complete = "complete",
        /// Non-2xx response fully stored (still exposed to script).
        BadStatus = "bad-status",
        /// Network error or policy block; `responseReady` rejects with TypeError.
        FetchError = "fetch-error",
        /// The fetch was aborted (or failed) before this record finished;
        /// `responseReady` rejects with AbortError.
        Aborted = "aborted",
    }
);

impl RecordOutcome {
    /// True for outcomes after which the record will not change.
    pub fn is_final(self) -> bool {
        self != RecordOutcome::Pending
    }
}

/// A service-worker registration row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwRegistration {
    /// Scope URL (primary key).
    pub scope: String,
    /// Script URL.
    pub script_url: String,
    /// The stored worker's state.
    pub state: WorkerState,
    /// The worker's type (RegistrationOptions.type).
    pub worker_type: ScriptType,
    /// The active worker's script as installed (None for rows written before
    /// schema 3: the script is fetched when the worker first starts).
    pub script_source: Option<String>,
    /// Its script resource map: (URL, text) of every imported script or
    /// module, in import order.
    pub imported_scripts: Vec<(String, String)>,
    /// The `Content-Security-Policy` header values its script was served
    /// with.
    pub script_csp: Vec<String>,
    /// Which script fetches of an update may use the HTTP cache
    /// (`imports` for rows written before schema 8).
    pub update_via_cache: UpdateViaCache,
    /// Navigation preload: whether navigations send a preload request.
    pub navigation_preload_enabled: bool,
    /// Navigation preload: the `Service-Worker-Navigation-Preload` value.
    pub navigation_preload_header: String,
    /// When an update last fetched the main script, ms since epoch (None
    /// for rows written before schema 8).
    pub last_update_check_ms: Option<i64>,
    /// The active worker's list of router rules (static routing), as JSON
    /// text that the runtime reads and writes (`[]` for rows written before
    /// schema 8).
    pub router_rules: String,
    /// Creation time, ms since epoch.
    pub created_ms: i64,
    /// Last update, ms since epoch.
    pub updated_ms: i64,
}

/// An icon as passed in `BackgroundFetchOptions.icons` (ImageResource).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Icon {
    /// Image URL.
    pub src: String,
    /// `sizes` attribute, e.g. `"192x192"`.
    #[serde(default)]
    pub sizes: String,
    /// MIME type.
    #[serde(default, rename = "type")]
    pub type_: String,
    /// Accessible label.
    #[serde(default)]
    pub label: String,
}

/// Input for [`crate::Store::create_fetch`].
#[derive(Debug, Clone)]
pub struct NewFetch {
    /// Internal id (uuid v4 string); also the body directory name.
    pub unique_id: String,
    /// Service-worker registration scope.
    pub scope: String,
    /// Developer id.
    pub id: String,
    /// Origin (ASCII serialisation).
    pub origin: String,
    /// UI title.
    pub title: String,
    /// UI icons.
    pub icons: Vec<Icon>,
    /// `downloadTotal` (0 = no limit).
    pub download_total: u64,
    /// Opaque host UI data.
    pub ui_data: Option<String>,
    /// The caller's policy context (CSP list etc.) as JSON, needed to check
    /// records again after a restart.
    pub policy_json: String,
}

/// A request to store for a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header list in order.
    pub headers: Vec<(String, String)>,
    /// Request mode.
    pub mode: RequestMode,
    /// Credentials mode.
    pub credentials: CredentialsMode,
    /// Request body bytes, stored as the record's request body on insert.
    pub body: Option<Vec<u8>>,
    /// `Request.integrity` (Subresource Integrity metadata; empty = none).
    #[serde(default)]
    pub integrity: String,
}

/// A background fetch row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRow {
    /// Internal unique id.
    pub unique_id: String,
    /// Service-worker registration scope.
    pub scope: String,
    /// Developer id.
    pub id: String,
    /// Origin.
    pub origin: String,
    /// UI title.
    pub title: String,
    /// UI icons.
    pub icons: Vec<Icon>,
    /// Opaque host UI data.
    pub ui_data: Option<String>,
    /// Policy context JSON (see [`NewFetch::policy_json`]).
    pub policy_json: String,
    /// `downloadTotal`.
    pub download_total: u64,
    /// `uploadTotal`.
    pub upload_total: u64,
    /// `downloaded`.
    pub downloaded: u64,
    /// `uploaded`.
    pub uploaded: u64,
    /// Lifecycle state.
    pub state: FetchState,
    /// `result`.
    pub result: FetchResult,
    /// `failureReason`.
    pub failure_reason: FailureReason,
    /// Creation time.
    pub created_ms: i64,
    /// Last change.
    pub updated_ms: i64,
    /// When the result was decided.
    pub settled_ms: Option<i64>,
    /// When the terminal event's lifetime ended.
    pub done_ms: Option<i64>,
}

impl FetchRow {
    /// `recordsAvailable`: true until the terminal event's lifetime ends.
    pub fn records_available(&self) -> bool {
        self.state != FetchState::Done
    }
}

/// Response metadata stored for a record once headers arrive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseMeta {
    /// Status code.
    pub status: u16,
    /// Status text (reason phrase).
    pub status_text: String,
    /// Headers as exposed to script (already CORS-filtered, without
    /// `Content-Range`/`Content-Length`).
    pub headers: Vec<(String, String)>,
    /// Response type.
    pub response_type: ResponseType,
    /// Every URL visited, redirects included.
    pub url_list: Vec<String>,
    /// `ETag` of the first response (resume validator).
    pub etag: Option<String>,
    /// `Last-Modified` of the first response (resume validator).
    pub last_modified: Option<String>,
    /// Full length if the server announced one.
    pub complete_length: Option<u64>,
}

/// A record row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    /// Owning fetch.
    pub fetch_uid: String,
    /// Position in the fetch's request list.
    pub index: u32,
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request mode.
    pub mode: RequestMode,
    /// Credentials mode.
    pub credentials: CredentialsMode,
    /// The record has a request body ([`RecordRow::request_body`]).
    pub has_request_body: bool,
    /// Request body length.
    pub request_body_len: u64,
    /// `Request.integrity` (empty = none).
    pub integrity: String,
    /// Response metadata once headers arrived.
    pub response: Option<ResponseMeta>,
    /// Where the response body is stored; set once a body is being stored.
    pub body: Option<BodyLocation>,
    /// Durable response-body bytes (synced before being recorded).
    pub bytes_stored: u64,
    /// Where the body starts: 0 for a body of its own, the offset in the
    /// fetch's pack for a small body stored there.
    pub body_offset: u64,
    /// Outcome.
    pub outcome: RecordOutcome,
    /// Why the record failed, for logs and the TypeError message.
    pub error_message: Option<String>,
}

/// Where a record's response body is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLocation {
    /// A body of its own ([`BodyId::Response`]).
    Own,
    /// In the fetch's pack of small bodies ([`BodyId::Pack`]), from
    /// [`RecordRow::body_offset`] on.
    Pack,
}

impl RecordRow {
    /// The record's request body, if it has one.
    pub fn request_body(&self) -> Option<BodyId<'_>> {
        self.has_request_body.then_some(BodyId::Request {
            fetch: &self.fetch_uid,
            index: self.index,
        })
    }

    /// Where the record's response body is read: the body, and the offset
    /// its bytes start at. A record whose body is not stored yet names the
    /// body a download writes to.
    pub fn response_body(&self) -> (BodyId<'_>, u64) {
        match self.body {
            Some(BodyLocation::Pack) => (
                BodyId::Pack {
                    fetch: &self.fetch_uid,
                },
                self.body_offset,
            ),
            Some(BodyLocation::Own) | None => (
                BodyId::Response {
                    fetch: &self.fetch_uid,
                    index: self.index,
                },
                0,
            ),
        }
    }
}

/// One record completion for [`crate::Store::record_finish_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFinish {
    /// Fetch id.
    pub unique_id: String,
    /// Record index.
    pub index: u32,
    /// Final outcome.
    pub outcome: RecordOutcome,
    /// Durable body bytes (the caller synced them).
    pub bytes_stored: u64,
    /// Failure detail.
    pub error: Option<String>,
    /// Fetch `downloaded` after this record.
    pub fetch_downloaded: u64,
    /// Fetch `uploaded` after this record.
    pub fetch_uploaded: u64,
    /// Response head not stored yet (the engine defers it for small bodies
    /// so that head and completion share one group-committed transaction).
    pub response: Option<ResponseMeta>,
    /// The body was appended (and synced) to the fetch's pack file at this
    /// offset instead of its own file.
    pub packed_offset: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::params;

    #[test]
    fn wire_enums_cross_serde_and_sqlite_as_their_text() {
        assert_eq!(
            serde_json::to_string(&RequestMode::SameOrigin).unwrap(),
            "\"same-origin\""
        );
        assert_eq!(
            serde_json::from_str::<CredentialsMode>("\"include\"").unwrap(),
            CredentialsMode::Include
        );
        let err = serde_json::from_str::<RequestMode>("\"sideways\"").unwrap_err();
        assert!(err.to_string().contains("sideways"), "{err}");
        assert_eq!(ResponseType::Cors, "cors");

        let db = crate::sql::Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.execute_batch("CREATE TABLE t(v TEXT)").unwrap();
        db.execute("INSERT INTO t VALUES (?1)", params![WorkerState::Activated])
            .unwrap();
        let text: String = db
            .query_row("SELECT v FROM t", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(text, "activated");
        let back: WorkerState = db
            .query_row("SELECT v FROM t", params![], |r| r.get(0))
            .unwrap();
        assert_eq!(back, WorkerState::Activated);
        // A value this build does not know is a corrupt row, not a panic.
        db.execute("UPDATE t SET v = 'paused'", params![]).unwrap();
        let err = db
            .query_row("SELECT v FROM t", params![], |r| r.get::<WorkerState>(0))
            .unwrap_err();
        assert!(err.to_string().contains("paused"), "{err}");
    }
}
