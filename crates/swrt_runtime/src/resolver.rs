//! Host-name resolution the host controls: test suites map names such as
//! `web-platform.test` to loopback, and can forbid every other name so that
//! nothing a script fetches leaves the machine. The same value carries the
//! extra TLS roots those clients trust (a test suite's own CA).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use futures::future::BoxFuture;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use swrt_bgfetch::net::HttpClientConfig;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request header every HTTP client of the host sends (script loading,
/// `fetch()`, Background Fetch downloads, redirects included). Servers run
/// next to the host, such as `swrt serve`'s control API, refuse requests
/// carrying it, so web content running in the host cannot reach them through
/// loopback. Script can override its value but not remove it.
pub const HOST_REQUEST_HEADER: &str = "swrt-realm";

/// Maps host names to addresses for every HTTP client of the host (script
/// loading, `fetch()`, Background Fetch downloads), and lists the extra root
/// certificates those clients trust for https.
#[derive(Debug, Clone, Default)]
pub struct HostResolver {
    /// Port 0: the URL's port (or its scheme's default). Any other port:
    /// used for URLs that name no port (see [`HostResolver::route`]).
    map: HashMap<String, SocketAddr>,
    allow_other_hosts: bool,
    root_certificates: Vec<crate::Certificate>,
}

impl HostResolver {
    /// `map`: names (lower case, no port) to addresses. With
    /// `allow_other_hosts` false, every other name fails to resolve, which
    /// surfaces as a network error (IP literals are not resolved and still work).
    pub fn new(map: HashMap<String, IpAddr>, allow_other_hosts: bool) -> Self {
        let map = map
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), SocketAddr::new(v, 0)))
            .collect();
        HostResolver {
            map,
            allow_other_hosts,
            root_certificates: Vec::new(),
        }
    }

    /// Sends requests for `name` whose URL names no port (`http://localhost/`,
    /// not `http://localhost:8080/`) to `addr`, port included: a local server
    /// standing in for an origin on its scheme's default port. URLs with an
    /// explicit port still use it, on `addr`'s IP.
    pub fn route(mut self, name: &str, addr: SocketAddr) -> Self {
        self.map.insert(name.to_ascii_lowercase(), addr);
        self
    }

    /// The system resolver, unchanged.
    pub fn system() -> Self {
        HostResolver {
            map: HashMap::new(),
            allow_other_hosts: true,
            root_certificates: Vec::new(),
        }
    }

    /// True when `host` is one of the mapped names. Mapped names stand for
    /// loopback test servers, so they count as potentially trustworthy
    /// (secure contexts), as `localhost` does.
    pub fn is_mapped(&self, host: &str) -> bool {
        self.map.contains_key(&host.to_ascii_lowercase())
    }

    /// The mapped names.
    pub fn names(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }

    /// Also trust these root certificates (in addition to the built-in
    /// webpki roots) in every client this resolver is applied to.
    pub fn with_root_certificates(
        mut self,
        certificates: impl IntoIterator<Item = crate::Certificate>,
    ) -> Self {
        self.root_certificates.extend(certificates);
        self
    }

    /// The extra trusted root certificates.
    pub fn root_certificates(&self) -> &[crate::Certificate] {
        &self.root_certificates
    }

    /// Installs this resolver, the extra root certificates and the
    /// [`HOST_REQUEST_HEADER`] on a reqwest client builder.
    pub fn apply(&self, mut builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let mut marker = reqwest::header::HeaderMap::new();
        marker.insert(
            HOST_REQUEST_HEADER,
            reqwest::header::HeaderValue::from_static("1"),
        );
        builder = builder.default_headers(marker);
        for certificate in &self.root_certificates {
            // With rustls, reqwest only keeps the bytes: this cannot fail.
            if let Ok(certificate) = certificate.to_reqwest() {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if self.map.is_empty() && self.allow_other_hosts {
            return builder;
        }
        builder.dns_resolver(Arc::new(self.clone()))
    }

    /// Installs this resolver, the extra root certificates and the
    /// [`HOST_REQUEST_HEADER`] on the Background Fetch engine's client.
    pub fn apply_to_engine(&self, mut config: HttpClientConfig) -> HttpClientConfig {
        config.default_headers.insert(
            HOST_REQUEST_HEADER,
            reqwest::header::HeaderValue::from_static("1"),
        );
        config
            .root_certificates
            .extend(self.root_certificates.iter().map(crate::Certificate::der));
        if !(self.map.is_empty() && self.allow_other_hosts) {
            config.resolver = Some(Arc::new(self.clone()));
        }
        config
    }

    /// The addresses of `host` (lower case): the mapped one, the system
    /// resolver's when other hosts are allowed, or an error.
    fn lookup(&self, host: String) -> BoxFuture<'static, Result<Vec<SocketAddr>, BoxError>> {
        let mapped = self.map.get(&host).copied();
        let allow = self.allow_other_hosts;
        Box::pin(async move {
            if let Some(addr) = mapped {
                // The connector keeps a resolved port unless the URL names one.
                return Ok(vec![addr]);
            }
            if !allow {
                return Err(format!("the host {host} is not reachable from this swrt host").into());
            }
            Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect())
        })
    }
}

impl swrt_bgfetch::net::Resolve for HostResolver {
    fn resolve(&self, host: &str) -> BoxFuture<'static, Result<Vec<SocketAddr>, BoxError>> {
        self.lookup(host.to_ascii_lowercase())
    }
}

impl Resolve for HostResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = self.lookup(name.as_str().to_ascii_lowercase());
        Box::pin(async move {
            let addrs: Addrs = Box::new(lookup.await?.into_iter());
            Ok(addrs)
        })
    }
}

/// The secure-context rule for URLs: https, loopback, localhost, and mapped test hosts.
pub(crate) fn is_potentially_trustworthy(url: &url::Url, resolver: &HostResolver) -> bool {
    url.scheme() == "https"
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url
            .host_str()
            .is_some_and(|h| h == "localhost" || h.ends_with(".localhost") || resolver.is_mapped(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn mapped_names_resolve_and_others_fail_when_forbidden() {
        let resolver = HostResolver::new(
            HashMap::from([(
                "Web-Platform.test".to_string(),
                IpAddr::from([127, 0, 0, 1]),
            )]),
            false,
        );
        let mut addrs = resolver
            .resolve("web-platform.test".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(addrs.next().unwrap().ip(), IpAddr::from([127, 0, 0, 1]));
        assert!(resolver
            .resolve("example.com".parse().unwrap())
            .await
            .is_err());
        let url = url::Url::parse("http://web-platform.test:8000/").unwrap();
        assert!(is_potentially_trustworthy(&url, &resolver));
        assert!(!is_potentially_trustworthy(
            &url::Url::parse("http://example.com/").unwrap(),
            &resolver
        ));
    }

    /// A routed name sends port-less URLs to the route's port and keeps an
    /// explicit port: checked with a real client against a loopback server.
    #[tokio::test]
    async fn routed_name_reaches_the_server_for_port_less_urls() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nrouted",
                    )
                    .await;
            }
        });
        let resolver = HostResolver::system().route("LocalHost", addr);
        let client = resolver.apply(reqwest::Client::builder()).build().unwrap();
        let body = client
            .get("http://localhost/anything")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "routed");
        // An explicit port is the URL's: nothing listens on port 9 here.
        assert!(client.get("http://localhost:9/").send().await.is_err());
    }
}
