//! Bodies as files under the data dir:
//!
//! ```text
//! bodies/<fetch>/<i>.req     request body of record i
//! bodies/<fetch>/<i>.body    response body of record i (large bodies)
//! bodies/<fetch>/small.pack  small response bodies, back to back
//! bodies/cache/...           Cache API bodies
//! ```

use super::{
    BodyId, BodyReader, BodyStorage, BodySync, BodyWrite, BodyWriter, CacheBodyKey, PackWrite,
    PackWriter, SyncPoint,
};
use std::any::Any;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::fetch::sanitize;

/// Bodies in files under `DIR/bodies/`.
#[derive(Debug)]
pub struct FileBodies {
    /// The data dir: cache keys are relative to it.
    dir: PathBuf,
    /// `dir/bodies`.
    bodies: PathBuf,
}

impl FileBodies {
    /// Bodies under `dir/bodies/`, creating that directory.
    pub fn open(dir: &Path) -> io::Result<FileBodies> {
        let bodies = dir.join("bodies");
        std::fs::create_dir_all(&bodies)?;
        Ok(FileBodies {
            dir: dir.to_path_buf(),
            bodies,
        })
    }

    fn fetch_dir(&self, fetch: &str) -> PathBuf {
        self.bodies.join(sanitize(fetch))
    }

    fn path(&self, body: BodyId<'_>) -> PathBuf {
        match body {
            BodyId::Request { fetch, index } => self.fetch_dir(fetch).join(format!("{index}.req")),
            BodyId::Response { fetch, index } => {
                self.fetch_dir(fetch).join(format!("{index}.body"))
            }
            BodyId::Pack { fetch } => self.fetch_dir(fetch).join("small.pack"),
            // The key was checked to be a plain relative name.
            BodyId::Cache(key) => self.dir.join(key.as_str()),
        }
    }
}

impl std::fmt::Display for FileBodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.bodies.display())
    }
}

impl BodyStorage for FileBodies {
    fn create(&self, body: BodyId<'_>) -> io::Result<BodyWriter> {
        Ok(Box::new(FileWriter::create(&self.path(body))?))
    }

    fn resume(&self, body: BodyId<'_>, durable: u64) -> io::Result<BodyWriter> {
        Ok(Box::new(FileWriter::open_resume(
            &self.path(body),
            durable,
        )?))
    }

    fn put(&self, body: BodyId<'_>, data: &[u8]) -> io::Result<()> {
        let path = self.path(body);
        std::fs::create_dir_all(path.parent().expect("a body path has a parent"))?;
        let mut file = File::create(&path)?;
        file.write_all(data)?;
        file.sync_all()
    }

    fn open_pack(&self, fetch: &str) -> io::Result<PackWriter> {
        let file = open_pack(&self.path(BodyId::Pack { fetch }))?;
        let len = file.metadata()?.len();
        Ok(Box::new(FilePack { file, len }))
    }

    fn sync_all(&self, points: &[SyncPoint]) -> io::Result<()> {
        let files: Vec<&FileSync> = points
            .iter()
            .map(|p| {
                p.as_any()
                    .downcast_ref::<FileSync>()
                    .expect("a file store only hands out file sync points")
            })
            .collect();
        if files.is_empty() || sync_files(&files)? {
            return Ok(());
        }
        // fdatasync does not persist a new file's directory entry (on ext4
        // without a journal, for one): sync the directories that hold them.
        let mut dirs: Vec<&Path> = files.iter().map(|f| f.dir.as_path()).collect();
        dirs.dedup();
        dirs.push(&self.bodies);
        for d in dirs {
            sync_dir(d)?;
        }
        Ok(())
    }

    fn read(&self, body: BodyId<'_>, offset: u64) -> io::Result<BodyReader> {
        let mut file = File::open(self.path(body))?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset))?;
        }
        Ok(Box::new(file))
    }

    fn truncate(&self, body: BodyId<'_>, len: u64) -> io::Result<()> {
        let path = self.path(body);
        if let Ok(md) = std::fs::metadata(&path) {
            if md.len() > len {
                let file = OpenOptions::new().write(true).open(&path)?;
                file.set_len(len)?;
                file.sync_all()?;
            }
        }
        Ok(())
    }

    fn delete(&self, body: BodyId<'_>) -> io::Result<()> {
        match std::fs::remove_file(self.path(body)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    fn delete_fetch(&self, fetch: &str) -> io::Result<()> {
        match std::fs::remove_dir_all(self.fetch_dir(fetch)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    fn cache_bodies(&self) -> io::Result<Vec<CacheBodyKey>> {
        let entries = match std::fs::read_dir(self.bodies.join("cache")) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let name = entry?.file_name();
            keys.extend(name.to_str().and_then(CacheBodyKey::from_name));
        }
        Ok(keys)
    }

    fn is_empty(&self) -> io::Result<bool> {
        Ok(std::fs::read_dir(&self.bodies)?.next().is_none())
    }
}

/// Appends a body to its file.
///
/// Writes go to the OS page cache; [`BodyWrite::sync`] makes everything
/// written so far durable. The engine only records a byte count in SQLite
/// after a sync, so after a crash the file is truncated back to that count
/// ([`FileWriter::open_resume`]) and no unsynced byte is ever trusted.
#[derive(Debug)]
struct FileWriter {
    file: File,
    path: PathBuf,
    len: u64,
    synced_len: u64,
}

impl FileWriter {
    /// Create (or truncate) the file at `path`, creating parent directories.
    fn create(path: &Path) -> io::Result<Self> {
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

    /// Open an existing body to continue it after `keep` bytes. Bytes past
    /// `keep` are discarded; if the file is shorter than `keep` (should not
    /// happen, but a hostile file system might) the writer continues from
    /// the file's real length.
    fn open_resume(path: &Path, keep: u64) -> io::Result<Self> {
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
}

impl BodyWrite for FileWriter {
    /// Vectored writes (`writev(2)`): coalesces system calls without
    /// copying the chunks into one buffer first.
    fn write_chunks(&mut self, chunks: &[&[u8]]) -> io::Result<()> {
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

    fn len(&self) -> u64 {
        self.len
    }

    fn synced_len(&self) -> u64 {
        self.synced_len
    }

    /// `fdatasync`.
    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        self.synced_len = self.len;
        Ok(())
    }

    /// A second handle on the same file (`dup`), to `fdatasync` elsewhere.
    fn sync_point(&mut self) -> io::Result<SyncPoint> {
        Ok(Box::new(FileSync {
            file: self.file.try_clone()?,
            dir: self
                .path
                .parent()
                .expect("a body path has a parent")
                .to_path_buf(),
        }))
    }

    fn mark_synced(&mut self, n: u64) {
        self.synced_len = n.min(self.len);
    }
}

/// A body file to `fdatasync`, and the directory holding it.
struct FileSync {
    file: File,
    dir: PathBuf,
}

impl BodySync for FileSync {
    fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A pack file open for appending, and its length.
struct FilePack {
    file: File,
    len: u64,
}

impl PackWrite for FilePack {
    fn append(&mut self, data: &[u8]) -> io::Result<u64> {
        self.file.write_all(data)?;
        let offset = self.len;
        self.len += data.len() as u64;
        Ok(offset)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// Open (creating if needed) a pack file for appending. A new file's
/// directory entries are synced at once, so a later `fdatasync` of the file
/// is enough to make appended bytes reachable after a crash.
fn open_pack(path: &Path) -> io::Result<File> {
    let open = |create: bool| {
        OpenOptions::new()
            .append(true)
            .create_new(create)
            .open(path)
    };
    match open(false) {
        Ok(f) => Ok(f),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = path.parent().expect("pack path has a parent");
            std::fs::create_dir_all(dir)?;
            let f = open(true)?;
            sync_dir(dir)?;
            if let Some(up) = dir.parent() {
                sync_dir(up)?;
            }
            Ok(f)
        }
        Err(e) => Err(e),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Make the given files durable. Several files on Linux: one `syncfs(2)` on
/// their file system instead of one `fdatasync` each (all body files live in
/// one directory tree, so one file system; syncfs also covers their
/// directory entries). Returns whether syncfs was used.
fn sync_files(files: &[&FileSync]) -> io::Result<bool> {
    #[cfg(target_os = "linux")]
    if files.len() > 2 {
        use std::os::fd::AsRawFd;
        // SAFETY: the fd is valid for the duration of the call (borrowed File).
        let rc = unsafe { libc::syncfs(files[0].file.as_raw_fd()) };
        if rc == 0 {
            return Ok(true);
        }
        return Err(io::Error::last_os_error());
    }
    for f in files {
        f.file.sync_data()?;
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn read_all(b: &FileBodies, body: BodyId<'_>, offset: u64) -> Vec<u8> {
        let mut out = Vec::new();
        b.read(body, offset).unwrap().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn append_sync_and_resume_truncates_past_the_durable_length() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBodies::open(dir.path()).unwrap();
        let body = BodyId::Response {
            fetch: "f",
            index: 0,
        };
        let mut w = b.create(body).unwrap();
        w.write_chunks(&[b"hello "]).unwrap();
        w.write_chunks(&[b"wor", b"", b"ld"]).unwrap();
        assert_eq!(w.len(), 11);
        assert_eq!(w.synced_len(), 0);
        w.sync().unwrap();
        assert_eq!(w.synced_len(), 11);
        w.write_chunks(&[b"!!"]).unwrap();
        drop(w);
        assert_eq!(
            std::fs::read(dir.path().join("bodies/f/0.body")).unwrap(),
            b"hello world!!"
        );
        // Resume keeping 5 bytes: the rest is discarded, on disk too.
        let mut w = b.resume(body, 5).unwrap();
        assert_eq!(w.len(), 5);
        w.write_chunks(&[b"!"]).unwrap();
        drop(w);
        assert_eq!(read_all(&b, body, 0), b"hello!");
        // Resume asking for more than exists continues from the real length.
        let w = b.resume(body, 100).unwrap();
        assert_eq!(w.len(), 6);
        // Create starts over.
        let w = b.create(body).unwrap();
        assert!(w.is_empty());
        assert_eq!(read_all(&b, body, 0), b"");
    }

    #[test]
    fn a_sync_point_syncs_on_another_thread() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBodies::open(dir.path()).unwrap();
        let body = BodyId::Response {
            fetch: "f",
            index: 1,
        };
        let mut w = b.create(body).unwrap();
        w.write_chunks(&[b"abc"]).unwrap();
        let point = w.sync_point().unwrap();
        w.write_chunks(&[b"def"]).unwrap();
        std::thread::spawn(move || point.sync())
            .join()
            .unwrap()
            .unwrap();
        w.mark_synced(3);
        assert_eq!(w.synced_len(), 3);
        // Never more than was written.
        w.mark_synced(100);
        assert_eq!(w.synced_len(), 6);
        // A batch of points, with and without syncfs.
        let mut points = Vec::new();
        for index in 0..4 {
            let mut w = b.create(BodyId::Response { fetch: "g", index }).unwrap();
            w.write_chunks(&[b"x"]).unwrap();
            points.push(w.sync_point().unwrap());
        }
        b.sync_all(&points[..1]).unwrap();
        b.sync_all(&points).unwrap();
        b.sync_all(&[]).unwrap();
    }

    #[test]
    fn ranges_of_pack_and_whole_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBodies::open(dir.path()).unwrap();
        let mut pack = b.open_pack("f").unwrap();
        assert_eq!(pack.append(b"first").unwrap(), 0);
        assert_eq!(pack.append(b"second").unwrap(), 5);
        pack.sync().unwrap();
        drop(pack);
        // A reopened pack appends after what is there.
        let mut pack = b.open_pack("f").unwrap();
        assert_eq!(pack.append(b"third").unwrap(), 11);
        drop(pack);
        let packed = BodyId::Pack { fetch: "f" };
        assert_eq!(read_all(&b, packed, 5), b"secondthird");
        let mut second = Vec::new();
        b.read(packed, 5)
            .unwrap()
            .take(6)
            .read_to_end(&mut second)
            .unwrap();
        assert_eq!(second, b"second");
        assert_eq!(read_all(&b, packed, 16), b"");

        let req = BodyId::Request {
            fetch: "f",
            index: 2,
        };
        b.put(req, b"request").unwrap();
        assert_eq!(read_all(&b, req, 0), b"request");
        assert_eq!(read_all(&b, req, 3), b"uest");
        let missing = BodyId::Response {
            fetch: "f",
            index: 9,
        };
        assert_eq!(
            b.read(missing, 0).err().map(|e| e.kind()),
            Some(io::ErrorKind::NotFound)
        );
    }

    #[test]
    fn truncate_only_cuts_and_leaves_missing_bodies_missing() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBodies::open(dir.path()).unwrap();
        let packed = BodyId::Pack { fetch: "f" };
        b.open_pack("f").unwrap().append(b"0123456789").unwrap();
        b.truncate(packed, 4).unwrap();
        assert_eq!(read_all(&b, packed, 0), b"0123");
        b.truncate(packed, 8).unwrap();
        assert_eq!(read_all(&b, packed, 0), b"0123");
        let missing = BodyId::Response {
            fetch: "f",
            index: 0,
        };
        b.truncate(missing, 0).unwrap();
        assert!(b.read(missing, 0).is_err());
    }

    #[test]
    fn deletion_of_one_body_and_of_a_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBodies::open(dir.path()).unwrap();
        assert!(b.is_empty().unwrap());
        let key = CacheBodyKey::unique();
        let cached = BodyId::Cache(&key);
        let mut w = b.create(cached).unwrap();
        w.write_chunks(&[b"cached"]).unwrap();
        w.sync().unwrap();
        assert!(!b.is_empty().unwrap());
        assert_eq!(read_all(&b, cached, 0), b"cached");
        assert_eq!(b.cache_bodies().unwrap(), vec![key.clone()]);
        b.delete(cached).unwrap();
        assert!(b.cache_bodies().unwrap().is_empty());
        assert!(b.read(cached, 0).is_err());
        b.delete(cached).unwrap();

        for fetch in ["f", "g"] {
            b.put(BodyId::Request { fetch, index: 0 }, b"r").unwrap();
            b.open_pack(fetch).unwrap().append(b"p").unwrap();
        }
        b.delete_fetch("f").unwrap();
        assert!(!dir.path().join("bodies/f").exists());
        assert!(b.read(BodyId::Pack { fetch: "f" }, 0).is_err());
        assert_eq!(read_all(&b, BodyId::Pack { fetch: "g" }, 0), b"p");
        b.delete_fetch("f").unwrap();
        // An id cannot name a directory outside its own.
        b.delete_fetch("../g").unwrap();
        assert_eq!(read_all(&b, BodyId::Pack { fetch: "g" }, 0), b"p");
        b.delete_fetch("g").unwrap();
        assert!(!dir.path().join("bodies/g").exists());
    }
}
