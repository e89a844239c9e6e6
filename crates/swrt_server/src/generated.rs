//! Large files made of deterministic bytes, served with `Range`, a stable
//! `ETag` and an optional bandwidth limit.
//!
//! `swrt demo` serves its podcast episodes this way (tens of MiB that never
//! touch the disk of the origin), and the end-to-end tests use it for
//! downloads that are slow enough to watch, interrupt and resume. Every byte
//! is [`byte_at`]`(seed, offset)`, so a reader can verify what it stored
//! without keeping a copy.
//!
//! ```no_run
//! # async fn demo() -> Result<(), swrt_server::ServerError> {
//! use swrt_server::generated::{GeneratedFile, GeneratedFiles};
//! let files = GeneratedFiles::new(vec![GeneratedFile::new("/ep1.mp3", 20 << 20, 1, "audio/mpeg")])
//!     .rate_limit(Some(4 << 20));
//! let origin = swrt_server::StaticOrigin::builder("site")
//!     .hook(files.clone().into_hook())
//!     .start()
//!     .await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::header::{self, HeaderValue};
use axum::http::{Method, StatusCode};

use crate::{HookFuture, HookRequest, HookResponse, RequestHook};

/// Bytes per body chunk: small enough that a throttled stream moves smoothly.
const CHUNK: u64 = 32 * 1024;

/// The byte at `offset` of a generated file with `seed`. Cheap to recompute
/// anywhere (JavaScript: `(offset * 31 + seed * 7 + 7) % 251`).
pub fn byte_at(seed: u8, offset: u64) -> u8 {
    ((offset.wrapping_mul(31) + u64::from(seed) * 7 + 7) % 251) as u8
}

/// One generated file.
#[derive(Debug, Clone)]
pub struct GeneratedFile {
    /// URL path, e.g. `/episodes/1.mp3`.
    pub path: String,
    /// Length in bytes.
    pub len: u64,
    /// Selects the byte pattern (see [`byte_at`]).
    pub seed: u8,
    /// `Content-Type` of the response.
    pub content_type: String,
}

impl GeneratedFile {
    /// A file at `path` of `len` bytes.
    pub fn new(path: impl Into<String>, len: u64, seed: u8, content_type: &str) -> Self {
        GeneratedFile {
            path: path.into(),
            len,
            seed,
            content_type: content_type.to_string(),
        }
    }

    /// A validator that stays the same across server restarts, so a resumed
    /// download's `If-Range`/`ETag` check passes against a new process.
    pub fn etag(&self) -> String {
        format!("\"gen-{}-{}\"", self.seed, self.len)
    }
}

/// Called for every request of a generated file: `(path, Range header)`.
pub type RequestObserver = Arc<dyn Fn(&str, Option<&str>) + Send + Sync>;

/// A set of generated files; answers their requests and hands back others.
#[derive(Clone)]
pub struct GeneratedFiles {
    files: Arc<Vec<GeneratedFile>>,
    rate: Option<u64>,
    observer: Option<RequestObserver>,
}

impl std::fmt::Debug for GeneratedFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedFiles")
            .field("files", &self.files)
            .field("rate", &self.rate)
            .finish()
    }
}

impl GeneratedFiles {
    /// Serves `files` at full speed.
    pub fn new(files: Vec<GeneratedFile>) -> Self {
        GeneratedFiles {
            files: Arc::new(files),
            rate: None,
            observer: None,
        }
    }

    /// Limits each response body to `bytes_per_second` (None: unlimited).
    pub fn rate_limit(mut self, bytes_per_second: Option<u64>) -> Self {
        self.rate = bytes_per_second.filter(|r| *r > 0);
        self
    }

    /// Calls `observer` with the path and `Range` header of each request of
    /// a generated file (tests use it to see that a download resumed).
    pub fn observe(mut self, observer: RequestObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The files.
    pub fn files(&self) -> &[GeneratedFile] {
        &self.files
    }

    /// A hook for [`crate::StaticOriginBuilder::hook`]: generated files are
    /// answered here, everything else goes to the static file handler.
    pub fn into_hook(self) -> RequestHook {
        RequestHook::new(move |req| -> HookFuture {
            let answer = self.try_respond(req);
            Box::pin(async move { answer })
        })
    }

    /// Answers `req` if it names a generated file (GET or HEAD); otherwise
    /// hands it back, for hooks that combine several sources.
    // The same shape as a hook's answer (see `HookFuture`).
    #[allow(clippy::result_large_err)]
    pub fn try_respond(&self, req: HookRequest) -> Result<HookResponse, HookRequest> {
        match self.find(&req) {
            Some(file) => Ok(self.serve(file, &req)),
            None => Err(req),
        }
    }

    fn find(&self, req: &HookRequest) -> Option<&GeneratedFile> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return None;
        }
        self.files.iter().find(|f| f.path == req.uri().path())
    }

    fn serve(&self, file: &GeneratedFile, req: &HookRequest) -> HookResponse {
        let range_header = req
            .headers()
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok());
        if let Some(observer) = &self.observer {
            observer(&file.path, range_header);
        }
        let etag = file.etag();
        // If-Range with another validator: the client's partial copy is of a
        // different file; send the whole new one.
        let if_range_ok = req
            .headers()
            .get(header::IF_RANGE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v == etag);
        let range = range_header
            .filter(|_| if_range_ok)
            .map(|h| parse_range(h, file.len));
        let (status, start, end) = match range {
            None => (StatusCode::OK, 0, file.len),
            Some(Some((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end),
            Some(None) => {
                let mut resp = HookResponse::new(Body::empty());
                *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                set(
                    &mut resp,
                    header::CONTENT_RANGE,
                    &format!("bytes */{}", file.len),
                );
                return resp;
            }
        };
        let body = if req.method() == Method::HEAD {
            Body::empty()
        } else {
            Body::from_stream(stream(file.seed, start, end, self.rate))
        };
        let mut resp = HookResponse::new(body);
        *resp.status_mut() = status;
        set(&mut resp, header::CONTENT_TYPE, &file.content_type);
        set(
            &mut resp,
            header::CONTENT_LENGTH,
            &(end - start).to_string(),
        );
        set(&mut resp, header::ACCEPT_RANGES, "bytes");
        set(&mut resp, header::ETAG, &etag);
        // Tests fetch these cross-origin (a worker on another loopback origin).
        set(&mut resp, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        set(&mut resp, header::CACHE_CONTROL, "no-cache");
        if status == StatusCode::PARTIAL_CONTENT {
            set(
                &mut resp,
                header::CONTENT_RANGE,
                &format!("bytes {start}-{}/{}", end - 1, file.len),
            );
        }
        resp
    }
}

fn set(resp: &mut HookResponse, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

/// A single `bytes=` range as `[start, end)`; `Some(None)` = unsatisfiable.
/// Multiple ranges are answered with the whole file (allowed by RFC 9110).
fn parse_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return Some((0, len));
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix range: the last N bytes.
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        return Some((len.saturating_sub(n), len));
    }
    let start: u64 = a.parse().ok()?;
    let end = if b.is_empty() {
        len
    } else {
        b.parse::<u64>().ok()?.saturating_add(1).min(len)
    };
    (start < len && start < end).then_some((start, end))
}

/// The bytes `[start, end)`, paced to `rate` bytes per second: each chunk is
/// sent no earlier than the time the rate allows for the bytes before it, so
/// the average holds even when the reader is slow for a while.
fn stream(
    seed: u8,
    start: u64,
    end: u64,
    rate: Option<u64>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    let began = Instant::now();
    futures::stream::unfold(start, move |pos| async move {
        if pos >= end {
            return None;
        }
        if let Some(rate) = rate {
            let due = Duration::from_secs_f64((pos - start) as f64 / rate as f64);
            tokio::time::sleep_until((began + due).into()).await;
        }
        let n = CHUNK.min(end - pos);
        let chunk: Vec<u8> = (pos..pos + n).map(|o| byte_at(seed, o)).collect();
        Some((Ok(chunk), pos + n))
    })
}

/// A valid `width` x `height` RGB PNG with a simple gradient artwork (a
/// podcast cover for the demo, an icon for tests). Uses stored (uncompressed)
/// deflate blocks, so it needs no compression library.
pub fn artwork_png(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((width * 3 + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            let ring = ((x as i64 - width as i64 / 2).pow(2)
                + (y as i64 - height as i64 / 2).pow(2))
                < (width as i64 / 3).pow(2);
            let (r, g, b) = if ring {
                (250, 200, 60)
            } else {
                (
                    (40 + x * 120 / width.max(1)) as u8,
                    30,
                    (90 + y * 120 / height.max(1)) as u8,
                )
            };
            raw.extend_from_slice(&[r, g, b]);
        }
    }
    // zlib stream: header, stored blocks of at most 65535 bytes, Adler-32.
    let mut z = vec![0x78, 0x01];
    let mut blocks = raw.chunks(65535).peekable();
    if blocks.peek().is_none() {
        z.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        z.push(u8::from(blocks.peek().is_none()));
        let n = block.len() as u16;
        z.extend_from_slice(&n.to_le_bytes());
        z.extend_from_slice(&(!n).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = 0xffff_ffffu32;
    for byte in kind.iter().chain(data) {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    out.extend_from_slice(&(!crc).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-", 10), Some((0, 10)));
        assert_eq!(parse_range("bytes=4-", 10), Some((4, 10)));
        assert_eq!(parse_range("bytes=2-5", 10), Some((2, 6)));
        assert_eq!(parse_range("bytes=-3", 10), Some((7, 10)));
        assert_eq!(parse_range("bytes=10-", 10), None);
    }

    #[test]
    fn png_has_valid_structure() {
        let png = artwork_png(16, 16);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        // Known CRC of an empty IEND chunk.
        assert_eq!(&png[png.len() - 4..], &[0xae, 0x42, 0x60, 0x82]);
    }
}
