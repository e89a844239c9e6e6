//! Mapping request paths onto files under the served root, without escapes.
//!
//! Two layers of defence:
//! 1. [`sanitize`] works on the raw request path: every segment is
//!    percent-decoded on its own and must be a single plain file-name
//!    component (no `..`, no separators, no NUL, no drive prefixes).
//! 2. [`resolve`] canonicalizes the joined path (following symlinks) and
//!    requires the result to stay inside the canonical root.

use std::io;
use std::path::{Component, Path, PathBuf};

use percent_encoding::percent_decode_str;

/// A request path that passed [`sanitize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafePath {
    /// Relative path made only of normal components (empty for `/`).
    pub rel: PathBuf,
    /// Whether the request path ended in `/` (only directories match then).
    pub trailing_slash: bool,
}

/// Why a sanitized path could not be served.
#[derive(Debug)]
pub enum ResolveError {
    /// Nothing servable there (missing, not a regular file, no index).
    NotFound,
    /// The path resolved (through a symlink) to somewhere outside the root.
    Escapes(PathBuf),
    /// Any other I/O failure.
    Io(io::Error),
}

/// A file under the root that may be served.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The name as requested (`root/rel`, plus `index.html` for directories),
    /// used for the content type and for the `.headers` sidecar.
    pub logical: PathBuf,
    /// The canonical path of the file actually opened.
    pub canonical: PathBuf,
}

/// Validates the raw (still percent-encoded) path of a request URI.
///
/// Returns `None` for anything that could address something other than a
/// plain descendant of the root.
pub fn sanitize(raw_path: &str) -> Option<SafePath> {
    if raw_path.contains('\\') {
        return None;
    }
    let mut rel = PathBuf::new();
    for seg in raw_path.split('/') {
        if seg.is_empty() {
            continue;
        }
        let decoded = percent_decode_str(seg).decode_utf8().ok()?;
        if decoded == "." {
            continue;
        }
        if decoded == ".." || decoded.contains(['/', '\\', '\0']) {
            return None;
        }
        let mut comps = Path::new(decoded.as_ref()).components();
        match (comps.next(), comps.next()) {
            (Some(Component::Normal(_)), None) => rel.push(decoded.as_ref()),
            _ => return None,
        }
    }
    Some(SafePath {
        rel,
        trailing_slash: raw_path.len() > 1 && raw_path.ends_with('/'),
    })
}

/// Canonicalizes `path` and checks that it lies inside `root` (which must
/// itself be canonical).
pub async fn canonical_within(root: &Path, path: &Path) -> Result<PathBuf, ResolveError> {
    let canonical = match tokio::fs::canonicalize(path).await {
        Ok(p) => p,
        Err(e) if is_not_found(&e) => return Err(ResolveError::NotFound),
        Err(e) => return Err(ResolveError::Io(e)),
    };
    if canonical.starts_with(root) {
        Ok(canonical)
    } else {
        Err(ResolveError::Escapes(canonical))
    }
}

/// Finds the file to serve for `safe` under the canonical `root`.
///
/// Directories map to their `index.html`; anything that is not a regular
/// file (after following symlinks, which must stay inside `root`) is
/// [`ResolveError::NotFound`].
pub async fn resolve(root: &Path, safe: &SafePath) -> Result<Resolved, ResolveError> {
    let mut logical = root.join(&safe.rel);
    let mut canonical = canonical_within(root, &logical).await?;
    let mut meta = tokio::fs::metadata(&canonical)
        .await
        .map_err(ResolveError::from_io)?;
    if meta.is_dir() {
        logical.push("index.html");
        canonical = canonical_within(root, &logical).await?;
        meta = tokio::fs::metadata(&canonical)
            .await
            .map_err(ResolveError::from_io)?;
    } else if safe.trailing_slash {
        return Err(ResolveError::NotFound);
    }
    if !meta.is_file() {
        return Err(ResolveError::NotFound);
    }
    Ok(Resolved { logical, canonical })
}

impl ResolveError {
    fn from_io(e: io::Error) -> Self {
        if is_not_found(&e) {
            ResolveError::NotFound
        } else {
            ResolveError::Io(e)
        }
    }
}

/// `NotFound`, plus the errors a path through a non-directory produces.
fn is_not_found(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(p: &str) -> Option<PathBuf> {
        sanitize(p).map(|s| s.rel)
    }

    #[test]
    fn accepts_plain_paths() {
        assert_eq!(rel("/"), Some(PathBuf::new()));
        assert_eq!(rel("/a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(rel("//a//b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(rel("/./a"), Some(PathBuf::from("a")));
        assert_eq!(
            rel("/with%20space.txt"),
            Some(PathBuf::from("with space.txt"))
        );
        assert_eq!(rel("/..foo"), Some(PathBuf::from("..foo")));
        assert!(sanitize("/dir/").unwrap().trailing_slash);
        assert!(!sanitize("/").unwrap().trailing_slash);
        assert!(!sanitize("/file").unwrap().trailing_slash);
    }

    #[test]
    fn rejects_escapes() {
        for p in [
            "/../x",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2E/x",
            "/..%2fx",
            "/..%2Fx",
            "/%2e%2e%2fx",
            "/a%2f..%2f..%2fx",
            "/%2fetc%2fpasswd",
            "/..\\x",
            "/a%5c..%5cx",
            "/a%00b",
            "/%ff",
        ] {
            assert_eq!(rel(p), None, "{p} must be rejected");
        }
    }
}
