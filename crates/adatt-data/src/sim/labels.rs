//! From the hidden input to the labels: everything after the random draws, as a pure function
//! (checked against numpy, `scripts/fixtures/simulator.py`).
//!
//! Per task t: `z_t = w_t · h`; `f(z) = z + a · Σ_j sin(α_j z + β_j)`;
//! `s_t = (f(z_t) + noise · ε_t − μ_t) / σ_t`; binary label `1[U_t < sigmoid(sharpness · s_t +
//! b_t)]`; regression label `mean_t + std_t · s_t`.

use serde::{Deserialize, Serialize};

use crate::TaskKind;

/// The parameters of the map from hidden input to labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskModel {
    /// `[T][D]` unit task directions w_t.
    pub directions: Vec<Vec<f64>>,
    /// Sine frequencies α_j.
    pub alpha: Vec<f64>,
    /// Sine phases β_j.
    pub beta: Vec<f64>,
    /// The sines' amplitude a.
    pub amplitude: f64,
    /// Noise standard deviation.
    pub noise: f64,
    /// Binary logit scale.
    pub sharpness: f64,
    /// Per task (μ_t, σ_t): the standardisation of f(z_t) + noise · ε_t.
    pub standardise: Vec<(f64, f64)>,
    /// Per task: the logit bias b_t (binary tasks).
    pub bias: Vec<f64>,
    /// Per task: binary or regression.
    pub kinds: Vec<TaskKind>,
    /// Per task: (mean_t, std_t) of a regression label.
    pub regression: Vec<(f64, f64)>,
}

/// What the map gives for one example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskOutputs {
    /// Per task z_t.
    pub z: Vec<f64>,
    /// Per task s_t.
    pub score: Vec<f64>,
    /// Per task the label.
    pub label: Vec<f64>,
}

pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl TaskModel {
    /// The shared non-linear map f(z).
    pub fn f(&self, z: f64) -> f64 {
        z + self.amplitude
            * self
                .alpha
                .iter()
                .zip(&self.beta)
                .map(|(a, b)| (a * z + b).sin())
                .sum::<f64>()
    }

    /// The outputs for hidden input `hidden`, noise draws `eps` and label uniforms `uniform`
    /// (one per task).
    pub fn outputs(&self, hidden: &[f64], eps: &[f64], uniform: &[f64]) -> TaskOutputs {
        let z: Vec<f64> = self
            .directions
            .iter()
            .map(|w| w.iter().zip(hidden).map(|(a, b)| a * b).sum())
            .collect();
        let score: Vec<f64> = z
            .iter()
            .zip(eps)
            .zip(&self.standardise)
            .map(|((&z, &e), &(mu, sd))| (self.f(z) + self.noise * e - mu) / sd)
            .collect();
        let label = (0..z.len())
            .map(|t| match self.kinds[t] {
                TaskKind::Binary => {
                    let p = sigmoid(self.sharpness * score[t] + self.bias[t]);
                    f64::from(u8::from(uniform[t] < p))
                }
                TaskKind::Regression => self.regression[t].0 + self.regression[t].1 * score[t],
            })
            .collect();
        TaskOutputs { z, score, label }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Case {
        hidden: Vec<f64>,
        eps: Vec<f64>,
        uniform: Vec<f64>,
        want: TaskOutputs,
    }

    #[derive(Deserialize)]
    struct Fixture {
        model: TaskModel,
        cases: Vec<Case>,
    }

    /// numpy computes the documented formula on its own random parameters and inputs
    /// (`scripts/fixtures/simulator.py`); the Rust map must agree to 1e-12 and on every label.
    #[test]
    fn outputs_match_numpy() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/sim/task_model.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let fx: Fixture = serde_json::from_str(&text).unwrap();
        assert!(fx.cases.len() >= 50);
        let mut positives = 0;
        for (i, c) in fx.cases.iter().enumerate() {
            let got = fx.model.outputs(&c.hidden, &c.eps, &c.uniform);
            for (a, b) in got
                .z
                .iter()
                .chain(&got.score)
                .zip(c.want.z.iter().chain(&c.want.score))
            {
                assert!((a - b).abs() < 1e-12, "case {i}: {a} vs {b}");
            }
            for (t, (a, b)) in got.label.iter().zip(&c.want.label).enumerate() {
                match fx.model.kinds[t] {
                    TaskKind::Binary => {
                        assert_eq!(a, b, "case {i} task {t}");
                        positives += usize::from(*a == 1.0);
                    }
                    TaskKind::Regression => assert!((a - b).abs() < 1e-12, "case {i} task {t}"),
                }
            }
        }
        assert!(positives > 0, "the fixture has no positive label");
    }
}
