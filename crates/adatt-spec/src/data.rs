//! `[data]`: where the rows come from (the Census tables or a simulated task group), its tasks,
//! and what of it is part of a run's identity.

use std::path::PathBuf;

use adatt_data::{CensusConfig, Protocol};
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
    PathBuf::from(adatt_data::DEFAULT_DATA_DIR)
}

fn default_split_seed() -> u32 {
    adatt_data::PAPER_SPLIT_SEED
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
    /// Replace the protocol (a protocol override; refused for simulated data by
    /// [`DataConfig::check_protocol_override`]).
    pub fn set_protocol(&mut self, p: Protocol) {
        if let DataConfig::Census { protocol, .. } = self {
            *protocol = p;
        }
    }
    /// A protocol override (named `name` in the error, as the user gave it) only applies to
    /// Census data.
    pub fn check_protocol_override(&self, p: Option<Protocol>, name: &str) -> Result<()> {
        match (self, p) {
            (DataConfig::Simulator { preset, .. }, Some(p)) => Err(SpecError::ConfigValue {
                key: name.into(),
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
