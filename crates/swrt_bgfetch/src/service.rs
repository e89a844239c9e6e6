//! The entry point: [`BackgroundFetchService`] (Chromium's
//! BackgroundFetchContext + BackgroundFetchServiceImpl). Its builder is in
//! `builder`, the checks of `fetch()`'s input in `validate`.

use crate::builder::BackgroundFetchServiceBuilder;
use crate::completion;
use crate::controller;
use crate::dispatch::{BackgroundFetchEventRequest, EventKind};
use crate::engine::Inner;
use crate::error::{EngineError, FetchRejection};
use crate::limits::Limits;
use crate::scheduler::Peaks;
use crate::types::*;
use crate::validate::{create_rejection, validate_request};
use std::sync::Arc;
use swrt_store::{FetchLimits, FetchState, NewFetch, Store};
use tokio::sync::{broadcast, watch};

/// Chromium's limit on the length of a developer id.
pub const MAX_ID_BYTES: usize = 1 << 20;

/// The Background Fetch engine. Cheap to clone; all clones share one engine.
#[derive(Clone)]
pub struct BackgroundFetchService {
    inner: Arc<Inner>,
}

impl BackgroundFetchService {
    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        BackgroundFetchService { inner }
    }

    /// Start building a service on `store`, which the caller opened and
    /// owns: the engine keeps its fetches there next to what the host keeps
    /// (service-worker registrations, the Cache API), and never closes it.
    /// One engine per store.
    pub fn builder(store: Arc<Store>) -> BackgroundFetchServiceBuilder {
        BackgroundFetchServiceBuilder {
            store,
            limits: Limits::default(),
            dispatcher: None,
            client: None,
            claims: None,
        }
    }

    /// Restart recovery: fetches that were running resume, settled ones
    /// whose event was not delivered wait for it.
    pub(crate) async fn recover(&self) -> Result<(), EngineError> {
        let inner = &self.inner;
        let retention_ms = inner.limits.click_retention.as_millis() as i64;
        // Drop finished rows past the click-retention period.
        let drop_expired = move |s: &Store| -> swrt_store::Result<()> {
            let now = swrt_store::now_ms();
            for f in s.fetches_in_state(FetchState::Done)? {
                if f.done_ms.is_some_and(|d| now - d > retention_ms) {
                    s.delete_fetch(&f.unique_id)?;
                }
            }
            Ok(())
        };
        if let Some(claims) = &inner.claims {
            // Shared with other engines: this engine runs what it claims,
            // from the claim loop, each fetch repaired when claimed.
            inner.data.run(drop_expired).await?;
            crate::claims::spawn_loop(inner, claims.clone());
            return Ok(());
        }
        let (active, settled, dispatched) = inner
            .data
            .run(move |s| {
                drop_expired(s)?;
                let active = s.repair()?;
                Ok((
                    active,
                    s.fetches_in_state(FetchState::Settled)?,
                    s.fetches_in_state(FetchState::Dispatched)?,
                ))
            })
            .await?;
        for row in active {
            tracing::info!(fetch = %row.unique_id, id = %row.id, "resuming fetch after restart");
            controller::spawn(inner, row);
        }
        for row in settled {
            completion::spawn(inner, row.unique_id, false);
        }
        for row in dispatched {
            tracing::warn!(fetch = %row.unique_id, "terminal event was interrupted by a restart; dispatching it again");
            completion::spawn(inner, row.unique_id, true);
        }
        Ok(())
    }

    /// `BackgroundFetchManager.fetch()`: validate (steps 1-4), persist and
    /// start (step 5).
    pub async fn fetch(&self, req: FetchRequest) -> Result<RegistrationSnapshot, FetchRejection> {
        let inner = &self.inner;
        if inner.stopping() {
            return Err(FetchRejection::Internal("engine stopped".into()));
        }
        // Step 1: a single request became a list in the caller; empty rejects.
        if req.requests.is_empty() {
            return Err(FetchRejection::TypeError(
                "At least one request must be given.".into(),
            ));
        }
        // Step 2: what the Request constructor would throw.
        let mut new_requests = Vec::with_capacity(req.requests.len());
        for r in &req.requests {
            new_requests.push(validate_request(r)?);
        }
        let origin_url = url::Url::parse(&req.origin).map_err(|e| {
            FetchRejection::TypeError(format!("invalid origin {:?}: {e}", req.origin))
        })?;
        let origin = origin_url.origin().ascii_serialization();
        // Step 3.
        if !req.has_active_worker {
            return Err(FetchRejection::TypeError(
                "No active registration available on the ServiceWorkerRegistration.".into(),
            ));
        }
        if !self.permission(&origin) {
            return Err(FetchRejection::NotAllowed(
                "Background fetch permission has not been granted.".into(),
            ));
        }
        if req.id.len() > MAX_ID_BYTES {
            return Err(FetchRejection::TypeError(
                "The id is longer than 1 MiB.".into(),
            ));
        }
        // Step 4 (downloadTotal larger than the free quota) is checked by the
        // store together with the id and the origin's active fetches, in the
        // transaction that inserts the fetch; step 5 persists and starts it.
        let upload_total: u64 = new_requests
            .iter()
            .map(|r| r.body.as_ref().map_or(0, |b| b.len() as u64))
            .sum();
        let nf = NewFetch {
            unique_id: uuid::Uuid::new_v4().to_string(),
            scope: req.scope.clone(),
            id: req.id.clone(),
            origin: origin.clone(),
            title: req.options.title.clone(),
            icons: req.options.icons.clone(),
            download_total: req.options.download_total,
            ui_data: None,
            policy_json: serde_json::to_string(&req.policy).unwrap_or_else(|_| "{}".into()),
        };
        let limits = FetchLimits {
            max_active_per_origin: inner.limits.max_active_fetches_per_origin,
            quota_per_origin: inner.limits.quota_per_origin,
            usage_estimate: inner.data.usage(&origin),
        };
        let row = inner
            .data
            .run(move |s| Ok(s.create_fetch(&nf, &new_requests, &limits)))
            .await
            .map_err(|e| FetchRejection::Internal(e.to_string()))?
            .map_err(|e| create_rejection(e, upload_total))?;
        inner.data.add_usage(&origin, upload_total as i64);
        tracing::info!(fetch = %row.unique_id, id = %row.id, records = req.requests.len(), "background fetch registered");
        let snap = RegistrationSnapshot::from_row(&row);
        match &inner.claims {
            None => controller::spawn(inner, row),
            Some(claims) => {
                // Run here if this engine has room; otherwise the fleet's
                // claim loops pick it up.
                let take = inner.lock_claimed().len() < claims.capacity();
                match claims.offer(&row.unique_id, &row.origin, take).await {
                    Ok(true) => {
                        inner.lock_claimed().insert(row.unique_id.clone());
                        controller::spawn(inner, row);
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(fetch = %row.unique_id, error = %e, "cannot offer the fetch to the fleet; a claim loop adopts it")
                    }
                }
            }
        }
        Ok(snap)
    }

    /// `BackgroundFetchManager.get(id)`: the active fetch, or `None`.
    /// `get('')` is a TypeError per the tests.
    pub async fn get(
        &self,
        scope: &str,
        id: &str,
    ) -> Result<Option<RegistrationSnapshot>, EngineError> {
        if id.is_empty() {
            return Err(EngineError::TypeError("The provided id is invalid.".into()));
        }
        let (s, i) = (scope.to_string(), id.to_string());
        let row = self
            .inner
            .data
            .run(move |st| st.active_fetch(&s, &i))
            .await?;
        Ok(row.map(|r| self.inner.snapshot(&r)))
    }

    /// A fetch by internal id, in any state (for hosts and the runtime).
    pub async fn get_by_unique_id(
        &self,
        unique_id: &str,
    ) -> Result<Option<RegistrationSnapshot>, EngineError> {
        let u = unique_id.to_string();
        let row = self.inner.data.run(move |st| st.get_fetch(&u)).await?;
        Ok(row.map(|r| self.inner.snapshot(&r)))
    }

    /// `BackgroundFetchManager.getIds()`: ids of the active fetches.
    pub async fn ids(&self, scope: &str) -> Result<Vec<String>, EngineError> {
        let s = scope.to_string();
        self.inner.data.run(move |st| st.active_ids(&s)).await
    }

    /// `BackgroundFetchRegistration.abort()`: true if the fetch was active
    /// (it then ends with `aborted` and `backgroundfetchabort`), false otherwise.
    pub async fn abort(&self, scope: &str, id: &str) -> Result<bool, EngineError> {
        let (s, i) = (scope.to_string(), id.to_string());
        let Some(row) = self
            .inner
            .data
            .run(move |st| st.active_fetch(&s, &i))
            .await?
        else {
            return Ok(false);
        };
        self.abort_unique(&row.unique_id).await
    }

    /// The service worker registration of `scope` was unregistered: its
    /// active fetches stop as aborted, without a terminal event, since no
    /// worker is left to receive one (and a worker registered later for the
    /// same scope must not get another registration's events). Chromium
    /// abandons a deleted registration's fetches the same way. Returns how
    /// many fetches were stopped.
    pub async fn abandon_registration(&self, scope: &str) -> Result<usize, EngineError> {
        let mut stopped = 0;
        for id in self.ids(scope).await? {
            let s = scope.to_string();
            let Some(row) = self
                .inner
                .data
                .run(move |st| st.active_fetch(&s, &id))
                .await?
            else {
                continue;
            };
            // Marked first: completion may start as soon as it is settled.
            self.inner
                .abandoned
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(row.unique_id.clone());
            if self.abort_unique(&row.unique_id).await? {
                tracing::info!(fetch = %row.unique_id, %scope, "registration unregistered: fetch abandoned");
                stopped += 1;
            }
        }
        Ok(stopped)
    }

    /// Abort by internal id.
    pub async fn abort_unique(&self, unique_id: &str) -> Result<bool, EngineError> {
        let inner = &self.inner;
        let ctx = inner.ctx(unique_id);
        let id = unique_id.to_string();
        let Some(row) = inner.data.run(move |st| st.get_fetch(&id)).await? else {
            return Ok(false);
        };
        if row.state != FetchState::Active {
            return Ok(false);
        }
        let (d, u) = match &ctx {
            Some(c) => (
                c.downloaded.load(std::sync::atomic::Ordering::Acquire),
                c.uploaded.load(std::sync::atomic::Ordering::Acquire),
            ),
            None => (row.downloaded, row.uploaded),
        };
        let settled = controller::settle(
            inner,
            unique_id,
            swrt_store::FetchResult::Failure,
            swrt_store::FailureReason::Aborted,
            d,
            u,
            ctx.as_ref(),
        )
        .await;
        if !settled {
            return Ok(false);
        }
        // Look again: a controller that registered after the first look
        // either sees the settled state itself or is stopped here.
        match inner.ctx(unique_id) {
            // The controller sees the cancellation, stops its downloads and
            // runs completion (the abort event) itself.
            Some(c) => c.stop(swrt_store::FailureReason::Aborted),
            // With a shared store the fetch's holder runs the event: its
            // claim loop sees the fetch settled and stops the downloads (or
            // the next claimer finds it settled).
            None if inner.claims.is_some() => {}
            None => completion::spawn(inner, unique_id.to_string(), false),
        }
        Ok(true)
    }

    /// The host's UI for a fetch was activated: dispatch
    /// `backgroundfetchclick` (during the fetch or, within the click-retention
    /// period, after it). Returns false if no such fetch is known.
    pub async fn click(&self, scope: &str, id: &str) -> Result<bool, EngineError> {
        let (s, i) = (scope.to_string(), id.to_string());
        let Some(row) = self
            .inner
            .data
            .run(move |st| st.latest_fetch(&s, &i))
            .await?
        else {
            return Ok(false);
        };
        let snap = self.inner.snapshot(&row);
        // Chromium also fires click during the fetch; the event carries the
        // live registration (current downloaded/uploaded).
        if let Some(d) = &self.inner.dispatcher {
            let ev = BackgroundFetchEventRequest {
                kind: EventKind::Click,
                registration: snap,
                attempt: 0,
            };
            if let Err(e) = d.dispatch(ev).await {
                tracing::warn!(fetch = %row.unique_id, error = %e, "click event not delivered");
            }
        }
        Ok(true)
    }

    /// `updateUI()`: store a new title and/or icons. Returns false for an
    /// unknown fetch or once the terminal event has ended (the fetch is
    /// `done`). The runtime enforces "once per event, while the event is
    /// active, title non-empty".
    pub async fn update_ui(
        &self,
        unique_id: &str,
        title: Option<String>,
        icons: Option<Vec<Icon>>,
    ) -> Result<bool, EngineError> {
        let u = unique_id.to_string();
        let (t, i) = (title.clone(), icons.clone());
        let updated = self
            .inner
            .data
            .run(move |st| st.set_ui(&u, t.as_deref(), i.as_deref()))
            .await?;
        // After the store: a controller starting meanwhile re-reads the
        // row once it is registered as running (see controller::run).
        if updated {
            if let Some(ctx) = self.inner.ctx(unique_id) {
                let mut row = ctx.row.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(t) = title {
                    row.title = t;
                }
                if let Some(i) = icons {
                    row.icons = i;
                }
                ctx.ui_epoch
                    .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            }
        }
        Ok(updated)
    }

    /// Grant or deny the background-fetch permission for `origin` (default:
    /// granted). Denied -> `fetch()` rejects with NotAllowedError.
    pub fn set_permission(&self, origin: &str, granted: bool) {
        let key = url::Url::parse(origin)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| origin.to_string());
        self.inner
            .permissions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, granted);
    }

    fn permission(&self, origin: &str) -> bool {
        self.inner
            .permissions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(origin)
            .copied()
            .unwrap_or(true)
    }

    /// Progress of every fetch. Lagging receivers get `Lagged` and should
    /// re-read with [`BackgroundFetchService::get`]; the event with
    /// `is_final` is sent once per fetch when its result is decided.
    pub fn subscribe(&self) -> broadcast::Receiver<ProgressEvent> {
        self.inner.progress.subscribe()
    }

    /// The state of one fetch as a `watch`: the receiver holds the latest
    /// [`ProgressEvent`] of the fetch (counters, the result once decided,
    /// `recordsAvailable`) and changes with each progress notification,
    /// rate-limited like [`BackgroundFetchService::subscribe`]. A subscriber
    /// that comes late starts from the current state. Once the fetch is
    /// done the channel closes, its last state still readable. `None` for
    /// an unknown fetch.
    pub async fn watch(
        &self,
        unique_id: &str,
    ) -> Result<Option<watch::Receiver<ProgressEvent>>, EngineError> {
        let Some(first) = self.current_state(unique_id).await? else {
            return Ok(None);
        };
        let rx = self.inner.progress.watch(first);
        // A change published between the read and the watch's creation
        // reached no watcher: read again, now that one exists.
        if let Some(now) = self.current_state(unique_id).await? {
            self.inner.progress.refresh(now);
        }
        Ok(Some(rx))
    }

    /// True while this engine runs the fetch (its download or its terminal
    /// event); with a shared store, other engines run the rest.
    pub fn runs_here(&self, unique_id: &str) -> bool {
        self.inner.lock_claimed().contains(unique_id) || self.inner.ctx(unique_id).is_some()
    }

    /// Passes on to this engine's subscribers ([`Self::subscribe`],
    /// [`Self::watch`]) the progress of a fetch another engine sharing the
    /// store runs: its stored state, with these counters while it is active.
    pub async fn relay_progress(
        &self,
        unique_id: &str,
        downloaded: u64,
        uploaded: u64,
        is_final: bool,
    ) -> Result<(), EngineError> {
        let u = unique_id.to_string();
        let Some(row) = self.inner.data.run(move |st| st.get_fetch(&u)).await? else {
            return Ok(());
        };
        let mut snapshot = RegistrationSnapshot::from_row(&row);
        if row.state == FetchState::Active {
            snapshot.downloaded = downloaded;
            snapshot.uploaded = uploaded;
        }
        self.inner.progress.send(snapshot, is_final);
        Ok(())
    }

    async fn current_state(&self, unique_id: &str) -> Result<Option<ProgressEvent>, EngineError> {
        let u = unique_id.to_string();
        let row = self.inner.data.run(move |st| st.get_fetch(&u)).await?;
        Ok(row.map(|r| ProgressEvent {
            is_final: r.result != swrt_store::FetchResult::Pending,
            registration: self.inner.snapshot(&r),
        }))
    }

    /// Stop the engine: refuse new fetches, stop every download after syncing
    /// its body and recording its durable byte count (the next start resumes
    /// it with `Range`), stop the controllers and event deliveries (a
    /// terminal event that was running is offered again on the next start,
    /// with `attempt > 0`) and commit queued record completions. The store
    /// stays open: its owner closes it ([`Store::close`]) to release the
    /// data directory, and a new service can start on it at once.
    ///
    /// Idempotent; concurrent callers all wait for the same shutdown. After
    /// it, `fetch()` rejects and the other calls fail with
    /// [`EngineError::Stopped`].
    pub async fn shutdown(&self) {
        let inner = self.inner.clone();
        self.inner
            .shutdown_done
            .get_or_init(|| async move {
                tracing::info!("background fetch engine shutting down");
                inner.shutdown.cancel();
                let mut rx = inner.jobs.subscribe();
                let _ = rx.wait_for(|n| *n == 0).await;
                inner.data.close().await;
                tracing::info!("background fetch engine stopped");
            })
            .await;
    }

    /// True once [`BackgroundFetchService::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        self.inner.stopping()
    }

    /// Resolve when no fetch is running and no terminal event is pending.
    pub async fn wait_idle(&self) {
        let mut rx = self.inner.jobs.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Bytes stored for `origin` (estimate including unsynced bytes).
    pub fn origin_usage(&self, origin: &str) -> u64 {
        self.inner.data.usage(origin)
    }

    /// Peak concurrency the scheduler granted so far.
    pub fn scheduler_peaks(&self) -> Peaks {
        self.inner.sched.peaks()
    }

    /// The configured limits.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}
