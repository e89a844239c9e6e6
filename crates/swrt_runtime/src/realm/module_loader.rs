//! Loads ES modules for page realms (`import` in a client script) through the
//! same [`ScriptLoader`] that serves worker scripts.

use deno_core::{
    resolve_import, ModuleLoadOptions, ModuleLoadReferrer, ModuleLoadResponse, ModuleLoader,
    ModuleResolveResponse, ModuleSource, ModuleSourceCode, ModuleSpecifier, ModuleType,
    ResolutionKind,
};
use deno_error::JsErrorBox;

use crate::loader::ScriptLoader;

pub(crate) struct RealmModuleLoader {
    pub loader: ScriptLoader,
}

impl ModuleLoader for RealmModuleLoader {
    fn resolve(
        &self,
        specifier: &str,
        referrer: &str,
        _kind: ResolutionKind,
    ) -> ModuleResolveResponse {
        resolve_import(specifier, referrer).map_err(JsErrorBox::from_err)
    }

    fn load(
        &self,
        specifier: &ModuleSpecifier,
        _referrer: Option<&ModuleLoadReferrer>,
        _options: ModuleLoadOptions,
    ) -> ModuleLoadResponse {
        let loader = self.loader.clone();
        let specifier = specifier.clone();
        ModuleLoadResponse::Async(Box::pin(async move {
            let script = loader.fetch(&specifier).await.map_err(|e| {
                JsErrorBox::type_error(format!("Failed to load module {specifier}: {e}"))
            })?;
            let code = ModuleSourceCode::String(script.text.into());
            Ok(ModuleSource::new(
                ModuleType::JavaScript,
                code,
                &specifier,
                None,
            ))
        }))
    }
}
