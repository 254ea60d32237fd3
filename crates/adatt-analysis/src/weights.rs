//! The paper's Figure 3: how much each task unit of AdaTT draws from each source task's experts.
//!
//! A run with `train.record_expert_weights` records, at its best epoch, the fused expert weights
//! (NativeExpertLF weight + gate, `adatt_models::Model::fused_expert_weights`) averaged over the
//! test set: per fusion level a `units × experts` matrix. Here the expert columns are summed per
//! source (a task's `task_experts` experts; AdaTT's shared experts as one source), then averaged
//! over seeds with the per-cell standard deviation. Rows are the task units (and AdaTT's shared
//! unit at levels below the last). With one expert per task each row sums to 2: the gate's
//! softmax 1 plus the native expert's fixed weight 1.

use std::fmt::Write as _;
use std::ops::Range;

use adatt_models::{ExpertLayout, ModelConfig};
use adatt_spec::{ExperimentConfig, RunRecord};
use serde::Serialize;

use crate::stats::summarize;

/// One entry's weights at one fusion level, aggregated per source.
#[derive(Clone, Debug, Serialize)]
pub struct WeightMatrix {
    /// Entry name.
    pub entry: String,
    /// Fusion level (0-based).
    pub level: usize,
    /// Row labels: the units (task names, then `shared`).
    pub rows: Vec<String>,
    /// Column labels: the sources (task names, then `shared`).
    pub cols: Vec<String>,
    /// Mean over seeds, `[row][col]`.
    pub mean: Vec<Vec<f64>>,
    /// Standard deviation over seeds (ddof = 1; NaN for one seed), `[row][col]`.
    pub std: Vec<Vec<f64>>,
    /// Seeds.
    pub n: usize,
    /// Each seed's matrix, `[seed][row][col]` (for the tests against the configured relations,
    /// `relations.rs`).
    #[serde(skip)]
    pub per_seed: Vec<Vec<Vec<f64>>>,
}

/// The expert columns of each source of an AdaTT model (None for other models).
fn sources(model: &ModelConfig, tasks: &[String]) -> Option<Vec<(String, Range<usize>)>> {
    let ExpertLayout {
        task_experts: k,
        shared_experts: shared,
    } = model.arch().expert_layout()?;
    let mut out: Vec<(String, Range<usize>)> = tasks
        .iter()
        .enumerate()
        .map(|(t, name)| (name.clone(), t * k..(t + 1) * k))
        .collect();
    if shared > 0 {
        let start = tasks.len() * k;
        out.push(("shared".into(), start..start + shared));
    }
    Some(out)
}

/// The aggregated matrices of every entry whose finished runs recorded expert weights, in entry
/// order then level order.
pub fn expert_weight_matrices(
    cfg: &ExperimentConfig,
    per_entry: &[Vec<&RunRecord>],
    tasks: &[String],
) -> Vec<WeightMatrix> {
    let mut out = Vec::new();
    for (e, recs) in cfg.entries.iter().zip(per_entry) {
        let runs: Vec<&Vec<Vec<Vec<f64>>>> = recs
            .iter()
            .filter(|r| r.is_ok())
            .filter_map(|r| r.outcome.expert_weights.as_ref())
            .collect();
        let Some(groups) = sources(&e.model, tasks) else {
            continue;
        };
        let Some(first) = runs.first() else {
            continue;
        };
        for level in 0..first.len() {
            let units = first[level].len();
            let rows: Vec<String> = (0..units)
                .map(|u| tasks.get(u).cloned().unwrap_or_else(|| "shared".into()))
                .collect();
            // per seed, per unit, per source: the summed weights of the source's experts
            let agg: Vec<Vec<Vec<f64>>> = runs
                .iter()
                .map(|w| {
                    w[level]
                        .iter()
                        .map(|row| {
                            groups
                                .iter()
                                .map(|(_, c)| row[c.clone()].iter().sum())
                                .collect()
                        })
                        .collect()
                })
                .collect();
            let cell =
                |u: usize, g: usize| summarize(&agg.iter().map(|s| s[u][g]).collect::<Vec<f64>>());
            let stat = |f: fn(crate::stats::Stat) -> f64| -> Vec<Vec<f64>> {
                (0..units)
                    .map(|u| (0..groups.len()).map(|g| f(cell(u, g))).collect())
                    .collect()
            };
            out.push(WeightMatrix {
                entry: e.name.clone(),
                level,
                rows,
                cols: groups.iter().map(|(name, _)| name.clone()).collect(),
                mean: stat(|s| s.mean),
                std: stat(|s| s.std),
                n: runs.len(),
                per_seed: agg,
            });
        }
    }
    out
}

/// The `table.md` section: one Markdown matrix per entry and level, `mean ± std`.
pub fn markdown(matrices: &[WeightMatrix]) -> String {
    if matrices.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n## Fused expert weights (Figure 3)\n\nPer task unit (row), the weight it gives each \
         source's experts (column: the sum over that source's experts of NativeExpertLF weight + \
         gate), averaged over the test set at the best epoch, then mean ± std over seeds. With one \
         expert per task a row sums to 2 (gate 1 + native 1).\n",
    );
    for m in matrices {
        write!(
            s,
            "\n### {}, fusion level {} ({} seeds)\n\n| unit \\ source |",
            m.entry,
            m.level + 1,
            m.n
        )
        .expect("write");
        for c in &m.cols {
            write!(s, " {c} |").expect("write");
        }
        writeln!(s, "\n|---|{}", "---|".repeat(m.cols.len())).expect("write");
        for (i, r) in m.rows.iter().enumerate() {
            write!(s, "| {r} |").expect("write");
            for j in 0..m.cols.len() {
                let sd = m.std[i][j];
                let sd = if sd.is_finite() {
                    format!(" ± {sd:.3}")
                } else {
                    String::new()
                };
                write!(s, " {:.3}{sd} |", m.mean[i][j]).expect("write");
            }
            s.push('\n');
        }
        s.push_str(&sharing(m));
    }
    s
}

/// What is shared with what in one matrix: each unit's share of its (mean) weight that comes
/// from other tasks' experts, and the largest such cell. Defined only when every mean weight is
/// non-negative (with several experts per task the native weights are signed).
fn sharing(m: &WeightMatrix) -> String {
    if m.mean.iter().flatten().any(|&w| w < 0.0 || !w.is_finite()) {
        return "\nSome mean weights are negative (signed NativeExpertLF weights): no shares                 are given for this matrix.\n"
            .into();
    }
    let mut parts = Vec::new();
    let mut largest: Option<(f64, usize, usize)> = None;
    for (i, row) in m.mean.iter().enumerate() {
        let own = m.cols.iter().position(|c| c == &m.rows[i]);
        let total: f64 = row.iter().sum();
        let other: f64 = row
            .iter()
            .enumerate()
            .filter(|(j, _)| Some(*j) != own)
            .map(|(_, w)| w)
            .sum();
        parts.push(format!("{} {:.1} %", m.rows[i], 100.0 * other / total));
        for (j, &w) in row.iter().enumerate().filter(|(j, _)| Some(*j) != own) {
            if largest.is_none_or(|(l, _, _)| w > l) {
                largest = Some((w, i, j));
            }
        }
    }
    let mut s = format!(
        "\nShare of each unit's weight on other tasks' experts: {}.",
        parts.join(", ")
    );
    if let Some((w, i, j)) = largest {
        write!(
            s,
            " Largest: {} draws {:.3} ± {:.3} from {}.",
            m.rows[i], w, m.std[i][j], m.cols[j]
        )
        .expect("write");
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(weights: Vec<Vec<Vec<f64>>>) -> RunRecord {
        let m = serde_json::json!({ "auc": 0.8, "ne": 0.9, "loss": 0.3 });
        let eval = serde_json::json!({ "valid": [m, m], "test": [m, m] });
        serde_json::from_value(serde_json::json!({
            "version": 1, "key": "k", "config_hash": "h", "experiment": "t", "entry": "e",
            "setting": "", "model": "", "model_config": {}, "protocol": "clean", "seed": 0,
            "tasks": ["a", "b"], "status": "ok", "best_epoch": 0, "best": eval,
            "epochs": [{ "epoch": 0, "fraction": 1.0, "examples": 1, "train_loss": 0.4,
                         "eval": eval }],
            "checkpoints": [], "task_weights": [[1, 1]], "group_wall_s": 1.0,
            "group_replicas": 1, "device": "Cpu", "threads": 1, "finished_at": 0,
            "expert_weights": weights
        }))
        .unwrap()
    }

    /// Two tasks with two experts each, two seeds, one level; sums and spreads worked out by
    /// hand: seed 1 rows [1.5, 0.5 | 0.25, 0.75] and [0.1, 0.1 | 1.2, 0.6] give per source
    /// [2.0, 1.0] and [0.2, 1.8]; seed 2 rows [1.0, 0.5 | 0.5, 1.0] and [0.2, 0.2 | 1.0, 0.6]
    /// give [1.5, 1.5] and [0.4, 1.6]. Means [1.75, 1.25] and [0.3, 1.7]; the std of two values
    /// x, y is |x − y| / √2.
    #[test]
    fn weights_are_summed_per_source_and_averaged_over_seeds() {
        let cfg = ExperimentConfig::from_toml_str(
            &(adatt_testkit::config_head("t", false, 0, "", "seeds = [0, 1]")
                + r#"
[[entries]]
name = "AdaTT-sp 2/task"
model = { kind = "adatt_sp", task_experts = 2, expert_dims = [[8]], tower = [4] }
"#),
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let r1 = record(vec![vec![
            vec![1.5, 0.5, 0.25, 0.75],
            vec![0.1, 0.1, 1.2, 0.6],
        ]]);
        let r2 = record(vec![vec![
            vec![1.0, 0.5, 0.5, 1.0],
            vec![0.2, 0.2, 1.0, 0.6],
        ]]);
        let tasks = vec!["a".to_owned(), "b".to_owned()];
        let m = expert_weight_matrices(&cfg, &[vec![&r1, &r2]], &tasks);
        assert_eq!(m.len(), 1);
        let m = &m[0];
        assert_eq!(
            (m.rows.clone(), m.cols.clone(), m.n),
            (tasks.clone(), tasks, 2)
        );
        let want_mean = [[1.75, 1.25], [0.3, 1.7]];
        let want_std = [[0.5, 0.5], [0.2, 0.2]].map(|r| r.map(|d: f64| d / 2f64.sqrt()));
        for i in 0..2 {
            for j in 0..2 {
                assert!((m.mean[i][j] - want_mean[i][j]).abs() < 1e-12, "{m:?}");
                assert!((m.std[i][j] - want_std[i][j]).abs() < 1e-12, "{m:?}");
            }
        }
        let md = markdown(std::slice::from_ref(m));
        assert!(md.contains("| a | 1.750 ± 0.354 | 1.250 ± 0.354 |"), "{md}");
        // a: 1.25 of 3.0 from b; b: 0.3 of 2.0 from a; the largest off-diagonal cell is a ← b
        assert!(
            md.contains(
                "other tasks' experts: a 41.7 %, b 15.0 %. Largest: a draws 1.250 ± 0.354 from b."
            ),
            "{md}"
        );
        let mut signed = m.clone();
        signed.mean[1][0] = -0.1;
        assert!(markdown(&[signed]).contains("no shares"));
    }
}
