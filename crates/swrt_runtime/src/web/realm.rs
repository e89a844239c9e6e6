//! Ops every realm has: the host command loop, event lifetime reports and
//! uncaught-error reports.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use deno_core::{op2, OpState};
use serde::Deserialize;

use crate::error::ScriptError;
use crate::realm::{EventOutcome, HostCommand, RealmContext};
use crate::sync::Locked;

/// The next command from the host. The JS command loop awaits this forever;
/// `None` means the host dropped the realm.
#[op2]
#[serde]
pub(crate) async fn op_swrt_next_command(state: Rc<RefCell<OpState>>) -> Option<HostCommand> {
    let (commands, shared) = {
        let state = state.borrow();
        let ctx = state.borrow::<RealmContext>();
        (ctx.commands.clone(), ctx.shared.clone())
    };
    let mut commands = commands.borrow_mut().await;
    let command = commands.recv().await;
    // Handling the command is the realm's work now (marked before the queue
    // count drops, so the realm never looks idle in between).
    shared.has_pending_work.store(true, Ordering::Release);
    if command.is_some() {
        shared.queued_commands.fetch_sub(1, Ordering::AcqRel);
    }
    command
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SettleReport {
    /// `completed`, `threw` or `rejected`.
    status: String,
    message: Option<String>,
    stack: Option<String>,
}

/// An event's lifetime ended (ExtendableEvent: no pending promises left), or
/// a registration update was applied.
#[op2]
pub(crate) fn op_swrt_event_settled(
    state: &mut OpState,
    #[number] event_id: u64,
    #[serde] report: SettleReport,
) {
    let ctx = state.borrow::<RealmContext>();
    let Some(reply) = ctx.pending.locked().remove(&event_id) else {
        return;
    };
    let error = || {
        ScriptError::from_js_report(
            report
                .message
                .clone()
                .unwrap_or_else(|| "unknown error".into()),
            report.stack.clone(),
            None,
        )
    };
    let outcome = match report.status.as_str() {
        "threw" => EventOutcome::ListenerThrew(error()),
        "rejected" => EventOutcome::Rejected(error()),
        _ => EventOutcome::Completed,
    };
    let _ = reply.send(outcome);
}

/// Takes a message delivered to this realm out of its mailbox, moving the
/// MessagePorts it transfers into this realm's resource table.
#[op2]
pub(crate) fn op_swrt_take_message(
    state: &mut OpState,
    #[number] message_id: u64,
) -> Option<deno_web::JsMessageData> {
    let message = state
        .borrow::<RealmContext>()
        .shared
        .mailbox
        .locked()
        .remove(&message_id)?;
    let transferables = deno_web::serialize_transferables(state, message.transferables);
    Some(deno_web::JsMessageData {
        data: message.data,
        transferables,
    })
}

/// Takes a FetchEvent's request body out of this realm's mailbox.
#[op2]
#[serde]
pub(crate) fn op_swrt_take_body(
    state: &mut OpState,
    #[number] body_id: u64,
) -> Option<deno_core::ToJsBuffer> {
    let body = state
        .borrow::<RealmContext>()
        .shared
        .bodies
        .locked()
        .remove(&body_id)?;
    Some(body.into())
}

/// Turns what JS serialized for `postMessage` into a message that can cross
/// to another realm's thread (transferred ports leave this realm).
pub(crate) fn outgoing_message(
    state: &mut OpState,
    data: deno_web::JsMessageData,
) -> Result<crate::realm::RealmMessage, deno_web::MessagePortError> {
    let transferables = deno_web::deserialize_js_transferables(state, data.transferables)?;
    Ok(crate::realm::RealmMessage {
        data: data.data,
        transferables,
    })
}

/// An exception no listener handled (HTML "report the exception"), or an
/// unhandled promise rejection. The realm keeps running; the host decides.
#[op2]
pub(crate) fn op_swrt_report_uncaught(
    state: &mut OpState,
    #[string] message: String,
    #[string] stack: Option<String>,
    #[string] location: Option<String>,
) {
    let ctx = state.borrow::<RealmContext>();
    let error = ScriptError::from_js_report(message, stack, location);
    ctx.delegate.uncaught_error(&ctx.url, &error);
    crate::workers::ops::forward_error(state, &error);
}
