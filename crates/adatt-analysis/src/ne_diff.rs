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
    per_seed(a, b, |run, base| relative(run, base, &value))
}

/// How `a`'s relative difference to `b` (as [`relative_diff`]) moves from where `from` gives
/// x to where `to` does: per seed both finished, the difference at `to` minus the one at
/// `from`, in percentage points, tested against 0 as [`relative_diff`] is.
pub(crate) fn relative_change(
    a: &BTreeMap<u64, &RunRecord>,
    b: &BTreeMap<u64, &RunRecord>,
    from: impl Fn(&RunRecord) -> Option<f64>,
    to: impl Fn(&RunRecord) -> Option<f64>,
) -> (Paired, f64) {
    per_seed(a, b, |run, base| {
        Some(relative(run, base, &to)? - relative(run, base, &from)?)
    })
}

/// `100 · (x − x_ref) / x_ref` of one seed (none where either value is missing or x_ref is 0).
fn relative(
    run: &RunRecord,
    base: &RunRecord,
    value: &impl Fn(&RunRecord) -> Option<f64>,
) -> Option<f64> {
    let (x, x_ref) = (value(run)?, value(base)?);
    (x_ref != 0.0).then(|| 100.0 * (x - x_ref) / x_ref)
}

/// `d(run of a, run of b)` over the seeds both finished, tested against 0 by the paired t-test
/// and the Wilcoxon signed-rank test.
fn per_seed(
    a: &BTreeMap<u64, &RunRecord>,
    b: &BTreeMap<u64, &RunRecord>,
    d: impl Fn(&RunRecord, &RunRecord) -> Option<f64>,
) -> (Paired, f64) {
    let v: Vec<f64> = a
        .iter()
        .filter_map(|(seed, run)| d(run, b.get(seed)?))
        .collect();
    (paired_t(&v, &vec![0.0; v.len()]), wilcoxon(&v))
}
