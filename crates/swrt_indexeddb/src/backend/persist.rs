//! Between a database in memory and its rows in the store: the changes a
//! commit writes, and the database a first open loads.

use super::*;

/// Runs a blocking store call off the realm's thread.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> swrt_store::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| IdbError::Unknown(format!("store task failed: {e}")))?
        .map_err(IdbError::from)
}

pub(super) fn encode_changes(
    name: &str,
    data: &DbData,
    t: &Txn,
) -> (IdbDatabaseRow, Vec<IdbChange>) {
    let meta = data.meta();
    let row = IdbDatabaseRow {
        name: name.to_owned(),
        version: data.version,
        meta: serde_json::to_string(&meta).unwrap_or_else(|_| "{}".into()),
    };
    let mut changes = Vec::new();
    let put = |store: u64, key: &Vec<u8>, r: &Record| {
        IdbChange::Put(IdbRecordRow {
            store_id: store as i64,
            key: key.clone(),
            value: r.value.to_vec(),
            index_keys: encode_index_keys(&r.index_keys),
        })
    };
    if let Some(before) = &t.snapshot {
        // An upgrade may create, delete and rename object stores and
        // indexes: write the database whole.
        for id in before.stores.keys().chain(data.stores.keys()) {
            changes.push(IdbChange::ClearStore {
                store_id: *id as i64,
            });
        }
        for (id, s) in &data.stores {
            for (key, r) in &s.records {
                changes.push(put(*id, key, r));
            }
        }
    } else {
        for id in &t.cleared {
            changes.push(IdbChange::ClearStore {
                store_id: *id as i64,
            });
        }
        for (id, key) in &t.dirty {
            match data.stores.get(id).and_then(|s| s.records.get(key)) {
                Some(r) => changes.push(put(*id, key, r)),
                None => changes.push(IdbChange::Delete {
                    store_id: *id as i64,
                    key: key.clone(),
                }),
            }
        }
    }
    (row, changes)
}

pub(super) fn encode_index_keys(keys: &[(u64, Vec<Vec<u8>>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (id, list) in keys {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for k in list {
            out.extend_from_slice(&(k.len() as u32).to_le_bytes());
            out.extend_from_slice(k);
        }
    }
    out
}

pub(super) fn decode_index_keys(mut bytes: &[u8]) -> Option<Vec<(u64, Vec<Vec<u8>>)>> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if bytes.len() < n {
            return None;
        }
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        Some(head)
    }
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let id = u64::from_le_bytes(take(&mut bytes, 8)?.try_into().ok()?);
        let count = u32::from_le_bytes(take(&mut bytes, 4)?.try_into().ok()?);
        let mut list = Vec::new();
        for _ in 0..count {
            let len = u32::from_le_bytes(take(&mut bytes, 4)?.try_into().ok()?) as usize;
            list.push(take(&mut bytes, len)?.to_vec());
        }
        out.push((id, list));
    }
    Some(out)
}

pub(super) fn decode_database(row: &IdbDatabaseRow, records: Vec<IdbRecordRow>) -> Result<DbData> {
    let meta: DbMeta = serde_json::from_str(&row.meta)
        .map_err(|e| IdbError::Unknown(format!("stored database schema is unreadable: {e}")))?;
    let mut data = DbData {
        version: row.version,
        next_id: meta.next_id,
        stores: BTreeMap::new(),
    };
    for mut s in meta.stores {
        let indexes = std::mem::take(&mut s.indexes)
            .into_iter()
            .map(|m| {
                (
                    m.id,
                    Index {
                        meta: m,
                        entries: BTreeSet::new(),
                    },
                )
            })
            .collect();
        data.stores.insert(
            s.id,
            ObjectStore {
                meta: s,
                records: BTreeMap::new(),
                indexes,
            },
        );
    }
    for r in records {
        let Some(store) = data.stores.get_mut(&(r.store_id as u64)) else {
            tracing::warn!(
                store = r.store_id,
                "IndexedDB record of an unknown object store skipped"
            );
            continue;
        };
        let index_keys = decode_index_keys(&r.index_keys)
            .ok_or_else(|| IdbError::Unknown("stored index keys are unreadable".into()))?;
        let record = Record {
            value: r.value.into(),
            index_keys: index_keys.into(),
        };
        set_record(store, r.key, Some(record));
    }
    Ok(data)
}
