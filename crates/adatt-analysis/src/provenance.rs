//! `manifest.json` of a results directory: what produced its numbers. Folded from the run
//! records (each carries its wall time, and since session 5 the code revision and the machine)
//! and from the invocation manifests of the grid runs that wrote them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use adatt_train::manifest::{read_invocations, Manifest};
use adatt_train::{plan, ExperimentConfig, RunRecord};
use serde::Serialize;

use crate::AnalysisError;

/// Name for records written before runs carried a code revision or a host.
pub const UNRECORDED: &str = "unrecorded";

/// One grid whose records count towards a result (e.g. Table 5's tuning grid and final grid).
#[derive(Clone, Copy)]
pub struct StageRef<'a> {
    /// Stage name in the manifest ("tuning", "final", ...).
    pub name: &'a str,
    /// The grid's config (its plan says which records count).
    pub cfg: &'a ExperimentConfig,
    /// Its results directory (for the invocation manifests).
    pub dir: &'a Path,
    /// Its records, as read from `dir` (the caller has them already).
    pub records: &'a [RunRecord],
}

/// The records of one grid and the compute they took.
#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    /// Stage name.
    pub name: String,
    /// Results directory.
    pub dir: String,
    /// Runs the config plans.
    pub runs_planned: usize,
    /// Planned runs recorded as finished.
    pub runs_ok: usize,
    /// Planned runs recorded as failed.
    pub runs_failed: usize,
    /// Planned runs not recorded yet.
    pub runs_missing: usize,
    /// Process-seconds of training and evaluation: the sum over recorded runs of their replica
    /// group's wall time divided by the group's size.
    pub process_s: f64,
    /// Wall time of this stage as the records measure it: `process_s / jobs`.
    pub wall_s: f64,
    /// Shard processes that ran side by side: the largest N of the invocations' `K-of-N`
    /// (1 when unsharded).
    pub jobs: usize,
    /// Mean process-seconds per run, by entry.
    pub mean_run_s: BTreeMap<String, f64>,
    /// Recorded runs by code revision ([`UNRECORDED`] for records older than the field).
    pub code_revisions: BTreeMap<String, usize>,
    /// Recorded runs by machine: host, device and intra-op threads.
    pub machines: BTreeMap<String, usize>,
    /// First and last time a counted record was written (unix seconds).
    pub first_finished_at: Option<u64>,
    /// See `first_finished_at`.
    pub last_finished_at: Option<u64>,
    /// The machines of the invocation manifests (they name the machine of records that predate
    /// the record's own `host` field, when those were made on one machine).
    pub invocation_hosts: Vec<String>,
    /// The latest invocation manifest of each shard, without its `config` (saved beside the
    /// results as `config.toml`).
    pub invocations: Vec<serde_json::Value>,
}

/// The directory's `manifest.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    /// Experiment name.
    pub experiment: String,
    /// Preprocessing protocol.
    pub protocol: String,
    /// Grids, in the order they run.
    pub stages: Vec<Stage>,
    /// Sum of the stages' process-seconds.
    pub process_s: f64,
    /// Wall time of the whole job as the records measure it: the sum over stages of
    /// process-seconds divided by that stage's jobs. It is what one uninterrupted invocation on
    /// the recorded machine takes for training and evaluation (shards are dealt round-robin, so
    /// they are balanced); process start-up, data loading and the analysis are not included.
    pub wall_s: f64,
    /// Whether every planned run of every stage is recorded.
    pub complete: bool,
    /// sha256 of each data file, from the invocation manifests (all must agree).
    pub data_sha256: BTreeMap<String, String>,
    /// libtorch versions the invocations ran against.
    pub libtorch_versions: Vec<String>,
}

fn machine(r: &RunRecord) -> String {
    format!(
        "{} | {}, {} thread(s)",
        r.host.as_deref().unwrap_or(UNRECORDED),
        r.device,
        r.threads
    )
}

fn shard_count(shard: Option<&str>) -> usize {
    shard
        .and_then(|s| s.split("-of-").nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// Fold the records and invocation manifests of one grid.
pub fn stage(s: StageRef<'_>) -> Result<(Stage, Vec<Manifest>), AnalysisError> {
    let planned = plan(s.cfg);
    let keys: BTreeSet<&str> = planned.iter().map(|p| p.key.as_str()).collect();
    let mine: Vec<&RunRecord> = s
        .records
        .iter()
        .filter(|r| keys.contains(r.key.as_str()))
        .collect();
    let share = |r: &RunRecord| r.group_wall_s / r.group_replicas.max(1) as f64;
    let mut per_entry: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut code_revisions = BTreeMap::new();
    let mut machines = BTreeMap::new();
    for r in &mine {
        let e = per_entry.entry(r.entry.clone()).or_default();
        e.0 += share(r);
        e.1 += 1;
        *code_revisions
            .entry(r.git_revision.clone().unwrap_or_else(|| UNRECORDED.into()))
            .or_insert(0) += 1;
        *machines.entry(machine(r)).or_insert(0) += 1;
    }
    let manifests = read_invocations(s.dir)?;
    let ok = mine.iter().filter(|r| r.is_ok()).count();
    let process_s: f64 = mine.iter().map(|r| share(r)).sum();
    let jobs = manifests
        .iter()
        .map(|m| shard_count(m.shard.as_deref()))
        .max()
        .unwrap_or(1);
    let stage = Stage {
        name: s.name.to_owned(),
        dir: s.dir.display().to_string(),
        runs_planned: planned.len(),
        runs_ok: ok,
        runs_failed: mine.len() - ok,
        runs_missing: planned.len() - mine.len(),
        process_s,
        wall_s: process_s / jobs as f64,
        jobs,
        mean_run_s: per_entry
            .into_iter()
            .map(|(k, (s, n))| (k, s / n as f64))
            .collect(),
        code_revisions,
        machines,
        first_finished_at: mine.iter().map(|r| r.finished_at).min(),
        last_finished_at: mine.iter().map(|r| r.finished_at).max(),
        invocation_hosts: manifests
            .iter()
            .map(|m| m.host.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        invocations: manifests
            .iter()
            .map(|m| {
                let mut v = serde_json::to_value(m).expect("manifest serializes");
                if let Some(o) = v.as_object_mut() {
                    o.remove("config");
                }
                v
            })
            .collect(),
    };
    Ok((stage, manifests))
}

/// The provenance of a result made of `stages` (in the order they run).
pub fn provenance(
    experiment: &str,
    protocol: &str,
    stages: &[StageRef<'_>],
) -> Result<Provenance, AnalysisError> {
    let mut out = Vec::new();
    let mut data_sha256 = BTreeMap::new();
    let mut libtorch = BTreeSet::new();
    for s in stages {
        let (st, manifests) = stage(*s)?;
        for m in manifests {
            for (file, sha) in m.data_sha256 {
                if let Some(prev) = data_sha256.insert(file.clone(), sha.clone()) {
                    if prev != sha {
                        return Err(AnalysisError::Inconsistent(format!(
                            "{}: the invocations read two different versions of {file} \
                             (sha256 {prev} and {sha})",
                            s.dir.display()
                        )));
                    }
                }
            }
            libtorch.insert(m.libtorch_version);
        }
        out.push(st);
    }
    Ok(Provenance {
        experiment: experiment.to_owned(),
        protocol: protocol.to_owned(),
        process_s: out.iter().map(|s| s.process_s).sum(),
        wall_s: out.iter().map(|s| s.wall_s).sum(),
        complete: out.iter().all(|s| s.runs_missing == 0),
        stages: out,
        data_sha256,
        libtorch_versions: libtorch.into_iter().collect(),
    })
}

/// A short Markdown section for `table.md`.
pub fn markdown(p: &Provenance) -> String {
    let h = |s: f64| s / 3600.0;
    let mut md = String::from("## Compute and provenance\n\n");
    md.push_str(
        "| stage | runs recorded / planned | failed | process-hours | processes | wall hours |\n",
    );
    md.push_str("|---|---|---|---|---|---|\n");
    for s in &p.stages {
        md.push_str(&format!(
            "| {} | {} / {} | {} | {:.2} | {} | {:.2} |\n",
            s.name,
            s.runs_ok + s.runs_failed,
            s.runs_planned,
            s.runs_failed,
            h(s.process_s),
            s.jobs,
            h(s.wall_s)
        ));
    }
    md.push_str(&format!(
        "\nWall time from the records: **{:.2} h** ({}): the sum over recorded runs of their \
         training and evaluation time, divided by the processes that ran side by side; start-up \
         and analysis are not included.\n",
        h(p.wall_s),
        if p.complete {
            "every planned run recorded"
        } else {
            "not all planned runs are recorded yet"
        }
    ));
    // Run counts summed over the stages, as "key (n runs); ...".
    let list = |counts: fn(&Stage) -> &BTreeMap<String, usize>| {
        let total = p.stages.iter().flat_map(counts).fold(
            BTreeMap::<&str, usize>::new(),
            |mut m, (k, n)| {
                *m.entry(k.as_str()).or_insert(0) += n;
                m
            },
        );
        total
            .iter()
            .map(|(k, n)| format!("{k} ({n} runs)"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let hosts: BTreeSet<&str> = p
        .stages
        .iter()
        .flat_map(|s| s.invocation_hosts.iter().map(String::as_str))
        .collect();
    md.push_str(&format!(
        "Machines of the runs: {}. Machines of the invocations: {}. Code revisions: {}.\n",
        list(|s| &s.machines),
        hosts.into_iter().collect::<Vec<_>>().join("; "),
        list(|s| &s.code_revisions)
    ));
    md
}
