//! Named columns written as a Parquet or CSV file (`adatt predict`'s predictions). Writing to a
//! path is the caller's (through `adatt_spec::atomic`, which names the file once it is whole).

use std::io::Write;

use polars::prelude::{Column, DataFrame, IntoColumn, NamedFrom, Series};

use crate::sim::sample::{write_frame, SampleFormat};

/// A column's values.
#[derive(Clone, Debug, PartialEq)]
pub enum OutColumn {
    /// Text (missing: null).
    Text(Vec<Option<String>>),
    /// Numbers.
    Float(Vec<f32>),
}

/// Writes `columns` (of equal length, distinct names) as `format` to `out`.
pub fn write_columns(
    columns: Vec<(String, OutColumn)>,
    format: SampleFormat,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let height = columns.first().map_or(0, |(_, c)| match c {
        OutColumn::Text(v) => v.len(),
        OutColumn::Float(v) => v.len(),
    });
    let cols: Vec<Column> = columns
        .into_iter()
        .map(|(name, c)| match c {
            OutColumn::Text(v) => Series::new(name.into(), v).into_column(),
            OutColumn::Float(v) => Series::new(name.into(), v).into_column(),
        })
        .collect();
    let df = DataFrame::new(height, cols).map_err(std::io::Error::other)?;
    write_frame(df, format, out)
}
