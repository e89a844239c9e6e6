//! The engine's HTTP client: hyper's pooled client (HTTP/1.1 and HTTP/2
//! over rustls) behind a connector that bounds the sockets open to each
//! host by `Limits::per_host_connections`.
//!
//! It does what the downloader needs and no more: it neither follows
//! redirects nor decodes bodies (the engine does both itself, so that
//! resume offsets count stored bytes and every redirect hop is checked).

mod capped;
mod proxy;
mod stream;

use bytes::Bytes;
use capped::{wanting_connection, CappedConnector};
use futures::future::BoxFuture;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderMap, HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use proxy::ProxyConnector;
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
    /// Sockets open to one host (scheme, name and port) at once, idle ones
    /// included.
    pub per_host_connections: usize,
    /// Sent as `User-Agent` unless a request carries its own.
    pub user_agent: String,
    /// Added to every request that does not carry them itself.
    pub default_headers: HeaderMap,
    /// Trusted in addition to the built-in webpki roots.
    pub root_certificates: Vec<CertificateDer<'static>>,
    /// Name resolution; the system resolver when `None`.
    pub resolver: Option<Arc<dyn Resolve>>,
    /// Which proxies requests go through.
    pub proxies: Proxies,
}

/// Where an [`HttpClient`] finds its proxies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proxies {
    /// The environment's (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`, read as curl reads them), when the client is built.
    Environment,
    /// Every request goes through this proxy (`http://host:port`).
    All(String),
    /// Direct connections only.
    None,
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
            proxies: Proxies::Environment,
        }
    }
}

/// Why an [`HttpClient`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    /// A root certificate is not a usable X.509 certificate.
    #[error("root certificate: {0}")]
    RootCertificate(String),
    /// The TLS configuration cannot be built.
    #[error("TLS: {0}")]
    Tls(String),
    /// The user agent is not a valid header value.
    #[error("user agent: {0}")]
    UserAgent(String),
}

type Connector =
    CappedConnector<hyper_rustls::HttpsConnector<ProxyConnector<HttpConnector<DnsResolver>>>>;

/// A pooled HTTP client with a per-host socket budget. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<Connector, RequestBody>,
    proxies: Arc<Matcher>,
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
            .map_err(|e| HttpClientError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new_with_resolver(DnsResolver(config.resolver));
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout));
        let proxies = Arc::new(match &config.proxies {
            Proxies::Environment => Matcher::from_env(),
            Proxies::All(proxy) => Matcher::builder().all(proxy.clone()).build(),
            Proxies::None => Matcher::builder().build(),
        });
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(ProxyConnector::new(http, proxies.clone()));
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
            proxies,
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
        if request.uri().scheme_str() == Some("http") {
            if let Some(auth) = self
                .proxies
                .intercept(request.uri())
                .as_ref()
                .and_then(|p| p.basic_auth().cloned())
            {
                request.headers_mut().insert(PROXY_AUTHORIZATION, auth);
            }
        }
        let headers = request.headers_mut();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain-http request through a proxy reaches the proxy in absolute
    /// form, with the proxy's credentials.
    #[tokio::test]
    async fn http_requests_go_to_the_proxy_in_absolute_form() {
        use hyper::service::service_fn;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = format!("http://user:pw@{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let service = service_fn(|req: hyper::Request<Incoming>| async move {
                let seen = format!(
                    "{} {}",
                    req.uri(),
                    req.headers()
                        .get(PROXY_AUTHORIZATION)
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default()
                );
                Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
                    Bytes::from(seen),
                )))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                .await;
        });
        let mut config = HttpClientConfig::new(&crate::Limits::default());
        config.proxies = Proxies::All(proxy);
        let client = HttpClient::new(config).unwrap();
        let request = hyper::Request::get("http://origin.test:8080/a?b")
            .body(empty_body())
            .unwrap();
        let response = client.send(request).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        // "user:pw" in base64.
        assert_eq!(body, "http://origin.test:8080/a?b Basic dXNlcjpwdw==");
    }

    #[test]
    fn a_certificate_that_is_not_x509_is_refused() {
        let mut config = HttpClientConfig::new(&crate::Limits::default());
        config.root_certificates = vec![CertificateDer::from(b"not a certificate".to_vec())];
        assert!(matches!(
            HttpClient::new(config),
            Err(HttpClientError::RootCertificate(_))
        ));
    }
}
