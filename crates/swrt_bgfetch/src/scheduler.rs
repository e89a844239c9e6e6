//! Connection scheduler: bounded concurrency (global, per fetch, per host)
//! with round-robin fairness between fetches.
//!
//! Each record download asks for a [`Permit`] before opening a request and
//! holds it until the body is stored. Waiters queue per fetch (FIFO inside a
//! fetch); whenever a slot frees, the scheduler walks the fetches starting
//! after the one served last and grants the first waiter whose fetch and host
//! are under their caps. So N active fetches share the global cap evenly no
//! matter how many records each has (Chromium's scheduler is also round-robin,
//! with much smaller caps).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Caps enforced by the scheduler.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerCaps {
    /// Across all fetches.
    pub global: usize,
    /// Per fetch.
    pub per_fetch: usize,
    /// Per `host:port`.
    pub per_host: usize,
}

struct Waiter {
    host: String,
    tx: oneshot::Sender<()>,
}

#[derive(Default)]
struct State {
    global: usize,
    per_fetch: HashMap<String, usize>,
    per_host: HashMap<String, usize>,
    /// Round-robin ring of fetches with waiters.
    ring: Vec<(String, VecDeque<Waiter>)>,
    cursor: usize,
    /// Highest simultaneous grants seen (for tests and diagnostics).
    peak_global: usize,
    peak_host: HashMap<String, usize>,
    peak_fetch: HashMap<String, usize>,
}

/// The scheduler. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    caps: SchedulerCaps,
    state: Arc<Mutex<State>>,
}

/// A granted slot; dropping it frees the slot.
pub struct Permit {
    sched: Scheduler,
    fetch: String,
    host: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.sched.release(&self.fetch, &self.host);
    }
}

/// Peak concurrency observed (for tests and logs).
#[derive(Debug, Clone, Default)]
pub struct Peaks {
    /// Peak across all fetches.
    pub global: usize,
    /// Peak per host.
    pub per_host: HashMap<String, usize>,
    /// Peak per fetch.
    pub per_fetch: HashMap<String, usize>,
}

impl Scheduler {
    /// New scheduler; caps of 0 are raised to 1.
    pub fn new(caps: SchedulerCaps) -> Self {
        Scheduler {
            caps: SchedulerCaps {
                global: caps.global.max(1),
                per_fetch: caps.per_fetch.max(1),
                per_host: caps.per_host.max(1),
            },
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait for a slot for a request of fetch `fetch` to `host`.
    pub async fn acquire(&self, fetch: &str, host: &str) -> Permit {
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.lock();
            let waiter = Waiter {
                host: host.to_string(),
                tx,
            };
            match st.ring.iter_mut().find(|(f, _)| f == fetch) {
                Some((_, q)) => q.push_back(waiter),
                None => {
                    let mut q = VecDeque::new();
                    q.push_back(waiter);
                    st.ring.push((fetch.to_string(), q));
                }
            }
            self.pump(&mut st);
        }
        // If this future is dropped after the grant was sent but before it was
        // received, the guard gives the slot back.
        let mut guard = WaitGuard {
            rx: Some(rx),
            sched: self,
            fetch,
            host,
        };
        let rx = guard.rx.as_mut().expect("present");
        // The sender is only dropped without sending if the scheduler is gone,
        // which cannot happen while `self` is borrowed.
        let _ = rx.await;
        guard.rx = None;
        Permit {
            sched: self.clone(),
            fetch: fetch.to_string(),
            host: host.to_string(),
        }
    }

    fn release(&self, fetch: &str, host: &str) {
        let mut st = self.lock();
        st.global = st.global.saturating_sub(1);
        dec(&mut st.per_fetch, fetch);
        dec(&mut st.per_host, host);
        self.pump(&mut st);
    }

    /// Grant as many waiters as the caps allow, round-robin over fetches.
    fn pump(&self, st: &mut State) {
        loop {
            if st.global >= self.caps.global || st.ring.is_empty() {
                return;
            }
            let n = st.ring.len();
            let mut granted = false;
            for step in 0..n {
                let i = (st.cursor + step) % n;
                let fetch = st.ring[i].0.clone();
                if st.per_fetch.get(&fetch).copied().unwrap_or(0) >= self.caps.per_fetch {
                    continue;
                }
                let per_host = &st.per_host;
                let cap = self.caps.per_host;
                let pos = st.ring[i]
                    .1
                    .iter()
                    .position(|w| per_host.get(&w.host).copied().unwrap_or(0) < cap);
                let Some(pos) = pos else { continue };
                let w = st.ring[i].1.remove(pos).expect("position is valid");
                if st.ring[i].1.is_empty() {
                    st.ring.remove(i);
                    st.cursor = if st.ring.is_empty() {
                        0
                    } else {
                        i % st.ring.len()
                    };
                } else {
                    st.cursor = (i + 1) % st.ring.len();
                }
                if w.tx.send(()).is_err() {
                    // Waiter gave up before being served; try the next one.
                    granted = true;
                    break;
                }
                st.global += 1;
                let g = st.global;
                st.peak_global = st.peak_global.max(g);
                let fc = inc(&mut st.per_fetch, &fetch);
                let pf = st.peak_fetch.entry(fetch).or_default();
                *pf = (*pf).max(fc);
                let hc = inc(&mut st.per_host, &w.host);
                let ph = st.peak_host.entry(w.host).or_default();
                *ph = (*ph).max(hc);
                granted = true;
                break;
            }
            if !granted {
                return;
            }
        }
    }

    /// Peak concurrency seen so far.
    pub fn peaks(&self) -> Peaks {
        let st = self.lock();
        Peaks {
            global: st.peak_global,
            per_host: st.peak_host.clone(),
            per_fetch: st.peak_fetch.clone(),
        }
    }

    /// Slots currently in use.
    pub fn in_use(&self) -> usize {
        self.lock().global
    }
}

struct WaitGuard<'a> {
    rx: Option<oneshot::Receiver<()>>,
    sched: &'a Scheduler,
    fetch: &'a str,
    host: &'a str,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        if let Some(mut rx) = self.rx.take() {
            rx.close();
            if rx.try_recv().is_ok() {
                self.sched.release(self.fetch, self.host);
            }
        }
    }
}

fn inc(m: &mut HashMap<String, usize>, k: &str) -> usize {
    let c = m.entry(k.to_string()).or_default();
    *c += 1;
    *c
}

fn dec(m: &mut HashMap<String, usize>, k: &str) {
    if let Some(c) = m.get_mut(k) {
        *c = c.saturating_sub(1);
        if *c == 0 {
            m.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn caps_and_round_robin() {
        let s = Scheduler::new(SchedulerCaps {
            global: 2,
            per_fetch: 2,
            per_host: 2,
        });
        let a1 = s.acquire("A", "h1").await;
        let a2 = s.acquire("A", "h1").await;
        assert_eq!(s.in_use(), 2);
        // Queue: A has 3 more waiters, B has 3; grants must alternate.
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (f, n) in [("A", 3), ("B", 3)] {
            for _ in 0..n {
                let s = s.clone();
                let order = order.clone();
                tasks.push(tokio::spawn(async move {
                    let p = s.acquire(f, if f == "A" { "h1" } else { "h2" }).await;
                    order.lock().unwrap().push(f);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    drop(p);
                }));
                tokio::task::yield_now().await;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(a1);
        drop(a2);
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        assert_eq!(order.len(), 6);
        // The first four grants are split evenly between A and B.
        let a = order[..4].iter().filter(|f| **f == "A").count();
        assert_eq!(a, 2, "{order:?}");
        assert!(s.peaks().global <= 2);
        assert_eq!(s.in_use(), 0);
    }

    #[tokio::test]
    async fn cancelled_waiter_releases() {
        let s = Scheduler::new(SchedulerCaps {
            global: 1,
            per_fetch: 1,
            per_host: 1,
        });
        let p = s.acquire("A", "h").await;
        let fut = s.acquire("B", "h");
        let r = tokio::time::timeout(Duration::from_millis(20), fut).await;
        assert!(r.is_err());
        drop(p);
        let _p2 = s.acquire("C", "h").await;
        assert_eq!(s.in_use(), 1);
    }
}
