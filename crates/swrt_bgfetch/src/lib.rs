//! The Background Fetch engine of swrt, usable without JavaScript.
//!
//! Shaped like Chromium's `content/browser/background_fetch`:
//!
//! | module | Chromium counterpart | responsibility |
//! |---|---|---|
//! | [`service`](BackgroundFetchService), `builder`, `validate` | BackgroundFetchContext / ServiceImpl | public API; the builder takes the host's [`Store`]; `fetch()`'s input checks |
//! | `data` | BackgroundFetchDataManager | all store access, quota estimate, group commit |
//! | `scheduler` | BackgroundFetchScheduler | connection slots, round-robin fairness |
//! | `controller` | BackgroundFetchJobController | one per fetch: run records, decide the result |
//! | `download` | DownloadService | one per record: the HTTP attempt (CORS, redirects), the body sink (disk, checkpoints), the retry loop |
//! | `completion` + [`EventDispatcher`] | BackgroundFetchEventDispatcher | terminal event, cleanup |
//! | `policy`, [`cors`], [`fetch_steps`] | (Blink/network service) | per-record URL policy; `cors` (the CORS protocol) and `fetch_steps` (redirects, null-body statuses) are shared with the runtime's `fetch()` |
//! | [`integrity`] | (Blink SubresourceIntegrity) | `Request.integrity` checks, hashed as bytes arrive |
//! | `progress` | BackgroundFetchRegistrationNotifier | rate-limited progress: a broadcast of every fetch, and a `watch` per fetch ([`BackgroundFetchService::watch`]) |
//!
//! The store belongs to the host, which opens it, hands it to
//! [`BackgroundFetchService::builder`] and closes it after
//! [`BackgroundFetchService::shutdown`]; creating a fetch is one store
//! transaction that checks the id, the origin's active fetches and its
//! quota ([`Store::create_fetch`]).
//!
//! Data flow: `fetch()` validates and persists -> a controller starts
//! downloaders for its pending records (a bounded window at a time) ->
//! downloaders take scheduler slots and stream large bodies to their own files
//! (small ones are kept in memory and appended to the fetch's pack file when
//! complete) -> a two-stage group commit syncs bodies, then commits the
//! records -> progress goes to subscribers -> when every record is final the
//! controller settles the fetch (one transaction) -> completion persists
//! "dispatched", calls the [`EventDispatcher`], then releases the records.

#![warn(missing_docs)]

mod body_read;
mod builder;
mod claims;
mod completion;
mod controller;
pub mod cors;
mod data;
mod dispatch;
mod download;
mod engine;
mod error;
pub mod fetch_steps;
pub mod integrity;
mod limits;
pub mod net;
pub mod policy;
mod progress;
pub mod range;
mod record_pins;
mod records;
pub mod scheduler;
mod service;
mod types;
mod validate;

pub use builder::{default_client, BackgroundFetchServiceBuilder};
pub use claims::FetchClaims;
pub use dispatch::{
    BackgroundFetchEventRequest, DispatchError, DispatchOutcome, EventDispatcher, EventKind,
};
pub use error::{EngineError, FetchRejection, Quota, RecordError};
pub use limits::{Limits, DECODED_BODY_FLOOR};
pub use record_pins::RecordsPin;
pub use records::RecordResponse;
pub use service::{BackgroundFetchService, MAX_ID_BYTES};
pub use swrt_store::{MatchOptions, Store, StoreError};
pub use types::*;
