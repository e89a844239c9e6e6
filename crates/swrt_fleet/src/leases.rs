//! Which node runs which background fetch.
//!
//! A fetch is offered once (by the node whose page or worker started it).
//! Nodes claim open fetches whose lease is free or expired; a claim sets the
//! holder, the expiry and a new generation. The holder renews its leases
//! well before they expire; a node that dies stops renewing, and once its
//! leases expire other nodes claim the fetches and resume them. Finishing
//! and releasing are fenced by the generation, so a node that was too slow
//! to renew (and whose fetch another node now runs) changes nothing.

use crate::db::FleetDb;
use crate::error::Result;
use std::time::Duration;

/// A claim on one fetch, valid while its generation is the fetch's current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The fetch's unique id.
    pub fetch_id: String,
    /// The origin that owns the fetch.
    pub origin: String,
    /// The fencing token: bumped by every claim.
    pub generation: i64,
}

/// One node's view of the lease table.
#[derive(Debug, Clone)]
pub struct Leases {
    db: FleetDb,
    node: String,
    ttl: Duration,
}

impl Leases {
    /// Leases held as `node` (unique in the fleet), each valid for `ttl`
    /// after its last claim or renewal.
    pub fn new(db: FleetDb, node: impl Into<String>, ttl: Duration) -> Leases {
        Leases {
            db,
            node: node.into(),
            ttl,
        }
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// How long a lease lasts without renewal.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn ttl_seconds(&self) -> f64 {
        self.ttl.as_secs_f64()
    }

    /// Makes `fetch_id` available to the fleet. False if it already was.
    pub async fn offer(&self, fetch_id: &str, origin: &str) -> Result<bool> {
        let client = self.db.client().await?;
        let n = client
            .execute(
                "INSERT INTO swrt_fleet_leases (fetch_id, origin) VALUES ($1, $2)
                 ON CONFLICT (fetch_id) DO NOTHING",
                &[&fetch_id, &origin],
            )
            .await?;
        Ok(n == 1)
    }

    /// Offers `fetch_id` and claims it for this node in one step (the node
    /// that created the fetch runs it). `None` if it was offered before.
    pub async fn offer_taken(&self, fetch_id: &str, origin: &str) -> Result<Option<Lease>> {
        let client = self.db.client().await?;
        let row = client
            .query_opt(
                "INSERT INTO swrt_fleet_leases (fetch_id, origin, holder, expires_at, generation)
                 VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4), 1)
                 ON CONFLICT (fetch_id) DO NOTHING
                 RETURNING fetch_id, origin, generation",
                &[&fetch_id, &origin, &self.node, &self.ttl_seconds()],
            )
            .await?;
        Ok(row.as_ref().map(lease_from))
    }

    /// Offers every fetch of `fetches` (fetch id, origin) not offered yet.
    pub async fn offer_all(&self, fetches: &[(String, String)]) -> Result<usize> {
        let client = self.db.client().await?;
        let (ids, origins): (Vec<&str>, Vec<&str>) = fetches
            .iter()
            .map(|(id, origin)| (id.as_str(), origin.as_str()))
            .unzip();
        let n = client
            .execute(
                "INSERT INTO swrt_fleet_leases (fetch_id, origin)
                 SELECT * FROM unnest($1::text[], $2::text[])
                 ON CONFLICT (fetch_id) DO NOTHING",
                &[&ids, &origins],
            )
            .await?;
        Ok(n as usize)
    }

    /// Claims up to `max` open fetches that nobody holds, or whose holder's
    /// lease expired, oldest first. Nodes claiming at the same time get
    /// different fetches: rows another claim has locked are skipped.
    pub async fn claim(&self, max: usize) -> Result<Vec<Lease>> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "UPDATE swrt_fleet_leases l
                 SET holder = $1,
                     expires_at = clock_timestamp() + make_interval(secs => $2),
                     generation = l.generation + 1
                 FROM (
                     SELECT fetch_id FROM swrt_fleet_leases
                     WHERE NOT finished
                       AND (holder IS NULL OR expires_at <= clock_timestamp())
                     ORDER BY created_at
                     LIMIT $3
                     FOR UPDATE SKIP LOCKED
                 ) free
                 WHERE l.fetch_id = free.fetch_id
                 RETURNING l.fetch_id, l.origin, l.generation",
                &[&self.node, &self.ttl_seconds(), &(max as i64)],
            )
            .await?;
        Ok(rows.iter().map(lease_from).collect())
    }

    /// Extends every lease this node still holds; returns the ones it holds.
    /// A lease that expired before the renewal is not renewed (another node
    /// may have claimed it already): the caller must stop running any fetch
    /// missing from the result.
    pub async fn renew(&self) -> Result<Vec<Lease>> {
        let client = self.db.client().await?;
        let rows = client
            .query(
                "UPDATE swrt_fleet_leases
                 SET expires_at = clock_timestamp() + make_interval(secs => $2)
                 WHERE holder = $1 AND NOT finished AND expires_at > clock_timestamp()
                 RETURNING fetch_id, origin, generation",
                &[&self.node, &self.ttl_seconds()],
            )
            .await?;
        Ok(rows.iter().map(lease_from).collect())
    }

    /// Records that the fetch settled, if `lease` is still current. False
    /// when another claim replaced it: the outcome belongs to that holder.
    pub async fn finish(&self, lease: &Lease) -> Result<bool> {
        let client = self.db.client().await?;
        let n = client
            .execute(
                "UPDATE swrt_fleet_leases
                 SET finished = true, holder = NULL, expires_at = NULL
                 WHERE fetch_id = $1 AND generation = $2 AND holder = $3 AND NOT finished",
                &[&lease.fetch_id, &lease.generation, &self.node],
            )
            .await?;
        Ok(n == 1)
    }

    /// Gives the fetch back to the fleet at once (a node shutting down
    /// cleanly), if `lease` is still current.
    pub async fn release(&self, lease: &Lease) -> Result<bool> {
        let client = self.db.client().await?;
        let n = client
            .execute(
                "UPDATE swrt_fleet_leases SET holder = NULL, expires_at = NULL
                 WHERE fetch_id = $1 AND generation = $2 AND holder = $3",
                &[&lease.fetch_id, &lease.generation, &self.node],
            )
            .await?;
        Ok(n == 1)
    }

    /// The node holding `fetch_id` now, with the lease's generation; `None`
    /// when nobody does (free, expired or finished).
    pub async fn holder(&self, fetch_id: &str) -> Result<Option<(String, i64)>> {
        let client = self.db.client().await?;
        let row = client
            .query_opt(
                "SELECT holder, generation FROM swrt_fleet_leases
                 WHERE fetch_id = $1 AND holder IS NOT NULL
                   AND expires_at > clock_timestamp() AND NOT finished",
                &[&fetch_id],
            )
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }
}

/// A lease from a row of (fetch_id, origin, generation).
fn lease_from(row: &tokio_postgres::Row) -> Lease {
    Lease {
        fetch_id: row.get(0),
        origin: row.get(1),
        generation: row.get(2),
    }
}
