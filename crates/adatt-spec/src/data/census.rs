//! `source = "census"`: the UCI Census-Income (KDD) tables under one of the two preprocessing
//! protocols.

use std::path::PathBuf;

use adatt_data::{CensusConfig, Protocol};
use serde::{Deserialize, Serialize};

use super::{DataConfig, DataSpec, DataTask};
use crate::error::Result;
use crate::train::TrainConfig;

/// UCI Census-Income (KDD).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CensusData {
    /// Directory with census-income.{data,test}.gz.
    #[serde(default = "default_census_dir")]
    pub data_dir: PathBuf,
    /// Preprocessing protocol.
    pub protocol: Protocol,
    /// Seed of the 50/50 validation/test split of the test file (the framework uses 1).
    #[serde(default = "default_split_seed")]
    pub split_seed: u32,
}

fn default_census_dir() -> PathBuf {
    PathBuf::from(adatt_data::DEFAULT_DATA_DIR)
}

fn default_split_seed() -> u32 {
    adatt_data::PAPER_SPLIT_SEED
}

impl CensusData {
    /// The loader's config.
    pub fn loader(&self) -> CensusConfig {
        CensusConfig {
            data_dir: self.data_dir.clone(),
            protocol: self.protocol,
            split_seed: self.split_seed,
        }
    }
}

impl DataSpec for CensusData {
    /// education, income, never_married: binary, all reported.
    fn tasks(&self) -> Vec<DataTask> {
        adatt_data::TASK_NAMES
            .iter()
            .map(|name| DataTask {
                name: (*name).to_owned(),
                kind: adatt_data::TaskKind::Binary,
                reported: true,
            })
            .collect()
    }

    /// The protocol (`paper`, `clean`).
    fn label(&self) -> String {
        self.protocol.to_string()
    }

    /// Everything but `data_dir` (the files are sha256-checked on load, wherever they are):
    /// the directory is replaced by its default, so keys made before this normalisation stay.
    fn identity(&self) -> DataConfig {
        DataConfig::Census(CensusData {
            data_dir: default_census_dir(),
            ..self.clone()
        })
    }

    fn protocol(&self) -> Option<Protocol> {
        Some(self.protocol)
    }

    fn set_protocol(&mut self, p: Protocol) -> bool {
        self.protocol = p;
        true
    }

    /// Nothing to check before loading (the loader checks the files).
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Any training settings (`train.max_train_rows` keeps the first rows of the table).
    fn validate_train(&self, _train: &TrainConfig) -> Result<()> {
        Ok(())
    }
}
