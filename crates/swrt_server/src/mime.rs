//! File-extension to `Content-Type` mapping.
//!
//! The table is deliberately small and explicit: it covers what service
//! workers and web-platform tests actually fetch, and anything unknown is
//! served as `application/octet-stream`.

use std::path::Path;

/// The fallback type for unknown or missing extensions.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// Returns the `Content-Type` to serve for `path`, judged by its extension
/// (case-insensitively).
pub fn content_type_for(path: &Path) -> &'static str {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return OCTET_STREAM;
    };
    match ext.to_ascii_lowercase().as_str() {
        // Text and documents.
        "html" | "htm" => "text/html; charset=utf-8",
        "xhtml" | "xht" => "application/xhtml+xml",
        "js" | "mjs" | "cjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "txt" | "text" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        // Images.
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "bmp" => "image/bmp",
        "ico" => "image/x-icon",
        // Audio.
        "mp3" => "audio/mpeg",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "m4a" => "audio/mp4",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        // Video.
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "ogv" => "video/ogg",
        // Fonts.
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        _ => OCTET_STREAM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_extensions() {
        let ct = |p: &str| content_type_for(Path::new(p));
        assert_eq!(ct("a.js"), "text/javascript; charset=utf-8");
        assert_eq!(ct("a.MJS"), "text/javascript; charset=utf-8");
        assert_eq!(ct("dir/index.html"), "text/html; charset=utf-8");
        assert_eq!(ct("x.json"), "application/json");
        assert_eq!(ct("song.m4a"), "audio/mp4");
        assert_eq!(ct("song.mp3"), "audio/mpeg");
        assert_eq!(ct("m.wasm"), "application/wasm");
        assert_eq!(ct("noext"), OCTET_STREAM);
        assert_eq!(ct("weird.xyz"), OCTET_STREAM);
        assert_eq!(ct(".hidden"), OCTET_STREAM);
    }
}
