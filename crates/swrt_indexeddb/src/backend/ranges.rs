//! Key ranges over the B-trees of records and index entries, and the
//! cursor's next record in each direction.

use super::*;

/// The first primary key with index key `k`.
pub(super) fn first_entry<'a>(
    entries: &'a BTreeSet<(Vec<u8>, Vec<u8>)>,
    k: &[u8],
) -> Option<&'a [u8]> {
    entries
        .range((k.to_vec(), Vec::new())..)
        .next()
        .filter(|(ik, _)| ik.as_slice() == k)
        .map(|(_, pk)| pk.as_slice())
}

/// The smallest byte string greater than `k`.
pub(super) fn successor(k: &[u8]) -> Vec<u8> {
    let mut s = k.to_vec();
    s.push(0);
    s
}

pub(super) fn key_bounds(range: &KeyRange) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let lower = match &range.lower {
        None => Bound::Unbounded,
        Some(l) if range.lower_open => Bound::Excluded(l.clone()),
        Some(l) => Bound::Included(l.clone()),
    };
    let upper = match &range.upper {
        None => Bound::Unbounded,
        Some(u) if range.upper_open => Bound::Excluded(u.clone()),
        Some(u) => Bound::Included(u.clone()),
    };
    (lower, upper)
}

pub(super) type Entry = (Vec<u8>, Vec<u8>);

/// `range` over index entries (index key, primary key).
pub(super) fn entry_bounds(range: &KeyRange) -> (Bound<Entry>, Bound<Entry>) {
    let lower = match &range.lower {
        None => Bound::Unbounded,
        Some(l) if range.lower_open => Bound::Included((successor(l), Vec::new())),
        Some(l) => Bound::Included((l.clone(), Vec::new())),
    };
    let upper = match &range.upper {
        None => Bound::Unbounded,
        Some(u) if range.upper_open => Bound::Excluded((u.clone(), Vec::new())),
        Some(u) => Bound::Excluded((successor(u), Vec::new())),
    };
    (lower, upper)
}

pub(super) fn tighter_lower<T: Ord>(a: Bound<T>, b: Bound<T>) -> Bound<T> {
    use Bound::*;
    match (a, b) {
        (Unbounded, x) | (x, Unbounded) => x,
        (Included(x), Included(y)) => Included(x.max(y)),
        (Excluded(x), Excluded(y)) => Excluded(x.max(y)),
        (Included(x), Excluded(y)) | (Excluded(y), Included(x)) => {
            if x > y {
                Included(x)
            } else {
                Excluded(y)
            }
        }
    }
}

pub(super) fn tighter_upper<T: Ord>(a: Bound<T>, b: Bound<T>) -> Bound<T> {
    use Bound::*;
    match (a, b) {
        (Unbounded, x) | (x, Unbounded) => x,
        (Included(x), Included(y)) => Included(x.min(y)),
        (Excluded(x), Excluded(y)) => Excluded(x.min(y)),
        (Included(x), Excluded(y)) | (Excluded(y), Included(x)) => {
            if x < y {
                Included(x)
            } else {
                Excluded(y)
            }
        }
    }
}

pub(super) fn empty<T: Ord>(lower: &Bound<T>, upper: &Bound<T>) -> bool {
    use Bound::*;
    match (lower, upper) {
        (Included(l), Included(u)) => l > u,
        (Included(l), Excluded(u)) | (Excluded(l), Included(u)) | (Excluded(l), Excluded(u)) => {
            l >= u
        }
        _ => false,
    }
}

pub(super) fn cursor_find(
    s: &ObjectStore,
    index: Option<u64>,
    range: &KeyRange,
    direction: Direction,
    step: &CursorStep,
) -> Result<Option<Found>> {
    let forward = direction.forward();
    match index {
        None => {
            let (mut lower, mut upper) = key_bounds(range);
            if let Some((k, _)) = &step.position {
                if forward {
                    lower = tighter_lower(lower, Bound::Excluded(k.clone()));
                } else {
                    upper = tighter_upper(upper, Bound::Excluded(k.clone()));
                }
            }
            if let Some(t) = &step.target_key {
                if forward {
                    lower = tighter_lower(lower, Bound::Included(t.clone()));
                } else {
                    upper = tighter_upper(upper, Bound::Included(t.clone()));
                }
            }
            if empty(&lower, &upper) {
                return Ok(None);
            }
            let mut iter = s.records.range::<Vec<u8>, _>((lower, upper));
            let hit = if forward {
                iter.next()
            } else {
                iter.next_back()
            };
            Ok(hit.map(|(k, r)| Found {
                key: k.clone(),
                primary_key: k.clone(),
                value: r.value.clone(),
            }))
        }
        Some(index) => {
            let ix = s.index(index)?;
            let (mut lower, mut upper) = entry_bounds(range);
            if let Some((k, pk)) = &step.position {
                match direction {
                    Direction::Next => {
                        lower = tighter_lower(lower, Bound::Excluded((k.clone(), pk.clone())))
                    }
                    Direction::NextUnique => {
                        lower = tighter_lower(lower, Bound::Included((successor(k), Vec::new())))
                    }
                    Direction::Prev => {
                        upper = tighter_upper(upper, Bound::Excluded((k.clone(), pk.clone())))
                    }
                    Direction::PrevUnique => {
                        upper = tighter_upper(upper, Bound::Excluded((k.clone(), Vec::new())))
                    }
                }
            }
            if let Some(t) = &step.target_key {
                let bound = match (&step.target_primary_key, forward) {
                    (Some(pk), true) => Bound::Included((t.clone(), pk.clone())),
                    (None, true) => Bound::Included((t.clone(), Vec::new())),
                    (Some(pk), false) => Bound::Included((t.clone(), pk.clone())),
                    (None, false) => Bound::Excluded((successor(t), Vec::new())),
                };
                if forward {
                    lower = tighter_lower(lower, bound);
                } else {
                    upper = tighter_upper(upper, bound);
                }
            }
            if empty(&lower, &upper) {
                return Ok(None);
            }
            let mut iter = ix.entries.range((lower.clone(), upper));
            let hit = if forward {
                iter.next()
            } else {
                iter.next_back()
            };
            let Some((k, mut pk)) = hit.map(|(k, pk)| (k, pk)) else {
                return Ok(None);
            };
            if direction == Direction::PrevUnique {
                // The first record of this key (still inside the range).
                let first = ix
                    .entries
                    .range((
                        tighter_lower(lower, Bound::Included((k.clone(), Vec::new()))),
                        Bound::Unbounded,
                    ))
                    .next();
                if let Some((_, first_pk)) = first {
                    pk = first_pk;
                }
            }
            let value = s
                .records
                .get(pk)
                .map(|r| r.value.clone())
                .ok_or_else(|| IdbError::Unknown("an index entry has no record".into()))?;
            let _ = direction.unique();
            Ok(Some(Found {
                key: k.clone(),
                primary_key: pk.clone(),
                value,
            }))
        }
    }
}
