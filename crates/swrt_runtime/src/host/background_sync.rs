//! The host's Background Sync scheduler: fires `sync` events when the host
//! is online, retries a failed one with growing delays, and gives up after
//! the configured attempts (the last one with `lastChance`). Registrations
//! live in the store, so they survive restarts.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use serde_json::json;
use swrt_store::{DueSync, Store, SyncAfter, SyncOutcome};
use tokio::sync::Notify;
use url::Url;

use super::HostInner;
use crate::config::BackgroundSyncConfig;
use crate::realm::EventOutcome;

/// Fires the store's due sync registrations (one per host with a data dir).
pub(crate) struct SyncScheduler {
    host: Weak<HostInner>,
    store: Arc<Store>,
    config: BackgroundSyncConfig,
    online: AtomicBool,
    /// Events being dispatched.
    firing: AtomicUsize,
    wake: Notify,
}

impl SyncScheduler {
    /// Recovers events a crash interrupted and starts the scheduling loop.
    pub(crate) async fn start(
        host: Weak<HostInner>,
        store: Arc<Store>,
        config: BackgroundSyncConfig,
    ) -> Arc<SyncScheduler> {
        let recover = store.clone();
        match tokio::task::spawn_blocking(move || recover.sync_recover()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(n, "sync events interrupted by the last run are due again"),
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot recover sync registrations"),
            Err(e) => tracing::warn!(error = %e, "cannot recover sync registrations"),
        }
        let scheduler = Arc::new(SyncScheduler {
            host,
            store,
            online: AtomicBool::new(config.online),
            config,
            firing: AtomicUsize::new(0),
            wake: Notify::new(),
        });
        tokio::spawn(scheduler.clone().run());
        scheduler
    }

    /// The host went online or offline. Going online fires what is due.
    pub(crate) fn set_online(&self, online: bool) {
        self.online.store(online, Ordering::Release);
        self.wake.notify_one();
    }

    pub(crate) fn is_online(&self) -> bool {
        self.online.load(Ordering::Acquire)
    }

    /// A registration changed: look for due events now.
    pub(crate) fn poke(&self) {
        self.wake.notify_one();
    }

    /// Sync work a run on `origin` waits for: events being dispatched (of
    /// any origin: a host run by `swrt run` has one), and, while online, the
    /// origin's registrations that will still fire (retries included).
    pub(crate) async fn work(&self, origin: &str) -> usize {
        let firing = self.firing.load(Ordering::Acquire);
        if !self.is_online() {
            return firing;
        }
        let store = self.store.clone();
        let origin = origin.to_string();
        let stored = tokio::task::spawn_blocking(move || store.sync_count(&origin))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0);
        firing + stored
    }

    async fn run(self: Arc<Self>) {
        loop {
            if self.host.strong_count() == 0 {
                return;
            }
            let mut next_retry = None;
            if self.is_online() {
                let store = self.store.clone();
                let now = swrt_store::now_ms();
                let taken = tokio::task::spawn_blocking(move || {
                    Ok::<_, swrt_store::StoreError>((
                        store.sync_take_due(now)?,
                        store.sync_next_retry()?,
                    ))
                })
                .await;
                match taken {
                    Ok(Ok((due, next))) => {
                        next_retry = next;
                        for sync in due {
                            self.firing.fetch_add(1, Ordering::AcqRel);
                            tokio::spawn(self.clone().fire(sync));
                        }
                    }
                    Ok(Err(swrt_store::StoreError::Closed)) => return,
                    Ok(Err(e)) => tracing::warn!(error = %e, "cannot read sync registrations"),
                    Err(e) => tracing::warn!(error = %e, "cannot read sync registrations"),
                }
            }
            match next_retry {
                Some(at) => {
                    let wait = Duration::from_millis((at - swrt_store::now_ms()).max(0) as u64);
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                None => self.wake.notified().await,
            }
        }
    }

    /// Background Sync "fire a sync event": the registration's active worker
    /// gets `sync` with `lastChance` on the last attempt; the outcome decides
    /// whether the registration goes or waits for a retry.
    async fn fire(self: Arc<Self>, sync: DueSync) {
        let outcome = self.dispatch(&sync).await;
        let retry_at = swrt_store::now_ms() + self.retry_delay(sync.attempts).as_millis() as i64;
        let store = self.store.clone();
        let max_attempts = self.config.max_attempts;
        let (scope, tag) = (sync.scope.clone(), sync.tag.clone());
        let after = tokio::task::spawn_blocking(move || {
            store.sync_finish(&scope, &tag, outcome, max_attempts, retry_at)
        })
        .await;
        match after {
            Ok(Ok(SyncAfter::RetryAt(_))) => {
                tracing::info!(scope = %sync.scope, tag = %sync.tag, attempt = sync.attempts + 1, "sync failed; retrying later")
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot record a sync event's outcome"),
            Err(e) => tracing::warn!(error = %e, "cannot record a sync event's outcome"),
        }
        self.firing.fetch_sub(1, Ordering::AcqRel);
        self.wake.notify_one();
    }

    async fn dispatch(&self, sync: &DueSync) -> SyncOutcome {
        let Some(host) = self.host.upgrade() else {
            return SyncOutcome::Failed;
        };
        // Registrations come back from the store at start; wait for them.
        let mut restored = host.registrations_restored.subscribe();
        if restored.wait_for(|done| *done).await.is_err() {
            return SyncOutcome::Failed;
        }
        let Ok(scope) = Url::parse(&sync.scope) else {
            return SyncOutcome::Failed;
        };
        let Some(registration) = host.registration_with_scope(&scope) else {
            tracing::warn!(%scope, tag = %sync.tag, "no registration for a sync event");
            return SyncOutcome::Failed;
        };
        let Some(version) = registration.active() else {
            return SyncOutcome::Failed;
        };
        let last_chance = sync.attempts + 1 >= self.config.max_attempts;
        tracing::info!(%scope, tag = %sync.tag, attempt = sync.attempts, last_chance, "dispatching sync");
        let data = json!({ "tag": sync.tag, "lastChance": last_chance });
        match version.dispatch(&host, &registration, "sync", data).await {
            Ok(EventOutcome::Completed) => SyncOutcome::Succeeded,
            Ok(other) => {
                tracing::info!(%scope, tag = %sync.tag, outcome = ?other, "sync event failed");
                SyncOutcome::Failed
            }
            Err(e) => {
                tracing::info!(%scope, tag = %sync.tag, error = %e, "sync event could not run");
                SyncOutcome::Failed
            }
        }
    }

    /// The delay before retry `attempts + 1`: the minimum delay, times the
    /// factor for each earlier retry.
    fn retry_delay(&self, attempts: u32) -> Duration {
        self.config
            .min_retry_delay
            .saturating_mul(self.config.retry_delay_factor.saturating_pow(attempts))
    }
}
