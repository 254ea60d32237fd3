//! A seeded, streamed simulator of recommendation task groups with known task relations: the
//! substitute for the paper's private short-video data (`docs/simulator.md` has every modelling
//! choice).
//!
//! One example (all draws from [`rng::Draws`], a pure function of (world seed, stream, index)):
//! - **ids**: a user and an item drawn with Zipf-like popularity (id 0 the most popular), one
//!   value per context feature (uniform over its cardinality), `dense` standard normals;
//! - **hidden input** `h` (dimension D = 3d + Σ_k min(c, cardinality_k − 1) + dense): the user's
//!   latent `u` (d), the item's latent `v` (d), their product `u ⊙ v` (d), each context value's
//!   latent and the dense features. Latents are drawn standard normal per id from the world
//!   seed, then whitened under the distribution the ids are drawn from (Zipf for users and
//!   items, uniform for contexts), so that over examples every component of `h` has mean 0 and
//!   unit variance and no two are correlated, however skewed the popularity; the model sees
//!   only the ids;
//! - **tasks**: unit directions `w_t` in R^D whose cosines are the configured T×T `relations`
//!   matrix C (`W = L·E` with `C = L·Lᵀ` and E orthonormal); `z_t = w_t · h`, so corr(z_s, z_t) =
//!   C_st; a non-linear map shared by all tasks, `f(z) = z + a · Σ_j sin(α_j z + β_j)` with
//!   `a = sine_weight / √sines` (the MMoE paper's synthetic data, §4.1, generalised to T
//!   tasks), plus Gaussian noise:
//!   `s_t = (f(z_t) + noise · ε_t − μ_t) / σ_t`, standardised with the mean and standard
//!   deviation measured on a calibration stream;
//! - **labels**: binary `1[U < sigmoid(sharpness · s_t + b_t)]` with `b_t` calibrated (bisection
//!   on the calibration stream) so that the positive rate is the configured one; regression
//!   `mean + std · s_t`.
//!
//! Streams: [`SimStream::Train`], `Valid` and `Test` are disjoint (other ChaCha nonces); the
//! calibration stream and the world's latents use their own. Rows are generated in parallel
//! (rayon) and are identical for any thread count and any split into calls.

mod labels;
mod linalg;
pub mod presets;
mod rng;
pub mod sample;
mod stats;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{DataError, TaskKind};
pub use labels::{TaskModel, TaskOutputs};
pub use rng::Zipf;
pub use stats::{SimStats, TaskStat};

/// What a task stands for in the paper's task groups (informational: it names the task's
/// family in tables; it does not change how labels are drawn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskFamily {
    /// Consumption (click, long view, watch time).
    Consumption,
    /// Engagement (like, follow, share).
    Engagement,
    /// Negative feedback (dislike).
    Negative,
}

/// Whether a task's metrics are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskRole {
    /// Reported in the tables.
    #[default]
    Reported,
    /// Trained on but left out of the reported columns (the paper's auxiliary task).
    Auxiliary,
}

/// One simulated task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimTask {
    /// Name (a column of the tables).
    pub name: String,
    /// Binary or regression.
    pub kind: TaskKind,
    /// Its family.
    pub family: TaskFamily,
    /// Reported or auxiliary.
    #[serde(default)]
    pub role: TaskRole,
    /// Binary tasks: the target positive rate, in (0, 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_rate: Option<f64>,
    /// Regression tasks: the label's mean (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Regression tasks: the label's standard deviation (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
}

impl SimTask {
    /// The configured positive rate (binary) or label mean (regression).
    pub fn target(&self) -> f64 {
        match self.kind {
            TaskKind::Binary => self.positive_rate.unwrap_or(f64::NAN),
            TaskKind::Regression => self.mean.unwrap_or(0.0),
        }
    }
}

/// A categorical context feature (hour, device, surface, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextFeature {
    /// Name.
    pub name: String,
    /// Number of values (≥ 1).
    pub cardinality: usize,
}

/// A simulated task group (the presets are in `configs/sim/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Number of users (≥ 1).
    pub users: usize,
    /// Number of items (≥ 1).
    pub items: usize,
    /// Zipf exponent of user popularity (0 = uniform).
    pub user_zipf: f64,
    /// Zipf exponent of item popularity.
    pub item_zipf: f64,
    /// Dimension d of the user and item latents.
    pub latent_dim: usize,
    /// Context features.
    #[serde(default)]
    pub contexts: Vec<ContextFeature>,
    /// Dimension c of each context value's latent (at most cardinality − 1 per feature).
    #[serde(default = "SimConfig::default_context_dim")]
    pub context_dim: usize,
    /// Number of dense features.
    #[serde(default)]
    pub dense: usize,
    /// Number of sine terms of the shared non-linear map.
    pub sines: usize,
    /// Weight of the sine terms: their amplitude is `sine_weight / √sines`, so their sum has a
    /// variance of about `sine_weight² / 2` beside z's 1.
    pub sine_weight: f64,
    /// Standard deviation of the Gaussian noise added to every task's score before
    /// standardisation.
    pub noise: f64,
    /// Binary tasks: logit = sharpness · standardised score + bias.
    pub sharpness: f64,
    /// Rows of the calibration stream (score standardisation and binary biases).
    #[serde(default = "SimConfig::default_calibration_rows")]
    pub calibration_rows: usize,
    /// The tasks.
    pub tasks: Vec<SimTask>,
    /// T×T cosines between the task directions (symmetric, unit diagonal, positive
    /// semi-definite); −1 makes a task the opposite of another.
    pub relations: Vec<Vec<f64>>,
}

/// Which stream of examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimStream {
    /// The training stream (unbounded).
    Train,
    /// Validation.
    Valid,
    /// Test.
    Test,
}

impl SimStream {
    fn nonce(self) -> u64 {
        match self {
            SimStream::Train => 1,
            SimStream::Valid => 2,
            SimStream::Test => 3,
        }
    }
}

/// The ChaCha nonce of the calibration stream.
const CALIBRATION_STREAM: u64 = 4;
/// The nonce of the world's parameters (task directions, sine terms).
const WORLD_STREAM: u64 = 5;
/// The nonces of the user, item and context latents (context k at `LATENT_STREAM + 2 + k`).
const LATENT_STREAM: u64 = 16;
/// Tolerance on the smallest eigenvalue of `relations`.
const PSD_TOL: f64 = 1e-9;

impl SimConfig {
    fn default_context_dim() -> usize {
        4
    }
    fn default_calibration_rows() -> usize {
        200_000
    }

    /// Parses a config from TOML text; `source` names it in messages.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Self, DataError> {
        let cfg: SimConfig = toml::from_str(text).map_err(|e| DataError::Simulator {
            source_name: source.into(),
            key: "toml".into(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        cfg.validate(source)?;
        Ok(cfg)
    }

    /// Dimension of each context feature's latent: `context_dim`, at most `cardinality − 1`
    /// (the most that can be whitened).
    pub fn context_dims(&self) -> Vec<usize> {
        self.contexts
            .iter()
            .map(|f| self.context_dim.min(f.cardinality.saturating_sub(1)))
            .collect()
    }

    /// Dimension D of the hidden input.
    pub fn hidden_dim(&self) -> usize {
        3 * self.latent_dim + self.context_dims().iter().sum::<usize>() + self.dense
    }

    /// Every rule a config must follow, each refusal naming its key.
    pub fn validate(&self, source: &str) -> Result<(), DataError> {
        let bad = |key: String, message: String| {
            Err(DataError::Simulator {
                source_name: source.into(),
                key,
                message,
            })
        };
        for (key, n) in [
            ("users", self.users),
            ("items", self.items),
            ("latent_dim", self.latent_dim),
            ("calibration_rows", self.calibration_rows),
        ] {
            if n == 0 {
                return bad(key.into(), "must be at least 1".into());
            }
        }
        for (key, v) in [
            ("user_zipf", self.user_zipf),
            ("item_zipf", self.item_zipf),
            ("noise", self.noise),
            ("sine_weight", self.sine_weight),
            ("sharpness", self.sharpness),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(key.into(), format!("must be a finite number >= 0, got {v}"));
            }
        }
        for c in &self.contexts {
            if c.cardinality == 0 {
                return bad(
                    format!("contexts.{}.cardinality", c.name),
                    "must be at least 1".into(),
                );
            }
        }
        if self.tasks.is_empty() {
            return bad("tasks".into(), "at least one task is needed".into());
        }
        for t in &self.tasks {
            let key = |field: &str| format!("tasks.{}.{field}", t.name);
            match t.kind {
                TaskKind::Binary => match t.positive_rate {
                    Some(p) if p > 0.0 && p < 1.0 => {}
                    Some(p) => {
                        return bad(key("positive_rate"), format!("must be in (0, 1), got {p}"))
                    }
                    None => return bad(key("positive_rate"), "a binary task needs one".into()),
                },
                TaskKind::Regression => {
                    if t.positive_rate.is_some() {
                        return bad(
                            key("positive_rate"),
                            "a regression task has none (use mean and std)".into(),
                        );
                    }
                    if let Some(s) = t.std.filter(|s| !(s.is_finite() && *s > 0.0)) {
                        return bad(key("std"), format!("must be > 0, got {s}"));
                    }
                }
            }
        }
        let n = self.tasks.len();
        if self.relations.len() != n || self.relations.iter().any(|r| r.len() != n) {
            return bad(
                "relations".into(),
                format!(
                    "must be {n}×{n} (one row and column per task), got {} rows of lengths {:?}",
                    self.relations.len(),
                    self.relations.iter().map(Vec::len).collect::<Vec<_>>()
                ),
            );
        }
        for i in 0..n {
            if (self.relations[i][i] - 1.0).abs() > 1e-12 {
                return bad(
                    "relations".into(),
                    format!(
                        "the diagonal must be 1 (cosines of unit directions), row {} has {}",
                        i + 1,
                        self.relations[i][i]
                    ),
                );
            }
            for j in 0..n {
                let (a, b) = (self.relations[i][j], self.relations[j][i]);
                if !(a.is_finite() && (-1.0..=1.0).contains(&a)) || (a - b).abs() > 1e-12 {
                    return bad(
                        "relations".into(),
                        format!(
                            "must be symmetric with entries in [-1, 1]: ({}, {}) = {a}, ({}, {}) = {b}",
                            i + 1,
                            j + 1,
                            j + 1,
                            i + 1
                        ),
                    );
                }
            }
        }
        let min = linalg::symmetric_eigen(&self.relations)
            .0
            .into_iter()
            .fold(f64::INFINITY, f64::min);
        if min < -PSD_TOL || linalg::cholesky_psd(&self.relations, PSD_TOL).is_none() {
            return bad(
                "relations".into(),
                format!(
                    "must be positive semi-definite (cosines of real directions); its smallest \
                     eigenvalue is {min:.6}"
                ),
            );
        }
        if self.hidden_dim() < n {
            return bad(
                "latent_dim".into(),
                format!(
                    "the hidden input has {} dimensions, fewer than the {n} tasks",
                    self.hidden_dim()
                ),
            );
        }
        Ok(())
    }

    /// 64-bit draws per example: user, item, one per context, two per dense normal, per task
    /// two for the noise normal and one for the label's uniform.
    fn draws_per_example(&self) -> u128 {
        (2 + self.contexts.len() + 2 * self.dense + 3 * self.tasks.len()) as u128
    }
}

/// Generated rows, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRows {
    /// Rows.
    pub n: usize,
    /// Categorical ids `[n, 2 + contexts]`: user, item, then each context value.
    pub ids: Vec<u32>,
    /// Dense features `[n, dense]`.
    pub dense: Vec<f32>,
    /// Labels `[n, tasks]` (0/1 for binary tasks).
    pub labels: Vec<f32>,
}

impl SimRows {
    /// Rows `start .. start + len` (which must lie inside).
    pub fn slice(&self, start: usize, len: usize) -> SimRows {
        let n = self.n.max(1);
        let (f, d, t) = (
            self.ids.len() / n,
            self.dense.len() / n,
            self.labels.len() / n,
        );
        SimRows {
            n: len,
            ids: self.ids[start * f..(start + len) * f].to_vec(),
            dense: self.dense[start * d..(start + len) * d].to_vec(),
            labels: self.labels[start * t..(start + len) * t].to_vec(),
        }
    }
}

/// What an example is made of, for inspection and for the numpy oracle
/// (`scripts/fixtures/simulator.py`).
#[derive(Debug, Clone, Serialize)]
pub struct ExampleTrace {
    /// The ids (user, item, contexts).
    pub ids: Vec<u32>,
    /// The hidden input h.
    pub hidden: Vec<f64>,
    /// Per task: z_t = w_t · h.
    pub z: Vec<f64>,
    /// Per task: the noise draw ε_t.
    pub eps: Vec<f64>,
    /// Per task: the standardised score s_t.
    pub score: Vec<f64>,
    /// Per task: the label's uniform U_t.
    pub uniform: Vec<f64>,
    /// Per task: the label.
    pub label: Vec<f64>,
}

/// A simulated world: the config, its latents and task directions, and its calibration.
#[derive(Debug, Clone)]
pub struct Simulator {
    cfg: SimConfig,
    seed: u64,
    users: Zipf,
    items: Zipf,
    /// `[users · d]`, `[items · d]`, per context `[cardinality · c]`.
    user_latent: Vec<f32>,
    item_latent: Vec<f32>,
    context_latent: Vec<Vec<f32>>,
    /// Per context feature: its latent's dimension.
    context_dims: Vec<usize>,
    /// The map from hidden input to labels (standardisation and biases from the calibration).
    model: TaskModel,
}

/// A table of `weights.len()` latent vectors of length `dim` from `stream`: standard normals
/// (row r at draw `2 · r · dim`), whitened under `weights` (see [`linalg::whiten`]).
fn latent_table(seed: u64, stream: u64, weights: &[f64], dim: usize) -> Vec<f32> {
    let n = weights.len();
    let mut out = vec![0f32; n * dim];
    out.par_chunks_mut(dim.max(1))
        .enumerate()
        .for_each(|(r, row)| {
            let mut d = rng::Draws::at(seed, stream, (2 * r * dim) as u128);
            for x in row.iter_mut() {
                *x = d.normal() as f32;
            }
        });
    linalg::whiten(&mut out, dim, weights);
    out
}

impl Simulator {
    /// The world of `cfg` with seed `seed`: latents, task directions, sine terms, then the
    /// calibration (standardisation and binary biases). The config must be valid.
    pub fn new(cfg: &SimConfig, seed: u64) -> Result<Self, DataError> {
        cfg.validate("(given)")?;
        let (d, t, dim) = (cfg.latent_dim, cfg.tasks.len(), cfg.hidden_dim());
        let (users, items) = (
            Zipf::new(cfg.users, cfg.user_zipf),
            Zipf::new(cfg.items, cfg.item_zipf),
        );
        // The sine terms first, then one basis direction per task: worlds of the same seed,
        // sines and hidden dimension share f and their first directions (task 1 of every
        // preset is the same task, since L is lower-triangular).
        let mut world = rng::Draws::at(seed, WORLD_STREAM, 0);
        let alpha = (0..cfg.sines).map(|_| world.normal()).collect();
        let beta = (0..cfg.sines).map(|_| world.normal()).collect();
        let mut basis: Vec<Vec<f64>> = (0..t)
            .map(|_| (0..dim).map(|_| world.normal()).collect())
            .collect();
        linalg::orthonormalize(&mut basis);
        let l = linalg::cholesky_psd(&cfg.relations, PSD_TOL).expect("validated");
        let directions = (0..t)
            .map(|i| {
                (0..dim)
                    .map(|j| (0..t).map(|k| l[i][k] * basis[k][j]).sum())
                    .collect()
            })
            .collect();
        let mut sim = Simulator {
            cfg: cfg.clone(),
            seed,
            user_latent: latent_table(seed, LATENT_STREAM, &users.probabilities(), d),
            item_latent: latent_table(seed, LATENT_STREAM + 1, &items.probabilities(), d),
            context_latent: cfg
                .contexts
                .iter()
                .zip(cfg.context_dims())
                .enumerate()
                .map(|(k, (f, c))| {
                    let uniform = vec![1.0 / f.cardinality as f64; f.cardinality];
                    latent_table(seed, LATENT_STREAM + 2 + k as u64, &uniform, c)
                })
                .collect(),
            context_dims: cfg.context_dims(),
            users,
            items,
            model: TaskModel {
                directions,
                alpha,
                beta,
                amplitude: cfg.sine_weight / (cfg.sines.max(1) as f64).sqrt(),
                noise: cfg.noise,
                sharpness: cfg.sharpness,
                standardise: vec![(0.0, 1.0); t],
                bias: vec![0.0; t],
                kinds: cfg.tasks.iter().map(|t| t.kind).collect(),
                regression: cfg
                    .tasks
                    .iter()
                    .map(|t| (t.mean.unwrap_or(0.0), t.std.unwrap_or(1.0)))
                    .collect(),
            },
        };
        sim.calibrate();
        Ok(sim)
    }

    /// The config.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The world seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Cardinalities of the id features: users, items, then each context.
    pub fn cardinalities(&self) -> Vec<usize> {
        [self.cfg.users, self.cfg.items]
            .into_iter()
            .chain(self.cfg.contexts.iter().map(|c| c.cardinality))
            .collect()
    }

    /// Example `index` of nonce `stream`, with every intermediate value.
    fn trace_at(&self, stream: u64, index: u64) -> ExampleTrace {
        let mut d = rng::Draws::at(
            self.seed,
            stream,
            u128::from(index) * self.cfg.draws_per_example(),
        );
        self.trace(&mut d)
    }

    /// The next example of `d` (consumes exactly `draws_per_example` draws).
    fn trace(&self, d: &mut rng::Draws) -> ExampleTrace {
        let cfg = &self.cfg;
        let dl = cfg.latent_dim;
        let user = self.users.rank(d.uniform());
        let item = self.items.rank(d.uniform());
        let mut ids = vec![user as u32, item as u32];
        for f in &cfg.contexts {
            ids.push(((d.uniform() * f.cardinality as f64) as usize).min(f.cardinality - 1) as u32);
        }
        let mut hidden = Vec::with_capacity(cfg.hidden_dim());
        let u = &self.user_latent[user * dl..(user + 1) * dl];
        let v = &self.item_latent[item * dl..(item + 1) * dl];
        hidden.extend(u.iter().map(|&x| f64::from(x)));
        hidden.extend(v.iter().map(|&x| f64::from(x)));
        hidden.extend(u.iter().zip(v).map(|(&a, &b)| f64::from(a) * f64::from(b)));
        for (k, (table, &c)) in self
            .context_latent
            .iter()
            .zip(&self.context_dims)
            .enumerate()
        {
            let id = ids[2 + k] as usize;
            hidden.extend(table[id * c..(id + 1) * c].iter().map(|&x| f64::from(x)));
        }
        for _ in 0..cfg.dense {
            hidden.push(d.normal());
        }
        let t = cfg.tasks.len();
        let eps: Vec<f64> = (0..t).map(|_| d.normal()).collect();
        let uniform: Vec<f64> = (0..t).map(|_| d.uniform()).collect();
        let TaskOutputs { z, score, label } = self.model.outputs(&hidden, &eps, &uniform);
        ExampleTrace {
            ids,
            hidden,
            z,
            eps,
            score,
            uniform,
            label,
        }
    }

    /// Standardisation of the scores, then each binary task's bias, from the calibration stream.
    fn calibrate(&mut self) {
        let n = self.cfg.calibration_rows;
        let t = self.cfg.tasks.len();
        // Raw scores f(z) + noise · ε with the identity standardisation.
        let raw: Vec<Vec<f64>> = (0..n as u64)
            .into_par_iter()
            .map(|i| self.trace_at(CALIBRATION_STREAM, i).score)
            .collect();
        for k in 0..t {
            let mean = raw.iter().map(|r| r[k]).sum::<f64>() / n as f64;
            let var = raw.iter().map(|r| (r[k] - mean).powi(2)).sum::<f64>() / n as f64;
            self.model.standardise[k] = (mean, var.sqrt().max(1e-12));
        }
        for (k, task) in self.cfg.tasks.iter().enumerate() {
            let Some(rate) = task.positive_rate else {
                continue;
            };
            let (mu, sd) = self.model.standardise[k];
            let s: Vec<f64> = raw.iter().map(|r| (r[k] - mu) / sd).collect();
            let mean_p = |b: f64| {
                s.par_iter()
                    .map(|&x| labels::sigmoid(self.cfg.sharpness * x + b))
                    .sum::<f64>()
                    / n as f64
            };
            let (mut lo, mut hi) = (-60.0, 60.0);
            for _ in 0..100 {
                let mid = 0.5 * (lo + hi);
                if mean_p(mid) < rate {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            self.model.bias[k] = 0.5 * (lo + hi);
        }
    }

    /// Examples `start .. start + n` of `stream`, generated in parallel (chunks of 1024
    /// examples, each from one seek of the stream).
    pub fn rows(&self, stream: SimStream, start: u64, n: usize) -> SimRows {
        const CHUNK: usize = 1024;
        let n_dense = self.cfg.dense;
        let parts: Vec<SimRows> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let first = start + (chunk * CHUNK) as u64;
                let len = CHUNK.min(n - chunk * CHUNK);
                let mut d = rng::Draws::at(
                    self.seed,
                    stream.nonce(),
                    u128::from(first) * self.cfg.draws_per_example(),
                );
                let mut part = SimRows {
                    n: len,
                    ids: Vec::new(),
                    dense: Vec::new(),
                    labels: Vec::new(),
                };
                for _ in 0..len {
                    let e = self.trace(&mut d);
                    part.ids.extend(&e.ids);
                    let h0 = e.hidden.len() - n_dense;
                    part.dense.extend(e.hidden[h0..].iter().map(|&x| x as f32));
                    part.labels.extend(e.label.iter().map(|&y| y as f32));
                }
                part
            })
            .collect();
        let mut out = SimRows {
            n,
            ids: Vec::with_capacity(n * (2 + self.cfg.contexts.len())),
            dense: Vec::with_capacity(n * n_dense),
            labels: Vec::with_capacity(n * self.cfg.tasks.len()),
        };
        for p in parts {
            out.ids.extend(p.ids);
            out.dense.extend(p.dense);
            out.labels.extend(p.labels);
        }
        out
    }

    /// Example `index` of `stream` with every intermediate value.
    pub fn trace_example(&self, stream: SimStream, index: u64) -> ExampleTrace {
        self.trace_at(stream.nonce(), index)
    }

    /// The unit task directions `[T][D]` (their cosines are `relations`).
    pub fn directions(&self) -> &[Vec<f64>] {
        &self.model.directions
    }

    /// The map from hidden input to labels.
    pub fn task_model(&self) -> &TaskModel {
        &self.model
    }

    /// The best possible prediction of every task for examples `start .. start + n` of
    /// `stream`, `[n · T]` (see [`TaskModel::oracle`]): the Bayes limit a model that sees the
    /// ids and dense features can approach.
    pub fn oracle(&self, stream: SimStream, start: u64, n: usize) -> Vec<f64> {
        let q = labels::gauss_hermite(labels::HERMITE_NODES);
        (start..start + n as u64)
            .into_par_iter()
            .flat_map_iter(|i| {
                self.model
                    .oracle(&self.trace_at(stream.nonce(), i).hidden, &q)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
