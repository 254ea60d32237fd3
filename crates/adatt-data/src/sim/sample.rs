//! Simulated rows as a table (`adatt simulate`): one column per id feature (`user_id`,
//! `item_id`, each context), per dense feature (`dense_0`, …) and per task (labels), written as
//! Parquet or CSV by the file's extension.

use std::path::Path;

use polars::prelude::{
    Column, CsvWriter, DataFrame, IntoColumn, NamedFrom, ParquetWriter, SerWriter, Series,
};

use super::{SimConfig, SimRows};
use crate::DataError;

/// The file formats a sample can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// `.parquet`.
    Parquet,
    /// `.csv`.
    Csv,
}

impl SampleFormat {
    /// The format named by `path`'s extension.
    pub fn of(path: &Path) -> Result<Self, DataError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") => Ok(SampleFormat::Parquet),
            Some("csv") => Ok(SampleFormat::Csv),
            _ => Err(DataError::Simulator {
                source_name: path.display().to_string(),
                key: "--out".into(),
                message: "the sample's file name must end in .parquet or .csv".into(),
            }),
        }
    }
}

/// The rows as a data frame.
pub fn frame(cfg: &SimConfig, rows: &SimRows) -> DataFrame {
    let n_ids = 2 + cfg.contexts.len();
    let id_names = ["user_id".to_owned(), "item_id".to_owned()]
        .into_iter()
        .chain(cfg.contexts.iter().map(|c| c.name.clone()));
    let mut cols: Vec<Column> = Vec::new();
    for (k, name) in id_names.enumerate() {
        let v: Vec<u32> = rows.ids.iter().skip(k).step_by(n_ids).copied().collect();
        cols.push(Series::new(name.into(), v).into_column());
    }
    for k in 0..cfg.dense {
        let v: Vec<f32> = rows
            .dense
            .iter()
            .skip(k)
            .step_by(cfg.dense)
            .copied()
            .collect();
        cols.push(Series::new(format!("dense_{k}").into(), v).into_column());
    }
    let t = cfg.tasks.len();
    for (k, task) in cfg.tasks.iter().enumerate() {
        let v: Vec<f32> = rows.labels.iter().skip(k).step_by(t).copied().collect();
        cols.push(Series::new(task.name.clone().into(), v).into_column());
    }
    DataFrame::new(rows.n, cols).expect("columns of equal length and distinct names")
}

/// Writes the rows to `path` (Parquet or CSV by its extension) through a temporary file beside
/// it, so that a failure leaves no partial file.
pub fn write(cfg: &SimConfig, rows: &SimRows, path: &Path) -> Result<(), DataError> {
    let format = SampleFormat::of(path)?;
    let io = |source: std::io::Error| DataError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("sample")
    ));
    let mut df = frame(cfg, rows);
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        match format {
            SampleFormat::Parquet => ParquetWriter::new(file)
                .finish(&mut df)
                .map(drop)
                .map_err(std::io::Error::other)?,
            SampleFormat::Csv => CsvWriter::new(file)
                .finish(&mut df)
                .map_err(std::io::Error::other)?,
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}
