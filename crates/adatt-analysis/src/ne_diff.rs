//! One entry's headline number (test NE of a binary task, MSE of a regression task) relative to
//! a reference entry's, per seed both finished and tested against 0: [`NeDiffRow`], which the
//! report's tables give and the claims' verdicts judge.

use std::collections::BTreeMap;

use adatt_spec::RunRecord;
use serde::Serialize;

use crate::stats::{paired_t, wilcoxon, Paired};

/// One entry's test NE (binary task) or MSE (regression task) relative to the reference entry
/// on one task: per seed `100 · (NE − NE_ref) / NE_ref` (negative = better than the reference),
/// tested against 0.
#[derive(Clone, Debug, Serialize)]
pub struct NeDiffRow {
    /// Entry.
    pub entry: String,
    /// Reference entry.
    pub reference: String,
    /// Task.
    pub task: String,
    /// Mean relative difference in %, its 95% CI and the p-value of mean = 0 (paired t-test),
    /// over the seeds both finished.
    pub test: Paired,
    /// The Wilcoxon signed-rank test's two-sided p-value of the same differences
    /// ([`crate::stats::wilcoxon`]).
    pub wilcoxon_p: f64,
    /// The paper's value of this difference (`Entry::paper_ne_diff`, against the analysis
    /// reference only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<f64>,
}

/// `100 · (x_a − x_b) / x_b` per seed both finished, where `value` gives x, tested against 0
/// by the paired t-test and by the Wilcoxon signed-rank test (its p-value).
pub(crate) fn relative_diff(
    a: &BTreeMap<u64, &RunRecord>,
    b: &BTreeMap<u64, &RunRecord>,
    value: impl Fn(&RunRecord) -> Option<f64>,
) -> (Paired, f64) {
    let rel: Vec<f64> = a
        .iter()
        .filter_map(|(seed, run)| {
            let (x, x_ref) = (value(run)?, value(b.get(seed)?)?);
            (x_ref != 0.0).then(|| 100.0 * (x - x_ref) / x_ref)
        })
        .collect();
    (paired_t(&rel, &vec![0.0; rel.len()]), wilcoxon(&rel))
}
