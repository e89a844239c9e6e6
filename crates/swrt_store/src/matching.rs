//! The Cache API's "request matches cached item" algorithm
//! (https://w3c.github.io/ServiceWorker/#request-matches-cached-item-algorithm),
//! shared by Cache API queries and `BackgroundFetchRegistration.matchAll()`.

use url::Url;

/// `CacheQueryOptions`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatchOptions {
    /// Ignore the query string of both URLs.
    pub ignore_search: bool,
    /// Do not require GET.
    pub ignore_method: bool,
    /// Do not consult the cached response's `Vary`.
    pub ignore_vary: bool,
}

/// The parts of a request that matching looks at.
#[derive(Debug, Clone, Copy)]
pub struct MatchRequest<'a> {
    /// Method (compared case-sensitively to `GET`, as normalised methods are upper case).
    pub method: &'a str,
    /// Absolute URL.
    pub url: &'a str,
    /// Header list.
    pub headers: &'a [(String, String)],
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<String> {
    // Combine duplicates the way Fetch's "get" does (", "-joined).
    let vals: Vec<&'a str> = h
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    if vals.is_empty() {
        None
    } else {
        Some(vals.join(", "))
    }
}

fn normalise(url: &str, ignore_search: bool) -> Option<Url> {
    let mut u = Url::parse(url).ok()?;
    u.set_fragment(None);
    if ignore_search {
        u.set_query(None);
    }
    Some(u)
}

/// "Request matches cached item". `cached_response_headers` is `None` when
/// the cached item has no response yet (a background-fetch record still
/// downloading), which the algorithm treats as "no Vary".
///
/// A Chromium behaviour adopted over the Cache API's matching: a cached
/// request whose method is not GET only matches with `ignore_method`, so a PUT
/// record is not returned for a GET query.
pub fn request_matches_cached_item(
    query: MatchRequest<'_>,
    cached: MatchRequest<'_>,
    cached_response_headers: Option<&[(String, String)]>,
    opts: MatchOptions,
) -> bool {
    // Step 1: ignoreMethod false and the query is not GET -> false.
    if !opts.ignore_method && (query.method != "GET" || cached.method != "GET") {
        return false;
    }
    // Steps 2-4: compare URLs with fragments excluded, queries too if ignoreSearch.
    let (Some(q), Some(c)) = (
        normalise(query.url, opts.ignore_search),
        normalise(cached.url, opts.ignore_search),
    ) else {
        return false;
    };
    if q != c {
        return false;
    }
    // Step 5: no response, ignoreVary, or no Vary header -> true.
    let Some(resp) = cached_response_headers else {
        return true;
    };
    if opts.ignore_vary {
        return true;
    }
    let Some(vary) = header(resp, "vary") else {
        return true;
    };
    // Step 6: every Vary field must agree; `*` never matches.
    for field in vary.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        if field == "*" {
            return false;
        }
        if header(cached.headers, field) != header(query.headers, field) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn matching_rules() {
        let none = h(&[]);
        let q = |m, u| MatchRequest {
            method: m,
            url: u,
            headers: &none,
        };
        let o = MatchOptions::default();
        assert!(request_matches_cached_item(
            q("GET", "https://a/x#f"),
            q("GET", "https://a/x"),
            None,
            o
        ));
        assert!(!request_matches_cached_item(
            q("GET", "https://a/x?1"),
            q("GET", "https://a/x"),
            None,
            o
        ));
        let is = MatchOptions {
            ignore_search: true,
            ..o
        };
        assert!(request_matches_cached_item(
            q("GET", "https://a/x?1"),
            q("GET", "https://a/x?2"),
            None,
            is
        ));
        assert!(!request_matches_cached_item(
            q("POST", "https://a/x"),
            q("GET", "https://a/x"),
            None,
            o
        ));
        assert!(!request_matches_cached_item(
            q("GET", "https://a/x"),
            q("PUT", "https://a/x"),
            None,
            o
        ));
        let im = MatchOptions {
            ignore_method: true,
            ..o
        };
        assert!(request_matches_cached_item(
            q("GET", "https://a/x"),
            q("PUT", "https://a/x"),
            None,
            im
        ));

        let vary = h(&[("Vary", "Accept")]);
        let a1 = h(&[("accept", "text/html")]);
        let a2 = h(&[("Accept", "image/png")]);
        let r1 = MatchRequest {
            method: "GET",
            url: "https://a/x",
            headers: &a1,
        };
        let r2 = MatchRequest {
            method: "GET",
            url: "https://a/x",
            headers: &a2,
        };
        assert!(request_matches_cached_item(r1, r1, Some(&vary), o));
        assert!(!request_matches_cached_item(r2, r1, Some(&vary), o));
        let iv = MatchOptions {
            ignore_vary: true,
            ..o
        };
        assert!(request_matches_cached_item(r2, r1, Some(&vary), iv));
        let star = h(&[("vary", "*")]);
        assert!(!request_matches_cached_item(r1, r1, Some(&star), o));
    }
}
