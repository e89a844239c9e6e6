//! CORS for cross-origin records (Fetch standard "CORS protocol"): simple vs
//! preflighted requests, the CORS check, and response-header filtering for
//! `cors`-tainted responses.

use reqwest::header::HeaderMap;
use url::Url;

/// True when `url`'s origin differs from the fetch's origin.
pub fn is_cross_origin(url: &Url, origin: &Url) -> bool {
    url.origin() != origin.origin()
}

/// Fetch "CORS-safelisted request-header" (simplified to the commonly used
/// names; `range` only matters for resumes, which send it after the CORS check
/// of the first response — see the downloader).
pub fn is_safelisted_request_header(name: &str, value: &str) -> bool {
    if value.len() > 128 {
        return false;
    }
    match name.to_ascii_lowercase().as_str() {
        "accept" | "accept-language" | "content-language" => value.bytes().all(|b| {
            b != b'"'
                && b != b'('
                && b != b')'
                && b != b':'
                && b != b'<'
                && b != b'>'
                && b != b'?'
                && b != b'@'
                && b != b'['
                && b != b'\\'
                && b != b']'
                && b != b'{'
                && b != b'}'
                && b >= 0x20
                && b != 0x7f
        }),
        "content-type" => {
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
    !matches!(method, "GET" | "HEAD" | "POST") || !unsafe_header_names(headers).is_empty()
}

fn get<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
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
    if include_credentials && get(h, "access-control-allow-credentials") != Some("true") {
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
    let safelisted_method = matches!(method, "GET" | "HEAD" | "POST");
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

/// Headers exposed to script for a stored response. Always drops
/// `Set-Cookie`/`Set-Cookie2`, and (BACKGROUND-FETCH.md "Running a fetch")
/// `Content-Range`/`Content-Length`, which describe the transfer rather than
/// the stored body. For `cors` responses keeps only the CORS-safelisted
/// response headers plus `Access-Control-Expose-Headers`.
pub fn exposed_headers(
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
        .filter_map(|(k, v)| {
            let name = k.as_str();
            if matches!(
                name,
                "set-cookie" | "set-cookie2" | "content-range" | "content-length"
            ) {
                return None;
            }
            if cors {
                let safelisted = matches!(
                    name,
                    "cache-control"
                        | "content-language"
                        | "content-type"
                        | "expires"
                        | "last-modified"
                        | "pragma"
                );
                if !safelisted && !expose_all && !expose.iter().any(|e| e == name) {
                    return None;
                }
            }
            Some((
                name.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

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
}
