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
pub mod memory;
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
/// The most users, items or values of a context feature: ids are 32-bit.
pub const MAX_IDS: u64 = 1 << 32;

/// A config check's refusal: the key and the message.
type Checked = Result<(), (String, String)>;

fn refuse(key: &str, message: String) -> Checked {
    Err((key.into(), message))
}

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
        self.check_sizes()
            .and_then(|()| self.check_popularity())
            .and_then(|()| self.check_names())
            .and_then(|()| self.check_tasks())
            .and_then(|()| self.check_relations())
            .map_err(|(key, message)| DataError::Simulator {
                source_name: source.into(),
                key,
                message,
            })
    }

    /// Counts at least 1 (ids at most [`MAX_IDS`]), exponents and weights finite and >= 0.
    fn check_sizes(&self) -> Checked {
        for (key, n) in [
            ("users", self.users),
            ("items", self.items),
            ("latent_dim", self.latent_dim),
            ("calibration_rows", self.calibration_rows),
        ] {
            if n == 0 {
                return refuse(key, "must be at least 1".into());
            }
        }
        let ids = [
            ("users".to_owned(), self.users),
            ("items".into(), self.items),
        ];
        let contexts = self
            .contexts
            .iter()
            .map(|c| (format!("contexts.{}.cardinality", c.name), c.cardinality));
        for (key, n) in ids.into_iter().chain(contexts) {
            if n == 0 {
                return refuse(&key, "must be at least 1".into());
            }
            if n as u64 > MAX_IDS {
                return refuse(
                    &key,
                    format!("must be at most {MAX_IDS} (ids are 32-bit), got {n}"),
                );
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
                return refuse(key, format!("must be a finite number >= 0, got {v}"));
            }
        }
        Ok(())
    }

    /// User and item latents (dimension d) are whitened under the popularity the ids are drawn
    /// with, which needs that popularity spread over at least d + 1 ids: an effective number of
    /// ids, 1 / Σ_k p_k², of at least `latent_dim + 1` (fewer ids, or a Zipf exponent that puts
    /// nearly all the mass on a few of them, leave the weighted covariance singular).
    fn check_popularity(&self) -> Checked {
        let (d, need) = (self.latent_dim, self.latent_dim + 1);
        for (ids, n, key, zipf) in [
            ("users", self.users, "user_zipf", self.user_zipf),
            ("items", self.items, "item_zipf", self.item_zipf),
        ] {
            if n < need {
                return refuse(
                    ids,
                    format!(
                        "at least latent_dim + 1 = {need} are needed to whiten {d}-dimensional \
                         latents over them, got {n}"
                    ),
                );
            }
            let effective = Zipf::effective_ranks(n, zipf);
            if effective < need as f64 {
                return refuse(
                    key,
                    format!(
                        "{zipf} puts the popularity of the {n} {ids} on {effective:.2} effective \
                         ids (1 / Σ p²); whitening {d}-dimensional latents needs at least \
                         latent_dim + 1 = {need}: lower {key} (or latent_dim)"
                    ),
                );
            }
        }
        Ok(())
    }

    /// The sample's columns ([`sample::column_names`]: user_id, item_id, the contexts,
    /// dense_0 …, the tasks) have distinct names, so no two tasks or contexts share a name and
    /// none has the name of another column.
    fn check_names(&self) -> Checked {
        let mut columns = sample::column_names(self);
        // The writer's own names first, so that a clash is reported on the config's name.
        columns.sort_by_key(|(_, kind)| !kind.is_fixed());
        let mut seen = std::collections::HashMap::new();
        for (name, kind) in columns {
            let Some(before) = seen.insert(name.clone(), kind) else {
                continue;
            };
            let clash = if before == kind {
                format!("two {} are named `{name}`", kind.plural())
            } else {
                format!(
                    "{} `{name}` has the name of {}",
                    kind.describe(),
                    before.describe()
                )
            };
            return refuse(
                kind.key(),
                format!(
                    "{clash}: the sample's columns (user_id, item_id, the contexts, dense_0 …, \
                     the tasks) need distinct names"
                ),
            );
        }
        Ok(())
    }

    /// At least one task; a binary one with a positive rate in (0, 1), a regression one without
    /// a rate and with a std > 0.
    fn check_tasks(&self) -> Checked {
        if self.tasks.is_empty() {
            return refuse("tasks", "at least one task is needed".into());
        }
        for t in &self.tasks {
            let key = |field: &str| format!("tasks.{}.{field}", t.name);
            match t.kind {
                TaskKind::Binary => match t.positive_rate {
                    Some(p) if p > 0.0 && p < 1.0 => {}
                    Some(p) => {
                        return refuse(&key("positive_rate"), format!("must be in (0, 1), got {p}"))
                    }
                    None => return refuse(&key("positive_rate"), "a binary task needs one".into()),
                },
                TaskKind::Regression => {
                    if t.positive_rate.is_some() {
                        return refuse(
                            &key("positive_rate"),
                            "a regression task has none (use mean and std)".into(),
                        );
                    }
                    if let Some(s) = t.std.filter(|s| !(s.is_finite() && *s > 0.0)) {
                        return refuse(&key("std"), format!("must be > 0, got {s}"));
                    }
                }
            }
        }
        Ok(())
    }

    /// `relations` is T×T, unit diagonal, symmetric, entries in [-1, 1], positive semi-definite
    /// (its smallest eigenvalue in the message otherwise); the hidden input has at least T
    /// dimensions.
    fn check_relations(&self) -> Checked {
        let (n, r) = (self.tasks.len(), &self.relations);
        if r.len() != n || r.iter().any(|row| row.len() != n) {
            return refuse(
                "relations",
                format!(
                    "must be {n}×{n} (one row and column per task), got {} rows of lengths {:?}",
                    r.len(),
                    r.iter().map(Vec::len).collect::<Vec<_>>()
                ),
            );
        }
        for i in 0..n {
            if (r[i][i] - 1.0).abs() > 1e-12 {
                return refuse(
                    "relations",
                    format!(
                        "the diagonal must be 1 (cosines of unit directions), row {} has {}",
                        i + 1,
                        r[i][i]
                    ),
                );
            }
            for j in 0..n {
                let (a, b) = (r[i][j], r[j][i]);
                if !(a.is_finite() && (-1.0..=1.0).contains(&a)) || (a - b).abs() > 1e-12 {
                    let (p, q) = (i + 1, j + 1);
                    return refuse(
                        "relations",
                        format!(
                            "must be symmetric with entries in [-1, 1]: ({p}, {q}) = {a}, \
                             ({q}, {p}) = {b}"
                        ),
                    );
                }
            }
        }
        let min = linalg::symmetric_eigen(r)
            .0
            .into_iter()
            .fold(f64::INFINITY, f64::min);
        if min < -PSD_TOL || linalg::cholesky_psd(r, PSD_TOL).is_none() {
            return refuse(
                "relations",
                format!(
                    "must be positive semi-definite (cosines of real directions); its smallest \
                     eigenvalue is {min:.2e}"
                ),
            );
        }
        if self.hidden_dim() < n {
            return refuse(
                "latent_dim",
                format!(
                    "the hidden input has {} dimensions, fewer than the {n} tasks",
                    self.hidden_dim()
                ),
            );
        }
        Ok(())
    }

    /// Refuses, before anything is allocated, a world (and with `rows > 0`, a sample of `rows`
    /// rows of it, the setting `rows_key`) that needs more memory than the machine has
    /// available ([`memory`]).
    pub fn check_memory(&self, rows: usize, rows_key: &str, source: &str) -> Result<(), DataError> {
        let mut parts = memory::world_parts(self);
        if rows > 0 {
            parts.push(memory::sample_part(self, rows, rows_key));
        }
        memory::check(&parts, &memory::available()).map_err(|(key, message)| DataError::Simulator {
            source_name: source.into(),
            key,
            message,
        })
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
/// (row r at draw `2 · r · dim`), whitened under `weights` (see [`linalg::whiten`]). A refusal
/// naming `key` if they cannot be whitened.
fn latent_table(
    seed: u64,
    stream: u64,
    weights: &[f64],
    dim: usize,
    key: &str,
) -> Result<Vec<f32>, (String, String)> {
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
    linalg::whiten(&mut out, dim, weights).map_err(|why| {
        let message = format!(
            "the {dim}-dimensional latents of its {n} values cannot be whitened under the \
             distribution they are drawn from: {why}"
        );
        (key.to_owned(), message)
    })?;
    Ok(out)
}

/// The map from hidden input to labels of `cfg`'s world `seed`, before calibration (identity
/// standardisation, zero biases): the sine terms first, then one basis direction per task, so
/// that worlds of the same seed, sines and hidden dimension share f and their first directions
/// (task 1 of every preset is the same task, since L is lower-triangular).
fn uncalibrated_model(cfg: &SimConfig, seed: u64) -> TaskModel {
    let (t, dim) = (cfg.tasks.len(), cfg.hidden_dim());
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
    TaskModel {
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
    }
}

/// The largest miss of a binary task's rate on the calibration stream (the mean of its label
/// probabilities over the `rows` calibration rows, after calibration) that is accepted: 3
/// binomial standard errors of a sample of that size, 3 · √(p (1 − p) / rows), at least
/// [`RATE_TOLERANCE_FLOOR`]. A reachable rate is met to rounding (the bias is a bisection); a
/// larger miss means the world cannot reach it (the bias search is bounded to [−60, 60]).
pub fn rate_tolerance(target: f64, rows: usize) -> f64 {
    (3.0 * (target * (1.0 - target) / rows as f64).sqrt()).max(RATE_TOLERANCE_FLOOR)
}

/// The floor of [`rate_tolerance`]: above the rounding of a mean over many rows.
pub const RATE_TOLERANCE_FLOOR: f64 = 1e-6;

/// Refuses a binary task whose calibrated rate `measured` misses `target` by more than
/// [`rate_tolerance`].
fn check_rate(task: &SimTask, target: f64, measured: f64, rows: usize) -> Checked {
    let tol = rate_tolerance(target, rows);
    if (measured - target).abs() <= tol {
        return Ok(());
    }
    refuse(
        &format!("tasks.{}.positive_rate", task.name),
        format!(
            "this world cannot reach it: after calibration the task's rate on the calibration \
             stream (its mean label probability over {rows} rows) is {measured:.4} against the \
             target {target}, a miss over the tolerance {tol:.1e} (3 binomial standard errors \
             of the calibration sample, at least {RATE_TOLERANCE_FLOOR:.0e}); the logit bias is \
             searched in [-60, 60], so a large sharpness, or scores that do not vary, put the \
             rate out of reach"
        ),
    )
}

/// Refuses a regression task whose labels on the calibration stream, `mean + std · s` with the
/// standardised scores `s`, miss the configured mean or standard deviation by more than 3
/// standard errors of the calibration sample (std / √rows for the mean, std / √(2 · rows) for
/// the standard deviation), at least 1e-9 · std: standardisation meets both to rounding
/// unless the scores are constant or not finite.
fn check_regression(task: &SimTask, s: &[f64]) -> Checked {
    let n = s.len() as f64;
    let (mean_t, std_t) = (task.mean.unwrap_or(0.0), task.std.unwrap_or(1.0));
    let m = s.iter().sum::<f64>() / n;
    let sd = (s.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt();
    let (mean, std) = (mean_t + std_t * m, std_t * sd);
    let tol_mean = (3.0 * std_t / n.sqrt()).max(1e-9 * std_t);
    let tol_std = (3.0 * std_t / (2.0 * n).sqrt()).max(1e-9 * std_t);
    if (mean - mean_t).abs() <= tol_mean && (std - std_t).abs() <= tol_std {
        return Ok(());
    }
    refuse(
        &format!("tasks.{}", task.name),
        format!(
            "this world cannot give it the configured moments: its labels on the calibration \
             stream ({n} rows) have mean {mean:.4} (target {mean_t}, tolerance {tol_mean:.1e}) \
             and standard deviation {std:.4} (target {std_t}, tolerance {tol_std:.1e}), \
             tolerances of 3 standard errors of the calibration sample; its scores are constant \
             or not finite"
        ),
    )
}

impl Simulator {
    /// The world of `cfg` with seed `seed`: latents, task directions, sine terms, then the
    /// calibration (standardisation and binary biases). Refusals name the config `(given)`
    /// ([`Simulator::named`] names it).
    pub fn new(cfg: &SimConfig, seed: u64) -> Result<Self, DataError> {
        Self::named(cfg, seed, "(given)")
    }

    /// [`Simulator::new`], with `source` (a preset or file) named in refusals: an invalid
    /// config, a world that needs more memory than is available (checked before allocating),
    /// latents that cannot be whitened, and a task whose calibrated rate (or regression mean
    /// and standard deviation) misses its target ([`rate_tolerance`]).
    pub fn named(cfg: &SimConfig, seed: u64, source: &str) -> Result<Self, DataError> {
        cfg.validate(source)?;
        cfg.check_memory(0, "rows", source)?;
        let refused = |(key, message)| DataError::Simulator {
            source_name: source.into(),
            key,
            message,
        };
        let d = cfg.latent_dim;
        let (users, items) = (
            Zipf::new(cfg.users, cfg.user_zipf),
            Zipf::new(cfg.items, cfg.item_zipf),
        );
        let model = uncalibrated_model(cfg, seed);
        let user_latent = latent_table(seed, LATENT_STREAM, &users.probabilities(), d, "users")
            .map_err(refused)?;
        let item_latent = latent_table(seed, LATENT_STREAM + 1, &items.probabilities(), d, "items")
            .map_err(refused)?;
        let context_latent = cfg
            .contexts
            .iter()
            .zip(cfg.context_dims())
            .enumerate()
            .map(|(k, (f, c))| {
                let uniform = vec![1.0 / f.cardinality as f64; f.cardinality];
                let key = format!("contexts.{}.cardinality", f.name);
                latent_table(seed, LATENT_STREAM + 2 + k as u64, &uniform, c, &key)
            })
            .collect::<Result<_, _>>()
            .map_err(refused)?;
        let mut sim = Simulator {
            cfg: cfg.clone(),
            seed,
            user_latent,
            item_latent,
            context_latent,
            context_dims: cfg.context_dims(),
            users,
            items,
            model,
        };
        sim.calibrate().map_err(refused)?;
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

    /// Standardisation of the scores, then each binary task's bias, from the calibration
    /// stream; then each task's check against its target on that stream ([`check_rate`],
    /// [`check_regression`]), a refusal naming the task otherwise.
    fn calibrate(&mut self) -> Checked {
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
            let (mu, sd) = self.model.standardise[k];
            let s: Vec<f64> = raw.iter().map(|r| (r[k] - mu) / sd).collect();
            let Some(rate) = task.positive_rate else {
                check_regression(task, &s)?;
                continue;
            };
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
            let bias = 0.5 * (lo + hi);
            check_rate(task, rate, mean_p(bias), n)?;
            self.model.bias[k] = bias;
        }
        Ok(())
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
