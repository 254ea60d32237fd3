//! Reading a user's table: the files a schema names (CSV with a header, or Parquet), their
//! columns checked and converted, every row given its split, the feature encodings
//! ([`Encoding`]) fitted on the training rows alone and applied to all; a binary label is 1 for
//! the positive value (default 1) and 0 for 0, a regression label its value or ln(1 + value).
//! New rows of the same schema are read and encoded with a saved encoding by [`load_rows`]
//! (what a trained model predicts on).
//!
//! Rows keep the files' order; errors name the file, the row (1-based, data rows) and the column.

use std::path::{Path, PathBuf};

use super::encoding::Encoding;
use super::join::{locate, Joined, Side, SideColumns};
use super::read::{header, read_frame, sha256, Interned};
use super::schema::{
    LabelColumn, LabelKind, LabelTransform, MissingPolicy, Part, SplitBound, TableData, TableSplit,
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
    /// The files read, in order: the table's, then each side table's.
    pub files: Vec<PathBuf>,
    /// The sha256 of each file's bytes (hex), in the order of `files`.
    pub sha256: Vec<String>,
    /// The feature encodings, fitted on the training rows.
    pub encoding: Encoding,
}

/// Which rows [`load_rows`] reads, and what else it keeps of them.
#[derive(Clone, Debug, Default)]
pub struct RowRequest {
    /// File patterns read instead of the schema's `files` (its side tables still join).
    pub files: Option<Vec<String>>,
    /// Only the rows the schema's split puts here (the split's column is then read).
    pub part: Option<Part>,
    /// Columns copied as text beside the encoded rows (e.g. the rows' keys).
    pub keep: Vec<String>,
}

/// Rows read with a saved encoding.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedRows {
    /// The main files read.
    pub files: Vec<PathBuf>,
    /// The rows (`labels` empty when the files lack a label column).
    pub rows: TableRows,
    /// Whether the labels were read (every label column is in the files).
    pub has_labels: bool,
    /// The kept columns, as text, in the order asked.
    pub keep: Vec<(String, Vec<Option<String>>)>,
}

/// The columns of every file, concatenated: labels as
/// training targets, categorical values interned, numeric values (NaN: missing) and each row's
/// split, checked as they are read.
struct Raw {
    labels: Vec<Vec<f32>>,
    categorical: Vec<Interned>,
    numeric: Vec<Vec<f64>>,
    parts: Vec<Part>,
    keep: Vec<Vec<Option<String>>>,
}

/// What [`read_all`] reads beside the features.
struct ReadPlan<'a> {
    /// The label columns (else none: the rows are only predicted).
    labels: bool,
    /// The split's column (else every row is a training row).
    split: bool,
    /// Columns kept as text.
    keep: &'a [String],
}

/// A row's value of the split column (none for a random split).
#[derive(Clone, Debug, PartialEq, PartialOrd)]
enum SplitValue {
    None,
    Number(f64),
    Text(String),
}

impl Raw {
    /// Rows read.
    fn n(&self) -> usize {
        self.parts.len()
    }
}

/// Reads, checks, splits and encodes the table `t` describes; relative file patterns are
/// taken from `base` (the directory the command runs in). Memory: the files' columns once
/// (4 bytes per label, 8 per numeric value, 4 per categorical value and row), then the
/// encoded rows, filled column by column as the read columns are dropped; one file's data
/// frame at a time. The files are hashed (sha256, the fingerprint) on a second thread meanwhile.
pub fn load(t: &TableData, base: &Path) -> Result<TableSet> {
    t.validate()?;
    let files = resolve(&t.files, "data.files", base)?;
    let side_files = resolve_sides(t, base)?;
    let all_files: Vec<PathBuf> = files
        .iter()
        .chain(side_files.iter().flatten())
        .cloned()
        .collect();
    // The fingerprint hashes every file on a thread of its own while the rows are read.
    let (raw, sha256) = std::thread::scope(|s| {
        let hashing = s.spawn(|| {
            all_files
                .iter()
                .map(|f| sha256(f))
                .collect::<Result<Vec<_>>>()
        });
        let raw = read_sides(t, &side_files, &t.read_columns()).and_then(|sides| {
            let plan = ReadPlan {
                labels: true,
                split: true,
                keep: &[],
            };
            read_all(t, &files, &sides, &t.read_columns(), &plan)
        });
        (
            raw,
            hashing.join().expect("the hashing thread does not panic"),
        )
    });
    let (raw, sha256) = (raw?, sha256?);
    for (part, key) in [
        (Part::Train, "train"),
        (Part::Valid, "valid"),
        (Part::Test, "test"),
    ] {
        if !raw.parts.contains(&part) {
            return Err(DataError::Schema {
                key: "data.split".into(),
                message: format!(
                    "leaves the {key} set without rows ({} rows in all)",
                    raw.n()
                ),
            });
        }
    }
    check_both_classes(t, &raw)?;
    let encoding = Encoding::fit(t, &raw.categorical, &raw.numeric, &raw.parts);
    let slots = Slots::new(&raw.parts, 3, |p| match p {
        Part::Train => Some(0),
        Part::Valid => Some(1),
        Part::Test => Some(2),
    });
    let [train, valid, test]: [TableRows; 3] = fill(&encoding, raw, &slots)
        .try_into()
        .expect("three splits");
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
        cardinalities: encoding.cardinalities(),
        dense_names: encoding.dense_names(),
        train,
        valid,
        test,
        sha256,
        files: all_files,
        encoding,
    })
}

/// Reads the rows `req` asks for with the schema of `t` (its side tables joined) and encodes
/// them with `encoding` (fitted when a model trained on `t`'s table): the rows a trained model
/// predicts on. The labels are read when the first file has every label column; a feature
/// column missing from a file, or of another type, is an error naming the file and column.
pub fn load_rows(
    t: &TableData,
    encoding: &Encoding,
    base: &Path,
    req: &RowRequest,
) -> Result<EncodedRows> {
    t.validate()?;
    encoding.check_schema(t)?;
    let files = match &req.files {
        Some(patterns) => resolve(patterns, "files", base)?,
        None => resolve(&t.files, "data.files", base)?,
    };
    let side_files = resolve_sides(t, base)?;
    let first = header(&files[0])?;
    let has_labels = t.labels.iter().all(|l| first.contains(&l.column));
    let mut wanted = t.read_columns();
    wanted.extend(req.keep.iter().map(String::as_str));
    let sides = read_sides(t, &side_files, &wanted)?;
    let plan = ReadPlan {
        labels: has_labels,
        split: req.part.is_some(),
        keep: &req.keep,
    };
    let mut raw = read_all(t, &files, &sides, &wanted, &plan)?;
    let slots = Slots::new(&raw.parts, 1, |p| {
        req.part.is_none_or(|w| w == p).then_some(0)
    });
    let keep = req
        .keep
        .iter()
        .zip(std::mem::take(&mut raw.keep))
        .map(|(name, v)| {
            let picked = v
                .into_iter()
                .zip(&slots.of_row)
                .filter(|(_, s)| s.is_some())
                .map(|(x, _)| x)
                .collect();
            (name.clone(), picked)
        })
        .collect();
    let rows = fill(encoding, raw, &slots).pop().expect("one slot");
    Ok(EncodedRows {
        files,
        rows,
        has_labels,
        keep,
    })
}

/// Where each row goes: an output (`slot`) and its place there.
struct Slots {
    /// Per row: (slot, row in the slot), or none (not wanted).
    of_row: Vec<Option<(u8, u32)>>,
    /// Rows per slot.
    sizes: Vec<usize>,
}

impl Slots {
    /// Rows in order, each to the slot (of `n` slots) that `slot_of` gives its part.
    fn new(parts: &[Part], n: usize, slot_of: impl Fn(Part) -> Option<u8>) -> Slots {
        let mut sizes = vec![0usize; n];
        let of_row = parts
            .iter()
            .map(|&p| {
                slot_of(p).map(|s| {
                    let size = &mut sizes[s as usize];
                    let at = u32::try_from(*size).expect("fewer than 2^32 rows");
                    *size += 1;
                    (s, at)
                })
            })
            .collect();
        Slots { of_row, sizes }
    }
}

/// The encoded rows of every slot, row-major, filled one read column at a time (each dropped
/// once written): ids, then dense values (numeric, then indicators), then labels.
fn fill(encoding: &Encoding, raw: Raw, slots: &Slots) -> Vec<TableRows> {
    let (n_ids, n_tasks) = (encoding.categorical.len(), raw.labels.len());
    let n_dense = encoding.dense_names().len();
    let mut out: Vec<TableRows> = slots
        .sizes
        .iter()
        .map(|&n| TableRows {
            n,
            ids: vec![0; n * n_ids],
            dense: vec![0.0; n * n_dense],
            labels: vec![0.0; n * n_tasks],
        })
        .collect();
    let scatter =
        |width: usize, k: usize, value: &dyn Fn(usize) -> Value, out: &mut [TableRows]| {
            for (i, s) in slots.of_row.iter().enumerate() {
                if let Some((slot, at)) = *s {
                    let o = &mut out[slot as usize];
                    let at = at as usize * width + k;
                    match value(i) {
                        Value::Id(v) => o.ids[at] = v,
                        Value::Dense(v) => o.dense[at] = v,
                        Value::Label(v) => o.labels[at] = v,
                    }
                }
            }
        };
    let Raw {
        categorical,
        numeric,
        labels,
        ..
    } = raw;
    for (k, (e, v)) in encoding.categorical.iter().zip(categorical).enumerate() {
        let of_code = e.index_of_codes(&v);
        scatter(
            n_ids,
            k,
            &|i| Value::Id(of_code[v.codes[i] as usize]),
            &mut out,
        );
    }
    let mut indicator = encoding.numeric.len();
    for (k, (e, v)) in encoding.numeric.iter().zip(numeric).enumerate() {
        scatter(n_dense, k, &|i| Value::Dense(e.scale(v[i])), &mut out);
        if e.indicator {
            let missing = |i: usize| Value::Dense(f32::from(u8::from(v[i].is_nan())));
            scatter(n_dense, indicator, &missing, &mut out);
            indicator += 1;
        }
    }
    for (k, y) in labels.into_iter().enumerate() {
        scatter(n_tasks, k, &|i| Value::Label(y[i]), &mut out);
    }
    out
}

/// One encoded value, and which part of a row it fills.
enum Value {
    Id(i64),
    Dense(f32),
    Label(f32),
}

/// Each side table's files.
fn resolve_sides(t: &TableData, base: &Path) -> Result<Vec<Vec<PathBuf>>> {
    t.joins
        .iter()
        .enumerate()
        .map(|(k, j)| resolve(&j.files, &format!("data.joins[{k}].files"), base))
        .collect()
}

/// Each side table, read (the columns of `wanted` it has).
fn read_sides<'a>(
    t: &'a TableData,
    side_files: &'a [Vec<PathBuf>],
    wanted: &[&str],
) -> Result<Vec<Side<'a>>> {
    t.joins
        .iter()
        .zip(side_files)
        .enumerate()
        .map(|(k, (j, f))| Side::read(j, k, f, wanted))
        .collect()
}

/// What can be checked of the files without reading their rows: every pattern matches a
/// file, and every column the schema names is in each file of the table or in its side tables
/// (found once), every join key in both; an error names the file and the column. Cheap: for
/// a parent process to check before its shard processes each load the table.
pub fn check_columns(t: &TableData, base: &Path) -> Result<()> {
    t.validate()?;
    let files = resolve(&t.files, "data.files", base)?;
    let mut sides = Vec::new();
    for (k, j) in t.joins.iter().enumerate() {
        let side_files = resolve(&j.files, &format!("data.joins[{k}].files"), base)?;
        let headers = side_files
            .iter()
            .map(|f| header(f))
            .collect::<Result<Vec<_>>>()?;
        for (have, f) in headers.iter().zip(&side_files) {
            require(have, &j.on, f)?;
        }
        let first = headers.into_iter().next().unwrap_or_default();
        sides.push(SideColumns::new(k, j, &side_files, first));
    }
    let sides: Vec<&SideColumns> = sides.iter().collect();
    for f in &files {
        let have = header(f)?;
        for j in &t.joins {
            require(&have, &j.on, f)?;
        }
        for (name, _) in t.named_columns() {
            let in_main = have.iter().any(|c| c == name);
            if locate(name, in_main, f, &sides)?.is_none() {
                require(&have, name, f)?;
            }
        }
    }
    Ok(())
}

/// `name` is among the columns `have` of `file`, or an error naming both.
fn require(have: &[String], name: &str, file: &Path) -> Result<()> {
    if have.iter().any(|c| c == name) {
        return Ok(());
    }
    Err(DataError::Parse {
        file: file.display().to_string(),
        message: format!("has no column `{name}` (its columns: {have:?})"),
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

/// `pattern` with each `${VAR}` replaced by the environment variable VAR; an unset one is an
/// error naming `key`.
fn expand(pattern: &str, key: &str) -> Result<String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let end = tail.find('}').ok_or_else(|| DataError::Schema {
            key: key.to_owned(),
            message: format!("`{pattern}` opens `${{` without closing it"),
        })?;
        let var = &tail[..end];
        let value = std::env::var(var).map_err(|_| DataError::Schema {
            key: key.to_owned(),
            message: format!("`{pattern}` names ${{{var}}}, which is not set in the environment"),
        })?;
        out.push_str(&value);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The files of every pattern, each pattern's in name order; a pattern without a file is an
/// error naming it (`key[k]`).
fn resolve(patterns: &[String], key: &str, base: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for (k, pattern) in patterns.iter().enumerate() {
        let pattern = &expand(pattern, &format!("{key}[{k}]"))?;
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
                key: format!("{key}[{k}]"),
                message: format!("`{pattern}` matches no file in {}", dir.display()),
            });
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Every file's columns of the schema (`wanted`: those it may read, with its side tables
/// joined), concatenated, checked and each row's split assigned as each file is read.
fn read_all(
    t: &TableData,
    files: &[PathBuf],
    sides: &[Side],
    wanted: &[&str],
    plan: &ReadPlan,
) -> Result<Raw> {
    let mut raw = Raw {
        labels: vec![Vec::new(); if plan.labels { t.labels.len() } else { 0 }],
        categorical: t.categorical.iter().map(|_| Interned::default()).collect(),
        numeric: vec![Vec::new(); t.numeric.len()],
        parts: Vec::new(),
        keep: vec![Vec::new(); plan.keep.len()],
    };
    for f in files {
        let df = read_frame(f, wanted)?;
        let rows = Joined::new(&df, f, sides)?;
        for (k, l) in t.labels.iter().enumerate().filter(|_| plan.labels) {
            for (row, x) in rows.numbers(&l.column)?.into_iter().enumerate() {
                raw.labels[k].push(encode_label(l, x, f, row)?);
            }
        }
        for (k, c) in t.categorical.iter().enumerate() {
            rows.intern(&c.column, &mut raw.categorical[k])?;
        }
        for (k, c) in t.numeric.iter().enumerate() {
            for (row, x) in rows.numbers(&c.column)?.into_iter().enumerate() {
                let x = x.unwrap_or(f64::NAN);
                if x.is_nan() && c.missing == MissingPolicy::Error {
                    return Err(DataError::BadNumber {
                        file: f.display().to_string(),
                        line: row + 1,
                        column: c.column.clone(),
                        value: "a missing value (data.numeric's missing = \"error\")".into(),
                    });
                }
                raw.numeric[k].push(x);
            }
        }
        if plan.split {
            let first = raw.parts.len();
            let values = split_values(&t.split, &rows)?;
            raw.parts.extend(
                values
                    .into_iter()
                    .enumerate()
                    .map(|(row, v)| part_of(&t.split, &v, first + row)),
            );
        } else {
            raw.parts
                .extend(std::iter::repeat_n(Part::Train, rows.height()));
        }
        for (k, c) in plan.keep.iter().enumerate() {
            raw.keep[k].extend(rows.texts(c)?);
        }
    }
    Ok(raw)
}

/// The split column's values (none for a random split).
fn split_values(split: &TableSplit, rows: &Joined) -> Result<Vec<SplitValue>> {
    Ok(match split {
        TableSplit::Random { .. } => vec![SplitValue::None; rows.height()],
        TableSplit::Time {
            column: c,
            valid_from: SplitBound::Number(_),
            ..
        } => rows
            .numbers(c)?
            .into_iter()
            .map(|v| v.map_or(SplitValue::None, SplitValue::Number))
            .collect(),
        TableSplit::Time { column: c, .. } | TableSplit::Column { column: c, .. } => rows
            .texts(c)?
            .into_iter()
            .map(|v| v.map_or(SplitValue::None, SplitValue::Text))
            .collect(),
    })
}

/// splitmix64: a well-mixed 64-bit hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The split of row `i` (of all files, in order), whose split column holds `x`.
fn part_of(split: &TableSplit, x: &SplitValue, i: usize) -> Part {
    let bound = |b: &SplitBound| match b {
        SplitBound::Number(x) => SplitValue::Number(*x),
        SplitBound::Text(s) => SplitValue::Text(s.clone()),
    };
    match split {
        TableSplit::Random { seed, valid, test } => {
            let u = (mix(mix(*seed) ^ i as u64) >> 11) as f64 / (1u64 << 53) as f64;
            if u < *valid {
                Part::Valid
            } else if u < valid + test {
                Part::Test
            } else {
                Part::Train
            }
        }
        TableSplit::Time {
            valid_from,
            test_from,
            ..
        } => {
            if *x >= bound(test_from) {
                Part::Test
            } else if *x >= bound(valid_from) {
                Part::Valid
            } else {
                Part::Train
            }
        }
        TableSplit::Column {
            train, valid, test, ..
        } => match x {
            SplitValue::Text(s) if s == valid => Part::Valid,
            SplitValue::Text(s) if s == test => Part::Test,
            SplitValue::Text(s) if s == train => Part::Train,
            _ => Part::Train,
        },
    }
}

/// A label value (row `row` of `file`) as a training target: 1 for the positive value and 0
/// for 0 (binary), the value or ln(1 + value) (regression); a missing value, NaN, a binary
/// value other than those two, or a value whose log1p is not finite names its row.
fn encode_label(l: &LabelColumn, y: Option<f64>, file: &Path, row: usize) -> Result<f32> {
    let bad = |what: String| DataError::BadNumber {
        file: file.display().to_string(),
        line: row + 1,
        column: l.column.clone(),
        value: what,
    };
    let y = y
        .filter(|y| !y.is_nan())
        .ok_or_else(|| bad("a missing or NaN label".into()))?;
    match (l.kind, l.transform) {
        (LabelKind::Binary, _) => {
            let positive = l.positive.unwrap_or(1.0);
            if y == positive {
                Ok(1.0)
            } else if y == 0.0 {
                Ok(0.0)
            } else {
                Err(bad(format!(
                    "{y}, a binary label that is neither 0 nor {positive}"
                )))
            }
        }
        (LabelKind::Regression, Some(LabelTransform::Log1p)) if y <= -1.0 => {
            Err(bad(format!("{y}, whose log1p is not finite")))
        }
        (LabelKind::Regression, Some(LabelTransform::Log1p)) => Ok(y.ln_1p() as f32),
        (LabelKind::Regression, None) => Ok(y as f32),
    }
}

/// A binary task needs both classes among the training rows.
fn check_both_classes(t: &TableData, raw: &Raw) -> Result<()> {
    for (k, (l, y)) in t.labels.iter().zip(&raw.labels).enumerate() {
        if l.kind != LabelKind::Binary {
            continue;
        }
        let train = y.iter().zip(&raw.parts).filter(|(_, p)| **p == Part::Train);
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

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{DataFrame, IntoColumn, NamedFrom, ParquetWriter, Series};

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
        // The file's sha256 as Python's hashlib gives it for these bytes.
        assert_eq!(
            s.sha256,
            ["3f74fcb4bc486796c2752074546104edc2a36346f82d4e7b9d12ae17098c1721"]
        );
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
        // 1000 hash buckets: 1 + FNV-1a (64-bit) of the value mod 1000, as Python computes
        // it: a → 997, b → 630, c → 419, d → 364, whether the value was seen in training or not.
        let s = load(
            &schema(
                "log.csv",
                (
                    "[{ column = \"user\" }]",
                    "[{ column = \"user\", hash_buckets = 1000 }]",
                ),
            ),
            d.path(),
        )
        .unwrap();
        assert_eq!(s.cardinalities, [1001]);
        assert_eq!(
            (s.train.ids, s.valid.ids, s.test.ids),
            (vec![997, 630, 997], vec![419], vec![364])
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
    /// The encoding saved as JSON and read back encodes the table's own rows as the load did
    /// (`load_rows` of each split equals that split), and new rows by hand: an unseen user is
    /// out of vocabulary (0), a missing age is the training mean (0 scaled) with its indicator,
    /// 25 is (25 − 15) / 5 = 2; rows without label columns are read unlabelled, and `keep`
    /// copies a column as text. A numeric column without a missing training value gets no
    /// indicator.
    #[test]
    fn a_saved_encoding_encodes_new_rows_like_the_training_rows() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "log.csv", CSV);
        let t = schema("log.csv", ("", ""));
        let s = load(&t, d.path()).unwrap();
        let json = serde_json::to_string(&s.encoding).unwrap();
        let enc: Encoding = serde_json::from_str(&json).unwrap();
        assert_eq!(enc, s.encoding);
        for (part, want) in [
            (Part::Train, &s.train),
            (Part::Valid, &s.valid),
            (Part::Test, &s.test),
        ] {
            let req = RowRequest {
                part: Some(part),
                ..RowRequest::default()
            };
            let got = load_rows(&t, &enc, d.path(), &req).unwrap();
            assert!(got.has_labels);
            assert_eq!(&got.rows, want, "{part:?}");
        }
        write(d.path(), "new.csv", "user,age\nb,25\nzed,\n");
        let req = RowRequest {
            files: Some(vec!["new.csv".into()]),
            part: None,
            keep: vec!["user".into()],
        };
        let got = load_rows(&t, &enc, d.path(), &req).unwrap();
        assert!(!got.has_labels);
        assert_eq!(got.rows.n, 2);
        assert_eq!(got.rows.ids, [2, 0]);
        assert_eq!(got.rows.dense, [2.0, 0.0, 0.0, 1.0]);
        assert!(got.rows.labels.is_empty());
        assert_eq!(
            got.keep,
            [(
                "user".to_owned(),
                vec![Some("b".to_owned()), Some("zed".to_owned())]
            )]
        );
        // No age missing among the training rows: no indicator column.
        write(
            d.path(),
            "full.csv",
            &CSV.replace("a,,1,3,train", "a,12,1,3,train"),
        );
        let s = load(&schema("full.csv", ("", "")), d.path()).unwrap();
        assert_eq!(s.dense_names, ["age"]);
    }

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
        check_columns(&schema("part-*.parquet", ("", "")), d.path()).unwrap();
        let e = check_columns(
            &schema("part-*.parquet", ("column = \"age\"", "column = \"agee\"")),
            d.path(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("part-0.parquet") && e.contains("no column `agee`"),
            "{e}"
        );
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

    /// The join fixture: `flat.csv`, and the same rows as `log.csv` with their `age` in
    /// `items.csv` (item i3 unmatched, so its age is missing; i9 never used) and their `country`
    /// in `users.csv`.
    fn join_files(dir: &Path) {
        write(
            dir,
            "flat.csv",
            "user,age,click,wt,s,country\n\
             a,10,1,0,train,fr\n\
             b,20,0,1.718281828459045,train,de\n\
             a,,1,3,train,fr\n\
             c,30,0,0,valid,fr\n\
             d,40,1,7,test,it\n",
        );
        write(
            dir,
            "log.csv",
            "user,item,click,wt,s\n\
             a,i1,1,0,train\n\
             b,i2,0,1.718281828459045,train\n\
             a,i3,1,3,train\n\
             c,i4,0,0,valid\n\
             d,i5,1,7,test\n",
        );
        write(
            dir,
            "items.csv",
            "item,age\ni5,40\ni1,10\ni2,20\ni4,30\ni9,99\n",
        );
        write(dir, "users.csv", "user,country\nd,it\nc,fr\nb,de\na,fr\n");
    }

    /// `country` as a second categorical column.
    const COUNTRY: (&str, &str) = (
        "categorical = [{ column = \"user\" }]",
        "categorical = [{ column = \"user\" }, { column = \"country\" }]",
    );

    /// The joins of the fixture: items (unmatched rows kept, their age missing), then users.
    const JOINS: &str =
        "joins = [{ files = [\"items.csv\"], on = \"item\", unmatched = \"missing\" }, \
                         { files = [\"users.csv\"], on = \"user\" }]\n";

    /// The flat schema read from `log.csv` with `joins` (a `joins = [...]` line).
    fn joined_schema(joins: &str) -> TableData {
        let mut t = schema("log.csv", COUNTRY);
        let j: TableData = toml::from_str(&format!(
            "name = \"j\"\nfiles = [\"x.csv\"]\nlabels = [{{ column = \"c\", kind = \"binary\" }}]\n\
             split = {{ kind = \"random\", seed = 1, valid = 0.1, test = 0.1 }}\n{joins}"
        ))
        .unwrap();
        t.joins = j.joins;
        t
    }

    /// A log joined with an item table and a user table loads as the same table written flat,
    /// whose encoding the first test works by hand.
    #[test]
    fn side_tables_join_like_the_flat_table() {
        let d = tempfile::tempdir().unwrap();
        join_files(d.path());
        let flat = load(&schema("flat.csv", COUNTRY), d.path()).unwrap();
        check_columns(&joined_schema(JOINS), d.path()).unwrap();
        let joined = load(&joined_schema(JOINS), d.path()).unwrap();
        assert_eq!(joined.cardinalities, [3, 3]);
        assert_eq!(
            joined.files,
            ["log.csv", "items.csv", "users.csv"].map(|f| d.path().join(f))
        );
        assert_eq!(
            TableSet {
                files: flat.files.clone(),
                sha256: flat.sha256.clone(),
                ..joined
            },
            flat
        );
    }

    /// Bad joins, each one error naming where (tests as data: a side file to add, an edit of
    /// the joins, pieces of the message). Where the header check finds the fault too (the
    /// last field), it gives the same message as the load.
    #[test]
    fn bad_joins_are_one_error_naming_where() {
        const NO_USERS: &str =
            "joins = [{ files = [\"items.csv\"], on = \"item\", unmatched = \"missing\" }]";
        type Case<'a> = (
            &'a str,
            (&'a str, &'a str),
            (&'a str, &'a str),
            &'a [&'a str],
            bool,
        );
        let cases: &[Case] = &[
            (
                "unmatched item, unmatched = error (the default)",
                ("", ""),
                (", unmatched = \"missing\"", ""),
                &[
                    "log.csv, line 3",
                    "item = \"i3\"",
                    "items.csv",
                    "data.joins[0]",
                ],
                false,
            ),
            (
                "a user twice in the user table",
                ("users2.csv", "user,country\na,fr\nb,de\na,it\n"),
                ("users.csv", "users2.csv"),
                &["users2.csv", "row 3", "also on row 1"],
                false,
            ),
            (
                "a column in two side tables",
                (
                    "users3.csv",
                    "user,country,age\na,fr,1\nb,de,2\nc,fr,3\nd,it,4\n",
                ),
                ("users.csv", "users3.csv"),
                &["column `age` is also in", "items.csv"],
                true,
            ),
            (
                "a key the side table lacks",
                ("", ""),
                ("on = \"user\"", "on = \"uid\""),
                &["users.csv", "no column `uid`"],
                true,
            ),
            (
                "a schema column no file has",
                ("", ""),
                (JOINS, NO_USERS),
                &["log.csv", "no column `country`"],
                true,
            ),
        ];
        for (what, (file, text), (from, to), pieces, by_headers) in cases {
            let d = tempfile::tempdir().unwrap();
            join_files(d.path());
            if !file.is_empty() {
                write(d.path(), file, text);
            }
            assert!(JOINS.contains(from), "{what}");
            let schema = joined_schema(&JOINS.replacen(from, to, 1));
            let e = load(&schema, d.path()).unwrap_err().to_string();
            assert!(pieces.iter().all(|p| e.contains(p)), "{what}: {e}");
            match check_columns(&schema, d.path()) {
                Err(c) => assert_eq!(c.to_string(), e, "{what}"),
                Ok(()) => assert!(!by_headers, "{what}: the header check passed"),
            }
        }
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

    /// `${VAR}` in a file pattern comes from the environment (cargo sets CARGO_MANIFEST_DIR
    /// for the tests it runs); an unset or unclosed one names the key.
    #[test]
    fn patterns_take_environment_variables() {
        let dir = env!("CARGO_MANIFEST_DIR");
        assert_eq!(
            expand("${CARGO_MANIFEST_DIR}/a-${CARGO_MANIFEST_DIR}.csv", "k").unwrap(),
            format!("{dir}/a-{dir}.csv")
        );
        assert_eq!(expand("plain/*.csv", "k").unwrap(), "plain/*.csv");
        let e = expand("${ADATT_TEST_NEVER_SET}/x.csv", "data.joins[1].files[0]")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("data.joins[1].files[0]") && e.contains("ADATT_TEST_NEVER_SET"),
            "{e}"
        );
        assert!(expand("${OPEN/x.csv", "k")
            .unwrap_err()
            .to_string()
            .contains("without closing"));
    }
}
