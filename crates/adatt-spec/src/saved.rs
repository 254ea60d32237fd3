//! What a grid leaves for its trained models to be used again (`adatt predict`, `adatt
//! export`): per finished run its best-epoch weights, `weights/<record key>.safetensors` with
//! the official `state_dict` names (embedding tables `embeddings.{f}.weight`, f in the order of
//! the data's categorical columns), and for a user's table once per results directory
//! `inputs.json` ([`SavedInputs`]): the feature encodings fitted on the training rows, the
//! tasks, and the training base rates NE is measured against.

use std::path::{Path, PathBuf};

use adatt_data::table::Encoding;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SpecError};
use crate::metrics::MetricKind;

/// Version of [`SavedInputs`]' JSON.
pub const INPUTS_VERSION: u32 = 1;

/// Where run `key`'s weights are in results directory `dir`.
pub fn weights_path(dir: &Path, key: &str) -> PathBuf {
    dir.join("weights").join(format!("{key}.safetensors"))
}

/// Where the saved inputs are in results directory `dir`.
pub fn inputs_path(dir: &Path) -> PathBuf {
    dir.join("inputs.json")
}

/// What a model trained on a user's table needs to predict on new rows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SavedInputs {
    /// [`INPUTS_VERSION`].
    pub version: u32,
    /// Task names, in the model's output order.
    pub tasks: Vec<String>,
    /// Binary or regression, per task.
    pub kinds: Vec<MetricKind>,
    /// Per task, the mean label of the training rows (NE's reference for a binary task).
    pub train_base_rates: Vec<f64>,
    /// Embedding dimension of every categorical column.
    pub embedding_dim: usize,
    /// The feature encodings.
    pub encoding: Encoding,
}

impl SavedInputs {
    /// Reads `path`; an error names the file.
    pub fn read(path: &Path) -> Result<SavedInputs> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.to_owned(),
            source,
        })?;
        let s: SavedInputs = serde_json::from_str(&text).map_err(|e| SpecError::Saved {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if s.version != INPUTS_VERSION {
            return Err(SpecError::Saved {
                path: path.to_owned(),
                message: format!(
                    "version {} (this build reads version {INPUTS_VERSION})",
                    s.version
                ),
            });
        }
        Ok(s)
    }

    /// Writes `path` whole, unless it already holds these inputs; inputs other than these
    /// already there are an error (weights trained on other data are in the directory).
    pub fn write(&self, path: &Path) -> Result<()> {
        if path.exists() {
            let old = SavedInputs::read(path)?;
            if old == *self {
                return Ok(());
            }
            return Err(SpecError::Saved {
                path: path.to_owned(),
                message: "holds the encodings of other data than this grid's (the table \
                          changed since weights were saved here): train into a new output_dir"
                    .into(),
            });
        }
        let text = serde_json::to_string(self).expect("inputs serialize");
        crate::atomic::write(path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adatt_data::table::{CategoricalEncoding, NumericEncoding};

    fn inputs(shift: f64) -> SavedInputs {
        SavedInputs {
            version: INPUTS_VERSION,
            tasks: vec!["click".into(), "watch_time".into()],
            kinds: vec![MetricKind::Binary, MetricKind::Regression],
            train_base_rates: vec![0.25, 1.5],
            embedding_dim: 8,
            encoding: Encoding {
                categorical: vec![CategoricalEncoding::Vocabulary {
                    column: "user".into(),
                    values: vec!["a".into(), "b".into()],
                }],
                numeric: vec![NumericEncoding {
                    column: "age".into(),
                    shift,
                    scale: 5.0,
                    fill: 0.0,
                    indicator: true,
                }],
            },
        }
    }

    /// Written once, read back equal; writing the same inputs again is a no-op, other inputs
    /// (the table changed) are refused naming the file, and the file is left as it was.
    #[test]
    fn inputs_are_written_once_and_other_inputs_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let path = inputs_path(d.path());
        inputs(15.0).write(&path).unwrap();
        assert_eq!(SavedInputs::read(&path).unwrap(), inputs(15.0));
        inputs(15.0).write(&path).unwrap();
        let e = inputs(16.0).write(&path).unwrap_err().to_string();
        assert!(e.contains("inputs.json") && e.contains("other data"), "{e}");
        assert_eq!(SavedInputs::read(&path).unwrap(), inputs(15.0));
        std::fs::write(&path, r#"{"version": 2}"#).unwrap();
        let e = SavedInputs::read(&path).unwrap_err().to_string();
        assert!(e.contains("inputs.json"), "{e}");
    }
}
