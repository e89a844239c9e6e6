//! Every node's dashboard and event stream show every fetch of the fleet:
//! a node publishes the progress of the fetches it runs as [`Changes`], and
//! passes on to its own engine's subscribers what the other nodes publish.

use crate::changes::{Change, ChangeKind, Changes};
use std::time::Duration;
use swrt_bgfetch::BackgroundFetchService;
use tokio::sync::broadcast::error::RecvError;

/// Starts relaying progress between `service` (node `node`'s engine) and
/// the fleet, until the engine stops.
pub fn spawn_progress_relay(service: BackgroundFetchService, changes: Changes, node: String) {
    tokio::spawn(publish(service.clone(), changes.clone(), node.clone()));
    tokio::spawn(hear(service, changes, node));
}

async fn publish(service: BackgroundFetchService, changes: Changes, node: String) {
    let mut events = service.subscribe();
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            // Progress is a level, not a count: the next event says it all.
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        let registration = &event.registration;
        // What this node heard from others goes no further.
        if !service.runs_here(&registration.unique_id) {
            continue;
        }
        let kind = if event.is_final {
            ChangeKind::State {
                state: registration.state.as_str().to_string(),
            }
        } else {
            ChangeKind::Progress {
                downloaded: registration.downloaded,
                uploaded: registration.uploaded,
            }
        };
        let change = Change {
            node: node.clone(),
            fetch_id: registration.unique_id.clone(),
            kind,
        };
        if let Err(e) = changes.publish(&change).await {
            tracing::warn!(error = %e, "cannot publish progress to the fleet");
        }
    }
}

async fn hear(service: BackgroundFetchService, changes: Changes, node: String) {
    while !service.is_shut_down() {
        let mut heard = match changes.subscribe().await {
            Ok(rx) => rx,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen to the fleet's changes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        while let Some(change) = heard.recv().await {
            if change.node == node || service.is_shut_down() {
                continue;
            }
            let relayed = match change.kind {
                ChangeKind::Progress {
                    downloaded,
                    uploaded,
                } => {
                    service
                        .relay_progress(&change.fetch_id, downloaded, uploaded, false)
                        .await
                }
                ChangeKind::State { .. } => {
                    service.relay_progress(&change.fetch_id, 0, 0, true).await
                }
                ChangeKind::Abort | ChangeKind::Click => Ok(()),
            };
            if let Err(e) = relayed {
                tracing::debug!(error = %e, "cannot relay a fleet change");
            }
        }
        // The listening connection broke: listen again.
    }
}
