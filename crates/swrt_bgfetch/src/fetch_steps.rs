//! Steps of the Fetch standard that the engine's downloads and the
//! runtime's `fetch()` share: recognising a redirect, resolving its
//! `Location`, the method rewrite of "HTTP-redirect fetch", and the
//! null-body statuses.

use hyper::header::{HeaderMap, HeaderValue, LOCATION};
use url::Url;

/// Fetch "redirect status": 301, 302, 303, 307 or 308.
pub fn is_redirect_status(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Fetch "null body status": 101, 103, 204, 205 or 304. A response with one
/// has no body, whatever its headers say.
pub fn is_null_body_status(status: u16) -> bool {
    matches!(status, 101 | 103 | 204 | 205 | 304)
}

/// The `Location` of a response that redirects ("HTTP fetch" step 4.4:
/// a redirect status with a `Location` header); `None` for any other
/// response, which is then the final one.
pub fn redirect_location(status: u16, headers: &HeaderMap) -> Option<&HeaderValue> {
    if is_redirect_status(status) {
        headers.get(LOCATION)
    } else {
        None
    }
}

/// Why a `Location` header gives no URL to follow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// The header value is not visible ASCII.
    #[error("invalid Location header")]
    NotAscii,
    /// The value does not parse as a URL relative to the response's URL.
    #[error("invalid redirect target {location:?}: {reason}")]
    Invalid {
        /// The header value.
        location: String,
        /// What the URL parser said.
        reason: String,
    },
}

/// "Location URL": `location` parsed relative to the URL that answered.
pub fn resolve_location(current: &Url, location: &HeaderValue) -> Result<Url, LocationError> {
    let location = location.to_str().map_err(|_| LocationError::NotAscii)?;
    current.join(location).map_err(|e| LocationError::Invalid {
        location: location.to_string(),
        reason: e.to_string(),
    })
}

/// "HTTP-redirect fetch" step 12: a 301 or 302 turns POST into GET, a 303
/// turns every method but GET and HEAD into GET; the request body and its
/// headers are dropped with it.
pub fn redirect_rewrites_to_get(status: u16, method: &str) -> bool {
    ((status == 301 || status == 302) && method == "POST")
        || (status == 303 && !matches!(method, "GET" | "HEAD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_redirect_statuses_with_a_location_redirect() {
        let mut h = HeaderMap::new();
        assert_eq!(redirect_location(302, &h), None);
        h.insert(LOCATION, HeaderValue::from_static("/next"));
        for s in [301, 302, 303, 307, 308] {
            assert_eq!(redirect_location(s, &h), h.get(LOCATION), "{s}");
        }
        for s in [200, 300, 304, 305, 306, 404] {
            assert_eq!(redirect_location(s, &h), None, "{s}");
        }
    }

    #[test]
    fn location_resolves_against_the_current_url() {
        let cur = Url::parse("https://a.test/dir/file?q").unwrap();
        let next = resolve_location(&cur, &HeaderValue::from_static("../other#f")).unwrap();
        assert_eq!(next.as_str(), "https://a.test/other#f");
        let abs = resolve_location(&cur, &HeaderValue::from_static("http://b.test/")).unwrap();
        assert_eq!(abs.as_str(), "http://b.test/");
        assert!(matches!(
            resolve_location(&cur, &HeaderValue::from_static("http://[::1")),
            Err(LocationError::Invalid { .. })
        ));
        let bytes = HeaderValue::from_bytes(b"/caf\xe9").unwrap();
        assert_eq!(resolve_location(&cur, &bytes), Err(LocationError::NotAscii));
    }

    #[test]
    fn method_rewrite_follows_http_redirect_fetch() {
        assert!(redirect_rewrites_to_get(301, "POST"));
        assert!(redirect_rewrites_to_get(302, "POST"));
        assert!(!redirect_rewrites_to_get(301, "PUT"));
        assert!(redirect_rewrites_to_get(303, "PUT"));
        assert!(redirect_rewrites_to_get(303, "POST"));
        assert!(!redirect_rewrites_to_get(303, "HEAD"));
        assert!(!redirect_rewrites_to_get(303, "GET"));
        assert!(!redirect_rewrites_to_get(307, "POST"));
        assert!(!redirect_rewrites_to_get(308, "POST"));
    }

    #[test]
    fn null_body_statuses() {
        for s in [101, 103, 204, 205, 304] {
            assert!(is_null_body_status(s), "{s}");
        }
        for s in [100, 200, 206, 301, 404] {
            assert!(!is_null_body_status(s), "{s}");
        }
    }
}
