//! Loads ES modules for realms through the same [`ScriptLoader`] that serves
//! worker scripts: `import` in a page's script, and the static imports of a
//! module service worker.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use deno_core::{
    resolve_import, ModuleLoadOptions, ModuleLoadReferrer, ModuleLoadResponse, ModuleLoader,
    ModuleResolveResponse, ModuleSource, ModuleSourceCode, ModuleSpecifier, ModuleType,
    ResolutionKind,
};
use deno_error::JsErrorBox;

use super::ImportedScripts;
use crate::document::InlineModules;
use crate::loader::ScriptLoader;
use crate::sync::Locked;

/// The loader of a realm. An engine can be created before it is known which
/// worker it will run (a prewarmed realm), so what it loads from is bound
/// once, when the realm gets its worker.
#[derive(Default)]
pub(crate) struct RealmModuleLoader {
    pub binding: std::rc::Rc<std::cell::OnceCell<ModuleBinding>>,
}

/// Where a realm's modules come from.
pub(crate) struct ModuleBinding {
    pub loader: ScriptLoader,
    /// A service worker's script resource map: set for worker realms, whose
    /// imports are recorded while the worker installs and answered from the
    /// map afterwards (Service Workers, "script resource map").
    pub worker_imports: Option<Arc<ImportedScripts>>,
    /// A document's inline module scripts, by the URL the document gave them.
    pub inline_modules: InlineModules,
}

impl RealmModuleLoader {
    fn bound(&self) -> Result<&ModuleBinding, JsErrorBox> {
        self.binding
            .get()
            .ok_or_else(|| JsErrorBox::generic("the realm has no worker or page yet"))
    }
}

impl ModuleLoader for RealmModuleLoader {
    fn resolve(
        &self,
        specifier: &str,
        referrer: &str,
        kind: ResolutionKind,
    ) -> ModuleResolveResponse {
        // HTML, HostLoadImportedModule: import() is disallowed on a
        // ServiceWorkerGlobalScope (a worker's code must be known when it
        // installs).
        if self.bound()?.worker_imports.is_some() && matches!(kind, ResolutionKind::DynamicImport) {
            return Err(JsErrorBox::type_error(format!(
                "import() is disallowed on ServiceWorkerGlobalScope (importing '{specifier}')"
            )));
        }
        resolve_import(specifier, referrer).map_err(JsErrorBox::from_err)
    }

    fn load(
        &self,
        specifier: &ModuleSpecifier,
        _referrer: Option<&ModuleLoadReferrer>,
        _options: ModuleLoadOptions,
    ) -> ModuleLoadResponse {
        let binding = match self.bound() {
            Ok(binding) => binding,
            Err(e) => return ModuleLoadResponse::Sync(Err(e)),
        };
        let loader = binding.loader.clone();
        let specifier = specifier.clone();
        let imports = binding.worker_imports.clone();
        let inline = binding.inline_modules.clone();
        ModuleLoadResponse::Async(Box::pin(async move {
            let key = specifier.to_string();
            let recorded = imports
                .as_ref()
                .and_then(|map| map.scripts.locked().get(&key).cloned())
                .or_else(|| inline.borrow().get(&key).cloned());
            let text = match recorded {
                Some(text) => text,
                None => {
                    if imports
                        .as_ref()
                        .is_some_and(|map| map.install_finished.load(Ordering::Acquire))
                    {
                        return Err(JsErrorBox::type_error(format!(
                            "Failed to load module {specifier}: it was not imported while the worker installed"
                        )));
                    }
                    // A service worker's module graph: the registration's
                    // updateViaCache decides whether the fetch may use the
                    // HTTP cache, as for importScripts().
                    let cache_mode = if imports
                        .as_ref()
                        .is_some_and(|map| map.bypass_http_cache.load(Ordering::Acquire))
                    {
                        crate::loader::ScriptCacheMode::NoCache
                    } else {
                        crate::loader::ScriptCacheMode::Default
                    };
                    let fetched = loader.fetch_with_cache_mode(&specifier, cache_mode).await;
                    let script = fetched.map_err(|e| {
                        JsErrorBox::type_error(format!("Failed to load module {specifier}: {e}"))
                    })?;
                    if let Some(map) = &imports {
                        map.scripts.locked().insert(key, script.text.clone());
                    }
                    script.text
                }
            };
            Ok(ModuleSource::new(
                ModuleType::JavaScript,
                ModuleSourceCode::String(text.into()),
                &specifier,
                None,
            ))
        }))
    }
}
