//! `configs/bench.toml`: what `make bench` times, read and checked before anything runs.

use std::path::Path;

use adatt_models::ModelConfig;
use adatt_spec::{InputMode, TrainConfig};

use crate::{peer, sim, BenchError, Result};

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
    /// Input paths.
    pub inputs: Vec<InputMode>,
    /// Process counts to measure on the CPU (0 = one per core).
    #[serde(default = "one_job")]
    pub jobs: Vec<usize>,
    /// Architectures.
    pub models: Vec<BenchModel>,
    /// Generation against training on a simulated task group.
    pub simulator: Option<sim::SimBench>,
    /// Whole runs against a PyTorch peer.
    pub peer: Option<peer::PeerBench>,
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
            pb.validate(path, &cfg.models)?;
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
