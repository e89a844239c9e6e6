//! Engine limits. Every number here is configurable through
//! [`crate::BackgroundFetchServiceBuilder::limits`].

use std::time::Duration;

/// Limits and tuning knobs.
///
/// Defaults for the concurrency caps come from the loopback benchmark in
/// `benches/throughput.rs` (results in the repository's `BENCHMARKS.md`): on
/// this 2-core machine a `--sweep` over N = 4, 8, 16, 32 and 64 connections
/// gave the same time for 1,000 x 16 KiB bodies; the cost is per record
/// (durable commit), not network round trips. Real servers
/// have latency, where more parallelism helps, so the default per-host cap is
/// 16 (well below what servers tolerate from one client, above browsers' 6
/// because there is no competing page traffic) and the global cap 32.
/// Chromium uses 2 registrations x 2 downloads, which is far slower for many
/// small records.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Storage quota per origin in bytes (bodies of background fetches plus
    /// Cache API bodies). `fetch()` rejects a `downloadTotal` above the free
    /// part; hitting it while storing fails the fetch with `quota-exceeded`.
    /// Default 10 GiB.
    pub quota_per_origin: u64,
    /// Active fetches per origin (Chromium: 5). Default 5.
    pub max_active_fetches_per_origin: u64,
    /// Simultaneous HTTP requests across all fetches. Default 32.
    pub global_connections: usize,
    /// Simultaneous requests of one fetch. Default 16.
    pub per_fetch_connections: usize,
    /// Simultaneous requests to one host (`host:port`). Default 16.
    pub per_host_connections: usize,
    /// Retries of a GET that failed before receiving any body byte in that
    /// attempt (Chromium's download service: 5).
    pub max_retries: u32,
    /// Resumptions of a GET whose connection broke after progress
    /// (Chromium's download service: 15).
    pub max_resumptions: u32,
    /// First retry delay; doubles per attempt up to `retry_max_delay`.
    pub retry_base_delay: Duration,
    /// Upper bound of the retry delay (Chromium: 20 s).
    pub retry_max_delay: Duration,
    /// Redirects followed per request (Fetch standard: 20).
    pub max_redirects: u32,
    /// Connection timeout (TCP and TLS).
    pub connect_timeout: Duration,
    /// How long a request may wait for the response headers once sent. A
    /// server that never answers counts as a network failure (and is
    /// retried). Default 60 s.
    pub header_timeout: Duration,
    /// A response body that delivers nothing for this long counts as a
    /// network failure (and is retried/resumed).
    pub idle_timeout: Duration,
    /// How long a finished fetch's row is kept so that a later
    /// `backgroundfetchclick` can still carry its registration. Bodies are
    /// deleted as soon as the terminal event ends; only metadata stays.
    /// Default 7 days.
    pub click_retention: Duration,
    /// Make stored bytes durable (fdatasync + SQLite checkpoint) after this
    /// many new bytes of one record. Bigger = fewer fsyncs, more bytes to
    /// re-download after a crash. Default 16 MiB.
    pub checkpoint_bytes: u64,
    /// ... or after this much time, whichever comes first. Default 2 s.
    pub checkpoint_interval: Duration,
    /// Minimum spacing of progress notifications per fetch (final values are
    /// always delivered). Default 100 ms (at most 10 per second).
    pub progress_interval: Duration,
    /// Read buffer per download. Default 256 KiB.
    pub read_buffer: usize,
    /// Times a terminal event is re-offered when the dispatcher reports that
    /// the worker could not run it (crash, failed start). Default 3. Beyond
    /// that the records stay and the next start offers the event again.
    pub dispatch_retries: u32,
    /// A content-encoded body may decode to at most this many times the
    /// bytes received for it on the wire, once past [`DECODED_BODY_FLOOR`]
    /// (which any ratio may reach). Beyond it the fetch fails with
    /// `quota-exceeded`: a compression bomb is stopped early and its bytes
    /// freed, even when neither `downloadTotal` nor the quota would stop
    /// it. Real content compresses 2-20 times; gzip and deflate reach about
    /// 1000, brotli more. Default 100; 0 turns the cap off (the quota
    /// still counts decoded bytes).
    pub max_decoded_ratio: u64,
}

/// Decoded bytes of a content-encoded body allowed whatever its ratio
/// (see [`Limits::max_decoded_ratio`]): 16 MiB.
pub const DECODED_BODY_FLOOR: u64 = 16 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            quota_per_origin: 10 << 30,
            max_active_fetches_per_origin: 5,
            global_connections: 32,
            per_fetch_connections: 16,
            per_host_connections: 16,
            max_retries: 5,
            max_resumptions: 15,
            retry_base_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(20),
            max_redirects: 20,
            connect_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            click_retention: Duration::from_secs(7 * 24 * 3600),
            checkpoint_bytes: 16 << 20,
            checkpoint_interval: Duration::from_secs(2),
            progress_interval: Duration::from_millis(100),
            read_buffer: 256 << 10,
            dispatch_retries: 3,
            max_decoded_ratio: 100,
        }
    }
}

impl Limits {
    /// Decoded bytes allowed for a content-encoded body of which `encoded`
    /// bytes arrived so far; `None` when the cap is off.
    pub fn decoded_allowance(&self, encoded: u64) -> Option<u64> {
        (self.max_decoded_ratio > 0).then(|| {
            encoded
                .saturating_mul(self.max_decoded_ratio)
                .max(DECODED_BODY_FLOOR)
        })
    }

    /// Delay before retry number `attempt` (0-based): exponential, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
        self.retry_base_delay
            .saturating_mul(factor)
            .min(self.retry_max_delay)
    }
}
