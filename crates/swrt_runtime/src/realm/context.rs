//! What a realm's ops find in its `OpState`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use deno_core::{AsyncRefCell, OpState};
use tokio::sync::{mpsc, oneshot};
use url::Url;

use super::{
    HostCommand, HostRequest, ImportedScripts, PendingEvents, RegistrationView, WorkerView,
};
use crate::delegate::HostDelegate;
use crate::loader::ScriptLoader;

/// Shared by every realm kind: its URL, its reporter, its network client and
/// its channels to the host.
pub(crate) struct RealmContext {
    pub url: Url,
    pub delegate: Arc<dyn HostDelegate>,
    pub http: reqwest::Client,
    pub loader: ScriptLoader,
    pub host_requests: super::HostRequestSender,
    pub commands: Rc<AsyncRefCell<mpsc::UnboundedReceiver<HostCommand>>>,
    pub pending: PendingEvents,
    pub shared: std::sync::Arc<super::RealmShared>,
    /// Whether the realm's URL is a potentially trustworthy origin.
    pub secure_context: bool,
}

/// A service worker's own state.
pub(crate) struct WorkerContext {
    /// Classic script or module: decides how the script and its imports load.
    pub worker_type: crate::worker_type::WorkerType,
    pub imports: Arc<ImportedScripts>,
    pub registration: RegistrationView,
    pub version: WorkerView,
    /// The Content Security Policies its script was served with.
    pub csp: Vec<String>,
}

/// A page's own state.
pub(crate) struct PageContext {
    /// The page's client id (a UUID), as `clients.matchAll()` reports it.
    pub client_id: String,
    /// The worker controlling the page when it was created.
    pub controller: Option<WorkerView>,
    /// The page is an HTML document to parse (else a script to run).
    pub document: bool,
    /// The Content Security Policies the page was served with (`<meta>`
    /// policies in its markup add to them).
    pub csp: Vec<String>,
    /// For a cross-origin frame, its parent window.
    pub parent: Option<super::ParentWindow>,
    /// Run the page as a module (true) or as a classic script (false); None
    /// means decide from the source (a classic script that fails to parse
    /// because of `import`, `export` or top-level `await` runs as a module).
    pub module: Option<bool>,
    /// Opens when the host has recorded the page, so the script's first
    /// requests (register, matchAll) find it.
    pub start_gate: Option<tokio::sync::oneshot::Receiver<()>>,
}

/// Dedicated or shared (HTML workers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientWorkerKind {
    Dedicated,
    Shared,
}

impl ClientWorkerKind {
    /// The worker's client type, as `clients.matchAll()` reports it.
    pub(crate) fn client_type(self) -> &'static str {
        match self {
            ClientWorkerKind::Dedicated => "worker",
            ClientWorkerKind::Shared => "sharedworker",
        }
    }
}

/// A dedicated or shared worker's own state.
pub(crate) struct ClientWorkerContext {
    pub kind: ClientWorkerKind,
    /// The worker's client id.
    pub client_id: String,
    /// The `name` option of the constructor.
    pub name: String,
    /// Classic script or module.
    pub worker_type: crate::worker_type::WorkerType,
    /// The worker controlling this client when it was created.
    pub controller: Option<WorkerView>,
    /// The Content Security Policies its script was served with.
    pub csp: Vec<String>,
    /// A dedicated worker's owner (a page or another dedicated worker).
    pub owner: Option<super::RealmLink>,
    /// Opens when the host has recorded the worker.
    pub start_gate: Option<tokio::sync::oneshot::Receiver<()>>,
}

/// Sends the request `request` builds (from the realm's context and a
/// reply sender) to the host and waits for the reply; None when the host
/// is gone.
pub(crate) async fn ask_host<T>(
    state: &Rc<RefCell<OpState>>,
    request: impl FnOnce(&RealmContext, oneshot::Sender<T>) -> HostRequest,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    {
        let state = state.borrow();
        let ctx = state.borrow::<RealmContext>();
        ctx.host_requests.send(request(ctx, tx));
    }
    rx.await.ok()
}
