//! The fleet's shared state against real servers: PostgreSQL for leases and
//! change notification, moto's S3 server for bodies.

mod support;

use swrt_test_servers::require_servers;

use bytes::Bytes;
use futures::TryStreamExt;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use swrt_fleet::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_migrating_at_once_end_on_the_latest_schema() {
    require_servers!();
    let pg = support::Postgres::start();
    // Eight nodes on a fresh database: every one of them finds the schema
    // table missing, and all but one lose the race to create it.
    let nodes = futures::future::join_all((0..8).map(|_| FleetDb::connect(&pg.url))).await;
    for db in nodes {
        let db = db.unwrap();
        assert_eq!(
            db.schema_version().await.unwrap(),
            FleetDb::latest_schema_version()
        );
    }
    // Connecting again changes nothing.
    let again = FleetDb::connect(&pg.url).await.unwrap();
    assert_eq!(
        again.schema_version().await.unwrap(),
        FleetDb::latest_schema_version()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_thirty_fetches_one_holder_each() {
    require_servers!();
    let pg = support::Postgres::start();
    let db = FleetDb::connect(&pg.url).await.unwrap();
    let nodes: Vec<Leases> = (0..3)
        .map(|i| Leases::new(db.clone(), format!("node-{i}"), Duration::from_secs(60)))
        .collect();
    for i in 0..30 {
        assert!(nodes[i % 3]
            .offer(&format!("fetch-{i}"), "https://a.test")
            .await
            .unwrap());
    }
    assert!(!nodes[0].offer("fetch-0", "https://a.test").await.unwrap());
    // Each node runs at most 10 fetches at once: all three claim, a few at a
    // time and all at once, until they are full or nothing is left.
    let claims = futures::future::join_all(nodes.iter().map(|leases| async move {
        let mut mine = Vec::new();
        while mine.len() < 10 {
            let got = leases.claim((10 - mine.len()).min(4)).await.unwrap();
            if got.is_empty() {
                break;
            }
            mine.extend(got);
            tokio::task::yield_now().await;
        }
        mine
    }))
    .await;
    let mut holders: HashMap<String, usize> = HashMap::new();
    for (node, mine) in claims.iter().enumerate() {
        assert_eq!(mine.len(), 10, "node-{node}");
        for lease in mine {
            assert_eq!(lease.generation, 1);
            assert!(
                holders.insert(lease.fetch_id.clone(), node).is_none(),
                "{} claimed twice",
                lease.fetch_id
            );
        }
    }
    assert_eq!(holders.len(), 30);
    for (fetch, node) in &holders {
        let (holder, _) = nodes[0].holder(fetch).await.unwrap().unwrap();
        assert_eq!(holder, format!("node-{node}"));
    }
    // Renewal keeps exactly what a node holds.
    for (node, leases) in nodes.iter().enumerate() {
        let renewed: HashSet<String> = leases
            .renew()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.fetch_id)
            .collect();
        let expected: HashSet<String> = holders
            .iter()
            .filter(|(_, n)| **n == node)
            .map(|(f, _)| f.clone())
            .collect();
        assert_eq!(renewed, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_moves_to_another_node_and_fences_the_old_one() {
    require_servers!();
    let pg = support::Postgres::start();
    let db = FleetDb::connect(&pg.url).await.unwrap();
    let a = Leases::new(db.clone(), "a", Duration::from_millis(300));
    let b = Leases::new(db.clone(), "b", Duration::from_secs(60));
    a.offer("f", "https://a.test").await.unwrap();
    let first = a.claim(10).await.unwrap();
    assert_eq!(first.len(), 1);
    // Held: b finds nothing to claim.
    assert!(b.claim(10).await.unwrap().is_empty());
    // a stops renewing (as a killed node does) until its lease expires.
    let mut taken = Vec::new();
    for _ in 0..100 {
        taken = b.claim(10).await.unwrap();
        if !taken.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(taken.len(), 1, "b never took the expired lease over");
    assert_eq!(taken[0].generation, first[0].generation + 1);
    // The old holder can neither renew, finish nor release it.
    assert!(a.renew().await.unwrap().is_empty());
    assert!(!a.finish(&first[0]).await.unwrap());
    assert!(!a.release(&first[0]).await.unwrap());
    assert_eq!(b.holder("f").await.unwrap().unwrap().0, "b");
    // The current holder finishes it once; it is never claimed again.
    assert!(b.finish(&taken[0]).await.unwrap());
    assert!(!b.finish(&taken[0]).await.unwrap());
    assert!(b.holder("f").await.unwrap().is_none());
    assert!(a.claim(10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_lease_is_claimed_at_once() {
    require_servers!();
    let pg = support::Postgres::start();
    let db = FleetDb::connect(&pg.url).await.unwrap();
    let a = Leases::new(db.clone(), "a", Duration::from_secs(60));
    let b = Leases::new(db.clone(), "b", Duration::from_secs(60));
    a.offer("f", "https://a.test").await.unwrap();
    let lease = a.claim(1).await.unwrap().remove(0);
    assert!(a.release(&lease).await.unwrap());
    let taken = b.claim(1).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].generation, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_hears_a_change_published_on_any_node() {
    require_servers!();
    let pg = support::Postgres::start();
    let db_a = FleetDb::connect(&pg.url).await.unwrap();
    let db_b = FleetDb::connect(&pg.url).await.unwrap();
    let mut heard_a = Changes::new(db_a.clone()).subscribe().await.unwrap();
    let mut heard_b = Changes::new(db_b.clone()).subscribe().await.unwrap();
    let changes = [
        Change {
            node: "b".into(),
            fetch_id: "f".into(),
            kind: ChangeKind::Abort,
        },
        Change {
            node: "a".into(),
            fetch_id: "f".into(),
            kind: ChangeKind::Progress {
                downloaded: 1 << 20,
                uploaded: 7,
            },
        },
        Change {
            node: "a".into(),
            fetch_id: "f".into(),
            kind: ChangeKind::Click,
        },
    ];
    Changes::new(db_b).publish(&changes[0]).await.unwrap();
    Changes::new(db_a.clone())
        .publish(&changes[1])
        .await
        .unwrap();
    Changes::new(db_a).publish(&changes[2]).await.unwrap();
    for heard in [&mut heard_a, &mut heard_b] {
        for expected in &changes {
            let got = tokio::time::timeout(Duration::from_secs(30), heard.recv())
                .await
                .expect("a change arrives")
                .expect("the subscription is open");
            assert_eq!(&got, expected);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_resume_from_the_parts_in_object_storage() {
    require_servers!();
    let s3 = support::S3::start().await;
    let bodies = BodyStore::s3(
        &format!("s3://{}/fleet-a", s3.bucket),
        &support::s3_options(&s3),
    )
    .unwrap();
    let key = BodyKey::response("fetch-1", 3);
    assert_eq!(bodies.stored_len(&key).await.unwrap(), 0);
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    // One node stores two checkpoints...
    bodies
        .put_part(&key, 0, Bytes::copy_from_slice(&data[..1_000_000]))
        .await
        .unwrap();
    bodies
        .put_part(
            &key,
            1_000_000,
            Bytes::copy_from_slice(&data[1_000_000..1_800_000]),
        )
        .await
        .unwrap();
    // ...and a part after a gap (its predecessor was never stored) is not
    // part of the body.
    bodies
        .put_part(&key, 2_500_000, Bytes::copy_from_slice(&data[2_500_000..]))
        .await
        .unwrap();
    // Another node (another client on the same bucket) resumes from there.
    let other = BodyStore::s3(
        &format!("s3://{}/fleet-a", s3.bucket),
        &support::s3_options(&s3),
    )
    .unwrap();
    let resumed_at = other.stored_len(&key).await.unwrap();
    assert_eq!(resumed_at, 1_800_000);
    other
        .put_part(
            &key,
            resumed_at,
            Bytes::copy_from_slice(&data[resumed_at as usize..2_500_000]),
        )
        .await
        .unwrap();
    assert_eq!(bodies.stored_len(&key).await.unwrap(), data.len() as u64);
    let read: Vec<Bytes> = bodies
        .read(&key)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(read.concat(), data);
    // Other prefixes and fetches are separate.
    let elsewhere = BodyStore::s3(
        &format!("s3://{}/fleet-b", s3.bucket),
        &support::s3_options(&s3),
    )
    .unwrap();
    assert_eq!(elsewhere.stored_len(&key).await.unwrap(), 0);
    bodies.delete_fetch("fetch-1").await.unwrap();
    assert_eq!(bodies.stored_len(&key).await.unwrap(), 0);
}

#[test]
fn a_bodies_url_must_name_an_s3_bucket() {
    for url in ["https://bucket/x", "s3:///x", "not a url"] {
        assert!(BodyStore::s3(url, &S3Options::default()).is_err(), "{url}");
    }
}

/// Polls `step` until it returns `Some`, for at most 10 s.
async fn eventually<T, F, Fut>(mut step: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(value) = step().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the condition never held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_runs_on_one_node_until_its_lease_expires() {
    require_servers!();
    let pg = support::Postgres::start();
    let db = FleetDb::connect(&pg.url).await.unwrap();
    let a = Workers::new(db.clone(), "a", Duration::from_millis(300));
    let b = Workers::new(db.clone(), "b", Duration::from_secs(60));
    let first = a.acquire("reg").await.unwrap().expect("a takes the worker");
    assert!(b.acquire("reg").await.unwrap().is_none());
    // Taking it again while holding it keeps the generation.
    assert_eq!(a.acquire("reg").await.unwrap().unwrap(), first);
    // a stops renewing: b takes over once the lease expires.
    let taken = eventually(|| async { b.acquire("reg").await.unwrap() }).await;
    assert_eq!(taken.generation, first.generation + 1);
    assert!(a.renew().await.unwrap().is_empty());
    assert!(!a.release(&first).await.unwrap());
    assert_eq!(b.renew().await.unwrap(), vec![taken.clone()]);
    assert!(b.release(&taken).await.unwrap());
    assert!(a.acquire("reg").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_event_is_queued_once_and_completed_once_on_the_workers_node() {
    require_servers!();
    let pg = support::Postgres::start();
    let db = FleetDb::connect(&pg.url).await.unwrap();
    // Node a runs the fetch; node b runs the registration's worker.
    let fetches_a = Leases::new(db.clone(), "a", Duration::from_secs(60));
    fetches_a.offer("f", "https://a.test").await.unwrap();
    let lease = fetches_a.claim(1).await.unwrap().remove(0);
    let workers_b = Workers::new(db.clone(), "b", Duration::from_millis(400));
    workers_b.acquire("reg").await.unwrap().unwrap();
    let events_a = Events::new(db.clone(), "a", Duration::from_secs(60));
    let events_b = Events::new(db.clone(), "b", Duration::from_millis(400));
    let events_c = Events::new(db.clone(), "c", Duration::from_secs(60));
    // Only the fetch's current holder queues its event, once.
    let stale = Lease {
        generation: lease.generation - 1,
        ..lease.clone()
    };
    assert!(!events_a
        .enqueue(&stale, "reg", "backgroundfetchsuccess")
        .await
        .unwrap());
    assert!(events_a
        .enqueue(&lease, "reg", "backgroundfetchsuccess")
        .await
        .unwrap());
    assert!(!events_a
        .enqueue(&lease, "reg", "backgroundfetchfail")
        .await
        .unwrap());
    // Nodes that do not run the worker never get it.
    assert!(events_a.claim(10).await.unwrap().is_empty());
    assert!(events_c.claim(10).await.unwrap().is_empty());
    let first = events_b.claim(10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].kind, "backgroundfetchsuccess");
    assert_eq!(first[0].attempt, 1);
    // While b's dispatch runs, nobody else takes the event.
    assert!(events_b.claim(10).await.unwrap().is_empty());
    // b dies in the handler: its worker and dispatch leases run out, c
    // starts the worker and dispatches the event again.
    let workers_c = Workers::new(db.clone(), "c", Duration::from_secs(60));
    eventually(|| async { workers_c.acquire("reg").await.unwrap() }).await;
    let again = eventually(|| async {
        let got = events_c.claim(10).await.unwrap();
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(again[0].attempt, 2);
    assert!(!events_b.complete(&first[0]).await.unwrap());
    assert!(!events_c.is_done("f").await.unwrap());
    assert!(events_c.complete(&again[0]).await.unwrap());
    assert!(!events_c.complete(&again[0]).await.unwrap());
    assert!(events_c.is_done("f").await.unwrap());
    assert!(events_c.claim(10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_offered_taken_is_its_creators_and_adoption_offers_only_the_rest() {
    require_servers!();
    let pg = support::Postgres::start();
    let db = FleetDb::connect(&pg.url).await.unwrap();
    let a = Leases::new(db.clone(), "a", Duration::from_secs(60));
    let b = Leases::new(db.clone(), "b", Duration::from_secs(60));
    let taken = a
        .offer_taken("f1", "https://a.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.generation, 1);
    assert_eq!(
        a.offer_taken("f1", "https://a.test").await.unwrap(),
        None,
        "offered once"
    );
    assert_eq!(b.holder("f1").await.unwrap().unwrap().0, "a");
    // Adoption offers what was never offered, and leaves the rest alone.
    let all = [
        ("f1".to_string(), "https://a.test".to_string()),
        ("f2".to_string(), "https://a.test".to_string()),
    ];
    assert_eq!(b.offer_all(&all).await.unwrap(), 1);
    assert_eq!(b.offer_all(&all).await.unwrap(), 0);
    let claimed: Vec<String> = b
        .claim(10)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.fetch_id)
        .collect();
    assert_eq!(claimed, ["f2"], "a still holds f1");
    assert!(a.finish(&taken).await.unwrap());
    assert!(
        b.claim(10).await.unwrap().is_empty(),
        "a finished fetch stays finished"
    );
}
