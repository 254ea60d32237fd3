//! `source = "simulator"`: a simulated task group (`adatt_data::sim`, docs/simulator.md) whose
//! ids models read through embedding tables. One pass over `train_rows` examples is
//! `epochs = 1`.

use adatt_data::sim::presets::Preset;
use adatt_data::sim::{SimConfig, TaskRole};
use adatt_data::Protocol;
use serde::{Deserialize, Serialize};

use super::{DataConfig, DataSpec, DataTask};
use crate::error::{Result, SpecError};
use crate::train::TrainConfig;

/// A simulated task group.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimulatorData {
    /// The preset (`configs/sim/`): group1, group2, group3 or fig3.
    pub preset: Preset,
    /// The world seed (latents, task directions, calibration); the same for every run, so
    /// that seeds differ only in the models' init (every run reads the training stream in
    /// the same order).
    #[serde(default = "default_world_seed")]
    pub world_seed: u64,
    /// Training examples (the first of the training stream).
    pub train_rows: usize,
    /// Validation examples.
    pub valid_rows: usize,
    /// Test examples.
    pub test_rows: usize,
    /// Embedding dimension of every id feature.
    pub embedding_dim: usize,
    /// The world's number of users, replacing the preset's (same rates and relations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<usize>,
    /// The world's number of items, replacing the preset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<usize>,
    /// The T×T cosines between the task directions, replacing the preset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relations: Option<Vec<Vec<f64>>>,
}

fn default_world_seed() -> u64 {
    1
}

impl SimulatorData {
    /// The simulator's world: the preset with this config's `users`, `items` and `relations`
    /// in place of its own.
    pub fn world(&self) -> Result<SimConfig> {
        let mut sim = self.preset.config()?;
        if let Some(u) = self.users {
            sim.users = u;
        }
        if let Some(i) = self.items {
            sim.items = i;
        }
        if let Some(r) = &self.relations {
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
        Ok(sim)
    }
}

impl DataSpec for SimulatorData {
    /// The world's tasks (empty for a world that cannot be made, which `validate` refuses).
    fn tasks(&self) -> Vec<DataTask> {
        self.world()
            .map(|c| {
                c.tasks
                    .iter()
                    .map(|t| DataTask {
                        name: t.name.clone(),
                        kind: t.kind,
                        reported: t.role == TaskRole::Reported,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The preset.
    fn label(&self) -> String {
        self.preset.name().to_owned()
    }

    /// All of it.
    fn identity(&self) -> DataConfig {
        DataConfig::Simulator(self.clone())
    }

    fn protocol(&self) -> Option<Protocol> {
        None
    }

    fn set_protocol(&mut self, _p: Protocol) -> bool {
        false
    }

    /// The preset exists, the overrides give a valid world and the sizes are usable.
    fn validate(&self) -> Result<()> {
        let preset = self.preset;
        preset.config().map_err(|e| SpecError::ConfigValue {
            key: "data.preset".into(),
            message: e.to_string(),
        })?;
        self.world()?
            .validate(&format!(
                "preset {preset} with this config's [data] overrides"
            ))
            .map_err(|e| SpecError::ConfigValue {
                key: "data".into(),
                message: e.to_string(),
            })?;
        for (key, v) in [
            ("data.train_rows", self.train_rows),
            ("data.valid_rows", self.valid_rows),
            ("data.test_rows", self.test_rows),
            ("data.embedding_dim", self.embedding_dim),
        ] {
            if v == 0 {
                return Err(SpecError::ConfigValue {
                    key: key.into(),
                    message: "must be at least 1".into(),
                });
            }
        }
        Ok(())
    }

    /// `train.max_train_rows` acts on Census tables only (a stream's length is
    /// `data.train_rows`); the checkpoints fall on distinct steps of the stream
    /// ([`crate::schedule::Schedule`]); the validation and test sets can be expected to hold
    /// both classes of every binary task.
    fn validate_train(&self, train: &TrainConfig) -> Result<()> {
        if train.max_train_rows > 0 {
            return Err(SpecError::ConfigValue {
                key: "train.max_train_rows".into(),
                message: format!(
                    "acts on Census tables only; simulated data trains on the first \
                     `data.train_rows` examples of its stream (here {})",
                    self.train_rows
                ),
            });
        }
        crate::schedule::Schedule::new(self.train_rows, train)?;
        let sim = self.world()?;
        for (key, rows) in [
            ("data.valid_rows", self.valid_rows),
            ("data.test_rows", self.test_rows),
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
}
