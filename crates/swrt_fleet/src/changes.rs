//! State changes every node hears about, over PostgreSQL `LISTEN`/`NOTIFY`:
//! progress for every node's dashboard and event stream, and the `abort`
//! and `click` a node's API received for a fetch another node runs.
//!
//! A notification is delivered to the nodes listening when its transaction
//! commits, in commit order; a node that was not listening misses it, so
//! durable state lives in tables and changes only say "look again".

use crate::db::FleetDb;
use crate::error::{FleetError, Result};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// The channel every node listens on.
const CHANNEL: &str = "swrt_fleet_changes";

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// Bytes moved.
    Progress {
        /// Response bytes stored so far.
        downloaded: u64,
        /// Request bytes sent so far.
        uploaded: u64,
    },
    /// The fetch settled or changed state (`result` as the API names it).
    State {
        /// The new state.
        state: String,
    },
    /// Someone asked for the fetch to be aborted.
    Abort,
    /// Someone clicked the fetch's UI.
    Click,
}

/// One change to one fetch, and the node it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The node that published it.
    pub node: String,
    /// The fetch it is about.
    pub fetch_id: String,
    /// What changed.
    #[serde(flatten)]
    pub kind: ChangeKind,
}

/// Publishing and hearing changes.
#[derive(Debug, Clone)]
pub struct Changes {
    db: FleetDb,
}

impl Changes {
    /// Changes on `db`'s database.
    pub fn new(db: FleetDb) -> Changes {
        Changes { db }
    }

    /// Tells every listening node (this one included) about `change`.
    pub async fn publish(&self, change: &Change) -> Result<()> {
        let payload = serde_json::to_string(change)?;
        let client = self.db.client().await?;
        client
            .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
            .await?;
        Ok(())
    }

    /// Starts listening on a connection of its own. Changes published after
    /// this returns arrive on the receiver, in commit order. The receiver
    /// ends when the connection breaks; a node then subscribes again and
    /// rereads the state it cares about.
    pub async fn subscribe(&self) -> Result<mpsc::Receiver<Change>> {
        let (client, mut connection) = self.db.dedicated().await?;
        let (tx, rx) = mpsc::channel(1024);
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx)).boxed();
        // The connection ends when its client is dropped: the task keeps it.
        let client = std::sync::Arc::new(client);
        let keep = client.clone();
        let task = tokio::spawn(async move {
            let _client = keep;
            while let Some(message) = messages.next().await {
                match message {
                    Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                        match serde_json::from_str::<Change>(n.payload()) {
                            Ok(change) => {
                                if tx.send(change).await.is_err() {
                                    return;
                                }
                            }
                            Err(e) => tracing::warn!("ignoring a change notification: {e}"),
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("the change notification connection broke: {e}");
                        return;
                    }
                }
            }
        });
        if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
            task.abort();
            return Err(FleetError::from(e));
        }
        Ok(rx)
    }
}
