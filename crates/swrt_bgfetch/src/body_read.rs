//! Reading stored bodies from async code. The store's readers block (file
//! reads, or a remote store's round trips), so each read runs on the
//! blocking pool, one chunk at a time, as `tokio::fs` does for files.

use bytes::Bytes;
use futures::Stream;
use std::io::{self, Read};
use swrt_store::BodyReader;

/// Run `f` (a blocking store call) on the blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> io::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> io::Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}

/// Read at most `max` bytes; an empty chunk means the body ended. The
/// reader comes back for the next read.
pub(crate) async fn read_chunk(
    mut reader: BodyReader,
    max: usize,
) -> io::Result<(BodyReader, Bytes)> {
    blocking(move || {
        let mut buf = vec![0u8; max];
        let n = loop {
            match reader.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        buf.truncate(n);
        Ok((reader, Bytes::from(buf)))
    })
    .await
}

/// The rest of `reader` as a stream of chunks of at most `chunk` bytes.
pub(crate) fn stream(
    reader: BodyReader,
    chunk: usize,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    futures::stream::try_unfold(reader, move |reader| async move {
        let (reader, bytes) = read_chunk(reader, chunk).await?;
        Ok((!bytes.is_empty()).then_some((bytes, reader)))
    })
}

/// All of `reader`.
pub(crate) async fn read_to_end(mut reader: BodyReader) -> io::Result<Vec<u8>> {
    blocking(move || {
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        Ok(out)
    })
    .await
}
