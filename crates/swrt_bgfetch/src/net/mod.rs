//! The engine's HTTP client: hyper's pooled client (HTTP/1.1 and HTTP/2
//! over rustls) behind a connector that bounds the sockets open to each
//! host by `Limits::per_host_connections`.
//!
//! It does what the downloader needs and no more: it neither follows
//! redirects nor decodes bodies (the engine does both itself, so that
//! resume offsets count stored bytes and every redirect hop is checked).

mod capped;

use bytes::Bytes;
use capped::{wanting_connection, CappedConnector};
use futures::future::BoxFuture;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderMap, HeaderValue, USER_AGENT};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body: bytes streamed as hyper asks for them.
pub type RequestBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// A response as the engine reads it: head, then the body frame by frame.
pub type HttpResponse = hyper::Response<Incoming>;

/// Resolves host names for the engine's connections (for example, to map
/// test hosts to loopback servers, or to refuse hosts an embedder does not
/// allow). The port of the URL is kept whatever port the addresses carry.
pub trait Resolve: Send + Sync + 'static {
    /// The addresses of `host`, in the order to try them.
    fn resolve(&self, host: &str) -> BoxFuture<'static, Result<Vec<SocketAddr>, BoxError>>;
}

/// What an [`HttpClient`] is built from.
#[derive(Clone)]
pub struct HttpClientConfig {
    /// Connection attempts fail after this long.
    pub connect_timeout: Duration,
    /// Sockets open to one host (name and port) at once, idle ones included.
    pub per_host_connections: usize,
    /// Sent as `User-Agent` unless a request carries its own.
    pub user_agent: String,
    /// Added to every request that does not carry them itself.
    pub default_headers: HeaderMap,
    /// Trusted in addition to the built-in webpki roots.
    pub root_certificates: Vec<CertificateDer<'static>>,
    /// Name resolution; the system resolver when `None`.
    pub resolver: Option<Arc<dyn Resolve>>,
}

impl HttpClientConfig {
    /// The defaults for the given limits.
    pub fn new(limits: &crate::Limits) -> Self {
        HttpClientConfig {
            connect_timeout: limits.connect_timeout,
            per_host_connections: limits.per_host_connections,
            user_agent: concat!("swrt-bgfetch/", env!("CARGO_PKG_VERSION")).to_string(),
            default_headers: HeaderMap::new(),
            root_certificates: Vec::new(),
            resolver: None,
        }
    }
}

/// Why an [`HttpClient`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    /// A root certificate is not a usable X.509 certificate.
    #[error("root certificate: {0}")]
    RootCertificate(String),
    /// The user agent is not a valid header value.
    #[error("user agent: {0}")]
    UserAgent(String),
}

/// A pooled HTTP client with a per-host socket budget. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<
        CappedConnector<hyper_rustls::HttpsConnector<HttpConnector<DnsResolver>>>,
        RequestBody,
    >,
    user_agent: HeaderValue,
    default_headers: Arc<HeaderMap>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds a client from `config`.
    pub fn new(config: HttpClientConfig) -> Result<HttpClient, HttpClientError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for certificate in config.root_certificates {
            roots
                .add(certificate)
                .map_err(|e| HttpClientError::RootCertificate(e.to_string()))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| HttpClientError::RootCertificate(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new_with_resolver(DnsResolver(config.resolver));
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let per_host = config.per_host_connections.max(1);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(per_host)
            .build(CappedConnector::new(https, per_host));
        let user_agent = HeaderValue::from_str(&config.user_agent)
            .map_err(|e| HttpClientError::UserAgent(e.to_string()))?;
        Ok(HttpClient {
            client,
            user_agent,
            default_headers: Arc::new(config.default_headers),
        })
    }

    /// Sends `request` and waits for the response head.
    pub async fn send(
        &self,
        mut request: hyper::Request<RequestBody>,
    ) -> Result<HttpResponse, hyper_util::client::legacy::Error> {
        let headers = request.headers_mut();
        if !headers.contains_key(USER_AGENT) {
            headers.insert(USER_AGENT, self.user_agent.clone());
        }
        for (name, value) in self.default_headers.iter() {
            if !headers.contains_key(name) {
                headers.insert(name, value.clone());
            }
        }
        wanting_connection(self.client.request(request)).await
    }
}

/// An empty request body.
pub fn empty_body() -> RequestBody {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A request body read from `chunks` as hyper asks for it.
pub fn streamed_body<S>(chunks: S) -> RequestBody
where
    S: futures::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
{
    use futures::TryStreamExt;
    BodyExt::boxed_unsync(StreamBody::new(chunks.map_ok(Frame::data)))
}

/// The [`Resolve`] given to the client, as hyper's connector wants it.
#[derive(Clone)]
struct DnsResolver(Option<Arc<dyn Resolve>>);

impl tower_service::Service<Name> for DnsResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        match &self.0 {
            Some(resolver) => {
                let lookup = resolver.resolve(name.as_str());
                Box::pin(async move { Ok(lookup.await?.into_iter()) })
            }
            None => Box::pin(async move {
                let addrs: Vec<SocketAddr> =
                    tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
                Ok(addrs.into_iter())
            }),
        }
    }
}
