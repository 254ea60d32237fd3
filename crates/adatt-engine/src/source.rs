//! The data a grid trains on: the Census tables, or a simulated task group
//! (`adatt_data::sim`) whose validation and test sets, and the first `train_rows` examples of its
//! training stream, are generated once per invocation.

use adatt_data::sim::{SimConfig, SimStream, Simulator};

use adatt_data::Dataset;
use adatt_spec::metrics::TaskMetrics;

use crate::error::Result;
use adatt_spec::config::DataConfig;

/// A simulated task group ready to generate rows.
pub struct SimData {
    /// The world.
    pub sim: Simulator,
    /// Training rows (the first of the training stream).
    pub train_rows: usize,
    /// Validation rows.
    pub valid_rows: usize,
    /// Test rows.
    pub test_rows: usize,
    /// Embedding dimension of every id feature.
    pub embedding_dim: usize,
}

/// Data loaded for training.
pub enum LoadedData {
    /// Census-Income tables.
    Census(Dataset),
    /// A simulated task group.
    Simulated(SimData),
}

/// A borrowed [`LoadedData`] (what `run_grid` takes; a `&Dataset` converts into one).
#[derive(Clone, Copy)]
pub enum DataRef<'a> {
    /// Census-Income tables.
    Census(&'a Dataset),
    /// A simulated task group.
    Simulated(&'a SimData),
}

impl<'a> From<&'a Dataset> for DataRef<'a> {
    fn from(d: &'a Dataset) -> Self {
        DataRef::Census(d)
    }
}

impl<'a> From<&'a LoadedData> for DataRef<'a> {
    fn from(d: &'a LoadedData) -> Self {
        match d {
            LoadedData::Census(d) => DataRef::Census(d),
            LoadedData::Simulated(s) => DataRef::Simulated(s),
        }
    }
}

impl DataRef<'_> {
    /// Task names.
    pub fn task_names(&self) -> Vec<String> {
        match self {
            DataRef::Census(d) => d.task_names.clone(),
            DataRef::Simulated(s) => s
                .sim
                .config()
                .tasks
                .iter()
                .map(|t| t.name.clone())
                .collect(),
        }
    }

    /// Training rows per epoch: the Census training table (its first `max_train_rows` rows
    /// when that is > 0), or the simulated stream's `train_rows`.
    pub fn train_rows(&self, max_train_rows: usize) -> usize {
        match self {
            DataRef::Census(d) if max_train_rows > 0 => max_train_rows.min(d.train.n_rows),
            DataRef::Census(d) => d.train.n_rows,
            DataRef::Simulated(s) => s.train_rows,
        }
    }

    /// What identifies the data's content, for the manifests: the Census files' sha256, or the
    /// simulator's preset, world seed and sizes.
    pub fn fingerprint(&self) -> std::collections::BTreeMap<String, String> {
        match self {
            DataRef::Census(d) => d.sha256.clone(),
            DataRef::Simulated(s) => {
                let cfg: &SimConfig = s.sim.config();
                [(
                    "simulator".to_owned(),
                    format!(
                        "{} (world seed {}, {} train / {} valid / {} test rows)",
                        cfg.description.trim(),
                        s.sim.seed(),
                        s.train_rows,
                        s.valid_rows,
                        s.test_rows
                    ),
                )]
                .into_iter()
                .collect()
            }
        }
    }
}

/// Loads (or sets up) the data of a config.
pub fn load_data(data: &DataConfig) -> Result<LoadedData> {
    match data {
        DataConfig::Census { .. } => Ok(LoadedData::Census(adatt_data::load_census(
            &data.census().expect("a Census config"),
        )?)),
        DataConfig::Simulator {
            world_seed,
            train_rows,
            valid_rows,
            test_rows,
            embedding_dim,
            ..
        } => {
            let cfg = data.sim_config()?;
            let name = format!("preset {}", data.label());
            Ok(LoadedData::Simulated(SimData {
                sim: Simulator::named(&cfg, *world_seed, &name)?,
                train_rows: *train_rows,
                valid_rows: *valid_rows,
                test_rows: *test_rows,
                embedding_dim: *embedding_dim,
            }))
        }
    }
}

impl SimData {
    /// The Bayes limit on the first `rows` examples of `stream`: per task the metrics of the
    /// best possible prediction ([`Simulator::oracle`]), computed as a model's are (NE against
    /// the configured positive rate, MSE for a regression task; AUC for reference).
    pub fn oracle_metrics(&self, stream: SimStream, rows: usize) -> Vec<TaskMetrics> {
        adatt_spec::oracle::oracle_metrics(&self.sim, stream, rows)
    }
}
