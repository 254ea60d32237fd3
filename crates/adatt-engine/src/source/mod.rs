//! The data a grid trains on, behind one trait ([`Source`]): the Census tables
//! ([`census`]), or a simulated task group ([`simulator`], `adatt_data::sim`)
//! whose validation and test sets, and the first `train_rows` examples of its
//! training stream, are generated once per invocation.

mod census;
mod simulator;
mod table;

use std::collections::BTreeMap;

use adatt_data::Dataset;
use adatt_models::{EmbeddingSpec, InputSpec};
use adatt_spec::config::DataConfig;
use adatt_spec::metrics::MetricKind;
use adatt_spec::InputMode;
use tch::Device;

pub use simulator::SimData;
pub use table::TableSource;

use crate::error::Result;
use crate::rows::{DeviceSplit, TrainRows};

/// What the engine needs of loaded data: its tasks, the training rows of an epoch, what
/// identifies its content, and its rows on a device. Census tables and simulated task groups
/// implement it, each in its own file.
pub trait Source {
    /// Task names, in order.
    fn task_names(&self) -> Vec<String>;
    /// Training rows per epoch (`max_train_rows` > 0 keeps the first rows of a table).
    fn train_rows(&self, max_train_rows: usize) -> usize;
    /// What identifies the data's content, for the manifests.
    fn fingerprint(&self) -> BTreeMap<String, String>;
    /// The rows on `device` as the loop reads them.
    fn to_device(
        &self,
        mode: InputMode,
        device: Device,
        max_train_rows: usize,
    ) -> Result<TrainData>;
    /// The feature encodings fitted on the training rows, which new rows need to be predicted
    /// on (a user's table; the other sources have none).
    fn encoding(&self) -> Option<&adatt_data::table::Encoding> {
        None
    }
}

/// Data loaded for training.
pub enum LoadedData {
    /// Census-Income tables.
    Census(Dataset),
    /// A simulated task group.
    Simulated(SimData),
    /// A user's own table.
    Table(TableSource),
}

/// A borrowed [`LoadedData`] (what `run_grid` takes; a `&Dataset` converts into one).
#[derive(Clone, Copy)]
pub enum DataRef<'a> {
    /// Census-Income tables.
    Census(&'a Dataset),
    /// A simulated task group.
    Simulated(&'a SimData),
    /// A user's own table.
    Table(&'a TableSource),
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
            LoadedData::Table(t) => DataRef::Table(t),
        }
    }
}

impl<'a> DataRef<'a> {
    /// The loaded data as a [`Source`].
    pub fn source(self) -> &'a dyn Source {
        match self {
            DataRef::Census(d) => d,
            DataRef::Simulated(s) => s,
            DataRef::Table(t) => t,
        }
    }

    /// Task names.
    pub fn task_names(&self) -> Vec<String> {
        self.source().task_names()
    }

    /// Training rows per epoch ([`Source::train_rows`]).
    pub fn train_rows(&self, max_train_rows: usize) -> usize {
        self.source().train_rows(max_train_rows)
    }

    /// What identifies the data's content ([`Source::fingerprint`]).
    pub fn fingerprint(&self) -> BTreeMap<String, String> {
        self.source().fingerprint()
    }

    /// The fitted feature encodings ([`Source::encoding`]).
    pub fn encoding(self) -> Option<&'a adatt_data::table::Encoding> {
        self.source().encoding()
    }
}

/// Loads (or sets up) the data of a config.
pub fn load_data(data: &DataConfig) -> Result<LoadedData> {
    Ok(match data {
        DataConfig::Census(c) => LoadedData::Census(adatt_data::load_census(&c.loader())?),
        DataConfig::Simulator(s) => LoadedData::Simulated(SimData::new(s)?),
        DataConfig::Table(t) => LoadedData::Table(TableSource::load(t)?),
    })
}

/// Everything the loop needs from a dataset, on the device.
pub struct TrainData {
    /// Device.
    pub device: Device,
    /// Task names.
    pub task_names: Vec<String>,
    /// Metric kind per task.
    pub kinds: Vec<MetricKind>,
    /// Training base rate per task (NE denominator).
    pub train_base_rates: Vec<f64>,
    /// Per task: reported in the tables (false: an auxiliary task, trained but not reported,
    /// nor counted by a best-epoch criterion over reported tasks).
    pub reported: Vec<bool>,
    /// Model input description (of the dense input the architecture reads).
    pub spec: InputSpec,
    /// Id input: the embedding tables and the number of dense features in front of the
    /// architecture (`Model::with_embeddings`).
    pub embeddings: Option<(Vec<EmbeddingSpec>, usize)>,
    /// Input path.
    pub mode: InputMode,
    /// Rows per evaluation chunk (default: `crate::device::auto_eval_batch`).
    pub eval_batch: usize,
    /// Training rows.
    pub train: TrainRows,
    /// Validation.
    pub valid: DeviceSplit,
    /// Test.
    pub test: DeviceSplit,
}

impl TrainData {
    /// [`TrainData::new`] or [`TrainData::simulated`], by the data's kind.
    pub fn from_data(
        data: DataRef<'_>,
        mode: InputMode,
        device: Device,
        max_train_rows: usize,
    ) -> Result<Self> {
        data.source().to_device(mode, device, max_train_rows)
    }

    pub(crate) fn n_tasks(&self) -> usize {
        self.task_names.len()
    }
}
