//! `crypto.getRandomValues()` and `crypto.randomUUID()`.

use deno_core::op2;
use deno_error::JsErrorBox;

/// Fills an integer typed array with cryptographically strong random bytes.
/// WebCrypto caps a single request at 65536 bytes (QuotaExceededError in JS).
#[op2(fast)]
pub(crate) fn op_swrt_random_values(#[buffer] buf: &mut [u8]) -> Result<(), JsErrorBox> {
    getrandom::fill(buf).map_err(|e| JsErrorBox::generic(format!("no system randomness: {e}")))
}

/// A version 4 UUID from the system's random source.
#[op2]
#[string]
pub(crate) fn op_swrt_random_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
