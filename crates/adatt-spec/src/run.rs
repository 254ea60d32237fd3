//! `[run]`: how runs are executed (seeds, replicas, device, threads, input path, evaluation
//! chunks). Nothing here is part of a run's identity.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SpecError};

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

/// Which weights a grid saves beside its records (`weights/<record key>.safetensors`, official
/// names), for `adatt predict` and `adatt export`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SavedWeights {
    /// None.
    None,
    /// Each finished run's weights at its best epoch (those its test metrics come from).
    Best,
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
    /// Which weights to save; default `best` for a user's table (`[data] source = "table"`),
    /// `none` for the paper's data (`ExperimentConfig::saved_weights`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<SavedWeights>,
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
