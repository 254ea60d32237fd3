//! `[data] source = "table"`: a user's own multi-task table, one row per impression, in CSV or
//! Parquet files, described by a schema: which columns are labels (binary or regression), which
//! are categorical features (ids, embedded) and which are numeric features, and how the rows are
//! split. This file is the schema and what can be checked of it before a row is read (errors
//! name the `[data]` key of the experiment config that carries it).
//!
//! ```toml
//! [data]
//! source = "table"
//! name = "my_logs"                      # names the results folder
//! files = ["data/logs/part-*.parquet"]  # globs; .csv or .parquet
//! labels = [
//!   { column = "is_click", kind = "binary" },
//!   { column = "play_time_ms", kind = "regression", transform = "log1p", name = "watch_time" },
//! ]
//! categorical = [{ column = "user_id", min_count = 2 }, { column = "video_id" }]
//! numeric = [{ column = "duration_ms" }]
//! split = { kind = "random", seed = 1, valid = 0.1, test = 0.1 }
//! # side tables, joined to every row by a key column (their columns are then the table's)
//! joins = [{ files = ["data/users.csv"], on = "user_id" }]
//! ```

use serde::{Deserialize, Serialize};

use crate::error::DataError;

type Result<T> = std::result::Result<T, DataError>;

/// A user's table and its schema.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TableData {
    /// What names the data in records and results folders.
    pub name: String,
    /// The files (glob patterns), CSV or Parquet by their extension, read as one table;
    /// `${VAR}` is replaced by the environment variable VAR (e.g. where a dataset lives).
    pub files: Vec<String>,
    /// The tasks: one label column each, in the order of the tables.
    pub labels: Vec<LabelColumn>,
    /// Categorical features (ids), each embedded.
    #[serde(default)]
    pub categorical: Vec<CategoricalColumn>,
    /// Numeric features.
    #[serde(default)]
    pub numeric: Vec<NumericColumn>,
    /// How rows fall into training, validation and test.
    pub split: TableSplit,
    /// Side tables whose columns join every row by a key (e.g. user or item features).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joins: Vec<TableJoin>,
    /// Embedding dimension of every categorical feature.
    #[serde(default = "TableData::default_embedding_dim")]
    pub embedding_dim: usize,
}

/// A side table joined to the main table: each main row takes the columns of the side row
/// whose key equals its own (keys compare as text).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TableJoin {
    /// The side table's files (glob patterns), CSV or Parquet, read as one table.
    pub files: Vec<String>,
    /// The key column, in both tables; a key may appear once in the side table.
    pub on: String,
    /// What a main row whose key the side table lacks gets.
    #[serde(default)]
    pub unmatched: Unmatched,
}

/// What a main row whose key has no side row gets.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Unmatched {
    /// An error naming the file, row, key column and value.
    #[default]
    Error,
    /// Missing values in every side column: categorical columns out of vocabulary, numeric
    /// columns by their `missing` policy.
    Missing,
}

/// A label column.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LabelColumn {
    /// The column.
    pub column: String,
    /// The task's name in the tables (default: the column's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Binary (AUC, NE) or regression (MSE).
    pub kind: LabelKind,
    /// Binary: the value that counts as positive (default 1; every other value must be 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive: Option<f64>,
    /// Regression: a transform of the value before training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<LabelTransform>,
    /// Reported in the tables, or trained on and left out of them.
    #[serde(default)]
    pub role: LabelRole,
}

/// Whether a task is reported.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LabelRole {
    /// In the tables and the claims.
    #[default]
    Reported,
    /// Trained on (its loss counts) and left out of the tables, as the paper's sparse auxiliary
    /// task.
    Auxiliary,
}

/// What a label is.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    /// 0 or 1 (or the stated positive value).
    Binary,
    /// A real value.
    Regression,
}

/// A transform of a regression label.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LabelTransform {
    /// ln(1 + y), for skewed non-negative values such as watch time.
    Log1p,
}

/// A categorical feature column.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CategoricalColumn {
    /// The column.
    pub column: String,
    /// Values seen fewer times than this in the training split share the out-of-vocabulary
    /// index with values never seen there.
    #[serde(default = "CategoricalColumn::default_min_count")]
    pub min_count: usize,
    /// Hash the values into this many buckets instead of a vocabulary (very large id spaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_buckets: Option<usize>,
}

/// A numeric feature column.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NumericColumn {
    /// The column.
    pub column: String,
    /// How it is scaled, with statistics of the training split.
    #[serde(default)]
    pub scale: NumericScale,
    /// What a missing value becomes.
    #[serde(default)]
    pub missing: MissingPolicy,
}

/// How a numeric feature is scaled (statistics of the training split).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NumericScale {
    /// (x − mean) / std.
    #[default]
    Standard,
    /// (x − min) / (max − min).
    MinMax,
}

/// What a missing numeric value becomes.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// The training mean, with an indicator feature (1 where the value was missing) when a
    /// training row misses it.
    #[default]
    Impute,
    /// A missing value is an error naming the file, row and column.
    Error,
}

/// Where a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Training.
    Train,
    /// Validation.
    Valid,
    /// Test.
    Test,
}

/// How the rows are split.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TableSplit {
    /// Each row falls into validation or test with these probabilities, by a seeded hash of its
    /// position (the same rows for the same seed and files).
    Random {
        /// The split's seed.
        seed: u64,
        /// Fraction of rows for validation.
        valid: f64,
        /// Fraction of rows for test.
        test: f64,
    },
    /// By a time or date column: training before `valid_from`, validation up to `test_from`,
    /// test from it on.
    Time {
        /// The column (numbers, or ISO dates as text).
        column: String,
        /// First value of the validation rows.
        valid_from: SplitBound,
        /// First value of the test rows.
        test_from: SplitBound,
    },
    /// By a column whose values name each row's split.
    Column {
        /// The column.
        column: String,
        /// Its value for training rows.
        train: String,
        /// Its value for validation rows.
        valid: String,
        /// Its value for test rows.
        test: String,
    },
}

/// A bound of a time split: a number (e.g. a timestamp or 20220508) or text (an ISO date).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SplitBound {
    /// A number.
    Number(f64),
    /// Text, compared as text (ISO dates sort as text).
    Text(String),
}

/// Every file pattern under `key` ends in .csv or .parquet.
fn check_extensions(files: &[String], key: &str) -> Result<()> {
    match files
        .iter()
        .enumerate()
        .find(|(_, f)| !(f.ends_with(".csv") || f.ends_with(".parquet")))
    {
        Some((i, f)) => Err(DataError::Schema {
            key: format!("{key}[{i}]"),
            message: format!("`{f}` is neither .csv nor .parquet"),
        }),
        None => Ok(()),
    }
}

impl TableData {
    fn default_embedding_dim() -> usize {
        16
    }

    /// The task names in order (a label's `name`, else its column).
    pub fn task_names(&self) -> Vec<String> {
        self.labels
            .iter()
            .map(|l| l.name.clone().unwrap_or_else(|| l.column.clone()))
            .collect()
    }

    /// What can be checked without reading a file, the error naming the key.
    pub fn validate(&self) -> Result<()> {
        let bad = |key: String, message: String| Err(DataError::Schema { key, message });
        if self.name.trim().is_empty() || self.name.contains(['/', '\\']) || self.name == ".." {
            return bad("data.name".into(), "must be a non-empty folder name".into());
        }
        if self.files.is_empty() {
            return bad("data.files".into(), "names no file".into());
        }
        check_extensions(&self.files, "data.files")?;
        for (j, join) in self.joins.iter().enumerate() {
            if join.files.is_empty() {
                return bad(format!("data.joins[{j}].files"), "names no file".into());
            }
            check_extensions(&join.files, &format!("data.joins[{j}].files"))?;
            if join.on.trim().is_empty() {
                return bad(format!("data.joins[{j}].on"), "names no key column".into());
            }
        }
        if self.labels.is_empty() {
            return bad("data.labels".into(), "names no label column".into());
        }
        if self.labels.iter().all(|l| l.role == LabelRole::Auxiliary) {
            return bad(
                "data.labels".into(),
                "has no reported label (every one is auxiliary)".into(),
            );
        }
        if self.embedding_dim == 0 {
            return bad("data.embedding_dim".into(), "must be at least 1".into());
        }
        self.validate_columns()?;
        self.validate_labels()?;
        self.validate_split()
    }

    /// Every column the schema reads, with the key that names it: labels, categorical and
    /// numeric features, the split's column.
    pub fn named_columns(&self) -> Vec<(&str, String)> {
        self.labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.column.as_str(), format!("data.labels[{i}].column")))
            .chain(
                self.categorical
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.column.as_str(), format!("data.categorical[{i}].column"))),
            )
            .chain(
                self.numeric
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.column.as_str(), format!("data.numeric[{i}].column"))),
            )
            .chain(match &self.split {
                TableSplit::Random { .. } => None,
                TableSplit::Time { column, .. } | TableSplit::Column { column, .. } => {
                    Some((column.as_str(), "data.split.column".to_owned()))
                }
            })
            .collect()
    }

    /// Every column a file of the table may need to provide: the named ones and the join keys.
    pub fn read_columns(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.named_columns().into_iter().map(|(c, _)| c).collect();
        v.extend(self.joins.iter().map(|j| j.on.as_str()));
        v
    }

    /// Every column is used once (a label is not also a feature, nor the split's column), and
    /// task names are unique.
    fn validate_columns(&self) -> Result<()> {
        let mut seen: Vec<(&str, String)> = Vec::new();
        let used = self.named_columns();
        for (column, key) in used {
            if let Some((_, first)) = seen.iter().find(|(c, _)| *c == column) {
                return Err(DataError::Schema {
                    key,
                    message: format!("names column `{column}`, which {first} names already"),
                });
            }
            seen.push((column, key));
        }
        let names = self.task_names();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(DataError::Schema {
                    key: format!("data.labels[{i}]"),
                    message: format!("task name `{n}` is used by an earlier label"),
                });
            }
        }
        Ok(())
    }

    fn validate_labels(&self) -> Result<()> {
        for (i, l) in self.labels.iter().enumerate() {
            let bad = |field: &str, message: &str| {
                Err(DataError::Schema {
                    key: format!("data.labels[{i}].{field}"),
                    message: message.into(),
                })
            };
            match l.kind {
                LabelKind::Binary if l.transform.is_some() => {
                    return bad("transform", "applies to regression labels only");
                }
                LabelKind::Binary if l.positive.is_some_and(|p| !p.is_finite() || p == 0.0) => {
                    return bad("positive", "must be a finite value other than 0");
                }
                LabelKind::Regression if l.positive.is_some() => {
                    return bad("positive", "applies to binary labels only");
                }
                _ => {}
            }
        }
        for (i, c) in self.categorical.iter().enumerate() {
            if c.min_count == 0 {
                return Err(DataError::Schema {
                    key: format!("data.categorical[{i}].min_count"),
                    message: "must be at least 1".into(),
                });
            }
            if c.hash_buckets.is_some_and(|b| b < 2) {
                return Err(DataError::Schema {
                    key: format!("data.categorical[{i}].hash_buckets"),
                    message: "must be at least 2".into(),
                });
            }
        }
        Ok(())
    }

    fn validate_split(&self) -> Result<()> {
        let bad = |field: &str, message: String| {
            Err(DataError::Schema {
                key: format!("data.split.{field}"),
                message,
            })
        };
        match &self.split {
            TableSplit::Random { valid, test, .. } => {
                for (field, f) in [("valid", valid), ("test", test)] {
                    if !(*f > 0.0 && *f < 1.0) {
                        return bad(field, format!("must be in (0, 1), not {f}"));
                    }
                }
                if valid + test >= 1.0 {
                    return bad(
                        "test",
                        format!("valid + test = {} leaves no training rows", valid + test),
                    );
                }
            }
            TableSplit::Time {
                valid_from,
                test_from,
                ..
            } => {
                let ordered = match (valid_from, test_from) {
                    (SplitBound::Number(a), SplitBound::Number(b)) => a < b,
                    (SplitBound::Text(a), SplitBound::Text(b)) => a < b,
                    _ => {
                        return bad(
                            "test_from",
                            "and valid_from must both be numbers or both text".into(),
                        )
                    }
                };
                if !ordered {
                    return bad(
                        "test_from",
                        "must come after valid_from (else the validation rows are empty)".into(),
                    );
                }
            }
            TableSplit::Column {
                train, valid, test, ..
            } => {
                if train == valid || train == test || valid == test {
                    return bad(
                        "train",
                        "valid and test must be three different values".into(),
                    );
                }
            }
        }
        Ok(())
    }
}

impl CategoricalColumn {
    fn default_min_count() -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "my_logs"
files = ["logs/part-*.parquet", "extra.csv"]
labels = [
  { column = "is_click", kind = "binary" },
  { column = "is_like", kind = "binary", positive = 2 },
  { column = "play_time_ms", kind = "regression", transform = "log1p", name = "watch_time" },
]
categorical = [{ column = "user_id", min_count = 2 }, { column = "video_id", hash_buckets = 1000 }]
numeric = [{ column = "duration_ms", scale = "min_max", missing = "error" }, { column = "age" }]
split = { kind = "time", column = "date", valid_from = "2022-05-01", test_from = "2022-05-05" }
joins = [{ files = ["users.csv"], on = "user_id" }, { files = ["items.parquet"], on = "video_id", unmatched = "missing" }]
"#;

    fn parse(text: &str) -> TableData {
        toml::from_str(text).unwrap()
    }

    /// The documented example parses with its defaults and passes.
    #[test]
    fn a_schema_parses_with_its_defaults() {
        let t = parse(GOOD);
        t.validate().unwrap();
        assert_eq!(t.task_names(), ["is_click", "is_like", "watch_time"]);
        assert_eq!(t.embedding_dim, 16);
        assert_eq!(t.categorical[1].min_count, 1);
        assert_eq!(t.labels[0].role, LabelRole::Reported);
        let mut aux = t.clone();
        aux.labels[1].role = LabelRole::Auxiliary;
        aux.validate().unwrap();
        for l in &mut aux.labels {
            l.role = LabelRole::Auxiliary;
        }
        let e = aux.validate().unwrap_err().to_string();
        assert!(
            e.contains("`data.labels`") && e.contains("no reported label"),
            "{e}"
        );
        assert_eq!(
            (t.joins[0].unmatched, t.joins[1].unmatched),
            (Unmatched::Error, Unmatched::Missing)
        );
        assert_eq!(
            (t.numeric[1].scale, t.numeric[1].missing),
            (NumericScale::Standard, MissingPolicy::Impute)
        );
        assert_eq!(
            t.split,
            TableSplit::Time {
                column: "date".into(),
                valid_from: SplitBound::Text("2022-05-01".into()),
                test_from: SplitBound::Text("2022-05-05".into()),
            }
        );
    }

    /// Each refusal names its key (tests as data: an edit of the good schema, the key, a piece
    /// of the message).
    #[test]
    fn bad_schemas_are_refused_naming_the_key() {
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "name = \"my_logs\"",
                "name = \"a/b\"",
                "data.name",
                "folder name",
            ),
            (
                "\"extra.csv\"",
                "\"extra.json\"",
                "data.files[1]",
                "neither .csv nor .parquet",
            ),
            (
                "{ column = \"age\" }",
                "{ column = \"is_click\" }",
                "data.numeric[1].column",
                "data.labels[0].column names already",
            ),
            (
                "column = \"date\"",
                "column = \"user_id\"",
                "data.split.column",
                "data.categorical[0].column names already",
            ),
            (
                "name = \"watch_time\"",
                "name = \"is_like\"",
                "data.labels[2]",
                "earlier label",
            ),
            (
                "kind = \"binary\" }",
                "kind = \"binary\", transform = \"log1p\" }",
                "data.labels[0].transform",
                "regression labels only",
            ),
            (
                "positive = 2",
                "positive = 0",
                "data.labels[1].positive",
                "other than 0",
            ),
            (
                "min_count = 2",
                "min_count = 0",
                "data.categorical[0].min_count",
                "at least 1",
            ),
            (
                "hash_buckets = 1000",
                "hash_buckets = 1",
                "data.categorical[1].hash_buckets",
                "at least 2",
            ),
            (
                "test_from = \"2022-05-05\"",
                "test_from = \"2022-04-30\"",
                "data.split.test_from",
                "after valid_from",
            ),
            (
                "\"items.parquet\"",
                "\"items.txt\"",
                "data.joins[1].files[0]",
                "neither .csv nor .parquet",
            ),
            (
                "[\"users.csv\"]",
                "[]",
                "data.joins[0].files",
                "names no file",
            ),
            (
                "on = \"video_id\"",
                "on = \" \"",
                "data.joins[1].on",
                "no key column",
            ),
            (
                "test_from = \"2022-05-05\"",
                "test_from = 20220505",
                "data.split.test_from",
                "numbers or both text",
            ),
        ];
        for (from, to, key, message) in cases {
            assert!(GOOD.contains(from), "{from}");
            let e = parse(&GOOD.replacen(from, to, 1)).validate().unwrap_err();
            let s = e.to_string();
            assert!(
                s.contains(&format!("`{key}`")) && s.contains(message),
                "{to}: {s}"
            );
        }
    }

    /// The random and column splits: fractions in (0, 1) that leave training rows, three
    /// different values.
    #[test]
    fn splits_must_leave_every_set_its_rows() {
        let with = |split: &str| {
            parse(&GOOD.replacen(
                "split = { kind = \"time\", column = \"date\", valid_from = \"2022-05-01\", test_from = \"2022-05-05\" }",
                split,
                1,
            ))
            .validate()
        };
        with("split = { kind = \"random\", seed = 1, valid = 0.1, test = 0.2 }").unwrap();
        for (split, key, message) in [
            ("split = { kind = \"random\", seed = 1, valid = 0.0, test = 0.2 }", "data.split.valid", "(0, 1)"),
            ("split = { kind = \"random\", seed = 1, valid = 0.5, test = 0.5 }", "data.split.test", "no training rows"),
            (
                "split = { kind = \"column\", column = \"s\", train = \"a\", valid = \"b\", test = \"b\" }",
                "data.split.train",
                "three different values",
            ),
        ] {
            let s = with(split).unwrap_err().to_string();
            assert!(s.contains(&format!("`{key}`")) && s.contains(message), "{split}: {s}");
        }
        // An unknown key is refused by the parser, naming it.
        let e = toml::from_str::<TableData>(&GOOD.replace("min_count = 2", "min_cnt = 2"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("min_cnt"), "{e}");
    }
}
