//! Terminal events across the fleet: dispatched on the node that runs the
//! registration's worker at that moment, and completed once.
//!
//! A registration's worker runs on one node at a time, under a worker lease
//! ([`Workers`]). When a fetch settles, the node holding the fetch's lease
//! queues its terminal event ([`Events::enqueue`], fenced by that lease,
//! once per fetch). The node holding the worker lease claims the event for
//! dispatch ([`Events::claim`]); the claim expires like a lease, so an event
//! whose node died mid-handler is dispatched again by the worker's next
//! node (a handler interrupted by a crash runs again, as on one node), and
//! only a current claim can mark the event done ([`Events::complete`]).

use crate::db::FleetDb;
use crate::error::Result;
use crate::leases::Lease;
use std::time::Duration;

/// A claim on a registration's worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerLease {
    /// The registration whose worker this node runs.
    pub registration_id: String,
    /// The fencing token, bumped by every acquisition.
    pub generation: i64,
}

/// Worker leases, as one node sees them.
#[derive(Debug, Clone)]
pub struct Workers {
    db: FleetDb,
    node: String,
    ttl: Duration,
}

impl Workers {
    /// Worker leases held as `node`, each valid for `ttl` after its last
    /// acquisition or renewal.
    pub fn new(db: FleetDb, node: impl Into<String>, ttl: Duration) -> Workers {
        Workers {
            db,
            node: node.into(),
            ttl,
        }
    }

    /// Takes the registration's worker if nobody runs it (or its node's
    /// lease expired), or keeps it if this node already does. `None` when
    /// another node runs it.
    pub async fn acquire(&self, registration_id: &str) -> Result<Option<WorkerLease>> {
        let client = self.db.client().await?;
        let row = client
            .query_opt(
                "INSERT INTO swrt_fleet_workers AS w (registration_id, holder, expires_at, generation)
                 VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3), 1)
                 ON CONFLICT (registration_id) DO UPDATE
                 SET holder = $2,
                     expires_at = clock_timestamp() + make_interval(secs => $3),
                     generation = CASE WHEN w.holder = $2 AND w.expires_at > clock_timestamp()
                                       THEN w.generation ELSE w.generation + 1 END
                 WHERE w.holder IS NULL OR w.holder = $2 OR w.expires_at <= clock_timestamp()
                 RETURNING generation",
                &[&registration_id, &self.node, &self.ttl.as_secs_f64()],
            )
            .await?;
        Ok(row.map(|r| WorkerLease {
            registration_id: registration_id.to_string(),
            generation: r.get(0),
        }))
    }

    /// Extends every worker lease this node still holds; returns them. A
    /// worker missing from the result must stop: another node may run it.
    pub async fn renew(&self) -> Result<Vec<WorkerLease>> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "UPDATE swrt_fleet_workers
                 SET expires_at = clock_timestamp() + make_interval(secs => $2)
                 WHERE holder = $1 AND expires_at > clock_timestamp()
                 RETURNING registration_id, generation",
                &[&self.node, &self.ttl.as_secs_f64()],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| WorkerLease {
                registration_id: r.get(0),
                generation: r.get(1),
            })
            .collect())
    }

    /// Lets another node run the worker at once (this node stopped it).
    pub async fn release(&self, lease: &WorkerLease) -> Result<bool> {
        let client = self.db.client().await?;
        let n = client
            .execute(
                "UPDATE swrt_fleet_workers SET holder = NULL, expires_at = NULL
                 WHERE registration_id = $1 AND holder = $2 AND generation = $3",
                &[&lease.registration_id, &self.node, &lease.generation],
            )
            .await?;
        Ok(n == 1)
    }
}

/// A terminal event this node may dispatch now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventClaim {
    /// The fetch the event is for.
    pub fetch_id: String,
    /// The registration whose worker gets it.
    pub registration_id: String,
    /// `backgroundfetchsuccess`, `backgroundfetchfail` or `backgroundfetchabort`.
    pub kind: String,
    /// 1 for the first dispatch; more when an earlier dispatch's node died.
    pub attempt: i32,
}

/// The fleet's queue of terminal events.
#[derive(Debug, Clone)]
pub struct Events {
    db: FleetDb,
    node: String,
    ttl: Duration,
}

impl Events {
    /// Events dispatched as `node`; a claim lasts `ttl` (longer than a
    /// handler may take) unless completed.
    pub fn new(db: FleetDb, node: impl Into<String>, ttl: Duration) -> Events {
        Events {
            db,
            node: node.into(),
            ttl,
        }
    }

    /// Queues the fetch's terminal event, if `lease` is the fetch's current
    /// lease and no event was queued for it yet. True when queued now.
    pub async fn enqueue(&self, lease: &Lease, registration_id: &str, kind: &str) -> Result<bool> {
        let client = self.db.client().await?;
        let n = client
            .execute(
                "INSERT INTO swrt_fleet_events (fetch_id, registration_id, kind)
                 SELECT $1, $2, $3 FROM swrt_fleet_leases
                 WHERE fetch_id = $1 AND holder = $4 AND generation = $5
                   AND expires_at > clock_timestamp()
                 ON CONFLICT (fetch_id) DO NOTHING",
                &[
                    &lease.fetch_id,
                    &registration_id,
                    &kind,
                    &self.node,
                    &lease.generation,
                ],
            )
            .await?;
        Ok(n == 1)
    }

    /// Claims the pending events of the workers this node runs (under a
    /// current worker lease) that no other dispatch holds, oldest first.
    pub async fn claim(&self, max: usize) -> Result<Vec<EventClaim>> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "UPDATE swrt_fleet_events e
                 SET dispatcher = $1,
                     dispatch_expires = clock_timestamp() + make_interval(secs => $2),
                     attempts = e.attempts + 1
                 FROM (
                     SELECT ev.fetch_id FROM swrt_fleet_events ev
                     JOIN swrt_fleet_workers w ON w.registration_id = ev.registration_id
                     WHERE NOT ev.done
                       AND w.holder = $1 AND w.expires_at > clock_timestamp()
                       AND (ev.dispatcher IS NULL OR ev.dispatch_expires <= clock_timestamp())
                     ORDER BY ev.created_at
                     LIMIT $3
                     FOR UPDATE OF ev SKIP LOCKED
                 ) due
                 WHERE e.fetch_id = due.fetch_id
                 RETURNING e.fetch_id, e.registration_id, e.kind, e.attempts",
                &[&self.node, &self.ttl.as_secs_f64(), &(max as i64)],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| EventClaim {
                fetch_id: r.get(0),
                registration_id: r.get(1),
                kind: r.get(2),
                attempt: r.get(3),
            })
            .collect())
    }

    /// Marks the event handled, if this node's claim is the current one.
    /// False when the claim expired and another dispatch took the event.
    pub async fn complete(&self, claim: &EventClaim) -> Result<bool> {
        let client = self.db.client().await?;
        let n = client
            .execute(
                "UPDATE swrt_fleet_events
                 SET done = true, dispatcher = NULL, dispatch_expires = NULL
                 WHERE fetch_id = $1 AND dispatcher = $2 AND attempts = $3 AND NOT done",
                &[&claim.fetch_id, &self.node, &claim.attempt],
            )
            .await?;
        Ok(n == 1)
    }

    /// True once the fetch's event was handled.
    pub async fn is_done(&self, fetch_id: &str) -> Result<bool> {
        let client = self.db.client().await?;
        let row = client
            .query_opt(
                "SELECT done FROM swrt_fleet_events WHERE fetch_id = $1",
                &[&fetch_id],
            )
            .await?;
        Ok(row.is_some_and(|r| r.get(0)))
    }
}
