//! Reading a user's table: the files a schema names (CSV with a header, or Parquet), their
//! columns checked and converted, every row given its split, the encodings fitted on the
//! training rows alone and applied to all:
//!
//! - a categorical column becomes an index per row: 0 for a value seen fewer than `min_count`
//!   times in training or never (out of vocabulary), else 1 + the value's rank among the kept
//!   training values in sorted order; with `hash_buckets = B`, 1 + a hash of the value mod B;
//! - a numeric column is scaled with the training rows' statistics (population standard
//!   deviation; a constant column is only centred), a missing value imputed with the training
//!   mean (scaled: 0) and flagged in an indicator column after all numeric columns;
//! - a binary label is 1 for the positive value (default 1) and 0 for 0; a regression label is
//!   its value, or ln(1 + value).
//!
//! Rows keep the files' order; errors name the file, the row (1-based, data rows) and the column.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::{CsvReadOptions, DataFrame, DataType, ParquetReader, SerReader, Series};

use super::schema::{
    CategoricalColumn, LabelColumn, LabelKind, LabelTransform, MissingPolicy, NumericColumn,
    NumericScale, SplitBound, TableData, TableSplit,
};
use crate::error::DataError;
use crate::TaskKind;

type Result<T> = std::result::Result<T, DataError>;

/// One split's rows, row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableRows {
    /// Rows.
    pub n: usize,
    /// `n × categorical` indices (0: out of vocabulary).
    pub ids: Vec<i64>,
    /// `n × dense`: the scaled numeric columns, then one indicator per imputed column.
    pub dense: Vec<f32>,
    /// `n × tasks`.
    pub labels: Vec<f32>,
}

/// A table read, split and encoded.
#[derive(Clone, Debug, PartialEq)]
pub struct TableSet {
    /// Task names, in the schema's order.
    pub task_names: Vec<String>,
    /// Binary or regression, per task.
    pub task_kinds: Vec<TaskKind>,
    /// Per categorical column, the number of indices (out-of-vocabulary 0 included).
    pub cardinalities: Vec<usize>,
    /// The dense columns: the numeric ones, then `<column>_missing` per imputed column.
    pub dense_names: Vec<String>,
    /// Training rows.
    pub train: TableRows,
    /// Validation rows.
    pub valid: TableRows,
    /// Test rows.
    pub test: TableRows,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
}

/// Where a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Train,
    Valid,
    Test,
}

/// The raw columns of every file, concatenated, with where each file's rows start.
struct Raw {
    files: Vec<PathBuf>,
    starts: Vec<usize>,
    labels: Vec<Vec<f64>>,
    categorical: Vec<Vec<Option<String>>>,
    numeric: Vec<Vec<Option<f64>>>,
    split: Vec<SplitValue>,
}

/// A row's value of the split column (none for a random split).
#[derive(Clone, Debug, PartialEq, PartialOrd)]
enum SplitValue {
    None,
    Number(f64),
    Text(String),
}

impl Raw {
    /// The file and 1-based row of global row `i`.
    fn place(&self, i: usize) -> (String, usize) {
        let f = self.starts.partition_point(|&s| s <= i) - 1;
        (self.files[f].display().to_string(), i - self.starts[f] + 1)
    }
}

/// Reads, checks, splits and encodes the table `t` describes; relative file patterns are
/// taken from `base` (the directory the command runs in).
pub fn load(t: &TableData, base: &Path) -> Result<TableSet> {
    t.validate()?;
    let files = resolve(t, base)?;
    let raw = read_all(t, &files)?;
    let parts = assign(t, &raw);
    for (part, key) in [
        (Part::Train, "train"),
        (Part::Valid, "valid"),
        (Part::Test, "test"),
    ] {
        if !parts.contains(&part) {
            return Err(DataError::Schema {
                key: "data.split".into(),
                message: format!(
                    "leaves the {key} set without rows ({} rows in all)",
                    parts.len()
                ),
            });
        }
    }
    let labels = encode_labels(t, &raw)?;
    check_both_classes(t, &labels, &parts)?;
    let (ids, cardinalities) = encode_categorical(&t.categorical, &raw.categorical, &parts);
    let (dense, dense_names) = encode_numeric(&t.numeric, &raw.numeric, &parts);
    let rows = |want: Part| {
        let pick: Vec<usize> = (0..parts.len()).filter(|&i| parts[i] == want).collect();
        TableRows {
            n: pick.len(),
            ids: pick
                .iter()
                .flat_map(|&i| ids.iter().map(move |c| c[i]))
                .collect(),
            dense: pick
                .iter()
                .flat_map(|&i| dense.iter().map(move |c| c[i]))
                .collect(),
            labels: pick
                .iter()
                .flat_map(|&i| labels.iter().map(move |c| c[i]))
                .collect(),
        }
    };
    Ok(TableSet {
        task_names: t.task_names(),
        task_kinds: t
            .labels
            .iter()
            .map(|l| match l.kind {
                LabelKind::Binary => TaskKind::Binary,
                LabelKind::Regression => TaskKind::Regression,
            })
            .collect(),
        cardinalities,
        dense_names,
        train: rows(Part::Train),
        valid: rows(Part::Valid),
        test: rows(Part::Test),
        files,
    })
}

/// `*` (any run of characters) and `?` (one character) in a file name.
fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// The files of every pattern, each pattern's in name order; a pattern without a file is an
/// error naming it.
fn resolve(t: &TableData, base: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for (k, pattern) in t.files.iter().enumerate() {
        let path = base.join(pattern);
        let (dir, name) = (
            path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned(),
        );
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| matches(&name, n))
            })
            .collect();
        if found.is_empty() {
            return Err(DataError::Schema {
                key: format!("data.files[{k}]"),
                message: format!("`{pattern}` matches no file in {}", dir.display()),
            });
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// One file as a data frame; a CSV's header must name each column once.
fn read_frame(path: &Path) -> Result<DataFrame> {
    let file = path.display().to_string();
    let parse = |e: polars::prelude::PolarsError| DataError::Parse {
        file: file.clone(),
        message: e.to_string(),
    };
    let df = if path.extension().is_some_and(|e| e == "parquet") {
        let f = std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        ParquetReader::new(f).finish().map_err(parse)?
    } else {
        check_csv_header(path)?;
        CsvReadOptions::default()
            .with_has_header(true)
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

/// A CSV header naming a column twice is refused (polars would rename the second).
fn check_csv_header(path: &Path) -> Result<()> {
    use std::io::BufRead;
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut line = String::new();
    std::io::BufReader::new(std::fs::File::open(path).map_err(io)?)
        .read_line(&mut line)
        .map_err(io)?;
    let header: Vec<&str> = line.trim_end().split(',').map(str::trim).collect();
    for (i, h) in header.iter().enumerate() {
        if header[..i].contains(h) {
            return Err(DataError::Parse {
                file: path.display().to_string(),
                message: format!("the header names column `{h}` twice"),
            });
        }
    }
    Ok(())
}

/// The column `name` of `df` as a series, or an error naming the file and column.
fn column(df: &DataFrame, name: &str, file: &Path) -> Result<Series> {
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
fn numbers(s: &Series, file: &Path) -> Result<Vec<Option<f64>>> {
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
fn texts(s: &Series) -> Vec<Option<String>> {
    let t = s.cast(&DataType::String).expect("any column casts to text");
    let ca = t.str().expect("cast to text");
    (0..ca.len())
        .map(|i| ca.get(i).map(str::to_owned))
        .collect()
}

/// Every file's columns of the schema, concatenated.
fn read_all(t: &TableData, files: &[PathBuf]) -> Result<Raw> {
    let mut raw = Raw {
        files: files.to_vec(),
        starts: Vec::new(),
        labels: vec![Vec::new(); t.labels.len()],
        categorical: vec![Vec::new(); t.categorical.len()],
        numeric: vec![Vec::new(); t.numeric.len()],
        split: Vec::new(),
    };
    let mut total = 0;
    for f in files {
        let df = read_frame(f)?;
        raw.starts.push(total);
        for (k, l) in t.labels.iter().enumerate() {
            let v = numbers(&column(&df, &l.column, f)?, f)?;
            for (row, x) in v.iter().enumerate() {
                let x = x
                    .filter(|x| !x.is_nan())
                    .ok_or_else(|| DataError::BadNumber {
                        file: f.display().to_string(),
                        line: row + 1,
                        column: l.column.clone(),
                        value: "a missing or NaN label".into(),
                    })?;
                raw.labels[k].push(x);
            }
        }
        for (k, c) in t.categorical.iter().enumerate() {
            raw.categorical[k].extend(texts(&column(&df, &c.column, f)?));
        }
        for (k, c) in t.numeric.iter().enumerate() {
            raw.numeric[k].extend(numbers(&column(&df, &c.column, f)?, f)?);
        }
        raw.split.extend(split_values(&t.split, &df, f)?);
        total += df.height();
    }
    raw.starts.push(total);
    check_missing(t, &raw)?;
    Ok(raw)
}

/// The split column's values (none for a random split).
fn split_values(split: &TableSplit, df: &DataFrame, f: &Path) -> Result<Vec<SplitValue>> {
    Ok(match split {
        TableSplit::Random { .. } => vec![SplitValue::None; df.height()],
        TableSplit::Time {
            column: c,
            valid_from: SplitBound::Number(_),
            ..
        } => numbers(&column(df, c, f)?, f)?
            .into_iter()
            .map(|v| v.map_or(SplitValue::None, SplitValue::Number))
            .collect(),
        TableSplit::Time { column: c, .. } | TableSplit::Column { column: c, .. } => {
            texts(&column(df, c, f)?)
                .into_iter()
                .map(|v| v.map_or(SplitValue::None, SplitValue::Text))
                .collect()
        }
    })
}

/// A missing numeric value under `missing = "error"` names its file, row and column.
fn check_missing(t: &TableData, raw: &Raw) -> Result<()> {
    for (c, values) in t.numeric.iter().zip(&raw.numeric) {
        if c.missing != MissingPolicy::Error {
            continue;
        }
        if let Some(i) = values.iter().position(|v| v.is_none_or(f64::is_nan)) {
            let (file, line) = raw.place(i);
            return Err(DataError::BadNumber {
                file,
                line,
                column: c.column.clone(),
                value: "a missing value (data.numeric's missing = \"error\")".into(),
            });
        }
    }
    Ok(())
}

/// splitmix64: a well-mixed 64-bit hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Each row's split.
fn assign(t: &TableData, raw: &Raw) -> Vec<Part> {
    let n = raw.split.len();
    match &t.split {
        TableSplit::Random { seed, valid, test } => (0..n)
            .map(|i| {
                let u = (mix(mix(*seed) ^ i as u64) >> 11) as f64 / (1u64 << 53) as f64;
                if u < *valid {
                    Part::Valid
                } else if u < valid + test {
                    Part::Test
                } else {
                    Part::Train
                }
            })
            .collect(),
        TableSplit::Time {
            valid_from,
            test_from,
            ..
        } => {
            let bound = |b: &SplitBound| match b {
                SplitBound::Number(x) => SplitValue::Number(*x),
                SplitBound::Text(s) => SplitValue::Text(s.clone()),
            };
            let (v, te) = (bound(valid_from), bound(test_from));
            raw.split
                .iter()
                .map(|x| {
                    if *x >= te {
                        Part::Test
                    } else if *x >= v {
                        Part::Valid
                    } else {
                        Part::Train
                    }
                })
                .collect()
        }
        TableSplit::Column {
            train, valid, test, ..
        } => raw
            .split
            .iter()
            .map(|x| match x {
                SplitValue::Text(s) if s == valid => Part::Valid,
                SplitValue::Text(s) if s == test => Part::Test,
                SplitValue::Text(s) if s == train => Part::Train,
                _ => Part::Train,
            })
            .collect(),
    }
}

/// The labels as training targets, per task; a binary value other than 0 and the positive one
/// names its row.
fn encode_labels(t: &TableData, raw: &Raw) -> Result<Vec<Vec<f32>>> {
    t.labels
        .iter()
        .zip(&raw.labels)
        .map(|(l, values)| encode_label(l, values, raw))
        .collect()
}

fn encode_label(l: &LabelColumn, values: &[f64], raw: &Raw) -> Result<Vec<f32>> {
    let bad = |i: usize, what: String| {
        let (file, line) = raw.place(i);
        DataError::BadNumber {
            file,
            line,
            column: l.column.clone(),
            value: what,
        }
    };
    values
        .iter()
        .enumerate()
        .map(|(i, &y)| match (l.kind, l.transform) {
            (LabelKind::Binary, _) => {
                let positive = l.positive.unwrap_or(1.0);
                if y == positive {
                    Ok(1.0)
                } else if y == 0.0 {
                    Ok(0.0)
                } else {
                    Err(bad(
                        i,
                        format!("{y}, a binary label that is neither 0 nor {positive}"),
                    ))
                }
            }
            (LabelKind::Regression, Some(LabelTransform::Log1p)) if y <= -1.0 => {
                Err(bad(i, format!("{y}, whose log1p is not finite")))
            }
            (LabelKind::Regression, Some(LabelTransform::Log1p)) => Ok(y.ln_1p() as f32),
            (LabelKind::Regression, None) => Ok(y as f32),
        })
        .collect()
}

/// A binary task needs both classes among the training rows.
fn check_both_classes(t: &TableData, labels: &[Vec<f32>], parts: &[Part]) -> Result<()> {
    for (k, (l, y)) in t.labels.iter().zip(labels).enumerate() {
        if l.kind != LabelKind::Binary {
            continue;
        }
        let train = y.iter().zip(parts).filter(|(_, p)| **p == Part::Train);
        let pos = train.clone().filter(|(v, _)| **v == 1.0).count();
        if pos == 0 || pos == train.count() {
            return Err(DataError::Schema {
                key: format!("data.labels[{k}]"),
                message: format!(
                    "column `{}` has one class only in the training rows ({pos} positive)",
                    l.column
                ),
            });
        }
    }
    Ok(())
}

/// FNV-1a, a stable hash of a value for hash buckets.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Each categorical column's indices and its cardinality (out of vocabulary included).
fn encode_categorical(
    cols: &[CategoricalColumn],
    values: &[Vec<Option<String>>],
    parts: &[Part],
) -> (Vec<Vec<i64>>, Vec<usize>) {
    cols.iter()
        .zip(values)
        .map(|(c, v)| {
            if let Some(b) = c.hash_buckets {
                let ids = v
                    .iter()
                    .map(|x| x.as_deref().map_or(0, |s| 1 + (fnv(s) % b as u64) as i64))
                    .collect();
                return (ids, b + 1);
            }
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for (x, p) in v.iter().zip(parts) {
                if let (Some(x), Part::Train) = (x, p) {
                    *counts.entry(x.as_str()).or_default() += 1;
                }
            }
            let vocab: HashMap<&str, i64> = counts
                .into_iter()
                .filter(|(_, n)| *n >= c.min_count)
                .enumerate()
                .map(|(k, (x, _))| (x, k as i64 + 1))
                .collect();
            let ids = v
                .iter()
                .map(|x| {
                    x.as_deref()
                        .and_then(|s| vocab.get(s).copied())
                        .unwrap_or(0)
                })
                .collect();
            (ids, vocab.len() + 1)
        })
        .unzip()
}

/// The scaled numeric columns, then the missing indicators of the imputed ones, with names.
fn encode_numeric(
    cols: &[NumericColumn],
    values: &[Vec<Option<f64>>],
    parts: &[Part],
) -> (Vec<Vec<f32>>, Vec<String>) {
    let (mut dense, mut names) = (Vec::new(), Vec::new());
    let (mut indicators, mut indicator_names) = (Vec::new(), Vec::new());
    for (c, v) in cols.iter().zip(values) {
        let seen: Vec<f64> = v
            .iter()
            .zip(parts)
            .filter(|(_, p)| **p == Part::Train)
            .filter_map(|(x, _)| x.filter(|x| !x.is_nan()))
            .collect();
        let n = seen.len().max(1) as f64;
        let mean = seen.iter().sum::<f64>() / n;
        let (shift, scale) = match c.scale {
            NumericScale::Standard => {
                let var = seen.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                (mean, var.sqrt())
            }
            NumericScale::MinMax => {
                let lo = seen.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = seen.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (lo, hi - lo)
            }
        };
        let scale = if scale > 0.0 && scale.is_finite() {
            scale
        } else {
            1.0
        };
        let fill = (mean - shift) / scale;
        dense.push(
            v.iter()
                .map(|x| {
                    x.filter(|x| !x.is_nan())
                        .map_or(fill, |x| (x - shift) / scale) as f32
                })
                .collect(),
        );
        names.push(c.column.clone());
        if c.missing == MissingPolicy::Impute {
            indicators.push(
                v.iter()
                    .map(|x| f32::from(x.is_none_or(f64::is_nan)))
                    .collect(),
            );
            indicator_names.push(format!("{}_missing", c.column));
        }
    }
    dense.extend(indicators);
    names.extend(indicator_names);
    (dense, names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{IntoColumn, NamedFrom, ParquetWriter};

    const CSV: &str = "user,age,click,wt,s\n\
        a,10,1,0,train\n\
        b,20,0,1.718281828459045,train\n\
        a,,1,3,train\n\
        c,30,0,0,valid\n\
        d,40,1,7,test\n";

    const SCHEMA: &str = r#"
name = "t"
files = ["FILES"]
labels = [
  { column = "click", kind = "binary" },
  { column = "wt", kind = "regression", transform = "log1p" },
]
categorical = [{ column = "user" }]
numeric = [{ column = "age" }]
split = { kind = "column", column = "s", train = "train", valid = "valid", test = "test" }
"#;

    fn schema(files: &str, edit: (&str, &str)) -> TableData {
        toml::from_str(&SCHEMA.replace("FILES", files).replacen(edit.0, edit.1, 1)).unwrap()
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// Worked by hand: the training rows are the first three; `user` keeps a → 1, b → 2 (c and d
    /// are out of vocabulary, 0); `age` on the training values 10 and 20 has mean 15 and
    /// population std 5, so 10 → −1, 20 → 1, the missing one → 0 with its indicator 1, 30 → 3,
    /// 40 → 5; `wt` is ln(1 + y): ln(e) = 1, ln 4, ln 8.
    #[test]
    fn a_csv_is_split_and_encoded_with_training_statistics() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "log.csv", CSV);
        let s = load(&schema("log.csv", ("", "")), d.path()).unwrap();
        assert_eq!(s.task_names, ["click", "wt"]);
        assert_eq!(s.task_kinds, [TaskKind::Binary, TaskKind::Regression]);
        assert_eq!(s.cardinalities, [3]);
        assert_eq!(s.dense_names, ["age", "age_missing"]);
        assert_eq!((s.train.n, s.valid.n, s.test.n), (3, 1, 1));
        assert_eq!(s.train.ids, [1, 2, 1]);
        assert_eq!(s.train.dense, [-1.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
        let wt: Vec<f32> = s.train.labels.chunks(2).map(|r| r[1]).collect();
        let want = [0.0, 1.0, 4f64.ln() as f32];
        assert!(
            wt.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{wt:?}"
        );
        assert_eq!(
            s.train.labels.chunks(2).map(|r| r[0]).collect::<Vec<_>>(),
            [1.0, 0.0, 1.0]
        );
        assert_eq!(
            (s.valid.ids.clone(), s.valid.dense.clone()),
            (vec![0], vec![3.0, 0.0])
        );
        assert_eq!(
            (s.test.ids.clone(), s.test.dense.clone()),
            (vec![0], vec![5.0, 0.0])
        );
        assert!((s.test.labels[1] - 8f32.ln()).abs() < 1e-6);
        // min_count = 2 keeps a only; min-max scaling maps 10..20 to 0..1.
        let s = load(
            &schema(
                "log.csv",
                (
                    "[{ column = \"user\" }]",
                    "[{ column = \"user\", min_count = 2 }]",
                ),
            ),
            d.path(),
        )
        .unwrap();
        assert_eq!(
            (s.cardinalities.clone(), s.train.ids.clone()),
            (vec![2], vec![1, 0, 1])
        );
        let s = load(
            &schema(
                "log.csv",
                (
                    "[{ column = \"age\" }]",
                    "[{ column = \"age\", scale = \"min_max\" }]",
                ),
            ),
            d.path(),
        )
        .unwrap();
        // (x − 10) / 10; the missing value is the training mean 15 → 0.5.
        assert_eq!(s.train.dense, [0.0, 0.0, 1.0, 0.0, 0.5, 1.0]);
        assert_eq!(s.test.dense, [3.0, 0.0]);
    }

    /// The same rows as Parquet shards matched by a glob give the same encoded set.
    #[test]
    fn parquet_shards_read_like_the_csv() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "log.csv", CSV);
        let want = load(&schema("log.csv", ("", "")), d.path()).unwrap();
        let shard = |rows: std::ops::Range<usize>, name: &str| {
            let user = ["a", "b", "a", "c", "d"];
            let age = [Some(10i64), Some(20), None, Some(30), Some(40)];
            let click = [1i64, 0, 1, 0, 1];
            let wt = [0.0, std::f64::consts::E - 1.0, 3.0, 0.0, 7.0];
            let s = ["train", "train", "train", "valid", "test"];
            let cols = vec![
                Series::new("user".into(), &user[rows.clone()]).into_column(),
                Series::new("age".into(), &age[rows.clone()]).into_column(),
                Series::new("click".into(), &click[rows.clone()]).into_column(),
                Series::new("wt".into(), &wt[rows.clone()]).into_column(),
                Series::new("s".into(), &s[rows.clone()]).into_column(),
            ];
            let mut df = DataFrame::new(rows.len(), cols).unwrap();
            let f = std::fs::File::create(d.path().join(name)).unwrap();
            ParquetWriter::new(f).finish(&mut df).unwrap();
        };
        shard(0..2, "part-0.parquet");
        shard(2..5, "part-1.parquet");
        let got = load(&schema("part-*.parquet", ("", "")), d.path()).unwrap();
        assert_eq!(got.files.len(), 2);
        assert_eq!(
            (
                got.train,
                got.valid,
                got.test,
                got.cardinalities,
                got.dense_names
            ),
            (
                want.train,
                want.valid,
                want.test,
                want.cardinalities,
                want.dense_names
            )
        );
    }

    /// Bad input, each one error naming the file, row and column where it has them (tests as
    /// data: a change to the CSV or the schema, and pieces of the message).
    #[test]
    fn bad_input_is_one_error_naming_where() {
        let cases: &[(&str, (&str, &str), (&str, &str), &[&str])] = &[
            (
                "missing column",
                ("user,age", "usr,age"),
                ("", ""),
                &["log.csv", "no column `user`"],
            ),
            (
                "not a number",
                ("b,20,0", "b,twenty,0"),
                ("", ""),
                &["log.csv", "line 2", "age", "twenty"],
            ),
            (
                "label not 0/1",
                ("c,30,0,0", "c,30,2,0"),
                ("", ""),
                &["log.csv", "line 4", "click", "neither 0 nor 1"],
            ),
            (
                "missing label",
                ("d,40,1,7", "d,40,,7"),
                ("", ""),
                &["log.csv", "line 5", "click", "missing or NaN"],
            ),
            (
                "log1p of -1",
                ("a,10,1,0,", "a,10,1,-1,"),
                ("", ""),
                &["line 1", "wt", "log1p"],
            ),
            (
                "duplicate header",
                ("user,age,click,wt,s", "user,age,click,wt,user"),
                ("", ""),
                &["log.csv", "`user` twice"],
            ),
            (
                "empty split",
                ("d,40,1,7,test", "d,40,1,7,valid"),
                ("", ""),
                &["data.split", "test set without rows"],
            ),
            (
                "one class",
                ("b,20,0,", "b,20,1,"),
                ("", ""),
                &["data.labels[0]", "one class only"],
            ),
            (
                "no file",
                ("", ""),
                ("files = [\"log.csv\"]", "files = [\"logs-*.csv\"]"),
                &["data.files[0]", "matches no file"],
            ),
            (
                "missing under error",
                ("", ""),
                (
                    "[{ column = \"age\" }]",
                    "[{ column = \"age\", missing = \"error\" }]",
                ),
                &["log.csv", "line 3", "age", "missing"],
            ),
        ];
        for (what, csv_edit, schema_edit, pieces) in cases {
            let d = tempfile::tempdir().unwrap();
            assert!(CSV.contains(csv_edit.0), "{what}");
            write(
                d.path(),
                "log.csv",
                &CSV.replacen(csv_edit.0, csv_edit.1, 1),
            );
            let mut text = SCHEMA.replace("FILES", "log.csv");
            assert!(text.contains(schema_edit.0), "{what}");
            text = text.replacen(schema_edit.0, schema_edit.1, 1);
            let e = load(&toml::from_str(&text).unwrap(), d.path())
                .unwrap_err()
                .to_string();
            assert!(pieces.iter().all(|p| e.contains(p)), "{what}: {e}");
        }
        // A file with a header and no rows.
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "log.csv", "user,age,click,wt,s\n");
        let e = load(&schema("log.csv", ("", "")), d.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("log.csv") && e.contains("no data rows"), "{e}");
    }

    /// A random split is a function of the seed and the row's position: the same seed gives
    /// the same sets, another seed others, and the fractions hold (10,000 rows: 1,000 ± 100
    /// each for 0.1, about 3.3 standard deviations).
    #[test]
    fn a_random_split_is_deterministic_and_near_its_fractions() {
        let d = tempfile::tempdir().unwrap();
        let mut text = String::from("user,age,click,wt\n");
        for i in 0..10_000 {
            text.push_str(&format!("u{},{},{},{}\n", i % 7, i % 13, i % 2, i % 5));
        }
        write(d.path(), "big.csv", &text);
        let random = |seed: u64| {
            let s: TableData = toml::from_str(
                &SCHEMA.replace("FILES", "big.csv").replace(
                    "split = { kind = \"column\", column = \"s\", train = \"train\", valid = \"valid\", test = \"test\" }",
                    &format!("split = {{ kind = \"random\", seed = {seed}, valid = 0.1, test = 0.1 }}"),
                ),
            )
            .unwrap();
            load(&s, d.path()).unwrap()
        };
        let (a, b, c) = (random(1), random(1), random(2));
        assert_eq!(a, b);
        assert_ne!(a.valid, c.valid);
        for n in [a.valid.n, a.test.n, c.valid.n, c.test.n] {
            assert!((900..=1100).contains(&n), "{n}");
        }
        assert_eq!(a.train.n + a.valid.n + a.test.n, 10_000);
    }

    #[test]
    fn globs_match_stars_and_single_characters() {
        assert!(matches("part-*.parquet", "part-0001.parquet"));
        assert!(matches("p?rt.csv", "part.csv"));
        assert!(matches("*", "x"));
        assert!(!matches("part-*.parquet", "part-1.csv"));
        assert!(!matches("a*b", "ac"));
    }
}
