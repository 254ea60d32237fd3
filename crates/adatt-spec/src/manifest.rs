//! Invocation manifests (`invocation.json`, `invocation.shard-K-of-N.json`): what one grid
//! invocation ran, on which machine and code. The analysis step folds them, with the provenance
//! each run record carries, into the directory's `manifest.json`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, SpecError};

/// Provenance of one invocation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Experiment name.
    pub experiment: String,
    /// The code that trained the runs (`crate::code`; the experiment layer's `provenance`
    /// stamps it), if known.
    pub git_revision: Option<String>,
    /// Crate version of tch.
    pub tch_version: String,
    /// libtorch version the binary runs against.
    pub libtorch_version: String,
    /// Device.
    pub device: crate::device::RunDevice,
    /// Intra-op threads.
    pub threads: usize,
    /// Host description (`uname -a`, CPU model, cores).
    pub host: String,
    /// sha256 of each data file.
    pub data_sha256: BTreeMap<String, String>,
    /// Command line.
    pub command_line: Vec<String>,
    /// Shard, if any.
    pub shard: Option<String>,
    /// Start (unix seconds).
    pub started_at: u64,
    /// End (unix seconds), written when the invocation finishes.
    pub finished_at: Option<u64>,
    /// Wall time (s).
    pub wall_s: Option<f64>,
    /// Runs trained by this invocation / skipped as already done / failed.
    pub runs_trained: usize,
    /// Runs already in the records.
    pub runs_skipped: usize,
    /// Failed runs among those trained.
    pub runs_failed: usize,
    /// The full experiment config as resolved (overrides applied).
    pub config: serde_json::Value,
}

/// Unix time now.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// File name of an invocation manifest: `invocation.json`, or `invocation.shard-K-of-N.json`
/// for a shard (`shard` = `K-of-N`).
pub fn invocation_file_name(shard: Option<&str>) -> String {
    match shard {
        None => "invocation.json".to_owned(),
        Some(t) => format!("invocation.shard-{t}.json"),
    }
}

/// Where a new launch's manifest goes in `dir`: [`invocation_file_name`] for the first launch
/// of that shard, then `invocation[.shard-K-of-N].launch-NNN.json` (002, 003, …), so that
/// every launch that trained runs keeps its manifest and the names sort in launch order.
pub fn new_invocation_path(dir: &Path, shard: Option<&str>) -> std::path::PathBuf {
    let first = dir.join(invocation_file_name(shard));
    if !first.exists() {
        return first;
    }
    let stem = invocation_file_name(shard);
    let stem = stem.trim_end_matches(".json");
    (2..)
        .map(|n| dir.join(format!("{stem}.launch-{n:03}.json")))
        .find(|p| !p.exists())
        .expect("a free launch number")
}

/// Every invocation manifest in `dir` (one per launch and shard), in file-name order.
pub fn read_invocations(dir: &Path) -> Result<Vec<Manifest>> {
    let paths = crate::records::files_named(dir, "invocation", ".json");
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|source| SpecError::Io {
                path: p.clone(),
                source,
            })?;
            serde_json::from_str(&text).map_err(|e| SpecError::CorruptManifest {
                path: p.clone(),
                line: e.line(),
                message: e.to_string(),
            })
        })
        .collect()
}

/// A one-line description of this machine.
pub fn host_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1048576.0))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem}")
}

impl Manifest {
    /// Write atomically ([`crate::atomic`]).
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::atomic::write(
            path,
            serde_json::to_string_pretty(self)
                .expect("manifest serializes")
                .as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_launch_gets_its_own_manifest_in_launch_order() {
        let d = tempfile::tempdir().unwrap();
        let mut made = Vec::new();
        for shard in [None, Some("1-of-2")] {
            for _ in 0..3 {
                let p = new_invocation_path(d.path(), shard);
                std::fs::write(&p, "{}").unwrap();
                made.push(p.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        assert_eq!(
            made,
            [
                "invocation.json",
                "invocation.launch-002.json",
                "invocation.launch-003.json",
                "invocation.shard-1-of-2.json",
                "invocation.shard-1-of-2.launch-002.json",
                "invocation.shard-1-of-2.launch-003.json",
            ]
        );
        let mut sorted = made.clone();
        sorted.sort();
        assert_eq!(sorted, made);
        assert_eq!(
            crate::records::files_named(d.path(), "invocation", ".json").len(),
            6
        );
    }
}
