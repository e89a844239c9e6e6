//! Engine behaviour against loopback servers.

mod common;

use common::*;
use std::sync::Arc;
use std::time::Duration;
use swrt_bgfetch::*;

fn origin_of(s: &TestServer) -> String {
    s.base.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_bodies_progress_and_cleanup() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let mut progress = svc.subscribe();
    let urls = vec![
        srv.url("n=100000&key=a"),
        srv.url("n=1&key=b"),
        srv.url("n=0&key=c"),
    ];
    let (kind, reg, recs) = run_to_end(&svc, &rec, request(&origin_of(&srv), "ok", &urls)).await;
    assert_eq!(kind, EventKind::Success);
    assert_eq!(reg.result, FetchResult::Success);
    assert_eq!(reg.failure_reason, FailureReason::None);
    assert_eq!(reg.downloaded, 100001);
    assert_eq!(recs.len(), 3);
    for ((r, body), n) in recs.iter().zip([100000usize, 1, 0]) {
        assert_eq!(r.outcome, RecordOutcome::Complete);
        let resp = r.response.as_ref().unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.response_type, "basic");
        assert!(resp
            .headers
            .iter()
            .all(|(k, _)| k != "content-length" && k != "content-range"));
        assert_eq!(sha(body.as_ref().unwrap()), sha(&pattern(n)));
    }
    // Progress: the last event is final and carries the result.
    let mut last = None;
    while let Ok(p) = progress.try_recv() {
        last = Some(p);
    }
    let last = last.unwrap();
    assert!(last.is_final);
    assert_eq!(last.registration.result, FetchResult::Success);
    assert_eq!(last.registration.downloaded, 100001);
    // After the event: records unavailable, bodies gone, usage back to zero.
    assert!(matches!(
        svc.records(&reg.unique_id).await,
        Err(EngineError::RecordsUnavailable)
    ));
    assert!(svc.ids(&format!("{}/", srv.base)).await.unwrap().is_empty());
    assert!(svc
        .get(&format!("{}/", srv.base), "ok")
        .await
        .unwrap()
        .is_none());
    assert_eq!(svc.origin_usage(&srv.base), 0);
    let done = svc.get_by_unique_id(&reg.unique_id).await.unwrap().unwrap();
    assert!(!done.records_available);
    assert!(!dir.path().join("bodies").join(&reg.unique_id).exists());
    // Click after the end still reaches the worker with the registration.
    assert!(svc.click(&format!("{}/", srv.base), "ok").await.unwrap());
    assert!(rec
        .events
        .lock()
        .unwrap()
        .iter()
        .any(|(k, _, _)| *k == EventKind::Click));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_is_bad_status_and_others_continue() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let urls = vec![
        srv.url("n=5000&key=a"),
        srv.url("n=10&status=404&key=b"),
        srv.url("n=200000&status=500&key=c"),
    ];
    let (kind, reg, recs) = run_to_end(&svc, &rec, request(&srv.base, "bs", &urls)).await;
    assert_eq!(kind, EventKind::Fail);
    assert_eq!(reg.failure_reason, FailureReason::BadStatus);
    assert_eq!(recs[0].0.outcome, RecordOutcome::Complete);
    assert_eq!(recs[1].0.outcome, RecordOutcome::BadStatus);
    assert_eq!(recs[2].0.outcome, RecordOutcome::BadStatus);
    // A non-OK response keeps its URL, status and headers; its body is
    // empty and is not downloaded.
    let resp = recs[1].0.response.as_ref().unwrap();
    assert_eq!(resp.status, 404);
    assert!(resp.url_list[0].contains("status=404"));
    assert!(resp.headers.iter().any(|(k, _)| k == "etag"));
    assert_eq!(recs[1].1.as_deref(), Some(&b""[..]));
    assert_eq!(recs[2].0.response.as_ref().unwrap().status, 500);
    assert_eq!(recs[2].1.as_deref(), Some(&b""[..]));
    assert_eq!(recs[0].1.as_deref(), Some(&pattern(5000)[..]));
    assert_eq!(reg.downloaded, 5000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_followed_and_bounded() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let (kind, _, recs) = run_to_end(
        &svc,
        &rec,
        request(&srv.base, "r", &[srv.url("n=300&redirect=3&key=r")]),
    )
    .await;
    assert_eq!(kind, EventKind::Success);
    let resp = recs[0].0.response.as_ref().unwrap();
    assert_eq!(resp.url_list.len(), 4);
    assert_eq!(recs[0].1.as_deref(), Some(&pattern(300)[..]));
    let (kind, reg, recs) = run_to_end(
        &svc,
        &rec,
        request(&srv.base, "r2", &[srv.url("n=3&redirect=21&key=r2")]),
    )
    .await;
    assert_eq!(kind, EventKind::Fail);
    assert_eq!(reg.failure_reason, FailureReason::FetchError);
    assert!(recs[0].0.error.as_ref().unwrap().contains("redirects"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_body_is_decoded_and_counted_decoded() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let (kind, reg, recs) = run_to_end(
        &svc,
        &rec,
        request(&srv.base, "gz", &[srv.url("n=200000&gzip=1&key=g")]),
    )
    .await;
    assert_eq!(kind, EventKind::Success);
    assert_eq!(reg.downloaded, 200000);
    assert_eq!(recs[0].1.as_deref(), Some(&pattern(200000)[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_total_exceeded() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let mut req = request(
        &srv.base,
        "dt",
        &[
            srv.url("n=50000&key=x"),
            srv.url("n=100000&delay_ms=20&key=y"),
        ],
    );
    req.options.download_total = 30000;
    let (kind, reg, recs) = run_to_end(&svc, &rec, req).await;
    assert_eq!(kind, EventKind::Fail);
    assert_eq!(reg.failure_reason, FailureReason::DownloadTotalExceeded);
    assert!(recs
        .iter()
        .any(|(r, _)| r.outcome == RecordOutcome::FetchError));
    assert!(recs
        .iter()
        .all(|(r, _)| r.outcome != RecordOutcome::Complete));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_exceeded_at_call_time_and_while_storing() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        quota_per_origin: 40_000,
        ..test_limits()
    };
    let (svc, rec) = start_engine(dir.path(), limits).await;
    let mut req = request(&srv.base, "q", &[srv.url("n=10")]);
    req.options.download_total = 9_007_199_254_740_991; // Number.MAX_SAFE_INTEGER
    match svc.fetch(req).await {
        Err(FetchRejection::QuotaExceeded(q)) => {
            assert_eq!(q.requested, Some(9_007_199_254_740_991));
            assert_eq!(q.quota, Some(40_000));
        }
        other => panic!("expected QuotaExceeded, got {other:?}"),
    }
    let (kind, reg, _) = run_to_end(
        &svc,
        &rec,
        request(&srv.base, "q2", &[srv.url("n=100000&key=q2")]),
    )
    .await;
    assert_eq!(kind, EventKind::Fail);
    assert_eq!(reg.failure_reason, FailureReason::QuotaExceeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_progress() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let mut progress = svc.subscribe();
    let mut req = request(&srv.base, "up", &[]);
    let body = pattern(300_000);
    req.requests = vec![RequestSpec {
        method: "POST".into(),
        url: srv.url("echo=1"),
        headers: vec![("content-type".into(), "text/plain".into())],
        mode: "cors".into(),
        credentials: "same-origin".into(),
        body: Some(body.clone()),
        integrity: String::new(),
    }];
    let reg0 = svc.fetch(req).await.unwrap();
    assert_eq!(reg0.upload_total, 300_000);
    tokio::time::timeout(Duration::from_secs(30), svc.wait_idle())
        .await
        .unwrap();
    let ev = rec.terminal(&reg0.unique_id);
    let (kind, reg, recs) = &ev[0];
    assert_eq!(*kind, EventKind::Success);
    assert_eq!(reg.uploaded, 300_000);
    assert_eq!(recs[0].1.as_deref(), Some(&b"300000"[..]));
    // The record keeps a copy of the request body.
    assert_eq!(recs[0].0.request.body.as_deref(), Some(&body[..]));
    let log = srv.log();
    assert_eq!(
        log.iter().find(|l| l.method == "POST").unwrap().body_len,
        300_000
    );
    let mut saw_upload_progress = false;
    while let Ok(p) = progress.try_recv() {
        saw_upload_progress |= p.registration.uploaded > 0;
    }
    assert!(saw_upload_progress);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_with_valid_206() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let (kind, reg, recs) = run_to_end(
        &svc,
        &rec,
        request(&srv.base, "rs", &[srv.url("n=500000&cut=200000&key=rs")]),
    )
    .await;
    assert_eq!(kind, EventKind::Success);
    assert_eq!(reg.downloaded, 500_000);
    assert_eq!(sha(recs[0].1.as_ref().unwrap()), sha(&pattern(500_000)));
    let log = srv.log();
    let ranges: Vec<_> = log.iter().filter_map(|l| l.range.clone()).collect();
    assert_eq!(ranges, vec!["bytes=200000-".to_string()], "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cut_repeatedly_then_completes() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    // Cut at the same absolute offset three times: the first resume starts
    // at that offset, so later cuts happen immediately; still bounded.
    let (kind, _, recs) = run_to_end(
        &svc,
        &rec,
        request(
            &srv.base,
            "cut",
            &[srv.url("n=300000&cut=100000&cuts=3&key=c")],
        ),
    )
    .await;
    assert_eq!(kind, EventKind::Success);
    assert_eq!(sha(recs[0].1.as_ref().unwrap()), sha(&pattern(300_000)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_refused_when_etag_changed() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let (kind, reg, recs) = run_to_end(
        &svc,
        &rec,
        request(
            &srv.base,
            "et",
            &[srv.url("n=400000&cut=150000&etag2=%22v2%22&key=et")],
        ),
    )
    .await;
    assert_eq!(kind, EventKind::Success);
    assert_eq!(reg.downloaded, 400_000);
    assert_eq!(sha(recs[0].1.as_ref().unwrap()), sha(&pattern(400_000)));
    assert_eq!(
        recs[0].0.response.as_ref().unwrap().etag.as_deref(),
        Some("\"v2\"")
    );
    let log = srv.log();
    // First attempt, a refused range attempt, then a fresh full request.
    let ranges: Vec<_> = log.iter().map(|l| l.range.clone()).collect();
    assert_eq!(ranges, vec![None, Some("bytes=150000-".to_string()), None]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_ignoring_range_restarts_from_zero() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let (kind, reg, recs) = run_to_end(
        &svc,
        &rec,
        request(
            &srv.base,
            "ir",
            &[srv.url("n=300000&cut=120000&ignore_range=1&key=ir")],
        ),
    )
    .await;
    assert_eq!(kind, EventKind::Success);
    assert_eq!(reg.downloaded, 300_000);
    assert_eq!(sha(recs[0].1.as_ref().unwrap()), sha(&pattern(300_000)));
    let ranges: Vec<_> = srv.log().iter().map(|l| l.range.clone()).collect();
    assert_eq!(ranges, vec![None, Some("bytes=120000-".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_exhausted_is_fetch_error() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_retries: 2,
        ..test_limits()
    };
    let (svc, rec) = start_engine(dir.path(), limits).await;
    // Nothing listens on this port (bound then dropped).
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let origin = format!("http://127.0.0.1:{port}");
    let (kind, reg, recs) = run_to_end(
        &svc,
        &rec,
        request(&origin, "dead", &[format!("{origin}/x")]),
    )
    .await;
    assert_eq!(kind, EventKind::Fail);
    assert_eq!(reg.failure_reason, FailureReason::FetchError);
    assert_eq!(recs[0].0.outcome, RecordOutcome::FetchError);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_caps_and_fairness() {
    let s1 = start_server().await;
    let s2 = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        global_connections: 3,
        per_fetch_connections: 2,
        per_host_connections: 2,
        ..test_limits()
    };
    let (svc, _rec) = start_engine(dir.path(), limits).await;
    // Fetch A: 8 records on s1; fetch B: 8 records, half on s1, half on s2.
    let a: Vec<String> = (0..8)
        .map(|i| s1.url(&format!("n=20000&delay_ms=5&chunk=2000&f=A&i={i}")))
        .collect();
    let b: Vec<String> = (0..8)
        .map(|i| {
            let s = if i % 2 == 0 { &s1 } else { &s2 };
            s.url(&format!("n=20000&delay_ms=5&chunk=2000&f=B&i={i}"))
        })
        .collect();
    svc.fetch(request(&s1.base, "A", &a)).await.unwrap();
    // B's origin is s1 as well, so s2 requests are cross-origin: let them pass CORS.
    let b: Vec<String> = b
        .into_iter()
        .map(|u| {
            if u.starts_with(&s2.base) {
                format!("{u}&acao=*")
            } else {
                u
            }
        })
        .collect();
    svc.fetch(request(&s1.base, "B", &b)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), svc.wait_idle())
        .await
        .unwrap();
    let peaks = svc.scheduler_peaks();
    assert!(peaks.global <= 3, "{peaks:?}");
    assert!(peaks.per_host.values().all(|v| *v <= 2), "{peaks:?}");
    assert!(peaks.per_fetch.values().all(|v| *v <= 2), "{peaks:?}");
    assert!(
        s1.state
            .max_inflight
            .load(std::sync::atomic::Ordering::SeqCst)
            <= 2
    );
    // Fairness: B (registered second) is served long before A finishes.
    // Judged on the grant order across both servers: on s1 alone, B's turns
    // may legitimately go to its s2 records first.
    let mut all: Vec<Logged> = s1
        .log()
        .into_iter()
        .chain(s2.log())
        .filter(|l| l.method == "GET")
        .collect();
    all.sort_by_key(|l| l.at);
    let order: Vec<&str> = all
        .iter()
        .map(|l| if l.query.contains("f=A") { "A" } else { "B" })
        .collect();
    let first_b = order.iter().position(|f| *f == "B").unwrap();
    assert!(first_b <= 3, "B waited behind A: {order:?}");
    // And both fetches progress together: neither gets 4 grants in a row
    // while the other still waits (2 per fetch + 1 spare global slot).
    let last_a = order.iter().rposition(|f| *f == "A").unwrap();
    let last_b = order.iter().rposition(|f| *f == "B").unwrap();
    let contested = last_a.min(last_b);
    for w in order[..=contested].windows(5) {
        assert!(
            w.iter().any(|f| *f != w[0]),
            "one fetch starved the other: {order:?}"
        );
    }
    assert_eq!(order.len(), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_completion_and_streaming_while_running() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    // The success event lasts until both bodies are read, as a worker's
    // handler would keep it; otherwise a slow reader races the clean-up.
    let hold = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    rec.hold.set(hold.clone()).unwrap();
    let urls = vec![
        srv.url("n=200000&head_delay_ms=200&delay_ms=10&chunk=8000&key=slow"),
        srv.url("n=1000&key=fast"),
    ];
    let reg = svc.fetch(request(&srv.base, "ooo", &urls)).await.unwrap();
    // A reader of record 0 that starts before its response arrives (the
    // first response is a new generation) still gets every byte in order.
    let early = {
        let (svc, uid) = (svc.clone(), reg.unique_id.clone());
        tokio::spawn(async move { read_body(&svc, &uid, 0).await })
    };
    // Record 1 finishes while record 0 is still running.
    let meta = svc.response_ready(&reg.unique_id, 1).await.unwrap();
    assert_eq!(meta.status, 200);
    let fast = read_body(&svc, &reg.unique_id, 1).await.unwrap();
    assert_eq!(fast, pattern(1000));
    let recs = svc.records(&reg.unique_id).await.unwrap();
    assert_eq!(recs[0].outcome, RecordOutcome::Pending);
    // Stream record 0 while it downloads: we get every byte in order.
    let slow = read_body(&svc, &reg.unique_id, 0).await.unwrap();
    assert_eq!(sha(&slow), sha(&pattern(200_000)));
    let early = early.await.unwrap().unwrap();
    assert_eq!(sha(&early), sha(&pattern(200_000)));
    hold.add_permits(1);
    tokio::time::timeout(Duration::from_secs(30), svc.wait_idle())
        .await
        .unwrap();
    assert_eq!(rec.terminal(&reg.unique_id)[0].0, EventKind::Success);
}

/// Unregistering the service worker registration stops its fetches as
/// aborted, with no terminal event for any worker; other scopes go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_registration_ends_without_an_event() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let scope = format!("{}/", srv.base);
    let slow = vec![srv.url("n=2000000&delay_ms=20&chunk=4000&key=gone")];
    let gone = svc.fetch(request(&srv.base, "gone", &slow)).await.unwrap();
    let mut other = request(&srv.base, "kept", &[srv.url("n=5000&key=kept")]);
    other.scope = format!("{}/other/", srv.base);
    let kept = svc.fetch(other).await.unwrap();
    assert_eq!(svc.abandon_registration(&scope).await.unwrap(), 1);
    assert_eq!(svc.abandon_registration(&scope).await.unwrap(), 0);
    tokio::time::timeout(Duration::from_secs(30), svc.wait_idle())
        .await
        .unwrap();
    assert!(rec.terminal(&gone.unique_id).is_empty(), "no event for it");
    let row = svc
        .get_by_unique_id(&gone.unique_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.failure_reason, FailureReason::Aborted);
    assert!(svc.ids(&scope).await.unwrap().is_empty());
    assert!(svc.records(&gone.unique_id).await.is_err(), "records gone");
    let ev = rec.terminal(&kept.unique_id);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].0, EventKind::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_once_then_false() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let scope = format!("{}/", srv.base);
    let urls = vec![
        srv.url("n=1000&key=done"),
        srv.url("n=2000000&delay_ms=20&chunk=4000&key=slow"),
    ];
    let reg = svc.fetch(request(&srv.base, "ab", &urls)).await.unwrap();
    svc.response_ready(&reg.unique_id, 0).await.unwrap();
    read_body(&svc, &reg.unique_id, 0).await.unwrap();
    assert_eq!(svc.ids(&scope).await.unwrap(), vec!["ab".to_string()]);
    assert!(svc.abort(&scope, "ab").await.unwrap());
    assert!(!svc.abort(&scope, "ab").await.unwrap());
    tokio::time::timeout(Duration::from_secs(30), svc.wait_idle())
        .await
        .unwrap();
    let ev = rec.terminal(&reg.unique_id);
    assert_eq!(ev.len(), 1);
    let (kind, r, recs) = &ev[0];
    assert_eq!(*kind, EventKind::Abort);
    assert_eq!(r.failure_reason, FailureReason::Aborted);
    // Completed records stay readable; the unfinished one is aborted.
    assert_eq!(recs[0].0.outcome, RecordOutcome::Complete);
    assert_eq!(recs[0].1.as_deref(), Some(&pattern(1000)[..]));
    assert_eq!(recs[1].0.outcome, RecordOutcome::Aborted);
    assert!(!svc.abort(&scope, "ab").await.unwrap());
}

/// An abort racing the start of a fetch (before or while its controller
/// registers) still stops every download and yields one abort event; a
/// missed stop would leave a 50-second download running past the guard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_racing_fetch_start() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let scope = format!("{}/", srv.base);
    let slow = srv.url("n=1000000&delay_ms=50&chunk=1000");
    for i in 0..20 {
        let id = format!("race{i}");
        let reg = svc
            .fetch(request(&srv.base, &id, std::slice::from_ref(&slow)))
            .await
            .unwrap();
        if i % 2 == 1 {
            tokio::task::yield_now().await;
        }
        assert!(svc.abort(&scope, &id).await.unwrap());
        tokio::time::timeout(Duration::from_secs(20), svc.wait_idle())
            .await
            .unwrap_or_else(|_| panic!("fetch {id} kept running after abort"));
        let ev = rec.terminal(&reg.unique_id);
        assert_eq!(ev.len(), 1, "{id}");
        assert_eq!(ev[0].0, EventKind::Abort);
        assert_eq!(ev[0].2[0].0.outcome, RecordOutcome::Aborted);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_time_rejections() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_active_fetches_per_origin: 2,
        ..test_limits()
    };
    let (svc, _rec) = start_engine(dir.path(), limits).await;
    let o = srv.base.clone();
    let slow = srv.url("n=1000000&delay_ms=50&chunk=1000");
    let te = |r: Result<RegistrationSnapshot, FetchRejection>| {
        matches!(r, Err(FetchRejection::TypeError(_)))
    };
    assert!(te(svc.fetch(request(&o, "e", &[])).await));
    let mut nc = request(&o, "nc", std::slice::from_ref(&slow));
    nc.requests[0].mode = "no-cors".into();
    assert!(te(svc.fetch(nc).await));
    assert!(te(svc
        .fetch(request(&o, "u", &["https://user:pw@a.test/".to_string()]))
        .await));
    assert!(te(svc
        .fetch(request(&o, "bad", &["not a url".to_string()]))
        .await));
    let mut nw = request(&o, "nw", std::slice::from_ref(&slow));
    nw.has_active_worker = false;
    assert!(te(svc.fetch(nw).await));
    assert!(te(svc
        .fetch(request(
            &o,
            &"x".repeat(MAX_ID_BYTES + 1),
            std::slice::from_ref(&slow)
        ))
        .await));
    svc.set_permission(&o, false);
    assert!(matches!(
        svc.fetch(request(&o, "p", std::slice::from_ref(&slow)))
            .await,
        Err(FetchRejection::NotAllowed(_))
    ));
    svc.set_permission(&o, true);
    svc.fetch(request(&o, "one", std::slice::from_ref(&slow)))
        .await
        .unwrap();
    assert!(
        te(svc
            .fetch(request(&o, "one", std::slice::from_ref(&slow)))
            .await),
        "duplicate id"
    );
    svc.fetch(request(&o, "two", std::slice::from_ref(&slow)))
        .await
        .unwrap();
    assert!(matches!(
        svc.fetch(request(&o, "three", std::slice::from_ref(&slow)))
            .await,
        Err(FetchRejection::QuotaExceeded(_))
    ));
    let scope = format!("{o}/");
    assert_eq!(
        svc.ids(&scope).await.unwrap(),
        vec!["one".to_string(), "two".to_string()]
    );
    assert!(matches!(
        svc.get(&scope, "").await,
        Err(EngineError::TypeError(_))
    ));
    assert!(svc.get(&scope, "nope").await.unwrap().is_none());
    assert!(svc.get(&scope, "one").await.unwrap().is_some());
    assert!(svc.abort(&scope, "one").await.unwrap());
    assert!(svc.abort(&scope, "two").await.unwrap());
    tokio::time::timeout(Duration::from_secs(30), svc.wait_idle())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_record_policy_failures() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    for (i, u) in [
        "https://example.com:587/",
        "wss://a.test/",
        "http://example.com/x",
        "file:///etc/passwd",
    ]
    .iter()
    .enumerate()
    {
        let (kind, reg, recs) = run_to_end(
            &svc,
            &rec,
            request("https://a.test", &format!("p{i}"), &[u.to_string()]),
        )
        .await;
        assert_eq!(kind, EventKind::Fail, "{u}");
        assert_eq!(reg.failure_reason, FailureReason::FetchError);
        assert_eq!(recs[0].0.outcome, RecordOutcome::FetchError);
    }
    // CSP connect-src 'self' blocks another loopback port.
    let mut req = request("http://127.0.0.1:1", "csp", &[srv.url("n=10")]);
    req.policy.csp_connect_src = vec![vec!["'self'".into()]];
    let (_, reg, recs) = run_to_end(&svc, &rec, req).await;
    assert_eq!(reg.failure_reason, FailureReason::FetchError);
    assert!(recs[0].0.error.as_ref().unwrap().contains("connect-src"));
    assert!(
        srv.log().is_empty(),
        "blocked requests never reach the network"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_for_cross_origin_records() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let page = "http://127.0.0.1:1"; // a different origin than the server
                                     // No Access-Control-Allow-Origin -> fetch-error.
    let (_, reg, _) = run_to_end(&svc, &rec, request(page, "c0", &[srv.url("n=10")])).await;
    assert_eq!(reg.failure_reason, FailureReason::FetchError);
    // ACAO * -> cors response with filtered headers.
    let (kind, _, recs) = run_to_end(
        &svc,
        &rec,
        request(page, "c1", &[srv.url("n=10&acao=*&expose=etag")]),
    )
    .await;
    assert_eq!(kind, EventKind::Success);
    let resp = recs[0].0.response.as_ref().unwrap();
    assert_eq!(resp.response_type, "cors");
    let names: Vec<&str> = resp.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        names.contains(&"etag") && names.contains(&"content-type"),
        "{names:?}"
    );
    assert!(!names.contains(&"x-secret"));
    // credentials include + '*' fails.
    let mut req = request(page, "c2", &[srv.url("n=10&acao=*")]);
    req.requests[0].credentials = "include".into();
    let (_, reg, _) = run_to_end(&svc, &rec, req).await;
    assert_eq!(reg.failure_reason, FailureReason::FetchError);
    // Non-simple request: preflight must allow the method.
    let mut req = request(
        page,
        "c3",
        &[srv.url(&format!("n=10&acao={page}&allow_methods=PUT"))],
    );
    req.requests[0].method = "PUT".into();
    req.requests[0].body = Some(b"x".to_vec());
    let (kind, _, _) = run_to_end(&svc, &rec, req).await;
    assert_eq!(kind, EventKind::Success);
    assert!(srv.log().iter().any(|l| l.method == "OPTIONS"));
    let mut req = request(page, "c4", &[srv.url(&format!("n=10&acao={page}"))]);
    req.requests[0].headers = vec![("x-custom".into(), "1".into())];
    let (_, reg, _) = run_to_end(&svc, &rec, req).await;
    assert_eq!(
        reg.failure_reason,
        FailureReason::FetchError,
        "preflight without allow-headers"
    );
    // Origin header sent on cross-origin requests.
    assert!(srv.log().iter().any(|l| l.origin.as_deref() == Some(page)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_engine_on_same_dir_is_refused() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        checkpoint_bytes: 50_000,
        ..test_limits()
    };
    let uid;
    {
        let (svc, _rec) = start_engine(dir.path(), limits.clone()).await;
        let reg = svc
            .fetch(request(
                &srv.base,
                "rr",
                &[srv.url("n=1000000&delay_ms=5&chunk=10000&key=rr")],
            ))
            .await
            .unwrap();
        uid = reg.unique_id.clone();
        // Wait until some bytes are durable, then drop the engine's handle.
        let mut rx = svc.subscribe();
        while let Ok(p) = rx.recv().await {
            if p.registration.downloaded > 200_000 {
                break;
            }
        }
    }
    // The first engine's tasks still run in this runtime and hold the lock,
    // so opening the data dir for a second engine must fail with a clear error.
    let err = Store::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains("in use"), "{err}");
    let _ = uid;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_cached_per_max_age_and_failures_reveal_nothing() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let page = "http://127.0.0.1:1";
    let options = |log: &[Logged], q: &str| {
        log.iter()
            .filter(|l| l.method == "OPTIONS" && l.query.contains(q))
            .count()
    };
    // `Content-Type: text/json` is not safelisted: preflighted, then cached
    // for Access-Control-Max-Age seconds.
    let cached = srv.url(&format!(
        "n=10&acao={page}&allow_headers=content-type&max_age=600&key=m"
    ));
    for id in ["p1", "p2"] {
        let mut req = request(page, id, std::slice::from_ref(&cached));
        req.requests[0].headers = vec![("content-type".into(), "text/json".into())];
        let (kind, _, _) = run_to_end(&svc, &rec, req).await;
        assert_eq!(kind, EventKind::Success);
    }
    assert_eq!(
        options(&srv.log(), "max_age=600"),
        1,
        "second preflight cached"
    );
    // Max-Age 0: every request is preflighted.
    let uncached = srv.url(&format!(
        "n=10&acao={page}&allow_methods=DELETE&max_age=0&key=z"
    ));
    for id in ["z1", "z2"] {
        let mut req = request(page, id, std::slice::from_ref(&uncached));
        req.requests[0].method = "DELETE".into();
        run_to_end(&svc, &rec, req).await;
    }
    assert_eq!(options(&srv.log(), "max_age=0"), 2);
    // A failing CORS check exposes nothing: no response, no bytes counted.
    let (kind, reg, recs) = run_to_end(
        &svc,
        &rec,
        request(
            page,
            "nocors",
            &[srv.url("n=50000&key=nc"), srv.url("n=7&acao=*")],
        ),
    )
    .await;
    assert_eq!(kind, EventKind::Fail);
    assert_eq!(reg.failure_reason, FailureReason::FetchError);
    assert_eq!(recs[0].0.outcome, RecordOutcome::FetchError);
    assert!(recs[0].0.response.is_none());
    assert!(recs[0].1.is_none());
    assert_eq!(reg.downloaded, 7, "only the CORS-approved record counts");
    // A failing preflight: no main request at all.
    let mut req = request(page, "pf", &[srv.url(&format!("n=10&acao={page}&key=pf"))]);
    req.requests[0].method = "PUT".into();
    let (_, reg, recs) = run_to_end(&svc, &rec, req).await;
    assert_eq!(reg.failure_reason, FailureReason::FetchError);
    assert!(recs[0].0.response.is_none());
    assert!(!srv
        .log()
        .iter()
        .any(|l| l.method == "PUT" && l.query.contains("key=pf")));
}

fn sri(alg: &str, body: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest;
    let digest = match alg {
        "sha256" => sha2::Sha256::digest(body).to_vec(),
        "sha384" => sha2::Sha384::digest(body).to_vec(),
        _ => sha2::Sha512::digest(body).to_vec(),
    };
    format!(
        "{alg}-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrity_is_verified_over_the_whole_body() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    let with = |url: String, integrity: String| {
        let mut spec = RequestSpec::get(url);
        spec.integrity = integrity;
        spec
    };
    // Matching metadata of each algorithm, several values, and a body
    // resumed with Range after a cut: the hash covers the kept bytes too.
    let mut ok = request(&srv.base, "sri-ok", &[]);
    ok.requests = vec![
        with(srv.url("n=1000&key=a"), sri("sha256", &pattern(1000))),
        with(
            srv.url("n=2000&key=b"),
            format!("sha256-AAAA {}", sri("sha384", &pattern(2000))),
        ),
        with(
            srv.url("n=300000&cut=120000&key=c"),
            sri("sha512", &pattern(300_000)),
        ),
        with(srv.url("n=10&key=d"), "md5-unsupported".into()),
    ];
    let (kind, _, recs) = run_to_end(&svc, &rec, ok).await;
    assert_eq!(kind, EventKind::Success);
    assert_eq!(recs[2].1.as_deref(), Some(&pattern(300_000)[..]));
    assert!(srv
        .log()
        .iter()
        .any(|l| l.range.as_deref() == Some("bytes=120000-")));
    // A mismatch is a network error for that record: fetch-error, while
    // the other records complete.
    let mut bad = request(&srv.base, "sri-bad", &[]);
    bad.requests = vec![
        with(srv.url("n=1000&key=e"), sri("sha256", &pattern(999))),
        with(srv.url("n=1000&key=f"), sri("sha256", &pattern(1000))),
        // Only the strongest algorithm counts.
        with(
            srv.url("n=500&key=g"),
            format!("{} sha512-AAAA", sri("sha256", &pattern(500))),
        ),
    ];
    let (kind, reg, recs) = run_to_end(&svc, &rec, bad).await;
    assert_eq!(kind, EventKind::Fail);
    assert_eq!(reg.failure_reason, FailureReason::FetchError);
    assert_eq!(recs[0].0.outcome, RecordOutcome::FetchError);
    assert!(recs[0].0.error.as_ref().unwrap().contains("integrity"));
    assert_eq!(recs[1].0.outcome, RecordOutcome::Complete);
    assert_eq!(recs[2].0.outcome, RecordOutcome::FetchError);
    assert_eq!(recs[0].0.request.integrity, sri("sha256", &pattern(999)));
}

/// A server that accepts and reads the request but never sends headers: each
/// attempt ends at the header timeout, and after the retries the record
/// fails (`fetch-error`) instead of holding the fetch forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_that_never_sends_headers_fails_the_fetch() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
            held.push(socket); // open, silent
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        // The header wait starts after the connect timeout's share.
        connect_timeout: Duration::from_millis(300),
        header_timeout: Duration::from_millis(300),
        max_retries: 2,
        ..test_limits()
    };
    let (svc, rec) = start_engine(dir.path(), limits).await;
    let (kind, reg, recs) = run_to_end(
        &svc,
        &rec,
        request(&base, "silent", &[format!("{base}/never")]),
    )
    .await;
    assert_eq!(kind, EventKind::Fail);
    assert_eq!(reg.failure_reason, FailureReason::FetchError);
    let error = recs[0].0.error.as_deref().unwrap_or("");
    assert!(error.contains("no response headers"), "{error}");
    // The first attempt and each retry reached the server.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3);
}

/// A registration object follows its own fetch through `watch`: it sees
/// the downloads progress and the result, and the channel closes with
/// `recordsAvailable` false once the terminal event ended. One that starts
/// watching after the result was decided starts from it, and one that
/// starts after the end gets the final state at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_a_fetch_follows_it_and_late_watchers_start_from_the_latest() {
    let srv = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), test_limits()).await;
    // The terminal event waits for a permit, so the fetch stays settled.
    let hold = Arc::new(tokio::sync::Semaphore::new(0));
    let _ = rec.hold.set(hold.clone());
    let urls = [srv.url("n=300000&chunk=30000&delay_ms=2&key=w")];
    let reg = svc
        .fetch(request(&origin_of(&srv), "w", &urls))
        .await
        .unwrap();
    let mut early = svc.watch(&reg.unique_id).await.unwrap().unwrap();
    assert_eq!(early.borrow().registration.id, "w");
    let mut seen = Vec::new();
    let decided = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let now = early.borrow_and_update().clone();
            seen.push(now.registration.downloaded);
            if now.is_final {
                return now;
            }
            early.changed().await.unwrap();
        }
    })
    .await
    .expect("the result is decided");
    assert_eq!(decided.registration.result, FetchResult::Success);
    assert_eq!(decided.registration.downloaded, 300000);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(decided.registration.records_available);

    // Late: the fetch is settled and its event is running.
    let late = svc.watch(&reg.unique_id).await.unwrap().unwrap();
    assert!(late.borrow().is_final);
    assert_eq!(late.borrow().registration.result, FetchResult::Success);
    assert_eq!(late.borrow().registration.downloaded, 300000);

    // The event ends: both see the end, and their channels close.
    hold.add_permits(1);
    for mut rx in [early, late] {
        tokio::time::timeout(Duration::from_secs(60), async {
            while rx.changed().await.is_ok() {}
        })
        .await
        .expect("the watch closes when the fetch is done");
        let last = rx.borrow().clone();
        assert_eq!(last.registration.state, FetchState::Done);
        assert!(!last.registration.records_available);
    }
    // After the end: the final state at once.
    let after = svc.watch(&reg.unique_id).await.unwrap().unwrap();
    assert_eq!(after.borrow().registration.state, FetchState::Done);
    assert!(after.has_changed().is_err());
    assert!(svc.watch("no-such-fetch").await.unwrap().is_none());
    svc.shutdown().await;
}

/// Sockets open to a host stay within `per_host_connections`, idle pooled
/// ones included, while many small bodies follow each other on the same
/// connections (the pattern where a finished response's connection comes
/// back to the pool just after the next request looked for one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_per_host_stay_within_the_cap() {
    use hyper::service::service_fn;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Sockets {
        open: AtomicUsize,
        peak: AtomicUsize,
        opened: AtomicUsize,
    }
    let sockets = Arc::new(Sockets::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    {
        let sockets = sockets.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let now = sockets.open.fetch_add(1, Ordering::SeqCst) + 1;
                sockets.peak.fetch_max(now, Ordering::SeqCst);
                sockets.opened.fetch_add(1, Ordering::SeqCst);
                let sockets = sockets.clone();
                tokio::spawn(async move {
                    let body = bytes::Bytes::from(vec![7u8; 16 << 10]);
                    let service = service_fn(move |_req| {
                        let body = body.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                http_body_util::Full::new(body),
                            ))
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(tcp);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                    sockets.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let cap = 16;
    let n = 2000;
    let limits = Limits {
        per_host_connections: cap,
        ..test_limits()
    };
    let (svc, rec) = start_engine(dir.path(), limits).await;
    let urls: Vec<String> = (0..n).map(|i| format!("{base}/r{i}")).collect();
    let (kind, reg, recs) = run_to_end(&svc, &rec, request(&base, "many", &urls)).await;
    assert_eq!(kind, EventKind::Success);
    assert_eq!(recs.len(), n);
    assert_eq!(reg.downloaded, (n * (16 << 10)) as u64);
    let peak = sockets.peak.load(Ordering::SeqCst);
    assert!(
        peak <= cap,
        "{peak} sockets open at once ({} opened) against a cap of {cap}",
        sockets.opened.load(Ordering::SeqCst)
    );
    // Connections are reused, not opened per request.
    assert!(sockets.opened.load(Ordering::SeqCst) < 200);
}
