//! Engines that share one store (a fleet of nodes on one database): each
//! fetch is run by the one engine that holds its claim, from its download
//! to the end of its terminal event. The claims themselves live elsewhere
//! (the fleet's lease table); this module is what the engine does with
//! them: claim fetches nobody runs, renew what it holds, stop what it lost,
//! and stop downloads that another engine's API aborted.

use crate::completion;
use crate::controller;
use crate::engine::Inner;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use swrt_store::{FailureReason, FetchState};

/// Claims on the fetches of a shared store. An implementation must make a
/// claim exclusive across every engine of the store, and let a claim that
/// was not renewed within [`FetchClaims::ttl`] go to whoever claims next.
#[async_trait::async_trait]
pub trait FetchClaims: Send + Sync + 'static {
    /// Makes a fetch this engine just created claimable; with `take`, claims
    /// it for this engine too. True if this engine holds it now.
    async fn offer(&self, unique_id: &str, origin: &str, take: bool) -> Result<bool, String>;
    /// Makes these unfinished fetches (unique id, origin) claimable unless
    /// they already are: the ones whose creator died before offering them.
    async fn adopt(&self, fetches: &[(String, String)]) -> Result<(), String>;
    /// Claims up to `max` fetches that nobody holds, or whose holder let its
    /// claim expire; returns their unique ids.
    async fn claim(&self, max: usize) -> Result<Vec<String>, String>;
    /// Renews every claim this engine holds; returns the fetches it still
    /// holds (a claim that expired before the renewal is lost).
    async fn renew(&self) -> Result<Vec<String>, String>;
    /// The fetch is done (its terminal event ended): nobody runs it again.
    async fn finish(&self, unique_id: &str) -> Result<(), String>;
    /// Gives the fetch back at once (the engine stops, or cannot finish it).
    async fn release(&self, unique_id: &str) -> Result<(), String>;
    /// How long a claim lasts without renewal.
    fn ttl(&self) -> Duration;
    /// The most fetches this engine runs at once.
    fn capacity(&self) -> usize;
}

/// The claim loops, until the engine stops: one renews every third of the
/// claims' lifetime, on its own, so that a busy store cannot delay a
/// renewal; the other claims free fetches and checks the running ones as
/// often.
pub(crate) fn spawn_loop(inner: &Arc<Inner>, claims: Arc<dyn FetchClaims>) {
    let tick = claims.ttl() / 3;
    let renewing = (inner.clone(), claims.clone());
    tokio::spawn(async move {
        let (inner, claims) = renewing;
        let mut renewed = Instant::now();
        loop {
            renew(&inner, &*claims, &mut renewed).await;
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = inner.shutdown.cancelled() => break,
            }
        }
    });
    let inner = inner.clone();
    tokio::spawn(async move {
        loop {
            claim(&inner, &*claims).await;
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = inner.shutdown.cancelled() => break,
            }
        }
    });
}

async fn renew(inner: &Arc<Inner>, claims: &dyn FetchClaims, renewed: &mut Instant) {
    match claims.renew().await {
        Ok(held) => {
            *renewed = Instant::now();
            let held: HashSet<String> = held.into_iter().collect();
            let lost: Vec<String> = inner
                .lock_claimed()
                .iter()
                .filter(|id| !held.contains(*id))
                .cloned()
                .collect();
            for id in lost {
                lose(inner, &id);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot renew fetch claims");
            // Another engine may claim them once they expire: stop running
            // them well before that, at half their lifetime.
            if renewed.elapsed() > claims.ttl() / 2 {
                let all: Vec<String> = inner.lock_claimed().iter().cloned().collect();
                for id in all {
                    lose(inner, &id);
                }
            }
        }
    }
}

async fn claim(inner: &Arc<Inner>, claims: &dyn FetchClaims) {
    stop_settled_elsewhere(inner).await;
    // Fetches whose creator died between storing and offering them.
    let unfinished = inner
        .data
        .run(|s| {
            let mut all = Vec::new();
            for state in [
                FetchState::Active,
                FetchState::Settled,
                FetchState::Dispatched,
            ] {
                all.extend(
                    s.fetches_in_state(state)?
                        .into_iter()
                        .map(|f| (f.unique_id, f.origin)),
                );
            }
            Ok(all)
        })
        .await;
    match unfinished {
        Ok(all) if !all.is_empty() => {
            if let Err(e) = claims.adopt(&all).await {
                tracing::warn!(error = %e, "cannot offer unclaimed fetches");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot list unfinished fetches"),
    }
    let room = claims.capacity().saturating_sub(inner.lock_claimed().len());
    if room == 0 || inner.stopping() {
        return;
    }
    let claimed = match claims.claim(room).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot claim fetches");
            return;
        }
    };
    for id in claimed {
        take_over(inner, id).await;
    }
}

/// Runs a fetch this engine just claimed from wherever its last holder left
/// it: downloading, settled, or with its terminal event under way.
async fn take_over(inner: &Arc<Inner>, unique_id: String) {
    inner.lock_claimed().insert(unique_id.clone());
    // Its lease lapsed while this engine still ran it, and came back here.
    if let Some(ctx) = inner.ctx(&unique_id) {
        if !ctx.is_lost() {
            return; // the download goes on, under the new lease
        }
        // It is winding down as lost: claim it again once it stopped.
        inner.lock_claimed().remove(&unique_id);
        if let Some(claims) = &inner.claims {
            if let Err(e) = claims.release(&unique_id).await {
                tracing::warn!(fetch = %unique_id, error = %e, "cannot release a fetch still stopping here");
            }
        }
        return;
    }
    let id = unique_id.clone();
    let row = match inner.data.run(move |s| s.repair_fetch(&id)).await {
        Ok(row) => row,
        Err(e) => {
            tracing::warn!(fetch = %unique_id, error = %e, "cannot repair a claimed fetch");
            job_ended(inner, &unique_id).await;
            return;
        }
    };
    match row {
        Some(row) if row.state == FetchState::Active => {
            tracing::info!(fetch = %unique_id, id = %row.id, "resuming a claimed fetch");
            controller::spawn(inner, row);
        }
        Some(row) if row.state == FetchState::Settled => completion::spawn(inner, unique_id, false),
        Some(row) if row.state == FetchState::Dispatched => {
            tracing::warn!(fetch = %unique_id, "the terminal event's last holder stopped during it; dispatching it again");
            completion::spawn(inner, unique_id, true);
        }
        _ => job_ended(inner, &unique_id).await,
    }
}

/// This engine no longer holds `unique_id`: its downloads stop without
/// settling the fetch, which is the new holder's to run.
fn lose(inner: &Arc<Inner>, unique_id: &str) {
    tracing::warn!(fetch = %unique_id, "lost the claim on a fetch; stopping it here");
    inner.lock_claimed().remove(unique_id);
    if let Some(ctx) = inner.ctx(unique_id) {
        ctx.lose();
    }
}

/// A download this engine runs whose fetch was settled through another
/// engine (an abort from its API) stops, and this engine runs the event.
async fn stop_settled_elsewhere(inner: &Arc<Inner>) {
    let running: Vec<String> = inner.lock_running().keys().cloned().collect();
    for id in running {
        let uid = id.clone();
        let Ok(Some(row)) = inner.data.run(move |s| s.get_fetch(&uid)).await else {
            continue;
        };
        if row.state != FetchState::Active {
            if let Some(ctx) = inner.ctx(&id) {
                tracing::info!(fetch = %id, "settled through another node; stopping its downloads");
                ctx.stop(match row.failure_reason {
                    FailureReason::None => FailureReason::Aborted,
                    reason => reason,
                });
            }
        }
    }
}

/// A job (download and event, or the event alone) ended on this engine:
/// the claim ends with it. A done fetch is finished for good; any other
/// goes back to the fleet (this engine stops, or could not deliver the
/// event), for whoever claims it next.
pub(crate) async fn job_ended(inner: &Arc<Inner>, unique_id: &str) {
    let Some(claims) = inner.claims.clone() else {
        return;
    };
    if !inner.lock_claimed().remove(unique_id) {
        return; // lost meanwhile: not this engine's to end
    }
    let id = unique_id.to_string();
    let done = match inner.data.run(move |s| s.get_fetch(&id)).await {
        Ok(row) => row.is_none_or(|r| r.state == FetchState::Done),
        Err(_) => false,
    };
    let ended = if done {
        claims.finish(unique_id).await
    } else {
        claims.release(unique_id).await
    };
    if let Err(e) = ended {
        tracing::warn!(fetch = %unique_id, error = %e, "cannot end the claim on a fetch; it expires instead");
    }
}
