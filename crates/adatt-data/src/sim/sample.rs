//! Simulated rows as a table (`adatt simulate`): one column per id feature (`user_id`,
//! `item_id`, each context), per dense feature (`dense_0`, …) and per task (labels), written as
//! Parquet or CSV by the file's extension. Writing to a path is the caller's (the `adatt` binary
//! writes through `adatt_spec::atomic`: a unique hidden temporary file, renamed when complete).

use std::io::Write;
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
            _ => Err(DataError::OutputName {
                path: path.to_owned(),
                message: "a sample's file name ends in .parquet or .csv".into(),
            }),
        }
    }
}

/// What a column of a sample holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// `user_id`.
    UserId,
    /// `item_id`.
    ItemId,
    /// A context feature's value (named after the feature).
    Context,
    /// `dense_<k>`.
    Dense,
    /// A task's labels (named after the task).
    Task,
}

impl ColumnKind {
    /// The column's kind in messages.
    pub fn describe(self) -> &'static str {
        match self {
            ColumnKind::UserId => "the user id column",
            ColumnKind::ItemId => "the item id column",
            ColumnKind::Context => "context feature",
            ColumnKind::Dense => "the dense feature column",
            ColumnKind::Task => "task",
        }
    }

    /// Columns of this kind in messages.
    pub fn plural(self) -> &'static str {
        match self {
            ColumnKind::Context => "context features",
            ColumnKind::Task => "tasks",
            _ => "columns",
        }
    }

    /// The config key its name comes from.
    pub fn key(self) -> &'static str {
        match self {
            ColumnKind::UserId | ColumnKind::ItemId => "users",
            ColumnKind::Context => "contexts",
            ColumnKind::Dense => "dense",
            ColumnKind::Task => "tasks",
        }
    }

    /// Whether the name is the writer's (not one the config chooses).
    pub fn is_fixed(self) -> bool {
        matches!(
            self,
            ColumnKind::UserId | ColumnKind::ItemId | ColumnKind::Dense
        )
    }
}

/// The sample's columns in file order: `user_id`, `item_id`, each context, `dense_0` …, each
/// task.
pub fn column_names(cfg: &SimConfig) -> Vec<(String, ColumnKind)> {
    let named = |names: Vec<String>, kind| names.into_iter().map(move |n| (n, kind));
    let contexts = cfg.contexts.iter().map(|c| c.name.clone()).collect();
    let dense = (0..cfg.dense).map(|k| format!("dense_{k}")).collect();
    let tasks = cfg.tasks.iter().map(|t| t.name.clone()).collect();
    [
        ("user_id".to_owned(), ColumnKind::UserId),
        ("item_id".to_owned(), ColumnKind::ItemId),
    ]
    .into_iter()
    .chain(named(contexts, ColumnKind::Context))
    .chain(named(dense, ColumnKind::Dense))
    .chain(named(tasks, ColumnKind::Task))
    .collect()
}

/// Column `k` of a row-major `[n, width]` buffer.
fn strided<T: Copy>(values: &[T], k: usize, width: usize) -> Vec<T> {
    values.iter().skip(k).step_by(width).copied().collect()
}

/// The rows as a data frame (columns of [`column_names`]; distinct in a validated config).
pub fn frame(cfg: &SimConfig, rows: &SimRows) -> DataFrame {
    let (n_ids, t) = (2 + cfg.contexts.len(), cfg.tasks.len());
    let cols: Vec<Column> = column_names(cfg)
        .into_iter()
        .enumerate()
        .map(|(k, (name, kind))| match kind {
            ColumnKind::UserId | ColumnKind::ItemId | ColumnKind::Context => {
                Series::new(name.into(), strided(&rows.ids, k, n_ids)).into_column()
            }
            ColumnKind::Dense => {
                Series::new(name.into(), strided(&rows.dense, k - n_ids, cfg.dense)).into_column()
            }
            ColumnKind::Task => {
                let k = k - n_ids - cfg.dense;
                Series::new(name.into(), strided(&rows.labels, k, t)).into_column()
            }
        })
        .collect();
    DataFrame::new(rows.n, cols).expect("columns of equal length and distinct names")
}

/// Writes the rows as `format` to `out` (the file of an atomic write, e.g.
/// `adatt_spec::atomic::write_with`, which gives the file its name only once it is complete).
pub fn write_to(
    cfg: &SimConfig,
    rows: &SimRows,
    format: SampleFormat,
    out: &mut impl Write,
) -> std::io::Result<()> {
    write_frame(frame(cfg, rows), format, out)
}

/// Writes a data frame as `format` to `out`.
pub(crate) fn write_frame(
    mut df: DataFrame,
    format: SampleFormat,
    out: &mut impl Write,
) -> std::io::Result<()> {
    match format {
        SampleFormat::Parquet => ParquetWriter::new(out)
            .finish(&mut df)
            .map(drop)
            .map_err(std::io::Error::other),
        SampleFormat::Csv => CsvWriter::new(out)
            .finish(&mut df)
            .map_err(std::io::Error::other),
    }
}
