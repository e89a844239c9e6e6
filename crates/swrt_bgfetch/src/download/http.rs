//! The pure HTTP pieces of an attempt: which request headers go out, which
//! connection slot a URL takes, how a network error is classified, and
//! whether a `206` continues a stored body.

use super::Fail;
use crate::range::ContentRange;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use swrt_store::ResponseMeta;
use url::Url;

/// Request headers that script cannot set (Fetch "forbidden request-header")
/// or that the engine manages itself.
pub(super) fn is_forbidden_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "accept-charset"
            | "accept-encoding"
            | "access-control-request-headers"
            | "access-control-request-method"
            | "connection"
            | "content-length"
            | "cookie"
            | "cookie2"
            | "date"
            | "dnt"
            | "expect"
            | "host"
            | "keep-alive"
            | "origin"
            | "referer"
            | "set-cookie"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "via"
            | "range"
    ) || n.starts_with("proxy-")
        || n.starts_with("sec-")
}

pub(super) fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// A request that got no response: a network failure, retried. The message
/// names the URL and the whole source chain (the client's own top-level
/// message is generic, such as "client error (Connect)").
pub(super) fn net_err(target: &hyper::Uri, e: hyper_util::client::legacy::Error) -> Fail {
    let mut msg = format!("{target}: {e}");
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    Fail::Network(msg, false)
}

/// The headers of one request of the chain: the record's own (minus the
/// forbidden ones, and minus `Content-*` once a redirect dropped the body),
/// `Origin` when the request is cross-origin or not a GET/HEAD, and either
/// `Range` with identity encoding (resuming at `range_from`) or the
/// encodings the engine decodes.
pub(super) fn request_headers(
    headers: &[(String, String)],
    with_body: bool,
    cross_origin: bool,
    method: &str,
    origin: &str,
    range_from: Option<u64>,
) -> Result<HeaderMap, String> {
    let mut hm = HeaderMap::new();
    for (k, v) in headers {
        if is_forbidden_header(k) {
            continue;
        }
        if !with_body && k.to_ascii_lowercase().starts_with("content-") {
            continue; // dropped when a redirect turned the request into a GET
        }
        let (Ok(name), Ok(val)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) else {
            return Err(format!("invalid header {k}"));
        };
        hm.append(name, val);
    }
    if cross_origin || !matches!(method, "GET" | "HEAD") {
        if let Ok(v) = HeaderValue::from_str(origin) {
            hm.insert(header::ORIGIN, v);
        }
    }
    match range_from {
        Some(n) => {
            hm.insert(
                header::RANGE,
                HeaderValue::from_str(&format!("bytes={n}-")).expect("ascii"),
            );
            // Byte offsets must refer to the identity representation.
            hm.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            );
        }
        None => {
            hm.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("gzip, deflate, br"),
            );
        }
    }
    Ok(hm)
}

/// Decide whether a 206 continues the `n` stored bytes of the body whose
/// first response was `meta`: its Content-Range must start at `n` and run to
/// the end, and the complete length, ETag and Last-Modified must agree with
/// the first response.
pub(super) fn check_resumed_206(
    meta: Option<&ResponseMeta>,
    h: &HeaderMap,
    n: u64,
) -> Result<(), String> {
    let meta = meta.ok_or("no stored response")?;
    let value = h
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .ok_or("206 without Content-Range")?;
    let cr =
        ContentRange::parse(value).ok_or_else(|| format!("malformed Content-Range {value:?}"))?;
    if cr.first != n {
        return Err(format!(
            "Content-Range starts at {}, expected {n}",
            cr.first
        ));
    }
    if cr.complete.is_none() || cr.complete != meta.complete_length {
        return Err(format!(
            "complete length {:?} differs from the first response's {:?}",
            cr.complete, meta.complete_length
        ));
    }
    // `Range: bytes=n-` asks for the rest: a range that ends early would
    // leave a hole at the end of a body reported complete.
    if cr.complete != Some(cr.last + 1) {
        return Err(format!("Content-Range {value:?} ends before the body does"));
    }
    let get = |name: header::HeaderName| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if get(header::ETAG) != meta.etag {
        return Err("ETag changed".into());
    }
    if get(header::LAST_MODIFIED) != meta.last_modified {
        return Err("Last-Modified changed".into());
    }
    if h.get(header::CONTENT_ENCODING)
        .is_some_and(|v| v != "identity")
    {
        return Err("206 is content-encoded".into());
    }
    Ok(())
}

/// Background Fetch "complete a record" stores a response whose status is
/// not an ok status without its body: the record keeps URL, status and
/// headers, its body reads as empty, and nothing of it is downloaded.
pub(super) fn skips_body(status: hyper::StatusCode) -> bool {
    !status.is_success()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(complete: Option<u64>, etag: Option<&str>) -> ResponseMeta {
        ResponseMeta {
            status: 200,
            etag: etag.map(str::to_string),
            complete_length: complete,
            ..ResponseMeta::default()
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_206_continues_the_body_only_when_everything_agrees() {
        let m = meta(Some(1000), Some("\"v1\""));
        let ok = headers(&[("content-range", "bytes 400-999/1000"), ("etag", "\"v1\"")]);
        assert_eq!(check_resumed_206(Some(&m), &ok, 400), Ok(()));
        type Headers = &'static [(&'static str, &'static str)];
        let cases: &[(Headers, u64, &str)] = &[
            (&[("etag", "\"v1\"")], 400, "without Content-Range"),
            (
                &[("content-range", "bytes 400-999/*"), ("etag", "\"v1\"")],
                400,
                "complete length",
            ),
            (
                &[("content-range", "nonsense"), ("etag", "\"v1\"")],
                400,
                "malformed",
            ),
            (
                &[("content-range", "bytes 300-999/1000"), ("etag", "\"v1\"")],
                400,
                "starts at 300",
            ),
            (
                &[("content-range", "bytes 400-999/2000"), ("etag", "\"v1\"")],
                400,
                "complete length",
            ),
            (
                &[("content-range", "bytes 400-899/1000"), ("etag", "\"v1\"")],
                400,
                "ends before",
            ),
            (
                &[("content-range", "bytes 400-999/1000"), ("etag", "\"v2\"")],
                400,
                "ETag changed",
            ),
            (
                &[
                    ("content-range", "bytes 400-999/1000"),
                    ("etag", "\"v1\""),
                    ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
                ],
                400,
                "Last-Modified changed",
            ),
            (
                &[
                    ("content-range", "bytes 400-999/1000"),
                    ("etag", "\"v1\""),
                    ("content-encoding", "gzip"),
                ],
                400,
                "content-encoded",
            ),
        ];
        for (h, n, why) in cases {
            let err = check_resumed_206(Some(&m), &headers(h), *n).unwrap_err();
            assert!(err.contains(why), "{h:?}: {err}");
        }
        assert!(check_resumed_206(None, &ok, 400).is_err());
    }

    #[test]
    fn request_headers_drop_forbidden_ones_and_add_origin_and_range() {
        let own = vec![
            ("X-App".to_string(), "1".to_string()),
            ("Cookie".to_string(), "a=b".to_string()),
            ("Sec-Fetch-Mode".to_string(), "cors".to_string()),
            ("Range".to_string(), "bytes=0-1".to_string()),
            ("Content-Type".to_string(), "text/plain".to_string()),
        ];
        let o = "https://page.test";
        let same = request_headers(&own, true, false, "GET", o, None).unwrap();
        assert_eq!(same.get("x-app").unwrap(), "1");
        assert_eq!(same.get("content-type").unwrap(), "text/plain");
        assert!(same.get("cookie").is_none());
        assert!(same.get("sec-fetch-mode").is_none());
        assert!(same.get("range").is_none());
        assert!(same.get("origin").is_none(), "same-origin GET");
        assert_eq!(same.get("accept-encoding").unwrap(), "gzip, deflate, br");

        let cross = request_headers(&own, true, true, "GET", o, Some(500)).unwrap();
        assert_eq!(cross.get("origin").unwrap(), o);
        assert_eq!(cross.get("range").unwrap(), "bytes=500-");
        assert_eq!(cross.get("accept-encoding").unwrap(), "identity");

        // A POST carries Origin even same-origin; after a redirect to GET
        // the body's headers go with the body.
        let post = request_headers(&own, true, false, "POST", o, None).unwrap();
        assert_eq!(post.get("origin").unwrap(), o);
        let rewritten = request_headers(&own, false, false, "GET", o, None).unwrap();
        assert!(rewritten.get("content-type").is_none());

        let bad = vec![("X-Bad".to_string(), "a\nb".to_string())];
        assert!(request_headers(&bad, false, false, "GET", o, None).is_err());
    }

    #[test]
    fn forbidden_headers() {
        for h in [
            "Cookie",
            "host",
            "Proxy-Authorization",
            "Sec-CH-UA",
            "range",
        ] {
            assert!(is_forbidden_header(h), "{h}");
        }
        for h in ["Authorization", "X-Custom", "Accept", "Content-Type"] {
            assert!(!is_forbidden_header(h), "{h}");
        }
    }

    #[test]
    fn connection_slots_are_per_host_and_port() {
        let key = |u: &str| host_key(&Url::parse(u).unwrap());
        assert_eq!(key("https://a.test/x"), "a.test:443");
        assert_eq!(key("http://a.test/x"), "a.test:80");
        assert_eq!(key("http://a.test:8080/"), "a.test:8080");
    }
}
