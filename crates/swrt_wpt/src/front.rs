//! The loopback front of a run: the two http origin ports, the two https
//! origin ports and the forward proxy.
//!
//! The https ports terminate TLS (the run's generated certificate, see
//! [`crate::tls`]) and then serve exactly like the http ports, adding
//! `X-Forwarded-Proto: https` so the origin server knows the scheme (for
//! `{{location[scheme]}}`). Each listener reads one request head, decides
//! where it goes and then splices the connection to that backend (one
//! request per connection: `Connection: close` is forced, so every request
//! is routed on its own):
//!
//! * paths ending in `.py`, and `?pipe=` values using pipes other than
//!   `header`/`status`, go to wptserve (the real WPT server);
//! * everything else goes to the Rust origin server (static files, `.sub.`
//!   substitution, generated wrappers, `/resources/`, the report endpoint).
//!
//! The proxy port receives absolute-form requests (`GET http://host:port/...`)
//! from the runtime's HTTP clients (see `lib.rs` for how they are pointed at
//! it). It forwards them only when the host is one of the run's WPT host
//! names (or loopback) and the port is one of the two http origin ports.
//! `CONNECT host:port` (how clients reach https through a proxy) is tunnelled
//! to the port on loopback under the same rule, with the https ports too, so
//! TLS runs end to end between the client and the https port. Any other
//! request has its connection closed, so it fails as a network error and
//! nothing leaves the machine.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

const MAX_HEAD: usize = 64 * 1024;

/// Where requests go.
#[derive(Debug)]
pub struct Routes {
    /// The Rust origin server.
    pub internal: SocketAddr,
    /// wptserve, once it runs (it starts after the front, since it needs
    /// the origin ports).
    pub wptserve: std::sync::OnceLock<SocketAddr>,
    /// Host names that stand for this machine.
    pub hosts: HashSet<String>,
    /// The http origin ports (filled in once bound).
    pub origin_ports: [u16; 2],
    /// The https origin ports (filled in once bound).
    pub https_ports: [u16; 2],
}

/// The running listeners.
#[derive(Debug)]
pub struct Front {
    /// The two http origin ports.
    pub ports: [u16; 2],
    /// The two https origin ports.
    pub https_ports: [u16; 2],
    /// The forward proxy's port.
    pub proxy_port: u16,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Front {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// What a listener is.
#[derive(Clone)]
enum Listener {
    /// An http origin port.
    Http,
    /// An https origin port: TLS first, then as [`Listener::Http`].
    Https(TlsAcceptor),
    /// The forward proxy.
    Proxy,
}

/// Binds the five listeners on 127.0.0.1 (ephemeral ports): two http origin
/// ports, two https origin ports serving with `tls`, and the proxy. `routes`
/// is completed with the ports before any connection is served.
pub async fn start(
    mut routes: Routes,
    tls: Arc<ServerConfig>,
) -> std::io::Result<(Front, Arc<Routes>)> {
    let bind = || TcpListener::bind(("127.0.0.1", 0));
    let a = bind().await?;
    let b = bind().await?;
    let sa = bind().await?;
    let sb = bind().await?;
    let p = bind().await?;
    let ports = [a.local_addr()?.port(), b.local_addr()?.port()];
    let https_ports = [sa.local_addr()?.port(), sb.local_addr()?.port()];
    let proxy_port = p.local_addr()?.port();
    routes.origin_ports = ports;
    routes.https_ports = https_ports;
    let routes = Arc::new(routes);
    let acceptor = TlsAcceptor::from(tls);
    let tasks = vec![
        tokio::spawn(accept(a, routes.clone(), Listener::Http)),
        tokio::spawn(accept(b, routes.clone(), Listener::Http)),
        tokio::spawn(accept(
            sa,
            routes.clone(),
            Listener::Https(acceptor.clone()),
        )),
        tokio::spawn(accept(sb, routes.clone(), Listener::Https(acceptor))),
        tokio::spawn(accept(p, routes.clone(), Listener::Proxy)),
    ];
    Ok((
        Front {
            ports,
            https_ports,
            proxy_port,
            tasks,
        },
        routes,
    ))
}

async fn accept(listener: TcpListener, routes: Arc<Routes>, kind: Listener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Small responses go out at once rather than after the client's
        // delayed ACK (see swrt_server's listener).
        let _ = stream.set_nodelay(true);
        let routes = routes.clone();
        let kind = kind.clone();
        tokio::spawn(async move {
            let result = match kind {
                Listener::Http => connection(stream, &routes, false, false).await,
                Listener::Proxy => connection(stream, &routes, true, false).await,
                Listener::Https(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls) => connection(tls, &routes, false, true).await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "wpt front connection");
            }
        });
    }
}

/// The backend a request path goes to: wptserve for Python handlers and for
/// pipes the Rust server lacks.
pub fn wants_wptserve(target: &str) -> bool {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path.ends_with(".py") {
        return true;
    }
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "pipe")
        .any(|(_, v)| {
            v.split('|').any(|item| {
                let name = item.split('(').next().unwrap_or("").trim();
                !matches!(name, "header" | "status" | "")
            })
        })
}

/// Serves one connection. `proxy`: the forward proxy (absolute-form
/// requests and `CONNECT`); `secure`: the request arrived over TLS.
async fn connection<S>(
    mut client: S,
    routes: &Routes,
    proxy: bool,
    secure: bool,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Ok(());
        }
        let mut chunk = [0u8; 4096];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(());
    };
    if method.eq_ignore_ascii_case("CONNECT") {
        if !proxy {
            return Ok(());
        }
        return tunnel(client, routes, target, &buf[head_end..]).await;
    }
    let mut host_header = None;
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match name.as_str() {
            "connection"
            | "proxy-connection"
            | "keep-alive"
            | "proxy-authorization"
            | "x-forwarded-proto" => {}
            "host" => {
                host_header = Some(
                    line.split_once(':')
                        .map(|x| x.1)
                        .unwrap_or("")
                        .trim()
                        .to_string(),
                );
                headers.push(line.to_string());
            }
            _ => headers.push(line.to_string()),
        }
    }
    let path = if target.starts_with("http://") || target.starts_with("https://") {
        let Ok(url) = url::Url::parse(target) else {
            return Ok(());
        };
        let host = url
            .host_str()
            .unwrap_or("")
            .trim_matches(|c| c == '[' || c == ']');
        let port = url.port_or_known_default().unwrap_or(0);
        let known = routes.hosts.contains(host);
        if !known || !routes.origin_ports.contains(&port) {
            tracing::warn!(
                url = target,
                "swrt wpt: refused a request that would leave this machine"
            );
            return Ok(());
        }
        if host_header.is_none() {
            headers.push(format!("Host: {}", url.authority()));
        }
        let mut p = url.path().to_string();
        if let Some(q) = url.query() {
            p.push('?');
            p.push_str(q);
        }
        p
    } else if proxy {
        return Ok(());
    } else {
        target.to_string()
    };
    let backend = if wants_wptserve(&path) {
        match routes.wptserve.get() {
            Some(addr) => *addr,
            None => {
                let body = "swrt wpt: this request needs wptserve (Python handlers, pipes), which is not running; run scripts/setup.sh or `pip install wptserve`\n";
                let resp = format!(
                    "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                client.write_all(resp.as_bytes()).await?;
                return Ok(());
            }
        }
    } else {
        routes.internal
    };
    let mut new_head = format!("{method} {path} {version}\r\n");
    for h in &headers {
        new_head.push_str(h);
        new_head.push_str("\r\n");
    }
    if secure {
        new_head.push_str("X-Forwarded-Proto: https\r\n");
    }
    new_head.push_str("Connection: close\r\n\r\n");
    let mut upstream = TcpStream::connect(backend).await?;
    upstream.write_all(new_head.as_bytes()).await?;
    upstream.write_all(&buf[head_end..]).await?;
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    Ok(())
}

/// `CONNECT host:port`: when the host is one of the run's names and the port
/// one of its origin ports (http or https), answers 200 and splices the
/// connection to that port on loopback; otherwise closes it.
async fn tunnel<S>(
    mut client: S,
    routes: &Routes,
    target: &str,
    early: &[u8],
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let allowed = target.rsplit_once(':').and_then(|(host, port)| {
        let host = host.trim_matches(|c| c == '[' || c == ']');
        let port: u16 = port.parse().ok()?;
        let known_port = routes.origin_ports.contains(&port) || routes.https_ports.contains(&port);
        (routes.hosts.contains(host) && known_port).then_some(port)
    });
    let Some(port) = allowed else {
        tracing::warn!(
            target,
            "swrt wpt: refused a CONNECT that would leave this machine"
        );
        return Ok(());
    };
    let mut upstream = TcpStream::connect(("127.0.0.1", port)).await?;
    client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await?;
    upstream.write_all(early).await?;
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #[test]
    fn routes_python_and_rich_pipes_to_wptserve() {
        use super::wants_wptserve;
        assert!(wants_wptserve("/x/resources/upload.py"));
        assert!(wants_wptserve("/x/slow.py?delay=1"));
        assert!(wants_wptserve("/x/a.txt?pipe=trickle(d1)"));
        assert!(wants_wptserve("/x/a.txt?pipe=header(A,B)|slice(0,10)"));
        assert!(!wants_wptserve("/x/a.txt?pipe=header(A,B)|status(404)"));
        assert!(!wants_wptserve("/x/a.js"));
        assert!(!wants_wptserve("/x/a.py.txt"));
    }
}
