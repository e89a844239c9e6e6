//! A store's bodies in moto's S3 server ([`swrt_fleet::S3Bodies`]): the
//! same contract as bodies in files, through the store's interface.

mod support;

use swrt_test_servers::require_servers;

use std::io::Read;
use std::sync::Arc;
use swrt_fleet::S3Bodies;
use swrt_store::{BodyId, BodyStorage, NewCacheEntry, NewFetch, NewRequest, Store};

/// The store's interface blocks: run `f` on the blocking pool, as the
/// engine does.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn read(b: &dyn BodyStorage, body: BodyId<'_>, offset: u64) -> Vec<u8> {
    let mut out = Vec::new();
    b.read(body, offset).unwrap().read_to_end(&mut out).unwrap();
    out
}

fn bodies(s3: &support::S3, prefix: &str) -> S3Bodies {
    S3Bodies::new(
        &format!("s3://{}/{prefix}", s3.bucket),
        &support::s3_options(s3),
        tokio::runtime::Handle::current(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn written_synced_resumed_read_and_deleted_in_object_storage() {
    require_servers!();
    let s3 = support::S3::start().await;
    let b = bodies(&s3, "node-a");
    assert_eq!(b.to_string(), format!("s3://{}/node-a", s3.bucket));
    blocking(move || {
        assert!(b.is_empty().unwrap());
        let body = BodyId::Response {
            fetch: "f1",
            index: 0,
        };
        assert_eq!(
            b.read(body, 0).err().map(|e| e.kind()),
            Some(std::io::ErrorKind::NotFound)
        );
        // Two checkpoints: one synced here, one through a sync point on
        // another thread; each is one part.
        let mut w = b.create(body).unwrap();
        w.write_chunks(&[b"hello ", b"wor"]).unwrap();
        w.sync().unwrap();
        assert_eq!((w.len(), w.synced_len()), (9, 9));
        w.write_chunks(&[b"ld, and more"]).unwrap();
        let point = w.sync_point().unwrap();
        std::thread::spawn(move || point.sync())
            .join()
            .unwrap()
            .unwrap();
        w.mark_synced(w.len());
        assert_eq!(w.synced_len(), 21);
        // Bytes past the last sync are not stored.
        w.write_chunks(&[b" unsynced"]).unwrap();
        drop(w);
        assert!(!b.is_empty().unwrap());
        assert_eq!(read(&b, body, 0), b"hello world, and more");
        // Ranges across parts.
        assert_eq!(read(&b, body, 7), b"orld, and more");
        assert_eq!(read(&b, body, 9), b"ld, and more");
        assert_eq!(read(&b, body, 21), b"");

        // A crash after the database recorded 11 bytes: the resume keeps
        // them (rewriting the part that straddles them) and drops the rest.
        let mut w = b.resume(body, 11).unwrap();
        assert_eq!(w.len(), 11);
        assert_eq!(read(&b, body, 0), b"hello world");
        w.write_chunks(&[b"!"]).unwrap();
        w.sync().unwrap();
        drop(w);
        assert_eq!(read(&b, body, 0), b"hello world!");
        // A resume asking for more than is stored continues from there.
        assert_eq!(b.resume(body, 100).unwrap().len(), 12);
        // Creating the body again starts over, once synced; an empty body
        // exists.
        let mut w = b.create(body).unwrap();
        w.sync().unwrap();
        assert_eq!(read(&b, body, 0), b"");
        b.truncate(body, 0).unwrap();

        // A pack: appended bodies are one part per sync, offsets continue
        // across opens.
        let mut pack = b.open_pack("f1").unwrap();
        assert_eq!(pack.append(b"first").unwrap(), 0);
        assert_eq!(pack.append(b"second").unwrap(), 5);
        pack.sync().unwrap();
        let mut pack = b.open_pack("f1").unwrap();
        assert_eq!(pack.append(b"third").unwrap(), 11);
        pack.sync().unwrap();
        let packed = BodyId::Pack { fetch: "f1" };
        let mut second = Vec::new();
        b.read(packed, 5)
            .unwrap()
            .take(6)
            .read_to_end(&mut second)
            .unwrap();
        assert_eq!(second, b"second");
        assert_eq!(read(&b, packed, 5), b"secondthird");
        // Start-up repair cuts a batch that never committed.
        b.truncate(packed, 11).unwrap();
        assert_eq!(read(&b, packed, 0), b"firstsecond");

        // Group commit of several bodies.
        let mut points = Vec::new();
        for index in 1..4 {
            let mut w = b.create(BodyId::Response { fetch: "f1", index }).unwrap();
            w.write_chunks(&[format!("body {index}").as_bytes()])
                .unwrap();
            points.push(w.sync_point().unwrap());
        }
        b.sync_all(&points).unwrap();
        assert_eq!(
            read(
                &b,
                BodyId::Response {
                    fetch: "f1",
                    index: 2
                },
                0
            ),
            b"body 2"
        );

        // Deleting one body, then a fetch's bodies; other fetches stay.
        b.delete(BodyId::Response {
            fetch: "f1",
            index: 1,
        })
        .unwrap();
        assert!(b
            .read(
                BodyId::Response {
                    fetch: "f1",
                    index: 1
                },
                0
            )
            .is_err());
        b.put(
            BodyId::Request {
                fetch: "f2",
                index: 0,
            },
            b"kept",
        )
        .unwrap();
        b.delete_fetch("f1").unwrap();
        assert!(b.read(packed, 0).is_err());
        assert_eq!(
            read(
                &b,
                BodyId::Request {
                    fetch: "f2",
                    index: 0
                },
                0
            ),
            b"kept"
        );
        b.delete_fetch("f2").unwrap();
        assert!(b.is_empty().unwrap());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_keeps_its_metadata_in_sqlite_and_its_bodies_in_s3() {
    require_servers!();
    let s3 = support::S3::start().await;
    let b = bodies(&s3, "node-b");
    let swept = bodies(&s3, "node-b");
    let reopened = bodies(&s3, "node-b");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    blocking(move || {
        let store = Arc::new(Store::open_with_bodies(&path, Box::new(b)).unwrap());
        let fetch = NewFetch {
            unique_id: "u1".into(),
            scope: "https://a.test/".into(),
            id: "one".into(),
            origin: "https://a.test".into(),
            title: String::new(),
            icons: vec![],
            download_total: 0,
            ui_data: None,
            policy_json: "{}".into(),
        };
        let request = NewRequest {
            method: "POST".into(),
            url: "https://a.test/upload".into(),
            headers: vec![],
            mode: swrt_store::RequestMode::Cors,
            credentials: swrt_store::CredentialsMode::SameOrigin,
            body: Some(b"posted".to_vec()),
            integrity: String::new(),
        };
        store.insert_fetch(&fetch, &[request]).unwrap();
        let rec = store.record("u1", 0).unwrap().unwrap();
        assert_eq!(
            read(store.bodies(), rec.request_body().unwrap(), 0),
            b"posted"
        );
        assert!(
            !path.join("bodies/u1").exists(),
            "no body file in the data dir"
        );

        let cache = store.cache_open("https://a.test", "v1").unwrap();
        let (key, mut w) = store.new_cache_body().unwrap();
        w.write_chunks(&[b"cached ", b"body"]).unwrap();
        w.sync().unwrap();
        let entry = NewCacheEntry {
            url: "https://a.test/x".into(),
            method: "GET".into(),
            status: 200,
            response_type: "basic".into(),
            body: Some(key.clone()),
            body_size: w.len(),
            ..NewCacheEntry::default()
        };
        let id = store.cache_put(cache, &entry, &[]).unwrap();
        assert_eq!(store.bodies().cache_bodies().unwrap(), vec![key.clone()]);
        let found = store.cache_candidates(cache, None).unwrap();
        let stored = found[0].entry.body.clone().unwrap();
        assert_eq!(
            read(store.bodies(), BodyId::Cache(&stored), 0),
            b"cached body"
        );
        store.cache_delete_entries(cache, &[id]).unwrap();
        assert!(store.bodies().read(BodyId::Cache(&key), 0).is_err());

        // A body written for a put that never committed (the process
        // ended first) is swept at the next open; claimed ones stay.
        let (claimed, mut w) = store.new_cache_body().unwrap();
        w.write_chunks(&[b"claimed"]).unwrap();
        w.sync().unwrap();
        let entry = NewCacheEntry {
            body: Some(claimed.clone()),
            body_size: w.len(),
            ..entry
        };
        store.cache_put(cache, &entry, &[]).unwrap();
        let (abandoned, mut w) = store.new_cache_body().unwrap();
        w.write_chunks(&[b"abandoned"]).unwrap();
        w.sync().unwrap();
        store.close().unwrap();
        drop(store);
        let store = Store::open_with_bodies(&path, Box::new(swept)).unwrap();
        assert_eq!(store.bodies().cache_bodies().unwrap(), vec![claimed]);
        assert!(store.bodies().read(BodyId::Cache(&abandoned), 0).is_err());

        // The database is the metadata: a data dir that lost it refuses to
        // open while bodies are stored.
        store.close().unwrap();
        drop(store);
        std::fs::remove_file(path.join("swrt.sqlite3")).unwrap();
        let _ = std::fs::remove_file(path.join("swrt.sqlite3-wal"));
        let err = Store::open_with_bodies(&path, Box::new(reopened)).unwrap_err();
        assert!(
            matches!(err, swrt_store::StoreError::DatabaseLost(_)),
            "{err}"
        );
    })
    .await;
}
