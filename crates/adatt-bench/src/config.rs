//! `configs/bench.toml`: what `make bench` times, read and checked before anything runs. Every
//! section's schema and checks are here ([`BenchConfig`], [`PeerBench`], [`SimBench`]); the
//! modules that measure read them.

use std::path::Path;

use adatt_data::sim::presets::Preset;
use adatt_data::{CensusConfig, Protocol};
use adatt_models::ModelConfig;
use adatt_spec::{InputMode, TrainConfig};

use crate::{BenchError, Result};

/// `configs/bench.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchConfig {
    /// Replica counts R.
    pub replicas: Vec<usize>,
    /// Timed steps per (architecture, R).
    pub steps: usize,
    /// Untimed steps first.
    pub warmup_steps: usize,
    /// The step's settings (batch size, Adam); epochs and the rest are not used.
    pub train: TrainConfig,
    /// The Census rows every Census measurement trains on, the peer's included (`[census]`:
    /// `data_dir`, `protocol`, `split_seed`; a key left out takes `adatt_data`'s default).
    pub census: CensusConfig,
    /// Input paths.
    pub inputs: Vec<InputMode>,
    /// Process counts to measure on the CPU (0 = one per core).
    #[serde(default = "one_job")]
    pub jobs: Vec<usize>,
    /// Architectures.
    pub models: Vec<BenchModel>,
    /// Generation against training on a simulated task group.
    pub simulator: Option<SimBench>,
    /// Whole runs against a PyTorch peer.
    pub peer: Option<PeerBench>,
}

fn one_job() -> Vec<usize> {
    vec![1]
}

/// One architecture to time.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchModel {
    /// Row label.
    pub name: String,
    /// The architecture.
    pub model: ModelConfig,
}

/// `[peer]` of `configs/bench.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerBench {
    /// Epochs of every run (the denormal slow-down of the released code appears late).
    pub epochs: usize,
    /// Names of `[[models]]` entries to run.
    pub models: Vec<String>,
    /// Processes at once (0 = one per core); the cores' threads are divided among them.
    pub jobs: Vec<usize>,
    /// Training rows (0 = all).
    #[serde(default)]
    pub max_rows: usize,
    /// Seed of every run.
    #[serde(default)]
    pub seed: u64,
}

impl PeerBench {
    /// Every model named is one of `models`, and the Census rows are of the `paper` protocol,
    /// the one the peer (`scripts/bench/peer.py`) preprocesses; `path` is the config's file.
    pub fn validate(
        &self,
        path: &Path,
        models: &[BenchModel],
        census: &CensusConfig,
    ) -> Result<()> {
        for name in &self.models {
            if !models.iter().any(|m| &m.name == name) {
                return Err(invalid(
                    path,
                    "peer.models",
                    format!("`{name}` is not the name of a [[models]] entry"),
                ));
            }
        }
        if self.epochs == 0 {
            return Err(invalid(path, "peer.epochs", "must be at least 1".into()));
        }
        if census.protocol != Protocol::Paper {
            return Err(invalid(
                path,
                "census.protocol",
                format!(
                    "the [peer] section compares runs on the `paper` protocol only (the peer, \
                     scripts/bench/peer.py, preprocesses no other), got `{}`",
                    census.protocol
                ),
            ));
        }
        Ok(())
    }
}

/// `[simulator]` of `configs/bench.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimBench {
    /// The preset (the largest is group3).
    pub preset: Preset,
    /// Its world seed.
    #[serde(default = "one")]
    pub world_seed: u64,
    /// Embedding dimension of every id feature.
    pub embedding_dim: usize,
    /// Rows generated in the timed call.
    pub rows: usize,
    /// Timed training steps per model (after the bench's warm-up steps).
    pub steps: usize,
    /// Models trained on the preset.
    pub models: Vec<BenchModel>,
    /// Whole one-pass runs against a PyTorch peer with `nn.Embedding` (`[simulator.peer]`).
    #[serde(default)]
    pub peer: Option<SimPeer>,
}

/// `[simulator.peer]`: whole one-pass runs of one model on the preset's stream, ours and a
/// plain PyTorch loop (`scripts/bench/peer_sim.py`) on the same rows, back to back.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimPeer {
    /// The `[[simulator.models]]` entry.
    pub model: String,
    /// Training rows (one pass, in stream order).
    pub train_rows: usize,
    /// Validation rows, and as many test rows.
    pub eval_rows: usize,
    /// Adam's learning rate (constant; `[train]`'s batch size and weight decay).
    pub lr: f64,
    /// Processes at once (0 = one per core); the cores' threads are divided among them.
    pub jobs: Vec<usize>,
    /// Seed of every run.
    #[serde(default)]
    pub seed: u64,
}

fn one() -> u64 {
    1
}

impl SimBench {
    /// The preset exists and every model is valid for its tasks; `path` is the config's file.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let t = self
            .preset
            .config()
            .map_err(|e| invalid(path, "simulator.preset", e.to_string()))?
            .tasks
            .len();
        for m in &self.models {
            m.model
                .validate(t)
                .map_err(|e| invalid(path, "simulator.models", format!("{}: {e}", m.name)))?;
        }
        if let Some(p) = &self.peer {
            if !self.models.iter().any(|m| m.name == p.model) {
                return Err(invalid(
                    path,
                    "simulator.peer.model",
                    format!("`{}` is not a [[simulator.models]] name", p.model),
                ));
            }
            if p.train_rows == 0 || p.eval_rows == 0 {
                return Err(invalid(
                    path,
                    "simulator.peer",
                    "train_rows and eval_rows must be at least 1".into(),
                ));
            }
        }
        Ok(())
    }
}

impl BenchConfig {
    /// Reads `path` and checks its `[simulator]` and `[peer]` sections.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
            path: path.to_owned(),
            source,
        })?;
        let cfg: BenchConfig = toml::from_str(&text).map_err(|e| BenchError::Toml {
            path: path.to_owned(),
            message: adatt_spec::toml_message(&text, &e),
        })?;
        if let Some(sb) = &cfg.simulator {
            sb.validate(path)?;
        }
        if let Some(pb) = &cfg.peer {
            pb.validate(path, &cfg.models, &cfg.census)?;
        }
        Ok(cfg)
    }
}

/// A value of `path` out of range: the error naming the file and the dotted key.
pub(crate) fn invalid(path: &Path, key: &str, message: String) -> BenchError {
    BenchError::Config {
        path: path.to_owned(),
        key: key.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/bench.toml")
    }

    /// The shipped `configs/bench.toml` loads (its `[simulator]` and `[peer]` checked), and
    /// every model in it is a valid 3-task model.
    #[test]
    fn shipped_bench_config_loads() {
        let cfg = BenchConfig::load(&shipped()).unwrap();
        assert!(!cfg.replicas.is_empty() && cfg.replicas.iter().all(|&r| r > 0));
        assert!(cfg.steps > 0 && cfg.train.batch_size > 0 && !cfg.inputs.is_empty());
        assert!(!cfg.models.is_empty());
        for m in &cfg.models {
            m.model
                .validate(3)
                .unwrap_or_else(|e| panic!("bench model {}: {e}", m.name));
        }
        assert!(
            cfg.simulator.is_some(),
            "the shipped bench has a simulator section"
        );
        assert!(cfg.peer.is_some(), "the shipped bench has a peer section");
        assert_eq!(
            cfg.census,
            CensusConfig {
                data_dir: "data/census-income".into(),
                protocol: Protocol::Paper,
                split_seed: 1,
            },
            "the Census rows of the bench as recorded in results/bench"
        );
    }

    /// The device check's bench config (configs/device-check/bench.toml) loads and measures
    /// on the same Census rows as the shipped one.
    #[test]
    fn device_check_bench_config_loads_with_the_same_census_rows() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/device-check/bench.toml");
        let cfg = BenchConfig::load(&path).unwrap();
        assert_eq!(cfg.census, BenchConfig::load(&shipped()).unwrap().census);
    }

    /// A bad value is one line naming the file, the place and the dotted key.
    #[test]
    fn a_bad_config_names_its_file_and_key() {
        let text = std::fs::read_to_string(shipped()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "steps = 40 ",
                "steps = \"x\"",
                "line 3, column 9, `steps`: invalid type",
            ),
            (
                "epochs = 10 ",
                "epochs = 0",
                "`peer.epochs`: must be at least 1",
            ),
            ("preset = ", "preset = \"nope\"", "`simulator.preset`: "),
            (
                "protocol = ",
                "protocol = \"raw\"",
                "`census.protocol`: unknown variant `raw`",
            ),
            (
                "split_seed = ",
                "split_seed = -1",
                "`census.split_seed`: invalid value",
            ),
            (
                "protocol = ",
                "protocol = \"clean\"",
                "`census.protocol`: the [peer] section compares runs on the `paper` protocol only",
            ),
            (
                "model = \"AdaTT (2/task",
                "model = \"AdaTT\"",
                "`simulator.peer.model`: `AdaTT` is not a [[simulator.models]] name",
            ),
            (
                "train_rows = 200000",
                "train_rows = 0",
                "`simulator.peer`: train_rows and eval_rows must be at least 1",
            ),
        ];
        for (start, replacement, want) in cases {
            let bad: String = text
                .lines()
                .map(|l| if l.starts_with(start) { replacement } else { l })
                .collect::<Vec<_>>()
                .join("\n");
            let path = dir.path().join("bad.toml");
            std::fs::write(&path, bad).unwrap();
            let e = BenchConfig::load(&path)
                .err()
                .expect("a bad config")
                .to_string();
            assert!(e.contains(&*path.to_string_lossy()), "{e}");
            assert!(e.contains(want), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
