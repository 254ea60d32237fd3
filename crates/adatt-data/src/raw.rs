//! Reading one raw Census-Income file: gunzip, checksum, field-count validation, CSV parse.

use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use polars::prelude::{
    CsvReadOptions, DataFrame, DataType, Field, Schema, SerReader, StringChunked,
};
use sha2::{Digest, Sha256};

use crate::error::DataError;

/// Number of comma-separated fields on every line.
pub const N_FIELDS: usize = 42;

/// The 42 column names, in file order (the names used by the AdaTT / MMoEEx code bases).
pub const COLUMN_NAMES: [&str; N_FIELDS] = [
    "age",
    "class_worker",
    "det_ind_code",
    "det_occ_code",
    "education",
    "wage_per_hour",
    "hs_college",
    "marital_stat",
    "major_ind_code",
    "major_occ_code",
    "race",
    "hisp_origin",
    "sex",
    "union_member",
    "unemp_reason",
    "full_or_part_emp",
    "capital_gains",
    "capital_losses",
    "stock_dividends",
    "tax_filer_stat",
    "region_prev_res",
    "state_prev_res",
    "det_hh_fam_stat",
    "det_hh_summ",
    "instance_weight",
    "mig_chg_msa",
    "mig_chg_reg",
    "mig_move_reg",
    "mig_same",
    "mig_prev_sunbelt",
    "num_emp",
    "fam_under_18",
    "country_father",
    "country_mother",
    "country_self",
    "citizenship",
    "own_or_self",
    "vet_question",
    "vet_benefits",
    "weeks_worked",
    "year",
    "income_50k",
];

/// File name of the training file inside the data directory.
pub const TRAIN_FILE: &str = "census-income.data.gz";
/// File name of the test file inside the data directory.
pub const TEST_FILE: &str = "census-income.test.gz";
/// sha256 of `census-income.data.gz` (see data/census-income/README.md).
pub const TRAIN_SHA256: &str = "3a8265c042a3a804761b804e3fbd2b44d26780fc11848cdc499a439b6ec209c2";
/// sha256 of `census-income.test.gz` (see data/census-income/README.md).
pub const TEST_SHA256: &str = "5ac4cacd3ca9f1ecb10de1a0a41e4ac68fdc419e3fec190f5c0c6cc03b2ea659";

/// Index of a column name in [`COLUMN_NAMES`]; panics on a name that is not a column
/// (only called with the crate's own constants).
pub(crate) fn col_index(name: &str) -> usize {
    COLUMN_NAMES
        .iter()
        .position(|c| *c == name)
        .unwrap_or_else(|| panic!("{name} is not a Census-Income column"))
}

/// One decompressed and parsed Census-Income file, every field kept as the raw text between
/// the commas (so string values keep their leading space, exactly as pandas'
/// `read_csv(delimiter=",")` sees them).
pub struct RawTable {
    file: String,
    sha256: String,
    n_rows: usize,
    df: DataFrame,
}

impl std::fmt::Debug for RawTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawTable")
            .field("file", &self.file)
            .field("sha256", &self.sha256)
            .field("n_rows", &self.n_rows)
            .finish()
    }
}

impl RawTable {
    /// Reads `path`, decompresses it, verifies the sha256 of its (compressed) bytes against
    /// `expected_sha256` when given, checks that every line has [`N_FIELDS`] fields, and
    /// parses it with polars into 42 string columns. Nothing is written to disk.
    ///
    /// The failures are told apart in this order, each naming `path` as given: the file does
    /// not exist ([`DataError::MissingFile`], with the directory searched), it has 0 bytes
    /// ([`DataError::EmptyFile`]), it is not a complete gzip stream ([`DataError::Gzip`],
    /// `truncated` when the stream ends early), and only then, for a complete gzip file, a
    /// sha256 other than the expected one ([`DataError::Checksum`]).
    pub fn read(path: &Path, expected_sha256: Option<&str>) -> Result<RawTable, DataError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                DataError::MissingFile {
                    path: path.to_path_buf(),
                    dir: dir.to_path_buf(),
                    dir_exists: dir.is_dir(),
                }
            }
            _ => DataError::Io {
                path: path.to_path_buf(),
                source: e,
            },
        })?;
        if bytes.is_empty() {
            return Err(DataError::EmptyFile { file });
        }
        let sha256 = hex::encode(Sha256::digest(&bytes));
        // Decompress before comparing checksums: a truncated or corrupt file cannot match
        // either, and "checksum mismatch" would hide what is wrong with it.
        let text = gunzip(&bytes, &file)?;
        drop(bytes);
        if let Some(expected) = expected_sha256 {
            if !sha256.eq_ignore_ascii_case(expected) {
                return Err(DataError::Checksum {
                    file,
                    expected: expected.to_ascii_lowercase(),
                    got: sha256,
                });
            }
        }
        let n_rows = validate_lines(&text, &file)?;
        let df = parse_csv(text, &file)?;
        if df.height() != n_rows {
            return Err(DataError::Parse {
                file,
                message: format!(
                    "the CSV parser returned {} rows, the file has {n_rows} lines",
                    df.height()
                ),
            });
        }
        Ok(RawTable {
            file,
            sha256,
            n_rows,
            df,
        })
    }

    /// The path the table was read from, as displayed in error messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The sha256 (lowercase hex) of the compressed file.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Number of data rows (= lines).
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// The raw text of every row of the column `name` (leading space kept), in file order.
    ///
    /// # Panics
    /// If `name` is not one of [`COLUMN_NAMES`].
    pub fn column(&self, name: &str) -> Vec<&str> {
        let _ = col_index(name);
        let ca: &StringChunked = self
            .df
            .column(name)
            .and_then(|c| c.str())
            .unwrap_or_else(|e| panic!("column {name} of {}: {e}", self.file));
        ca.iter().map(|v| v.unwrap_or("")).collect()
    }

    /// The column `name` parsed as numbers (after trimming the surrounding spaces); a field
    /// that is not a number is a [`DataError::BadNumber`] naming the file and line.
    pub fn numeric_column(&self, name: &str) -> Result<Vec<f64>, DataError> {
        self.column(name)
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let t = v.trim();
                t.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| DataError::BadNumber {
                        file: self.file.clone(),
                        line: i + 1,
                        column: name.to_string(),
                        value: t.to_string(),
                    })
            })
            .collect()
    }

    /// The column `name` parsed as integers (after trimming); errors as [`Self::numeric_column`].
    pub fn integer_column(&self, name: &str) -> Result<Vec<i64>, DataError> {
        self.column(name)
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let t = v.trim();
                t.parse::<i64>().map_err(|_| DataError::BadNumber {
                    file: self.file.clone(),
                    line: i + 1,
                    column: name.to_string(),
                    value: t.to_string(),
                })
            })
            .collect()
    }
}

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Decompresses a whole gzip stream; a truncated or corrupt stream is an error, never a
/// partial result.
fn gunzip(bytes: &[u8], file: &str) -> Result<Vec<u8>, DataError> {
    // The gzip trailer stores the uncompressed size modulo 2^32: a good capacity hint.
    let hint = if bytes.len() >= 4 {
        let t = &bytes[bytes.len() - 4..];
        (u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize).min(1 << 30)
    } else {
        0
    };
    let mut out = Vec::with_capacity(hint);
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|source| DataError::Gzip {
            file: file.to_string(),
            truncated: is_truncation(bytes, &source),
            source,
        })?;
    Ok(out)
}

/// Whether a decompression failure means the gzip stream ends early: flate2 reports a stream
/// cut inside its header, deflate data or trailer as `UnexpectedEof`. Bytes that do not start
/// like gzip are never "truncated", they are not gzip at all.
fn is_truncation(bytes: &[u8], err: &std::io::Error) -> bool {
    let looks_like_gzip = GZIP_MAGIC.starts_with(&bytes[..bytes.len().min(GZIP_MAGIC.len())]);
    err.kind() == std::io::ErrorKind::UnexpectedEof && looks_like_gzip
}

/// Checks that the text is UTF-8 and that every line has exactly [`N_FIELDS`] fields.
/// Returns the number of lines (a final newline does not start a new line).
fn validate_lines(text: &[u8], file: &str) -> Result<usize, DataError> {
    if let Err(e) = std::str::from_utf8(text) {
        return Err(DataError::NotText {
            file: file.to_string(),
            offset: e.valid_up_to(),
        });
    }
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    if body.is_empty() {
        return Err(DataError::Empty {
            file: file.to_string(),
        });
    }
    let mut n = 0;
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let got = line.iter().filter(|&&b| b == b',').count() + 1;
        if got != N_FIELDS {
            return Err(DataError::FieldCount {
                file: file.to_string(),
                line: i + 1,
                expected: N_FIELDS,
                got,
            });
        }
        n += 1;
    }
    Ok(n)
}

/// Parses validated text into 42 string columns named [`COLUMN_NAMES`]: separator `,`, no
/// quoting, no header, empty fields kept as empty strings.
fn parse_csv(text: Vec<u8>, file: &str) -> Result<DataFrame, DataError> {
    let schema: Schema = COLUMN_NAMES
        .iter()
        .map(|name| Field::new((*name).into(), DataType::String))
        .collect();
    CsvReadOptions::default()
        .with_has_header(false)
        .with_schema(Some(Arc::new(schema)))
        .map_parse_options(|o| {
            o.with_separator(b',')
                .with_quote_char(None)
                .with_missing_is_null(false)
        })
        .into_reader_with_file_handle(Cursor::new(text))
        .finish()
        .map_err(|e| DataError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_count_names_line() {
        let good = "1".to_string() + &", x".repeat(N_FIELDS - 1);
        let bad = "1".to_string() + &", x".repeat(N_FIELDS - 2);
        let text = format!("{good}\n{good}\n{bad}\n{good}\n");
        match validate_lines(text.as_bytes(), "f.csv") {
            Err(DataError::FieldCount { line, got, .. }) => {
                assert_eq!(line, 3);
                assert_eq!(got, N_FIELDS - 1);
            }
            other => panic!("expected FieldCount, got {other:?}"),
        }
        assert_eq!(
            validate_lines(format!("{good}\n{good}").as_bytes(), "f").unwrap(),
            2
        );
        assert!(matches!(
            validate_lines(b"\n", "f"),
            Err(DataError::Empty { .. })
        ));
    }

    #[test]
    fn parse_keeps_leading_spaces_and_empty_fields() {
        let row1: Vec<String> = (0..N_FIELDS).map(|i| format!(" v{i}")).collect();
        let mut row2 = row1.clone();
        row2[0] = "7".into();
        row2[5] = String::new();
        let text = format!("{}\n{}\n", row1.join(","), row2.join(","));
        let df = parse_csv(text.into_bytes(), "f").unwrap();
        assert_eq!(df.height(), 2);
        let t = RawTable {
            file: "f".into(),
            sha256: String::new(),
            n_rows: 2,
            df,
        };
        assert_eq!(t.column("age"), vec![" v0", "7"]);
        assert_eq!(t.column("wage_per_hour"), vec![" v5", ""]);
        assert_eq!(t.column("income_50k"), vec![" v41", " v41"]);
        assert!(matches!(
            t.integer_column("age"),
            Err(DataError::BadNumber { line: 1, .. })
        ));
    }
}
