//! Experiment configuration (TOML, `deny_unknown_fields` everywhere): data, training
//! hyperparameters, run settings and the model entries that, crossed with the seeds, form the grid.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use adatt_data::{CensusConfig, Protocol};
use adatt_models::ModelConfig;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SpecError};

/// Where the data comes from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataConfig {
    /// UCI Census-Income (KDD).
    Census {
        /// Directory with census-income.{data,test}.gz.
        #[serde(default = "default_census_dir")]
        data_dir: PathBuf,
        /// Preprocessing protocol.
        protocol: Protocol,
        /// Seed of the 50/50 validation/test split of the test file (the framework uses 1).
        #[serde(default = "default_split_seed")]
        split_seed: u32,
    },
    /// A simulated task group (`adatt_data::sim`, docs/simulator.md): models read its ids
    /// through embedding tables. One pass over `train_rows` examples is `epochs = 1`.
    Simulator {
        /// The preset (`configs/sim/`): group1, group2, group3 or fig3.
        preset: adatt_data::sim::presets::Preset,
        /// The world seed (latents, task directions, calibration); the same for every run, so
        /// that seeds differ only in the models' init (every run reads the training stream in
        /// the same order).
        #[serde(default = "default_world_seed")]
        world_seed: u64,
        /// Training examples (the first of the training stream).
        train_rows: usize,
        /// Validation examples.
        valid_rows: usize,
        /// Test examples.
        test_rows: usize,
        /// Embedding dimension of every id feature.
        embedding_dim: usize,
        /// The world's number of users, replacing the preset's (same rates and relations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        users: Option<usize>,
        /// The world's number of items, replacing the preset's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        items: Option<usize>,
        /// The T×T cosines between the task directions, replacing the preset's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        relations: Option<Vec<Vec<f64>>>,
    },
}

fn default_world_seed() -> u64 {
    1
}

fn default_census_dir() -> PathBuf {
    PathBuf::from("data/census-income")
}
fn default_split_seed() -> u32 {
    1
}

/// A task of the data, as the tables show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataTask {
    /// Name.
    pub name: String,
    /// Binary (AUC, NE) or regression (MSE).
    pub kind: adatt_data::TaskKind,
    /// Shown in the tables: a simulator preset's auxiliary tasks are trained on and recorded,
    /// but left out of the reported columns.
    pub reported: bool,
}

impl DataConfig {
    /// The tasks of this data source (empty for a simulated world that cannot be made, which
    /// [`DataConfig::validate`] refuses).
    pub fn tasks(&self) -> Vec<DataTask> {
        match self {
            DataConfig::Census { .. } => adatt_data::TASK_NAMES
                .iter()
                .map(|name| DataTask {
                    name: (*name).to_owned(),
                    kind: adatt_data::TaskKind::Binary,
                    reported: true,
                })
                .collect(),
            DataConfig::Simulator { .. } => self
                .sim_config()
                .map(|c| {
                    c.tasks
                        .iter()
                        .map(|t| DataTask {
                            name: t.name.clone(),
                            kind: t.kind,
                            reported: t.role == adatt_data::sim::TaskRole::Reported,
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
    /// What of the data config changes a run's numbers, for the record key: everything but
    /// `data_dir` (the files are sha256-checked on load, wherever they are). The directory is
    /// replaced by its default, so keys made before this normalisation stay the same.
    pub fn identity(&self) -> DataConfig {
        match self {
            DataConfig::Census {
                protocol,
                split_seed,
                ..
            } => DataConfig::Census {
                data_dir: default_census_dir(),
                protocol: *protocol,
                split_seed: *split_seed,
            },
            sim @ DataConfig::Simulator { .. } => sim.clone(),
        }
    }
    /// The census loader config, if this is census.
    pub fn census(&self) -> Option<CensusConfig> {
        match self {
            DataConfig::Census {
                data_dir,
                protocol,
                split_seed,
            } => Some(CensusConfig {
                data_dir: data_dir.clone(),
                protocol: *protocol,
                split_seed: *split_seed,
            }),
            DataConfig::Simulator { .. } => None,
        }
    }
    /// The Census preprocessing protocol (none for simulated data).
    pub fn protocol(&self) -> Option<Protocol> {
        match self {
            DataConfig::Census { protocol, .. } => Some(*protocol),
            DataConfig::Simulator { .. } => None,
        }
    }
    /// What names this data variant in records and output directories: the Census protocol
    /// (`paper`, `clean`) or the simulator preset.
    pub fn label(&self) -> String {
        match self {
            DataConfig::Census { protocol, .. } => protocol.to_string(),
            DataConfig::Simulator { preset, .. } => preset.name().to_owned(),
        }
    }
    /// Number of tasks of this data source (census: education, income, never_married; a
    /// simulator preset: its tasks, 0 for a world that cannot be made, which
    /// [`DataConfig::validate`] refuses), so that model configs can be validated before the
    /// data is loaded.
    pub fn n_tasks(&self) -> usize {
        match self {
            DataConfig::Census { .. } => adatt_data::TASK_NAMES.len(),
            DataConfig::Simulator { .. } => self.sim_config().map(|c| c.tasks.len()).unwrap_or(0),
        }
    }
    /// Replace the protocol (the `PROTOCOL=` override; refused for simulated data by
    /// [`DataConfig::check_protocol_override`]).
    pub fn set_protocol(&mut self, p: Protocol) {
        if let DataConfig::Census { protocol, .. } = self {
            *protocol = p;
        }
    }
    /// A `--protocol` override only applies to Census data.
    pub fn check_protocol_override(&self, p: Option<Protocol>) -> Result<()> {
        match (self, p) {
            (DataConfig::Simulator { preset, .. }, Some(p)) => Err(SpecError::ConfigValue {
                key: "--protocol / ADATT_PROTOCOL".into(),
                message: format!(
                    "`{p}` is a Census preprocessing protocol; this config's data is the \
                     simulator preset `{preset}`"
                ),
            }),
            _ => Ok(()),
        }
    }
    /// The simulator's world: the preset with this config's `users`, `items` and `relations`
    /// in place of its own (none for Census data).
    pub fn sim_config(&self) -> Result<adatt_data::sim::SimConfig> {
        let DataConfig::Simulator { preset, .. } = self else {
            return Err(SpecError::ConfigValue {
                key: "data.source".into(),
                message: "Census data has no simulator world".into(),
            });
        };
        self.with_overrides(preset.config()?)
    }

    fn with_overrides(
        &self,
        mut sim: adatt_data::sim::SimConfig,
    ) -> Result<adatt_data::sim::SimConfig> {
        if let DataConfig::Simulator {
            users,
            items,
            relations,
            ..
        } = self
        {
            if let Some(u) = users {
                sim.users = *u;
            }
            if let Some(i) = items {
                sim.items = *i;
            }
            if let Some(r) = relations {
                if r.len() != sim.tasks.len() {
                    return Err(SpecError::ConfigValue {
                        key: "data.relations".into(),
                        message: format!(
                            "{} rows for the preset's {} tasks",
                            r.len(),
                            sim.tasks.len()
                        ),
                    });
                }
                sim.relations = r.clone();
            }
        }
        Ok(sim)
    }

    /// What can be checked without loading: the simulator's preset exists, its overrides give
    /// a valid world and its sizes are usable.
    pub fn validate(&self) -> Result<()> {
        let DataConfig::Simulator {
            preset,
            train_rows,
            valid_rows,
            test_rows,
            embedding_dim,
            ..
        } = self
        else {
            return Ok(());
        };
        let sim = preset.config().map_err(|e| SpecError::ConfigValue {
            key: "data.preset".into(),
            message: e.to_string(),
        })?;
        self.with_overrides(sim)?
            .validate(&format!(
                "preset {preset} with this config's [data] overrides"
            ))
            .map_err(|e| SpecError::ConfigValue {
                key: "data".into(),
                message: e.to_string(),
            })?;
        for (key, v) in [
            ("data.train_rows", train_rows),
            ("data.valid_rows", valid_rows),
            ("data.test_rows", test_rows),
            ("data.embedding_dim", embedding_dim),
        ] {
            if *v == 0 {
                return Err(SpecError::ConfigValue {
                    key: key.into(),
                    message: "must be at least 1".into(),
                });
            }
        }
        Ok(())
    }
}

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

/// Model-selection criterion for the best epoch.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Maximise the sum over tasks of validation AUC (the framework's `np.nansum`).
    #[default]
    SumValidAuc,
    /// Minimise the mean over tasks of validation NE.
    MeanValidNe,
}

/// How the first layer reads the input. Both compute the same function (outputs agree to 3e-8);
/// which is faster depends on the device and sizes (see docs/performance.md), so this is an
/// execution setting (`[run]`), not part of a run's identity.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum InputMode {
    /// `sparse` on the CPU, `dense` on CUDA (the faster of the two on each, docs/performance.md).
    #[default]
    Auto,
    /// Plain dense matmul over the full feature vector.
    Dense,
    /// Numeric part + the active one-hot rows: the hand-written kernels on the CPU
    /// (`adatt_models::kernels::sparse`), libtorch's embedding-bag on CUDA.
    Sparse,
}

/// Where to run.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    /// CPU.
    #[default]
    Cpu,
    /// The first CUDA device (error if none).
    Cuda,
    /// CUDA if available, else CPU.
    Auto,
}

impl std::str::FromStr for InputMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "auto" => Ok(InputMode::Auto),
            "dense" => Ok(InputMode::Dense),
            "sparse" => Ok(InputMode::Sparse),
            other => Err(format!(
                "unknown input path {other:?} (expected auto, dense or sparse)"
            )),
        }
    }
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda),
            "auto" => Ok(DeviceChoice::Auto),
            other => Err(format!(
                "unknown device {other:?} (expected cpu, cuda or auto)"
            )),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DeviceChoice::Cpu => "cpu",
            DeviceChoice::Cuda => "cuda",
            DeviceChoice::Auto => "auto",
        })
    }
}

/// Training hyperparameters (defaults: the framework's Census settings).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Mini-batch size (the last batch of an epoch is smaller, as PyTorch's DataLoader).
    pub batch_size: usize,
    /// Epochs.
    pub epochs: usize,
    /// Adam learning rate.
    pub lr: f64,
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

/// Seeds of a grid: a list or a range.
///
/// Serialized as before (untagged: a list, or a `{ start, count }` table), so saved
/// `config.toml` files stay byte-identical; deserialized by hand so that a bad value gets a
/// message saying what is wrong (toml adds the line and column).
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Seeds {
    /// Explicit list.
    List(Vec<u64>),
    /// `{ start = 0, count = 100 }`.
    Range {
        /// First seed.
        start: u64,
        /// How many.
        count: u64,
    },
}

impl Seeds {
    /// Expand. A range past `u64::MAX` (refused when parsed) stops there.
    pub fn to_vec(&self) -> Vec<u64> {
        match self {
            Seeds::List(v) => v.clone(),
            Seeds::Range { start, count } => (*start..start.saturating_add(*count)).collect(),
        }
    }
}

/// The most seeds a grid takes (each seed of each entry is a planned run and a record).
pub const MAX_SEEDS: u64 = 1_000_000;

const SEEDS_EXPECTED: &str =
    "a list of seeds like [0, 1, 5] or a range like { start = 0, count = 100 }";

impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(SeedsVisitor)
    }
}

struct SeedsVisitor;

impl<'de> Visitor<'de> for SeedsVisitor {
    type Value = Seeds;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(SEEDS_EXPECTED)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Seeds, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(s) = seq.next_element_seed(SEED)? {
            v.push(s);
        }
        Ok(Seeds::List(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Seeds, A::Error> {
        let (mut start, mut count) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            let (slot, kind) = match key.as_str() {
                "start" => (&mut start, RANGE_START),
                "count" => (&mut count, RANGE_COUNT),
                other => {
                    return Err(de::Error::custom(format!(
                        "unknown key `{other}` in the seeds range; \
                         expected {{ start = 0, count = 100 }}"
                    )))
                }
            };
            if slot.is_some() {
                return Err(de::Error::custom(format!(
                    "`{key}` is given twice in the seeds range"
                )));
            }
            *slot = Some(map.next_value_seed(kind)?);
        }
        let missing = |k: &str| {
            de::Error::custom(format!(
                "the seeds range needs `{k}`, like {{ start = 0, count = 100 }}"
            ))
        };
        let start = start.ok_or_else(|| missing("start"))?;
        let count = count.ok_or_else(|| missing("count"))?;
        if count == 0 {
            return Err(RANGE_COUNT.refuse(0));
        }
        if count > MAX_SEEDS {
            return Err(de::Error::custom(format!(
                "the seeds range counts {count} seeds; a grid takes at most {MAX_SEEDS}"
            )));
        }
        if start.checked_add(count).is_none() {
            return Err(de::Error::custom(format!(
                "the seeds range {{ start = {start}, count = {count} }} goes past the largest \
                 seed, {}",
                u64::MAX - 1
            )));
        }
        Ok(Seeds::Range { start, count })
    }
}

/// A seed-like integer (no sign, no fraction), with what it is for the messages.
#[derive(Clone, Copy)]
struct Natural {
    /// For serde's "invalid type: …, expected {what}".
    what: &'static str,
    /// For a number out of range: "{rule}, got {value}".
    rule: &'static str,
}

const SEED: Natural = Natural {
    what: "an integer >= 0 in the list of seeds",
    rule: "seeds must be integers >= 0",
};
const RANGE_START: Natural = Natural {
    what: "an integer >= 0 for `start` of the seeds range",
    rule: "the seeds range's `start` must be an integer >= 0",
};
const RANGE_COUNT: Natural = Natural {
    what: "an integer >= 1 for `count` of the seeds range",
    rule: "the seeds range's `count` must be an integer >= 1",
};

impl Natural {
    fn refuse<E: de::Error>(&self, got: impl fmt::Display) -> E {
        E::custom(format!("{}, got {got}", self.rule))
    }
}

impl<'de> DeserializeSeed<'de> for Natural {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Natural {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.what)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<u64, E> {
        u64::try_from(v).map_err(|_| self.refuse(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<u64, E> {
        Err(self.refuse(v))
    }
}

/// The most intra-op threads a config or an override may ask for: 4 × the cores of this machine.
pub fn max_threads() -> (usize, usize) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    (cores.saturating_mul(4), cores)
}

/// Refuse a thread count above [`max_threads`] (0 = all cores is fine); `key` names where the
/// value came from in the message (`run.threads`, `--threads`, `THREADS`).
pub fn check_threads(n: usize, key: &str) -> Result<()> {
    let (cap, cores) = max_threads();
    if n > cap {
        return Err(SpecError::ConfigValue {
            key: key.into(),
            message: format!(
                "must be at most {cap} (4 x the {cores} cores of this machine), got {n}; \
                 0 means all cores"
            ),
        });
    }
    Ok(())
}

/// Refuse an `output_dir` of a config file that would write outside the project: an absolute
/// path, or one with a `..` component (`key` names the field). An explicit `--out` on the command
/// line is the way to write elsewhere; binaries do not pass it through here.
pub fn check_output_dir(dir: &Path, key: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(SpecError::ConfigValue {
            key: key.into(),
            message: format!(
                "{why}, got {:?}; a config may only write inside the project (like \
                 \"results/x\"); pass --out to write elsewhere",
                dir.display().to_string()
            ),
        })
    };
    if dir.as_os_str().is_empty() {
        return bad("must not be empty");
    }
    if dir.has_root()
        || dir.is_absolute()
        || matches!(dir.components().next(), Some(Component::Prefix(_)))
    {
        return bad("must be a relative path");
    }
    if dir.components().any(|c| c == Component::ParentDir) {
        return bad("must not contain `..`");
    }
    Ok(())
}

/// Why `name` is not a plain file name (one path component, no control characters), if it is not.
fn plain_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name == "." || name == ".." {
        Some("`.` and `..` are not names")
    } else if name.contains('/') || name.contains('\\') {
        Some("it contains a path separator (`/` or `\\`)")
    } else if name.chars().any(char::is_control) {
        Some("it contains a control character")
    } else {
        None
    }
}

/// How runs are executed. Nothing here is part of a run's identity (record key): these settings
/// change results at most at float-rounding level (replica batching, thread count, input path).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Seeds (each model entry × each seed = one run).
    pub seeds: Seeds,
    /// Seeds trained together as replicas of one batched model; 0 = auto: 1 on the CPU (where
    /// each replica's weights then stay in L2, the fastest there: docs/performance.md), 100 on
    /// CUDA (large batched matmuls fill the device).
    #[serde(default)]
    pub replicas: usize,
    /// Device.
    #[serde(default)]
    pub device: DeviceChoice,
    /// Intra-op threads (0 = number of cores).
    #[serde(default)]
    pub threads: usize,
    /// First-layer input path.
    #[serde(default)]
    pub input: InputMode,
    /// Rows per evaluation chunk; 0 = auto: 1024 on the CPU (activations stay in L2: 0.30 s
    /// against 0.39 s with 8192 per validation pass of AdaTT-sp (6), docs/performance.md),
    /// 4096 on CUDA (with R = 100 replicas one level-0 activation is then 1.3 GB).
    #[serde(default)]
    pub eval_batch: usize,
}

impl RunConfig {
    /// Check the seeds (at least one, none twice) and the thread count; the error names the key.
    pub fn validate(&self) -> Result<()> {
        let seeds = self.seeds.to_vec();
        if seeds.is_empty() {
            return Err(SpecError::ConfigValue {
                key: "run.seeds".into(),
                message: "no seeds".into(),
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(s) = seeds.iter().find(|s| !seen.insert(**s)) {
            return Err(SpecError::ConfigValue {
                key: "run.seeds".into(),
                message: format!("seed {s} is listed twice"),
            });
        }
        check_threads(self.threads, "run.threads")
    }
}

/// Paper values for one entry, by task name.
pub type PaperValues = std::collections::BTreeMap<String, f64>;

/// One model configuration of the grid.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Display name, unique in the experiment (e.g. "AdaTT").
    pub name: String,
    /// Setting label for grouping in tables (e.g. "6 experts").
    #[serde(default)]
    pub setting: String,
    /// The model.
    pub model: ModelConfig,
    /// The paper's values (test AUC per task name), when the paper reports this cell.
    #[serde(default)]
    pub paper: Option<PaperValues>,
    /// Where the entry sits on a sweep, for entries a `[[sweeps]]` made ([`crate::sweep`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<crate::sweep::SweepPoint>,
}

/// A whole experiment.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Experiment name; records go to `results/<name>/<protocol>/` unless `output_dir` says
    /// otherwise.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Output directory.
    #[serde(default)]
    pub output_dir: Option<PathBuf>,
    /// Data.
    pub data: DataConfig,
    /// Training hyperparameters.
    pub train: TrainConfig,
    /// Execution.
    pub run: RunConfig,
    /// Model entries (those of `sweeps` appended when the config is loaded).
    #[serde(default)]
    pub entries: Vec<Entry>,
    /// Sweeps of one model axis, expanded into `entries` when the config is loaded (so a saved
    /// config lists their entries, with their sweep points, and no sweeps).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sweeps: Vec<crate::sweep::Sweep>,
    /// What the analysis step compares.
    #[serde(default)]
    pub analysis: AnalysisSpec,
}

/// A paired comparison `a` vs `b` (entry names): per-seed differences a − b over the seeds both
/// finished, paired t-test.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// Entry name.
    pub a: String,
    /// Entry name.
    pub b: String,
}

/// Analysis settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSpec {
    /// Paired comparisons to report with p-values.
    #[serde(default)]
    pub comparisons: Vec<Comparison>,
    /// Entry name of the single-task baseline per setting (setting -> entry), for "MTL gain".
    #[serde(default)]
    pub baselines: std::collections::BTreeMap<String, String>,
    /// Entry name of the reference row: every other entry's test NE is reported relative to it,
    /// in % per seed (the paper's "NE diff"), with a 95% CI and a paired p-value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Values from elsewhere drawn beside a sweep's NE differences (e.g. the paper's, on its
    /// own data), each a labelled list of `[x, NE diff %]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paper_series: Vec<PaperSeries>,
    /// The figures to draw (default: all; each is drawn only where its data exist).
    #[serde(default = "Figure::all", skip_serializing_if = "Figure::are_all")]
    pub figures: Vec<Figure>,
    /// Claims of the paper checked against the NE differences, each with a verdict at the end
    /// of `table.md`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
}

impl Default for AnalysisSpec {
    fn default() -> Self {
        AnalysisSpec {
            comparisons: Vec::new(),
            baselines: Default::default(),
            reference: None,
            paper_series: Vec::new(),
            figures: Figure::all(),
            claims: Vec::new(),
        }
    }
}

/// A figure the analysis can draw (PNG + SVG each).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// `auc_distributions`: per task, every seed's test AUC per entry, the mean, the paper.
    AucDistributions,
    /// `training_curves`: per task, the mean validation AUC per epoch.
    TrainingCurves,
    /// `sweep_<k>_auc`, `sweep_<k>_ne_diff`: per task, against a sweep's axis.
    Sweep,
    /// `expert_weights_<k>`: fused expert-weight heatmaps (`train.record_expert_weights`).
    ExpertWeights,
}

impl Figure {
    /// Every figure.
    pub fn all() -> Vec<Figure> {
        vec![
            Figure::AucDistributions,
            Figure::TrainingCurves,
            Figure::Sweep,
            Figure::ExpertWeights,
        ]
    }
    fn are_all(v: &[Figure]) -> bool {
        v == Figure::all().as_slice()
    }
}

/// The direction of a difference in test NE (lower NE is better).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NeDirection {
    /// NE below the reference's: better.
    Lower,
    /// NE above the reference's: worse.
    Higher,
}

/// A claim of the paper, stated as the direction of NE differences, and checked on ours: each
/// (row, task) NE difference is tested against 0 (paired t-test over seeds), the p-values of a
/// claim are Holm-adjusted together, and a difference *replicates* the claim when its adjusted
/// p is below `alpha` with the paper's sign, *contradicts* it with the other sign, and leaves it
/// *not resolved* otherwise.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The claim, e.g. "Removing NativeExpertLF hurts".
    pub claim: String,
    /// What the paper measured (e.g. "Table 6, industrial data: +0.107 % to +0.222 %").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub paper: String,
    /// The direction the paper found for the NE differences of `rows`.
    pub expect: NeDirection,
    /// The NE differences the claim covers, each `[entry, reference entry]` (default: every
    /// entry against `analysis.reference`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<(String, String)>,
    /// Family-wise significance level (Holm) of the claim's differences.
    #[serde(default = "Claim::default_alpha")]
    pub alpha: f64,
}

impl Claim {
    fn default_alpha() -> f64 {
        0.05
    }

    /// The `[entry, reference]` pairs the claim covers in `cfg`.
    pub fn pairs<'a>(&'a self, cfg: &'a ExperimentConfig) -> Vec<(&'a str, &'a str)> {
        if !self.rows.is_empty() {
            return self
                .rows
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
        }
        match &cfg.analysis.reference {
            Some(r) => cfg
                .entries
                .iter()
                .filter(|e| &e.name != r)
                .map(|e| (e.name.as_str(), r.as_str()))
                .collect(),
            None => Vec::new(),
        }
    }
}

/// A labelled series of `(x, value)` points from elsewhere (see [`AnalysisSpec::paper_series`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PaperSeries {
    /// Legend label, saying where the values come from.
    pub label: String,
    /// `[x, value]` pairs.
    pub points: Vec<(f64, f64)>,
}

impl ExperimentConfig {
    /// Parse TOML text (the path is used in messages). Also refuses an `output_dir` outside the
    /// project ([`check_output_dir`]): that is a rule for what a file may say, checked here and
    /// not in [`ExperimentConfig::validate`], because an explicit `--out` replaces the field
    /// before validation and may point anywhere.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self> {
        let mut cfg: Self =
            toml::from_str(text).map_err(|e| SpecError::config_parse(path, text, &e))?;
        if let Some(dir) = &cfg.output_dir {
            check_output_dir(dir, "output_dir").map_err(|e| match e {
                SpecError::ConfigValue { key, message } => SpecError::ConfigValue {
                    key,
                    message: format!("{message} (in {})", path.display()),
                },
                other => other,
            })?;
        }
        for sweep in std::mem::take(&mut cfg.sweeps) {
            cfg.entries.extend(sweep.entries()?);
        }
        Ok(cfg)
    }
    /// What simulated data and the training settings say together: `train.max_train_rows`
    /// acts on Census tables only (a stream's length is `data.train_rows`); the checkpoints
    /// fall on distinct steps of the stream ([`crate::schedule::Schedule`]); the validation
    /// and test sets can be expected to hold both classes of every binary task.
    fn validate_simulated_train(&self) -> Result<()> {
        let DataConfig::Simulator {
            train_rows,
            valid_rows,
            test_rows,
            ..
        } = &self.data
        else {
            return Ok(());
        };
        if self.train.max_train_rows > 0 {
            return Err(SpecError::ConfigValue {
                key: "train.max_train_rows".into(),
                message: format!(
                    "acts on Census tables only; simulated data trains on the first \
                     `data.train_rows` examples of its stream (here {train_rows})"
                ),
            });
        }
        crate::schedule::Schedule::new(*train_rows, &self.train)?;
        let sim = self.data.sim_config()?;
        for (key, rows) in [
            ("data.valid_rows", *valid_rows),
            ("data.test_rows", *test_rows),
        ] {
            for task in &sim.tasks {
                let Some(p) = task.positive_rate else {
                    continue;
                };
                let (rarer, class) = if p < 0.5 {
                    (p, "positives")
                } else {
                    (1.0 - p, "negatives")
                };
                if (rows as f64) * rarer < 1.0 {
                    return Err(SpecError::ConfigValue {
                        key: key.into(),
                        message: format!(
                            "{rows} rows hold {:.2} expected {class} of task `{}` (rate {p}): \
                             too few for its AUC and NE; give at least {} rows (10 expected)",
                            rows as f64 * rarer,
                            task.name,
                            (10.0 / rarer).ceil()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Read and parse a TOML file (not validated; call [`ExperimentConfig::validate`]).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::ConfigIo {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text, path)
    }
    /// Validate everything that can be checked without data.
    pub fn validate(&self, n_tasks: usize) -> Result<()> {
        self.data.validate()?;
        self.validate_simulated_train()?;
        if let Some(why) = plain_name_problem(&self.name) {
            return Err(SpecError::ConfigValue {
                key: "name".into(),
                message: format!(
                    "must be a plain directory name (records go to results/<name>/), got {:?}: \
                     {why}",
                    self.name
                ),
            });
        }
        self.train.validate(n_tasks)?;
        self.run.validate()?;
        let names = self.validate_entries(n_tasks)?;
        self.analysis.validate(&names)?;
        if self.train.record_expert_weights {
            if let Some(e) = self.entries.iter().find(|e| !e.model.is_adatt()) {
                return Err(SpecError::ConfigValue {
                    key: "train.record_expert_weights".into(),
                    message: format!(
                        "fused expert weights exist only for AdaTT and AdaTT-sp, not entry `{}` ({})",
                        e.name,
                        e.model.label()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The entries: at least one, each with a plain unique label and a valid model for
    /// `n_tasks` tasks, no two with the same model. Returns their names.
    fn validate_entries(&self, n_tasks: usize) -> Result<std::collections::BTreeSet<&str>> {
        if self.entries.is_empty() {
            return Err(SpecError::ConfigValue {
                key: "entries".into(),
                message: "no model entries".into(),
            });
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, e) in self.entries.iter().enumerate() {
            if e.name.trim().is_empty() || e.name.chars().any(char::is_control) {
                return Err(SpecError::ConfigValue {
                    key: "entries.name".into(),
                    message: format!(
                        "must be a non-empty label without control characters, got {:?} \
                         (entry {} of {})",
                        e.name,
                        i + 1,
                        self.entries.len()
                    ),
                });
            }
            if !names.insert(e.name.as_str()) {
                return Err(SpecError::ConfigValue {
                    key: "entries.name".into(),
                    message: format!("duplicate entry name `{}`", e.name),
                });
            }
            e.model
                .validate(n_tasks)
                .map_err(|source| SpecError::Model {
                    entry: e.name.clone(),
                    source,
                })?;
        }
        // A run's record key is its config hash and seed, without the entry name: two entries
        // with the same model would share their records.
        for (i, a) in self.entries.iter().enumerate() {
            if let Some(b) = self.entries[..i].iter().find(|b| b.model == a.model) {
                return Err(SpecError::ConfigValue {
                    key: "entries.model".into(),
                    message: format!(
                        "entries `{}` and `{}` have the same model; they would be the same runs",
                        b.name, a.name
                    ),
                });
            }
        }
        Ok(names)
    }
}

impl AnalysisSpec {
    /// The comparisons, baselines, reference and claims name entries of `names`; each claim
    /// has rows (or a reference to compare with) and an alpha in (0, 1).
    fn validate(&self, names: &std::collections::BTreeSet<&str>) -> Result<()> {
        let known = |n: &str, key: &str| {
            if names.contains(n) {
                Ok(())
            } else {
                Err(SpecError::ConfigValue {
                    key: key.into(),
                    message: format!("unknown entry `{n}`"),
                })
            }
        };
        for c in &self.comparisons {
            known(&c.a, "analysis.comparisons.a")?;
            known(&c.b, "analysis.comparisons.b")?;
        }
        for b in self.baselines.values() {
            known(b, "analysis.baselines")?;
        }
        if let Some(r) = &self.reference {
            known(r, "analysis.reference")?;
        }
        for c in &self.claims {
            for (a, b) in &c.rows {
                known(a, "analysis.claims.rows")?;
                known(b, "analysis.claims.rows")?;
            }
            let bad = |message: String| {
                Err(SpecError::ConfigValue {
                    key: "analysis.claims".into(),
                    message,
                })
            };
            if c.rows.is_empty() && self.reference.is_none() {
                return bad(format!(
                    "claim `{}` lists no rows and there is no analysis.reference to compare with",
                    c.claim
                ));
            }
            if !(c.alpha > 0.0 && c.alpha < 1.0) {
                return bad(format!(
                    "claim `{}`: alpha must be in (0, 1), got {}",
                    c.claim, c.alpha
                ));
            }
        }
        Ok(())
    }
}

impl ExperimentConfig {
    /// Where results go ([`results_dir`], one folder per protocol).
    pub fn output_dir(&self) -> PathBuf {
        results_dir(
            self.output_dir.as_deref(),
            &self.name,
            &self.data,
            ResultsLayout::PerProtocol,
        )
    }
}

/// Where a config's results go when it names no `output_dir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultsLayout {
    /// `results/<name>/<protocol>/` (every grid; a simulated grid's "protocol" is its preset).
    PerProtocol,
    /// `results/<name>/` for the `paper` protocol and `results/<name>/<protocol>/` for any other
    /// (the Table 5 study, whose paper-protocol results came first).
    PaperAtTop,
}

/// The one rule for where results go: `output_dir` when the config gives one, else under
/// `results/<name>/` as `layout` says.
pub fn results_dir(
    output_dir: Option<&Path>,
    name: &str,
    data: &DataConfig,
    layout: ResultsLayout,
) -> PathBuf {
    if let Some(dir) = output_dir {
        return dir.to_owned();
    }
    let base = PathBuf::from("results").join(name);
    match (layout, data.protocol()) {
        (ResultsLayout::PaperAtTop, Some(Protocol::Paper)) => base,
        _ => base.join(data.label()),
    }
}
