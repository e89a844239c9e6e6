//! Properties of reading rows back from a database that was damaged or
//! edited behind the store's back: every read returns rows or an error,
//! never panics, and no body name read back reaches outside the data dir
//! (records name their bodies by fetch and index; a cache entry's stored
//! name is checked).

use crate::sql::{params, Value};
use crate::*;
use proptest::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Columns of `bg_records` and `bg_fetches` that the decoders interpret.
const RECORD_COLUMNS: &[&str] = &[
    "idx",
    "req_headers",
    "req_body_path",
    "req_body_len",
    "status",
    "status_text",
    "resp_headers",
    "resp_type",
    "url_list",
    "complete_length",
    "body_path",
    "bytes_stored",
    "outcome",
];
const FETCH_COLUMNS: &[&str] = &[
    "icons_json",
    "state",
    "result",
    "failure_reason",
    "downloaded",
    "download_total",
    "policy_json",
];

fn new_fetch(uid: &str) -> NewFetch {
    NewFetch {
        unique_id: uid.into(),
        scope: "https://a.test/".into(),
        id: uid.into(),
        origin: "https://a.test".into(),
        title: "t".into(),
        icons: vec![],
        download_total: 0,
        ui_data: None,
        policy_json: "{}".into(),
    }
}

fn request() -> NewRequest {
    NewRequest {
        method: "POST".into(),
        url: "https://a.test/x".into(),
        headers: vec![("x-a".into(), "1".into())],
        mode: crate::RequestMode::Cors,
        credentials: crate::CredentialsMode::SameOrigin,
        body: Some(b"body".to_vec()),
        integrity: String::new(),
    }
}

/// Values a damaged column may hold: text that is almost right, paths
/// that point elsewhere, numbers of any size and sign, NULL, blobs.
fn column_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::Integer),
        any::<f64>().prop_map(Value::Real),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(Value::Blob),
        "[ -~]{0,24}".prop_map(Value::Text),
        "\\[(\\[\"[a-z]{0,3}\",\"[a-z]{0,3}\"\\],?){0,3}\\]?".prop_map(Value::Text),
        "(active|settled|dispatched|done|pending|complete|fetch-error|bad-status|success|failure)"
            .prop_map(Value::Text),
        "(/|\\.\\./|\\./)?([a-z.]{1,6}/){0,3}[a-z.]{0,6}".prop_map(Value::Text),
    ]
}

#[test]
fn damaged_rows_read_as_rows_or_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::test_store::open(dir.path()).unwrap();
    let seq = AtomicU64::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(200));
    let case = (any::<bool>(), any::<prop::sample::Index>(), column_value());
    runner
        .run(&case, |(record, column, value)| {
            let uid = format!("f{}", seq.fetch_add(1, Ordering::Relaxed));
            store.insert_fetch(&new_fetch(&uid), &[request()]).unwrap();
            let (table, key, column) = if record {
                ("bg_records", "fetch_uid", column.get(RECORD_COLUMNS))
            } else {
                ("bg_fetches", "unique_id", column.get(FETCH_COLUMNS))
            };
            let sql = format!("UPDATE {table} SET {column} = ?1 WHERE {key} = ?2");
            // A value that a NOT NULL or type rule refuses is not stored.
            let _ = store.conn().unwrap().execute(&sql, params![value, uid]);
            let _ = store.get_fetch(&uid);
            let _ = store.fetches_in_state(FetchState::Active);
            let _ = store.records(&uid);
            Ok(())
        })
        .unwrap();
}

#[test]
fn deleting_a_cache_never_deletes_a_file_outside_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("keep.txt");
    std::fs::write(&victim, b"keep").unwrap();
    let store = crate::test_store::open(dir.path()).unwrap();
    let cache = store.cache_open("https://a.test", "c").unwrap();
    let entry = NewCacheEntry {
        url: "https://a.test/x".into(),
        method: "GET".into(),
        status: 200,
        response_type: "basic".into(),
        ..NewCacheEntry::default()
    };
    store.cache_put(cache, &entry, &[]).unwrap();
    for path in [
        victim.to_string_lossy().into_owned(),
        format!(
            "../{}/keep.txt",
            outside.path().file_name().unwrap().to_string_lossy()
        ),
    ] {
        store
            .conn()
            .unwrap()
            .execute("UPDATE cache_entries SET body_path = ?1", params![path])
            .unwrap();
        assert!(
            store.cache_candidates(cache, None).is_err(),
            "{path} is refused as corrupt"
        );
    }
    store.cache_delete("https://a.test", "c").unwrap();
    assert!(victim.exists(), "a file outside the data dir was deleted");
}
