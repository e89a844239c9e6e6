//! Body files: append-only writers with explicit durability points.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Appends a response (or request) body to a file under `dir/bodies/`.
///
/// Writes go to the OS page cache; [`BodyWriter::sync`] makes everything
/// written so far durable. The engine only records a byte count in SQLite
/// after a `sync`, so after a crash the file is truncated back to that count
/// ([`BodyWriter::open_resume`]) and no unsynced byte is ever trusted.
#[derive(Debug)]
pub struct BodyWriter {
    file: File,
    path: PathBuf,
    len: u64,
    synced_len: u64,
}

impl BodyWriter {
    /// Create (or truncate) the file at `path`, creating parent directories.
    pub fn create(path: &Path) -> io::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            len: 0,
            synced_len: 0,
        })
    }

    /// Open an existing body to continue it after `keep` bytes (the durable
    /// count recorded in the database). Bytes past `keep` are discarded; if the
    /// file is shorter than `keep` (should not happen, but a hostile file
    /// system might) the writer continues from the file's real length.
    pub fn open_resume(path: &Path, keep: u64) -> io::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        let actual = file.metadata()?.len();
        let len = keep.min(actual);
        if actual != len {
            file.set_len(len)?;
        }
        file.seek(SeekFrom::Start(len))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            len,
            synced_len: 0,
        })
    }

    /// Append a chunk.
    pub fn write_chunk(&mut self, data: &[u8]) -> io::Result<()> {
        self.file.write_all(data)?;
        self.len += data.len() as u64;
        Ok(())
    }

    /// Append several chunks with vectored writes (`writev(2)`): coalesces
    /// system calls without copying the chunks into one buffer first.
    pub fn write_chunks(&mut self, chunks: &[&[u8]]) -> io::Result<()> {
        let mut slices: Vec<io::IoSlice<'_>> = chunks
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| io::IoSlice::new(c))
            .collect();
        let total: u64 = chunks.iter().map(|c| c.len() as u64).sum();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match self.file.write_vectored(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => io::IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // What was written before the error stays; resync `len`.
                    if let Ok(pos) = self.file.stream_position() {
                        self.len = pos;
                    }
                    return Err(e);
                }
            }
        }
        self.len += total;
        Ok(())
    }

    /// Bytes written so far (durable or not).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes known to be durable (as of the last [`BodyWriter::sync`]).
    pub fn synced_len(&self) -> u64 {
        self.synced_len
    }

    /// Cut the body to `n` bytes (used when a resume is refused and the
    /// download restarts from zero).
    pub fn truncate(&mut self, n: u64) -> io::Result<()> {
        let n = n.min(self.len);
        self.file.set_len(n)?;
        self.file.seek(SeekFrom::Start(n))?;
        self.len = n;
        self.synced_len = self.synced_len.min(n);
        Ok(())
    }

    /// Flush file data to stable storage (`fdatasync`).
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        self.synced_len = self.len;
        Ok(())
    }

    /// A second handle to the same file, e.g. to `sync_data` it on a
    /// blocking thread while the writer stays with the async task.
    pub fn try_clone_file(&self) -> io::Result<File> {
        self.file.try_clone()
    }

    /// Record that everything up to `n` bytes was synced through a cloned handle.
    pub fn mark_synced(&mut self, n: u64) {
        self.synced_len = n.min(self.len);
    }

    /// Path of the file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_truncate_resume() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/body");
        let mut w = BodyWriter::create(&p).unwrap();
        w.write_chunk(b"hello ").unwrap();
        w.write_chunks(&[b"wor", b"", b"ld"]).unwrap();
        assert_eq!(w.len(), 11);
        w.sync().unwrap();
        assert_eq!(w.synced_len(), 11);
        w.truncate(5).unwrap();
        w.write_chunk(b"!").unwrap();
        drop(w);
        assert_eq!(std::fs::read(&p).unwrap(), b"hello!");
        // Resume keeping 3 bytes: the rest is discarded.
        let mut w = BodyWriter::open_resume(&p, 3).unwrap();
        assert_eq!(w.len(), 3);
        w.write_chunk(b"p").unwrap();
        drop(w);
        assert_eq!(std::fs::read(&p).unwrap(), b"help");
        // Resume asking for more than exists continues from the real length.
        let w = BodyWriter::open_resume(&p, 100).unwrap();
        assert_eq!(w.len(), 4);
    }
}
