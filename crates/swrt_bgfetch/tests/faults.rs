//! Fault matrix: the real engine against a loopback server that misbehaves
//! in one specific way per test. Each fault has one specified outcome:
//! success with the exact bytes, or a failed record with the Background
//! Fetch failure reason. Every failing case ends within the engine's limits
//! (retries, resumptions, redirects, timeouts), set small here; the server
//! counts the requests it saw so the bound is checked, not a duration.

mod common;

use common::faults::{second_version, Fault, FaultServer, Seen};
use common::*;
use std::time::Duration;
use swrt_bgfetch::*;

const BODY: usize = 256 << 10;

fn fault_limits() -> Limits {
    Limits {
        max_retries: 2,
        max_resumptions: 3,
        max_redirects: 5,
        connect_timeout: Duration::from_millis(300),
        header_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(500),
        ..test_limits()
    }
}

/// Run one fetch of `path` against a server with `fault`.
async fn fetch_with(fault: Fault, body: Vec<u8>, limits: Limits) -> (FaultServer, Event, u64) {
    let server = FaultServer::start(fault, body).await;
    let url = server.url("/file");
    let (event, usage) = fetch_url(&server.base, &url, limits).await;
    (server, event, usage)
}

/// Fetch `url` for `origin`; the terminal event and the origin's storage use
/// once the fetch is over.
async fn fetch_url(origin: &str, url: &str, limits: Limits) -> (Event, u64) {
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), limits).await;
    let event = run_to_end(&svc, &rec, request(origin, "fault", &[url.to_string()])).await;
    let usage = svc.origin_usage(origin);
    svc.shutdown().await;
    (event, usage)
}

fn assert_success_with(event: &Event, expected: &[u8]) {
    let (kind, reg, recs) = event;
    assert_eq!(*kind, EventKind::Success, "{:?}", recs[0].0.error);
    assert_eq!(reg.failure_reason, FailureReason::None);
    assert_eq!(recs[0].0.outcome, RecordOutcome::Complete);
    let body = recs[0].1.as_deref().expect("a complete record has a body");
    assert_eq!(body.len(), expected.len());
    assert!(body == expected, "stored bytes differ from the server's");
    assert_eq!(reg.downloaded, expected.len() as u64);
}

fn assert_failed(event: &Event, reason: FailureReason, outcome: RecordOutcome) -> String {
    let (kind, reg, recs) = event;
    assert_eq!(*kind, EventKind::Fail);
    assert_eq!(reg.failure_reason, reason);
    assert_eq!(recs[0].0.outcome, outcome);
    recs[0].0.error.clone().unwrap_or_default()
}

fn seen(path: &str, range_from: Option<u64>) -> Seen {
    Seen {
        path: path.into(),
        range_from,
    }
}

#[tokio::test]
async fn reset_mid_body_resumes_to_the_exact_bytes() {
    let (server, event, _) = fetch_with(Fault::ResetMidBody, pattern(BODY), fault_limits()).await;
    assert_success_with(&event, &server.body);
    assert_eq!(server.seen().len(), 2, "one retry after the reset");
}

#[tokio::test]
async fn short_content_length_resumes_from_the_bytes_received() {
    let (server, event, _) =
        fetch_with(Fault::ShortContentLength, pattern(BODY), fault_limits()).await;
    assert_success_with(&event, &server.body);
    let cut = server.cut as u64;
    assert_eq!(
        server.seen(),
        [seen("/file", None), seen("/file", Some(cut))]
    );
}

#[tokio::test]
async fn long_content_length_stores_only_the_announced_bytes() {
    let (server, event, _) = fetch_with(
        Fault::LongContentLength { extra: 4096 },
        pattern(BODY),
        fault_limits(),
    )
    .await;
    assert_success_with(&event, &server.body);
}

#[tokio::test]
async fn broken_chunked_encoding_fails_the_record_after_the_resumptions() {
    let limits = fault_limits();
    let (server, event, usage) =
        fetch_with(Fault::BrokenChunked, pattern(BODY), limits.clone()).await;
    assert_failed(&event, FailureReason::FetchError, RecordOutcome::FetchError);
    // Every attempt delivered bytes before breaking: resumptions, not retries.
    assert_eq!(server.seen().len(), limits.max_resumptions as usize + 1);
    assert_eq!(usage, 0, "the partial body is freed");
}

#[tokio::test]
async fn server_error_is_a_bad_status_response_and_is_not_retried() {
    let (server, event, _) = fetch_with(
        Fault::ServerErrorThenOk { failures: 1 },
        pattern(BODY),
        fault_limits(),
    )
    .await;
    assert_failed(&event, FailureReason::BadStatus, RecordOutcome::BadStatus);
    let (_, _, recs) = &event;
    assert_eq!(recs[0].0.response.as_ref().map(|r| r.status), Some(503));
    assert_eq!(recs[0].1.as_deref(), Some(&[][..]), "the body is empty");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn no_headers_ever_fails_the_record_after_the_retries() {
    let limits = fault_limits();
    let (server, event, _) = fetch_with(Fault::NoHeaders, pattern(BODY), limits.clone()).await;
    let error = assert_failed(&event, FailureReason::FetchError, RecordOutcome::FetchError);
    assert!(error.contains("no response headers"), "{error}");
    assert_eq!(server.seen().len(), limits.max_retries as usize + 1);
}

#[tokio::test]
async fn stall_after_headers_fails_the_record_after_the_retries() {
    let limits = fault_limits();
    let (server, event, _) =
        fetch_with(Fault::StallAfterHeaders, pattern(BODY), limits.clone()).await;
    let error = assert_failed(&event, FailureReason::FetchError, RecordOutcome::FetchError);
    assert!(error.contains("no data"), "{error}");
    assert_eq!(server.seen().len(), limits.max_retries as usize + 1);
}

#[tokio::test]
async fn trickle_completes_with_the_exact_bytes() {
    let (server, event, _) = fetch_with(
        Fault::Trickle {
            piece: 97,
            gap: Duration::from_millis(1),
        },
        pattern(16 << 10),
        fault_limits(),
    )
    .await;
    assert_success_with(&event, &server.body);
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn redirect_loop_fails_the_record_at_the_redirect_limit() {
    let limits = fault_limits();
    let (server, event, _) = fetch_with(Fault::RedirectLoop, pattern(BODY), limits.clone()).await;
    let error = assert_failed(&event, FailureReason::FetchError, RecordOutcome::FetchError);
    assert!(error.contains("redirects"), "{error}");
    assert_eq!(server.seen().len(), limits.max_redirects as usize + 1);
}

#[tokio::test]
async fn huge_headers_fail_the_record() {
    let limits = fault_limits();
    let (server, event, _) = fetch_with(
        Fault::HugeHeaders { bytes: 1 << 20 },
        pattern(BODY),
        limits.clone(),
    )
    .await;
    assert_failed(&event, FailureReason::FetchError, RecordOutcome::FetchError);
    assert_eq!(server.seen().len(), limits.max_retries as usize + 1);
}

#[tokio::test]
async fn range_ignored_on_resume_stores_the_full_second_response() {
    let (server, event, _) = fetch_with(Fault::RangeIgnored, pattern(BODY), fault_limits()).await;
    assert_success_with(&event, &server.body);
    let cut = server.cut as u64;
    assert_eq!(
        server.seen(),
        [seen("/file", None), seen("/file", Some(cut))]
    );
}

/// The server saw the first attempt, a resume from where it cut the body,
/// and, the resume refused, a fresh download.
fn assert_resumed_then_started_over(server: &FaultServer) {
    let cut = server.cut as u64;
    assert_eq!(
        server.seen(),
        [
            seen("/file", None),
            seen("/file", Some(cut)),
            seen("/file", None)
        ]
    );
}

#[tokio::test]
async fn wrong_content_range_discards_the_bytes_and_starts_over() {
    let (server, event, _) =
        fetch_with(Fault::WrongContentRange, pattern(BODY), fault_limits()).await;
    assert_success_with(&event, &server.body);
    assert_resumed_then_started_over(&server);
}

#[tokio::test]
async fn content_range_ending_early_discards_the_bytes_and_starts_over() {
    let (server, event, _) = fetch_with(Fault::RangeEndsEarly, pattern(BODY), fault_limits()).await;
    assert_success_with(&event, &server.body);
    assert_resumed_then_started_over(&server);
}

#[tokio::test]
async fn partial_body_shorter_than_its_content_range_starts_over() {
    let (server, event, _) =
        fetch_with(Fault::PartialBodyShort, pattern(BODY), fault_limits()).await;
    assert_success_with(&event, &server.body);
    assert_resumed_then_started_over(&server);
}

#[tokio::test]
async fn etag_change_between_attempts_stores_only_the_new_version() {
    let (server, event, _) = fetch_with(Fault::EtagChange, pattern(BODY), fault_limits()).await;
    assert_success_with(&event, &second_version(&server.body));
    assert_resumed_then_started_over(&server);
}

#[tokio::test]
async fn gzip_bomb_fails_with_quota_exceeded_and_frees_its_bytes() {
    // 256 MiB of zeros, about 256 KiB on the wire; nothing else limits it (no
    // downloadTotal, a quota far above it).
    let (_server, event, usage) = fetch_with(
        Fault::GzipBomb { decoded: 256 << 20 },
        Vec::new(),
        fault_limits(),
    )
    .await;
    let error = assert_failed(
        &event,
        FailureReason::QuotaExceeded,
        RecordOutcome::FetchError,
    );
    assert!(error.contains("decoded"), "{error}");
    let (_, reg, _) = &event;
    // The wire carried about 256 KiB: at the default ratio of 100 the
    // engine stops by 25.6 MiB of the 256 MiB.
    assert!(
        reg.downloaded <= 2 * DECODED_BODY_FLOOR,
        "stopped early: {} bytes decoded",
        reg.downloaded
    );
    assert_eq!(usage, 0, "the decoded bytes are freed");
}

#[tokio::test]
async fn a_bomb_frees_the_bytes_of_the_records_it_stops() {
    // A large body still arriving when the bomb stops the fetch: its bytes,
    // written or not yet, stop counting too.
    let server = FaultServer::start(
        Fault::ByPath(vec![
            ("/bomb", Fault::GzipBomb { decoded: 256 << 20 }),
            (
                "/slow",
                Fault::Trickle {
                    piece: 64 << 10,
                    gap: Duration::from_millis(20),
                },
            ),
        ]),
        pattern(16 << 20),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (svc, rec) = start_engine(dir.path(), fault_limits()).await;
    let urls = [server.url("/slow"), server.url("/bomb")];
    let event = run_to_end(&svc, &rec, request(&server.base, "two", &urls)).await;
    let (kind, reg, recs) = &event;
    assert_eq!(*kind, EventKind::Fail);
    assert_eq!(reg.failure_reason, FailureReason::QuotaExceeded);
    assert_ne!(
        recs[0].0.outcome,
        RecordOutcome::Complete,
        "the slow record was still running"
    );
    assert_eq!(svc.origin_usage(&server.base), 0);
    svc.shutdown().await;
}

#[tokio::test]
async fn decoded_bytes_count_against_the_quota() {
    let limits = Limits {
        quota_per_origin: 4 << 20,
        // Only the quota stops this one.
        max_decoded_ratio: 0,
        ..fault_limits()
    };
    let (_server, event, usage) =
        fetch_with(Fault::GzipBomb { decoded: 64 << 20 }, Vec::new(), limits).await;
    assert_failed(
        &event,
        FailureReason::QuotaExceeded,
        RecordOutcome::FetchError,
    );
    assert_eq!(usage, 0, "the decoded bytes are freed");
}

#[tokio::test]
async fn tls_to_a_plain_port_fails_the_record_after_the_retries() {
    let limits = fault_limits();
    let server = FaultServer::start(Fault::None, pattern(BODY)).await;
    let url = server.url("/file").replacen("http:", "https:", 1);
    let (event, _) = fetch_url(&server.base, &url, limits.clone()).await;
    assert_failed(&event, FailureReason::FetchError, RecordOutcome::FetchError);
    let seen = server.seen();
    assert_eq!(seen.len(), limits.max_retries as usize + 1);
    assert!(seen.iter().all(|s| s.path == "<tls>"), "{seen:?}");
}

#[tokio::test]
async fn well_behaved_server_is_the_baseline() {
    let (server, event, _) = fetch_with(Fault::None, pattern(BODY), fault_limits()).await;
    assert_success_with(&event, &server.body);
    assert_eq!(server.seen(), [seen("/file", None)]);
}
