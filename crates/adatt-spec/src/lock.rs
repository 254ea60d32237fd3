//! One writer per results directory. A grid's parent process holds an exclusive lock on
//! `<dir>/.lock` while its shards append records, because it merges and removes their files when
//! they finish ([`crate::consolidate_records`]): a second invocation on the same directory would
//! remove files the first one's shards are still writing.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{Result, SpecError};

/// Held lock on a results directory; released when dropped (or when the process exits).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    path: PathBuf,
}

impl DirLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Takes the lock of `dir` (created if needed) without waiting; fails with a message naming the
/// directory when another process holds it, or when it cannot be created.
pub fn lock_results_dir(dir: &Path) -> Result<DirLock> {
    create_dir(dir)?;
    let path = dir.join(".lock");
    let file = open_lock_file(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(DirLock { _file: file, path }),
        Err(TryLockError::WouldBlock) => Err(SpecError::Locked(dir.to_owned())),
        Err(TryLockError::Error(source)) => Err(SpecError::Io { path, source }),
    }
}

/// Opens (creating it if needed, never truncating) a file that is only ever locked.
pub(crate) fn open_lock_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| SpecError::Io {
            path: path.to_owned(),
            source,
        })
}

/// `create_dir_all`, with an error that names `dir` and says why it cannot be created: when a
/// path on the way (or `dir` itself) exists as something other than a directory, that path;
/// otherwise the OS's reason.
fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        let blocker = dir
            .ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .find(|a| a.symlink_metadata().is_ok())
            .filter(|a| !a.is_dir());
        let why = match blocker {
            Some(b) => format!("{} exists and is not a directory", b.display()),
            None => e.to_string(),
        };
        SpecError::Io {
            path: dir.to_owned(),
            source: std::io::Error::new(e.kind(), format!("cannot create this directory: {why}")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_fails_until_the_first_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        let first = lock_results_dir(d.path()).unwrap();
        assert!(first.path().exists());
        match lock_results_dir(d.path()) {
            Err(SpecError::Locked(p)) => assert_eq!(p, d.path()),
            other => panic!("expected Locked, got {other:?}"),
        }
        // another directory is independent
        let e = tempfile::tempdir().unwrap();
        lock_results_dir(e.path()).unwrap();
        drop(first);
        lock_results_dir(d.path()).unwrap();
    }
}
