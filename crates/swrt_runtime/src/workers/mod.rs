//! Dedicated and shared workers: their constructors and global scopes.

pub(crate) mod ops;
