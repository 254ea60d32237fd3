//! Where a replica group's snapshots live while it trains (the engine's
//! [`adatt_engine::snapshot::SnapshotStore`]), taken every `--snapshot-minutes` (default 10) of
//! training: one file per group,
//! `<results>/.snapshots/<config hash>-s<seeds>.safetensors`, replaced atomically at each save and
//! removed once the group's records are written. A process stopped part-way through a one-pass
//! stream (a session's end, a kill) resumes the group there when the grid is run again from the
//! same code revision; git ignores the directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use adatt_engine::snapshot::SnapshotStore;
use adatt_engine::EngineError;
use adatt_spec::plan::PlannedRun;

/// The directory of a results directory's snapshots.
pub fn snapshot_dir(out_dir: &Path) -> PathBuf {
    out_dir.join(".snapshots")
}

/// The snapshot file of replica group `group` (runs of one entry) in `out_dir`.
pub fn snapshot_path(out_dir: &Path, group: &[PlannedRun]) -> PathBuf {
    let seeds: Vec<String> = group.iter().map(|p| p.seed.to_string()).collect();
    snapshot_dir(out_dir).join(format!(
        "{}-s{}.safetensors",
        group[0].config_hash,
        seeds.join("-s")
    ))
}

/// A group's snapshot file.
pub struct FileSnapshots {
    /// The file.
    pub path: PathBuf,
    /// The code revision the records will name.
    pub origin: String,
    /// Training time between saves.
    pub every: Duration,
}

impl FileSnapshots {
    fn io(&self, what: &str, e: std::io::Error) -> EngineError {
        EngineError::Snapshot(format!("cannot {what} {}: {e}", self.path.display()))
    }

    /// Removes the file (the group is recorded); a missing file is fine.
    pub fn remove(&self) -> Result<(), EngineError> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.io("remove", e)),
            _ => Ok(()),
        }
    }

    /// `e` with the file named, if it is about the snapshot.
    pub fn name_in(&self, e: EngineError) -> EngineError {
        match e {
            EngineError::Snapshot(msg) if !msg.contains(&*self.path.to_string_lossy()) => {
                EngineError::Snapshot(format!(
                    "{}: {msg} (delete the file to train the group from the start)",
                    self.path.display()
                ))
            }
            e => e,
        }
    }
}

impl SnapshotStore for FileSnapshots {
    fn every(&self) -> Duration {
        self.every
    }

    fn origin(&self) -> &str {
        &self.origin
    }

    fn load(&mut self) -> Result<Option<Vec<u8>>, EngineError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io("read", e)),
        }
    }

    fn save(&mut self, step: usize, bytes: &[u8]) -> Result<(), EngineError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.io("create the directory of", e))?;
        }
        adatt_spec::atomic::write(&self.path, bytes)
            .map_err(|e| EngineError::Snapshot(e.to_string()))?;
        tracing::debug!(step, path = %self.path.display(), "snapshot saved");
        Ok(())
    }
}
