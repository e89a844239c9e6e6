//! How the runtime takes its locks: one way everywhere.
//!
//! Host and realm state shared between threads sits behind `std` mutexes,
//! held for a few statements and never across an `.await` (the few locks
//! held across one are tokio mutexes, by type). A panic on one thread while
//! it holds such a lock must not take every other thread down with it: the
//! state behind these locks is updated in single steps, so it is consistent
//! even when the holder panicked, and a poisoned lock is used as it is.

use std::sync::{Mutex, MutexGuard};

/// Locks a `std` mutex, recovering it if a panicking thread poisoned it.
pub(crate) trait Locked<T> {
    /// The guard; never fails.
    fn locked(&self) -> MutexGuard<'_, T>;
}

impl<T> Locked<T> for Mutex<T> {
    fn locked(&self) -> MutexGuard<'_, T> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_poisoned_by_a_panic_is_still_usable() {
        let shared = std::sync::Arc::new(Mutex::new(1));
        let poisoner = shared.clone();
        let _ = std::thread::spawn(move || {
            let _guard = poisoner.locked();
            panic!("poison the lock");
        })
        .join();
        assert!(shared.is_poisoned());
        *shared.locked() += 1;
        assert_eq!(*shared.locked(), 2);
    }
}
