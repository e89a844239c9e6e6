//! Proxies from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
//! `NO_PROXY`, as curl reads them), as the host's other HTTP clients honour
//! them: https through a `CONNECT` tunnel, http as absolute-form requests to
//! the proxy.

use super::stream::{Attached, Attachment};
use hyper::rt::{Read, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::proxy::matcher::Matcher;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Connects to the destination, or to the proxy the environment names for it.
#[derive(Clone)]
pub(crate) struct ProxyConnector<C> {
    inner: C,
    proxies: Arc<Matcher>,
}

impl<C> ProxyConnector<C> {
    pub(crate) fn new(inner: C, proxies: Arc<Matcher>) -> Self {
        ProxyConnector { inner, proxies }
    }
}

impl<C> Service<Uri> for ProxyConnector<C>
where
    C: Service<Uri> + Clone + Send + 'static,
    C::Future: Send + 'static,
    C::Response: Read + Write + Connection + Unpin + Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = ProxiedStream<C::Response>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut inner = self.inner.clone();
        let proxy = self.proxies.intercept(&dst);
        Box::pin(async move {
            match proxy {
                None => Ok(Attached {
                    io: inner.call(dst).await.map_err(Into::into)?,
                    attachment: Forwarding(false),
                }),
                Some(proxy) if dst.scheme_str() == Some("https") => {
                    let mut tunnel = Tunnel::new(proxy.uri().clone(), inner);
                    if let Some(auth) = proxy.basic_auth() {
                        tunnel = tunnel.with_auth(auth.clone());
                    }
                    Ok(Attached {
                        io: tunnel.call(dst).await?,
                        attachment: Forwarding(false),
                    })
                }
                // Plain http: the proxy forwards absolute-form requests.
                Some(proxy) => Ok(Attached {
                    io: inner.call(proxy.uri().clone()).await.map_err(Into::into)?,
                    attachment: Forwarding(true),
                }),
            }
        })
    }
}

/// Whether requests on a connection go to a forwarding proxy.
pub(crate) struct Forwarding(bool);

impl Attachment for Forwarding {
    fn connected(&self, connected: Connected) -> Connected {
        connected.proxy(self.0)
    }
}

/// A connection to the destination, through a tunnel, or to a forwarding proxy.
pub(crate) type ProxiedStream<T> = Attached<T, Forwarding>;
