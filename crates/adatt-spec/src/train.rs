//! `[train]`: the hyperparameters of training (batch, epochs, Adam, task weighting, the selection
//! of the best epoch, checkpoints, the divergence rule).

use serde::{Deserialize, Serialize};

use crate::error::{Result, SpecError};

/// How the per-task losses are weighted in the total loss.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaskWeighting {
    /// Every task weight 1.
    #[default]
    Equal,
    /// Fixed weights, one per task.
    Fixed {
        /// Weights in task order.
        weights: Vec<f64>,
    },
    /// Dynamic Weight Average as in the framework the paper adapted (BorealisAI/MMoEEx-MTL
    /// `TaskBalanceMTL.DWA`): after each epoch, from the weighted losses of the epoch's LAST batch,
    /// w_t = clip(K·exp(r_t/T) / Σ exp(r_j/T), 0.5, 1.5) with K = T = number of tasks and
    /// r_t = loss_t(e) / loss_t(e−1); r = 1 while epoch ≤ 1.
    Dwa,
}

/// How the learning rate changes over the optimizer updates of a run (`[train] lr_schedule`).
/// The factor multiplies `train.lr` at update `k` (0-based) of the run's `T` updates (every
/// epoch's batches; [`crate::schedule::Schedule::total_steps`]), as PyTorch's schedulers give it
/// when `scheduler.step()` follows every `optimizer.step()`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LrSchedule {
    /// The same learning rate for every update (the paper's set-up as far as it says).
    #[default]
    Constant,
    /// Linear decay, `LinearLR(start_factor=1, end_factor=final_factor, total_iters=T)`:
    /// factor `1 − (1 − final_factor)·k/T`.
    Linear {
        /// The factor the decay would reach after `T` updates, in [0, 1].
        final_factor: f64,
    },
    /// Cosine decay, `CosineAnnealingLR(T_max=T, eta_min=final_factor·lr)`: factor
    /// `final_factor + (1 − final_factor)·(1 + cos(π·k/T))/2`.
    Cosine {
        /// The factor the decay would reach after `T` updates, in [0, 1].
        final_factor: f64,
    },
}

impl LrSchedule {
    /// The factor of update `k` (0-based) of `total` updates.
    pub fn factor(&self, k: usize, total: usize) -> f64 {
        let t = k as f64 / total.max(1) as f64;
        match *self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Linear { final_factor: f } => 1.0 - (1.0 - f) * t,
            LrSchedule::Cosine { final_factor: f } => {
                f + (1.0 - f) * (1.0 + (std::f64::consts::PI * t).cos()) / 2.0
            }
        }
    }

    /// Whether this is the default (left out of the saved config and the record key).
    pub fn is_default(&self) -> bool {
        *self == LrSchedule::Constant
    }

    fn validate(&self) -> std::result::Result<(), String> {
        match *self {
            LrSchedule::Constant => Ok(()),
            LrSchedule::Linear { final_factor: f } | LrSchedule::Cosine { final_factor: f } => {
                if (0.0..=1.0).contains(&f) {
                    Ok(())
                } else {
                    Err(format!("final_factor must be in [0, 1], got {f}"))
                }
            }
        }
    }
}

/// Model-selection criterion for the best epoch.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Maximise the sum over tasks of validation AUC (the framework's `np.nansum`).
    #[default]
    SumValidAuc,
    /// Minimise the mean over tasks of validation NE.
    MeanValidNe,
    /// Minimise the mean over the reported tasks (auxiliary ones left out) of each task's
    /// validation loss normalised like NE: NE for a binary task (log loss over the entropy of
    /// the training base rate), MSE over the variance of the validation labels for a regression
    /// task (1 − R²). Every reported task counts, a regression one included.
    MeanValidNormalizedLoss,
}

/// Training hyperparameters (defaults: the framework's Census settings).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Mini-batch size (the last batch of an epoch is smaller, as PyTorch's DataLoader).
    pub batch_size: usize,
    /// Epochs.
    pub epochs: usize,
    /// Adam learning rate (of the first update; see `lr_schedule`).
    pub lr: f64,
    /// How the learning rate changes over the run; left out of the saved config and the record
    /// key while constant.
    #[serde(default, skip_serializing_if = "LrSchedule::is_default")]
    pub lr_schedule: LrSchedule,
    /// L2 weight decay added to the gradient (PyTorch `Adam(weight_decay=…)`).
    #[serde(default)]
    pub weight_decay: f64,
    /// Adam beta1.
    #[serde(default = "d_beta1")]
    pub beta1: f64,
    /// Adam beta2.
    #[serde(default = "d_beta2")]
    pub beta2: f64,
    /// Adam epsilon.
    #[serde(default = "d_eps")]
    pub eps: f64,
    /// Task loss weighting.
    #[serde(default)]
    pub task_weighting: TaskWeighting,
    /// Best-epoch criterion.
    #[serde(default)]
    pub selection: Selection,
    /// Extra evaluations at these fractions of the training stream (0 < f < 1), recorded as a curve.
    #[serde(default)]
    pub checkpoints: Vec<f64>,
    /// Keep at most this many training rows (0 = all); for smoke tests.
    #[serde(default)]
    pub max_train_rows: usize,
    /// AdaTT / AdaTT-sp only: record each run's fused expert weights (NativeExpertLF weight +
    /// gate) at its best epoch, averaged over the test set, per level `[units][experts]` (the
    /// paper's Figure 3). Left out of the saved config and the record key while false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub record_expert_weights: bool,
    /// When a finished run counts as diverged ([`crate::divergence`]); left out of the saved
    /// config and the record key while it is the default.
    #[serde(
        default,
        skip_serializing_if = "crate::divergence::Divergence::is_default"
    )]
    pub divergence: crate::divergence::Divergence,
}

fn d_beta1() -> f64 {
    0.9
}

fn d_beta2() -> f64 {
    0.999
}

fn d_eps() -> f64 {
    1e-8
}

impl TrainConfig {
    /// Check ranges; the error names the key.
    pub fn validate(&self, n_tasks: usize) -> Result<()> {
        let bad = |key: &str, message: &str| {
            Err(SpecError::ConfigValue {
                key: format!("train.{key}"),
                message: message.into(),
            })
        };
        if let Err((key, message)) = self.divergence.validate() {
            return Err(SpecError::ConfigValue { key, message });
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", &format!("must be a positive number, got {}", self.lr));
        }
        if let Err(message) = self.lr_schedule.validate() {
            return bad("lr_schedule.final_factor", &message);
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(
                "weight_decay",
                &format!("must be a number >= 0, got {}", self.weight_decay),
            );
        }
        for (key, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return bad(key, &format!("must be in [0, 1), got {beta}"));
            }
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return bad(
                "eps",
                &format!("must be a positive number, got {}", self.eps),
            );
        }
        if let Some(f) = self.checkpoints.iter().find(|f| !(**f > 0.0 && **f < 1.0)) {
            return bad(
                "checkpoints",
                &format!("fractions must be in (0, 1), got {f}"),
            );
        }
        if let TaskWeighting::Fixed { weights } = &self.task_weighting {
            if weights.len() != n_tasks {
                return bad(
                    "task_weighting.weights",
                    &format!(
                        "needs {n_tasks} weights (one per task), got {}",
                        weights.len()
                    ),
                );
            }
            if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
                return bad("task_weighting.weights", "must be finite and >= 0");
            }
        }
        Ok(())
    }
}
