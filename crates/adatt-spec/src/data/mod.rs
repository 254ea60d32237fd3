//! `[data]`: where the rows come from, its tasks, and what of it is part of a run's identity.
//! Each source is a file ([`census`], [`simulator`]) with its config struct and its
//! [`DataSpec`]; [`DataConfig`] (tagged by `source`) names them, and [`DataConfig::spec`] is the
//! only match over the sources.

pub mod census;
pub mod simulator;
pub mod table;

use adatt_data::{CensusConfig, Protocol};
use serde::{Deserialize, Serialize};

pub use census::CensusData;
pub use simulator::SimulatorData;

use crate::error::{Result, SpecError};
use crate::train::TrainConfig;

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

/// What every data source says of itself before any row is loaded.
pub trait DataSpec {
    /// Its tasks in order (empty when the config cannot say, which `validate` refuses).
    fn tasks(&self) -> Vec<DataTask>;
    /// What names it in records and output directories.
    fn label(&self) -> String;
    /// What of it changes a run's numbers, for the record key.
    fn identity(&self) -> DataConfig;
    /// Its Census preprocessing protocol, if it has one.
    fn protocol(&self) -> Option<Protocol>;
    /// Replaces its protocol; `false` for a source without one.
    fn set_protocol(&mut self, p: Protocol) -> bool;
    /// What can be checked without loading, the error naming the key.
    fn validate(&self) -> Result<()>;
    /// What it and the training settings say together.
    fn validate_train(&self, train: &TrainConfig) -> Result<()>;
    /// What can be checked of its input files without loading them (a process that starts
    /// shard processes checks this once, before each of them loads the data). Default: nothing.
    fn check_inputs(&self) -> Result<()> {
        Ok(())
    }
}

/// Where the data comes from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum DataConfig {
    /// UCI Census-Income (KDD).
    Census(CensusData),
    /// A simulated task group.
    Simulator(SimulatorData),
    /// A user's own table (CSV or Parquet).
    Table(adatt_data::table::TableData),
}

impl DataConfig {
    /// The source's description.
    pub fn spec(&self) -> &dyn DataSpec {
        match self {
            DataConfig::Census(c) => c,
            DataConfig::Simulator(s) => s,
            DataConfig::Table(t) => t,
        }
    }

    fn spec_mut(&mut self) -> &mut dyn DataSpec {
        match self {
            DataConfig::Census(c) => c,
            DataConfig::Simulator(s) => s,
            DataConfig::Table(t) => t,
        }
    }

    /// Its tasks ([`DataSpec::tasks`]).
    pub fn tasks(&self) -> Vec<DataTask> {
        self.spec().tasks()
    }
    /// What of the data config changes a run's numbers ([`DataSpec::identity`]).
    pub fn identity(&self) -> DataConfig {
        self.spec().identity()
    }
    /// The census loader config, if this is census.
    pub fn census(&self) -> Option<CensusConfig> {
        match self {
            DataConfig::Census(c) => Some(c.loader()),
            _ => None,
        }
    }
    /// The Census preprocessing protocol (none for simulated data).
    pub fn protocol(&self) -> Option<Protocol> {
        self.spec().protocol()
    }
    /// What names this data in records and output directories: the Census protocol (`paper`,
    /// `clean`) or the simulator preset.
    pub fn label(&self) -> String {
        self.spec().label()
    }
    /// Number of tasks, so that model configs can be validated before the data is loaded.
    pub fn n_tasks(&self) -> usize {
        self.tasks().len()
    }
    /// Replace the protocol (a protocol override; refused for a source without one by
    /// [`DataConfig::check_protocol_override`]).
    pub fn set_protocol(&mut self, p: Protocol) {
        self.spec_mut().set_protocol(p);
    }
    /// A protocol override (named `name` in the error, as the user gave it) only applies to a
    /// source with a protocol.
    pub fn check_protocol_override(&self, p: Option<Protocol>, name: &str) -> Result<()> {
        match (self.protocol(), p) {
            (None, Some(p)) => Err(SpecError::ConfigValue {
                key: name.into(),
                message: format!(
                    "`{p}` is a Census preprocessing protocol; this config's data is the {} `{}`",
                    match self {
                        DataConfig::Table(_) => "table",
                        _ => "simulator preset",
                    },
                    self.label()
                ),
            }),
            _ => Ok(()),
        }
    }
    /// The simulator's world (an error for other sources).
    pub fn sim_config(&self) -> Result<adatt_data::sim::SimConfig> {
        match self {
            DataConfig::Simulator(s) => s.world(),
            _ => Err(SpecError::ConfigValue {
                key: "data.source".into(),
                message: "only simulated data has a simulator world".into(),
            }),
        }
    }
    /// What can be checked without loading ([`DataSpec::validate`]).
    pub fn validate(&self) -> Result<()> {
        self.spec().validate()
    }
}
