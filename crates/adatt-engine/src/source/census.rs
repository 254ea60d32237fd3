//! The Census-Income tables as a [`Source`]: a table of training rows, shuffled per replica.

use std::collections::BTreeMap;

use adatt_data::Dataset;
use adatt_models::InputSpec;
use adatt_spec::metrics::MetricKind;
use adatt_spec::InputMode;
use tch::Device;

use super::Source;
use super::TrainData;
use crate::error::Result;
use crate::rows::{DeviceSplit, TrainRows};

impl Source for Dataset {
    fn task_names(&self) -> Vec<String> {
        self.task_names.clone()
    }

    /// The training table's rows (its first `max_train_rows` when that is > 0).
    fn train_rows(&self, max_train_rows: usize) -> usize {
        match max_train_rows {
            0 => self.train.n_rows,
            m => m.min(self.train.n_rows),
        }
    }

    /// The files' sha256.
    fn fingerprint(&self) -> BTreeMap<String, String> {
        self.sha256.clone()
    }

    fn to_device(
        &self,
        mode: InputMode,
        device: Device,
        max_train_rows: usize,
    ) -> Result<TrainData> {
        Ok(TrainData::new(self, mode, device, max_train_rows))
    }
}

impl TrainData {
    /// Move a dataset to `device` (keeping at most `max_train_rows` training rows if > 0).
    pub fn new(ds: &Dataset, mode: InputMode, device: Device, max_train_rows: usize) -> Self {
        let t = ds.task_names.len();
        let mode = crate::device::resolve_input(mode, device);
        let train_split;
        let kept = crate::source::Source::train_rows(ds, max_train_rows);
        let train = if kept < ds.train.n_rows {
            let rows: Vec<usize> = (0..kept).collect();
            train_split = ds.train.select(&rows);
            &train_split
        } else {
            &ds.train
        };
        let kinds = ds.task_kinds.iter().map(|&k| MetricKind::from(k)).collect();
        TrainData {
            device,
            task_names: ds.task_names.clone(),
            kinds,
            train_base_rates: (0..t).map(|i| train.positive_rate(i)).collect(),
            reported: vec![true; t],
            spec: InputSpec {
                n_features: train.n_features,
                numeric_cols: train.numeric_cols.clone(),
                n_cat: train.n_cat,
                n_tasks: t,
            },
            embeddings: None,
            mode,
            eval_batch: crate::device::auto_eval_batch(device),
            train: TrainRows::Table(DeviceSplit::new(train, t, mode, device)),
            valid: DeviceSplit::new(&ds.valid, t, mode, device),
            test: DeviceSplit::new(&ds.test, t, mode, device),
        }
    }
}
