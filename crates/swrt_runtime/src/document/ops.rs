//! Ops behind a page realm's document: HTML parsing and inline modules.

use deno_core::{op2, OpState};

use crate::realm::RealmContext;

use super::parse::{parse_html_document, parse_html_fragment, ParsedNode};
use super::InlineModules;

/// Parses a whole HTML document into nodes in tree order.
#[op2]
#[serde]
pub(crate) fn op_swrt_html_parse(#[string] html: String) -> Vec<ParsedNode> {
    parse_html_document(&html)
}

/// Parses markup as the children of an element named `context` (`innerHTML`).
#[op2]
#[serde]
pub(crate) fn op_swrt_html_parse_fragment(
    #[string] html: String,
    #[string] context: String,
) -> Vec<ParsedNode> {
    parse_html_fragment(&html, &context)
}

/// Records an inline module script's source under `url`, for the `import()`
/// that runs it.
#[op2(fast)]
pub(crate) fn op_swrt_inline_module(
    state: &mut OpState,
    #[string] url: String,
    #[string] source: String,
) {
    let modules = state.borrow::<InlineModules>().clone();
    modules.borrow_mut().insert(url, source);
}

/// A resource of the page (a script, a frame) failed to load.
#[op2(fast)]
pub(crate) fn op_swrt_resource_failed(
    state: &mut OpState,
    #[string] url: String,
    #[string] reason: String,
) {
    let ctx = state.borrow::<RealmContext>();
    ctx.delegate.resource_load_failed(&ctx.url, &url, &reason);
}
