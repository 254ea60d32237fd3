//! `[analysis]`: what the analysis step compares, plots and claims.

use serde::{Deserialize, Serialize};

use crate::entry::Entry;
use crate::error::{Result, SpecError};

/// A paired comparison `a` vs `b` (entry names): per-seed differences a − b over the seeds both
/// finished, paired t-test.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// Entry name.
    pub a: String,
    /// Entry name.
    pub b: String,
}

/// Analysis settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSpec {
    /// Paired comparisons to report with p-values.
    #[serde(default)]
    pub comparisons: Vec<Comparison>,
    /// Entry name of the single-task baseline per setting (setting -> entry), for "MTL gain".
    #[serde(default)]
    pub baselines: std::collections::BTreeMap<String, String>,
    /// Entry name of the reference row: every other entry's test NE is reported relative to it,
    /// in % per seed (the paper's "NE diff"), with a 95% CI and a paired p-value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Values from elsewhere drawn beside a sweep's NE differences (e.g. the paper's, on its
    /// own data), each a labelled list of `[x, NE diff %]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paper_series: Vec<PaperSeries>,
    /// The figures to draw (default: all; each is drawn only where its data exist).
    #[serde(default = "Figure::all", skip_serializing_if = "Figure::are_all")]
    pub figures: Vec<Figure>,
    /// Claims of the paper checked against the NE differences, each with a verdict at the end
    /// of `table.md`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
}

impl Default for AnalysisSpec {
    fn default() -> Self {
        AnalysisSpec {
            comparisons: Vec::new(),
            baselines: Default::default(),
            reference: None,
            paper_series: Vec::new(),
            figures: Figure::all(),
            claims: Vec::new(),
        }
    }
}

/// A figure the analysis can draw (PNG + SVG each).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// `auc_distributions`: per task, every seed's test AUC per entry, the mean, the paper.
    AucDistributions,
    /// `training_curves`: per task, the mean validation AUC per epoch.
    TrainingCurves,
    /// `sweep_<k>_auc`, `sweep_<k>_ne_diff`: per task, against a sweep's axis.
    Sweep,
    /// `expert_weights_<k>`: fused expert-weight heatmaps (`train.record_expert_weights`).
    ExpertWeights,
    /// `ne_diff_by_examples`: per task, each entry's test NE difference to `analysis.reference`
    /// against examples seen, at each checkpoint and the end (configs with checkpoints).
    NeDiffByExamples,
}

impl Figure {
    /// Every figure.
    pub fn all() -> Vec<Figure> {
        vec![
            Figure::AucDistributions,
            Figure::TrainingCurves,
            Figure::Sweep,
            Figure::ExpertWeights,
            Figure::NeDiffByExamples,
        ]
    }
    fn are_all(v: &[Figure]) -> bool {
        v == Figure::all().as_slice()
    }
}

/// The direction of a difference in test NE (lower NE is better).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NeDirection {
    /// NE below the reference's: better.
    Lower,
    /// NE above the reference's: worse.
    Higher,
}

/// A claim (the paper's, or a user's about their own data), stated as the direction of NE
/// differences: each (row, task) NE difference is tested against 0 over seeds (the paired
/// t-test and the Wilcoxon signed-rank test), each test's p-values of a claim are
/// Holm-adjusted together, and a difference *replicates* the claim when its adjusted
/// p is below `alpha` with the claimed sign, *contradicts* it with the other sign, and leaves it
/// *not resolved* otherwise.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The claim, e.g. "Removing NativeExpertLF hurts".
    pub claim: String,
    /// What the paper measured (e.g. "Table 6, industrial data: +0.107 % to +0.222 %").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub paper: String,
    /// The direction the paper found for the NE differences of `rows`.
    pub expect: NeDirection,
    /// The NE differences the claim covers, each `[entry, reference entry]` (default: every
    /// entry against `analysis.reference`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<(String, String)>,
    /// Family-wise significance level (Holm) of the claim's differences.
    #[serde(default = "Claim::default_alpha")]
    pub alpha: f64,
    /// Where in the stream the differences are taken: at the checkpoint after this fraction
    /// of it (one of `train.checkpoints`); default the end (the best epoch's test metrics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
    /// The claim is about how each difference moves: per seed, the difference at `at` (or the
    /// end) minus the one at the checkpoint after this fraction (one of `train.checkpoints`,
    /// before `at`), in percentage points (e.g. "the gap to Shared-bottom grows with examples
    /// seen": `since = 0.142857`, `expect = "lower"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<f64>,
}

impl Claim {
    fn default_alpha() -> f64 {
        0.05
    }

    /// Whether the claim is about the differences at the end (no `at`, no `since`): those the
    /// report's NE difference table gives.
    pub fn at_end(&self) -> bool {
        self.at.is_none() && self.since.is_none()
    }

    /// The `[entry, reference]` pairs the claim covers: its `rows`, else every entry against
    /// the analysis `reference`.
    pub fn pairs<'a>(
        &'a self,
        reference: Option<&'a str>,
        entries: &'a [Entry],
    ) -> Vec<(&'a str, &'a str)> {
        if !self.rows.is_empty() {
            return self
                .rows
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
        }
        match reference {
            Some(r) => entries
                .iter()
                .filter(|e| e.name != r)
                .map(|e| (e.name.as_str(), r))
                .collect(),
            None => Vec::new(),
        }
    }
}

/// A labelled series of `(x, value)` points from elsewhere (see [`AnalysisSpec::paper_series`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PaperSeries {
    /// Legend label, saying where the values come from.
    pub label: String,
    /// `[x, value]` pairs.
    pub points: Vec<(f64, f64)>,
}

impl AnalysisSpec {
    /// The comparisons, baselines, reference and claims name entries of `names`; each claim
    /// has rows (or a reference to compare with) and an alpha in (0, 1).
    pub(crate) fn validate(
        &self,
        names: &std::collections::BTreeSet<&str>,
        checkpoints: &[f64],
    ) -> Result<()> {
        let known = |n: &str, key: &str| {
            if names.contains(n) {
                Ok(())
            } else {
                Err(SpecError::ConfigValue {
                    key: key.into(),
                    message: format!("unknown entry `{n}`"),
                })
            }
        };
        for c in &self.comparisons {
            known(&c.a, "analysis.comparisons.a")?;
            known(&c.b, "analysis.comparisons.b")?;
        }
        for b in self.baselines.values() {
            known(b, "analysis.baselines")?;
        }
        if let Some(r) = &self.reference {
            known(r, "analysis.reference")?;
        }
        for c in &self.claims {
            for (a, b) in &c.rows {
                known(a, "analysis.claims.rows")?;
                known(b, "analysis.claims.rows")?;
            }
            let bad = |message: String| {
                Err(SpecError::ConfigValue {
                    key: "analysis.claims".into(),
                    message,
                })
            };
            if c.rows.is_empty() && self.reference.is_none() {
                return bad(format!(
                    "claim `{}` lists no rows and there is no analysis.reference to compare with",
                    c.claim
                ));
            }
            if !(c.alpha > 0.0 && c.alpha < 1.0) {
                return bad(format!(
                    "claim `{}`: alpha must be in (0, 1), got {}",
                    c.claim, c.alpha
                ));
            }
            for (key, f) in [("at", c.at), ("since", c.since)] {
                if let Some(f) = f.filter(|f| !checkpoints.contains(f)) {
                    return bad(format!(
                        "claim `{}`: {key} = {f} is not one of train.checkpoints {checkpoints:?}",
                        c.claim
                    ));
                }
            }
            if let (Some(since), Some(at)) = (c.since, c.at) {
                if since >= at {
                    return bad(format!(
                        "claim `{}`: since = {since} must come before at = {at}",
                        c.claim
                    ));
                }
            }
        }
        Ok(())
    }
}
