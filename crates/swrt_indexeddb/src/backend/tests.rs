use super::*;
use crate::key::Key;

const ORIGIN: &str = "https://a.test";

fn k(n: f64) -> Vec<u8> {
    Key::Number(n).encode()
}

fn s(text: &str) -> Vec<u8> {
    Key::string(text).encode()
}

/// Opens `name` at version 1 with one object store (id returned) and
/// an index on it, committed.
async fn setup(backend: &Backend, name: &str, unique: bool) -> (Arc<Database>, u64, u64, u64) {
    let (tx, rx) = mpsc::unbounded_channel();
    // The connection listens for versionchange as long as the test runs.
    std::mem::forget(rx);
    let (db, step) = backend.open(ORIGIN, name, Some(1), tx).await.unwrap();
    let OpenStep::Upgrade { conn, blocked, .. } = step else {
        panic!("a new database needs an upgrade");
    };
    assert!(!blocked);
    let (txn, meta) = backend.upgrade(conn).await.unwrap();
    assert_eq!(meta.version, 1);
    let store = backend
        .create_store(&db, txn, "s", serde_json::Value::Null, true)
        .unwrap();
    let index = backend
        .create_index(&db, txn, store, "i", serde_json::json!("x"), unique, false)
        .unwrap();
    backend.commit(&db, txn).await.unwrap();
    (db, conn, store, index)
}

fn put(
    backend: &Backend,
    db: &Database,
    txn: u64,
    store: u64,
    index: u64,
    key: f64,
    tag: &str,
) -> Result<()> {
    backend.put(
        db,
        txn,
        store,
        k(key),
        tag.as_bytes().to_vec(),
        vec![(index, vec![s(tag)])],
        false,
    )
}

fn keys(found: &[Found]) -> Vec<Key> {
    found
        .iter()
        .map(|f| Key::decode(&f.primary_key).unwrap())
        .collect()
}

#[tokio::test]
async fn overlapping_writers_serialise_and_readers_share() {
    let backend = Backend::new(u64::MAX);
    let (db, conn, store, _) = setup(&backend, "sched", false).await;
    let w1 = backend
        .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
        .unwrap();
    let r1 = backend
        .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
        .unwrap();
    let w2 = backend
        .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, w1));
    assert!(
        !backend.try_start(&db, r1),
        "a reader waits for an earlier overlapping writer"
    );
    assert!(!backend.try_start(&db, w2));
    backend.commit(&db, w1).await.unwrap();
    assert!(backend.try_start(&db, r1));
    assert!(
        !backend.try_start(&db, w2),
        "a writer waits for an earlier reader"
    );
    let r2 = backend
        .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
        .unwrap();
    assert!(
        !backend.try_start(&db, r2),
        "and later readers wait for that writer"
    );
    let waiting = {
        let backend = backend.clone();
        let db = db.clone();
        tokio::spawn(async move { backend.start(&db, w2).await })
    };
    backend.commit(&db, r1).await.unwrap();
    waiting.await.unwrap();
    backend.abort(&db, w2);
    assert!(backend.try_start(&db, r2));
}

#[tokio::test]
async fn abort_undoes_puts_deletes_clears_and_key_generation() {
    let backend = Backend::new(u64::MAX);
    let (db, conn, store, index) = setup(&backend, "undo", false).await;
    let t1 = backend
        .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, t1));
    assert_eq!(backend.generate_key(&db, t1, store).unwrap(), 1.0);
    put(&backend, &db, t1, store, index, 1.0, "a").unwrap();
    put(&backend, &db, t1, store, index, 2.0, "b").unwrap();
    backend.commit(&db, t1).await.unwrap();

    let t2 = backend
        .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, t2));
    put(&backend, &db, t2, store, index, 1.0, "changed").unwrap();
    backend
        .delete(
            &db,
            t2,
            store,
            &KeyRange {
                lower: Some(k(2.0)),
                upper: Some(k(2.0)),
                ..Default::default()
            },
        )
        .unwrap();
    backend.clear(&db, t2, store).unwrap();
    put(&backend, &db, t2, store, index, 50.0, "z").unwrap();
    assert_eq!(backend.generate_key(&db, t2, store).unwrap(), 51.0);
    backend.abort(&db, t2);

    let t3 = backend
        .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, t3));
    let all = backend
        .get_all(
            &db,
            t3,
            store,
            None,
            &KeyRange::default(),
            0,
            Direction::Next,
        )
        .unwrap();
    assert_eq!(keys(&all), vec![Key::Number(1.0), Key::Number(2.0)]);
    assert_eq!(&*all[0].value, b"a");
    let by_index = backend
        .get_all(
            &db,
            t3,
            store,
            Some(index),
            &KeyRange::default(),
            0,
            Direction::Next,
        )
        .unwrap();
    assert_eq!(
        keys(&by_index),
        vec![Key::Number(1.0), Key::Number(2.0)],
        "index entries restored"
    );
    assert!(backend.generate_key(&db, t3, store).is_err(), "readonly");
    backend.abort(&db, t3);
    let t4 = backend
        .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, t4));
    assert_eq!(
        backend.generate_key(&db, t4, store).unwrap(),
        3.0,
        "the generator was rolled back"
    );
}

#[tokio::test]
async fn a_unique_index_refuses_a_second_record_with_its_key() {
    let backend = Backend::new(u64::MAX);
    let (db, conn, store, index) = setup(&backend, "unique", true).await;
    let t = backend
        .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, t));
    put(&backend, &db, t, store, index, 1.0, "a").unwrap();
    let err = put(&backend, &db, t, store, index, 2.0, "a").unwrap_err();
    assert!(matches!(err, IdbError::Constraint(_)), "{err}");
    put(&backend, &db, t, store, index, 1.0, "a").unwrap();
    let err = backend
        .put(&db, t, store, k(1.0), vec![], vec![], true)
        .unwrap_err();
    assert!(
        matches!(err, IdbError::Constraint(_)),
        "add() of an existing key: {err}"
    );
}

#[tokio::test]
async fn index_cursors_walk_every_direction() {
    let backend = Backend::new(u64::MAX);
    let (db, conn, store, index) = setup(&backend, "cursor", false).await;
    let t = backend
        .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, t));
    for (key, tag) in [(1.0, "a"), (2.0, "b"), (3.0, "a"), (4.0, "c"), (5.0, "b")] {
        put(&backend, &db, t, store, index, key, tag).unwrap();
    }
    let walk = |direction| {
        let found = backend
            .get_all(
                &db,
                t,
                store,
                Some(index),
                &KeyRange::default(),
                0,
                direction,
            )
            .unwrap();
        keys(&found)
            .into_iter()
            .map(|k| match k {
                Key::Number(n) => n as u32,
                _ => unreachable!(),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(walk(Direction::Next), [1, 3, 2, 5, 4]);
    assert_eq!(walk(Direction::Prev), [4, 5, 2, 3, 1]);
    assert_eq!(walk(Direction::NextUnique), [1, 2, 4]);
    assert_eq!(walk(Direction::PrevUnique), [4, 2, 1]);
    let range = KeyRange {
        lower: Some(s("a")),
        upper: Some(s("b")),
        lower_open: true,
        upper_open: false,
    };
    assert_eq!(
        backend.count(&db, t, store, Some(index), &range).unwrap(),
        2
    );
    let step = CursorStep {
        position: Some((s("a"), k(1.0))),
        target_key: Some(s("b")),
        target_primary_key: Some(k(5.0)),
        count: 1,
    };
    let found = backend
        .cursor_step(
            &db,
            t,
            store,
            Some(index),
            &KeyRange::default(),
            Direction::Next,
            &step,
        )
        .unwrap()
        .unwrap();
    assert_eq!(Key::decode(&found.primary_key).unwrap(), Key::Number(5.0));
}

#[tokio::test]
async fn committed_data_is_loaded_by_the_next_process() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store_handle = Arc::new(Store::open(dir.path()).unwrap());
        let backend = Backend::new(u64::MAX);
        backend.attach_store(store_handle.clone());
        let (db, conn, store, index) = setup(&backend, "durable", false).await;
        // A relaxed commit is written too: it survives the process.
        let t = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Relaxed)
            .unwrap();
        assert!(backend.try_start(&db, t));
        put(&backend, &db, t, store, index, 7.0, "seven").unwrap();
        backend.commit(&db, t).await.unwrap();
        // Not committed: must not be on disk.
        let t = backend
            .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
            .unwrap();
        assert!(backend.try_start(&db, t));
        put(&backend, &db, t, store, index, 8.0, "eight").unwrap();
        assert!(
            store_handle.origin_usage(ORIGIN).unwrap() > 0,
            "usage counted"
        );
        store_handle.close().unwrap();
    }
    let backend = Backend::new(u64::MAX);
    backend.attach_store(Arc::new(Store::open(dir.path()).unwrap()));
    assert_eq!(
        backend.databases(ORIGIN).await.unwrap(),
        vec![("durable".to_owned(), 1)]
    );
    let (tx, _rx) = mpsc::unbounded_channel();
    let (db, step) = backend.open(ORIGIN, "durable", None, tx).await.unwrap();
    let OpenStep::Opened { conn, meta } = step else {
        panic!("no upgrade for an existing database");
    };
    let store = meta.stores[0].id;
    let index = meta.stores[0].indexes[0].id;
    let t = backend
        .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, t));
    let all = backend
        .get_all(
            &db,
            t,
            store,
            Some(index),
            &KeyRange::default(),
            0,
            Direction::Next,
        )
        .unwrap();
    assert_eq!(keys(&all), vec![Key::Number(7.0)]);
    assert_eq!(&*all[0].value, b"seven");
    assert_eq!(backend.databases("https://b.test").await.unwrap(), vec![]);
    backend.commit(&db, t).await.unwrap();
    backend.close(&db, conn);
    assert!(!lock(&db).loaded, "a database nobody uses leaves memory");
    let (tx, _rx) = mpsc::unbounded_channel();
    let (_, step) = backend.open(ORIGIN, "durable", None, tx).await.unwrap();
    let OpenStep::Opened { meta, .. } = step else {
        panic!("no upgrade for an existing database");
    };
    assert_eq!(meta.version, 1, "and is loaded again from the store");
}

#[tokio::test]
async fn a_commit_over_quota_aborts_and_leaves_the_data_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::new(200);
    backend.attach_store(Arc::new(Store::open(dir.path()).unwrap()));
    let (db, conn, store, index) = setup(&backend, "quota", false).await;
    let t = backend
        .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, t));
    backend
        .put(
            &db,
            t,
            store,
            k(1.0),
            vec![0; 500],
            vec![(index, vec![s("a")])],
            false,
        )
        .unwrap();
    let err = backend.commit(&db, t).await.unwrap_err();
    assert!(matches!(err, IdbError::QuotaExceeded(_)), "{err}");
    let t = backend
        .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, t));
    assert_eq!(
        backend
            .count(&db, t, store, None, &KeyRange::default())
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn an_upgrade_waits_until_other_connections_close() {
    let backend = Backend::new(u64::MAX);
    let (db, conn, _, _) = setup(&backend, "versions", false).await;
    let (tx, _rx) = mpsc::unbounded_channel();
    let opening = {
        let backend = backend.clone();
        tokio::spawn(async move { backend.open(ORIGIN, "versions", Some(2), tx).await })
    };
    // The first connection is sent versionchange; it handles it and stays open.
    tokio::task::yield_now().await;
    loop {
        if lock(&db).conns.get(&conn).is_some_and(|c| c.unacked > 0) {
            break;
        }
        tokio::task::yield_now().await;
    }
    backend.versionchange_handled(&db, conn);
    let (_, step) = opening.await.unwrap().unwrap();
    let OpenStep::Upgrade {
        conn: new_conn,
        old_version,
        blocked,
    } = step
    else {
        panic!("version 2 needs an upgrade");
    };
    assert_eq!(old_version, 1);
    assert!(blocked, "the first connection is still open");
    let upgrading = {
        let backend = backend.clone();
        tokio::spawn(async move { backend.upgrade(new_conn).await })
    };
    tokio::task::yield_now().await;
    assert!(!upgrading.is_finished());
    backend.close(&db, conn);
    let (_, meta) = upgrading.await.unwrap().unwrap();
    assert_eq!(meta.version, 2);
}

#[tokio::test]
async fn clearing_an_origin_closes_its_connections_and_deletes_its_databases() {
    let dir = tempfile::tempdir().unwrap();
    let store_handle = Arc::new(Store::open(dir.path()).unwrap());
    let backend = Backend::new(u64::MAX);
    backend.attach_store(store_handle.clone());
    // One database with a committed record and a connection in the
    // middle of a write; another origin's database must stay.
    let (events, mut received) = mpsc::unbounded_channel();
    let (db, step) = backend
        .open(ORIGIN, "cleared", Some(1), events)
        .await
        .unwrap();
    let OpenStep::Upgrade { conn, .. } = step else {
        panic!("a new database needs an upgrade");
    };
    let (txn, _) = backend.upgrade(conn).await.unwrap();
    let store = backend
        .create_store(&db, txn, "s", serde_json::Value::Null, false)
        .unwrap();
    backend.commit(&db, txn).await.unwrap();
    let t = backend
        .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, t));
    backend
        .put(&db, t, store, k(1.0), b"one".to_vec(), vec![], false)
        .unwrap();
    backend.commit(&db, t).await.unwrap();
    let writing = backend
        .create_transaction(&db, conn, &[store], Mode::Readwrite, Durability::Strict)
        .unwrap();
    assert!(backend.try_start(&db, writing));
    backend
        .put(&db, writing, store, k(2.0), b"two".to_vec(), vec![], false)
        .unwrap();
    let (other_events, _other_rx) = mpsc::unbounded_channel();
    let (other, step) = backend
        .open("https://b.test", "kept", Some(1), other_events)
        .await
        .unwrap();
    let OpenStep::Upgrade {
        conn: other_conn, ..
    } = step
    else {
        panic!("a new database needs an upgrade");
    };
    let (other_txn, _) = backend.upgrade(other_conn).await.unwrap();
    backend.commit(&other, other_txn).await.unwrap();
    assert!(store_handle.origin_usage(ORIGIN).unwrap() > 0);

    assert_eq!(backend.clear_origin(ORIGIN).await.unwrap(), 1);

    let event = received.try_recv().expect("the connection is told");
    assert!(event.forced_close, "{event:?}");
    assert!(
        backend
            .create_transaction(&db, conn, &[store], Mode::Readonly, Durability::Strict)
            .is_err(),
        "the connection is closed"
    );
    // The write in flight was aborted: its commit finds no transaction.
    assert!(backend.commit(&db, writing).await.is_err());
    assert_eq!(backend.databases(ORIGIN).await.unwrap(), vec![]);
    assert!(store_handle.idb_databases(ORIGIN).unwrap().is_empty());
    assert_eq!(store_handle.origin_usage(ORIGIN).unwrap(), 0);
    assert_eq!(
        backend.databases("https://b.test").await.unwrap(),
        vec![("kept".to_owned(), 1)]
    );
    // A new open starts from nothing.
    let (events, _rx) = mpsc::unbounded_channel();
    let (_, step) = backend.open(ORIGIN, "cleared", None, events).await.unwrap();
    assert!(matches!(step, OpenStep::Upgrade { old_version: 0, .. }));
}
