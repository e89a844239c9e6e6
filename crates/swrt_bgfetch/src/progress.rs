//! Progress notifications, rate-limited per fetch, with the final values
//! always delivered, two ways: one broadcast channel of every fetch's
//! changes (the CLI, embedders that follow everything), and a `watch` per
//! fetch that holds its latest state (Chromium's registration notifier: a
//! registration object subscribes to its own fetch, and a late subscriber
//! starts from the current state instead of racing the broadcast).

use crate::types::{ProgressEvent, RegistrationSnapshot};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use swrt_store::{FetchResult, FetchState};
use tokio::sync::{broadcast, watch};

/// Per-fetch limiter state.
pub(crate) struct ProgressLimiter {
    interval: Duration,
    last: Mutex<Option<Instant>>,
    flush_pending: AtomicBool,
    finished: AtomicBool,
}

/// What to do after [`ProgressLimiter::offer`].
pub(crate) enum Offer {
    /// Emit now.
    Now,
    /// Schedule one delayed flush after this long.
    Later(Duration),
    /// A flush is already scheduled (or the fetch finished).
    Skip,
}

impl ProgressLimiter {
    pub(crate) fn new(interval: Duration) -> Self {
        ProgressLimiter {
            interval,
            last: Mutex::new(None),
            flush_pending: AtomicBool::new(false),
            finished: AtomicBool::new(false),
        }
    }

    pub(crate) fn offer(&self) -> Offer {
        if self.finished.load(Ordering::Acquire) {
            return Offer::Skip;
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match *last {
            Some(t) if now.duration_since(t) < self.interval => {
                if self.flush_pending.swap(true, Ordering::AcqRel) {
                    Offer::Skip
                } else {
                    Offer::Later(self.interval - now.duration_since(t))
                }
            }
            _ => {
                *last = Some(now);
                Offer::Now
            }
        }
    }

    /// Called by the delayed flush before emitting. Returns false if the
    /// fetch finished meanwhile (the final event already went out).
    pub(crate) fn flush(&self) -> bool {
        self.flush_pending.store(false, Ordering::Release);
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        !self.finished.load(Ordering::Acquire)
    }

    /// Mark finished; returns true the first time (the caller then emits the final event).
    pub(crate) fn finish(&self) -> bool {
        !self.finished.swap(true, Ordering::AcqRel)
    }
}

/// The broadcast channel and the per-fetch watches.
pub(crate) struct ProgressHub {
    tx: broadcast::Sender<ProgressEvent>,
    /// The latest state of every fetch someone watches, by unique id. An
    /// entry goes when its fetch is done (its receivers then see the
    /// channel closed, the last state still readable) or when nobody
    /// watches any more.
    watches: Mutex<HashMap<String, watch::Sender<ProgressEvent>>>,
}

impl ProgressHub {
    pub(crate) fn new() -> Self {
        // Subscribers that fall more than this many events behind get
        // `RecvError::Lagged` and should re-read state with `get()`.
        let (tx, _) = broadcast::channel(4096);
        ProgressHub {
            tx,
            watches: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ProgressEvent> {
        self.tx.subscribe()
    }

    pub(crate) fn send(&self, registration: RegistrationSnapshot, is_final: bool) {
        let event = ProgressEvent {
            registration,
            is_final,
        };
        {
            let mut watches = self.lock_watches();
            let uid = &event.registration.unique_id;
            if let Some(w) = watches.get(uid) {
                w.send_replace(event.clone());
                if w.receiver_count() == 0 || event.registration.state == FetchState::Done {
                    watches.remove(uid);
                }
            }
        }
        // No receivers is fine.
        let _ = self.tx.send(event);
    }

    /// A receiver of the fetch's latest state, starting from `current`
    /// (read by the caller) unless a newer state is already watched.
    pub(crate) fn watch(&self, current: ProgressEvent) -> watch::Receiver<ProgressEvent> {
        if current.registration.state == FetchState::Done {
            // Nothing changes any more: the state, on a closed channel.
            return watch::channel(current).1;
        }
        let mut watches = self.lock_watches();
        watches.retain(|_, w| w.receiver_count() > 0);
        match watches.get(&current.registration.unique_id) {
            Some(w) => {
                w.send_if_modified(|latest| replace_if_newer(latest, &current));
                let mut rx = w.subscribe();
                rx.mark_unchanged();
                rx
            }
            None => {
                let uid = current.registration.unique_id.clone();
                let (w, rx) = watch::channel(current);
                watches.insert(uid, w);
                rx
            }
        }
    }

    /// Offer a state read after [`ProgressHub::watch`]: it replaces the
    /// watched one if it is newer (a change published between the caller's
    /// first read and the watch's creation is not lost).
    pub(crate) fn refresh(&self, current: ProgressEvent) {
        let mut watches = self.lock_watches();
        let uid = &current.registration.unique_id;
        if let Some(w) = watches.get(uid) {
            let done = current.registration.state == FetchState::Done;
            w.send_if_modified(|latest| replace_if_newer(latest, &current));
            if done {
                watches.remove(uid);
            }
        }
    }

    fn lock_watches(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<ProgressEvent>>> {
        self.watches.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A fetch's state only moves forward (active, settled, dispatched, done;
/// a result once decided stays), and while it runs its counters grow
/// except when a body restarts. Replaces `latest` with `candidate` when
/// `candidate` is further along.
fn replace_if_newer(latest: &mut ProgressEvent, candidate: &ProgressEvent) -> bool {
    let rank = |e: &ProgressEvent| {
        let r = &e.registration;
        let state = match r.state {
            FetchState::Active => 0,
            FetchState::Settled => 1,
            FetchState::Dispatched => 2,
            FetchState::Done => 3,
        };
        (
            state,
            r.result != FetchResult::Pending,
            e.is_final,
            r.downloaded.saturating_add(r.uploaded),
        )
    };
    if rank(candidate) > rank(latest) {
        *latest = candidate.clone();
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swrt_store::FailureReason;

    fn event(uid: &str, state: FetchState, downloaded: u64, is_final: bool) -> ProgressEvent {
        ProgressEvent {
            registration: RegistrationSnapshot {
                unique_id: uid.into(),
                scope: "https://a.test/".into(),
                id: "x".into(),
                origin: "https://a.test".into(),
                title: String::new(),
                icons: vec![],
                upload_total: 0,
                uploaded: 0,
                download_total: 0,
                downloaded,
                result: if state == FetchState::Active {
                    FetchResult::Pending
                } else {
                    FetchResult::Success
                },
                failure_reason: FailureReason::None,
                records_available: state != FetchState::Done,
                state,
            },
            is_final,
        }
    }

    #[test]
    fn a_watcher_sees_every_later_state_and_a_late_one_the_latest() {
        let hub = ProgressHub::new();
        let mut early = hub.watch(event("f", FetchState::Active, 0, false));
        hub.send(
            event("f", FetchState::Active, 10, false).registration,
            false,
        );
        assert!(early.has_changed().unwrap());
        assert_eq!(early.borrow_and_update().registration.downloaded, 10);
        hub.send(
            event("f", FetchState::Active, 20, false).registration,
            false,
        );
        // A late subscriber starting from an older read gets the latest.
        let late = hub.watch(event("f", FetchState::Active, 5, false));
        assert_eq!(late.borrow().registration.downloaded, 20);
        assert!(!late.has_changed().unwrap());
        hub.send(event("f", FetchState::Settled, 30, true).registration, true);
        assert!(late.has_changed().unwrap());
        assert_eq!(late.borrow().registration.state, FetchState::Settled);
        assert!(late.borrow().is_final);
    }

    #[test]
    fn done_closes_the_watch_with_the_last_state_readable() {
        let hub = ProgressHub::new();
        let mut rx = hub.watch(event("f", FetchState::Dispatched, 7, true));
        hub.send(event("f", FetchState::Done, 7, true).registration, true);
        assert_eq!(rx.borrow_and_update().registration.state, FetchState::Done);
        assert!(
            rx.has_changed().is_err(),
            "closed: nothing changes any more"
        );
        assert!(hub.lock_watches().is_empty());
        // Watching a done fetch: its state, on a closed channel, nothing kept.
        let rx = hub.watch(event("g", FetchState::Done, 1, true));
        assert_eq!(rx.borrow().registration.state, FetchState::Done);
        assert!(rx.has_changed().is_err());
        assert!(hub.lock_watches().is_empty());
    }

    #[test]
    fn a_refresh_never_goes_back() {
        let hub = ProgressHub::new();
        let rx = hub.watch(event("f", FetchState::Active, 0, false));
        // Settled while the caller was reading: the re-read brings it in.
        hub.refresh(event("f", FetchState::Settled, 9, true));
        assert_eq!(rx.borrow().registration.state, FetchState::Settled);
        // An older read does not replace it.
        hub.refresh(event("f", FetchState::Active, 3, false));
        assert_eq!(rx.borrow().registration.state, FetchState::Settled);
        assert_eq!(rx.borrow().registration.downloaded, 9);
    }

    #[test]
    fn unwatched_fetches_keep_no_entry() {
        let hub = ProgressHub::new();
        let rx = hub.watch(event("f", FetchState::Active, 0, false));
        drop(rx);
        hub.send(event("f", FetchState::Active, 1, false).registration, false);
        assert!(hub.lock_watches().is_empty());
        hub.send(event("h", FetchState::Active, 1, false).registration, false);
        assert!(hub.lock_watches().is_empty());
    }
}
