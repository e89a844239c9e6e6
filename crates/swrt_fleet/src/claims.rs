//! The Background Fetch engine's claims ([`swrt_bgfetch::FetchClaims`]) as
//! leases in PostgreSQL: a node's engine runs the fetches it leases.

use crate::leases::{Lease, Leases};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// One node's claims on the fleet's fetches.
pub struct FleetClaims {
    leases: Leases,
    capacity: usize,
    /// The lease of every fetch this node holds, by fetch id: finishing and
    /// releasing are fenced by its generation.
    held: Mutex<HashMap<String, Lease>>,
}

impl FleetClaims {
    /// Claims through `leases`, running at most `capacity` fetches at once.
    pub fn new(leases: Leases, capacity: usize) -> FleetClaims {
        FleetClaims {
            leases,
            capacity: capacity.max(1),
            held: Mutex::new(HashMap::new()),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, Lease>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self, fetch_id: &str) -> Option<Lease> {
        self.held().remove(fetch_id)
    }
}

#[async_trait::async_trait]
impl swrt_bgfetch::FetchClaims for FleetClaims {
    async fn offer(&self, unique_id: &str, origin: &str, take: bool) -> Result<bool, String> {
        if !take {
            return self
                .leases
                .offer(unique_id, origin)
                .await
                .map(|_| false)
                .map_err(|e| e.to_string());
        }
        match self.leases.offer_taken(unique_id, origin).await {
            Ok(Some(lease)) => {
                self.held().insert(unique_id.to_string(), lease);
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn adopt(&self, fetches: &[(String, String)]) -> Result<(), String> {
        let offered = self
            .leases
            .offer_all(fetches)
            .await
            .map_err(|e| e.to_string())?;
        if offered > 0 {
            tracing::info!(offered, "offered fetches whose creator did not");
        }
        Ok(())
    }

    async fn claim(&self, max: usize) -> Result<Vec<String>, String> {
        let claimed = self.leases.claim(max).await.map_err(|e| e.to_string())?;
        let mut held = self.held();
        Ok(claimed
            .into_iter()
            .map(|lease| {
                let id = lease.fetch_id.clone();
                held.insert(id.clone(), lease);
                id
            })
            .collect())
    }

    async fn renew(&self) -> Result<Vec<String>, String> {
        // A lease taken while the renewal runs may be missing from its
        // answer without being lost: keep those.
        let before: std::collections::HashSet<String> = self.held().keys().cloned().collect();
        let renewed = self.leases.renew().await.map_err(|e| e.to_string())?;
        let mut held = self.held();
        let mut now: HashMap<String, Lease> = renewed
            .into_iter()
            .map(|lease| (lease.fetch_id.clone(), lease))
            .collect();
        for (id, lease) in held.drain() {
            if !before.contains(&id) {
                now.entry(id).or_insert(lease);
            }
        }
        *held = now;
        Ok(held.keys().cloned().collect())
    }

    async fn finish(&self, unique_id: &str) -> Result<(), String> {
        if let Some(lease) = self.take(unique_id) {
            self.leases
                .finish(&lease)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    async fn release(&self, unique_id: &str) -> Result<(), String> {
        if let Some(lease) = self.take(unique_id) {
            self.leases
                .release(&lease)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn ttl(&self) -> Duration {
        self.leases.ttl()
    }

    fn capacity(&self) -> usize {
        self.capacity
    }
}
