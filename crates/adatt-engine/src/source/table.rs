//! A user's own table ([`adatt_data::table`]): read, split and encoded once per invocation,
//! its training rows read in a new order every epoch like a Census table, its categorical
//! columns through the embedding layer like the simulator's ids.

use std::borrow::Cow;
use std::collections::BTreeMap;

use adatt_data::table::{TableData, TableRows, TableSet};
use adatt_models::{EmbeddingSpec, InputSpec};
use adatt_spec::metrics::MetricKind;
use adatt_spec::InputMode;
use tch::Device;

use super::{Source, TrainData};
use crate::error::Result;
use crate::rows::{DeviceSplit, TrainRows};

/// A loaded table and the embedding width of its categorical columns.
pub struct TableSource {
    /// The rows, split and encoded.
    pub set: TableSet,
    /// Embedding dimension of every categorical column.
    pub embedding_dim: usize,
    /// The config's data name.
    pub name: String,
    /// Per task: reported (not an auxiliary label).
    pub reported: Vec<bool>,
}

impl TableSource {
    /// Reads the table of `cfg`, its relative file patterns taken from the current directory.
    pub fn load(cfg: &TableData) -> Result<TableSource> {
        Ok(TableSource {
            set: adatt_data::table::load(cfg, std::path::Path::new("."))?,
            embedding_dim: cfg.embedding_dim,
            name: cfg.name.clone(),
            reported: cfg
                .labels
                .iter()
                .map(|l| l.role == adatt_data::table::LabelRole::Reported)
                .collect(),
        })
    }
}

impl Source for TableSource {
    fn task_names(&self) -> Vec<String> {
        self.set.task_names.clone()
    }

    fn train_rows(&self, max_train_rows: usize) -> usize {
        match max_train_rows {
            0 => self.set.train.n,
            m => m.min(self.set.train.n),
        }
    }

    fn fingerprint(&self) -> BTreeMap<String, String> {
        self.set
            .files
            .iter()
            .zip(&self.set.sha256)
            .map(|(f, sha)| (f.display().to_string(), sha.clone()))
            .chain([(
                "table".to_owned(),
                format!(
                    "{} ({} train / {} valid / {} test rows)",
                    self.name, self.set.train.n, self.set.valid.n, self.set.test.n
                ),
            )])
            .collect()
    }

    fn to_device(
        &self,
        _mode: InputMode,
        device: Device,
        max_train_rows: usize,
    ) -> Result<TrainData> {
        let s = &self.set;
        let (n_ids, n_dense, t) = (
            s.cardinalities.len(),
            s.dense_names.len(),
            s.task_names.len(),
        );
        let widths = [n_ids, n_dense, t];
        // The first `max_train_rows` training rows (a copy only when some are cut).
        let train = if max_train_rows > 0 && max_train_rows < s.train.n {
            let m = max_train_rows;
            Cow::Owned(TableRows {
                n: m,
                ids: s.train.ids[..m * n_ids].to_vec(),
                dense: s.train.dense[..m * n_dense].to_vec(),
                labels: s.train.labels[..m * t].to_vec(),
            })
        } else {
            Cow::Borrowed(&s.train)
        };
        let base_rates = (0..t)
            .map(|k| {
                let y = train.labels.iter().skip(k).step_by(t);
                y.map(|&v| f64::from(v)).sum::<f64>() / train.n.max(1) as f64
            })
            .collect();
        let embeddings: Vec<EmbeddingSpec> = s
            .cardinalities
            .iter()
            .map(|&cardinality| EmbeddingSpec {
                cardinality,
                dim: self.embedding_dim,
            })
            .collect();
        let width = embeddings.iter().map(|e| e.dim).sum::<usize>() + n_dense;
        Ok(TrainData {
            device,
            task_names: s.task_names.clone(),
            kinds: s.task_kinds.iter().map(|&k| MetricKind::from(k)).collect(),
            train_base_rates: base_rates,
            reported: self.reported.clone(),
            spec: InputSpec::dense(width, t),
            embeddings: Some((embeddings, n_dense)),
            mode: InputMode::Dense,
            eval_batch: crate::device::auto_eval_batch(device),
            train: TrainRows::Table(DeviceSplit::table(&train, widths, device)),
            valid: DeviceSplit::table(&s.valid, widths, device),
            test: DeviceSplit::table(&s.test, widths, device),
        })
    }

    fn encoding(&self) -> Option<&adatt_data::table::Encoding> {
        Some(&self.set.encoding)
    }
}
