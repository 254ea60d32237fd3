//! `configs/bench.toml`: what `make bench` times, read and checked before anything runs.

use std::path::Path;

use adatt_models::ModelConfig;
use adatt_train::{InputMode, TrainConfig};
use anyhow::{Context, Result};

use crate::{peer, sim};

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
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let cfg: BenchConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if let Some(sb) = &cfg.simulator {
            sb.validate()
                .with_context(|| format!("{}: [simulator]", path.display()))?;
        }
        if let Some(pb) = &cfg.peer {
            pb.validate(&cfg.models)
                .with_context(|| format!("{}: [peer]", path.display()))?;
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped `configs/bench.toml` parses with this binary's schema, and every model in it
    /// is a valid 3-task model.
    #[test]
    fn shipped_bench_config_parses() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/bench.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let cfg: BenchConfig = toml::from_str(&text).unwrap();
        assert!(!cfg.replicas.is_empty() && cfg.replicas.iter().all(|&r| r > 0));
        assert!(cfg.steps > 0 && cfg.train.batch_size > 0 && !cfg.inputs.is_empty());
        assert!(!cfg.models.is_empty());
        for m in &cfg.models {
            m.model
                .validate(3)
                .unwrap_or_else(|e| panic!("bench model {}: {e}", m.name));
        }
        cfg.simulator
            .as_ref()
            .expect("the shipped bench has a simulator section")
            .validate()
            .unwrap();
        cfg.peer
            .as_ref()
            .expect("the shipped bench has a peer section")
            .validate(&cfg.models)
            .unwrap();
    }
}
