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

/// Gauss-Hermite nodes of the oracle's expectation over a task's noise.
pub(crate) const HERMITE_NODES: usize = 48;

/// Nodes `x_i` and weights `w_i` of `n`-point Gauss-Hermite quadrature for the weight
/// `exp(-x²)`, by Newton's method on the orthonormal Hermite recurrence (roots in decreasing
/// order): `∫ g(x) exp(-x²) dx ≈ Σ w_i g(x_i)`.
pub(crate) fn gauss_hermite(n: usize) -> (Vec<f64>, Vec<f64>) {
    let pim4 = std::f64::consts::PI.powf(-0.25);
    let (mut x, mut w) = (vec![0.0; n], vec![0.0; n]);
    let mut z = 0.0f64;
    for i in 0..n.div_ceil(2) {
        // Starting guesses for the largest roots, then from the previous roots.
        z = match i {
            0 => (2.0 * n as f64 + 1.0).sqrt() - 1.85575 * (2.0 * n as f64 + 1.0).powf(-1.0 / 6.0),
            1 => z - 1.14 * (n as f64).powf(0.426) / z,
            2 => 1.86 * z - 0.86 * x[0],
            3 => 1.91 * z - 0.91 * x[1],
            _ => 2.0 * z - x[i - 2],
        };
        let mut derivative = 0.0;
        for _ in 0..100 {
            let (mut p1, mut p2) = (pim4, 0.0);
            for j in 1..=n {
                let p3 = p2;
                p2 = p1;
                p1 = z * (2.0 / j as f64).sqrt() * p2 - ((j - 1) as f64 / j as f64).sqrt() * p3;
            }
            derivative = (2.0 * n as f64).sqrt() * p2;
            let step = p1 / derivative;
            z -= step;
            if step.abs() < 1e-15 {
                break;
            }
        }
        x[i] = z;
        x[n - 1 - i] = -z;
        w[i] = 2.0 / (derivative * derivative);
        w[n - 1 - i] = w[i];
    }
    (x, w)
}

impl TaskModel {
    /// The best possible prediction of each task from the hidden input alone (what a model
    /// that sees every id and dense feature could at most learn): a binary task's probability
    /// `E_ε[sigmoid(sharpness · s_t + b_t)]` over its unseen noise ε ~ N(0, 1) (Gauss-Hermite
    /// quadrature), a regression task's conditional mean `mean_t + std_t · (f(z_t) − μ_t) / σ_t`.
    pub fn oracle(&self, hidden: &[f64], quadrature: &(Vec<f64>, Vec<f64>)) -> Vec<f64> {
        let (nodes, weights) = quadrature;
        let sqrt_pi = std::f64::consts::PI.sqrt();
        self.directions
            .iter()
            .enumerate()
            .map(|(t, w)| {
                let z: f64 = w.iter().zip(hidden).map(|(a, b)| a * b).sum();
                let (mu, sd) = self.standardise[t];
                let fz = self.f(z);
                match self.kinds[t] {
                    TaskKind::Binary => {
                        nodes
                            .iter()
                            .zip(weights)
                            .map(|(x, wt)| {
                                let s = (fz + self.noise * std::f64::consts::SQRT_2 * x - mu) / sd;
                                wt * sigmoid(self.sharpness * s + self.bias[t])
                            })
                            .sum::<f64>()
                            / sqrt_pi
                    }
                    TaskKind::Regression => {
                        self.regression[t].0 + self.regression[t].1 * (fz - mu) / sd
                    }
                }
            })
            .collect()
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
        /// scipy's adaptive quadrature of the expected probability (binary tasks) and the
        /// conditional mean (regression).
        oracle: Vec<f64>,
    }

    #[derive(Deserialize)]
    struct Fixture {
        model: TaskModel,
        cases: Vec<Case>,
    }

    /// numpy's and scipy's cases (`scripts/fixtures/simulator.py`).
    fn fixture() -> Fixture {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/sim/task_model.json");
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// numpy computes the documented formula on its own random parameters and inputs
    /// (`scripts/fixtures/simulator.py`); the Rust map must agree to 1e-12 and on every label.
    #[test]
    fn outputs_match_numpy() {
        let fx = fixture();
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

    /// The oracle against scipy's adaptive quadrature of the same integral (an independent
    /// method: `scipy.integrate.quad` over the normal density), to 1e-9.
    #[test]
    fn the_oracle_matches_scipy_quadrature() {
        let fx = fixture();
        let q = gauss_hermite(HERMITE_NODES);
        for (i, c) in fx.cases.iter().enumerate() {
            let got = fx.model.oracle(&c.hidden, &q);
            for (t, (a, b)) in got.iter().zip(&c.oracle).enumerate() {
                assert!((a - b).abs() < 1e-9, "case {i} task {t}: {a} vs {b}");
            }
        }
    }

    /// The oracle against a Monte-Carlo estimate: the mean of the simulator's own binary
    /// probability over 400,000 noise draws (Box-Muller from a fixed ChaCha stream), within
    /// 4 standard errors; and the quadrature's nodes integrate x² and x⁴ under exp(-x²)
    /// exactly (√π/2, 3√π/4).
    #[test]
    fn the_oracle_matches_a_monte_carlo_estimate() {
        use rand::{Rng, SeedableRng};
        let (x, w) = gauss_hermite(HERMITE_NODES);
        let sqrt_pi = std::f64::consts::PI.sqrt();
        let moment = |k: i32| x.iter().zip(&w).map(|(x, w)| w * x.powi(k)).sum::<f64>();
        assert!((moment(0) - sqrt_pi).abs() < 1e-12);
        assert!((moment(2) - sqrt_pi / 2.0).abs() < 1e-12);
        assert!((moment(4) - 3.0 * sqrt_pi / 4.0).abs() < 1e-12);
        let fx = fixture();
        let m = &fx.model;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for c in fx.cases.iter().take(4) {
            let want = m.oracle(&c.hidden, &(x.clone(), w.clone()));
            let n = 400_000;
            let (mut sum, mut sum2) = (vec![0.0; want.len()], vec![0.0; want.len()]);
            for _ in 0..n {
                let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
                let e = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let o = m.outputs(&c.hidden, &vec![e; want.len()], &vec![0.0; want.len()]);
                for t in 0..want.len() {
                    let v = match m.kinds[t] {
                        TaskKind::Binary => sigmoid(m.sharpness * o.score[t] + m.bias[t]),
                        TaskKind::Regression => o.label[t],
                    };
                    sum[t] += v;
                    sum2[t] += v * v;
                }
            }
            for t in 0..want.len() {
                let mean = sum[t] / n as f64;
                let se = ((sum2[t] / n as f64 - mean * mean).max(0.0) / n as f64).sqrt();
                assert!(
                    (mean - want[t]).abs() < 4.0 * se + 1e-12,
                    "task {t}: MC {mean} ± {se} vs {}",
                    want[t]
                );
            }
        }
    }
}
