//! The Fetch standard's CORS protocol, shared by Background Fetch records and
//! the runtime's `fetch()`: simple vs preflighted requests, the CORS check,
//! the preflight check and its cache, and the header lists of `basic` and
//! `cors` filtered responses.
//!
//! Everything here is pure (headers in, verdicts out) except
//! [`PreflightCache`], which is thread-safe, so one instance can serve many
//! fetches of a process.
//!
//! One protocol, one file: it passes 500 lines because a third of it is the
//! tests, which check the pieces against each other.

use hyper::header::HeaderMap;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use url::Url;

/// True when `url`'s origin differs from the fetch's origin.
pub fn is_cross_origin(url: &Url, origin: &Url) -> bool {
    url.origin() != origin.origin()
}

/// Fetch "CORS-safelisted method".
pub fn is_safelisted_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

/// Fetch "CORS-unsafe request-header byte".
fn is_unsafe_request_header_byte(b: u8) -> bool {
    (b < 0x20 && b != b'\t')
        || matches!(
            b,
            b'"' | b'('
                | b')'
                | b':'
                | b'<'
                | b'>'
                | b'?'
                | b'@'
                | b'['
                | b'\\'
                | b']'
                | b'{'
                | b'}'
                | 0x7f
        )
}

/// Fetch "CORS-safelisted request-header": `accept`, `accept-language`,
/// `content-language`, `content-type` (the three form/text types) and a
/// single-range `range`, each with a value the standard allows.
pub fn is_safelisted_request_header(name: &str, value: &str) -> bool {
    if value.len() > 128 {
        return false;
    }
    match name.to_ascii_lowercase().as_str() {
        "accept" => !value.bytes().any(is_unsafe_request_header_byte),
        "accept-language" | "content-language" => value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" *,-.;=".contains(&b)),
        "range" => is_simple_range(value),
        "content-type" => {
            if value.bytes().any(is_unsafe_request_header_byte) {
                return false;
            }
            let essence = value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            matches!(
                essence.as_str(),
                "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
            )
        }
        _ => false,
    }
}

/// Fetch "simple range header value": `bytes=N-` or `bytes=N-M` (one range,
/// a start, no suffix range).
fn is_simple_range(value: &str) -> bool {
    let Some(spec) = value.strip_prefix("bytes=") else {
        return false;
    };
    let Some((start, end)) = spec.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(start) || !(end.is_empty() || digits(end)) {
        return false;
    }
    match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(start), Ok(end)) => start <= end,
        (Ok(_), Err(_)) => end.is_empty(),
        _ => false,
    }
}

/// Lower-cased, sorted, de-duplicated names of the non-safelisted headers
/// (the value of `Access-Control-Request-Headers`).
pub fn unsafe_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut v: Vec<String> = headers
        .iter()
        .filter(|(k, val)| !is_safelisted_request_header(k, val))
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Whether a request needs a CORS preflight.
pub fn needs_preflight(method: &str, headers: &[(String, String)]) -> bool {
    !is_safelisted_method(method) || !unsafe_header_names(headers).is_empty()
}

/// The headers of a CORS preflight (Fetch "CORS-preflight fetch" steps 1-4)
/// for a `method` request carrying `headers`, sent by `origin` (serialized).
pub fn preflight_request_headers(
    origin: &str,
    method: &str,
    headers: &[(String, String)],
) -> Result<HeaderMap, String> {
    use hyper::header::{self, HeaderValue};
    let value = |v: &str| HeaderValue::from_str(v).map_err(|_| format!("invalid value {v:?}"));
    let mut h = HeaderMap::new();
    h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
    h.insert(header::ORIGIN, value(origin)?);
    h.insert(header::ACCESS_CONTROL_REQUEST_METHOD, value(method)?);
    let names = unsafe_header_names(headers);
    if !names.is_empty() {
        h.insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            value(&names.join(","))?,
        );
    }
    Ok(h)
}

/// Fetch "get" of a header list: every value of `name`, joined by ", ", so a
/// header sent twice never passes for a single value.
fn get(h: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = h
        .get_all(name)
        .iter()
        .map(|v| v.to_str().ok())
        .collect::<Option<_>>()?;
    (!values.is_empty()).then(|| values.join(", "))
}

fn list(h: &HeaderMap, name: &str) -> Vec<String> {
    h.get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The Fetch standard's "CORS check".
pub fn cors_check(h: &HeaderMap, origin: &str, include_credentials: bool) -> Result<(), String> {
    let Some(acao) = get(h, "access-control-allow-origin") else {
        return Err("CORS: no Access-Control-Allow-Origin header".into());
    };
    if acao == "*" {
        if include_credentials {
            return Err(
                "CORS: Access-Control-Allow-Origin '*' cannot be used with credentials 'include'"
                    .into(),
            );
        }
        return Ok(());
    }
    if acao != origin {
        return Err(format!(
            "CORS: Access-Control-Allow-Origin {acao:?} does not match {origin:?}"
        ));
    }
    if include_credentials && get(h, "access-control-allow-credentials").as_deref() != Some("true")
    {
        return Err(
            "CORS: credentials 'include' requires Access-Control-Allow-Credentials: true".into(),
        );
    }
    Ok(())
}

/// Check a preflight response ("CORS-preflight fetch" steps 6-7).
pub fn preflight_check(
    status: u16,
    h: &HeaderMap,
    origin: &str,
    method: &str,
    headers: &[(String, String)],
    include_credentials: bool,
) -> Result<(), String> {
    if !(200..300).contains(&status) {
        return Err(format!("CORS preflight answered status {status}"));
    }
    cors_check(h, origin, include_credentials)?;
    let methods = list(h, "access-control-allow-methods");
    let wildcard_ok = !include_credentials;
    let safelisted_method = is_safelisted_method(method);
    let listed = methods.iter().any(|m| m == method);
    let star = wildcard_ok && methods.iter().any(|m| m == "*");
    if !(safelisted_method || listed || star) {
        return Err(format!("CORS preflight does not allow method {method}"));
    }
    let allowed: Vec<String> = list(h, "access-control-allow-headers")
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    for name in unsafe_header_names(headers) {
        let star = wildcard_ok && allowed.iter().any(|a| a == "*") && name != "authorization";
        if !star && !allowed.contains(&name) {
            return Err(format!("CORS preflight does not allow header {name}"));
        }
    }
    Ok(())
}

/// Fetch "CORS-preflight cache": what successful preflights allowed, per
/// (origin, URL, credentials), until their `Access-Control-Max-Age` runs out.
/// A request whose method and headers are all covered skips the preflight.
#[derive(Default)]
pub struct PreflightCache {
    entries: Mutex<HashMap<PreflightKey, PreflightEntry>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct PreflightKey {
    origin: String,
    url: String,
    include_credentials: bool,
}

#[derive(Default)]
struct PreflightEntry {
    /// Method and header-name cache entries with their expiry.
    methods: HashMap<String, Instant>,
    headers: HashMap<String, Instant>,
}

/// Fetch leaves the upper bound to the user agent; Chromium caps at 2 hours.
const PREFLIGHT_MAX_AGE_CAP: Duration = Duration::from_secs(2 * 60 * 60);
/// Fetch "CORS-preflight fetch" step 7.6: a missing or invalid
/// `Access-Control-Max-Age` means 5 seconds.
const PREFLIGHT_DEFAULT_MAX_AGE: Duration = Duration::from_secs(5);

impl PreflightCache {
    /// True when the cache holds a match for `method` ("method cache entry
    /// match", where `*` covers any method without credentials) and for every
    /// CORS-unsafe header name ("header-name cache entry match").
    pub fn covers(
        &self,
        origin: &str,
        url: &Url,
        include_credentials: bool,
        method: &str,
        headers: &[(String, String)],
        now: Instant,
    ) -> bool {
        let key = PreflightKey {
            origin: origin.to_string(),
            url: url.to_string(),
            include_credentials,
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = entries.get_mut(&key) else {
            return false;
        };
        entry.methods.retain(|_, exp| *exp > now);
        entry.headers.retain(|_, exp| *exp > now);
        let wildcard = !include_credentials;
        let method_ok = is_safelisted_method(method)
            || entry.methods.contains_key(method)
            || (wildcard && entry.methods.contains_key("*"));
        method_ok
            && unsafe_header_names(headers).iter().all(|name| {
                entry.headers.contains_key(name)
                    || (wildcard && name != "authorization" && entry.headers.contains_key("*"))
            })
    }

    /// Fetch "CORS-preflight fetch" step 7: after a passing preflight, add
    /// cache entries for the allowed methods (the request's method when the
    /// list is empty) and header names, for `Access-Control-Max-Age` seconds.
    pub fn store(
        &self,
        origin: &str,
        url: &Url,
        include_credentials: bool,
        method: &str,
        response: &HeaderMap,
        now: Instant,
    ) {
        let max_age = get(response, "access-control-max-age")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(PREFLIGHT_DEFAULT_MAX_AGE, Duration::from_secs)
            .min(PREFLIGHT_MAX_AGE_CAP);
        if max_age.is_zero() {
            return;
        }
        let expires = now + max_age;
        let mut methods = list(response, "access-control-allow-methods");
        if methods.is_empty() {
            methods.push(method.to_string());
        }
        let key = PreflightKey {
            origin: origin.to_string(),
            url: url.to_string(),
            include_credentials,
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.entry(key).or_default();
        for m in methods {
            entry.methods.insert(m, expires);
        }
        for h in list(response, "access-control-allow-headers") {
            entry.headers.insert(h.to_ascii_lowercase(), expires);
        }
    }
}

/// Fetch "CORS-safelisted response-header name" (without the exposed ones).
pub fn is_safelisted_response_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "cache-control"
            | "content-language"
            | "content-length"
            | "content-type"
            | "expires"
            | "last-modified"
            | "pragma"
    )
}

/// Fetch "forbidden response-header name": never visible to script.
pub fn is_forbidden_response_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("set-cookie") || name.eq_ignore_ascii_case("set-cookie2")
}

/// The header list of a filtered response: a `basic` one (`cors` false)
/// loses only the forbidden response headers; a `cors` one keeps just the
/// CORS-safelisted response headers and the names listed in
/// `Access-Control-Expose-Headers` (whose `*` counts only without
/// credentials).
pub fn filtered_response_headers(
    h: &HeaderMap,
    cors: bool,
    include_credentials: bool,
) -> Vec<(String, String)> {
    let expose: Vec<String> = list(h, "access-control-expose-headers")
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let expose_all = !include_credentials && expose.iter().any(|e| e == "*");
    h.iter()
        .filter(|(k, _)| {
            let name = k.as_str();
            !is_forbidden_response_header(name)
                && (!cors
                    || is_safelisted_response_header(name)
                    || expose_all
                    || expose.iter().any(|e| e == name))
        })
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Headers exposed to script for a stored Background Fetch response: the
/// filtered response's headers minus `Content-Range`/`Content-Length`, which
/// describe the transfer rather than the stored body.
pub fn exposed_headers(
    h: &HeaderMap,
    cors: bool,
    include_credentials: bool,
) -> Vec<(String, String)> {
    filtered_response_headers(h, cors, include_credentials)
        .into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "content-range" | "content-length"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::{HeaderName, HeaderValue};

    fn hm(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn checks() {
        let o = "https://a.test";
        assert!(cors_check(&hm(&[]), o, false).is_err());
        assert!(cors_check(&hm(&[("access-control-allow-origin", "*")]), o, false).is_ok());
        assert!(cors_check(&hm(&[("access-control-allow-origin", "*")]), o, true).is_err());
        assert!(cors_check(&hm(&[("access-control-allow-origin", o)]), o, true).is_err());
        assert!(
            cors_check(
                &hm(&[
                    ("access-control-allow-origin", "*"),
                    ("access-control-allow-origin", "*")
                ]),
                o,
                false
            )
            .is_err(),
            "a repeated Access-Control-Allow-Origin is not '*'"
        );
        assert!(cors_check(
            &hm(&[
                ("access-control-allow-origin", o),
                ("access-control-allow-credentials", "true")
            ]),
            o,
            true
        )
        .is_ok());
        let hdrs = vec![("X-Custom".to_string(), "1".to_string())];
        assert!(needs_preflight("GET", &hdrs));
        assert!(needs_preflight("PUT", &[]));
        assert!(!needs_preflight(
            "POST",
            &[("content-type".into(), "text/plain".into())]
        ));
        assert!(needs_preflight(
            "POST",
            &[("content-type".into(), "application/json".into())]
        ));
        let ok = hm(&[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "PUT"),
            ("access-control-allow-headers", "x-custom"),
        ]);
        assert!(preflight_check(200, &ok, o, "PUT", &hdrs, false).is_ok());
        assert!(preflight_check(200, &ok, o, "DELETE", &hdrs, false).is_err());
        assert!(preflight_check(404, &ok, o, "PUT", &hdrs, false).is_err());
        let resp = hm(&[
            ("content-type", "text/plain"),
            ("x-secret", "1"),
            ("x-shown", "2"),
            ("access-control-expose-headers", "X-Shown"),
            ("content-length", "5"),
            ("set-cookie", "a=b"),
        ]);
        let names: Vec<String> = exposed_headers(&resp, true, false)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(names, vec!["content-type", "x-shown"]);
        assert_eq!(exposed_headers(&resp, false, false).len(), 4);
    }

    #[test]
    fn preflight_cache_follows_max_age() {
        let o = "https://a.test";
        let url = Url::parse("https://b.test/x").unwrap();
        let hdrs = vec![("content-type".to_string(), "text/json".to_string())];
        let now = Instant::now();
        let cache = PreflightCache::default();
        assert!(!cache.covers(o, &url, false, "PUT", &hdrs, now));
        cache.store(
            o,
            &url,
            false,
            "PUT",
            &hm(&[
                ("access-control-allow-methods", "PUT"),
                ("access-control-allow-headers", "Content-Type"),
                ("access-control-max-age", "60"),
            ]),
            now,
        );
        assert!(cache.covers(o, &url, false, "PUT", &hdrs, now));
        assert!(!cache.covers(o, &url, false, "DELETE", &[], now));
        assert!(
            !cache.covers(o, &url, true, "PUT", &hdrs, now),
            "credentials are keyed"
        );
        let later = now + Duration::from_secs(61);
        assert!(!cache.covers(o, &url, false, "PUT", &hdrs, later));
        // Max-Age 0: nothing is cached; no Max-Age: 5 seconds.
        let fresh = PreflightCache::default();
        fresh.store(
            o,
            &url,
            false,
            "PUT",
            &hm(&[("access-control-max-age", "0")]),
            now,
        );
        assert!(!fresh.covers(o, &url, false, "PUT", &[], now));
        fresh.store(o, &url, false, "PUT", &hm(&[]), now);
        assert!(fresh.covers(o, &url, false, "PUT", &[], now + Duration::from_secs(4)));
        assert!(!fresh.covers(o, &url, false, "PUT", &[], now + Duration::from_secs(6)));
    }

    #[test]
    fn safelisted_request_headers_follow_the_standard() {
        assert!(is_safelisted_request_header("Accept", "text/html, */*"));
        assert!(!is_safelisted_request_header("accept", "a\"b"));
        assert!(is_safelisted_request_header(
            "accept-language",
            "en-US;q=0.9, *"
        ));
        assert!(!is_safelisted_request_header("accept-language", "en/US"));
        assert!(!is_safelisted_request_header("content-language", "de(ch)"));
        assert!(is_safelisted_request_header(
            "content-type",
            "text/plain;charset=UTF-8"
        ));
        assert!(!is_safelisted_request_header("content-type", "text/json"));
        assert!(!is_safelisted_request_header(
            "content-type",
            "text/plain; a=\"{}\""
        ));
        assert!(is_safelisted_request_header("range", "bytes=10-"));
        assert!(is_safelisted_request_header("range", "bytes=0-99"));
        assert!(!is_safelisted_request_header("range", "bytes=9-1"));
        assert!(!is_safelisted_request_header("range", "bytes=-5"));
        assert!(!is_safelisted_request_header("range", "bytes=0-1,3-4"));
        assert!(!is_safelisted_request_header("x-custom", "1"));
        assert!(!is_safelisted_request_header("accept", &"a".repeat(129)));
    }

    #[test]
    fn preflight_request_names_method_and_unsafe_headers() {
        let headers = vec![
            ("X-B".to_string(), "1".to_string()),
            ("accept".to_string(), "*/*".to_string()),
            ("x-a".to_string(), "2".to_string()),
        ];
        let h = preflight_request_headers("https://a.test", "PUT", &headers).unwrap();
        assert_eq!(h["origin"], "https://a.test");
        assert_eq!(h["access-control-request-method"], "PUT");
        assert_eq!(h["access-control-request-headers"], "x-a,x-b");
        let h = preflight_request_headers("null", "DELETE", &[]).unwrap();
        assert_eq!(h["origin"], "null");
        assert!(h.get("access-control-request-headers").is_none());
    }

    #[test]
    fn filtered_responses_hide_what_they_must() {
        let resp = hm(&[
            ("content-type", "text/plain"),
            ("content-length", "5"),
            ("x-secret", "1"),
            ("x-shown", "2"),
            ("set-cookie", "a=b"),
            ("set-cookie2", "c=d"),
        ]);
        let names =
            |h: Vec<(String, String)>| -> Vec<String> { h.into_iter().map(|(k, _)| k).collect() };
        assert_eq!(
            names(filtered_response_headers(&resp, false, false)),
            vec!["content-type", "content-length", "x-secret", "x-shown"]
        );
        assert_eq!(
            names(filtered_response_headers(&resp, true, false)),
            vec!["content-type", "content-length"]
        );
        let mut all = resp.clone();
        all.insert(
            "access-control-expose-headers",
            hyper::header::HeaderValue::from_static("*"),
        );
        let exposed = names(filtered_response_headers(&all, true, false));
        assert!(exposed.contains(&"x-secret".to_string()));
        assert!(!exposed.contains(&"set-cookie".to_string()));
        // With credentials `*` is a header name, not a wildcard.
        assert_eq!(
            names(filtered_response_headers(&all, true, true)),
            vec!["content-type", "content-length"]
        );
    }
}
