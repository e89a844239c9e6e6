//! A realm's engine: created with its extensions and platform JavaScript
//! (possibly ahead of time, by the prewarm thread), then bound to the one
//! worker or page it runs.

use std::rc::Rc;
use std::sync::Arc;

use deno_core::{v8, AsyncRefCell, JsRuntime, RuntimeOptions};
use tokio::sync::mpsc;

use super::module_loader::RealmModuleLoader;
use super::{HostCommand, RealmContext, RealmKind, RealmShared, RealmSpec};
use crate::error::HostError;

/// The process-wide store that carries transferred ArrayBuffers from one
/// realm to another.
pub(super) fn transferred_buffers() -> &'static deno_core::SharedArrayBufferStore {
    static STORE: std::sync::OnceLock<deno_core::SharedArrayBufferStore> =
        std::sync::OnceLock::new();
    STORE.get_or_init(Default::default)
}

/// What an engine is created with: what the realm kind's extensions need,
/// and nothing that names the worker or page it will run.
pub(crate) struct EngineParams {
    pub kind: EngineKind,
    pub heap_limit_bytes: usize,
}

/// Which global scope the engine's extensions build.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum EngineKind {
    ServiceWorker,
    Page,
    ClientWorker(super::ClientWorkerKind),
}

impl EngineParams {
    pub(crate) fn of(spec: &RealmSpec) -> EngineParams {
        EngineParams {
            kind: match &spec.kind {
                RealmKind::Page(_) => EngineKind::Page,
                RealmKind::Worker(_) => EngineKind::ServiceWorker,
                RealmKind::ClientWorker(worker) => EngineKind::ClientWorker(worker.kind),
            },
            heap_limit_bytes: spec.limits.heap_limit_bytes,
        }
    }
}

/// An engine with its extensions and platform JavaScript loaded, not yet
/// bound to a worker or page: no script has run in it.
pub(crate) struct Engine {
    js: JsRuntime,
    modules: Rc<std::cell::OnceCell<super::module_loader::ModuleBinding>>,
    created_in: std::time::Duration,
    from_snapshot: bool,
}

impl Engine {
    pub(crate) fn new(params: EngineParams) -> Result<Engine, HostError> {
        // Start-up phases are logged with their durations (RUST_LOG=
        // swrt_runtime::realm=debug): where a worker's start goes.
        let started = std::time::Instant::now();
        let create_params = v8::CreateParams::default().heap_limits(0, params.heap_limit_bytes);
        // The location and the BroadcastChannel bus are bound with the
        // realm's worker or page (see `bind_engine`).
        let broadcast = deno_web::InMemoryBroadcastChannel::default();
        let extensions = match params.kind {
            EngineKind::Page => crate::extension::page_extensions(broadcast),
            EngineKind::ServiceWorker => crate::extension::worker_extensions(broadcast),
            EngineKind::ClientWorker(kind) => {
                crate::extension::client_worker_extensions(broadcast, kind)
            }
        };
        let loader = RealmModuleLoader::default();
        let modules = loader.binding.clone();
        let startup_snapshot = match params.kind {
            EngineKind::ServiceWorker => crate::snapshot::service_worker_snapshot(),
            EngineKind::Page | EngineKind::ClientWorker(_) => None,
        };
        let mut js = JsRuntime::try_new(RuntimeOptions {
            extensions,
            startup_snapshot,
            create_params: Some(create_params),
            // ArrayBuffers in a postMessage transfer list move between realms
            // (threads) through this store.
            shared_array_buffer_store: Some(transferred_buffers().clone()),
            module_loader: Some(Rc::new(loader)),
            ..Default::default()
        })
        .map_err(|e| HostError::Engine(e.to_string()))?;
        if startup_snapshot.is_some() {
            crate::snapshot::restore_shapes(&mut js, crate::snapshot::ShapeRepair::GlobalClasses)?;
        }
        Ok(Engine {
            js,
            modules,
            created_in: started.elapsed(),
            from_snapshot: startup_snapshot.is_some(),
        })
    }
}

/// Gives `engine` its worker or page: the module loader, location,
/// BroadcastChannel bus, limits and host links, then runs the global scope's
/// bootstrap.
pub(super) fn bind_engine(
    engine: Engine,
    spec: RealmSpec,
    shared: &Arc<RealmShared>,
    commands: mpsc::UnboundedReceiver<HostCommand>,
) -> Result<JsRuntime, HostError> {
    let started = std::time::Instant::now();
    let Engine {
        mut js,
        modules,
        created_in,
        from_snapshot,
    } = engine;
    let inline_modules = crate::document::InlineModules::default();
    let bound = modules.set(super::module_loader::ModuleBinding {
        loader: spec.loader.clone(),
        worker_imports: match &spec.kind {
            RealmKind::Worker(worker) => Some(worker.imports.clone()),
            RealmKind::Page(_) | RealmKind::ClientWorker(_) => None,
        },
        inline_modules: inline_modules.clone(),
    });
    if bound.is_err() {
        return Err(HostError::Engine("the engine already runs a realm".into()));
    }

    // Terminates this realm only, and raises nothing: script that keeps
    // allocating after its termination was requested (on QuickJS, deno_core
    // cancels a pending termination while it turns an exception into an
    // error) gets out-of-memory errors at the engine's cap instead of a
    // bigger heap.
    let _ = shared
        .isolate_handle
        .set(js.v8_isolate().thread_safe_handle());
    super::heap_limit::install(&mut js, shared, spec.limits.heap_limit_bytes);

    let http = spec
        .resolver
        .apply(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()))
        .build()
        .map_err(|e| HostError::Engine(format!("HTTP client: {e}")))?;
    {
        let op_state = js.op_state();
        let mut op_state = op_state.borrow_mut();
        // deno_web reads these: the origin of blob: URLs, and the bus of
        // the realm's origin.
        op_state.put(deno_web::Location(spec.url.clone()));
        op_state.put(spec.broadcast.clone());
        op_state.put(RealmContext {
            url: spec.url.clone(),
            delegate: spec.delegate.clone(),
            http,
            loader: spec.loader.clone(),
            host_requests: spec.host_requests.clone(),
            commands: Rc::new(AsyncRefCell::new(commands)),
            pending: shared.pending.clone(),
            shared: shared.clone(),
            secure_context: crate::resolver::is_potentially_trustworthy(&spec.url, &spec.resolver),
        });
        op_state.put(inline_modules);
        op_state.put(crate::document::frames::FrameRealms::default());
        if let Some(context) = spec.background_fetch.clone() {
            op_state.put(context);
        }
        if let Some(caches) = spec.caches.clone() {
            op_state.put(caches);
        }
        if let Some(sync) = spec.background_sync.clone() {
            op_state.put(sync);
        }
        let origin = spec.url.origin();
        op_state.put(swrt_indexeddb::IdbRealm::new(
            spec.indexeddb.clone(),
            origin.is_tuple().then(|| origin.ascii_serialization()),
        ));
        match spec.kind {
            RealmKind::Worker(worker) => op_state.put(worker),
            RealmKind::Page(page) => op_state.put(page),
            RealmKind::ClientWorker(worker) => op_state.put(worker),
        }
    }
    // The entry script defined the bootstrap; it reads OpState.
    js.execute_script(
        "ext:swrt/bootstrap",
        "globalThis[Symbol.for('swrt.bootstrap')]();",
    )
    .map_err(|e| HostError::Engine(format!("bootstrap failed: {e}")))?;
    if from_snapshot {
        crate::snapshot::restore_shapes(&mut js, crate::snapshot::ShapeRepair::RustClasses)?;
    }
    let heap = js.v8_isolate().get_heap_statistics();
    tracing::debug!(
        url = %shared.url,
        from_snapshot,
        heap_kib = heap.total_heap_size() / 1024,
        engine_ms = created_in.as_secs_f64() * 1e3,
        bootstrap_ms = started.elapsed().as_secs_f64() * 1e3,
        "realm created: the engine with its extensions, then the global scope's JavaScript"
    );
    Ok(js)
}
