//! Figures of a sweep (`[[sweeps]]`, `adatt_spec::sweep`): per task, the test AUC and the test
//! NE difference against the reference row, each with its 95% CI band, against the sweep's
//! axis; the config's `paper_series` are drawn beside the NE differences as reference series.

use std::path::{Path, PathBuf};

use adatt_spec::{Entry, ExperimentConfig};

use crate::plots::{self, LinePanel, Series};
use crate::report::Report;
use crate::AnalysisError;

/// `(x, mean, (mean − ci, mean + ci))`: a point with its band.
type Point = (f64, f64, (f64, f64));

fn series(label: &str, points: Vec<Point>) -> Series {
    Series {
        label: label.to_owned(),
        points: points.iter().map(|p| (p.0, p.1)).collect(),
        band: points.iter().map(|p| p.2).collect(),
        reference: false,
    }
}

/// The sweeps of `cfg` in config order: each sweep's name and its entries with their x.
fn sweeps(cfg: &ExperimentConfig) -> Vec<(&str, Vec<(&Entry, f64)>)> {
    let mut out: Vec<(&str, Vec<(&Entry, f64)>)> = Vec::new();
    for e in &cfg.entries {
        let Some(p) = &e.sweep else { continue };
        match out.iter_mut().find(|(name, _)| *name == p.sweep) {
            Some((_, members)) => members.push((e, p.x)),
            None => out.push((&p.sweep, vec![(e, p.x)])),
        }
    }
    out
}

/// `sweep_<k>_auc` and, with a reference row in the sweep, `sweep_<k>_ne_diff` for the k-th
/// sweep (1-based) of `cfg`. Returns the files written.
pub fn figures(
    cfg: &ExperimentConfig,
    report: &Report,
    dir: &Path,
) -> Result<Vec<PathBuf>, AnalysisError> {
    let mut out = Vec::new();
    for (k, (name, members)) in sweeps(cfg).into_iter().enumerate() {
        let axis = members[0].0.sweep.as_ref().expect("a sweep's entry").axis;
        let auc: Vec<LinePanel> = report
            .tasks
            .iter()
            .map(|task| {
                let points = members
                    .iter()
                    .filter_map(|(e, x)| {
                        let c = report
                            .cells
                            .iter()
                            .find(|c| c.entry == e.name && &c.task == task)?;
                        let (m, ci) = (c.test_auc.mean, c.test_auc.ci95);
                        Some((*x, m, (m - ci, m + ci)))
                    })
                    .collect();
                LinePanel {
                    title: format!("{task}: test AUC"),
                    series: vec![series(name, points)],
                    zero_line: false,
                }
            })
            .collect();
        out.extend(plots::lines(
            &dir.join(format!("sweep_{}_auc", k + 1)),
            &auc,
            axis.label(),
            "test AUC (mean, 95% CI)",
        )?);
        let Some(reference) = cfg
            .analysis
            .reference
            .as_deref()
            .filter(|r| members.iter().any(|(e, _)| e.name == *r))
        else {
            continue;
        };
        let ne: Vec<LinePanel> = report
            .tasks
            .iter()
            .map(|task| {
                let points = members
                    .iter()
                    .filter_map(|(e, x)| {
                        if e.name == reference {
                            return Some((*x, 0.0, (0.0, 0.0)));
                        }
                        let d = report.ne_diffs.iter().find(|d| {
                            d.entry == e.name && d.reference == reference && &d.task == task
                        })?;
                        let (m, ci) = (d.test.mean_diff, d.test.ci95);
                        Some((*x, m, (m - ci, m + ci)))
                    })
                    .collect();
                let mut s = vec![series(name, points)];
                s.extend(cfg.analysis.paper_series.iter().map(|p| Series {
                    label: p.label.clone(),
                    points: p.points.clone(),
                    band: Vec::new(),
                    reference: true,
                }));
                LinePanel {
                    title: format!("{task}: test NE vs {reference}"),
                    series: s,
                    zero_line: true,
                }
            })
            .collect();
        out.extend(plots::lines(
            &dir.join(format!("sweep_{}_ne_diff", k + 1)),
            &ne,
            axis.label(),
            "NE difference (%, mean, 95% CI)",
        )?);
    }
    Ok(out)
}
