//! Reading many records at once (as `matchAll()` does, asking for every
//! record's response together) runs on a bounded number of threads instead
//! of one blocking thread per record. Its own test binary, so that no other
//! test's threads are counted.

mod common;

use common::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const RECORDS: usize = 600;

fn threads_now() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_records_read_at_once_use_few_threads() {
    if threads_now() == 0 {
        eprintln!("SKIPPED many_records_read_at_once_use_few_threads: no /proc/self/status");
        return;
    }
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let hold = Arc::new(tokio::sync::Semaphore::new(0));
    rec.hold.set(hold.clone()).unwrap();
    let urls: Vec<String> = (0..RECORDS)
        .map(|i| srv.url(&format!("n=10&key=t{i}")))
        .collect();
    let reg = svc.fetch(request(&srv.base, "many", &urls)).await.unwrap();
    // The terminal event holds the records readable.
    tokio::time::timeout(std::time::Duration::from_secs(120), async {
        while rec.terminal(&reg.unique_id).is_empty() {
            rec.notify.notified().await;
        }
    })
    .await
    .expect("the fetch finished in time");

    let baseline = threads_now();
    let peak = Arc::new(AtomicUsize::new(baseline));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Acquire) {
                peak.fetch_max(threads_now(), Ordering::AcqRel);
                std::thread::yield_now();
            }
        })
    };
    let all = futures::future::join_all(
        (0..RECORDS as u32).map(|i| svc.response_ready(&reg.unique_id, i)),
    )
    .await;
    sampling.store(false, Ordering::Release);
    sampler.join().unwrap();
    assert!(all
        .iter()
        .all(|r| r.as_ref().is_ok_and(|m| m.status == 200)));
    let grew = peak.load(Ordering::Acquire).saturating_sub(baseline);
    assert!(
        grew <= 32,
        "{RECORDS} responses read at once started {grew} threads"
    );
    hold.add_permits(1);
    svc.shutdown().await;
}
