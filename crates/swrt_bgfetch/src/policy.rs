//! Per-record request policy (Background Fetch, `fetch()`): URLs
//! that may be registered but must fail their record with `fetch-error`.
//! Checked before the first request and again for every redirect target.

use crate::types::PolicyContext;
use std::net::IpAddr;
use url::{Host, Url};

/// Fetch standard "bad port" list (https://fetch.spec.whatwg.org/#port-blocking).
pub const BAD_PORTS: &[u16] = &[
    0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101,
    102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427,
    465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
    993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667,
    6668, 6669, 6679, 6697, 10080,
];

/// True for `localhost` (and `*.localhost`), 127.0.0.0/8 and ::1: the hosts
/// for which plain http is allowed (Secure Contexts "is origin potentially
/// trustworthy?" steps 3-4). A name that merely resolves to loopback (a test
/// host mapped by a resolver) is not: a Mixed Content check decides on the
/// URL, before any name is resolved.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Check one URL against scheme, bad-port, mixed-content and CSP rules.
/// `Err` carries the reason for the record's TypeError.
pub fn check_url(url: &Url, origin: &Url, policy: &PolicyContext) -> Result<(), String> {
    check_request_url(url, origin, policy, 0)
}

/// [`check_url`] for a request that has followed `redirect_count` redirects
/// (CSP ignores source paths after a redirect).
pub fn check_request_url(
    url: &Url,
    origin: &Url,
    policy: &PolicyContext,
    redirect_count: u32,
) -> Result<(), String> {
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => {
            // Mixed content: an https origin may not fetch plain http (except
            // loopback, handled above); a non-https origin gets the same
            // answer because background fetch requires a secure transport.
            if origin.scheme() == "https" {
                return Err(format!(
                    "mixed content: {url} requested from {}",
                    origin.origin().ascii_serialization()
                ));
            }
            return Err(format!(
                "insecure URL {url}: only https and loopback http are fetched"
            ));
        }
        other => {
            return Err(format!(
                "scheme {other:?} is not supported by background fetch"
            ))
        }
    }
    if let Some(port) = url.port() {
        if BAD_PORTS.contains(&port) {
            return Err(format!("port {port} is blocked (Fetch standard bad port)"));
        }
    }
    // Every policy must allow the request.
    if policy
        .csp_connect_src
        .iter()
        .any(|list| !csp_allows_after_redirects(list, url, origin, redirect_count))
    {
        return Err(format!(
            "Refused to connect to {url}: violates Content Security Policy directive connect-src"
        ));
    }
    Ok(())
}

/// CSP3 "Does url match source list in origin with redirect count?" for a
/// `connect-src` list and a request that was not redirected (nonces and
/// hashes do not apply to connect-src).
pub fn csp_allows(list: &[String], url: &Url, origin: &Url) -> bool {
    csp_allows_after_redirects(list, url, origin, 0)
}

/// [`csp_allows`] with the request's redirect count: after a redirect a
/// source's path is not compared ("Does url match expression in origin with
/// redirect count?" step 11), so a redirect does not reveal the target path.
pub fn csp_allows_after_redirects(
    list: &[String],
    url: &Url,
    origin: &Url,
    redirect_count: u32,
) -> bool {
    let tokens: Vec<&str> = list
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if tokens.is_empty()
        || tokens.iter().any(|t| t.eq_ignore_ascii_case("'none'")) && tokens.len() == 1
    {
        return false;
    }
    tokens
        .iter()
        .any(|t| source_matches(t, url, origin, redirect_count))
}

fn scheme_part_matches(a: &str, b: &str) -> bool {
    // CSP3 "scheme-part matches": exact, or an upgrade http->https / ws->wss.
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    a == b
        || (a == "http" && b == "https")
        || (a == "ws" && (b == "wss" || b == "http" || b == "https"))
        || (a == "wss" && b == "https")
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

fn source_matches(token: &str, url: &Url, origin: &Url, redirect_count: u32) -> bool {
    let lower = token.to_ascii_lowercase();
    if lower == "'none'" {
        return false;
    }
    if lower == "*" {
        return matches!(url.scheme(), "http" | "https" | "ws" | "wss");
    }
    if lower == "'self'" {
        // Same origin, or the secure upgrade of it on the default port.
        if url.origin() == origin.origin() {
            return true;
        }
        return origin.host_str() == url.host_str()
            && scheme_part_matches(origin.scheme(), url.scheme())
            && (url.port_or_known_default() == origin.port_or_known_default()
                || (url.port().is_none() && origin.port().is_none()));
    }
    if lower.starts_with('\'') {
        return false; // keywords that do not apply to connect-src
    }
    // scheme-source: "https:".
    if let Some(s) = lower.strip_suffix(':') {
        if !s.contains('/') && !s.contains('.') {
            return scheme_part_matches(s, url.scheme());
        }
    }
    // host-source: [scheme "://"] host [":" port] [path]
    let (scheme, rest) = match lower.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, lower.as_str()),
    };
    match scheme {
        Some(s) => {
            if !scheme_part_matches(s, url.scheme()) {
                return false;
            }
        }
        None => {
            // No scheme: the protected resource's scheme, or its upgrade.
            if !scheme_part_matches(origin.scheme(), url.scheme()) {
                return false;
            }
        }
    }
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (h, Some(p)),
        _ => (hostport, None),
    };
    let Some(url_host) = url.host_str().map(|h| h.to_ascii_lowercase()) else {
        return false;
    };
    let host_ok = if let Some(suffix) = host.strip_prefix("*.") {
        url_host.ends_with(&format!(".{suffix}"))
    } else if host == "*" {
        true
    } else {
        url_host == host
    };
    if !host_ok {
        return false;
    }
    let url_port = url.port_or_known_default();
    let port_ok = match port {
        Some("*") => true,
        Some(p) => p.parse::<u16>().ok() == url_port,
        None => {
            let dp = scheme
                .and_then(default_port)
                .or_else(|| default_port(origin.scheme()));
            url_port == dp
                // an upgraded scheme on its default port is allowed too
                || url_port == default_port(url.scheme()) && url.port().is_none()
        }
    };
    if !port_ok {
        return false;
    }
    if redirect_count > 0 {
        return true;
    }
    match path {
        None | Some("") | Some("/") => true,
        Some(p) => {
            let url_path = url.path();
            if p.ends_with('/') {
                url_path.starts_with(p)
            } else {
                url_path == p
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn schemes_ports_mixed() {
        let o = u("https://a.test");
        let p = PolicyContext::default();
        assert!(check_url(&u("https://a.test/x"), &o, &p).is_ok());
        assert!(check_url(&u("http://127.0.0.1:8080/x"), &o, &p).is_ok());
        assert!(check_url(&u("http://[::1]:8080/x"), &o, &p).is_ok());
        assert!(check_url(&u("http://localhost:1234/x"), &o, &p).is_ok());
        assert!(check_url(&u("http://a.test/x"), &o, &p)
            .unwrap_err()
            .contains("mixed"));
        assert!(check_url(&u("wss://a.test/x"), &o, &p).is_err());
        assert!(check_url(&u("file:///etc/passwd"), &o, &p).is_err());
        assert!(check_url(&u("data:,x"), &o, &p).is_err());
        assert!(check_url(&u("https://example.com:587/"), &o, &p)
            .unwrap_err()
            .contains("587"));
        assert!(check_url(&u("https://example.com:10080/"), &o, &p).is_err());
    }

    #[test]
    fn csp_connect_src() {
        let o = u("https://a.test");
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(csp_allows(&l(&["'self'"]), &u("https://a.test/x"), &o));
        assert!(!csp_allows(&l(&["'self'"]), &u("https://b.test/x"), &o));
        assert!(!csp_allows(&l(&["'none'"]), &u("https://a.test/x"), &o));
        assert!(csp_allows(&l(&["https:"]), &u("https://b.test/x"), &o));
        assert!(csp_allows(&l(&["*.b.test"]), &u("https://c.b.test/x"), &o));
        assert!(!csp_allows(&l(&["*.b.test"]), &u("https://b.test/x"), &o));
        assert!(csp_allows(
            &l(&["https://b.test:8443/api/"]),
            &u("https://b.test:8443/api/v1"),
            &o
        ));
        assert!(!csp_allows(
            &l(&["https://b.test:8443/api/"]),
            &u("https://b.test:8443/other"),
            &o
        ));
        assert!(!csp_allows(
            &l(&["https://b.test/file"]),
            &u("https://b.test/file2"),
            &o
        ));
        assert!(csp_allows(&l(&["b.test:*"]), &u("https://b.test:9/x"), &o));
        assert!(csp_allows(&l(&["*"]), &u("https://z.test/"), &o));
        // After a redirect the path part is not compared.
        let api = l(&["https://b.test:8443/api/"]);
        assert!(!csp_allows(&api, &u("https://b.test:8443/other"), &o));
        assert!(csp_allows_after_redirects(
            &api,
            &u("https://b.test:8443/other"),
            &o,
            1
        ));
        assert!(!csp_allows_after_redirects(
            &api,
            &u("https://c.test:8443/api/"),
            &o,
            1
        ));
        let p = PolicyContext {
            csp_connect_src: vec![l(&["'self'"])],
            is_secure_context: true,
        };
        assert!(check_url(&u("https://b.test/"), &o, &p)
            .unwrap_err()
            .contains("connect-src"));
        // Several policies: each must allow the request.
        let both = PolicyContext {
            csp_connect_src: vec![l(&["https:"]), l(&["'self'"])],
            is_secure_context: true,
        };
        assert!(check_url(&u("https://a.test/x"), &o, &both).is_ok());
        assert!(check_url(&u("https://b.test/x"), &o, &both).is_err());
    }

    #[test]
    fn policies_stored_as_one_optional_list_still_read() {
        let read = |json: &str| -> PolicyContext { serde_json::from_str(json).unwrap() };
        assert!(read(r#"{"csp_connect_src": null}"#)
            .csp_connect_src
            .is_empty());
        assert_eq!(
            read(r#"{"csp_connect_src": ["'self'"]}"#).csp_connect_src,
            [vec!["'self'".to_string()]]
        );
        assert_eq!(
            read(r#"{"csp_connect_src": [["'self'"], ["https:"]]}"#)
                .csp_connect_src
                .len(),
            2
        );
        assert!(read("{}").csp_connect_src.is_empty());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn no_csp() -> PolicyContext {
            PolicyContext::default()
        }

        /// URL-ish text: some parse, many do not.
        fn url_text() -> impl Strategy<Value = String> {
            "(https?|wss?|ftp|file|data|blob|about|javascript):(//)?[a-zA-Z0-9.%\\[\\]:@*-]{0,30}(:[0-9]{0,6})?(/[ -~]{0,20})?"
        }

        /// A CSP connect-src token, well-formed or not.
        fn csp_token() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("'self'".to_string()),
                Just("'none'".to_string()),
                Just("*".to_string()),
                "(https?:|wss?:)?(//)?[a-z0-9.*-]{0,12}(:[0-9*]{0,5})?(/[a-z/]{0,8})?",
                "[ -~]{0,16}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1500))]

            #[test]
            fn checks_never_panic(
                url in url_text(),
                origin in url_text(),
                csp in proptest::collection::vec(proptest::collection::vec(csp_token(), 0..4), 0..3),
                redirects in 0u32..30,
            ) {
                let (Ok(url), Ok(origin)) = (Url::parse(&url), Url::parse(&origin)) else {
                    return Ok(());
                };
                let policy = PolicyContext { csp_connect_src: csp, is_secure_context: true };
                let _ = check_request_url(&url, &origin, &policy, redirects);
                let _ = is_loopback(&url);
            }

            #[test]
            fn a_bad_port_is_always_refused(
                i in 0..BAD_PORTS.len(),
                host in "[a-z]{1,10}\\.test|127\\.0\\.0\\.1|localhost",
                scheme in "https?",
            ) {
                let port = BAD_PORTS[i];
                let origin = u("https://a.test");
                if let Ok(url) = Url::parse(&format!("{scheme}://{host}:{port}/x")) {
                    // A default port is dropped by the URL parser: it is not
                    // a port of the URL any more.
                    if url.port().is_some() {
                        prop_assert!(check_url(&url, &origin, &no_csp()).is_err());
                    }
                }
            }

            #[test]
            fn https_on_any_other_port_is_allowed(port in 1u16.., host in "[a-z]{1,10}\\.test") {
                prop_assume!(!BAD_PORTS.contains(&port));
                let url = u(&format!("https://{host}:{port}/x"));
                prop_assert!(check_url(&url, &u("https://a.test"), &no_csp()).is_ok());
            }

            #[test]
            fn plain_http_is_allowed_only_to_loopback(a in any::<u8>(), b in any::<u8>(), c in any::<u8>(), d in any::<u8>()) {
                let origin = u("https://a.test");
                let url = u(&format!("http://{a}.{b}.{c}.{d}:8080/x"));
                prop_assert_eq!(check_url(&url, &origin, &no_csp()).is_ok(), a == 127);
            }

            #[test]
            fn csp_none_refuses_and_self_allows_the_same_origin(
                host in "[a-z]{1,10}\\.test",
                port in proptest::option::of(1024u16..),
                path in "(/[a-z0-9]{0,6}){0,3}",
                redirects in 0u32..5,
            ) {
                prop_assume!(port.is_none_or(|p| !BAD_PORTS.contains(&p)));
                let authority = match port {
                    Some(p) => format!("{host}:{p}"),
                    None => host.clone(),
                };
                let origin = u(&format!("https://{authority}"));
                let url = u(&format!("https://{authority}{path}"));
                let none = PolicyContext { csp_connect_src: vec![vec!["'none'".into()]], is_secure_context: true };
                let own = PolicyContext { csp_connect_src: vec![vec!["'self'".into()]], is_secure_context: true };
                prop_assert!(check_request_url(&url, &origin, &none, redirects).is_err());
                prop_assert!(check_request_url(&url, &origin, &own, redirects).is_ok());
            }
        }
    }
}
