//! How the NE differences move during training: per reported task, each entry's test NE (MSE)
//! difference to `analysis.reference` in % against the examples seen, at every checkpoint the
//! reference's records have and at the end (the paper's Tables 1-2 give them at 10B, 30B and
//! 70B examples). Mean over seeds with the 95% CI as a band, and the reference as the line at 0.

use std::path::{Path, PathBuf};

use adatt_spec::{ExperimentConfig, RunRecord};

use crate::plots::{self, LinePanel, Series};
use crate::report::Report;
use crate::AnalysisError;

/// One entry's points for one task: (examples, mean, (low, high)).
pub(crate) fn points(
    report: &Report,
    entry: &str,
    task: &str,
    end_examples: f64,
) -> Vec<(f64, f64, (f64, f64))> {
    let at = |rows: &[crate::ne_diff::NeDiffRow], x: f64| {
        rows.iter()
            .find(|d| d.entry == entry && d.task == task)
            .map(|d| {
                let (m, ci) = (d.test.mean_diff, d.test.ci95);
                (x, m, (m - ci, m + ci))
            })
    };
    let mut out: Vec<_> = report
        .checkpoint_diffs
        .iter()
        .filter_map(|c| at(&c.rows, c.examples as f64))
        .collect();
    out.extend(at(&report.ne_diffs, end_examples));
    out
}

/// `ne_diff_by_examples.{png,svg}` (nothing without a reference or checkpoints).
pub(crate) fn figure(
    cfg: &ExperimentConfig,
    report: &Report,
    per_entry: &[Vec<&RunRecord>],
    dir: &Path,
) -> Result<Vec<PathBuf>, AnalysisError> {
    let Some(reference) = cfg.analysis.reference.as_deref() else {
        return Ok(Vec::new());
    };
    let r = cfg.entries.iter().position(|e| e.name == reference);
    let end = r
        .and_then(|r| per_entry[r].first())
        .and_then(|run| run.outcome.epochs.last())
        .map(|e| e.examples as f64);
    let Some(end) = end.filter(|_| !report.checkpoint_diffs.is_empty()) else {
        return Ok(Vec::new());
    };
    let panels: Vec<LinePanel> = report
        .tasks
        .iter()
        .map(|task| LinePanel {
            title: format!("{task}: test NE vs {reference}"),
            series: cfg
                .entries
                .iter()
                .filter(|e| e.name != reference)
                .map(|e| {
                    let p = points(report, &e.name, task, end);
                    Series::line(e.name.clone(), p.iter().map(|q| (q.0, q.1)).collect())
                        .with_band(p.iter().map(|q| q.2).collect())
                })
                .collect(),
            zero_line: true,
        })
        .collect();
    plots::lines(
        &dir.join("ne_diff_by_examples"),
        &panels,
        "training examples seen",
        "test NE diff % (mean, 95% CI)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::group3_report;

    /// `report`'s checkpoint grid: `a` is 2.215 % above `ref` at the checkpoint (500 examples;
    /// scipy's ttest_1samp mean of [2.0408163, 2.5641026, 2.0408163]) and 2.167 % below at the
    /// end; the points are the checkpoint's, then the end's.
    #[test]
    fn the_points_are_each_checkpoints_difference_then_the_ends() {
        let rep = group3_report();
        let p = points(&rep, "a", "click", 1000.0);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!((p[0].0, p[1].0), (500.0, 1000.0));
        assert!((p[0].1 - 2.2152450723879316).abs() < 1e-9, "{p:?}");
        assert!((p[1].1 + 2.1666666666666683).abs() < 1e-9, "{p:?}");
        assert!(points(&rep, "ref", "click", 1000.0).is_empty());
    }
}
