//! A simulated task group as a [`Source`]: validation and test sets generated once per
//! invocation, and the first `train_rows` examples of its training stream read in order.

use std::collections::BTreeMap;

use adatt_data::sim::{SimRows, SimStream, SimTask, Simulator};
use adatt_data::TaskKind;
use adatt_models::{EmbeddingSpec, InputSpec};
use adatt_spec::data::SimulatorData;
use adatt_spec::metrics::{MetricKind, TaskMetrics};
use adatt_spec::{InputMode, SpecError};
use tch::Device;

use super::Source;
use super::TrainData;
use crate::error::{EngineError, Result};
use crate::rows::{DeviceSplit, StreamRows, TrainRows};

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

impl SimData {
    /// Sets up the world of `cfg`.
    pub fn new(cfg: &SimulatorData) -> Result<SimData> {
        let name = format!("preset {}", cfg.preset);
        Ok(SimData {
            sim: Simulator::named(&cfg.world()?, cfg.world_seed, &name)?,
            train_rows: cfg.train_rows,
            valid_rows: cfg.valid_rows,
            test_rows: cfg.test_rows,
            embedding_dim: cfg.embedding_dim,
        })
    }

    /// The Bayes limit on the first `rows` examples of `stream`: per task the metrics of the
    /// best possible prediction ([`Simulator::oracle`]), computed as a model's are (NE against
    /// the configured positive rate, MSE for a regression task; AUC for reference).
    pub fn oracle_metrics(&self, stream: SimStream, rows: usize) -> Vec<TaskMetrics> {
        adatt_spec::oracle::oracle_metrics(&self.sim, stream, rows)
    }
}

impl Source for SimData {
    fn task_names(&self) -> Vec<String> {
        self.sim
            .config()
            .tasks
            .iter()
            .map(|t| t.name.clone())
            .collect()
    }

    /// The stream's `train_rows` (`max_train_rows` is refused for a stream by the config).
    fn train_rows(&self, _max_train_rows: usize) -> usize {
        self.train_rows
    }

    /// The preset, world seed and sizes.
    fn fingerprint(&self) -> BTreeMap<String, String> {
        let cfg = self.sim.config();
        [(
            "simulator".to_owned(),
            format!(
                "{} (world seed {}, {} train / {} valid / {} test rows)",
                cfg.description.trim(),
                self.sim.seed(),
                self.train_rows,
                self.valid_rows,
                self.test_rows
            ),
        )]
        .into_iter()
        .collect()
    }

    fn to_device(
        &self,
        _mode: InputMode,
        device: Device,
        _max_train_rows: usize,
    ) -> Result<TrainData> {
        TrainData::simulated(self, device)
    }
}

impl TrainData {
    /// A simulated task group on `device`: its validation and test sets, generated now, and
    /// the first `train_rows` examples of its training stream, generated while training. The
    /// NE of a binary task is normalised by its configured positive rate, which the
    /// calibration makes the world's (a constant per task: relative NE differences do not
    /// depend on it).
    ///
    /// Refused: a validation or test set without both classes of a binary task (its AUC would
    /// be NaN).
    pub fn simulated(sd: &SimData, device: Device) -> Result<Self> {
        let cfg = sd.sim.config();
        let (n_ids, n_dense, t) = (2 + cfg.contexts.len(), cfg.dense, cfg.tasks.len());
        let split = |stream, n, key: &str| -> Result<DeviceSplit> {
            let rows = sd.sim.rows(stream, 0, n);
            check_both_classes(&rows, &cfg.tasks, key)?;
            Ok(DeviceSplit::simulated(&rows, n_ids, n_dense, t, device))
        };
        let train_base_rates = cfg.tasks.iter().map(|task| task.target()).collect();
        let embeddings: Vec<EmbeddingSpec> = sd
            .sim
            .cardinalities()
            .into_iter()
            .map(|cardinality| EmbeddingSpec {
                cardinality,
                dim: sd.embedding_dim,
            })
            .collect();
        let width = embeddings.iter().map(|e| e.dim).sum::<usize>() + n_dense;
        Ok(TrainData {
            device,
            task_names: cfg.tasks.iter().map(|t| t.name.clone()).collect(),
            kinds: cfg.tasks.iter().map(|t| MetricKind::from(t.kind)).collect(),
            train_base_rates,
            reported: cfg
                .tasks
                .iter()
                .map(|t| t.role == adatt_data::sim::TaskRole::Reported)
                .collect(),
            spec: InputSpec::dense(width, t),
            embeddings: Some((embeddings, n_dense)),
            mode: InputMode::Dense,
            eval_batch: crate::device::auto_eval_batch(device),
            train: TrainRows::Stream(Box::new(StreamRows::new(&sd.sim, sd.train_rows))),
            valid: split(SimStream::Valid, sd.valid_rows, "data.valid_rows")?,
            test: split(SimStream::Test, sd.test_rows, "data.test_rows")?,
        })
    }
}

/// Refuses generated evaluation rows in which a binary task has only one class, naming the
/// config key of the set's size.
fn check_both_classes(rows: &SimRows, tasks: &[SimTask], key: &str) -> Result<()> {
    let t = tasks.len();
    for (k, task) in tasks.iter().enumerate() {
        if task.kind != TaskKind::Binary {
            continue;
        }
        let positives = (0..rows.n).filter(|i| rows.labels[i * t + k] > 0.5).count();
        if positives == 0 || positives == rows.n {
            let class = if positives == 0 {
                "positive"
            } else {
                "negative"
            };
            return Err(EngineError::Spec(SpecError::ConfigValue {
                key: key.into(),
                message: format!(
                    "its {} generated rows hold no {class} example of task `{}`, so its AUC is \
                     undefined; give more rows",
                    rows.n, task.name
                ),
            }));
        }
    }
    Ok(())
}
