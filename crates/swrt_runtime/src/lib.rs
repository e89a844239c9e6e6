//! swrt_runtime: the service-worker isolate host.
//!
//! Each service worker runs in its own JavaScript isolate (deno_core; QuickJS
//! by default, V8 with the `v8` feature) on its own thread with a
//! current-thread tokio runtime. The [`ServiceWorkerHost`] registers workers,
//! runs their lifecycle, starts them to deliver events and stops them when idle.

#![warn(missing_docs)]

mod background_fetch;
mod background_sync;
mod cache;
mod certificate;
mod clients;
mod config;
mod delegate;
mod document;
mod embedded_js;
mod error;
mod extension;
mod fetch;
mod host;
mod loader;
pub mod net;
mod realm;
mod resolver;
mod service_worker;
pub mod snapshot;
mod sync;
mod web;
mod worker_type;
mod workers;

pub use certificate::{Certificate, CertificateError};
pub use config::{BackgroundSyncConfig, Limits, WorkerPrewarm};
pub use delegate::{ConsoleLevel, HostDelegate, TerminationReason, TracingDelegate};
pub use error::{HostError, ScriptError};
pub use host::{
    ClearedStorage, PageHandle, RegistrationInfo, ServiceWorkerHost, ServiceWorkerHostBuilder,
    WorkerState,
};
pub use loader::{
    is_javascript_mime, LoadError, LocalOriginMapping, ScriptCacheMode, ScriptLoader, ScriptSource,
};
pub use realm::{ClientInfo, EventOutcome};
pub use resolver::{HostResolver, HOST_REQUEST_HEADER};
// The Background Fetch UI, and the engine for embedders that drive it
// directly.
pub use background_fetch::ui::{BackgroundFetchUi, FetchControl, FetchPhase, FetchView};
pub use swrt_bgfetch;
pub use worker_type::WorkerType;
