//! When a finished run counts as diverged (`train.divergence` in the TOML).
//!
//! A run whose training loss became non-finite is recorded as failed by the loop itself. A run
//! that stayed finite is **diverged** when either
//! * in some epoch its mean training loss per task (the epoch's mean total loss divided by the
//!   number of tasks) exceeds `max_task_loss` (default 1000: a binary cross-entropy that large
//!   needs logits about 1000 off on average, where predicting the base rate costs at most
//!   ln 2 ≈ 0.69), or
//! * in no epoch does any binary task's validation AUC leave `0.5 ± chance_margin` (default
//!   0.01): the model never ranked better than chance.
//!
//! Diverged runs are recorded with their metrics and reason, counted apart from finished runs
//! in every table, and left out of the means.

use serde::{Deserialize, Serialize};

use crate::metrics::MetricKind;
use crate::outcome::CurvePoint;

/// The divergence rule (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Divergence {
    /// Largest mean training loss per task an epoch may have.
    #[serde(default = "d_max_task_loss")]
    pub max_task_loss: f64,
    /// Half-width of the band around AUC 0.5 that counts as chance.
    #[serde(default = "d_chance_margin")]
    pub chance_margin: f64,
}

fn d_max_task_loss() -> f64 {
    1e3
}
fn d_chance_margin() -> f64 {
    0.01
}

impl Default for Divergence {
    fn default() -> Self {
        Divergence {
            max_task_loss: d_max_task_loss(),
            chance_margin: d_chance_margin(),
        }
    }
}

impl Divergence {
    /// Whether this is the default rule (then it is left out of the saved config and of the
    /// record key, so that keys made before the rule existed stay the same).
    pub fn is_default(&self) -> bool {
        *self == Divergence::default()
    }

    /// Range checks; the error names the key.
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        if !(self.max_task_loss.is_finite() && self.max_task_loss > 0.0) {
            return Err((
                "train.divergence.max_task_loss".into(),
                format!("must be a positive number, got {}", self.max_task_loss),
            ));
        }
        if !(self.chance_margin.is_finite() && (0.0..0.5).contains(&self.chance_margin)) {
            return Err((
                "train.divergence.chance_margin".into(),
                format!("must be in [0, 0.5), got {}", self.chance_margin),
            ));
        }
        Ok(())
    }

    /// The reason `epochs` (a run's end-of-epoch curve) count as diverged, if they do.
    pub fn check(&self, epochs: &[CurvePoint], kinds: &[MetricKind]) -> Option<String> {
        let n_tasks = kinds.len().max(1) as f64;
        for c in epochs {
            if let Some(l) = c.train_loss {
                let per_task = l / n_tasks;
                if per_task > self.max_task_loss {
                    return Some(format!(
                        "diverged: mean training loss per task {per_task:.3e} in epoch {} \
                         exceeds train.divergence.max_task_loss = {}",
                        c.epoch + 1,
                        self.max_task_loss
                    ));
                }
            }
        }
        let binary: Vec<usize> = (0..kinds.len())
            .filter(|&t| kinds[t] == MetricKind::Binary)
            .collect();
        let distances: Vec<f64> = epochs
            .iter()
            .flat_map(|c| binary.iter().map(|&t| (c.eval.valid[t].auc - 0.5).abs()))
            .filter(|d| d.is_finite())
            .collect();
        let furthest = distances.iter().copied().fold(f64::NAN, f64::max);
        if !distances.is_empty() && furthest <= self.chance_margin {
            return Some(format!(
                "diverged: no binary task's validation AUC left 0.5 ± {} in any epoch (furthest \
                 {furthest:.4} from 0.5)",
                self.chance_margin
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::TaskMetrics;
    use crate::outcome::SplitEval;

    fn point(epoch: usize, loss: f64, aucs: &[f64]) -> CurvePoint {
        let m = |auc: f64| TaskMetrics {
            auc,
            ne: 1.0,
            loss: 0.5,
        };
        CurvePoint {
            epoch,
            fraction: 1.0,
            examples: 0,
            train_loss: Some(loss),
            eval: SplitEval {
                valid: aucs.iter().map(|&a| m(a)).collect(),
                test: aucs.iter().map(|&a| m(a)).collect(),
            },
        }
    }

    #[test]
    fn the_rule_flags_exploding_loss_and_chance_auc_only() {
        let rule = Divergence::default();
        let bin = [MetricKind::Binary; 3];
        // (curve, diverged?) as the module docs state the rule
        let cases: Vec<(Vec<CurvePoint>, Option<&str>)> = vec![
            // a healthy run
            (
                vec![
                    point(0, 1.2, &[0.80, 0.85, 0.9]),
                    point(1, 1.0, &[0.85, 0.9, 0.95]),
                ],
                None,
            ),
            // the lr = 1e6 run of the issue: loss 1e17, AUC 0.5
            (
                vec![point(0, 3e17, &[0.5, 0.5, 0.5])],
                Some("exceeds train.divergence.max_task_loss"),
            ),
            // finite small loss, but every AUC stays within 0.5 ± 0.01
            (
                vec![
                    point(0, 2.0, &[0.505, 0.5, 0.492]),
                    point(1, 2.0, &[0.5, 0.509, 0.5]),
                ],
                Some("left 0.5 ± 0.01"),
            ),
            // one task leaves chance in one epoch: not diverged
            (
                vec![
                    point(0, 2.0, &[0.5, 0.5, 0.5]),
                    point(1, 2.0, &[0.5, 0.52, 0.5]),
                ],
                None,
            ),
            // an AUC far below chance is a model that ranks (inverted), not chance
            (vec![point(0, 2.0, &[0.3, 0.5, 0.5])], None),
            // per-task loss 999 with 3 tasks (total 2997) is under the bound
            (vec![point(0, 2997.0, &[0.7, 0.7, 0.7])], None),
            (
                vec![point(0, 3003.0, &[0.7, 0.7, 0.7])],
                Some("per task 1.001e3 in epoch 1"),
            ),
            // NaN AUCs (one class only) are not evidence of chance
            (vec![point(0, 1.0, &[f64::NAN, f64::NAN, f64::NAN])], None),
        ];
        for (i, (curve, want)) in cases.into_iter().enumerate() {
            let got = rule.check(&curve, &bin);
            match (want, &got) {
                (None, None) => {}
                (Some(w), Some(g)) if g.contains(w) => {}
                _ => panic!("case {i}: expected {want:?}, got {got:?}"),
            }
        }
        // regression tasks have no AUC: only the loss bound applies
        let reg = [MetricKind::Regression];
        assert_eq!(rule.check(&[point(0, 5.0, &[f64::NAN])], &reg), None);
    }

    #[test]
    fn bad_rules_are_refused_with_their_key() {
        for (rule, key) in [
            (
                Divergence {
                    max_task_loss: 0.0,
                    ..Divergence::default()
                },
                "train.divergence.max_task_loss",
            ),
            (
                Divergence {
                    chance_margin: 0.5,
                    ..Divergence::default()
                },
                "train.divergence.chance_margin",
            ),
        ] {
            assert_eq!(rule.validate().unwrap_err().0, key);
        }
    }
}
