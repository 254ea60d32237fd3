//! What training a run gives: its status, its metrics at the best epoch and along the way.
//! A record ([`crate::records::RunRecord`]) is an outcome with the run's identity around it.

use serde::{Deserialize, Serialize};

use crate::metrics::TaskMetrics;

/// Evaluation of one split at one point of training, for one replica.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitEval {
    /// Per task, in task order.
    pub valid: Vec<TaskMetrics>,
    /// Per task, in task order. Empty at an end-of-epoch point: the test set is evaluated
    /// only with the best epoch's weights, after training, into `RunOutcome::best`.
    pub test: Vec<TaskMetrics>,
}

/// One point of the training curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Epoch (0-based) the point is in; for end-of-epoch points, the epoch just finished.
    pub epoch: usize,
    /// Fraction of the whole training stream seen (1.0 = end of training).
    pub fraction: f64,
    /// Training examples seen.
    pub examples: u64,
    /// Mean training loss over the epoch (end-of-epoch points only).
    pub train_loss: Option<f64>,
    /// Metrics.
    pub eval: SplitEval,
}

/// Final state of one replica.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Trained to the end.
    Ok,
    /// Its training loss became non-finite.
    Failed {
        /// Why.
        reason: String,
    },
    /// Trained to the end with a finite loss, but diverged by the rule of
    /// [`crate::divergence`] (exploding loss, or validation AUC never off chance).
    Diverged {
        /// Which part of the rule, with the numbers.
        reason: String,
    },
}

impl Status {
    /// The reason of a run that did not finish well.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Status::Ok => None,
            Status::Failed { reason } | Status::Diverged { reason } => Some(reason),
        }
    }
}

/// Result of one replica (= one seed; the caller knows which).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// Status (its tag and reason are fields of the record).
    #[serde(flatten)]
    pub status: Status,
    /// Best epoch (0-based) by the selection criterion, if any epoch finished finite.
    pub best_epoch: Option<usize>,
    /// Metrics at the best epoch.
    pub best: Option<SplitEval>,
    /// End-of-epoch curve.
    pub epochs: Vec<CurvePoint>,
    /// Mid-training checkpoints.
    pub checkpoints: Vec<CurvePoint>,
    /// Task weights used in each epoch.
    pub task_weights: Vec<Vec<f64>>,
    /// Fused expert weights at the best epoch, test-set mean, `[level][unit][expert]` (only
    /// with `train.record_expert_weights`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expert_weights: Option<Vec<Vec<Vec<f64>>>>,
}
