//! Aggregation of run records into cells (entry × task), comparisons, and the text writers
//! (`summary.csv`, `table.md`, `comparisons.csv`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use adatt_spec::metrics::TaskMetrics;
use adatt_spec::{ExperimentConfig, RunRecord, Status};
use serde::Serialize;

use crate::ne_diff::{relative_change, relative_diff, NeDiffRow};
use crate::numbers::{ci_text, f4, p_value, signed4, MIN_CI_N};
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
    /// Test loss at the best epoch: MSE (regression tasks) or log loss (binary tasks).
    TestLoss,
}

impl Metric {
    /// The metric of a finished run for task `t` (its index in the record).
    pub fn of(self, r: &RunRecord, t: usize) -> Option<f64> {
        let b = r.outcome.best.as_ref()?;
        let v = match self {
            Metric::TestAuc => b.test[t].auc,
            Metric::ValidAuc => b.valid[t].auc,
            Metric::TestNe => b.test[t].ne,
            Metric::TestLoss => b.test[t].loss,
        };
        v.is_finite().then_some(v)
    }
}

/// A reported task: a column of the tables.
#[derive(Clone, Debug, Serialize)]
pub struct Column {
    /// Task name.
    pub task: String,
    /// Its index in the records' per-task lists.
    pub index: usize,
    /// A regression task: its number is the MSE, and its difference the MSE's (binary tasks:
    /// AUC, and the NE's difference).
    pub regression: bool,
}

impl Column {
    /// The number whose relative difference the tables give: NE (binary) or MSE (regression).
    pub fn headline(&self, m: &TaskMetrics) -> Option<f64> {
        let v = if self.regression { m.loss } else { m.ne };
        v.is_finite().then_some(v)
    }

    /// [`Column::headline`] of a finished run at its best epoch.
    fn best(&self, r: &RunRecord) -> Option<f64> {
        self.headline(&r.outcome.best.as_ref()?.test[self.index])
    }

    /// [`Column::headline`] at the checkpoint after fraction `at` of the stream, or at the best
    /// epoch for `None`.
    fn at(&self, r: &RunRecord, at: Option<f64>) -> Option<f64> {
        let Some(fraction) = at else {
            return self.best(r);
        };
        let point = r
            .outcome
            .checkpoints
            .iter()
            .find(|p| p.fraction == fraction)?;
        self.headline(&point.eval.test[self.index])
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
    /// Test MSE (regression) or log loss (binary) over ok runs.
    pub test_loss: Stat,
    /// A regression task (its table number is `test_loss`, not `test_auc`).
    pub regression: bool,
    /// Runs that failed (non-finite loss).
    pub failed: usize,
    /// Runs that diverged (`adatt_spec::divergence`); like failed runs, not in the means.
    pub diverged: usize,
    /// The paper's value, if any.
    pub paper: Option<f64>,
    /// Ours − paper.
    pub diff: Option<f64>,
}

/// Why two entries are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonKind {
    /// A pair of `analysis.comparisons`.
    Comparison,
    /// An entry against its setting's baseline (`analysis.baselines`): the MTL gain.
    MtlGain,
}

impl ComparisonKind {
    /// The name `comparisons.csv` and `summary.json` give it.
    pub fn as_str(self) -> &'static str {
        match self {
            ComparisonKind::Comparison => "comparison",
            ComparisonKind::MtlGain => "mtl_gain",
        }
    }
}

impl std::fmt::Display for ComparisonKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One paired comparison on one task.
#[derive(Clone, Debug, Serialize)]
pub struct ComparisonRow {
    /// Why the entries are compared.
    pub kind: ComparisonKind,
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
    /// The reported tasks' names (the tables' columns).
    pub tasks: Vec<String>,
    /// The reported tasks.
    pub columns: Vec<Column>,
    /// Every task of the records, reported or not (e.g. the rows of expert-weight matrices).
    pub all_tasks: Vec<String>,
    /// Cells in entry order then task order.
    pub cells: Vec<Cell>,
    /// Comparisons.
    pub comparisons: Vec<ComparisonRow>,
    /// Test NE relative to `analysis.reference` (every other entry) and of each comparison's
    /// `a` relative to its `b`, per task.
    pub ne_diffs: Vec<NeDiffRow>,
    /// Relative differences against `analysis.reference` at each mid-training checkpoint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checkpoint_diffs: Vec<CheckpointDiffs>,
    /// The verdicts on `analysis.claims`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verdicts: Vec<crate::claims::ClaimVerdict>,
    /// Records used.
    pub records: usize,
    /// Planned runs.
    pub planned: usize,
}

/// The relative differences of every entry against the reference at one checkpoint.
#[derive(Clone, Debug, Serialize)]
pub struct CheckpointDiffs {
    /// Fraction of the training stream seen.
    pub fraction: f64,
    /// Training examples seen (per replica).
    pub examples: u64,
    /// Per entry (not the reference) and reported task, as [`NeDiffRow`] (on the test metrics
    /// of the checkpoint's evaluation).
    pub rows: Vec<NeDiffRow>,
}

/// The records of `cfg`'s grid per entry (in entry order), selected by record key: an entry's
/// records are those of its model config and seeds, whatever entry name they were recorded
/// under. Records of other configs in the same directory (e.g. from an edited config) are in
/// no entry.
pub fn records_by_entry<'a>(
    cfg: &ExperimentConfig,
    records: &'a [RunRecord],
) -> Vec<Vec<&'a RunRecord>> {
    adatt_spec::entry_keys(cfg)
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
    let plan = adatt_spec::plan(cfg);
    let per_entry = records_by_entry(cfg, records);
    let n_records: usize = per_entry.iter().map(Vec::len).sum();
    let all_tasks: Vec<String> = per_entry
        .iter()
        .flatten()
        .next()
        .map(|r| r.tasks.clone())
        .unwrap_or_default();
    let columns = columns(cfg, &all_tasks);
    let tasks: Vec<String> = columns.iter().map(|c| c.task.clone()).collect();
    let cells = cells(cfg, &per_entry, &columns);
    let comparisons = comparisons(cfg, &per_entry, &columns);
    let ne_diffs = ne_diffs(cfg, &per_entry, &columns);
    let checkpoint_diffs = checkpoint_diffs(cfg, &per_entry, &columns);
    let verdicts = crate::claims::verdicts(cfg, claim_rows(cfg, &per_entry, &columns, &ne_diffs));
    Report {
        experiment: cfg.name.clone(),
        tasks,
        columns,
        all_tasks,
        cells,
        comparisons,
        ne_diffs,
        checkpoint_diffs,
        verdicts,
        records: n_records,
        planned: plan.len(),
    }
}

/// The table's cells, in entry order then column order: each entry's finished runs summarised
/// per metric, its failed and diverged runs counted, and the paper's value beside the mean
/// test AUC.
fn cells(cfg: &ExperimentConfig, per_entry: &[Vec<&RunRecord>], columns: &[Column]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (e, mine) in cfg.entries.iter().zip(per_entry) {
        let failed = mine
            .iter()
            .filter(|r| matches!(r.outcome.status, Status::Failed { .. }))
            .count();
        let diverged = mine
            .iter()
            .filter(|r| matches!(r.outcome.status, Status::Diverged { .. }))
            .count();
        let ok: Vec<&RunRecord> = mine.iter().copied().filter(|r| r.is_ok()).collect();
        for column in columns {
            let (t, task) = (column.index, &column.task);
            let col = |m: Metric| -> Stat {
                summarize(&ok.iter().filter_map(|r| m.of(r, t)).collect::<Vec<_>>())
            };
            let test_auc = col(Metric::TestAuc);
            let paper = e.paper.as_ref().and_then(|p| p.get(task).copied());
            cells.push(Cell {
                entry: e.name.clone(),
                setting: e.setting.clone(),
                model: e.model.label(),
                protocol: cfg.data.label(),
                task: task.clone(),
                test_auc,
                valid_auc: col(Metric::ValidAuc),
                test_ne: col(Metric::TestNe),
                test_loss: col(Metric::TestLoss),
                regression: column.regression,
                failed,
                diverged,
                paper,
                diff: paper.map(|p| test_auc.mean - p),
            });
        }
    }
    cells
}

/// The paired test AUC comparisons a config asks for, per column: each `analysis.comparisons`
/// pair, then every entry against its setting's `analysis.baselines` entry (the MTL gain).
fn comparisons(
    cfg: &ExperimentConfig,
    per_entry: &[Vec<&RunRecord>],
    columns: &[Column],
) -> Vec<ComparisonRow> {
    let mut comparisons = Vec::new();
    for c in &cfg.analysis.comparisons {
        comparisons.extend(compare(
            cfg,
            per_entry,
            columns,
            ComparisonKind::Comparison,
            &c.a,
            &c.b,
        ));
    }
    for (setting, base) in &cfg.analysis.baselines {
        for e in cfg
            .entries
            .iter()
            .filter(|e| &e.setting == setting && &e.name != base)
        {
            comparisons.extend(compare(
                cfg,
                per_entry,
                columns,
                ComparisonKind::MtlGain,
                &e.name,
                base,
            ));
        }
    }
    comparisons
}

/// Entry `a` against entry `b` on each column: a paired t-test of their test AUCs over the
/// seeds both finished.
fn compare(
    cfg: &ExperimentConfig,
    per_entry: &[Vec<&RunRecord>],
    columns: &[Column],
    kind: ComparisonKind,
    a: &str,
    b: &str,
) -> Vec<ComparisonRow> {
    let sa = by_seed(&per_entry[entry_index(cfg, a)]);
    let sb = by_seed(&per_entry[entry_index(cfg, b)]);
    columns
        .iter()
        .map(|Column { index: t, task, .. }| {
            let t = *t;
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
            ComparisonRow {
                kind,
                a: a.into(),
                b: b.into(),
                task: task.clone(),
                test: paired_t(&xa, &xb),
            }
        })
        .collect()
}

/// The reported tasks of records with tasks `all_tasks`: those the data config reports (a
/// task it does not know is reported, as binary).
fn columns(cfg: &ExperimentConfig, all_tasks: &[String]) -> Vec<Column> {
    let known = cfg.data.tasks();
    all_tasks
        .iter()
        .enumerate()
        .filter_map(|(index, task)| {
            let spec = known.iter().find(|k| &k.name == task);
            spec.is_none_or(|k| k.reported).then(|| Column {
                task: task.clone(),
                index,
                regression: spec.is_some_and(|k| k.kind == adatt_data::TaskKind::Regression),
            })
        })
        .collect()
}

fn entry_index(cfg: &ExperimentConfig, name: &str) -> usize {
    cfg.entries
        .iter()
        .position(|e| e.name == name)
        .expect("validated configs name their own entries")
}

/// The test NE (MSE) of `a` relative to `b` in %, per reported task (see [`NeDiffRow`]), at
/// the best epoch.
fn ne_diff(
    cfg: &ExperimentConfig,
    per_entry: &[Vec<&RunRecord>],
    columns: &[Column],
    pair: (&str, &str),
) -> Vec<NeDiffRow> {
    let mut rows = ne_diff_of(cfg, per_entry, columns, pair, (None, None));
    if cfg.analysis.reference.as_deref() == Some(pair.1) {
        let e = &cfg.entries[entry_index(cfg, pair.0)];
        for row in &mut rows {
            row.paper = e
                .paper_ne_diff
                .as_ref()
                .and_then(|p| p.get(&row.task).copied());
        }
    }
    rows
}

/// The headline (NE, MSE) of `a` relative to `b` in %, per reported task, at `at` (a
/// checkpoint's fraction of the stream, `None` the best epoch); with `since`, its change in
/// percentage points from the checkpoint after that fraction to `at`.
fn ne_diff_of(
    cfg: &ExperimentConfig,
    per_entry: &[Vec<&RunRecord>],
    columns: &[Column],
    (a, b): (&str, &str),
    (since, at): (Option<f64>, Option<f64>),
) -> Vec<NeDiffRow> {
    let (runs, base) = (
        by_seed(&per_entry[entry_index(cfg, a)]),
        by_seed(&per_entry[entry_index(cfg, b)]),
    );
    columns
        .iter()
        .map(|c| {
            let (test, wilcoxon_p) = match since {
                None => relative_diff(&runs, &base, |r| c.at(r, at)),
                Some(s) => relative_change(&runs, &base, |r| c.at(r, Some(s)), |r| c.at(r, at)),
            };
            NeDiffRow {
                entry: a.to_owned(),
                reference: b.to_owned(),
                task: c.task.clone(),
                test,
                wilcoxon_p,
                paper: None,
            }
        })
        .collect()
}

/// Every entry against `analysis.reference` at each checkpoint the reference's records have
/// (none without a reference or checkpoints).
fn checkpoint_diffs(
    cfg: &ExperimentConfig,
    per_entry: &[Vec<&RunRecord>],
    columns: &[Column],
) -> Vec<CheckpointDiffs> {
    let Some(reference) = &cfg.analysis.reference else {
        return Vec::new();
    };
    let mut points: Vec<(f64, u64)> = Vec::new();
    let reference_runs = &per_entry[entry_index(cfg, reference)];
    for c in reference_runs.iter().flat_map(|r| &r.outcome.checkpoints) {
        if !points.iter().any(|p| p.0 == c.fraction) {
            points.push((c.fraction, c.examples));
        }
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
        .into_iter()
        .map(|(fraction, examples)| {
            let rows = cfg
                .entries
                .iter()
                .filter(|e| &e.name != reference)
                .flat_map(|e| {
                    let pair = (e.name.as_str(), reference.as_str());
                    ne_diff_of(cfg, per_entry, columns, pair, (None, Some(fraction)))
                })
                .collect();
            CheckpointDiffs {
                fraction,
                examples,
                rows,
            }
        })
        .collect()
}

/// The NE differences a config asks for: every entry against `analysis.reference`, then each
/// `analysis.comparisons` pair `a` against `b`, then the pairs of the `analysis.claims` about
/// the end.
fn ne_diffs(
    cfg: &ExperimentConfig,
    per_entry: &[Vec<&RunRecord>],
    columns: &[Column],
) -> Vec<NeDiffRow> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some(r) = &cfg.analysis.reference {
        for e in cfg.entries.iter().filter(|e| &e.name != r) {
            pairs.push((&e.name, r));
        }
    }
    let claimed = cfg
        .analysis
        .claims
        .iter()
        .filter(|c| c.at_end())
        .flat_map(|c| c.pairs(cfg.analysis.reference.as_deref(), &cfg.entries));
    for pair in cfg
        .analysis
        .comparisons
        .iter()
        .map(|c| (c.a.as_str(), c.b.as_str()))
        .chain(claimed)
    {
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    pairs
        .into_iter()
        .flat_map(|pair| ne_diff(cfg, per_entry, columns, pair))
        .collect()
}

/// The differences each claim of `cfg` judges, per claim, in row then task order: those at
/// the end are `ne_diffs`' rows (with the paper's values); a claim `at` a checkpoint, or about
/// the change `since` one, gets its own.
fn claim_rows(
    cfg: &ExperimentConfig,
    per_entry: &[Vec<&RunRecord>],
    columns: &[Column],
    ne_diffs: &[NeDiffRow],
) -> Vec<Vec<NeDiffRow>> {
    let reference = cfg.analysis.reference.as_deref();
    cfg.analysis
        .claims
        .iter()
        .map(|claim| {
            let pairs = claim.pairs(reference, &cfg.entries).into_iter();
            if claim.at_end() {
                pairs
                    .flat_map(|(a, b)| {
                        ne_diffs
                            .iter()
                            .filter(move |d| d.entry == a && d.reference == b)
                            .cloned()
                    })
                    .collect()
            } else {
                let window = (claim.since, claim.at);
                pairs
                    .flat_map(|pair| ne_diff_of(cfg, per_entry, columns, pair, window))
                    .collect()
            }
        })
        .collect()
}

/// The cells of each entry (a table row), in entry order.
pub(crate) fn rows(r: &Report) -> Vec<Vec<&Cell>> {
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
        "experiment,entry,setting,model,protocol,task,n,failed,diverged,test_auc_mean,test_auc_std,test_auc_ci95,valid_auc_mean,test_ne_mean,paper,diff,test_loss_mean,test_loss_ci95\n",
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
            "{},{},{},{},{},{},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{},{},{:.6},{:.6}",
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
            c.test_loss.mean,
            c.test_loss.ci95,
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
    ne_diff_csv(r, &mut s);
    s
}

/// `comparisons.csv` rows of the NE (MSE) differences (kind `ne_diff_pct`, `b` the reference),
/// then those at each checkpoint (kind `ne_diff_pct@<fraction of the stream>`).
fn ne_diff_csv(r: &Report, s: &mut String) {
    let at_end = r.ne_diffs.iter().map(|d| ("ne_diff_pct".to_owned(), d));
    let at_checkpoints = r.checkpoint_diffs.iter().flat_map(|c| {
        c.rows
            .iter()
            .map(move |d| (format!("ne_diff_pct@{}", c.fraction), d))
    });
    for (kind, d) in at_end.chain(at_checkpoints) {
        writeln!(
            s,
            "{kind},\"{}\",\"{}\",{},{},{:.6},{:.6},{:.4},{:.6e}",
            d.entry,
            d.reference,
            d.task,
            d.test.n,
            d.test.mean_diff,
            d.test.ci95,
            d.test.t,
            d.test.p
        )
        .expect("write to string");
    }
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
        "Test AUC{} at the best validation epoch: mean ± 95% CI over n seeds (Student t; no CI below n = {MIN_CI_N}); `paper` is the paper's value, `Δ` ours − paper. {} of {} planned runs recorded. `failed`: training loss became non-finite; `diverged`: loss per task above `train.divergence.max_task_loss` or validation AUC never off 0.5 ± `train.divergence.chance_margin` (`adatt_spec::divergence`); neither is in the means.\n",
        if r.columns.iter().any(|c| c.regression) {
            " (MSE for regression tasks)"
        } else {
            ""
        },
        r.records,
        r.planned
    )
    .expect("write");
    let mut header = String::from("| model | setting |");
    let mut rule = String::from("|---|---|");
    for c in &r.columns {
        let mse = if c.regression { " MSE" } else { "" };
        write!(header, " {}{mse} (ours) | paper | Δ |", c.task).expect("write");
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
            let v = x.table_value();
            write!(
                s,
                " {} {} | {} | {} |",
                f4(v.mean),
                ci_text(v.ci95, v.n),
                x.paper.map(f4).unwrap_or_else(|| "–".into()),
                x.diff.map(signed4).unwrap_or_else(|| "–".into())
            )
            .expect("write");
        }
        writeln!(
            s,
            " {} | {} | {} |",
            row_runs(&row),
            row[0].failed,
            row[0].diverged
        )
        .expect("write");
    }
    s.push_str(&ne_diff_md(r));
    s.push_str(&checkpoint_md(r));
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
                if c.kind == ComparisonKind::MtlGain {
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

/// The NE-difference section of `table.md` (empty when the config asks for none).
fn ne_diff_md(r: &Report) -> String {
    if r.ne_diffs.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n## Test NE differences (%)\n\nPer seed 100 · (NE − NE_ref) / NE_ref at the best \
         epoch, mean ± 95% CI over the seeds both finished, p of a t-test of mean = 0 (negative \
         = lower NE = better than the reference; the paper's \"NE diff\").",
    );
    if r.columns.iter().any(|c| c.regression) {
        s.push_str(" Regression tasks: the same of the MSE.");
    }
    let paper = r.ne_diffs.iter().any(|d| d.paper.is_some());
    if paper {
        s.push_str(" `paper`: the paper's value, where it reports the difference.");
    }
    s.push_str("\n\n");
    let mut header = String::from("| model | reference |");
    let mut rule = String::from("|---|---|");
    for t in &r.tasks {
        write!(header, " {t} | p |").expect("write");
        rule.push_str("---|---|");
        if paper {
            header.push_str(" paper |");
            rule.push_str("---|");
        }
    }
    writeln!(s, "{header} n |\n{rule}---|").expect("write");
    for row in r.ne_diffs.chunks(r.tasks.len().max(1)) {
        write!(s, "| {} | {} |", row[0].entry, row[0].reference).expect("write");
        diff_cells(&mut s, row, paper);
    }
    s
}

/// The cells of one row of NE differences, mean ± CI and p per task (and the paper's value
/// with `paper`), then n.
fn diff_cells(s: &mut String, row: &[NeDiffRow], paper: bool) {
    for d in row {
        let mean = if d.test.mean_diff.is_finite() {
            format!("{:+.3}", d.test.mean_diff)
        } else {
            "–".into()
        };
        let ci = if d.test.n >= MIN_CI_N && d.test.ci95.is_finite() {
            format!(" ± {:.3}", d.test.ci95)
        } else {
            String::new()
        };
        write!(s, " {mean}{ci} | {} |", p_value(d.test.p)).expect("write");
        if paper {
            let v = d.paper.map_or_else(|| "–".into(), |v| format!("{v:+.3}"));
            write!(s, " {v} |").expect("write");
        }
    }
    writeln!(s, " {} |", row.first().map_or(0, |d| d.test.n)).expect("write");
}

/// The checkpoint section of `table.md` (empty without checkpoints).
fn checkpoint_md(r: &Report) -> String {
    if r.checkpoint_diffs.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n## Differences at each checkpoint (%)\n\nAt each evaluation during training \
         (`seen`: fraction of the training stream, and examples per run), per seed \
         100 · (NE − NE_ref) / NE_ref on the test set (MSE for regression tasks), mean ± 95% CI \
         and p as above. The end of training is the table above.\n\n| model | reference | seen \
         | examples |",
    );
    let mut rule = String::from("|---|---|---|---|");
    for t in &r.tasks {
        write!(s, " {t} | p |").expect("write");
        rule.push_str("---|---|");
    }
    writeln!(s, " n |\n{rule}---|").expect("write");
    for c in &r.checkpoint_diffs {
        for row in c.rows.chunks(r.tasks.len().max(1)) {
            write!(
                s,
                "| {} | {} | {:.3} | {} |",
                row[0].entry, row[0].reference, c.fraction, c.examples
            )
            .expect("write");
            diff_cells(&mut s, row, false);
        }
    }
    s
}

/// The finished runs of a table row: the most values any of its tasks has.
fn row_runs(row: &[&Cell]) -> usize {
    row.iter().map(|c| c.table_value().n).max().unwrap_or(0)
}

impl Cell {
    /// The number a table shows: test AUC, or the test MSE of a regression task.
    pub fn table_value(&self) -> &Stat {
        if self.regression {
            &self.test_loss
        } else {
            &self.test_auc
        }
    }

    /// The number whose relative differences the tables give (see [`Column::headline`]): test
    /// NE, or the test MSE of a regression task.
    pub fn headline_value(&self) -> &Stat {
        if self.regression {
            &self.test_loss
        } else {
            &self.test_ne
        }
    }
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
    let mut s = format!(
        "{:<width$}  {:>4}  {:>6}  {:>8}",
        "entry", "n", "failed", "diverged"
    );
    for t in &r.tasks {
        write!(s, "  {t:>14}").expect("write");
    }
    s.push('\n');
    for row in rows(r) {
        let c = row[0];
        write!(
            s,
            "{:<width$}  {:>4}  {:>6}  {:>8}",
            c.entry,
            row_runs(&row),
            c.failed,
            c.diverged
        )
        .expect("write");
        for x in row {
            write!(s, "  {:>14}", f4(x.table_value().mean)).expect("write");
        }
        s.push('\n');
    }
    write!(
        s,
        "(mean test AUC, or MSE of a regression task, over the finished runs; {} of {} planned \
         runs recorded)",
        r.records, r.planned
    )
    .expect("write");
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A finished record of `model` for `seed` with test NE `ne` on each of 3 tasks.
    fn record(cfg: &ExperimentConfig, entry: usize, seed: u64, ne: f64) -> RunRecord {
        let p = adatt_spec::plan(cfg)
            .into_iter()
            .find(|p| p.entry == entry && p.seed == seed)
            .unwrap();
        let m = serde_json::json!({ "auc": 0.8, "ne": ne, "loss": 0.3 });
        let eval = serde_json::json!({ "valid": [m, m, m], "test": [m, m, m] });
        serde_json::from_value(serde_json::json!({
            "version": 1, "key": p.key, "config_hash": p.config_hash, "experiment": "t",
            "entry": "recorded under another name", "setting": "", "model": "",
            "model_config": {}, "protocol": "clean", "seed": seed,
            "tasks": ["a", "b", "c"], "status": "ok", "best_epoch": 0, "best": eval,
            "epochs": [{ "epoch": 0, "fraction": 1.0, "examples": 1, "train_loss": 0.4,
                         "eval": eval }],
            "checkpoints": [], "task_weights": [[1, 1, 1]], "group_wall_s": 1.0,
            "group_replicas": 1, "device": "Cpu", "threads": 1, "finished_at": 0
        }))
        .unwrap()
    }

    /// A regression task (no AUC) in the first column does not make a row's run count 0.
    #[test]
    fn a_rows_run_count_ignores_a_regression_task_without_auc() {
        let cfg = ExperimentConfig::from_toml_str(
            &(adatt_testkit::config_head("t", false, 0, "", "seeds = [0, 1]")
                + "[[entries]]\nname = \"a\"\nmodel = { kind = \"adatt_sp\", task_experts = 1, expert_dims = [[8]], tower = [4] }\n"),
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let recs: Vec<RunRecord> = (0..2)
            .map(|seed| {
                let mut r = record(&cfg, 0, seed, 0.5);
                for e in r
                    .outcome
                    .best
                    .iter_mut()
                    .chain(r.outcome.epochs.iter_mut().map(|p| &mut p.eval))
                {
                    e.test[0].auc = f64::NAN;
                }
                r
            })
            .collect();
        let rep = build_report(&cfg, &recs);
        assert_eq!(rep.cells[0].test_auc.n, 0);
        let term = terminal_table(&rep);
        let cols: Vec<&str> = term.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(cols[..3], ["a", "2", "0"], "{term}");
        assert!(table_md(&rep, "t", "").contains(" 2 | 0 | 0 |"));
    }

    /// The terminal table counts failed and diverged runs apart, as `table.md` does: one
    /// finished, one diverged and one failed run of an entry show n 1, failed 1, diverged 1.
    #[test]
    fn the_terminal_table_counts_failed_and_diverged_runs_apart() {
        let cfg = ExperimentConfig::from_toml_str(
            &(adatt_testkit::config_head("t", false, 0, "", "seeds = [0, 1, 2]")
                + r#"
[[entries]]
name = "a"
model = { kind = "adatt_sp", task_experts = 1, expert_dims = [[8]], tower = [4] }
"#),
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let mut recs: Vec<RunRecord> = (0..3).map(|seed| record(&cfg, 0, seed, 0.5)).collect();
        recs[1].outcome.status = adatt_spec::Status::Diverged {
            reason: "exploding loss".into(),
        };
        recs[2].outcome.status = adatt_spec::Status::Failed {
            reason: "non-finite loss".into(),
        };
        let rep = build_report(&cfg, &recs);
        let term = terminal_table(&rep);
        let head: Vec<&str> = term.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(head[..4], ["entry", "n", "failed", "diverged"], "{term}");
        let cols: Vec<&str> = term.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(cols[..4], ["a", "1", "1", "1"], "{term}");
        assert!(
            table_md(&rep, "t", "").contains(" 1 | 1 | 1 |"),
            "{}",
            table_md(&rep, "t", "")
        );
    }

    /// The NE differences against scipy: `stats.ttest_1samp(100 * (a - ref) / ref, 0)` with
    /// ref = [0.5, 0.4, 0.5], a = [0.49, 0.39, 0.49] gives mean -2.1666667, t = -13.0,
    /// p = 0.005865153227565683, and t(0.975, 2) · s / √3 = 0.7171087882915776.
    /// Entries `ref` (the reference) and `a` over seeds 0-2, `a_extra` appended to `a` and
    /// `analysis_extra` to `[analysis]`; their records with NE ref = [0.5, 0.4, 0.5] and
    /// a = [0.49, 0.39, 0.49] on every task.
    fn ref_and_a(a_extra: &str, analysis_extra: &str) -> (ExperimentConfig, Vec<RunRecord>) {
        let cfg = ExperimentConfig::from_toml_str(
            &(adatt_testkit::config_head("t", false, 0, "", "seeds = [0, 1, 2]")
                + &format!(
                    r#"
[[entries]]
name = "ref"
model = {{ kind = "adatt_sp", task_experts = 1, expert_dims = [[8]], tower = [4] }}
[[entries]]
name = "a"
model = {{ kind = "adatt_sp", task_experts = 2, expert_dims = [[8]], tower = [4] }}
{a_extra}
[analysis]
reference = "ref"
{analysis_extra}
"#
                )),
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        cfg.validate(3).unwrap();
        let mut recs = Vec::new();
        for (seed, (r, a)) in [(0.5, 0.49), (0.4, 0.39), (0.5, 0.49)]
            .into_iter()
            .enumerate()
        {
            recs.push(record(&cfg, 0, seed as u64, r));
            recs.push(record(&cfg, 1, seed as u64, a));
        }
        (cfg, recs)
    }

    #[test]
    fn ne_differences_match_scipy_and_follow_the_record_keys() {
        let (cfg, recs) = ref_and_a("", "");
        let report = build_report(&cfg, &recs);
        assert_eq!(report.ne_diffs.len(), 3);
        for d in &report.ne_diffs {
            assert_eq!(
                (d.entry.as_str(), d.reference.as_str(), d.test.n),
                ("a", "ref", 3)
            );
            assert!(
                (d.test.mean_diff + 2.1666666666666683).abs() < 1e-12,
                "{d:?}"
            );
            assert!((d.test.t + 13.0).abs() < 1e-9, "{d:?}");
            assert!((d.test.p - 0.005865153227565683).abs() < 1e-12, "{d:?}");
            assert!((d.test.ci95 - 0.7171087882915776).abs() < 1e-9, "{d:?}");
        }
        let md = table_md(&report, "t", "");
        assert!(md.contains("## Test NE differences (%)"), "{md}");
        assert!(md.contains("| a | ref | -2.167 ± 0.717 | 0.0059 |"), "{md}");
        let csv = comparisons_csv(&report);
        assert!(
            csv.contains("ne_diff_pct,\"a\",\"ref\",a,3,-2.166667,"),
            "{csv}"
        );
    }

    /// An entry's `paper_ne_diff` stands beside its difference to the reference, task by task
    /// ("–" where the paper gives none), and not beside a comparison with another entry.
    #[test]
    fn the_papers_ne_differences_stand_beside_ours_against_the_reference() {
        let (cfg, recs) = ref_and_a(
            "paper_ne_diff = { b = -0.5, a = -1.25 }",
            r#"comparisons = [{ a = "ref", b = "a" }]"#,
        );
        let report = build_report(&cfg, &recs);
        let tasks = report.tasks.clone();
        assert_eq!(tasks, ["a", "b", "c"]);
        let paper: Vec<Option<f64>> = report.ne_diffs.iter().map(|d| d.paper).collect();
        let want: Vec<Option<f64>> = tasks
            .iter()
            .map(|t| match t.as_str() {
                "b" => Some(-0.5),
                "a" => Some(-1.25),
                _ => None,
            })
            .chain(tasks.iter().map(|_| None))
            .collect();
        assert_eq!(paper, want, "{tasks:?}");
        let md = table_md(&report, "t", "");
        assert!(
            md.contains("| a | ref | -2.167 ± 0.717 | 0.0059 | -1.250 |"),
            "{md}"
        );
        assert!(md.contains("| ref | a | +2.2"), "{md}");
        assert!(md.contains("| p | paper |"), "{md}");
    }

    /// A grid of two entries, `ref` (the reference) and `a`, on the simulated group3 (tasks
    /// watch_time (regression), click, long_view, like, dislike (auxiliary)), 3 seeds, with a
    /// checkpoint at half the stream.
    fn group3_grid() -> ExperimentConfig {
        group3_grid_with("")
    }

    /// [`group3_grid`] with `analysis` lines after its reference.
    fn group3_grid_with(analysis: &str) -> ExperimentConfig {
        ExperimentConfig::from_toml_str(
            &(r#"
name = "t"
[data]
source = "simulator"
preset = "group3"
train_rows = 1000
valid_rows = 100
test_rows = 100
embedding_dim = 4
[train]
batch_size = 100
epochs = 1
lr = 1e-3
checkpoints = [0.5]
[run]
seeds = [0, 1, 2]
[[entries]]
name = "ref"
model = { kind = "shared_bottom", bottom = [8], tower = [4] }
[[entries]]
name = "a"
model = { kind = "adatt_sp", task_experts = 1, expert_dims = [[8]], tower = [4] }
[analysis]
reference = "ref"
"#
            .to_owned()
                + analysis),
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    /// Metrics of [`group3_grid`]'s tasks where every NE and loss is `x` (AUC 0.7; the
    /// regression task's AUC and NE are NaN).
    fn group3_eval(x: f64) -> serde_json::Value {
        let m = |t: usize| {
            let auc = if t == 0 { None } else { Some(0.7) };
            serde_json::json!({ "auc": auc, "ne": if t == 0 { None } else { Some(x) }, "loss": x })
        };
        let ms: Vec<_> = (0..5).map(m).collect();
        serde_json::json!({ "valid": ms, "test": ms })
    }

    /// A finished record of [`group3_grid`]'s `entry` for `seed`: every NE and loss `end` at
    /// the end of training, `mid` at the checkpoint.
    fn group3_record(
        cfg: &ExperimentConfig,
        entry: usize,
        seed: u64,
        end: f64,
        mid: f64,
    ) -> RunRecord {
        let tasks = ["watch_time", "click", "long_view", "like", "dislike"];
        let p = adatt_spec::plan(cfg)
            .into_iter()
            .find(|p| p.entry == entry && p.seed == seed)
            .unwrap();
        serde_json::from_value(serde_json::json!({
            "version": 1, "key": p.key, "config_hash": p.config_hash, "experiment": "t",
            "entry": "", "setting": "", "model": "", "model_config": {},
            "protocol": "group3", "seed": seed, "tasks": tasks, "status": "ok",
            "best_epoch": 0, "best": group3_eval(end),
            "epochs": [{ "epoch": 0, "fraction": 1.0, "examples": 1000, "train_loss": 0.4,
                         "eval": group3_eval(end) }],
            "checkpoints": [{ "epoch": 0, "fraction": 0.5, "examples": 500,
                              "train_loss": null, "eval": group3_eval(mid) }],
            "task_weights": [[1, 1, 1, 1, 1]], "group_wall_s": 1.0,
            "group_replicas": 1, "device": "Cpu", "threads": 1, "finished_at": 0
        }))
        .unwrap()
    }

    /// The report of [`group3_grid`] over seeds 0-2: at the end `a` is 2.17 % lower than `ref`
    /// (NE ref = [0.5, 0.4, 0.5], a = [0.49, 0.39, 0.49]), at the checkpoint 2.22 % higher
    /// (the values swapped).
    pub(crate) fn group3_report() -> Report {
        group3_report_of(&group3_grid())
    }

    fn group3_report_of(cfg: &ExperimentConfig) -> Report {
        let mut recs = Vec::new();
        for (seed, (r, a)) in [(0.5, 0.49), (0.4, 0.39), (0.5, 0.49)]
            .into_iter()
            .enumerate()
        {
            recs.push(group3_record(cfg, 0, seed as u64, r, a));
            recs.push(group3_record(cfg, 1, seed as u64, a, r));
        }
        build_report(cfg, &recs)
    }

    /// Claims at a checkpoint and about the change since one judge the differences there, on
    /// [`group3_report`]'s records: at the checkpoint `a` is above `ref` by the scipy numbers
    /// of the test below (mean 2.2152451, t-test p 0.0061429, Wilcoxon p 0.25 with 3 seeds);
    /// the change from the checkpoint to the end, per seed [−4.0408163, −5.0641026,
    /// −4.0408163] pp, gives scipy's ttest_1samp mean −4.3819117, p 0.0060048 and wilcoxon
    /// p 0.25. Each claim's four equal p-values are Holm-adjusted to 4 p (capped at 1).
    #[test]
    fn claims_judge_checkpoints_and_changes_since_one() {
        let cfg = group3_grid_with(
            r#"claims = [
  { claim = "behind midway", expect = "higher", at = 0.5 },
  { claim = "the gap grows", expect = "lower", since = 0.5 },
]"#,
        );
        let rep = group3_report_of(&cfg);
        let [mid, grows] = &rep.verdicts[..] else {
            panic!("{:?}", rep.verdicts)
        };
        for (v, mean, p) in [
            (mid, 2.2152450723879316, 0.006142941599595771),
            (grows, -4.381911739054599, 0.0060048057559177),
        ] {
            assert_eq!(v.cells.len(), 4);
            for c in &v.cells {
                assert!((c.diff.test.mean_diff - mean).abs() < 1e-9, "{c:?}");
                assert!((c.diff.test.p - p).abs() < 1e-9, "{c:?}");
                assert!((c.p_holm - 4.0 * p).abs() < 1e-9, "{c:?}");
                assert!((c.diff.wilcoxon_p - 0.25).abs() < 1e-12, "{c:?}");
                assert_eq!(c.p_holm_wilcoxon, 1.0);
                assert_eq!(
                    (c.outcome, c.outcome_wilcoxon),
                    (
                        crate::claims::Outcome::Replicated,
                        crate::claims::Outcome::NotResolved
                    )
                );
            }
        }
        let md = crate::claims::markdown(&rep.verdicts, &rep.tasks);
        assert!(
            md.contains("Measured at the checkpoint after 50.0 % of the stream.\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "Measured: how each NE difference moves from the checkpoint after 50.0 % of the \
                 stream to the end, per seed, in percentage points"
            ),
            "{md}"
        );
        assert!(
            md.contains("| click: change of NE diff, pp (t; W) |"),
            "{md}"
        );
        // 3 seeds, 4 differences: 4 · 2 / 2^3 = 1 ≥ 0.05.
        assert!(
            md.contains(
                "With 3 seeds the Wilcoxon test cannot resolve any of these 4 differences: its \
                 smallest two-sided p is 2 / 2^3, and 4 times that is 1.0000 ≥ alpha.\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("| a | ref | -4.382 (0.0240; 1.0000) replicated by t, not resolved by W |"),
            "{md}"
        );
    }

    /// On a simulated group: the regression task's column is its MSE and its difference the
    /// MSE's, the auxiliary task is in no table, and the checkpoint differences are those of
    /// its evaluation (the scipy numbers of the test above: per seed x_ref = [0.5, 0.4, 0.5],
    /// x = [0.49, 0.39, 0.49]).
    #[test]
    fn simulated_tables_show_mse_leave_out_auxiliary_tasks_and_diff_each_checkpoint() {
        let rep = group3_report();
        assert_eq!(rep.tasks, ["watch_time", "click", "long_view", "like"]);
        assert_eq!(rep.all_tasks.len(), 5);
        assert!(rep.columns[0].regression && !rep.columns[1].regression);
        let wt = rep
            .cells
            .iter()
            .find(|c| c.entry == "a" && c.task == "watch_time");
        let wt = wt.unwrap();
        assert_eq!(wt.table_value().n, 3);
        assert!((wt.table_value().mean - (0.49 + 0.39 + 0.49) / 3.0).abs() < 1e-12);
        assert_eq!(rep.ne_diffs.len(), 4);
        for d in &rep.ne_diffs {
            assert!(
                (d.test.mean_diff + 2.1666666666666683).abs() < 1e-12,
                "{d:?}"
            );
            assert!((d.test.p - 0.005865153227565683).abs() < 1e-12, "{d:?}");
        }
        assert_eq!(rep.checkpoint_diffs.len(), 1);
        let c = &rep.checkpoint_diffs[0];
        assert_eq!((c.fraction, c.examples, c.rows.len()), (0.5, 500, 4));
        // 100 (0.5 − 0.49) / 0.49 etc.: scipy ttest_1samp([2.0408163, 2.5641026, 2.0408163], 0)
        // gives mean 2.2152451, p = 0.0061429416.
        for d in &c.rows {
            assert!(
                (d.test.mean_diff - 2.2152450723879316).abs() < 1e-9,
                "{d:?}"
            );
            assert!((d.test.p - 0.006142941599595771).abs() < 1e-9, "{d:?}");
        }
        let md = table_md(&rep, "t", "");
        assert!(
            md.contains("| watch_time MSE (ours) | paper | Δ | click (ours) |"),
            "{md}"
        );
        assert!(!md.contains("dislike"), "{md}");
        assert!(md.contains("## Differences at each checkpoint (%)"), "{md}");
        assert!(md.contains("| a | ref | 0.500 | 500 | +2.215 ± "), "{md}");
        let csv = comparisons_csv(&rep);
        assert!(
            csv.contains("ne_diff_pct@0.5,\"a\",\"ref\",like,3,2.215245,"),
            "{csv}"
        );
    }

    /// A pair of `analysis.comparisons` and an entry against its setting's baseline
    /// (`analysis.baselines`) keep the names the committed `comparisons.csv` and `summary.json`
    /// give them, `comparison` and `mtl_gain`; `table.md` marks only the latter "(MTL gain)".
    #[test]
    fn comparisons_and_mtl_gains_keep_their_names() {
        let cfg = ExperimentConfig::from_toml_str(
            &(adatt_testkit::config_head("t", false, 0, "", "seeds = [0, 1, 2]")
                + r#"
[[entries]]
name = "st"
setting = "s"
model = { kind = "adatt_sp", task_experts = 1, expert_dims = [[8]], tower = [4] }
[[entries]]
name = "mtl"
setting = "s"
model = { kind = "adatt_sp", task_experts = 2, expert_dims = [[8]], tower = [4] }
[analysis]
comparisons = [{ a = "mtl", b = "st" }]
baselines = { s = "st" }
"#),
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        cfg.validate(3).unwrap();
        let recs: Vec<RunRecord> = (0..3)
            .flat_map(|seed| [record(&cfg, 0, seed, 0.5), record(&cfg, 1, seed, 0.4)])
            .collect();
        let rep = build_report(&cfg, &recs);
        let csv = comparisons_csv(&rep);
        let kinds: Vec<&str> = csv
            .lines()
            .skip(1)
            .take(6)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "comparison",
                "comparison",
                "comparison",
                "mtl_gain",
                "mtl_gain",
                "mtl_gain"
            ],
            "{csv}"
        );
        assert!(csv.contains("\nmtl_gain,\"mtl\",\"st\",b,3,"), "{csv}");
        let json = serde_json::to_value(&rep).unwrap();
        assert_eq!(json["comparisons"][0]["kind"], "comparison");
        assert_eq!(json["comparisons"][3]["kind"], "mtl_gain");
        let md = table_md(&rep, "t", "");
        for task in ["a", "b", "c"] {
            assert!(
                md.contains(&format!("\n| mtl | st | {task} | 3 | ")),
                "{md}"
            );
            assert!(
                md.contains(&format!("\n| mtl (MTL gain) | st | {task} | 3 | ")),
                "{md}"
            );
        }
        assert_eq!(md.matches("(MTL gain)").count(), 3, "{md}");
    }
}
