//! Exact evaluation metrics in f64: ROC AUC (rank based, ties as scikit-learn), normalized
//! entropy (He et al. 2014) and MSE.
//!
//! Scores are the f32 probabilities `sigmoid(logit)` as the framework the paper adapted feeds them
//! to `sklearn.metrics.roc_auc_score`; ties among saturated f32 probabilities therefore count as
//! ties, exactly as in sklearn.

use rayon::prelude::*;

/// Clamp applied to probabilities before taking logs in [`log_loss`]: p ∈ [1e-7, 1 − 1e-7]
/// (the f32 machine epsilon is 1.19e-7, so this is the tightest clamp that is meaningful for
/// f32 probabilities).
pub const LOG_LOSS_CLAMP: f64 = 1e-7;

/// ROC AUC of `scores` for binary `labels` (0/1), with tied scores given the average rank, which
/// equals the trapezoidal area scikit-learn's `roc_auc_score` computes. Returns NaN (and warns)
/// when only one class is present or when a score is NaN.
pub fn roc_auc(labels: &[f32], scores: &[f32]) -> f64 {
    assert_eq!(
        labels.len(),
        scores.len(),
        "roc_auc: labels and scores differ in length"
    );
    let n = labels.len();
    let n_pos = labels.iter().filter(|&&y| y > 0.5).count();
    let n_neg = n - n_pos;
    if n_pos == 0 || n_neg == 0 {
        tracing::warn!(
            n,
            n_pos,
            "roc_auc: only one class present, AUC is undefined (NaN)"
        );
        return f64::NAN;
    }
    if scores.iter().any(|s| s.is_nan()) {
        tracing::warn!("roc_auc: NaN score, AUC is NaN");
        return f64::NAN;
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by(|&a, &b| scores[a as usize].total_cmp(&scores[b as usize]));
    // Sum of (1-based, mid-) ranks of the positives; every partial sum is a multiple of 0.5 far
    // below 2^52, so this is exact in f64.
    let mut rank_sum_pos = 0.0f64;
    let mut i = 0usize;
    while i < n {
        let s = scores[order[i] as usize];
        let mut j = i + 1;
        // total_cmp separates -0.0 and 0.0; sklearn treats them as equal, so compare by value.
        while j < n && scores[order[j] as usize] == s {
            j += 1;
        }
        let pos_in_group = order[i..j]
            .iter()
            .filter(|&&k| labels[k as usize] > 0.5)
            .count();
        let mid_rank = (i + 1 + j) as f64 / 2.0; // average of ranks i+1 ..= j
        rank_sum_pos += mid_rank * pos_in_group as f64;
        i = j;
    }
    let np = n_pos as f64;
    let nn = n_neg as f64;
    (rank_sum_pos - np * (np + 1.0) / 2.0) / (np * nn)
}

/// Binary entropy (nats) of a base rate p.
pub fn binary_entropy(p: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 {
        return 0.0;
    }
    -(p * p.ln() + (1.0 - p) * (1.0 - p).ln())
}

/// Mean binary log loss (nats) of probabilities `probs` against 0/1 `labels`, with probabilities
/// clamped to [LOG_LOSS_CLAMP, 1 − LOG_LOSS_CLAMP].
pub fn log_loss(labels: &[f32], probs: &[f32]) -> f64 {
    assert_eq!(
        labels.len(),
        probs.len(),
        "log_loss: labels and probs differ in length"
    );
    if labels.is_empty() {
        return f64::NAN;
    }
    let sum: f64 = labels
        .iter()
        .zip(probs)
        .map(|(&y, &p)| {
            let p = (p as f64).clamp(LOG_LOSS_CLAMP, 1.0 - LOG_LOSS_CLAMP);
            let y = y as f64;
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        })
        .sum();
    sum / labels.len() as f64
}

/// Normalized entropy (He et al. 2014): mean log loss divided by the entropy of the **training**
/// base rate. Lower is better; 1.0 is a constant predictor at the base rate. NaN (with a warning)
/// when the training base rate is 0 or 1.
pub fn normalized_entropy(labels: &[f32], probs: &[f32], train_base_rate: f64) -> f64 {
    let h = binary_entropy(train_base_rate);
    if h == 0.0 {
        tracing::warn!(
            train_base_rate,
            "normalized_entropy: degenerate base rate, NE is NaN"
        );
        return f64::NAN;
    }
    log_loss(labels, probs) / h
}

/// Mean squared error.
pub fn mse(targets: &[f32], preds: &[f32]) -> f64 {
    assert_eq!(
        targets.len(),
        preds.len(),
        "mse: targets and preds differ in length"
    );
    if targets.is_empty() {
        return f64::NAN;
    }
    let s: f64 = targets
        .iter()
        .zip(preds)
        .map(|(&t, &p)| {
            let d = t as f64 - p as f64;
            d * d
        })
        .sum();
    s / targets.len() as f64
}

/// JSON has no NaN: serde_json writes NaN as `null`; read `null` back as NaN.
pub fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    use serde::Deserialize;
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Per-task evaluation of one split. Undefined values (one class, diverged model) are NaN in
/// memory and `null` in JSON.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskMetrics {
    /// ROC AUC (binary tasks; NaN for regression).
    #[serde(deserialize_with = "f64_or_nan")]
    pub auc: f64,
    /// Normalized entropy (binary) against the training base rate.
    #[serde(deserialize_with = "f64_or_nan")]
    pub ne: f64,
    /// Mean log loss (binary) or MSE (regression).
    #[serde(deserialize_with = "f64_or_nan")]
    pub loss: f64,
}

/// Which metric set a task gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// AUC, NE and log loss on sigmoid probabilities.
    Binary,
    /// MSE on raw outputs.
    Regression,
}

impl From<adatt_data::TaskKind> for MetricKind {
    /// A binary task is scored as one, a regression task by its MSE.
    fn from(k: adatt_data::TaskKind) -> Self {
        match k {
            adatt_data::TaskKind::Binary => MetricKind::Binary,
            adatt_data::TaskKind::Regression => MetricKind::Regression,
        }
    }
}

/// Evaluate many (replica, task) columns in parallel with rayon.
///
/// `outputs[r]` is row-major `[n, T]` (probabilities for binary tasks, raw values for
/// regression), `labels` is row-major `[n, T]`.
pub fn evaluate_many(
    outputs: &[Vec<f32>],
    labels: &[f32],
    n_tasks: usize,
    kinds: &[MetricKind],
    train_base_rates: &[f64],
) -> Vec<Vec<TaskMetrics>> {
    let n = labels.len() / n_tasks.max(1);
    let cols: Vec<Vec<f32>> = (0..n_tasks)
        .map(|t| (0..n).map(|i| labels[i * n_tasks + t]).collect())
        .collect();
    outputs
        .par_iter()
        .map(|out| {
            (0..n_tasks)
                .into_par_iter()
                .map(|t| {
                    let pred: Vec<f32> = (0..n).map(|i| out[i * n_tasks + t]).collect();
                    match kinds[t] {
                        MetricKind::Binary => TaskMetrics {
                            auc: roc_auc(&cols[t], &pred),
                            ne: normalized_entropy(&cols[t], &pred, train_base_rates[t]),
                            loss: log_loss(&cols[t], &pred),
                        },
                        MetricKind::Regression => TaskMetrics {
                            auc: f64::NAN,
                            ne: f64::NAN,
                            loss: mse(&cols[t], &pred),
                        },
                    }
                })
                .collect()
        })
        .collect()
}
