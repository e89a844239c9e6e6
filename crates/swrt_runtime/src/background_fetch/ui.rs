//! The host's user interface for background fetches.
//!
//! A browser shows each background fetch as a notification with a title, an
//! icon and a progress bar, and lets the user open (click) or cancel it. An
//! embedder of swrt does the same through [`BackgroundFetchUi`]: pass one to
//! [`crate::ServiceWorkerHostBuilder::background_fetch_ui`] and the host
//! calls it as fetches start, progress, change their title or icons
//! (`updateUI()`), settle and finish. Each fetch comes with a
//! [`FetchControl`] that triggers `backgroundfetchclick` or aborts it.
//!
//! The calls come from one task on the host's tokio runtime, in order per
//! fetch; implementations should return quickly (update a widget, send on a
//! channel) rather than block.
//!
//! ```no_run
//! use std::sync::Arc;
//! use swrt_runtime::{BackgroundFetchUi, FetchControl, FetchView, ServiceWorkerHost};
//!
//! struct PrintUi;
//! impl BackgroundFetchUi for PrintUi {
//!     fn fetch_shown(&self, fetch: &FetchView, _control: FetchControl) {
//!         println!("{}: {}", fetch.id, fetch.title);
//!     }
//!     fn progress(&self, fetch: &FetchView) {
//!         println!("{} {}/{}", fetch.id, fetch.downloaded, fetch.download_total);
//!     }
//! }
//!
//! # async fn demo() -> Result<(), swrt_runtime::HostError> {
//! let host = ServiceWorkerHost::builder()
//!     .data_dir("/tmp/swrt-data")
//!     .background_fetch_ui(Arc::new(PrintUi))
//!     .start()
//!     .await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use swrt_bgfetch::{BackgroundFetchService, EngineError, FetchState, Icon, RegistrationSnapshot};
use tokio::sync::broadcast::error::RecvError;

/// How often fetches whose terminal event is running are re-read: that event
/// may call `updateUI()`, and its end (records released) is not broadcast.
const FINISHING_POLL: Duration = Duration::from_millis(200);

/// Where a fetch is in its life, as a UI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FetchPhase {
    /// Downloads are running (or waiting for a connection).
    Downloading,
    /// The result is decided; the worker's terminal event
    /// (`backgroundfetchsuccess`, `...fail` or `...abort`) has not ended yet.
    Finishing,
    /// The terminal event has ended; the records are gone. The fetch can
    /// still be clicked for a while (see `swrt_bgfetch::Limits::click_retention`).
    Done,
}

impl FetchPhase {
    fn of(state: FetchState) -> Self {
        match state {
            FetchState::Active => FetchPhase::Downloading,
            FetchState::Settled | FetchState::Dispatched => FetchPhase::Finishing,
            FetchState::Done => FetchPhase::Done,
        }
    }
}

/// What a UI shows of one background fetch: a copy of the registration's
/// attributes at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchView {
    /// The engine's id of this fetch, unique across scopes and runs (a new
    /// fetch with the same developer id gets a new one).
    pub unique_id: String,
    /// The service-worker registration's scope.
    pub scope: String,
    /// The developer's id, as passed to `backgroundFetch.fetch(id, ...)`.
    pub id: String,
    /// The origin, e.g. `http://127.0.0.1:8080`.
    pub origin: String,
    /// The title, as given to `fetch()` or changed by `updateUI()`.
    pub title: String,
    /// The icons, with `src` already resolved to absolute URLs. Fetching
    /// them is up to the UI (the spec leaves it to the browser).
    pub icons: Vec<Icon>,
    /// Bytes downloaded so far (may go down when a resume had to restart).
    pub downloaded: u64,
    /// `downloadTotal` as given to `fetch()`; 0 = unknown.
    pub download_total: u64,
    /// Request body bytes sent.
    pub uploaded: u64,
    /// Sum of the request body sizes.
    pub upload_total: u64,
    /// `""` while running, then `"success"` or `"failure"`.
    pub result: String,
    /// `""`, `"aborted"`, `"bad-status"`, `"fetch-error"`, `"quota-exceeded"`
    /// or `"download-total-exceeded"`.
    pub failure_reason: String,
    /// Where the fetch is in its life.
    pub phase: FetchPhase,
}

impl FetchView {
    /// `downloaded / download_total` in `0.0..=1.0`, or `None` without a total.
    pub fn fraction(&self) -> Option<f64> {
        (self.download_total > 0)
            .then(|| (self.downloaded as f64 / self.download_total as f64).clamp(0.0, 1.0))
    }
}

impl From<&RegistrationSnapshot> for FetchView {
    fn from(s: &RegistrationSnapshot) -> Self {
        FetchView {
            unique_id: s.unique_id.clone(),
            scope: s.scope.clone(),
            id: s.id.clone(),
            origin: s.origin.clone(),
            title: s.title.clone(),
            icons: s.icons.clone(),
            downloaded: s.downloaded,
            download_total: s.download_total,
            uploaded: s.uploaded,
            upload_total: s.upload_total,
            result: s.result.as_str().to_string(),
            failure_reason: s.failure_reason.as_str().to_string(),
            phase: FetchPhase::of(s.state),
        }
    }
}

/// Lets a UI act on one fetch, as a browser's notification buttons do.
/// Cheap to clone; valid after the fetch ended (a click then still reaches
/// the worker, within the engine's click-retention period).
#[derive(Clone)]
pub struct FetchControl {
    service: BackgroundFetchService,
    unique_id: String,
    scope: String,
    id: String,
}

impl std::fmt::Debug for FetchControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchControl")
            .field("unique_id", &self.unique_id)
            .field("scope", &self.scope)
            .field("id", &self.id)
            .finish()
    }
}

impl FetchControl {
    /// A control for the fetch `view` describes, on `service`.
    pub fn new(service: BackgroundFetchService, view: &FetchView) -> Self {
        FetchControl {
            service,
            unique_id: view.unique_id.clone(),
            scope: view.scope.clone(),
            id: view.id.clone(),
        }
    }

    /// The fetch's [`FetchView::unique_id`].
    pub fn unique_id(&self) -> &str {
        &self.unique_id
    }

    /// The user activated the fetch's UI: dispatches `backgroundfetchclick`
    /// to the worker (which typically calls `clients.openWindow()`). Resolves
    /// once the event has been delivered; false if the fetch is unknown.
    pub async fn click(&self) -> Result<bool, EngineError> {
        self.service.click(&self.scope, &self.id).await
    }

    /// The user cancelled the fetch: as `registration.abort()`. True if it
    /// was still downloading (it then ends with `aborted` and the worker gets
    /// `backgroundfetchabort`), false if it had already ended.
    pub async fn abort(&self) -> Result<bool, EngineError> {
        self.service.abort_unique(&self.unique_id).await
    }
}

/// A host's UI for background fetches. Every method has a default that does
/// nothing, so a UI implements what it shows.
///
/// For one fetch the calls come in this order: [`fetch_shown`] once, then
/// any number of [`progress`] and [`ui_updated`], [`settled`] once when the
/// result is decided, [`finished`] once when the worker's terminal event has
/// ended. A fetch that was running when the previous process stopped is
/// shown again, with its stored progress, when the host starts.
///
/// [`fetch_shown`]: BackgroundFetchUi::fetch_shown
/// [`progress`]: BackgroundFetchUi::progress
/// [`ui_updated`]: BackgroundFetchUi::ui_updated
/// [`settled`]: BackgroundFetchUi::settled
/// [`finished`]: BackgroundFetchUi::finished
pub trait BackgroundFetchUi: Send + Sync + 'static {
    /// A fetch to show: just started by a page or worker, or found
    /// unfinished when the host started (and resumed). `control` clicks or
    /// aborts it.
    fn fetch_shown(&self, fetch: &FetchView, control: FetchControl) {
        let _ = (fetch, control);
    }
    /// `downloaded` or `uploaded` changed (at most about ten times a second
    /// per fetch; the last values are always delivered).
    fn progress(&self, fetch: &FetchView) {
        let _ = fetch;
    }
    /// The title or the icons changed (`updateUI()` in the worker).
    fn ui_updated(&self, fetch: &FetchView) {
        let _ = fetch;
    }
    /// The result is decided (`fetch.result` is `"success"` or `"failure"`);
    /// the worker's terminal event is about to run.
    fn settled(&self, fetch: &FetchView) {
        let _ = fetch;
    }
    /// The worker's terminal event has ended; `fetch` has the final title and
    /// icons. The records are no longer available.
    fn finished(&self, fetch: &FetchView) {
        let _ = fetch;
    }
}

/// What the forwarder remembers of a fetch it showed.
struct Shown {
    view: FetchView,
    settled: bool,
    finished: bool,
}

/// Turns the engine's progress broadcast into [`BackgroundFetchUi`] calls.
struct Forwarder {
    service: BackgroundFetchService,
    /// The host's store, for the scan of unfinished fetches.
    store: Arc<swrt_store::Store>,
    ui: Arc<dyn BackgroundFetchUi>,
    shown: HashMap<String, Shown>,
}

impl Forwarder {
    fn on_snapshot(&mut self, snapshot: &RegistrationSnapshot) {
        let view = FetchView::from(snapshot);
        let entry = match self.shown.get_mut(&view.unique_id) {
            Some(entry) => {
                if entry.finished {
                    return;
                }
                if entry.view.title != view.title || entry.view.icons != view.icons {
                    self.ui.ui_updated(&view);
                }
                if entry.view.downloaded != view.downloaded || entry.view.uploaded != view.uploaded
                {
                    self.ui.progress(&view);
                }
                entry.view = view;
                entry
            }
            None => {
                let control = FetchControl::new(self.service.clone(), &view);
                self.ui.fetch_shown(&view, control);
                self.shown.entry(view.unique_id.clone()).or_insert(Shown {
                    view,
                    settled: false,
                    finished: false,
                })
            }
        };
        if !entry.settled && !entry.view.result.is_empty() {
            entry.settled = true;
            self.ui.settled(&entry.view);
        }
        if !entry.finished && entry.view.phase == FetchPhase::Done {
            entry.finished = true;
            self.ui.finished(&entry.view);
        }
    }

    /// Unfinished fetches already in the store: resumed after a restart, or
    /// started before the first notification reached us.
    async fn scan(&mut self) {
        let store = self.store.clone();
        let ids = tokio::task::spawn_blocking(move || {
            let mut ids = Vec::new();
            for state in [
                FetchState::Active,
                FetchState::Settled,
                FetchState::Dispatched,
            ] {
                ids.extend(
                    store
                        .fetches_in_state(state)?
                        .into_iter()
                        .map(|r| r.unique_id),
                );
            }
            Ok::<_, swrt_bgfetch::StoreError>(ids)
        })
        .await;
        let ids = match ids {
            Ok(Ok(ids)) => ids,
            Ok(Err(e)) => {
                tracing::warn!("background fetch UI: cannot list fetches: {e}");
                return;
            }
            Err(e) => {
                tracing::warn!("background fetch UI: listing task failed: {e}");
                return;
            }
        };
        for id in ids {
            self.reread(&id).await;
        }
    }

    async fn reread(&mut self, unique_id: &str) {
        match self.service.get_by_unique_id(unique_id).await {
            Ok(Some(snapshot)) => self.on_snapshot(&snapshot),
            // Deleted (past click retention): it is over.
            Ok(None) => {
                if let Some(entry) = self.shown.get_mut(unique_id) {
                    if !entry.finished {
                        entry.finished = true;
                        entry.view.phase = FetchPhase::Done;
                        self.ui.finished(&entry.view);
                    }
                }
            }
            Err(e) => tracing::debug!("background fetch UI: cannot re-read {unique_id}: {e}"),
        }
    }

    /// Re-reads every fetch whose terminal event may still be running.
    async fn poll_finishing(&mut self) {
        let pending: Vec<String> = self
            .shown
            .iter()
            .filter(|(_, s)| s.settled && !s.finished)
            .map(|(id, _)| id.clone())
            .collect();
        for id in pending {
            self.reread(&id).await;
        }
    }

    /// After missed notifications: re-read everything not finished.
    async fn refresh(&mut self) {
        let unfinished: Vec<String> = self
            .shown
            .iter()
            .filter(|(_, s)| !s.finished)
            .map(|(id, _)| id.clone())
            .collect();
        for id in unfinished {
            self.reread(&id).await;
        }
        self.scan().await;
    }
}

/// Starts forwarding `service`'s progress to `ui`, on the current tokio
/// runtime, until the engine shuts down.
pub(crate) fn spawn(
    service: BackgroundFetchService,
    store: Arc<swrt_store::Store>,
    ui: Arc<dyn BackgroundFetchUi>,
) {
    // Subscribe before scanning, so nothing between the two is lost.
    let mut progress = service.subscribe();
    tokio::spawn(async move {
        let mut forwarder = Forwarder {
            service,
            store,
            ui,
            shown: HashMap::new(),
        };
        forwarder.scan().await;
        let mut tick = tokio::time::interval(FINISHING_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = progress.recv() => match event {
                    Ok(event) => forwarder.on_snapshot(&event.registration),
                    Err(RecvError::Lagged(_)) => forwarder.refresh().await,
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    // The engine keeps its broadcast sender alive while any
                    // clone of the service exists (this task holds one), so
                    // shutdown is noticed here rather than by `Closed`.
                    if forwarder.service.is_shut_down() {
                        return;
                    }
                    forwarder.poll_finishing().await;
                }
            }
        }
    });
}
