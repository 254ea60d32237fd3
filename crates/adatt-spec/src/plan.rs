//! A grid as runs: entries × seeds, each with its record key, and the order and replica groups
//! they train in.

use std::collections::BTreeSet;

use adatt_models::ModelConfig;
use sha2::{Digest, Sha256};

use crate::config::{DataConfig, ExperimentConfig, TrainConfig};

/// Hash of what changes a run's numbers except the seed (see [`DataConfig::identity`]).
pub fn config_hash(data: &DataConfig, train: &TrainConfig, model: &ModelConfig) -> String {
    let v = serde_json::json!({ "data": data.identity(), "train": train, "model": model });
    let digest = Sha256::digest(serde_json::to_vec(&v).expect("configs serialize"));
    hex::encode(&digest[..8])
}

/// One run of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    /// Position in the full grid (entries × seeds, entry-major).
    pub index: usize,
    /// Entry index.
    pub entry: usize,
    /// Seed.
    pub seed: u64,
    /// Config hash.
    pub config_hash: String,
    /// Record key.
    pub key: String,
}

/// Expand entries × seeds.
pub fn plan(cfg: &ExperimentConfig) -> Vec<PlannedRun> {
    let seeds = cfg.run.seeds.to_vec();
    let mut out = Vec::new();
    for (ei, e) in cfg.entries.iter().enumerate() {
        let h = config_hash(&cfg.data, &cfg.train, &e.model);
        for &s in &seeds {
            out.push(PlannedRun {
                index: out.len(),
                entry: ei,
                seed: s,
                config_hash: h.clone(),
                key: format!("{h}-s{s}"),
            });
        }
    }
    out
}

/// Sorts planned runs for execution: seeds in blocks of `replicas`, every entry per block. With
/// R = 1 (the CPU default) a grid stopped early has the same seeds for every entry, so its
/// partial results are balanced and paired; with R = all seeds (GPU) it is entry by entry, as
/// replica groups need. `plan` is entry-major, so a run's seed position is `index % n_seeds`.
pub fn execution_order(todo: &mut [PlannedRun], n_seeds: usize, replicas: usize) {
    let (n_seeds, block) = (n_seeds.max(1), replicas.max(1));
    todo.sort_by_key(|p| {
        let pos = p.index % n_seeds;
        (pos / block, p.entry, pos)
    });
}

/// The record keys of each entry of `cfg`, in entry order. Records are selected by key, never by
/// their `entry` label: renaming an entry in the config keeps its records, and two entries
/// whose names are swapped keep their own.
pub fn entry_keys(cfg: &ExperimentConfig) -> Vec<BTreeSet<String>> {
    let mut out = vec![BTreeSet::new(); cfg.entries.len()];
    for p in plan(cfg) {
        out[p.entry].insert(p.key);
    }
    out
}

/// The replica groups of `todo` (in execution order): consecutive runs of the same entry, up to
/// `replicas` seeds each.
pub fn replica_groups(todo: &[PlannedRun], replicas: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < todo.len() {
        let mut j = i;
        while j < todo.len() && todo[j].entry == todo[i].entry && j - i < replicas.max(1) {
            j += 1;
        }
        out.push(i..j);
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(entries: usize, seeds: usize) -> Vec<PlannedRun> {
        (0..entries * seeds)
            .map(|i| PlannedRun {
                index: i,
                entry: i / seeds,
                seed: 100 + (i % seeds) as u64,
                config_hash: String::new(),
                key: format!("{i}"),
            })
            .collect()
    }

    fn order(v: &[PlannedRun]) -> Vec<(usize, u64)> {
        v.iter().map(|p| (p.entry, p.seed)).collect()
    }

    #[test]
    fn one_replica_goes_seed_by_seed_and_all_seeds_go_entry_by_entry() {
        let mut v = runs(2, 3);
        execution_order(&mut v, 3, 1);
        let want = [(0, 100), (1, 100), (0, 101), (1, 101), (0, 102), (1, 102)];
        assert_eq!(order(&v), want);
        execution_order(&mut v, 3, 3);
        let want = [(0, 100), (0, 101), (0, 102), (1, 100), (1, 101), (1, 102)];
        assert_eq!(order(&v), want);
        // blocks of 2: seeds {100, 101} of every entry, then {102}
        execution_order(&mut v, 3, 2);
        let want = [(0, 100), (0, 101), (1, 100), (1, 101), (0, 102), (1, 102)];
        assert_eq!(order(&v), want);
    }

    #[test]
    fn a_shard_keeps_the_order_of_its_own_runs() {
        let shard = crate::records::Shard { k: 2, n: 2 };
        let mut v: Vec<PlannedRun> = runs(2, 4)
            .into_iter()
            .filter(|p| shard.owns(p.index))
            .collect();
        execution_order(&mut v, 4, 1);
        assert_eq!(order(&v), [(0, 101), (1, 101), (0, 103), (1, 103)]);
    }
}
