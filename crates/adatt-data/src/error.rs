//! The error type of the loader.

use std::path::PathBuf;

/// Everything that can go wrong while reading and preprocessing the Census-Income files.
///
/// Every variant names the file it concerns (as the path it was opened with), and the
/// row-level variants give the 1-based line number in the decompressed file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file does not exist.
    #[error(
        "data file not found: {}; the Census-Income files belong in data/census-income/ \
         (see data/census-income/README.md)",
        path.display()
    )]
    MissingFile { path: PathBuf },

    /// Any other I/O failure while reading the file.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The sha256 of the compressed file is not the expected one.
    #[error("checksum mismatch for {file}: expected sha256 {expected}, got {got}")]
    Checksum {
        file: String,
        expected: String,
        got: String,
    },

    /// The file is not a complete, valid gzip stream (e.g. truncated).
    #[error("gzip error in {file}: {source}")]
    Gzip {
        file: String,
        #[source]
        source: std::io::Error,
    },

    /// The file decompressed to something that is not UTF-8 text.
    #[error("{file} is not UTF-8 text (first bad byte at offset {offset})")]
    NotText { file: String, offset: usize },

    /// The file has no data rows.
    #[error("{file} has no data rows")]
    Empty { file: String },

    /// A line does not have the expected 42 comma-separated fields.
    #[error("{file}, line {line}: expected {expected} comma-separated fields, found {got}")]
    FieldCount {
        file: String,
        line: usize,
        expected: usize,
        got: usize,
    },

    /// A label column holds a value outside its allowed set.
    #[error("{file}, line {line}: unknown value {value:?} in label column {column}")]
    UnknownLabel {
        file: String,
        line: usize,
        column: String,
        value: String,
    },

    /// A numeric column holds something that does not parse as a number.
    #[error("{file}, line {line}: column {column} holds {value:?}, which is not a number")]
    BadNumber {
        file: String,
        line: usize,
        column: String,
        value: String,
    },

    /// The CSV parser (polars) failed.
    #[error("cannot parse {file}: {message}")]
    Parse { file: String, message: String },

    /// The paper protocol's train and val/test one-hot layouts do not have the same width
    /// (only possible for inputs other than the checksummed UCI files).
    #[error("feature layout mismatch: {message}")]
    Layout { message: String },
}
