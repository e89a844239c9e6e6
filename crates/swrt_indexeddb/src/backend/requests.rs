//! Requests inside a running transaction: schema changes of an upgrade,
//! reads and writes of records and index entries, counts and cursor steps.

use super::*;

impl Backend {
    fn with_txn<T>(
        &self,
        db: &Database,
        txn: u64,
        write: bool,
        f: impl FnOnce(&mut DbData, &mut Txn) -> Result<T>,
    ) -> Result<T> {
        let mut state = lock(db);
        if !state.txns.contains_key(&txn) {
            return Err(finished_error(&state, txn));
        }
        let DbState { data, txns, .. } = &mut *state;
        let t = txns
            .get_mut(&txn)
            .ok_or_else(|| IdbError::InvalidState("The transaction has finished.".into()))?;
        if !t.started {
            return Err(IdbError::InvalidState(
                "The transaction has not started.".into(),
            ));
        }
        if write && t.mode == Mode::Readonly {
            return Err(IdbError::InvalidState(
                "The transaction is read-only.".into(),
            ));
        }
        f(data, t)
    }

    fn schema_change<T>(
        &self,
        db: &Database,
        txn: u64,
        f: impl FnOnce(&mut DbData) -> Result<T>,
    ) -> Result<T> {
        self.with_txn(db, txn, true, |data, t| {
            if t.mode != Mode::Versionchange {
                return Err(IdbError::InvalidState(
                    "Not in a versionchange transaction.".into(),
                ));
            }
            f(data)
        })
    }

    /// `createObjectStore`: returns its id.
    pub fn create_store(
        &self,
        db: &Database,
        txn: u64,
        name: &str,
        key_path: serde_json::Value,
        auto_increment: bool,
    ) -> Result<u64> {
        self.schema_change(db, txn, |data| {
            if data.stores.values().any(|s| s.meta.name == name) {
                return Err(IdbError::Constraint(format!(
                    "An object store named {name:?} already exists."
                )));
            }
            data.next_id += 1;
            let id = data.next_id;
            data.stores.insert(
                id,
                ObjectStore {
                    meta: StoreMeta {
                        id,
                        name: name.to_owned(),
                        key_path,
                        auto_increment,
                        generator: 1.0,
                        indexes: Vec::new(),
                    },
                    records: BTreeMap::new(),
                    indexes: BTreeMap::new(),
                },
            );
            Ok(id)
        })
    }

    /// `deleteObjectStore`.
    pub fn delete_store(&self, db: &Database, txn: u64, store: u64) -> Result<()> {
        self.schema_change(db, txn, |data| {
            data.stores
                .remove(&store)
                .map(|_| ())
                .ok_or_else(|| IdbError::NotFound("No such object store.".into()))
        })
    }

    /// Renames an object store.
    pub fn rename_store(&self, db: &Database, txn: u64, store: u64, name: &str) -> Result<()> {
        self.schema_change(db, txn, |data| {
            if data
                .stores
                .values()
                .any(|s| s.meta.name == name && s.meta.id != store)
            {
                return Err(IdbError::Constraint(format!(
                    "An object store named {name:?} already exists."
                )));
            }
            let s = data.store_mut(store)?;
            s.meta.name = name.to_owned();
            Ok(())
        })
    }

    /// `createIndex`: returns its id. Its entries are added with
    /// [`Backend::add_index_keys`] for each existing record.
    #[allow(
        clippy::too_many_arguments,
        reason = "the IDL operation's arguments plus the transaction"
    )]
    pub fn create_index(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        name: &str,
        key_path: serde_json::Value,
        unique: bool,
        multi_entry: bool,
    ) -> Result<u64> {
        self.schema_change(db, txn, |data| {
            data.next_id += 1;
            let id = data.next_id;
            let s = data.store_mut(store)?;
            if s.indexes.values().any(|i| i.meta.name == name) {
                return Err(IdbError::Constraint(format!(
                    "An index named {name:?} already exists."
                )));
            }
            s.indexes.insert(
                id,
                Index {
                    meta: IndexMeta {
                        id,
                        name: name.to_owned(),
                        key_path,
                        unique,
                        multi_entry,
                    },
                    entries: BTreeSet::new(),
                },
            );
            Ok(id)
        })
    }

    /// Adds a record's keys to a new index (populating it in the upgrade).
    pub fn add_index_keys(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        index: u64,
        primary_key: &[u8],
        keys: Vec<Vec<u8>>,
    ) -> Result<()> {
        self.schema_change(db, txn, |data| {
            let s = data.store_mut(store)?;
            let ix = s.index_mut(index)?;
            if ix.meta.unique {
                for k in &keys {
                    if first_entry(&ix.entries, k).is_some_and(|pk| pk != primary_key) {
                        return Err(IdbError::Constraint(
                            "Existing records violate the new unique index.".into(),
                        ));
                    }
                }
            }
            for k in &keys {
                ix.entries.insert((k.clone(), primary_key.to_vec()));
            }
            let record = s
                .records
                .get_mut(primary_key)
                .ok_or_else(|| IdbError::NotFound("No such record.".into()))?;
            let mut index_keys = record.index_keys.to_vec();
            index_keys.push((index, keys));
            record.index_keys = index_keys.into();
            Ok(())
        })
    }

    /// `deleteIndex`.
    pub fn delete_index(&self, db: &Database, txn: u64, store: u64, index: u64) -> Result<()> {
        self.schema_change(db, txn, |data| {
            let s = data.store_mut(store)?;
            s.indexes
                .remove(&index)
                .ok_or_else(|| IdbError::NotFound("No such index.".into()))?;
            for record in s.records.values_mut() {
                if record.index_keys.iter().any(|(id, _)| *id == index) {
                    let kept: Vec<_> = record
                        .index_keys
                        .iter()
                        .filter(|(id, _)| *id != index)
                        .cloned()
                        .collect();
                    record.index_keys = kept.into();
                }
            }
            Ok(())
        })
    }

    /// Renames an index.
    pub fn rename_index(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        index: u64,
        name: &str,
    ) -> Result<()> {
        self.schema_change(db, txn, |data| {
            let s = data.store_mut(store)?;
            if s.indexes
                .values()
                .any(|i| i.meta.name == name && i.meta.id != index)
            {
                return Err(IdbError::Constraint(format!(
                    "An index named {name:?} already exists."
                )));
            }
            let ix = s.index_mut(index)?;
            ix.meta.name = name.to_owned();
            Ok(())
        })
    }

    /// The key generator's next key for `store`, consumed (the spec's
    /// "generate a key"); a ConstraintError once it passes 2^53.
    pub fn generate_key(&self, db: &Database, txn: u64, store: u64) -> Result<f64> {
        self.with_txn(db, txn, true, |data, t| {
            let s = data.store_mut(store)?;
            let current = s.meta.generator;
            if current > 9007199254740992.0 {
                return Err(IdbError::Constraint(
                    "The key generator is exhausted.".into(),
                ));
            }
            t.undo.push(Undo::Generator {
                store,
                old: current,
            });
            s.meta.generator = current + 1.0;
            Ok(current)
        })
    }

    /// `put` / `add` of a record whose key and index keys script computed.
    #[allow(
        clippy::too_many_arguments,
        reason = "the IDL operation's arguments plus the transaction"
    )]
    pub fn put(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        key: Vec<u8>,
        value: Vec<u8>,
        index_keys: Vec<(u64, Vec<Vec<u8>>)>,
        no_overwrite: bool,
    ) -> Result<()> {
        self.with_txn(db, txn, true, |data, t| {
            let s = data.store_mut(store)?;
            if no_overwrite && s.records.contains_key(&key) {
                return Err(IdbError::Constraint(
                    "A record with this key already exists.".into(),
                ));
            }
            let mut index_keys = index_keys;
            for (id, keys) in index_keys.iter_mut() {
                keys.sort();
                keys.dedup();
                let ix = s.index(*id)?;
                if ix.meta.unique {
                    for k in keys.iter() {
                        if first_entry(&ix.entries, k).is_some_and(|pk| pk != key.as_slice()) {
                            return Err(IdbError::Constraint(format!(
                                "Unable to add: the unique index {:?} has a record with this key.",
                                ix.meta.name
                            )));
                        }
                    }
                }
            }
            if s.meta.auto_increment {
                // An explicit number key moves the generator past it.
                if let Some(n) = key::encoded_number(&key) {
                    let next = (n.floor() + 1.0).min(9007199254740993.0);
                    if next > s.meta.generator {
                        t.undo.push(Undo::Generator {
                            store,
                            old: s.meta.generator,
                        });
                        s.meta.generator = next;
                    }
                }
            }
            let record = Record {
                value: value.into(),
                index_keys: index_keys.into(),
            };
            let old = set_record(s, key.clone(), Some(record));
            t.dirty.insert((store, key.clone()));
            t.undo.push(Undo::Record { store, key, old });
            Ok(())
        })
    }

    /// Deletes the records in `range`.
    pub fn delete(&self, db: &Database, txn: u64, store: u64, range: &KeyRange) -> Result<()> {
        self.with_txn(db, txn, true, |data, t| {
            let s = data.store_mut(store)?;
            let keys: Vec<Vec<u8>> = s
                .records
                .range::<Vec<u8>, _>(key_bounds(range))
                .map(|(k, _)| k.clone())
                .collect();
            for key in keys {
                let old = set_record(s, key.clone(), None);
                t.dirty.insert((store, key.clone()));
                t.undo.push(Undo::Record { store, key, old });
            }
            Ok(())
        })
    }

    /// Removes every record of `store`.
    pub fn clear(&self, db: &Database, txn: u64, store: u64) -> Result<()> {
        self.with_txn(db, txn, true, |data, t| {
            let s = data.store_mut(store)?;
            let records = std::mem::take(&mut s.records);
            let entries = s
                .indexes
                .iter_mut()
                .map(|(id, ix)| (*id, std::mem::take(&mut ix.entries)))
                .collect();
            t.undo.push(Undo::Clear {
                store,
                records,
                entries,
            });
            t.dirty.retain(|(id, _)| *id != store);
            t.cleared.insert(store);
            Ok(())
        })
    }

    /// Up to `limit` records of `store` (or of its index `index`) in
    /// `range`, in `direction` order (0: no limit).
    #[allow(
        clippy::too_many_arguments,
        reason = "the IDL operation's arguments plus the transaction"
    )]
    pub fn get_all(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        index: Option<u64>,
        range: &KeyRange,
        limit: u32,
        direction: Direction,
    ) -> Result<Vec<Found>> {
        self.with_txn(db, txn, false, |data, _| {
            let s = data.store(store)?;
            let limit = if limit == 0 {
                usize::MAX
            } else {
                limit as usize
            };
            let mut out = Vec::new();
            let mut step = CursorStep::default();
            while out.len() < limit {
                let Some(found) = cursor_find(s, index, range, direction, &step)? else {
                    break;
                };
                step.position = Some((found.key.clone(), found.primary_key.clone()));
                out.push(found);
            }
            Ok(out)
        })
    }

    /// The number of records (or index entries) in `range`.
    pub fn count(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        index: Option<u64>,
        range: &KeyRange,
    ) -> Result<u64> {
        self.with_txn(db, txn, false, |data, _| {
            let s = data.store(store)?;
            Ok(match index {
                None => s.records.range::<Vec<u8>, _>(key_bounds(range)).count() as u64,
                Some(index) => {
                    let ix = s.index(index)?;
                    ix.entries.range(entry_bounds(range)).count() as u64
                }
            })
        })
    }

    /// One cursor step: the record after `step.position` in `direction`.
    #[allow(
        clippy::too_many_arguments,
        reason = "the IDL operation's arguments plus the transaction"
    )]
    pub fn cursor_step(
        &self,
        db: &Database,
        txn: u64,
        store: u64,
        index: Option<u64>,
        range: &KeyRange,
        direction: Direction,
        step: &CursorStep,
    ) -> Result<Option<Found>> {
        self.with_txn(db, txn, false, |data, _| {
            let s = data.store(store)?;
            let mut step = step.clone();
            let count = step.count.max(1);
            let mut found = None;
            for _ in 0..count {
                found = cursor_find(s, index, range, direction, &step)?;
                let Some(f) = &found else {
                    return Ok(None);
                };
                step.position = Some((f.key.clone(), f.primary_key.clone()));
                step.target_key = None;
                step.target_primary_key = None;
            }
            Ok(found)
        })
    }
}
