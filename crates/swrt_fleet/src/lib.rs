//! Shared state for a fleet of `swrt serve` nodes, on engines built for it:
//!
//! - [`FleetDb`]: a PostgreSQL connection pool and the fleet's schema, with
//!   versioned migrations that any number of nodes may run at once.
//! - [`Leases`]: which node runs which background fetch. A lease is claimed
//!   with `FOR UPDATE SKIP LOCKED`, kept alive by heartbeats and lost when it
//!   expires, so that another node takes the fetch over. Every claim bumps
//!   the lease's generation, the fencing token a node shows when it records
//!   an outcome: a node that lost its lease cannot record anything.
//! - [`FleetClaims`]: those leases as the claims of a node's Background
//!   Fetch engine, which runs the fetches it leases from their download to
//!   the end of their terminal event.
//! - [`Workers`] and [`Events`]: each registration's worker runs on one
//!   node at a time, and a fetch's terminal event is queued once, by the
//!   fetch's current holder, then dispatched on the node that runs the
//!   worker and marked done once.
//! - [`Changes`]: state changes every node hears about (progress, abort,
//!   click), over PostgreSQL's `LISTEN`/`NOTIFY`; [`spawn_progress_relay`]
//!   shows every node's fetches on every node's dashboard and event stream.
//! - [`BodyStore`]: bodies in S3-compatible object storage, as ranged
//!   objects appended at each checkpoint, so that a download resumed by
//!   another node keeps the bytes already stored. [`S3Bodies`] puts the
//!   bodies of a node's [`swrt_store::Store`] there.
//!
//! Clocks: lease expiry is computed by PostgreSQL (`now()`), never by the
//! nodes, so skewed node clocks cannot make two nodes hold one lease.

#![warn(missing_docs)]

mod bodies;
mod changes;
mod claims;
mod db;
mod error;
mod events;
mod leases;
mod progress_relay;
mod store_bodies;

pub use bodies::{BodyKey, BodyStore, S3Options};
pub use changes::{Change, ChangeKind, Changes};
pub use claims::FleetClaims;
pub use db::FleetDb;
pub use error::{FleetError, Result};
pub use events::{EventClaim, Events, WorkerLease, Workers};
pub use leases::{Lease, Leases};
pub use progress_relay::spawn_progress_relay;
pub use store_bodies::S3Bodies;
