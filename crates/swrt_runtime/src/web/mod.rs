//! Platform glue shared by every realm: the deno extensions swrt reuses,
//! the console, crypto, the realm's command loop and Content Security Policy.

pub(crate) mod console;
pub(crate) mod crypto;
pub(crate) mod realm;
