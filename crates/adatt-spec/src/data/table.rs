//! `[data] source = "table"`: a user's own multi-task table (the schema is
//! `adatt_data::table::TableData`, read by `adatt_data::table::load`; its keys are those of
//! this section).

use adatt_data::table::{LabelKind, LabelRole, TableData};
use adatt_data::{DataError, Protocol, TaskKind};

use super::{DataConfig, DataSpec, DataTask};
use crate::error::{Result, SpecError};
use crate::train::TrainConfig;

/// A schema error names its key; any other is the data's.
fn to_spec_error(e: DataError) -> SpecError {
    match e {
        DataError::Schema { key, message } => SpecError::ConfigValue { key, message },
        other => SpecError::ConfigValue {
            key: "data".into(),
            message: other.to_string(),
        },
    }
}

impl DataSpec for TableData {
    /// One task per label column, reported unless its role is auxiliary.
    fn tasks(&self) -> Vec<DataTask> {
        self.task_names()
            .into_iter()
            .zip(&self.labels)
            .map(|(name, l)| DataTask {
                name,
                kind: match l.kind {
                    LabelKind::Binary => TaskKind::Binary,
                    LabelKind::Regression => TaskKind::Regression,
                },
                reported: l.role == LabelRole::Reported,
            })
            .collect()
    }

    /// Its `name`.
    fn label(&self) -> String {
        self.name.clone()
    }

    /// All of it (the files' content is in the manifests' fingerprint).
    fn identity(&self) -> DataConfig {
        DataConfig::Table(self.clone())
    }

    fn protocol(&self) -> Option<Protocol> {
        None
    }

    fn set_protocol(&mut self, _p: Protocol) -> bool {
        false
    }

    fn validate(&self) -> Result<()> {
        TableData::validate(self).map_err(to_spec_error)
    }

    fn validate_train(&self, _train: &TrainConfig) -> Result<()> {
        Ok(())
    }

    /// Its files exist and hold every column it names (headers only; relative patterns from the
    /// working directory, as the loader takes them).
    fn check_inputs(&self) -> Result<()> {
        adatt_data::table::check_columns(self, std::path::Path::new(".")).map_err(to_spec_error)
    }
}
