//! The error type of the loader.

use std::path::PathBuf;

/// Everything that can go wrong while reading and preprocessing the Census-Income files.
///
/// Every variant names the file it concerns (as the path it was opened with), and the
/// row-level variants give the 1-based line number in the decompressed file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file does not exist. `dir` is the directory that was searched (the one given,
    /// e.g. `--data-dir` or the config's `data_dir`), `dir_exists` whether it exists at all.
    #[error(
        "data file not found: {} (looked in {}{}); the Census-Income (KDD) files come from the \
         UCI Machine Learning Repository, see data/census-income/README.md in the adatt-rs \
         repository for where to get them and their sha256",
        path.display(),
        dir.display(),
        if *dir_exists { "" } else { ", which does not exist" }
    )]
    MissingFile {
        path: PathBuf,
        dir: PathBuf,
        dir_exists: bool,
    },

    /// Any other I/O failure while reading the file.
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An output file whose name says no format this program writes.
    #[error("cannot write {}: {message}", path.display())]
    OutputName {
        path: PathBuf,
        /// Which names are written.
        message: String,
    },

    /// The file exists but holds no bytes at all.
    #[error(
        "{file} is empty (0 bytes); it should be a gzip-compressed Census-Income file, \
         see data/census-income/README.md"
    )]
    EmptyFile { file: String },

    /// The file is not a complete, valid gzip stream. `truncated`: the stream ends early
    /// (an interrupted download or copy); otherwise the bytes are not gzip or are corrupt.
    /// Reported before the checksum, which such a file cannot match either.
    #[error(
        "{file} {}; replace it with the complete file, see data/census-income/README.md",
        if *truncated {
            "is truncated: its gzip stream ends early (incomplete download or copy?)"
        } else {
            "is not a valid gzip file (corrupt or not gzip-compressed)"
        }
    )]
    Gzip {
        file: String,
        truncated: bool,
        #[source]
        source: std::io::Error,
    },

    /// The file is a complete, valid gzip stream, but the sha256 of its (compressed) bytes
    /// is not the expected one: different content from the UCI file.
    #[error(
        "checksum mismatch for {file}: it is a complete gzip file, but its content differs \
         from the expected Census-Income file (expected sha256 {expected}, got {got}); \
         see data/census-income/README.md"
    )]
    Checksum {
        file: String,
        expected: String,
        got: String,
    },

    /// The file decompressed to something that is not UTF-8 text.
    #[error("{file} is not UTF-8 text (first bad byte at offset {offset})")]
    NotText { file: String, offset: usize },

    /// The file is a valid gzip stream, but it decompresses to no data rows.
    #[error("{file} has no data rows (a valid gzip file with nothing in it)")]
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

    /// A row's join key has no row in a side table (`data.joins[join]`, `unmatched = "error"`).
    #[error(
        "{file}, line {line}: {column} = {value:?} has no row in {side} (data.joins[{join}]; \
         `unmatched = \"missing\"` would give that row missing side columns)"
    )]
    Unmatched {
        file: String,
        line: usize,
        column: String,
        value: String,
        side: String,
        join: usize,
    },

    /// The CSV parser (polars) failed.
    #[error("cannot parse {file}: {message}")]
    Parse { file: String, message: String },

    /// The paper protocol's train and val/test one-hot layouts do not have the same width
    /// (only possible for inputs other than the checksummed UCI files).
    #[error("feature layout mismatch: {message}")]
    Layout { message: String },

    /// A simulator config is invalid: `key` names the setting (e.g. `tasks.like.positive_rate`,
    /// `relations`), `source` the preset or file it came from.
    /// A user table's schema is refused before any file is read.
    #[error("table schema: `{key}` {message}")]
    Schema {
        /// The dotted key, e.g. `data.labels[0].column`.
        key: String,
        /// What is wrong.
        message: String,
    },
    #[error("simulator config {source_name}: {key}: {message}")]
    Simulator {
        source_name: String,
        key: String,
        message: String,
    },
}
