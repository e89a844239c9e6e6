//! Nested browsing contexts (iframes) of a page: each same-origin frame is
//! a JavaScript realm of its own (its own global object and built-ins) in
//! the page's isolate, so the parent reaches its globals synchronously
//! (`frame.contentWindow.fetch`) as HTML specifies. The page's JavaScript
//! sets up each frame's Window; these ops create the realm and run classic
//! scripts in it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use deno_core::{op2, v8, OpState};
use tokio::sync::oneshot;

use crate::realm::OpenedFrame;
use crate::realm::{HostRequest, RealmContext};

/// deno_core's embedder-data slots of a realm: its context state and module
/// map (`deno_core::JsRealm`'s CONTEXT_STATE_SLOT_INDEX and
/// MODULE_MAP_SLOT_INDEX, which deno_core does not export).
const FRAME_SHARED_SLOTS: [i32; 2] = [1, 2];

/// The realms of a page's frames, by id.
#[derive(Default)]
pub(crate) struct FrameRealms {
    next_id: u32,
    contexts: HashMap<u32, v8::Global<v8::Context>>,
}

/// Creates a realm for a frame; returns `[id, global]`.
#[op2]
pub(crate) fn op_swrt_frame_create<'s, 'i>(
    scope: &mut v8::PinScope<'s, 'i>,
    state: Rc<RefCell<OpState>>,
) -> v8::Local<'s, v8::Value> {
    let page = scope.get_current_context();
    let context = v8::Context::new(scope, Default::default());
    // Ops called while a frame's script runs find the engine's per-realm
    // state through the current context's embedder data (deno_core's
    // context-state and module-map slots): the frame shares the page's, as
    // it shares its ops and event loop.
    for slot in FRAME_SHARED_SLOTS {
        // SAFETY: the page context's slots hold pointers deno_core set at
        // start-up and keeps alive for the runtime's lifetime, which the
        // frame context cannot outlive (it belongs to the same isolate and
        // is dropped with the OpState).
        unsafe {
            let pointer = page.get_aligned_pointer_from_embedder_data(slot);
            context.set_aligned_pointer_in_embedder_data(slot, pointer);
        }
    }
    let global = context.global(scope);
    let id = {
        let mut state = state.borrow_mut();
        let frames = state.borrow_mut::<FrameRealms>();
        frames.next_id += 1;
        let id = frames.next_id;
        frames.contexts.insert(id, v8::Global::new(scope, context));
        id
    };
    let id = v8::Integer::new_from_unsigned(scope, id);
    let out = v8::Array::new(scope, 2);
    out.set_index(scope, 0, id.into());
    out.set_index(scope, 1, global.into());
    out.into()
}

/// Forgets a removed frame's realm (its objects live on while referenced).
#[op2(fast)]
pub(crate) fn op_swrt_frame_destroy(state: &mut OpState, id: u32) {
    state.borrow_mut::<FrameRealms>().contexts.remove(&id);
}

/// Runs a classic script in frame `id`'s realm (HTML "run a classic
/// script"). Returns `[result, null]`, or `[null, exception]` when it threw
/// or did not compile.
#[op2(reentrant)]
pub(crate) fn op_swrt_frame_eval<'s, 'i>(
    scope: &mut v8::PinScope<'s, 'i>,
    state: Rc<RefCell<OpState>>,
    id: u32,
    source: v8::Local<'s, v8::Value>,
    #[string] url: String,
) -> v8::Local<'s, v8::Value> {
    let out = v8::Array::new(scope, 2);
    let null = v8::null(scope);
    // The OpState borrow ends here: the script may call ops.
    let context = state
        .borrow()
        .borrow::<FrameRealms>()
        .contexts
        .get(&id)
        .cloned();
    let Some(context) = context else {
        out.set_index(scope, 0, null.into());
        out.set_index(scope, 1, null.into());
        return out.into();
    };
    let result = {
        let context = v8::Local::new(scope, &context);
        let scope = &mut v8::ContextScope::new(scope, context);
        v8::tc_scope!(let tc, scope);
        let ran = v8::Local::<v8::String>::try_from(source)
            .ok()
            .and_then(|source| {
                let name = v8::String::new(tc, &url).unwrap();
                let origin = v8::ScriptOrigin::new(
                    tc,
                    name.into(),
                    0,
                    0,
                    false,
                    0,
                    None,
                    false,
                    false,
                    false,
                    None,
                );
                v8::Script::compile(tc, source, Some(&origin))
            })
            .and_then(|script| script.run(tc));
        match ran {
            Some(value) => Ok(v8::Global::new(tc, value)),
            None => Err(tc.exception().map(|e| v8::Global::new(tc, e))),
        }
    };
    match result {
        Ok(value) => {
            let value = v8::Local::new(scope, value);
            out.set_index(scope, 0, value);
            out.set_index(scope, 1, null.into());
        }
        Err(exception) => {
            let exception: v8::Local<v8::Value> = match exception {
                Some(e) => v8::Local::new(scope, e),
                None => v8::String::new(scope, "the script could not run")
                    .unwrap()
                    .into(),
            };
            out.set_index(scope, 0, null.into());
            out.set_index(scope, 1, exception);
        }
    }
    out.into()
}

/// Makes a same-origin frame of client `parent_client_id` a client of its
/// own and fetches its document (through the worker that controls its URL).
#[op2]
#[serde]
pub(crate) async fn op_swrt_frame_open(
    state: Rc<RefCell<OpState>>,
    #[string] parent_client_id: String,
    #[string] url: String,
) -> Result<OpenedFrame, deno_error::JsErrorBox> {
    let url = url::Url::parse(&url)
        .map_err(|_| deno_error::JsErrorBox::type_error(format!("invalid frame URL '{url}'")))?;
    let (reply, answer) = oneshot::channel();
    let _ = state
        .borrow()
        .borrow::<RealmContext>()
        .host_requests
        .send(HostRequest::OpenFrame {
            parent_client_id,
            url,
            reply,
        });
    match answer.await {
        Ok(Ok(frame)) => Ok(frame),
        Ok(Err(reason)) => Err(deno_error::JsErrorBox::type_error(reason.to_string())),
        Err(_) => Err(deno_error::JsErrorBox::type_error("the host has shut down")),
    }
}

/// A frame left its document: its client ends.
#[op2(fast)]
pub(crate) fn op_swrt_frame_close(state: &mut OpState, #[string] client_id: String) {
    let _ = state
        .borrow::<RealmContext>()
        .host_requests
        .send(HostRequest::CloseFrame { client_id });
}

/// Opens a cross-origin frame of client `parent_client_id` in a realm (an
/// isolate) of its own; resolves with the frame's client id. The parent
/// reaches it only through `postMessage` and navigation, as HTML allows.
#[op2]
#[string]
pub(crate) async fn op_swrt_frame_open_remote(
    state: Rc<RefCell<OpState>>,
    #[string] parent_client_id: String,
    #[string] url: String,
) -> Result<String, deno_error::JsErrorBox> {
    let url = url::Url::parse(&url)
        .map_err(|_| deno_error::JsErrorBox::type_error(format!("invalid frame URL '{url}'")))?;
    let (reply, answer) = oneshot::channel();
    let _ =
        state
            .borrow()
            .borrow::<RealmContext>()
            .host_requests
            .send(HostRequest::OpenRemoteFrame {
                parent_client_id,
                url,
                reply,
            });
    match answer.await {
        Ok(Ok(client_id)) => Ok(client_id),
        Ok(Err(reason)) => Err(deno_error::JsErrorBox::type_error(reason.to_string())),
        Err(_) => Err(deno_error::JsErrorBox::type_error("the host has shut down")),
    }
}

/// This page, a cross-origin frame, has loaded: its parent's iframe element
/// fires `load`.
#[op2(fast)]
pub(crate) fn op_swrt_frame_loaded(state: &mut OpState) {
    let frame_client_id = state
        .borrow::<crate::realm::PageContext>()
        .client_id
        .clone();
    let _ = state
        .borrow::<RealmContext>()
        .host_requests
        .send(HostRequest::FrameLoaded { frame_client_id });
}

/// `window.postMessage` to a window in another realm (a cross-origin frame
/// or its parent): `data` is structured-serialized with its transfer list.
#[op2]
pub(crate) fn op_swrt_window_post_message(
    state: &mut OpState,
    #[string] source_client_id: String,
    #[string] target_client_id: String,
    #[serde] data: deno_web::JsMessageData,
    #[string] target_origin: String,
) -> Result<(), deno_web::MessagePortError> {
    let message = crate::web::realm::outgoing_message(state, data)?;
    let _ = state
        .borrow::<RealmContext>()
        .host_requests
        .send(HostRequest::PostToWindow {
            source_client_id,
            target_client_id,
            message,
            target_origin,
        });
    Ok(())
}
