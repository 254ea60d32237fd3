//! Run records: one JSON line per finished run in `runs.jsonl` (or `runs.shard-K-of-N.jsonl`),
//! appended with a single `write` of the whole line, so a kill leaves at most one truncated last
//! line, which readers skip and writers cut off before appending.
//!
//! Concurrency: every records file of a directory is guarded by `<dir>/.records.lock`. Writers
//! ([`RecordWriter`], for their whole life) and readers ([`read_all_records`], while they read)
//! hold it shared; [`consolidate_records`] merges and removes shard files only when it gets it
//! exclusively, so a merge never removes a file a shard is appending to, nor one a reader has
//! listed but not read yet.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, SpecError};
use crate::outcome::{RunOutcome, SplitEval, Status};

/// Record schema version.
pub const RECORD_VERSION: u32 = 1;

/// One finished run (one seed of one entry).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Schema version.
    pub version: u32,
    /// Unique key: `<config_hash>-s<seed>`.
    pub key: String,
    /// Hash of everything but the seed that changes the numbers (data, train, model configs).
    pub config_hash: String,
    /// Experiment name.
    pub experiment: String,
    /// Entry name.
    pub entry: String,
    /// Entry setting.
    pub setting: String,
    /// Model label.
    pub model: String,
    /// Model config as JSON.
    pub model_config: serde_json::Value,
    /// Preprocessing protocol.
    pub protocol: String,
    /// Seed.
    pub seed: u64,
    /// Task names in order.
    pub tasks: Vec<String>,
    /// How the run went and what it measured.
    #[serde(flatten)]
    pub outcome: RunOutcome,
    /// Wall time of the replica group this run trained in (s).
    pub group_wall_s: f64,
    /// Replicas in that group.
    pub group_replicas: usize,
    /// Device.
    pub device: crate::device::RunDevice,
    /// Intra-op threads.
    pub threads: usize,
    /// Unix time (seconds, microsecond resolution) at which the run's replica group finished;
    /// its interval is `[finished_at - group_wall_s, finished_at]`. Records written before
    /// sub-second times were stored have whole seconds.
    pub finished_at: UnixTime,
    /// `git describe` of the code that trained the run (see [`crate::code::CodeState`]; `<revision>-dirty-<hash>` for a
    /// tree with changes, whose patch lies beside the records as `code-<hash>.patch`);
    /// absent in records written before this field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_revision: Option<String>,
    /// The machine that trained the run ([`crate::manifest::host_description`]); absent in
    /// records written before this field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl RunRecord {
    /// Whether the run finished without failure.
    pub fn is_ok(&self) -> bool {
        self.outcome.status == Status::Ok
    }

    /// Checks what the analysis indexes by task: every metric list has one entry per task,
    /// every weight list too, and a finished run has its best epoch among its epochs.
    pub fn check(&self) -> std::result::Result<(), String> {
        let n = self.tasks.len();
        // An epoch's test metrics may be absent: the loop evaluates the test set only with the
        // best epoch's weights (records from before that have them for every epoch).
        let split = |what: &str, e: &SplitEval, test_optional: bool| {
            let test_ok = e.test.len() == n || (test_optional && e.test.is_empty());
            if e.valid.len() != n || !test_ok {
                Err(format!(
                    "{what} has {} validation and {} test metrics for {n} tasks",
                    e.valid.len(),
                    e.test.len()
                ))
            } else {
                Ok(())
            }
        };
        if let Some(b) = &self.outcome.best {
            split("`best`", b, false)?;
        }
        for (i, c) in self.outcome.epochs.iter().enumerate() {
            split(&format!("`epochs[{i}]`"), &c.eval, true)?;
        }
        for (i, c) in self.outcome.checkpoints.iter().enumerate() {
            split(&format!("`checkpoints[{i}]`"), &c.eval, false)?;
        }
        if let Some((i, w)) = self
            .outcome
            .task_weights
            .iter()
            .enumerate()
            .find(|(_, w)| w.len() != n)
        {
            return Err(format!(
                "`task_weights[{i}]` has {} weights for {n} tasks",
                w.len()
            ));
        }
        if self.is_ok() {
            match (self.outcome.best_epoch, &self.outcome.best) {
                (Some(e), Some(_)) if e < self.outcome.epochs.len() => {}
                _ => {
                    return Err(format!(
                        "status ok, but best_epoch {:?} is not one of its {} epochs or `best` \
                         is missing",
                        self.outcome.best_epoch,
                        self.outcome.epochs.len()
                    ))
                }
            }
        }
        Ok(())
    }
}

/// A unix time in seconds. Serialized as a JSON integer when it is whole (as records written
/// before sub-second times were stored have it), so that those records re-serialize
/// byte-identically, and as a decimal otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct UnixTime(pub f64);

impl UnixTime {
    /// Now, rounded to the microsecond.
    pub fn now() -> Self {
        let s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        UnixTime((s * 1e6).round() / 1e6)
    }
}

impl Serialize for UnixTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let x = self.0;
        if x.fract() == 0.0 && (0.0..9.0e15).contains(&x) {
            s.serialize_u64(x as u64)
        } else {
            s.serialize_f64(x)
        }
    }
}

impl<'de> Deserialize<'de> for UnixTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        f64::deserialize(d).map(UnixTime)
    }
}

/// Records file name for a shard (None = unsharded).
pub fn records_file(dir: &Path, shard: Option<Shard>) -> PathBuf {
    match shard {
        None => dir.join("runs.jsonl"),
        Some(s) => dir.join(format!("runs.shard-{}-of-{}.jsonl", s.k, s.n)),
    }
}

/// All records files in `dir` (`runs.jsonl` and every shard's), sorted by name.
pub fn records_files(dir: &Path) -> Vec<PathBuf> {
    files_named(dir, "runs", ".jsonl")
}

/// The files in `dir` whose names start with `prefix` and end with `suffix`, sorted by name
/// (none if `dir` does not exist).
pub(crate) fn files_named(dir: &Path, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .collect();
    v.sort();
    v
}

/// Read one records file. A final line without newline that does not parse (an interrupted
/// write) is skipped with a warning; any other unparsable line is an error.
pub fn read_records(path: &Path) -> Result<Vec<RunRecord>> {
    let io = |source| SpecError::Io {
        path: path.to_owned(),
        source,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<RunRecord>(line) {
            Ok(r) => {
                r.check().map_err(|message| SpecError::CorruptRecord {
                    path: path.to_owned(),
                    line: i + 1,
                    message: format!("record {}: {message}", r.key),
                })?;
                out.push(r)
            }
            Err(e) => {
                if i + 1 == lines.len() && !complete {
                    tracing::warn!(path = %path.display(), "skipping interrupted last record line");
                } else {
                    return Err(SpecError::CorruptRecord {
                        path: path.to_owned(),
                        line: i + 1,
                        message: e.to_string(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Name of the lock file that guards the records files of a directory (see the module docs).
pub const RECORDS_LOCK: &str = ".records.lock";

/// How [`records_lock`] waits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LockMode {
    /// Shared, waiting while a merge holds it exclusively.
    Shared,
    /// Exclusive, without waiting: `None` if a writer or reader holds it.
    TryExclusive,
}

/// Takes `<dir>/.records.lock` (the directory must exist). Released when the file is dropped.
fn records_lock(dir: &Path, mode: LockMode) -> Result<Option<File>> {
    let path = dir.join(RECORDS_LOCK);
    let io = |source| SpecError::Io {
        path: path.clone(),
        source,
    };
    let file = crate::lock::open_lock_file(&path)?;
    match mode {
        LockMode::Shared => {
            file.lock_shared().map_err(io)?;
            Ok(Some(file))
        }
        LockMode::TryExclusive => match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(io(e)),
        },
    }
}

/// Read every records file in `dir` and merge by key, holding the records lock shared while
/// reading (a directory that does not exist has no records). For a key recorded more than once
/// (overlapping shards, or a failed run trained again with `--retry-failed`) a finished run wins
/// over a failed or diverged one; among equals the first occurrence (in file-name and line
/// order) wins.
pub fn read_all_records(dir: &Path) -> Result<Vec<RunRecord>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let _lock = records_lock(dir, LockMode::Shared)?;
    read_all_unlocked(dir)
}

fn read_all_unlocked(dir: &Path) -> Result<Vec<RunRecord>> {
    let mut by_key: BTreeMap<String, RunRecord> = BTreeMap::new();
    for f in records_files(dir) {
        for r in read_records(&f)? {
            match by_key.get(&r.key) {
                Some(prev) if prev.is_ok() || !r.is_ok() => {}
                _ => {
                    by_key.insert(r.key.clone(), r);
                }
            }
        }
    }
    Ok(by_key.into_values().collect())
}

/// A record as one JSONL line, newline included.
fn record_line(r: &RunRecord) -> String {
    let mut line = serde_json::to_string(r).expect("records serialize");
    line.push('\n');
    line
}

/// What [`consolidate_records`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consolidation {
    /// The records are in `runs.jsonl` alone (merged now, or there was nothing to merge).
    Merged(usize),
    /// Another process is writing or reading records in the directory; the shard files were
    /// left as they are (readers merge them anyway) and a later run merges them.
    Busy,
}

/// Merges every records file in `dir` into `runs.jsonl` (one line per key, as
/// [`read_all_records`] resolves duplicates) and removes the shard files, if it can take the
/// records lock exclusively; while any process writes or reads records there it does nothing
/// and says [`Consolidation::Busy`]. Crash-safe: the merged file is written beside, synced and
/// renamed over `runs.jsonl` before any shard file is removed, and readers merge duplicates.
pub fn consolidate_records(dir: &Path) -> Result<Consolidation> {
    if !dir.is_dir() {
        return Ok(Consolidation::Merged(0));
    }
    let Some(_lock) = records_lock(dir, LockMode::TryExclusive)? else {
        return Ok(Consolidation::Busy);
    };
    let files = records_files(dir);
    let merged = dir.join("runs.jsonl");
    let records = read_all_unlocked(dir)?;
    if files.iter().all(|f| f == &merged) {
        return Ok(Consolidation::Merged(records.len()));
    }
    let tmp = dir.join("runs.jsonl.merging");
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SpecError::Io { path, source }
    };
    let write = |path: &Path| {
        let path = path.to_owned();
        move |source| SpecError::Write { path, source }
    };
    {
        let mut f = File::create(&tmp).map_err(write(&tmp))?;
        for r in &records {
            f.write_all(record_line(r).as_bytes())
                .map_err(write(&tmp))?;
        }
        f.sync_all().map_err(write(&tmp))?;
    }
    std::fs::rename(&tmp, &merged).map_err(write(&merged))?;
    for f in files.iter().filter(|f| *f != &merged) {
        std::fs::remove_file(f).map_err(io(f))?;
    }
    Ok(Consolidation::Merged(records.len()))
}

/// Appends records to one file, holding the directory's records lock shared while open.
pub struct RecordWriter {
    path: PathBuf,
    file: File,
    _lock: Option<File>,
    /// What this writer appended: (key, line), to write again into a replacement file.
    written: Vec<(String, String)>,
}

impl RecordWriter {
    /// Open for append, first cutting off an interrupted (newline-less) last line. Waits while
    /// a merge of the directory's records holds the records lock.
    pub fn open(path: &Path) -> Result<Self> {
        let io = |source| SpecError::Io {
            path: path.to_owned(),
            source,
        };
        let parent = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|source| SpecError::Io {
            path: parent.to_owned(),
            source,
        })?;
        let lock = records_lock(parent, LockMode::Shared)?;
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > 0 {
            let mut reader = BufReader::new(&file);
            let mut keep = 0u64;
            let mut pos = 0u64;
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let n = reader.read_until(b'\n', &mut buf).map_err(io)?;
                if n == 0 {
                    break;
                }
                pos += n as u64;
                if buf.ends_with(b"\n") {
                    keep = pos;
                }
            }
            if keep < len {
                tracing::warn!(path = %path.display(), "truncating interrupted last record line");
                file.set_len(keep).map_err(io)?;
            }
            file.seek(SeekFrom::End(0)).map_err(io)?;
        }
        Ok(RecordWriter {
            path: path.to_owned(),
            file,
            _lock: lock,
            written: Vec::new(),
        })
    }

    /// Append one record as one line, written with one `write_all` and flushed to disk. If the
    /// file at the path is no longer the one this writer opened (replaced or removed while it
    /// was open, e.g. by a `git checkout` of committed records), the writer reopens the path
    /// and first appends every record it wrote that the new file lacks: nothing goes to an
    /// unlinked file.
    pub fn append(&mut self, rec: &RunRecord) -> Result<()> {
        let line = record_line(rec);
        let path = self.path.clone();
        let io = |source| SpecError::Io {
            path: path.clone(),
            source,
        };
        if self.replaced().map_err(io)? {
            self.reopen()?;
        }
        let write = |source| SpecError::Write {
            path: path.clone(),
            source,
        };
        self.file.write_all(line.as_bytes()).map_err(write)?;
        self.file.sync_data().map_err(write)?;
        self.written.push((rec.key.clone(), line));
        Ok(())
    }

    /// Whether the path no longer names the open file.
    fn replaced(&self) -> std::io::Result<bool> {
        use std::os::unix::fs::MetadataExt;
        let open = self.file.metadata()?;
        Ok(match std::fs::metadata(&self.path) {
            Ok(now) => (now.dev(), now.ino()) != (open.dev(), open.ino()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(e),
        })
    }

    /// Opens the path again and appends the records this writer wrote that it lacks.
    fn reopen(&mut self) -> Result<()> {
        let path = self.path.clone();
        let io = |source| SpecError::Io {
            path: path.clone(),
            source,
        };
        let present: std::collections::BTreeSet<String> = match std::fs::read_to_string(&self.path)
        {
            Ok(text) => text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v["key"].as_str().map(str::to_owned))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
            Err(e) => return Err(io(e)),
        };
        let reopened = RecordWriter::open(&self.path)?;
        self.file = reopened.file;
        let missing: Vec<&(String, String)> = self
            .written
            .iter()
            .filter(|(k, _)| !present.contains(k))
            .collect();
        tracing::warn!(
            path = %self.path.display(),
            rewritten = missing.len(),
            "the records file was replaced while open; reopened it"
        );
        for (_, l) in missing {
            self.file.write_all(l.as_bytes()).map_err(io)?;
        }
        self.file.sync_data().map_err(io)
    }
}

/// A `k/N` slice of a grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based shard index.
    pub k: usize,
    /// Number of shards.
    pub n: usize,
}

impl std::str::FromStr for Shard {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || SpecError::Shard(s.to_owned());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

impl Shard {
    /// Whether the run with grid index `i` belongs to this shard (round robin).
    pub fn owns(&self, i: usize) -> bool {
        i % self.n == self.k - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One finished run's record line (3 tasks, 2 epochs, best epoch 1).
    fn line(key: &str) -> serde_json::Value {
        let m = serde_json::json!({ "auc": 0.9, "ne": 0.5, "loss": 0.3 });
        let eval = serde_json::json!({ "valid": [m, m, m], "test": [m, m, m] });
        let point = |epoch: usize| {
            serde_json::json!({ "epoch": epoch, "fraction": (epoch + 1) as f64 / 2.0,
                                "examples": 10 * (epoch + 1), "train_loss": 0.4, "eval": eval })
        };
        serde_json::json!({
            "version": 1, "key": key, "config_hash": "h", "experiment": "t", "entry": "e",
            "setting": "", "model": "", "model_config": {}, "protocol": "paper", "seed": 0,
            "tasks": ["a", "b", "c"], "status": "ok", "best_epoch": 1, "best": eval,
            "epochs": [point(0), point(1)], "checkpoints": [], "task_weights": [[1, 1, 1]],
            "group_wall_s": 1.0, "group_replicas": 1, "device": "Cpu", "threads": 1,
            "finished_at": 0
        })
    }

    fn write(lines: &[String]) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("runs.jsonl");
        std::fs::write(&p, lines.concat()).unwrap();
        (d, p)
    }

    fn corrupt_line(r: Result<Vec<RunRecord>>) -> (usize, String) {
        match r {
            Err(SpecError::CorruptRecord { line, message, .. }) => (line, message),
            other => panic!("expected CorruptRecord, got {other:?}"),
        }
    }

    #[test]
    fn a_good_file_reads_and_an_interrupted_last_line_is_skipped() {
        let a = line("a").to_string() + "\n";
        let b = line("b").to_string();
        let (_d, p) = write(&[a.clone(), b[..b.len() / 2].to_owned()]);
        let recs = read_records(&p).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].key, "a");
        let (_d, p) = write(&[a, b + "\n"]);
        assert_eq!(read_records(&p).unwrap().len(), 2);
    }

    #[test]
    fn bad_lines_are_errors_naming_the_line() {
        let a = line("a").to_string() + "\n";
        // unparsable line in the middle
        let (_d, p) = write(&[a.clone(), "{\"key\": \n".into(), a.clone()]);
        assert_eq!(corrupt_line(read_records(&p)).0, 2);
        // parses, but the analysis could not index it by task
        let mut cases: Vec<(serde_json::Value, &str)> = Vec::new();
        let mut v = line("two-tests");
        v["best"]["test"].as_array_mut().unwrap().pop();
        cases.push((v, "`best` has 3 validation and 2 test metrics for 3 tasks"));
        let mut v = line("short-epoch");
        v["epochs"][1]["eval"]["valid"]
            .as_array_mut()
            .unwrap()
            .pop();
        cases.push((v, "`epochs[1]` has 2 validation and 3 test metrics"));
        let mut v = line("weights");
        v["task_weights"][0] = serde_json::json!([1, 1]);
        cases.push((v, "`task_weights[0]` has 2 weights for 3 tasks"));
        let mut v = line("best-epoch");
        v["best_epoch"] = serde_json::json!(2);
        cases.push((v, "best_epoch Some(2) is not one of its 2 epochs"));
        for (v, want) in cases {
            let key = v["key"].as_str().unwrap().to_owned();
            let (_d, p) = write(&[a.clone(), v.to_string() + "\n"]);
            let (l, message) = corrupt_line(read_records(&p));
            assert_eq!(l, 2, "{key}");
            assert!(
                message.contains(&format!("record {key}: ")) && message.contains(want),
                "{key}: {message}"
            );
        }
    }

    fn record(key: &str, ok: bool) -> RunRecord {
        let mut v = line(key);
        if !ok {
            v["status"] = serde_json::json!("failed");
            v["reason"] = serde_json::json!("non-finite training loss");
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_finished_run_wins_over_a_failed_one_for_the_same_key() {
        let d = tempfile::tempdir().unwrap();
        let mut w = RecordWriter::open(&d.path().join("runs.jsonl")).unwrap();
        w.append(&record("a", false)).unwrap();
        w.append(&record("b", true)).unwrap();
        w.append(&record("a", true)).unwrap();
        w.append(&record("b", false)).unwrap();
        drop(w);
        let recs = read_all_records(d.path()).unwrap();
        let got: Vec<(&str, bool)> = recs.iter().map(|r| (r.key.as_str(), r.is_ok())).collect();
        assert_eq!(got, [("a", true), ("b", true)]);
    }

    #[test]
    fn sub_second_times_round_trip_and_whole_seconds_stay_integers() {
        for (t, json) in [
            (1764582000.0, "1764582000"),
            (1764582000.25, "1764582000.25"),
        ] {
            assert_eq!(serde_json::to_string(&UnixTime(t)).unwrap(), json);
            let back: UnixTime = serde_json::from_str(json).unwrap();
            assert_eq!(back, UnixTime(t));
        }
        let now = UnixTime::now();
        assert_eq!((now.0 * 1e6).round(), now.0 * 1e6);
    }

    /// A records file replaced or removed under an open writer (a `git checkout` of older
    /// committed records) loses nothing: the writer reopens the path and writes again what the
    /// new file lacks.
    #[test]
    fn a_file_replaced_or_removed_under_the_writer_loses_no_record() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("runs.jsonl");
        let mut w = RecordWriter::open(&path).unwrap();
        w.append(&record("a", true)).unwrap();
        w.append(&record("b", true)).unwrap();
        // Replaced by an older version holding only `a` (a new inode, as git writes it).
        let older = d.path().join("older");
        std::fs::write(&older, record_line(&record("a", true))).unwrap();
        std::fs::rename(&older, &path).unwrap();
        w.append(&record("c", true)).unwrap();
        let keys = |p: &Path| -> Vec<String> {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["key"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(keys(&path), ["a", "b", "c"]);
        // Removed: recreated with everything this writer wrote.
        std::fs::remove_file(&path).unwrap();
        w.append(&record("d", true)).unwrap();
        assert_eq!(keys(&path), ["a", "b", "c", "d"]);
    }

    /// A merge while a shard is writing must neither remove the shard's file nor lose what the
    /// shard appends afterwards.
    #[test]
    fn a_merge_waits_for_the_writers_and_loses_nothing() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        let mut main = RecordWriter::open(&records_file(dir, None)).unwrap();
        main.append(&record("m0", true)).unwrap();
        drop(main);
        let shard = records_file(dir, Some(Shard { k: 1, n: 2 }));
        let mut w = RecordWriter::open(&shard).unwrap();
        w.append(&record("s0", true)).unwrap();
        assert_eq!(consolidate_records(dir).unwrap(), Consolidation::Busy);
        assert!(
            shard.exists(),
            "the merge removed a file a shard is writing"
        );
        w.append(&record("s1", true)).unwrap();
        drop(w);
        assert_eq!(consolidate_records(dir).unwrap(), Consolidation::Merged(3));
        assert!(!shard.exists());
        let keys: Vec<String> = read_all_records(dir)
            .unwrap()
            .into_iter()
            .map(|r| r.key)
            .collect();
        assert_eq!(keys, ["m0", "s0", "s1"]);
    }

    /// Two shard writers append (each opening and closing its writer around every record, as
    /// shard processes start and stop, with a pause between records) while a third thread merges and reads in a loop: every
    /// record survives, and every read sees a prefix-complete set.
    #[test]
    fn concurrent_shards_merges_and_reads_lose_nothing() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().to_owned();
        let per_shard = 40;
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let writers: Vec<_> = (1..=2)
                .map(|k| {
                    let dir = dir.clone();
                    s.spawn(move || {
                        let path = records_file(&dir, Some(Shard { k, n: 2 }));
                        for i in 0..per_shard {
                            let mut w = RecordWriter::open(&path).unwrap();
                            w.append(&record(&format!("k{k}-{i:03}"), true)).unwrap();
                            drop(w);
                            // between runs a shard holds no writer: the merges' window
                            std::thread::sleep(std::time::Duration::from_millis(2));
                        }
                    })
                })
                .collect();
            let merger = s.spawn(|| {
                let (mut merges, mut seen) = (0, 0);
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    if let Consolidation::Merged(_) = consolidate_records(&dir).unwrap() {
                        merges += 1;
                    }
                    let n = read_all_records(&dir).unwrap().len();
                    assert!(n >= seen, "a read lost records: {n} after {seen}");
                    seen = n;
                }
                merges
            });
            for w in writers {
                w.join().unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            let merges = merger.join().unwrap();
            assert!(merges > 0, "the merger never ran between the writers");
        });
        assert_eq!(
            consolidate_records(&dir).unwrap(),
            Consolidation::Merged(2 * per_shard)
        );
        assert_eq!(records_files(&dir), [dir.join("runs.jsonl")]);
    }
}
