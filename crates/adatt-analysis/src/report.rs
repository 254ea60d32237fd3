//! Aggregation of run records into cells (entry × task), comparisons, and the text writers
//! (`summary.csv`, `table.md`, `comparisons.csv`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use adatt_train::{ExperimentConfig, RunRecord, Status};
use serde::Serialize;

use crate::stats::{paired_t, summarize, Paired, Stat};

/// Which number of a run is aggregated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Test AUC at the best epoch (the paper's Table 5 number).
    TestAuc,
    /// Validation AUC at the best epoch.
    ValidAuc,
    /// Test NE at the best epoch.
    TestNe,
}

impl Metric {
    /// The metric of a finished run for task `t`.
    pub fn of(self, r: &RunRecord, t: usize) -> Option<f64> {
        let b = r.best.as_ref()?;
        let v = match self {
            Metric::TestAuc => b.test[t].auc,
            Metric::ValidAuc => b.valid[t].auc,
            Metric::TestNe => b.test[t].ne,
        };
        v.is_finite().then_some(v)
    }
}

/// One table cell: an entry on a task.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    /// Entry name.
    pub entry: String,
    /// Setting.
    pub setting: String,
    /// Model label.
    pub model: String,
    /// Protocol.
    pub protocol: String,
    /// Task name.
    pub task: String,
    /// Test AUC over ok runs.
    pub test_auc: Stat,
    /// Validation AUC over ok runs.
    pub valid_auc: Stat,
    /// Test NE over ok runs.
    pub test_ne: Stat,
    /// Runs that failed (non-finite loss).
    pub failed: usize,
    /// Runs that diverged (`adatt_train::divergence`); like failed runs, not in the means.
    pub diverged: usize,
    /// The paper's value, if any.
    pub paper: Option<f64>,
    /// Ours − paper.
    pub diff: Option<f64>,
}

/// One paired comparison on one task.
#[derive(Clone, Debug, Serialize)]
pub struct ComparisonRow {
    /// Kind: "comparison" or "mtl_gain".
    pub kind: String,
    /// Entry a.
    pub a: String,
    /// Entry b.
    pub b: String,
    /// Task.
    pub task: String,
    /// Test on test AUC differences.
    pub test: Paired,
}

/// Everything the writers need.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Experiment name.
    pub experiment: String,
    /// Tasks.
    pub tasks: Vec<String>,
    /// Cells in entry order then task order.
    pub cells: Vec<Cell>,
    /// Comparisons.
    pub comparisons: Vec<ComparisonRow>,
    /// Records used.
    pub records: usize,
    /// Planned runs.
    pub planned: usize,
}

/// The records of `cfg`'s grid per entry (in entry order), selected by record key: an entry's
/// records are those of its model config and seeds, whatever entry name they were recorded
/// under. Records of other configs in the same directory (e.g. from an edited config) are in
/// no entry.
pub fn records_by_entry<'a>(
    cfg: &ExperimentConfig,
    records: &'a [RunRecord],
) -> Vec<Vec<&'a RunRecord>> {
    adatt_train::entry_keys(cfg)
        .iter()
        .map(|keys| records.iter().filter(|r| keys.contains(&r.key)).collect())
        .collect()
}

/// The ok records of one entry, by seed.
fn by_seed<'a>(mine: &[&'a RunRecord]) -> BTreeMap<u64, &'a RunRecord> {
    mine.iter()
        .filter(|r| r.is_ok())
        .map(|r| (r.seed, *r))
        .collect()
}

/// Aggregate the records that belong to `cfg`'s current grid (see [`records_by_entry`]).
pub fn build_report(cfg: &ExperimentConfig, records: &[RunRecord]) -> Report {
    let plan = adatt_train::plan(cfg);
    let per_entry = records_by_entry(cfg, records);
    let n_records: usize = per_entry.iter().map(Vec::len).sum();
    let tasks: Vec<String> = per_entry
        .iter()
        .flatten()
        .next()
        .map(|r| r.tasks.clone())
        .unwrap_or_default();
    let mut cells = Vec::new();
    for (e, mine) in cfg.entries.iter().zip(&per_entry) {
        let failed = mine
            .iter()
            .filter(|r| matches!(r.status, Status::Failed { .. }))
            .count();
        let diverged = mine
            .iter()
            .filter(|r| matches!(r.status, Status::Diverged { .. }))
            .count();
        let ok: Vec<&RunRecord> = mine.iter().copied().filter(|r| r.is_ok()).collect();
        for (t, task) in tasks.iter().enumerate() {
            let col = |m: Metric| -> Stat {
                summarize(&ok.iter().filter_map(|r| m.of(r, t)).collect::<Vec<_>>())
            };
            let test_auc = col(Metric::TestAuc);
            let paper = e.paper.as_ref().and_then(|p| p.get(task).copied());
            cells.push(Cell {
                entry: e.name.clone(),
                setting: e.setting.clone(),
                model: e.model.label(),
                protocol: cfg.data.protocol().to_string(),
                task: task.clone(),
                test_auc,
                valid_auc: col(Metric::ValidAuc),
                test_ne: col(Metric::TestNe),
                failed,
                diverged,
                paper,
                diff: paper.map(|p| test_auc.mean - p),
            });
        }
    }
    let index = |name: &str| {
        cfg.entries
            .iter()
            .position(|e| e.name == name)
            .expect("validated configs compare their own entries")
    };
    let mut comparisons = Vec::new();
    let mut pair = |kind: &str, a: &str, b: &str| {
        let sa = by_seed(&per_entry[index(a)]);
        let sb = by_seed(&per_entry[index(b)]);
        for (t, task) in tasks.iter().enumerate() {
            let mut xa = Vec::new();
            let mut xb = Vec::new();
            for (seed, ra) in &sa {
                if let (Some(rb), Some(va)) = (sb.get(seed), Metric::TestAuc.of(ra, t)) {
                    if let Some(vb) = Metric::TestAuc.of(rb, t) {
                        xa.push(va);
                        xb.push(vb);
                    }
                }
            }
            comparisons.push(ComparisonRow {
                kind: kind.into(),
                a: a.into(),
                b: b.into(),
                task: task.clone(),
                test: paired_t(&xa, &xb),
            });
        }
    };
    for c in &cfg.analysis.comparisons {
        pair("comparison", &c.a, &c.b);
    }
    for (setting, base) in &cfg.analysis.baselines {
        for e in cfg
            .entries
            .iter()
            .filter(|e| &e.setting == setting && &e.name != base)
        {
            pair("mtl_gain", &e.name, base);
        }
    }
    Report {
        experiment: cfg.name.clone(),
        tasks,
        cells,
        comparisons,
        records: n_records,
        planned: plan.len(),
    }
}

fn f4(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "–".into()
    }
}

fn signed4(x: f64) -> String {
    if x.is_finite() {
        format!("{x:+.4}")
    } else {
        "–".into()
    }
}

/// Fewest runs for which a 95% CI is shown: with n = 2 the Student t quantile is 12.7, and the
/// interval (e.g. ± 1.69 on an AUC) says nothing; with n = 1 it is undefined.
pub const MIN_CI_N: usize = 3;

/// A CI half-width as `± 0.0012`, or why there is none.
fn ci_text(ci: f64, n: usize) -> String {
    if n == 0 {
        "–".into()
    } else if n < MIN_CI_N || !ci.is_finite() {
        format!("no CI (n = {n})")
    } else {
        format!("± {}", f4(ci))
    }
}

fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "–".into()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// The cells of each entry (a table row), in entry order.
fn rows(r: &Report) -> Vec<Vec<&Cell>> {
    let mut out: Vec<Vec<&Cell>> = Vec::new();
    for c in &r.cells {
        match out.iter_mut().find(|row| row[0].entry == c.entry) {
            Some(row) => row.push(c),
            None => out.push(vec![c]),
        }
    }
    out
}

/// `summary.csv`: one row per cell.
pub fn summary_csv(r: &Report) -> String {
    let mut s = String::from(
        "experiment,entry,setting,model,protocol,task,n,failed,diverged,test_auc_mean,test_auc_std,test_auc_ci95,valid_auc_mean,test_ne_mean,paper,diff\n",
    );
    let q = |x: &str| {
        if x.contains(',') || x.contains('"') {
            format!("\"{}\"", x.replace('"', "\"\""))
        } else {
            x.to_owned()
        }
    };
    for c in &r.cells {
        let opt = |o: Option<f64>| o.map(|v| format!("{v:.6}")).unwrap_or_default();
        writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{},{}",
            q(&r.experiment),
            q(&c.entry),
            q(&c.setting),
            q(&c.model),
            c.protocol,
            c.task,
            c.test_auc.n,
            c.failed,
            c.diverged,
            c.test_auc.mean,
            c.test_auc.std,
            c.test_auc.ci95,
            c.valid_auc.mean,
            c.test_ne.mean,
            opt(c.paper),
            opt(c.diff),
        )
        .expect("write to string");
    }
    s
}

/// `comparisons.csv`.
pub fn comparisons_csv(r: &Report) -> String {
    let mut s = String::from("kind,a,b,task,n,mean_diff,ci95,t,p\n");
    for c in &r.comparisons {
        writeln!(
            s,
            "{},\"{}\",\"{}\",{},{},{:.6},{:.6},{:.4},{:.6e}",
            c.kind, c.a, c.b, c.task, c.test.n, c.test.mean_diff, c.test.ci95, c.test.t, c.test.p
        )
        .expect("write to string");
    }
    s
}

/// `table.md`: per cell our mean ± 95% CI (n), the paper's value and the difference; then the
/// paired comparisons.
pub fn table_md(r: &Report, title: &str, notes: &str) -> String {
    let mut s = format!("# {title}\n\n");
    if !notes.is_empty() {
        s.push_str(notes.trim_end());
        s.push_str("\n\n");
    }
    writeln!(
        s,
        "Test AUC at the best validation epoch: mean ± 95% CI over n seeds (Student t; no CI below n = {MIN_CI_N}); `paper` is the paper's value, `Δ` ours − paper. {} of {} planned runs recorded. `failed`: training loss became non-finite; `diverged`: loss per task above `train.divergence.max_task_loss` or validation AUC never off 0.5 ± `train.divergence.chance_margin` (`adatt_train::divergence`); neither is in the means.\n",
        r.records, r.planned
    )
    .expect("write");
    let mut header = String::from("| model | setting |");
    let mut rule = String::from("|---|---|");
    for t in &r.tasks {
        write!(header, " {t} (ours) | paper | Δ |").expect("write");
        rule.push_str("---|---|---|");
    }
    header.push_str(" n | failed | diverged |");
    rule.push_str("---|---|---|");
    s.push_str(&header);
    s.push('\n');
    s.push_str(&rule);
    s.push('\n');
    for row in rows(r) {
        let c = row[0];
        write!(s, "| {} | {} |", c.entry, c.setting).expect("write");
        for x in &row {
            write!(
                s,
                " {} {} | {} | {} |",
                f4(x.test_auc.mean),
                ci_text(x.test_auc.ci95, x.test_auc.n),
                x.paper.map(f4).unwrap_or_else(|| "–".into()),
                x.diff.map(signed4).unwrap_or_else(|| "–".into())
            )
            .expect("write");
        }
        writeln!(
            s,
            " {} | {} | {} |",
            row[0].test_auc.n, row[0].failed, row[0].diverged
        )
        .expect("write");
    }
    if !r.comparisons.is_empty() {
        s.push_str("\n## Paired comparisons (test AUC, per-seed differences, paired t-test)\n\n");
        s.push_str(
            "| a | b | task | n | mean a − b | 95% CI | p |\n|---|---|---|---|---|---|---|\n",
        );
        for c in &r.comparisons {
            writeln!(
                s,
                "| {}{} | {} | {} | {} | {} | {} | {} |",
                c.a,
                if c.kind == "mtl_gain" {
                    " (MTL gain)"
                } else {
                    ""
                },
                c.b,
                c.task,
                c.test.n,
                signed4(c.test.mean_diff),
                ci_text(c.test.ci95, c.test.n),
                p_value(c.test.p)
            )
            .expect("write");
        }
    }
    s
}

/// A short results table for the terminal: per entry its runs and mean test AUC per task.
pub fn terminal_table(r: &Report) -> String {
    let width = r
        .cells
        .iter()
        .map(|c| c.entry.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut s = format!("{:<width$}  {:>4}  {:>6}", "entry", "n", "failed");
    for t in &r.tasks {
        write!(s, "  {t:>14}").expect("write");
    }
    s.push('\n');
    for row in rows(r) {
        let c = row[0];
        write!(
            s,
            "{:<width$}  {:>4}  {:>6}",
            c.entry,
            c.test_auc.n,
            c.failed + c.diverged
        )
        .expect("write");
        for x in row {
            write!(s, "  {:>14}", f4(x.test_auc.mean)).expect("write");
        }
        s.push('\n');
    }
    write!(
        s,
        "(mean test AUC over the finished runs; {} of {} planned runs recorded)",
        r.records, r.planned
    )
    .expect("write");
    s
}
