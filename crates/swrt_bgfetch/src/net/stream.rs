//! A connection with something attached that lives as long as it does.

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What a connector attaches to its connections.
pub(crate) trait Attachment: Send + Sync + Unpin + 'static {
    /// How the attachment changes what hyper learns about the connection.
    fn connected(&self, connected: Connected) -> Connected {
        connected
    }
}

/// A connection and its attachment; reads and writes go to the connection.
pub(crate) struct Attached<T, A> {
    pub(crate) io: T,
    pub(crate) attachment: A,
}

impl<T: Connection, A: Attachment> Connection for Attached<T, A> {
    fn connected(&self) -> Connected {
        self.attachment.connected(self.io.connected())
    }
}

impl<T: Read + Unpin, A: Unpin> Read for Attached<T, A> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin, A: Unpin> Write for Attached<T, A> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}
