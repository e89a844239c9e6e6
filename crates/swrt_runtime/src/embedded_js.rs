//! The JavaScript of the deno extensions swrt reuses, embedded at build time
//! (see build.rs): realms never read it from the cargo registry; and
//! [`js_file!`], which embeds swrt's own.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use deno_core::{Extension, ExtensionFileSource, ExtensionFileSourceCode};

/// A feature folder's JavaScript, embedded in the binary (the path is
/// relative to the file that names it). Every swrt script keeps the
/// specifier `ext:swrt/<file>` whatever folder holds it.
macro_rules! js_file {
    ($name:literal) => {
        deno_core::ExtensionFileSource::new(
            concat!("ext:swrt/", $name),
            deno_core::ascii_str_include!($name),
        )
    };
}
pub(crate) use js_file;

include!(concat!(env!("OUT_DIR"), "/embedded_js.rs"));

/// Replaces every file `extension` would load from disk with its embedded
/// text. A file missing from the table stays as it was (and is read from
/// disk, as deno_core would); a test checks none is missing.
pub(crate) fn embed(mut extension: Extension) -> Extension {
    for files in [
        &mut extension.js_files,
        &mut extension.esm_files,
        &mut extension.lazy_loaded_esm_files,
        &mut extension.lazy_loaded_js_files,
    ] {
        if files.iter().any(loaded_from_disk) {
            *files = Cow::Owned(files.iter().map(embedded).collect());
        }
    }
    extension
}

fn loaded_from_disk(file: &ExtensionFileSource) -> bool {
    matches!(
        file.code,
        ExtensionFileSourceCode::LoadedFromFsDuringSnapshot(_)
    )
}

fn embedded(file: &ExtensionFileSource) -> ExtensionFileSource {
    if let ExtensionFileSourceCode::LoadedFromFsDuringSnapshot(path) = file.code {
        if let Some(text) = lookup(path) {
            return ExtensionFileSource::new_computed(file.specifier, text);
        }
        return ExtensionFileSource::loaded_during_snapshot(file.specifier, path);
    }
    match &file.code {
        ExtensionFileSourceCode::Computed(code) => {
            ExtensionFileSource::new_computed(file.specifier, code.clone())
        }
        #[allow(deprecated, reason = "the variant is matched, not built")]
        ExtensionFileSourceCode::IncludedInBinary(code) => {
            ExtensionFileSource::new(file.specifier, *code)
        }
        ExtensionFileSourceCode::LoadedFromMemoryDuringSnapshot(code) => {
            ExtensionFileSource::loaded_from_memory_during_snapshot(file.specifier, *code)
        }
        ExtensionFileSourceCode::LoadedFromFsDuringSnapshot(_) => unreachable!("handled above"),
    }
}

/// The embedded text for a recorded path, shared by every realm (the
/// sources are not all ASCII, so they cannot be static one-byte strings).
fn lookup(path: &str) -> Option<Arc<str>> {
    static BY_PATH: OnceLock<HashMap<&'static str, Arc<str>>> = OnceLock::new();
    BY_PATH
        .get_or_init(|| {
            EMBEDDED_JS
                .iter()
                .map(|(path, text)| (*path, Arc::from(*text)))
                .collect()
        })
        .get(path)
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file the reused extensions (and swrt_indexeddb's) declare is
    /// embedded, so no realm reads JavaScript from the cargo registry or
    /// the source tree.
    #[test]
    fn every_extension_file_is_embedded() {
        let extensions = [
            deno_webidl::deno_webidl::init(),
            deno_web::deno_web::init(
                Arc::new(deno_web::BlobStore::default()),
                None,
                false,
                deno_web::InMemoryBroadcastChannel::default(),
            ),
            deno_fetch::deno_fetch::init(deno_fetch::Options::default()),
            deno_crypto::deno_crypto::init(None),
            swrt_indexeddb::swrt_indexeddb::init(),
        ];
        let mut declared = 0;
        for extension in extensions {
            let extension = embed(extension);
            for file in extension
                .js_files
                .iter()
                .chain(extension.esm_files.iter())
                .chain(extension.lazy_loaded_esm_files.iter())
                .chain(extension.lazy_loaded_js_files.iter())
            {
                declared += 1;
                assert!(
                    !loaded_from_disk(file),
                    "{} ({}) is still read from disk",
                    file.specifier,
                    extension.name
                );
            }
        }
        assert!(declared > 20, "only {declared} files declared");
    }
}
