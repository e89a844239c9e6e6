//! `Content-Range` of a `206 Partial Content` response (RFC 9110 section
//! 14.4), as the downloader reads it when it resumes a body with `Range`.

use std::fmt;

/// `Content-Range: bytes first-last/complete`; `complete` is `None` for
/// `/*` (length unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// Offset of the first byte sent.
    pub first: u64,
    /// Offset of the last byte sent (inclusive).
    pub last: u64,
    /// Length of the whole representation, when the server knows it.
    pub complete: Option<u64>,
}

impl ContentRange {
    /// Parse a satisfied byte range. `None` for anything else, including
    /// the unsatisfied form `bytes */N` and ranges that are invalid by the
    /// RFC (`last` before `first`, or not below `complete`).
    pub fn parse(value: &str) -> Option<ContentRange> {
        let rest = value.trim().strip_prefix("bytes ")?;
        let (range, complete) = rest.split_once('/')?;
        let (first, last) = range.split_once('-')?;
        let complete = match complete.trim() {
            "*" => None,
            n => Some(digits(n)?),
        };
        let r = ContentRange {
            first: digits(first.trim())?,
            last: digits(last.trim())?,
            complete,
        };
        let valid = r.first <= r.last && r.complete.is_none_or(|c| r.last < c);
        valid.then_some(r)
    }

    /// Bytes in the range.
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// A range is never empty (`first <= last`); here for clippy's sake.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for ContentRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bytes {}-{}/", self.first, self.last)?;
        match self.complete {
            Some(c) => write!(f, "{c}"),
            None => f.write_str("*"),
        }
    }
}

/// A decimal number of ASCII digits only (no sign, no spaces), that fits.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        let r = ContentRange::parse("bytes 10-19/20").unwrap();
        assert_eq!(
            (r.first, r.last, r.complete, r.len()),
            (10, 19, Some(20), 10)
        );
        assert_eq!(ContentRange::parse("bytes 0-0/*").unwrap().complete, None);
        for bad in [
            "bytes */20",
            "bytes 10-9/20",
            "bytes 10-20/20",
            "bytes -1-5/20",
            "bytes +1-5/20",
            "items 0-1/2",
            "bytes 0-1",
            "bytes 0-99999999999999999999/*",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parsing_any_text_never_panics_and_accepts_only_valid_ranges(s in ".{0,64}") {
            if let Some(r) = ContentRange::parse(&s) {
                prop_assert!(r.first <= r.last);
                if let Some(c) = r.complete {
                    prop_assert!(r.last < c);
                }
            }
        }

        #[test]
        fn header_like_text_never_panics(
            s in "(bytes )?[0-9*-]{0,24}(/[0-9*]{0,22})?"
        ) {
            if let Some(r) = ContentRange::parse(&s) {
                prop_assert!(r.first <= r.last);
                prop_assert_eq!(ContentRange::parse(&r.to_string()), Some(r));
            }
        }

        #[test]
        fn valid_ranges_round_trip(
            first in any::<u64>(),
            span in any::<u64>(),
            extra in proptest::option::of(1..=u64::MAX),
        ) {
            let last = first.saturating_add(span);
            let complete = extra.and_then(|e| last.checked_add(e));
            let r = ContentRange { first, last, complete };
            prop_assert_eq!(ContentRange::parse(&r.to_string()), Some(r));
            // Optional whitespace around the value is allowed.
            prop_assert_eq!(ContentRange::parse(&format!("  {r} ")), Some(r));
        }
    }
}
