//! Census-Income (KDD) loading and preprocessing for the AdaTT reproduction.
//!
//! [`load_census`] reads `census-income.data.gz` (training file, 199,523 rows) and
//! `census-income.test.gz` (test file, 99,762 rows), verifies their sha256 before use, and
//! builds three binary tasks, always in this order (the framework sorts task names):
//!
//! | task | positive when |
//! | --- | --- |
//! | `education` | the education value is a college degree (see the protocols) |
//! | `income` | `income_50k` is `50000+.` (the only other allowed value is `- 50000.`) |
//! | `never_married` | `marital_stat` is `Never married` |
//!
//! The label columns (education, marital_stat, income_50k) are never features. In both
//! protocols the training split is the whole training file and the test file is split 50/50
//! into validation and test rows exactly like pandas'
//! `sample(frac=0.5, replace=False, random_state=seed)` (see [`split::half_split`]):
//! validation rows in sampled order, test rows in ascending order.
//!
//! # Protocol `paper`
//! A replica of BorealisAI/MMoEEx-MTL `data_preparation_census` (the code the AdaTT paper's
//! Census numbers come from), quirks included:
//! - Features are `pd.get_dummies` computed **separately** on each file: the 11 non-categorical
//!   columns first ([`PAPER_NUMERIC`], file order), then one column per category
//!   present in that file for each of the 28 columns of [`PAPER_CATEGORICAL`], sorted as
//!   pandas sorts them (det_ind_code/det_occ_code numerically, strings by codepoint with their
//!   leading space), named like `det_hh_fam_stat_ Grandchild <18 ever marr not in subfamily`.
//! - `MinMaxScaler` on 9 columns ([`PAPER_SCALED`]), fitted on the training file for
//!   the training rows and fitted **again on the whole test file** for the validation/test
//!   rows. `own_or_self` and `vet_benefits` stay raw integers (0, 1, 2).
//! - The test file lacks the category [`PAPER_APPENDED_COLUMN`] (position 274 of 482 in
//!   the training layout); the framework appends it as an all-zero **last** column of the
//!   validation/test matrix. Validation/test column `j >= 274` therefore holds training
//!   feature `j + 1`: the columns are shifted by one. This is reproduced exactly, in both the
//!   dense and the sparse views ([`Dataset::eval_feature_names`] gives the val/test layout).
//! - College = Bachelors, Masters, Doctorate (the framework's Prof-school string lacks its
//!   leading space and never matches).
//! - 482 features; `numeric_cols` = 0..11; 28 categorical groups.
//!
//! # Protocol `clean`
//! One layout, fitted on the training file only, applied unchanged to validation and test:
//! - Numeric features (scaled with training min/max; validation/test values are not clipped
//!   and may fall outside [0, 1]): age, wage_per_hour, capital_gains, capital_losses,
//!   stock_dividends, num_emp, weeks_worked, year ([`CLEAN_NUMERIC`]).
//!   `instance_weight` is a survey sampling weight, not a feature, and is dropped.
//! - One-hot groups ([`CLEAN_CATEGORICAL`], file order): the paper's 28 categorical
//!   columns plus `own_or_self` and `vet_benefits`, which are category codes, not quantities.
//!   Categories are those of the training file, sorted (integer codes numerically, trimmed
//!   strings by codepoint), named `{column}={value}`; the placeholder `?` is an ordinary
//!   category. A validation/test value unseen in training activates no column (`active` =
//!   -1); it never shifts a column. (On the UCI files no such value occurs.)
//! - College = Bachelors, Masters, Doctorate, Prof school.
//! - 485 features (8 numeric + 477 one-hot); `numeric_cols` = 0..8; 30 categorical groups.
//!
//! # Views
//! Every [`Split`] holds the dense matrix and an equivalent sparse view: `dense` equals the
//! numeric values at `numeric_cols`, 1.0 at each non-negative `active` column, 0 elsewhere.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use serde::{Deserialize, Serialize};

mod clean;
mod encode;
mod error;
mod paper;
pub mod raw;
pub mod sim;
pub mod split;
pub mod table;

pub use clean::{CLEAN_CATEGORICAL, CLEAN_NUMERIC};
pub use error::DataError;
pub use paper::{
    paper_eval_layout, PAPER_APPENDED_COLUMN, PAPER_CATEGORICAL, PAPER_NUMERIC, PAPER_SCALED,
};
pub use raw::{RawTable, COLUMN_NAMES, TEST_FILE, TEST_SHA256, TRAIN_FILE, TRAIN_SHA256};

/// Name of the data set, as stored in [`Dataset::name`].
pub const DATASET_NAME: &str = "census-income";
/// Where the Census-Income files are read from when no config or flag says otherwise
/// (relative to the working directory, the repository root).
pub const DEFAULT_DATA_DIR: &str = "data/census-income";
/// The validation/test split seed of the paper's code (`random_state` of pandas' `sample`),
/// used when no config says otherwise.
pub const PAPER_SPLIT_SEED: u32 = 1;
/// The task names, in the fixed order of the label columns.
pub const TASK_NAMES: [&str; 3] = ["education", "income", "never_married"];

/// The preprocessing protocol (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Layout fitted on training data only, no shift, instance_weight dropped.
    Clean,
    /// Bit-for-bit replica of the MMoEEx-MTL preprocessing the paper used.
    Paper,
}

impl Protocol {
    /// The lowercase name (`"clean"` / `"paper"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Protocol::Clean => "clean",
            Protocol::Paper => "paper",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "clean" => Ok(Protocol::Clean),
            "paper" => Ok(Protocol::Paper),
            other => Err(format!(
                "unknown protocol {other:?} (expected \"clean\" or \"paper\")"
            )),
        }
    }
}

/// The kind of a task's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    /// 0/1 labels.
    Binary,
    /// Real-valued labels.
    Regression,
}

/// Where the data lives and how to preprocess it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CensusConfig {
    /// Folder holding `census-income.data.gz` and `census-income.test.gz`.
    pub data_dir: PathBuf,
    pub protocol: Protocol,
    /// Seed of the validation/test split (`random_state` of pandas' `sample`; the paper's
    /// code uses [`PAPER_SPLIT_SEED`]).
    pub split_seed: u32,
}

impl Default for CensusConfig {
    fn default() -> Self {
        CensusConfig {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            protocol: Protocol::Paper,
            split_seed: PAPER_SPLIT_SEED,
        }
    }
}

/// One split (train, validation or test): a dense matrix and its sparse equivalent.
#[derive(Clone, PartialEq)]
pub struct Split {
    pub n_rows: usize,
    /// Width `D` of the dense matrix (482 for paper, 485 for clean).
    pub n_features: usize,
    /// Row-major `[n_rows, D]`.
    pub dense: Vec<f32>,
    /// Positions (in the D-wide matrix) of the numeric (non one-hot) features.
    pub numeric_cols: Vec<usize>,
    /// Row-major `[n_rows, numeric_cols.len()]`; equals `dense` at `numeric_cols`.
    pub numeric: Vec<f32>,
    /// Number of categorical groups (28 for paper, 30 for clean).
    pub n_cat: usize,
    /// Row-major `[n_rows, n_cat]`: the D-wide column that is 1 for that group, or -1 if none.
    pub active: Vec<i64>,
    /// Row-major `[n_rows, T]` (0/1 for binary tasks).
    pub labels: Vec<f32>,
    /// 0-based row index in the source file of every row.
    pub source_rows: Vec<u32>,
}

impl fmt::Debug for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Split")
            .field("n_rows", &self.n_rows)
            .field("n_features", &self.n_features)
            .field("numeric_cols", &self.numeric_cols)
            .field("n_cat", &self.n_cat)
            .field("n_tasks", &self.n_tasks())
            .finish_non_exhaustive()
    }
}

impl Split {
    /// Number of tasks `T` (columns of `labels`); 0 for an empty split.
    pub fn n_tasks(&self) -> usize {
        self.labels.len().checked_div(self.n_rows).unwrap_or(0)
    }

    /// Mean label of task `task` (the positive rate for a binary task); NaN for an empty split.
    ///
    /// # Panics
    /// If `task >= n_tasks()` on a non-empty split.
    pub fn positive_rate(&self, task: usize) -> f64 {
        if self.n_rows == 0 {
            return f64::NAN;
        }
        let t = self.n_tasks();
        assert!(
            task < t,
            "task {task} out of range (the split has {t} tasks)"
        );
        let sum: f64 = self
            .labels
            .iter()
            .skip(task)
            .step_by(t)
            .map(|&v| f64::from(v))
            .sum();
        sum / self.n_rows as f64
    }

    /// The dense row `r`.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.dense[r * self.n_features..(r + 1) * self.n_features]
    }

    /// A new split holding `rows` (indices into this split, in the given order).
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, rows: &[usize]) -> Split {
        let d = self.n_features;
        let nn = self.numeric_cols.len();
        let nc = self.n_cat;
        let t = self.n_tasks();
        let n = rows.len();
        let mut out = Split {
            n_rows: n,
            n_features: d,
            dense: Vec::with_capacity(n * d),
            numeric_cols: self.numeric_cols.clone(),
            numeric: Vec::with_capacity(n * nn),
            n_cat: nc,
            active: Vec::with_capacity(n * nc),
            labels: Vec::with_capacity(n * t),
            source_rows: Vec::with_capacity(n),
        };
        for &r in rows {
            assert!(
                r < self.n_rows,
                "row {r} out of range (the split has {} rows)",
                self.n_rows
            );
            out.dense.extend_from_slice(&self.dense[r * d..(r + 1) * d]);
            out.numeric
                .extend_from_slice(&self.numeric[r * nn..(r + 1) * nn]);
            out.active
                .extend_from_slice(&self.active[r * nc..(r + 1) * nc]);
            out.labels
                .extend_from_slice(&self.labels[r * t..(r + 1) * t]);
            out.source_rows.push(self.source_rows[r]);
        }
        out
    }
}

/// The three splits of the data set and their metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// `"census-income"`.
    pub name: String,
    pub protocol: Protocol,
    /// `["education", "income", "never_married"]`.
    pub task_names: Vec<String>,
    pub task_kinds: Vec<TaskKind>,
    /// The `D` feature names, in the training matrix's column order.
    pub feature_names: Vec<String>,
    pub train: Split,
    pub valid: Split,
    pub test: Split,
    /// File name -> verified (or, for [`load_census_files`] without checksums, computed)
    /// sha256 of the `.gz` file.
    pub sha256: BTreeMap<String, String>,
}

impl Dataset {
    /// The meaning of the validation/test matrices' columns. Equal to `feature_names` for the
    /// clean protocol; for the paper protocol, the training layout without
    /// [`PAPER_APPENDED_COLUMN`] followed by that column (the framework's shift).
    pub fn eval_feature_names(&self) -> Vec<String> {
        match self.protocol {
            Protocol::Clean => self.feature_names.clone(),
            Protocol::Paper => paper_eval_layout(&self.feature_names),
        }
    }

    /// Rows, features and positive rate of every task in every split.
    pub fn summary(&self) -> DataSummary {
        let splits = [
            ("train", &self.train),
            ("valid", &self.valid),
            ("test", &self.test),
        ]
        .into_iter()
        .map(|(name, s)| SplitSummary {
            split: name.to_string(),
            rows: s.n_rows,
            positive_rate: (0..self.task_names.len())
                .map(|t| s.positive_rate(t))
                .collect(),
        })
        .collect();
        DataSummary {
            name: self.name.clone(),
            protocol: self.protocol,
            n_features: self.train.n_features,
            task_names: self.task_names.clone(),
            splits,
        }
    }

    /// A copy keeping only the first `n` training rows (all of them if `n` is larger);
    /// validation and test are unchanged. For small tests.
    pub fn slice_train(&self, n: usize) -> Dataset {
        let rows: Vec<usize> = (0..n.min(self.train.n_rows)).collect();
        Dataset {
            train: self.train.select(&rows),
            ..self.clone()
        }
    }
}

/// Per-split statistics, printed by `Display` as an aligned text table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSummary {
    pub name: String,
    pub protocol: Protocol,
    pub n_features: usize,
    pub task_names: Vec<String>,
    pub splits: Vec<SplitSummary>,
}

/// One split's line of a [`DataSummary`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitSummary {
    /// `"train"`, `"valid"` or `"test"`.
    pub split: String,
    pub rows: usize,
    /// Mean label per task (positive rate for binary tasks), in task order.
    pub positive_rate: Vec<f64>,
}

impl fmt::Display for DataSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} (protocol {}): {} features, {} tasks; positive rate per task",
            self.name,
            self.protocol,
            self.n_features,
            self.task_names.len()
        )?;
        let mut header = vec!["split".to_string(), "rows".to_string()];
        header.extend(self.task_names.iter().cloned());
        let rows: Vec<Vec<String>> = self
            .splits
            .iter()
            .map(|s| {
                let mut r = vec![s.split.clone(), s.rows.to_string()];
                r.extend(s.positive_rate.iter().map(|p| format!("{:.2}%", 100.0 * p)));
                r
            })
            .collect();
        let widths: Vec<usize> = (0..header.len())
            .map(|c| {
                rows.iter()
                    .filter_map(|r| r.get(c))
                    .chain(std::iter::once(&header[c]))
                    .map(|s| s.len())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for line in std::iter::once(&header).chain(&rows) {
            let cells: Vec<String> = line
                .iter()
                .enumerate()
                .map(|(c, s)| {
                    if c == 0 {
                        format!("{s:<w$}", w = widths[c])
                    } else {
                        format!("{s:>w$}", w = widths[c])
                    }
                })
                .collect();
            writeln!(f, "{}", cells.join("  "))?;
        }
        Ok(())
    }
}

/// Loads the Census-Income data set from `cfg.data_dir`, verifying the sha256 of both files
/// against [`TRAIN_SHA256`] and [`TEST_SHA256`] before use. Nothing is written to disk.
///
/// Errors name the files under `cfg.data_dir` as given; a missing, empty, truncated or
/// corrupt file is reported as such, not as a checksum mismatch (see [`RawTable::read`]).
pub fn load_census(cfg: &CensusConfig) -> Result<Dataset, DataError> {
    load_census_files(
        &cfg.data_dir.join(TRAIN_FILE),
        &cfg.data_dir.join(TEST_FILE),
        Some((TRAIN_SHA256, TEST_SHA256)),
        cfg.protocol,
        cfg.split_seed,
    )
}

/// Loads the data set from two explicit gzip files. `expected_sha256` = `(train, test)`
/// checksums to verify; `None` skips the check (for tests on synthetic files).
pub fn load_census_files(
    train_gz: &Path,
    test_gz: &Path,
    expected_sha256: Option<(&str, &str)>,
    protocol: Protocol,
    split_seed: u32,
) -> Result<Dataset, DataError> {
    let t0 = Instant::now();
    if protocol == Protocol::Paper && split_seed != PAPER_SPLIT_SEED {
        tracing::warn!(
            split_seed,
            "paper protocol with a split seed other than the paper's 1"
        );
    }
    let (train_raw, test_raw) = std::thread::scope(|s| {
        let tr = s.spawn(|| RawTable::read(train_gz, expected_sha256.map(|e| e.0)));
        let te = RawTable::read(test_gz, expected_sha256.map(|e| e.1));
        let tr = tr.join().expect("reader thread panicked");
        (tr, te)
    });
    let (train_raw, test_raw) = (train_raw?, test_raw?);
    let t_read = t0.elapsed();

    let (enc, college): (encode::Encoded, &[&str]) = match protocol {
        Protocol::Paper => (
            paper::encode(&train_raw, &test_raw)?,
            &encode::COLLEGE_PAPER,
        ),
        Protocol::Clean => (
            clean::encode(&train_raw, &test_raw)?,
            &encode::COLLEGE_CLEAN,
        ),
    };
    let labels_train = encode::labels(&train_raw, college)?;
    let labels_other = encode::labels(&test_raw, college)?;
    let n_tasks = TASK_NAMES.len();
    let d = enc.feature_names.len();

    let train_rows: Vec<u32> = (0..train_raw.n_rows() as u32).collect();
    let (valid_rows, test_rows) = split::half_split(test_raw.n_rows(), split_seed);
    let make = |block: &encode::Block, labels: &[f32], rows: &[u32]| {
        encode::assemble(
            block,
            labels,
            n_tasks,
            d,
            &enc.numeric_cols,
            enc.n_cat,
            rows,
        )
    };
    let train = make(&enc.train, &labels_train, &train_rows);
    let valid = make(&enc.other, &labels_other, &valid_rows);
    let test = make(&enc.other, &labels_other, &test_rows);

    let file_name = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let sha256 = BTreeMap::from([
        (file_name(train_gz), train_raw.sha256().to_string()),
        (file_name(test_gz), test_raw.sha256().to_string()),
    ]);
    tracing::debug!(
        read_s = t_read.as_secs_f64(),
        total_s = t0.elapsed().as_secs_f64(),
        protocol = %protocol,
        features = d,
        "loaded census-income"
    );
    Ok(Dataset {
        name: DATASET_NAME.to_string(),
        protocol,
        task_names: TASK_NAMES.iter().map(|s| s.to_string()).collect(),
        task_kinds: vec![TaskKind::Binary; n_tasks],
        feature_names: enc.feature_names,
        train,
        valid,
        test,
        sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_serde() {
        let cfg: CensusConfig = serde_json::from_str(r#"{"protocol": "clean"}"#).unwrap();
        assert_eq!(cfg.protocol, Protocol::Clean);
        assert_eq!(cfg.split_seed, 1);
        assert_eq!(cfg.data_dir, PathBuf::from("data/census-income"));
        assert!(serde_json::from_str::<CensusConfig>(r#"{"protocl": "clean"}"#).is_err());
        assert!(serde_json::from_str::<CensusConfig>(r#"{"protocol": "Clean"}"#).is_err());
        assert_eq!(
            serde_json::to_string(&Protocol::Paper).unwrap(),
            "\"paper\""
        );
        assert_eq!(
            serde_json::to_string(&TaskKind::Regression).unwrap(),
            "\"regression\""
        );
        assert_eq!(Protocol::Paper.to_string(), "paper");
        assert_eq!("clean".parse::<Protocol>(), Ok(Protocol::Clean));
        assert!("x".parse::<Protocol>().is_err());
    }

    fn tiny() -> Split {
        // 3 rows, D = 4: one numeric column (0), two groups (columns 1-2 and 3), 2 tasks
        Split {
            n_rows: 3,
            n_features: 4,
            dense: vec![0.5, 1.0, 0.0, 1.0, 0.25, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            numeric_cols: vec![0],
            numeric: vec![0.5, 0.25, 0.0],
            n_cat: 2,
            active: vec![1, 3, 2, -1, -1, 3],
            labels: vec![1.0, 0.0, 0.0, 0.0, 1.0, 1.0],
            source_rows: vec![7, 8, 9],
        }
    }

    #[test]
    fn positive_rate_and_select() {
        let s = tiny();
        assert_eq!(s.n_tasks(), 2);
        assert!((s.positive_rate(0) - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.positive_rate(1) - 1.0 / 3.0).abs() < 1e-12);
        let t = s.select(&[2, 0]);
        assert_eq!(t.n_rows, 2);
        assert_eq!(t.dense, [0.0, 0.0, 0.0, 1.0, 0.5, 1.0, 0.0, 1.0]);
        assert_eq!(t.numeric, [0.0, 0.5]);
        assert_eq!(t.active, [-1, 3, 1, 3]);
        assert_eq!(t.labels, [1.0, 1.0, 1.0, 0.0]);
        assert_eq!(t.source_rows, [9, 7]);
        assert!(s.select(&[]).positive_rate(0).is_nan());
    }

    #[test]
    fn summary_table_is_aligned() {
        let s = tiny();
        let d = Dataset {
            name: DATASET_NAME.into(),
            protocol: Protocol::Clean,
            task_names: vec!["a".into(), "long_task_name".into()],
            task_kinds: vec![TaskKind::Binary; 2],
            feature_names: (0..4).map(|i| format!("f{i}")).collect(),
            train: s.clone(),
            valid: s.select(&[0]),
            test: s.select(&[1, 2]),
            sha256: BTreeMap::new(),
        };
        let text = d.summary().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert_eq!(lines[1], "split  rows        a  long_task_name");
        assert_eq!(lines[2], "train     3   66.67%          33.33%");
        assert_eq!(lines[3], "valid     1  100.00%           0.00%");
        assert_eq!(lines[4], "test      2   50.00%          50.00%");
    }
}
