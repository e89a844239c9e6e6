//! Content Security Policy: the `connect-src` check behind
//! `05_content_security_policy.js`.

use deno_core::{op2, OpState};
use url::Url;

use crate::realm::RealmContext;

/// CSP `connect-src` of a page (from a `<meta http-equiv>` its script
/// inserted): does the source list allow a request to `url`?
#[op2]
pub(crate) fn op_swrt_csp_allows(
    state: &mut OpState,
    #[serde] source_list: Vec<String>,
    #[string] url: String,
) -> bool {
    let origin = state.borrow::<RealmContext>().url.clone();
    match Url::parse(&url) {
        Ok(url) => swrt_bgfetch::policy::csp_allows(&source_list, &url, &origin),
        Err(_) => false,
    }
}
