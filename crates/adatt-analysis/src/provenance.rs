//! `manifest.json` of a results directory: what produced its numbers. Folded from the run
//! records (each carries its wall time and, if written since b4db196, the code revision and the
//! machine; older records show them as unrecorded) and from the invocation manifests of the grid
//! runs that wrote them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use adatt_spec::manifest::{read_invocations, Manifest};
use adatt_spec::{plan, ExperimentConfig, RunRecord, UnixTime};
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
    /// Wall time of this stage as the records measure it: the length of the union of the
    /// recorded runs' intervals `[finished_at - group_wall_s, finished_at]`, i.e. the time during
    /// which at least one run was training or evaluating. Pauses between invocations do not
    /// count; however many processes or threads ran, the time counts once.
    pub wall_s: f64,
    /// `process_s / wall_s`: how many runs were in progress on average (2 for two shard
    /// processes side by side; 0 without records).
    pub parallelism: f64,
    /// Mean process-seconds per run, by entry.
    pub mean_run_s: BTreeMap<String, f64>,
    /// Recorded runs by code revision ([`UNRECORDED`] for records older than the field).
    pub code_revisions: BTreeMap<String, usize>,
    /// Recorded runs by machine: host, device and intra-op threads.
    pub machines: BTreeMap<String, usize>,
    /// First and last time a counted run finished (unix seconds).
    pub first_finished_at: Option<UnixTime>,
    /// See `first_finished_at`.
    pub last_finished_at: Option<UnixTime>,
    /// The machines of the invocation manifests (they name the machine of records that predate
    /// the record's own `host` field, when those were made on one machine).
    pub invocation_hosts: Vec<String>,
    /// Every invocation manifest (one per launch that trained runs, and per shard), in
    /// file-name order, without its `config` (saved beside the results as `config.toml`).
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
    /// Wall time of the whole job as the records measure it: the union of the intervals of all
    /// stages' runs (see [`Stage::wall_s`]). It is the time the job spent training and
    /// evaluating, summed over the invocations that made it; process start-up, data loading and
    /// the analysis are not included.
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

/// The length of the union of `records`' intervals `[finished_at - group_wall_s, finished_at]`
/// (see [`Stage::wall_s`]). The ends are taken relative to the earliest `finished_at` before
/// they become floats: as unix seconds (about 1.8e9) an f64 is only exact to 2.4e-7 s.
fn records_wall_s(records: &[&RunRecord]) -> f64 {
    let base = records
        .iter()
        .map(|r| r.finished_at.0)
        .fold(f64::INFINITY, f64::min);
    union_length(
        records
            .iter()
            .map(|r| {
                let end = r.finished_at.0 - base;
                (end - r.group_wall_s.max(0.0), end)
            })
            .collect(),
    )
}

fn earliest(records: &[&RunRecord]) -> Option<UnixTime> {
    records
        .iter()
        .map(|r| r.finished_at)
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

fn latest(records: &[&RunRecord]) -> Option<UnixTime> {
    records
        .iter()
        .map(|r| r.finished_at)
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// Length of the union of `intervals` (each `(start, end)`, `start <= end`).
pub fn union_length(mut intervals: Vec<(f64, f64)>) -> f64 {
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut total = 0.0;
    let mut open: Option<(f64, f64)> = None;
    for (s, e) in intervals {
        open = match open {
            Some((os, oe)) if s <= oe => Some((os, oe.max(e))),
            Some((os, oe)) => {
                total += oe - os;
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    total + open.map_or(0.0, |(s, e)| e - s)
}

/// Fold the records and invocation manifests of one grid. Also returns its counted records, for
/// the wall time of the whole job.
fn stage<'a>(s: StageRef<'a>) -> Result<(Stage, Vec<Manifest>, Vec<&'a RunRecord>), AnalysisError> {
    let planned = plan(s.cfg);
    let by_entry = crate::report::records_by_entry(s.cfg, s.records);
    let mine: Vec<&RunRecord> = by_entry.iter().flatten().copied().collect();
    let share = |r: &RunRecord| r.group_wall_s / r.group_replicas.max(1) as f64;
    let mut per_entry: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for (e, recs) in s.cfg.entries.iter().zip(&by_entry) {
        if !recs.is_empty() {
            per_entry.insert(
                e.name.clone(),
                (recs.iter().map(|r| share(r)).sum(), recs.len()),
            );
        }
    }
    let mut code_revisions = BTreeMap::new();
    let mut machines = BTreeMap::new();
    for r in &mine {
        *code_revisions
            .entry(r.git_revision.clone().unwrap_or_else(|| UNRECORDED.into()))
            .or_insert(0) += 1;
        *machines.entry(machine(r)).or_insert(0) += 1;
    }
    let manifests = read_invocations(s.dir)?;
    let ok = mine.iter().filter(|r| r.is_ok()).count();
    let process_s: f64 = mine.iter().map(|r| share(r)).sum();
    let wall_s = records_wall_s(&mine);
    let stage = Stage {
        name: s.name.to_owned(),
        dir: s.dir.display().to_string(),
        runs_planned: planned.len(),
        runs_ok: ok,
        runs_failed: mine.len() - ok,
        runs_missing: planned.len() - mine.len(),
        process_s,
        wall_s,
        parallelism: if wall_s > 0.0 {
            process_s / wall_s
        } else {
            0.0
        },
        mean_run_s: per_entry
            .into_iter()
            .map(|(k, (s, n))| (k, s / n as f64))
            .collect(),
        code_revisions,
        machines,
        first_finished_at: earliest(&mine),
        last_finished_at: latest(&mine),
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
    Ok((stage, manifests, mine))
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
    let mut counted = Vec::new();
    for s in stages {
        let (st, manifests, mine) = stage(*s)?;
        counted.extend(mine);
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
        wall_s: records_wall_s(&counted),
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
        "| stage | runs recorded / planned | failed | process-hours | wall hours | runs in parallel (mean) |\n",
    );
    md.push_str("|---|---|---|---|---|---|\n");
    for s in &p.stages {
        md.push_str(&format!(
            "| {} | {} / {} | {} | {:.2} | {:.2} | {:.2} |\n",
            s.name,
            s.runs_ok + s.runs_failed,
            s.runs_planned,
            s.runs_failed,
            h(s.process_s),
            h(s.wall_s),
            s.parallelism
        ));
    }
    md.push_str(&format!(
        "\nWall time from the records: **{:.2} h** ({}): the time during which at least one \
         recorded run was training or evaluating (each record gives its interval); pauses \
         between invocations, start-up and the analysis are not included.\n",
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

#[cfg(test)]
mod tests {
    use super::union_length;

    #[test]
    fn union_length_counts_overlaps_once_and_gaps_not_at_all() {
        // (intervals, union length), worked out by hand
        let cases: [(&[(f64, f64)], f64); 6] = [
            (&[], 0.0),
            (&[(3.0, 5.0)], 2.0),
            // two shards side by side: 10 s of wall, 20 s of process time
            (&[(0.0, 10.0), (0.0, 10.0)], 10.0),
            // overlapping, then a pause of 5 s, then one more run
            (&[(0.0, 10.0), (5.0, 15.0), (20.0, 30.0)], 25.0),
            // unsorted, one nested in another, one touching
            (&[(20.0, 30.0), (0.0, 10.0), (2.0, 4.0), (10.0, 12.0)], 22.0),
            // the same interval from every replica of a group
            (&[(1.0, 2.5), (1.0, 2.5), (1.0, 2.5)], 1.5),
        ];
        for (iv, want) in cases {
            assert_eq!(union_length(iv.to_vec()), want, "{iv:?}");
        }
    }
}
