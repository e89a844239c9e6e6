//! A response body as a sequence of chunks: the network chunks themselves
//! for identity bodies (no copy), decoded blocks for `Content-Encoding`.

use futures::{StreamExt, TryStreamExt};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, BufReader};

use crate::net::HttpResponse;

/// The body's data frames (trailers are not part of a record's body).
fn data_stream(resp: HttpResponse) -> http_body_util::BodyDataStream<hyper::body::Incoming> {
    http_body_util::BodyDataStream::new(resp.into_body())
}

pub(super) enum BodySource {
    Raw(futures::stream::BoxStream<'static, Result<bytes::Bytes, hyper::Error>>),
    /// Decoder, its output buffer, and the encoded bytes taken from the
    /// network so far.
    Decoded(Pin<Box<dyn AsyncRead + Send>>, Vec<u8>, Arc<AtomicU64>),
}

impl BodySource {
    pub(super) fn new(resp: HttpResponse, encoding: Option<&str>, buf: usize) -> Self {
        type Dec =
            fn(BufReader<Box<dyn AsyncRead + Send + Unpin>>) -> Pin<Box<dyn AsyncRead + Send>>;
        let dec: Dec = match encoding {
            Some("gzip") | Some("x-gzip") => {
                |r| Box::pin(async_compression::tokio::bufread::GzipDecoder::new(r))
            }
            Some("br") => |r| Box::pin(async_compression::tokio::bufread::BrotliDecoder::new(r)),
            Some("deflate") => |r| Box::pin(async_compression::tokio::bufread::ZlibDecoder::new(r)),
            // Unknown codings are stored as received, like browsers do.
            _ => return BodySource::Raw(data_stream(resp).boxed()),
        };
        let encoded = Arc::new(AtomicU64::new(0));
        let counter = encoded.clone();
        let raw: Box<dyn AsyncRead + Send + Unpin> = Box::new(tokio_util::io::StreamReader::new(
            data_stream(resp)
                .inspect_ok(move |c| {
                    counter.fetch_add(c.len() as u64, Ordering::Relaxed);
                })
                .map_err(std::io::Error::other)
                .boxed(),
        ));
        BodySource::Decoded(
            dec(BufReader::new(raw)),
            vec![0u8; buf.clamp(4096, 64 << 10)],
            encoded,
        )
    }

    /// Encoded bytes received so far, for a content-encoded body.
    pub(super) fn encoded_len(&self) -> Option<u64> {
        match self {
            BodySource::Raw(_) => None,
            BodySource::Decoded(_, _, n) => Some(n.load(Ordering::Relaxed)),
        }
    }

    pub(super) async fn next(&mut self) -> std::io::Result<Option<bytes::Bytes>> {
        match self {
            BodySource::Raw(s) => match s.next().await {
                None => Ok(None),
                Some(Ok(b)) => Ok(Some(b)),
                Some(Err(e)) => Err(std::io::Error::other(e)),
            },
            BodySource::Decoded(r, buf, _) => {
                let n = r.read(buf).await?;
                Ok((n > 0).then(|| bytes::Bytes::copy_from_slice(&buf[..n])))
            }
        }
    }
}
