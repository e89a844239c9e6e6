//! Random ids for the runtime's own JavaScript (WebCrypto itself is
//! deno_crypto's).

use deno_core::op2;

/// A version 4 UUID from the system's random source.
#[op2]
#[string]
pub(crate) fn op_swrt_random_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
