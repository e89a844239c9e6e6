//! Creates the service-worker startup snapshot (see
//! `swrt_runtime::snapshot`) with the very swrt_runtime this binary links,
//! so the blob and the ops it refers to come from one build.
//!
//! Only the QuickJS engine boots from it; with the `v8` feature the file is
//! empty and realms are created from source.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let quickjs = std::env::var_os("CARGO_FEATURE_QUICKJS").is_some()
        && std::env::var_os("CARGO_FEATURE_V8").is_none();
    let blob = if quickjs {
        match swrt_runtime::snapshot::create_service_worker_snapshot() {
            Ok(blob) => blob,
            Err(e) => panic!("cannot create the service-worker startup snapshot: {e}"),
        }
    } else {
        Vec::new()
    };
    std::fs::write(out.join("service_worker.snapshot"), blob).expect("write the snapshot");
}
