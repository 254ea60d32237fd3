//! Reading one file of a table: a CSV (with a header naming each column once) or a Parquet
//! file as a data frame, and its columns as numbers or text, errors naming the file, row and
//! column.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::{CsvReadOptions, DataFrame, DataType, ParquetReader, SerReader, Series};

use crate::error::DataError;

type Result<T> = std::result::Result<T, DataError>;

/// One file as a data frame of the columns in `wanted` that it has (the others are not read);
/// a CSV's header must name each column once, and its columns are read as text (a value's
/// own spelling: no type guessed from the first rows, ids compare as written).
pub(super) fn read_frame(path: &Path, wanted: &[&str]) -> Result<DataFrame> {
    let file = path.display().to_string();
    let parse = |e: polars::prelude::PolarsError| DataError::Parse {
        file: file.clone(),
        message: e.to_string(),
    };
    let have = header(path)?;
    let mut keep: Vec<String> = have
        .iter()
        .filter(|c| wanted.contains(&c.as_str()))
        .cloned()
        .collect();
    if keep.is_empty() {
        // Only the row count is read: the caller then names a missing column.
        keep.extend(have.first().cloned());
    }
    let df = if path.extension().is_some_and(|e| e == "parquet") {
        let f = std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        ParquetReader::new(f)
            .with_columns(Some(keep))
            .finish()
            .map_err(parse)?
    } else {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_columns(Some(keep.into_iter().map(Into::into).collect()))
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .map_err(parse)?
            .finish()
            .map_err(parse)?
    };
    if df.height() == 0 {
        return Err(DataError::Parse {
            file,
            message: "has no data rows".into(),
        });
    }
    Ok(df)
}

/// A CSV file's column names, from its first line (a name may be quoted); one named twice is
/// an error naming the file.
fn csv_header(path: &Path) -> Result<Vec<String>> {
    use std::io::BufRead;
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut line = String::new();
    std::io::BufReader::new(std::fs::File::open(path).map_err(io)?)
        .read_line(&mut line)
        .map_err(io)?;
    let header: Vec<String> = line
        .trim_end()
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_owned())
        .collect();
    for (i, h) in header.iter().enumerate() {
        if header[..i].contains(h) {
            return Err(DataError::Parse {
                file: path.display().to_string(),
                message: format!("the header names column `{h}` twice"),
            });
        }
    }
    Ok(header)
}

/// A file's column names without reading its rows: a CSV's header line, a Parquet file's
/// schema.
pub(super) fn header(path: &Path) -> Result<Vec<String>> {
    if path.extension().is_none_or(|e| e != "parquet") {
        return csv_header(path);
    }
    let f = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let schema = ParquetReader::new(f)
        .schema()
        .map_err(|e| DataError::Parse {
            file: path.display().to_string(),
            message: e.to_string(),
        })?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

/// The column `name` of `df` as a series, or an error naming the file and column.
pub(super) fn column(df: &DataFrame, name: &str, file: &Path) -> Result<Series> {
    df.column(name)
        .map(|c| c.as_materialized_series().clone())
        .map_err(|_| DataError::Parse {
            file: file.display().to_string(),
            message: format!(
                "has no column `{name}` (its columns: {:?})",
                df.get_column_names()
            ),
        })
}

/// A column as numbers: a value that is not a number is an error naming its row.
pub(super) fn numbers(s: &Series, file: &Path) -> Result<Vec<Option<f64>>> {
    let cast = s.cast(&DataType::Float64).map_err(|e| DataError::Parse {
        file: file.display().to_string(),
        message: format!("column `{}`: {e}", s.name()),
    })?;
    let ca = cast.f64().expect("cast to f64");
    let values: Vec<Option<f64>> = (0..ca.len()).map(|i| ca.get(i)).collect();
    // Only a cast that made new nulls can have met text that is not a number.
    if cast.null_count() == s.null_count() {
        return Ok(values);
    }
    let text = texts(s);
    for (row, (v, t)) in values.iter().zip(&text).enumerate() {
        if let (None, Some(t)) = (v, t) {
            if !t.is_empty() {
                return Err(DataError::BadNumber {
                    file: file.display().to_string(),
                    line: row + 1,
                    column: s.name().to_string(),
                    value: t.to_owned(),
                });
            }
        }
    }
    Ok(values)
}

/// A column as text (numbers written as they print).
pub(super) fn texts(s: &Series) -> Vec<Option<String>> {
    let t = s.cast(&DataType::String).expect("any column casts to text");
    let ca = t.str().expect("cast to text");
    (0..ca.len())
        .map(|i| ca.get(i).map(str::to_owned))
        .collect()
}

/// The sha256 of a file's bytes, in hex (streamed).
pub(super) fn sha256(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex::encode(h.finalize()))
}

/// A categorical column as codes into its distinct values (as text, in order of first
/// appearance): code 0 is a missing value, code k the k-th distinct value. Each distinct value
/// is stored once, so a column costs 4 bytes per row however long its values.
#[derive(Debug, Default)]
pub(super) struct Interned {
    /// Per row.
    pub(super) codes: Vec<u32>,
    /// The distinct values; code k is `values[k - 1]`.
    pub(super) values: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interned {
    /// One more row.
    pub(super) fn push(&mut self, v: Option<&str>) {
        let code = match v {
            None => 0,
            Some(s) => match self.index.get(s) {
                Some(&c) => c,
                None => {
                    self.values.push(s.to_owned());
                    let c = u32::try_from(self.values.len()).expect("fewer than 2^32 values");
                    self.index.insert(s.to_owned(), c);
                    c
                }
            },
        };
        self.codes.push(code);
    }

    /// Every value of `s`, as text (numbers written as they print).
    pub(super) fn extend(&mut self, s: &Series) {
        let t = s.cast(&DataType::String).expect("any column casts to text");
        for chunk in t.str().expect("cast to text").downcast_iter() {
            for v in chunk.iter() {
                self.push(v);
            }
        }
    }
}
