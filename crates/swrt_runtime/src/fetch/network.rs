//! The network side of `fetch()`: Fetch's "HTTP fetch" with its redirect
//! steps, and the CORS protocol of "main fetch" (tainting, preflights)
//! through `swrt_bgfetch::cors`, which Background Fetch records use too.

use std::sync::LazyLock;
use std::time::Instant;

use bytes::Bytes;
use url::Url;

use swrt_bgfetch::{cors, fetch_steps};

use super::request::{FetchArgs, FetchError};

/// Redirects followed before a fetch fails, as the Fetch standard says.
const MAX_REDIRECTS: usize = 20;

/// Fetch "CORS-preflight cache", shared by every realm of the process: its
/// entries are keyed by the requesting origin, so realms of different origins
/// never reuse each other's preflights.
static PREFLIGHTS: LazyLock<cors::PreflightCache> = LazyLock::new(Default::default);

/// Fetch "response tainting": which filtered response the fetch returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tainting {
    Basic,
    Cors,
    Opaque,
}

/// What `run_fetch` returns besides the response itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ResponseKind {
    Basic,
    Cors,
    Opaque,
    OpaqueRedirect,
}

impl ResponseKind {
    pub(super) fn type_name(self) -> &'static str {
        match self {
            ResponseKind::Basic => "basic",
            ResponseKind::Cors => "cors",
            ResponseKind::Opaque => "opaque",
            ResponseKind::OpaqueRedirect => "opaqueredirect",
        }
    }
}

/// The CORS side of a request: its origin and modes.
struct CorsRequest {
    origin: url::Origin,
    mode: String,
    include_credentials: bool,
    /// Fetch "tainted origin flag": a redirect chain went through another
    /// origin, so the request's origin serializes as `null`.
    tainted_origin: bool,
    tainting: Tainting,
}

impl CorsRequest {
    /// Fetch "serializing a request origin".
    pub(super) fn serialized_origin(&self) -> String {
        if self.tainted_origin {
            "null".to_string()
        } else {
            self.origin.ascii_serialization()
        }
    }
}

/// The request's headers as name/value pairs, for the CORS helpers.
fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// "main fetch" steps 11-12 for one URL of the chain: decide the response
/// tainting, or refuse the request as its mode requires.
fn taint(request: &mut CorsRequest, url: &Url, redirect: &str) -> Result<(), FetchError> {
    if url.origin() == request.origin && request.tainting == Tainting::Basic {
        return Ok(());
    }
    match request.mode.as_str() {
        // A navigation (a service worker passing its FetchEvent's request
        // on) is not a CORS request.
        "navigate" => Ok(()),
        "same-origin" => Err(FetchError::Cors(format!(
            "CORS: {url} is not same-origin and the request's mode is \"same-origin\""
        ))),
        "no-cors" => {
            if redirect != "follow" {
                return Err(FetchError::Cors(format!(
                    "CORS: a \"no-cors\" request to {url} must follow redirects"
                )));
            }
            request.tainting = Tainting::Opaque;
            Ok(())
        }
        _ => {
            request.tainting = Tainting::Cors;
            Ok(())
        }
    }
}

/// Sends `request`, and once more when the connection closed before any
/// response came (hyper: "connection closed before message completed"),
/// which is what a server that closed an idle kept-alive connection looks
/// like; browsers resend a request lost that way too.
async fn send_resending_on_closed_connection(
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, reqwest::Error> {
    let again = request.try_clone();
    match request.send().await {
        Err(error) if closed_before_response(&error) => match again {
            Some(again) => {
                tracing::debug!("the connection closed before the response; sending again");
                again.send().await
            }
            None => Err(error),
        },
        result => result,
    }
}

fn closed_before_response(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(hyper_error) = cause.downcast_ref::<hyper::Error>() {
            return hyper_error.is_incomplete_message();
        }
        source = cause.source();
    }
    false
}

/// Fetch "CORS-preflight fetch": ask `url` whether the request may be made,
/// and remember the answer for its `Access-Control-Max-Age`.
async fn preflight(
    client: &reqwest::Client,
    request: &CorsRequest,
    url: &Url,
    method: &str,
    headers: &[(String, String)],
) -> Result<(), FetchError> {
    let origin = request.serialized_origin();
    let preflight_headers =
        cors::preflight_request_headers(&origin, method, headers).map_err(FetchError::Cors)?;
    tracing::debug!(%url, method, "CORS preflight");
    let response = send_resending_on_closed_connection(
        client
            .request(reqwest::Method::OPTIONS, url.clone())
            .headers(preflight_headers),
    )
    .await
    .map_err(|e| FetchError::Network(describe(&e)))?;
    cors::preflight_check(
        response.status().as_u16(),
        response.headers(),
        &origin,
        method,
        headers,
        request.include_credentials,
    )
    .map_err(FetchError::Cors)?;
    PREFLIGHTS.store(
        &origin,
        url,
        request.include_credentials,
        method,
        response.headers(),
        Instant::now(),
    );
    Ok(())
}

/// HTTP-network-or-cache fetch plus the redirect steps of "HTTP fetch", with
/// the CORS protocol of "main fetch" when the request has a client.
pub(super) async fn run_fetch(
    client: &reqwest::Client,
    args: FetchArgs,
    mut body: Option<Bytes>,
) -> Result<(reqwest::Response, Vec<String>, ResponseKind), FetchError> {
    let mut url = Url::parse(&args.url).map_err(|_| FetchError::InvalidUrl(args.url.clone()))?;
    let mut method = reqwest::Method::from_bytes(args.method.as_bytes())
        .map_err(|_| FetchError::Header(format!("invalid method {}", args.method)))?;
    let mut cors_request = match &args.client_url {
        None => None,
        Some(client_url) => Some(CorsRequest {
            origin: Url::parse(client_url)
                .map_err(|_| FetchError::InvalidUrl(client_url.clone()))?
                .origin(),
            mode: args.mode.clone(),
            include_credentials: args.credentials == "include",
            tainted_origin: false,
            tainting: Tainting::Basic,
        }),
    };
    let no_cors = cors_request
        .as_ref()
        .is_some_and(|request| request.mode == "no-cors");
    if no_cors && !cors::is_safelisted_method(method.as_str()) {
        // Request constructor step 30.1.
        return Err(FetchError::Cors(format!(
            "CORS: method {method} is not allowed in \"no-cors\" mode"
        )));
    }
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &args.headers {
        // The "request-no-cors" headers guard keeps only CORS-safelisted
        // request headers.
        if no_cors && !cors::is_safelisted_request_header(name, value) {
            continue;
        }
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| FetchError::Header(name.clone()))?;
        let value = reqwest::header::HeaderValue::from_bytes(value.as_bytes())
            .map_err(|_| FetchError::Header(value.clone()))?;
        headers.append(name, value);
    }
    let mut url_list = vec![url.to_string()];
    loop {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme(url.scheme().to_string()));
        }
        if let Some(port) = url.port() {
            if crate::net::is_bad_port(port) {
                return Err(FetchError::Network(format!("port {port} is blocked")));
            }
        }
        let mut hop_headers = headers.clone();
        if let Some(request) = &mut cors_request {
            taint(request, &url, &args.redirect)?;
            let pairs = header_pairs(&headers);
            let include = request.include_credentials;
            if request.tainting == Tainting::Cors
                && cors::needs_preflight(method.as_str(), &pairs)
                && !PREFLIGHTS.covers(
                    &request.serialized_origin(),
                    &url,
                    include,
                    method.as_str(),
                    &pairs,
                    Instant::now(),
                )
            {
                preflight(client, request, &url, method.as_str(), &pairs).await?;
            }
            // Fetch "append a request `Origin` header".
            if request.tainting == Tainting::Cors
                || (method != reqwest::Method::GET && method != reqwest::Method::HEAD)
            {
                let origin = reqwest::header::HeaderValue::from_str(&request.serialized_origin())
                    .map_err(|_| FetchError::Header("origin".into()))?;
                hop_headers.insert(reqwest::header::ORIGIN, origin);
            }
        }
        let mut http_request = client
            .request(method.clone(), url.clone())
            .headers(hop_headers);
        if let Some(body) = &body {
            http_request = http_request.body(body.clone());
        }
        let response = send_resending_on_closed_connection(http_request)
            .await
            .map_err(|e| FetchError::Network(describe(&e)))?;
        // "HTTP fetch" step 4.3: a cors-tainted response, redirects
        // included, must pass the CORS check.
        if let Some(request) = &cors_request {
            if request.tainting == Tainting::Cors {
                cors::cors_check(
                    response.headers(),
                    &request.serialized_origin(),
                    request.include_credentials,
                )
                .map_err(|e| FetchError::Cors(format!("{e} (the response of {url})")))?;
            }
        }
        let kind = match cors_request.as_ref().map(|r| r.tainting) {
            Some(Tainting::Cors) => ResponseKind::Cors,
            Some(Tainting::Opaque) => ResponseKind::Opaque,
            Some(Tainting::Basic) | None => ResponseKind::Basic,
        };
        let status = response.status().as_u16();
        let Some(location) = fetch_steps::redirect_location(status, response.headers()).cloned()
        else {
            return Ok((response, url_list, kind));
        };
        match args.redirect.as_str() {
            "error" => return Err(FetchError::RedirectNotAllowed),
            "manual" => return Ok((response, url_list, ResponseKind::OpaqueRedirect)),
            _ => {}
        }
        if url_list.len() > MAX_REDIRECTS {
            return Err(FetchError::TooManyRedirects);
        }
        let next = fetch_steps::resolve_location(&url, &location).map_err(|e| match e {
            fetch_steps::LocationError::NotAscii => FetchError::Network("bad Location".into()),
            fetch_steps::LocationError::Invalid { location, .. } => {
                FetchError::InvalidUrl(location)
            }
        })?;
        if let Some(request) = &mut cors_request {
            // "HTTP-redirect fetch" steps 8-9 and 11.
            let has_credentials = !next.username().is_empty() || next.password().is_some();
            if has_credentials
                && (request.tainting == Tainting::Cors
                    || (request.mode == "cors" && next.origin() != request.origin))
            {
                return Err(FetchError::Cors(format!(
                    "CORS: the redirect to {next} carries credentials"
                )));
            }
            if next.origin() != url.origin() && request.origin != url.origin() {
                request.tainted_origin = true;
            }
        }
        // HTTP-redirect fetch step 12: 301/302 turn POST into GET, 303 turns
        // everything but GET/HEAD into GET, and the body is dropped.
        if fetch_steps::redirect_rewrites_to_get(status, method.as_str()) {
            method = reqwest::Method::GET;
            body = None;
            for name in [
                "content-encoding",
                "content-language",
                "content-location",
                "content-type",
                "content-length",
            ] {
                headers.remove(name);
            }
        }
        // Step 13: drop credentials when the redirect crosses origins.
        if next.origin() != url.origin() {
            headers.remove(reqwest::header::AUTHORIZATION);
        }
        url = next;
        url_list.push(url.to_string());
    }
}

pub(super) fn describe(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

#[cfg(test)]
mod tests {
    /// A server that reads a request and closes the connection without
    /// answering (a kept-alive connection it dropped), then answers the next
    /// connection: the request is sent again and succeeds.
    #[tokio::test]
    async fn a_request_lost_on_a_closed_connection_is_sent_again() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            // The plain send's connection and the first attempt's close
            // unanswered; the resend's is answered.
            for _ in 0..2 {
                let (mut lost, _) = listener.accept().await.unwrap();
                let _ = lost.read(&mut buf).await;
            }
            let (mut answered, _) = listener.accept().await.unwrap();
            let _ = answered.read(&mut buf).await;
            let _ = answered
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
        });
        let client = reqwest::Client::new();
        let lost = client.post(&url).body("x").send().await;
        // Without the resend, the first attempt fails this way.
        assert!(super::closed_before_response(&lost.unwrap_err()));
        let response = super::send_resending_on_closed_connection(client.post(&url).body("x"))
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "ok");
    }

    use super::*;

    pub(super) fn request(mode: &str) -> CorsRequest {
        CorsRequest {
            origin: Url::parse("https://page.test/").unwrap().origin(),
            mode: mode.to_string(),
            include_credentials: false,
            tainted_origin: false,
            tainting: Tainting::Basic,
        }
    }

    #[test]
    pub(super) fn tainting_follows_the_mode() {
        let same = Url::parse("https://page.test/a").unwrap();
        let other = Url::parse("https://other.test/a").unwrap();
        for mode in ["cors", "no-cors", "same-origin", "navigate"] {
            let mut r = request(mode);
            taint(&mut r, &same, "follow").unwrap();
            assert_eq!(r.tainting, Tainting::Basic, "{mode}");
        }
        let mut r = request("cors");
        taint(&mut r, &other, "follow").unwrap();
        assert_eq!(r.tainting, Tainting::Cors);
        // Once cors-tainted, a hop back to the request's origin stays cors.
        taint(&mut r, &same, "follow").unwrap();
        assert_eq!(r.tainting, Tainting::Cors);
        let mut r = request("no-cors");
        taint(&mut r, &other, "follow").unwrap();
        assert_eq!(r.tainting, Tainting::Opaque);
        assert!(matches!(
            taint(&mut request("no-cors"), &other, "manual"),
            Err(FetchError::Cors(_))
        ));
        assert!(matches!(
            taint(&mut request("same-origin"), &other, "follow"),
            Err(FetchError::Cors(_))
        ));
        let mut r = request("navigate");
        taint(&mut r, &other, "follow").unwrap();
        assert_eq!(r.tainting, Tainting::Basic);
    }

    #[test]
    pub(super) fn a_tainted_origin_serializes_as_null() {
        let mut r = request("cors");
        assert_eq!(r.serialized_origin(), "https://page.test");
        r.tainted_origin = true;
        assert_eq!(r.serialized_origin(), "null");
    }
}
