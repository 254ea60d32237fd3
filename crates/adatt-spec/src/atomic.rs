//! Output files are never half-written: each is written to a hidden temporary file beside its
//! target, synced, and renamed over the target, so a reader (or a full disk, or a kill) sees the
//! old complete file or the new complete file. On an error or a panic the temporary file is
//! removed and the old file is left as it was. (Run records are appended line by line instead;
//! see [`crate::records`].)

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Result, SpecError};

fn io_err(path: &Path) -> impl Fn(io::Error) -> SpecError + '_ {
    move |source| SpecError::Write {
        path: path.to_owned(),
        source,
    }
}

/// A hidden temporary file beside its target, removed when dropped unless
/// [persisted](TempFile::persist): an error or a panic between creating and persisting it leaves
/// nothing behind.
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    persisted: bool,
}

impl TempFile {
    /// Creates (exclusively) `.<name>.<pid>.<n>.tmp.<ext>` in the directory of `target`, where
    /// `<name>` is the target's file name, `<n>` a per-process counter and `<ext>` the target's
    /// extension (kept last for writers that pick a format from it, e.g. an image encoder).
    pub fn beside(target: &Path) -> io::Result<(TempFile, File)> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?
            .to_string_lossy();
        let ext = target
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let dir = parent_dir(target);
        let pid = std::process::id();
        let mut tries = 0;
        loop {
            let n = SEQ.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".{name}.{pid}.{n}.tmp{ext}"));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    let tmp = TempFile {
                        path,
                        persisted: false,
                    };
                    return Ok((tmp, file));
                }
                // A leftover of a killed process with the same id.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 100 => tries += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// The temporary file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the file's content to disk (for content written by someone else, e.g. an image
    /// encoder that opened the path itself).
    pub fn sync(&self) -> io::Result<()> {
        OpenOptions::new().write(true).open(&self.path)?.sync_all()
    }

    /// Renames onto `target` (replacing it atomically), then syncs the directory, best effort.
    pub fn persist(mut self, target: &Path) -> io::Result<()> {
        std::fs::rename(&self.path, target)?;
        self.persisted = true;
        // Makes the rename itself durable where the platform allows opening a directory.
        if let Ok(d) = File::open(parent_dir(target)) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A temporary file beside `path`, filled by `fill` and synced; not yet renamed into place
/// (for several files that go into place together).
pub fn stage(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> Result<TempFile> {
    let (tmp, mut file) = TempFile::beside(path).map_err(io_err(path))?;
    fill(&mut file)
        .and_then(|()| file.sync_all())
        .map_err(io_err(path))?;
    Ok(tmp)
}

/// Writes `path` atomically with the content `fill` writes into the temporary file.
pub fn write_with(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> Result<()> {
    stage(path, fill)?.persist(path).map_err(io_err(path))
}

/// Writes `bytes` to `path` atomically (see the module docs).
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |f| f.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names in `dir` that look like temporary files.
    fn temps(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect()
    }

    #[test]
    fn a_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("summary.csv");
        write(&p, b"old").unwrap();
        write(&p, b"new content").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new content");
        assert!(temps(d.path()).is_empty());
        assert_eq!(parent_dir(Path::new("x.csv")), Path::new("."));
    }

    #[test]
    fn a_write_failing_midway_keeps_the_old_file_and_removes_the_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("table.md");
        std::fs::write(&p, "previous, complete").unwrap();
        let mut seen = None;
        let err = write_with(&p, |f| {
            f.write_all(b"half of the new")?;
            f.flush()?;
            seen = Some(temps(d.path()));
            Err(io::Error::other("No space left on device"))
        })
        .unwrap_err();
        // The temporary file existed, hidden, beside the target while it was written.
        let seen = seen.unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(seen[0].starts_with(".table.md.") && seen[0].ends_with(".tmp.md"));
        assert!(
            matches!(&err, SpecError::Write { path, .. } if path == &p),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("cannot write {}: No space left on device", p.display())
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "previous, complete");
        assert!(temps(d.path()).is_empty(), "{:?}", temps(d.path()));
        // Without a previous file, nothing at all is left.
        let q = d.path().join("new.csv");
        write_with(&q, |f| {
            f.write_all(b"x")?;
            Err(io::Error::other("boom"))
        })
        .unwrap_err();
        assert!(!q.exists());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_panic_while_writing_removes_the_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("manifest.json");
        std::fs::write(&p, "{}").unwrap();
        let r = std::panic::catch_unwind(|| {
            let _ = write_with(&p, |f| {
                f.write_all(b"{\"partial\"")?;
                panic!("interrupted");
            });
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{}");
        assert!(temps(d.path()).is_empty());
    }

    #[test]
    fn temporaries_are_hidden_unique_and_keep_the_extension() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("fig.png");
        let (a, _fa) = TempFile::beside(&p).unwrap();
        let (b, _fb) = TempFile::beside(&p).unwrap();
        assert_ne!(a.path(), b.path());
        for t in [&a, &b] {
            let name = t.path().file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                name.starts_with(".fig.png.") && name.ends_with(".tmp.png"),
                "{name}"
            );
            assert_eq!(t.path().parent(), Some(d.path()));
        }
        drop((a, b));
        assert!(temps(d.path()).is_empty());
    }
}
