//! Validators (`ETag`, `Last-Modified`), conditional requests and `Range`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Builds a strong entity tag from a file's size and modification time.
pub fn make_etag(len: u64, mtime: Option<SystemTime>) -> String {
    let nanos = mtime
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("\"{len:x}-{nanos:x}\"")
}

/// Whether an `If-None-Match` header value matches `etag` (weak comparison,
/// as RFC 9110 prescribes for this header; `*` matches any current file).
pub fn if_none_match(header: &str, etag: &str) -> bool {
    let ours = strip_weak(etag);
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || (!candidate.is_empty() && strip_weak(candidate) == ours)
    })
}

/// Whether the file is unmodified since the `If-Modified-Since` date
/// (compared at one-second resolution). Unparseable dates never match.
pub fn not_modified_since(header: &str, mtime: SystemTime) -> bool {
    match httpdate::parse_http_date(header.trim()) {
        Ok(since) => unix_secs(mtime) <= unix_secs(since),
        Err(_) => false,
    }
}

/// Whether an `If-Range` value still matches the file, in which case the
/// `Range` header is honoured. Entity tags need a strong match; dates must
/// equal `Last-Modified` exactly.
pub fn if_range_matches(header: &str, etag: &str, mtime: Option<SystemTime>) -> bool {
    let header = header.trim();
    if header.starts_with('"') || header.starts_with("W/") {
        !header.starts_with("W/") && !etag.starts_with("W/") && header == etag
    } else {
        match (httpdate::parse_http_date(header), mtime) {
            (Ok(date), Some(mtime)) => unix_secs(date) == unix_secs(mtime),
            _ => false,
        }
    }
}

fn strip_weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Outcome of interpreting a `Range` header against a file of known length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOutcome {
    /// No (usable) range: serve the whole file with 200. Multi-range and
    /// syntactically invalid headers land here too, which RFC 9110 allows.
    Full,
    /// Serve bytes `start..=end` with 206.
    Partial {
        /// First byte offset (inclusive).
        start: u64,
        /// Last byte offset (inclusive).
        end: u64,
    },
    /// Reply 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

/// Interprets a single-range `Range: bytes=...` header for a file of `len`
/// bytes: `a-b`, `a-` and `-n` forms.
pub fn parse_range(header: &str, len: u64) -> RangeOutcome {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeOutcome::Full;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        return RangeOutcome::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeOutcome::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            // Absurdly long numbers saturate, which keeps them unsatisfiable
            // (as a start) or whole-file (as an end / suffix).
            Some(s.parse().unwrap_or(u64::MAX))
        }
    };
    match (first.is_empty(), last.is_empty()) {
        // bytes=-n : the last n bytes.
        (true, false) => match number(last) {
            Some(0) => RangeOutcome::Unsatisfiable,
            Some(_) if len == 0 => RangeOutcome::Unsatisfiable,
            Some(n) => RangeOutcome::Partial {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            None => RangeOutcome::Full,
        },
        // bytes=a- : from a to the end.
        (false, true) => match number(first) {
            Some(start) if start >= len => RangeOutcome::Unsatisfiable,
            Some(start) => RangeOutcome::Partial {
                start,
                end: len - 1,
            },
            None => RangeOutcome::Full,
        },
        // bytes=a-b
        (false, false) => match (number(first), number(last)) {
            (Some(start), Some(end)) if end < start => RangeOutcome::Unsatisfiable,
            (Some(start), Some(_)) if start >= len => RangeOutcome::Unsatisfiable,
            (Some(start), Some(end)) => RangeOutcome::Partial {
                start,
                end: end.min(len - 1),
            },
            _ => RangeOutcome::Full,
        },
        (true, true) => RangeOutcome::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use RangeOutcome::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-4", 10), Partial { start: 0, end: 4 });
        assert_eq!(parse_range("bytes=5-", 10), Partial { start: 5, end: 9 });
        assert_eq!(parse_range("bytes=-3", 10), Partial { start: 7, end: 9 });
        assert_eq!(parse_range("bytes=-30", 10), Partial { start: 0, end: 9 });
        assert_eq!(parse_range("bytes=8-100", 10), Partial { start: 8, end: 9 });
        assert_eq!(parse_range("bytes=9-9", 10), Partial { start: 9, end: 9 });
        assert_eq!(parse_range("bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=10-20", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-4", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), Unsatisfiable);
        assert_eq!(
            parse_range("bytes=99999999999999999999999-", 10),
            Unsatisfiable
        );
        // Ignored: unknown unit, garbage, multiple ranges.
        assert_eq!(parse_range("items=0-1", 10), Full);
        assert_eq!(parse_range("bytes=a-b", 10), Full);
        assert_eq!(parse_range("bytes=-", 10), Full);
        assert_eq!(parse_range("bytes=+1-2", 10), Full);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), Full);
    }

    #[test]
    fn etags_and_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let tag = make_etag(10, Some(t));
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert_ne!(tag, make_etag(11, Some(t)));
        assert!(if_none_match(&tag, &tag));
        assert!(if_none_match(&format!("\"x\", W/{tag}"), &tag));
        assert!(if_none_match("*", &tag));
        assert!(!if_none_match("\"other\"", &tag));
        assert!(!if_none_match("", &tag));

        let date = httpdate::fmt_http_date(t);
        assert!(not_modified_since(&date, t + Duration::from_millis(500)));
        assert!(!not_modified_since(&date, t + Duration::from_secs(1)));
        assert!(!not_modified_since("garbage", t));

        assert!(if_range_matches(&tag, &tag, Some(t)));
        assert!(!if_range_matches(&format!("W/{tag}"), &tag, Some(t)));
        assert!(if_range_matches(&date, &tag, Some(t)));
        assert!(!if_range_matches(
            &date,
            &tag,
            Some(t + Duration::from_secs(5))
        ));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn an_accepted_range_is_within_the_file(
                header in "(bytes=)?[ 0-9,-]{0,24}|[ -~]{0,32}",
                len in prop_oneof![0u64..64, any::<u64>()],
            ) {
                if let Partial { start, end } = parse_range(&header, len) {
                    prop_assert!(start <= end, "{header:?}: {start} > {end}");
                    prop_assert!(end < len, "{header:?}: {end} >= {len}");
                }
            }

            #[test]
            fn a_satisfiable_range_is_served_as_asked(
                len in 1u64..1 << 40,
                a in any::<u64>(),
                span in any::<u64>(),
            ) {
                let start = a % len;
                let last = start.saturating_add(span % len);
                prop_assert_eq!(
                    parse_range(&format!("bytes={start}-{last}"), len),
                    Partial { start, end: last.min(len - 1) }
                );
                prop_assert_eq!(
                    parse_range(&format!("bytes={start}-"), len),
                    Partial { start, end: len - 1 }
                );
                let n = span % (len + 8) + 1;
                prop_assert_eq!(
                    parse_range(&format!("bytes=-{n}"), len),
                    Partial { start: len.saturating_sub(n), end: len - 1 }
                );
            }

            #[test]
            fn a_range_starting_past_the_end_is_unsatisfiable(len in 0u64..1 << 40, past in 0u64..1 << 20) {
                prop_assert_eq!(parse_range(&format!("bytes={}-", len + past), len), Unsatisfiable);
            }

            #[test]
            fn if_none_match_finds_the_tag_in_any_list(
                tag in "[a-z0-9-]{1,12}",
                others in proptest::collection::vec("[a-z0-9-]{1,12}", 0..4),
                weak in any::<bool>(),
                pos in any::<prop::sample::Index>(),
                junk in "[ -~]{0,40}",
            ) {
                let etag = format!("\"{tag}\"");
                let mut list: Vec<String> = others
                    .iter()
                    .filter(|o| **o != tag)
                    .map(|o| format!("\"{o}\""))
                    .collect();
                let without = list.join(", ");
                let ours = if weak { format!("W/{etag}") } else { etag.clone() };
                list.insert(pos.index(list.len() + 1), ours);
                prop_assert!(if_none_match(&list.join(" , "), &etag));
                prop_assert!(!if_none_match(&without, &etag));
                // Arbitrary text never panics.
                let _ = if_none_match(&junk, &etag);
                let _ = if_range_matches(&junk, &etag, None);
            }
        }
    }
}
