//! `console.*` output: formatted in JS by deno_web's Console, printed by the host.

use deno_core::{op2, OpState};

use crate::delegate::ConsoleLevel;
use crate::realm::RealmContext;

/// One formatted console call. deno_web's Console appends a newline; the
/// host prints each call as exactly one line, so it is stripped here.
#[op2(fast)]
pub(crate) fn op_swrt_console(state: &mut OpState, #[smi] level: u32, #[string] message: &str) {
    let ctx = state.borrow::<RealmContext>();
    let message = message.strip_suffix('\n').unwrap_or(message);
    ctx.delegate
        .console(&ctx.url, ConsoleLevel::from_deno(level), message);
}
