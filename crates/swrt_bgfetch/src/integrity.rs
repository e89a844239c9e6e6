//! Subresource Integrity ("SRI") for `Request.integrity`: parse the metadata,
//! hash a body as its bytes arrive, and decide whether the bytes match.
//! Fetch "main fetch" makes a mismatch a network error; `fetch()` and
//! Background Fetch records both use this.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The hash algorithms SRI knows, weakest first (SRI "getPrioritizedHashFunction").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Algorithm {
    /// `sha256`
    Sha256,
    /// `sha384`
    Sha384,
    /// `sha512`
    Sha512,
}

impl Algorithm {
    fn from_token(token: &str) -> Option<Self> {
        match token.to_ascii_lowercase().as_str() {
            "sha256" => Some(Algorithm::Sha256),
            "sha384" => Some(Algorithm::Sha384),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

/// Parsed integrity metadata: the expected digests of the strongest
/// algorithm named (SRI "get the strongest metadata from set").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    algorithm: Algorithm,
    /// Expected values in standard base64 (base64url input is normalised).
    expected: Vec<String>,
}

impl Metadata {
    /// SRI "parse metadata". `None` when no token names a supported
    /// algorithm: such metadata (including the empty string) matches any
    /// body ("does response match metadataList" step 3).
    pub fn parse(integrity: &str) -> Option<Self> {
        let mut parsed: Vec<(Algorithm, String)> = Vec::new();
        for token in integrity.split_ascii_whitespace() {
            // "alg-value?options": options are reserved and ignored.
            let token = token.split('?').next().unwrap_or("");
            let Some((alg, value)) = token.split_once('-') else {
                continue;
            };
            let Some(alg) = Algorithm::from_token(alg) else {
                continue;
            };
            let value: String = value
                .chars()
                .map(|c| match c {
                    '-' => '+',
                    '_' => '/',
                    c => c,
                })
                .collect();
            parsed.push((alg, value.trim_end_matches('=').to_string()));
        }
        let strongest = parsed.iter().map(|(a, _)| *a).max()?;
        Some(Metadata {
            algorithm: strongest,
            expected: parsed
                .into_iter()
                .filter(|(a, _)| *a == strongest)
                .map(|(_, v)| v)
                .collect(),
        })
    }

    /// A hasher for this metadata's algorithm.
    pub fn hasher(&self) -> Hasher {
        Hasher::new(self.algorithm)
    }

    /// SRI "does response match metadataList" step 5: any expected value of
    /// the strongest algorithm equals the body's digest.
    pub fn matches(&self, digest: &[u8]) -> bool {
        let actual = STANDARD.encode(digest);
        let actual = actual.trim_end_matches('=');
        self.expected.iter().any(|e| e == actual)
    }

    /// Hash `bytes` whole and compare (for bodies already in memory).
    pub fn matches_bytes(&self, bytes: &[u8]) -> bool {
        let mut h = self.hasher();
        h.update(bytes);
        self.matches(&h.finish())
    }
}

/// A running hash of a body.
#[derive(Clone)]
pub enum Hasher {
    /// SHA-256 state.
    Sha256(Sha256),
    /// SHA-384 state.
    Sha384(Sha384),
    /// SHA-512 state.
    Sha512(Sha512),
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Hasher::Sha256(_) => "Hasher(sha256)",
            Hasher::Sha384(_) => "Hasher(sha384)",
            Hasher::Sha512(_) => "Hasher(sha512)",
        })
    }
}

impl Hasher {
    /// A fresh hash state.
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha384 => Hasher::Sha384(Sha384::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    /// Feed the next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha384(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(alg: Algorithm, body: &[u8]) -> String {
        let mut h = Hasher::new(alg);
        h.update(body);
        STANDARD.encode(h.finish())
    }

    #[test]
    fn parse_and_match() {
        let body = b"alert('Hello, world.');";
        let s256 = b64(Algorithm::Sha256, body);
        let s384 = b64(Algorithm::Sha384, body);
        let s512 = b64(Algorithm::Sha512, body);
        for alg_value in [
            format!("sha256-{s256}"),
            format!("sha384-{s384}"),
            format!("sha512-{s512}"),
        ] {
            assert!(Metadata::parse(&alg_value).unwrap().matches_bytes(body));
            assert!(!Metadata::parse(&alg_value).unwrap().matches_bytes(b"other"));
        }
        // Several values of one algorithm: any may match.
        let m = Metadata::parse(&format!("sha256-AAAA sha256-{s256}")).unwrap();
        assert!(m.matches_bytes(body));
        // Only the strongest algorithm counts: a right sha256 next to a wrong
        // sha512 fails.
        let m = Metadata::parse(&format!("sha256-{s256} sha512-AAAA")).unwrap();
        assert!(!m.matches_bytes(body));
        // Options and unknown algorithms are ignored; so is missing padding,
        // and base64url spelling.
        let m = Metadata::parse(&format!("md5-xyz sha384-{s384}?foo=bar")).unwrap();
        assert!(m.matches_bytes(body));
        let url = s512.replace('+', "-").replace('/', "_");
        let m = Metadata::parse(&format!("sha512-{}", url.trim_end_matches('='))).unwrap();
        assert!(m.matches_bytes(body));
        // Nothing usable: no check.
        assert_eq!(Metadata::parse(""), None);
        assert_eq!(Metadata::parse("md5-abc sha1-def"), None);
    }

    #[test]
    fn streaming_equals_whole() {
        let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let m = Metadata::parse(&format!("sha384-{}", b64(Algorithm::Sha384, &body))).unwrap();
        let mut h = m.hasher();
        for chunk in body.chunks(7_919) {
            h.update(chunk);
        }
        assert!(m.matches(&h.finish()));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn digest(alg: &str, body: &[u8]) -> Vec<u8> {
            let mut h = Metadata::parse(&format!("{alg}-x")).unwrap().hasher();
            h.update(body);
            h.finish()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(500))]

            #[test]
            fn parsing_any_text_never_panics(s in "[ -~\t\n]{0,80}") {
                if let Some(m) = Metadata::parse(&s) {
                    let _ = m.matches_bytes(s.as_bytes());
                }
            }

            #[test]
            fn the_digest_of_a_body_matches_it_and_no_other(
                body in proptest::collection::vec(any::<u8>(), 0..512),
                other in proptest::collection::vec(any::<u8>(), 0..512),
                alg in "sha256|sha384|sha512",
                url_safe in any::<bool>(),
                noise in "( [a-z]{1,6}-[A-Za-z0-9+/]{0,10})*",
            ) {
                let mut value = STANDARD.encode(digest(&alg, &body));
                if url_safe {
                    value = value.replace('+', "-").replace('/', "_").trim_end_matches('=').to_string();
                }
                // Tokens of unknown algorithms around it change nothing
                // (letters only: the regex cannot name a supported one).
                let m = Metadata::parse(&format!("{noise} {alg}-{value}?opt {noise}")).unwrap();
                prop_assert!(m.matches_bytes(&body));
                prop_assert_eq!(m.matches_bytes(&other), other == body);
            }
        }
    }
}
