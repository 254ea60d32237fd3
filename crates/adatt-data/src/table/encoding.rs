//! The encodings of a table's feature columns, fitted on its training rows and applied to any
//! rows of the same schema: those of the table itself when it is loaded for training, and new
//! rows when a trained model predicts (`adatt predict`, which reads the encoding saved beside
//! the weights as JSON).
//!
//! - A categorical column becomes an index per row: 0 for a missing value, a value seen fewer
//!   than `min_count` times in training or never (out of vocabulary), else 1 + the value's rank
//!   among the kept training values in sorted order; with `hash_buckets = B`, 1 + FNV-1a of the
//!   value mod B.
//! - A numeric column becomes (x − shift) / scale with the training rows' statistics (standard:
//!   mean and population standard deviation; min-max: minimum and range; a constant column is
//!   only shifted); a missing value becomes the training mean, scaled, and under
//!   `missing = "impute"` a column with a missing training value also gets an indicator column
//!   (1 where the value was missing), after all numeric columns.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::read::Interned;
use super::schema::{
    CategoricalColumn, MissingPolicy, NumericColumn, NumericScale, Part, TableData,
};
use crate::error::DataError;

type Result<T> = std::result::Result<T, DataError>;

/// Every feature column's fitted encoding, in the schema's order.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Encoding {
    /// One per categorical column.
    pub categorical: Vec<CategoricalEncoding>,
    /// One per numeric column.
    pub numeric: Vec<NumericEncoding>,
}

/// A categorical column's indices.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CategoricalEncoding {
    /// Value `values[k]` has index k + 1; any other value, 0.
    Vocabulary {
        /// The column.
        column: String,
        /// The kept training values, sorted.
        values: Vec<String>,
    },
    /// A value has index 1 + FNV-1a(value) mod `buckets`.
    Hashed {
        /// The column.
        column: String,
        /// Buckets.
        buckets: usize,
    },
}

/// A numeric column's scaling.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NumericEncoding {
    /// The column.
    pub column: String,
    /// Subtracted first.
    pub shift: f64,
    /// Divided by next.
    pub scale: f64,
    /// What a missing value becomes (the training mean, scaled).
    pub fill: f64,
    /// Whether an indicator column `<column>_missing` follows the numeric columns.
    pub indicator: bool,
}

impl CategoricalEncoding {
    /// The column.
    pub fn column(&self) -> &str {
        match self {
            CategoricalEncoding::Vocabulary { column, .. }
            | CategoricalEncoding::Hashed { column, .. } => column,
        }
    }

    /// Number of indices, out of vocabulary (0) included: the embedding table's rows.
    pub fn cardinality(&self) -> usize {
        match self {
            CategoricalEncoding::Vocabulary { values, .. } => values.len() + 1,
            CategoricalEncoding::Hashed { buckets, .. } => buckets + 1,
        }
    }

    /// Fitted on the values of the training rows.
    fn fit(c: &CategoricalColumn, v: &Interned, parts: &[Part]) -> Self {
        let column = c.column.clone();
        if let Some(buckets) = c.hash_buckets {
            return CategoricalEncoding::Hashed { column, buckets };
        }
        let mut counts = vec![0usize; v.values.len() + 1];
        for (&k, _) in v
            .codes
            .iter()
            .zip(parts)
            .filter(|(_, p)| **p == Part::Train)
        {
            counts[k as usize] += 1;
        }
        let mut values: Vec<String> = (1..counts.len())
            .filter(|&k| counts[k] >= c.min_count)
            .map(|k| v.values[k - 1].clone())
            .collect();
        values.sort_unstable();
        CategoricalEncoding::Vocabulary { column, values }
    }

    /// The index of every code of `v` (code 0, a missing value, included): row i's index is
    /// `index_of_codes(v)[v.codes[i]]`.
    pub(super) fn index_of_codes(&self, v: &Interned) -> Vec<i64> {
        match self {
            CategoricalEncoding::Vocabulary { values, .. } => {
                let index: HashMap<&str, i64> = values
                    .iter()
                    .enumerate()
                    .map(|(k, s)| (s.as_str(), k as i64 + 1))
                    .collect();
                std::iter::once(0)
                    .chain(
                        v.values
                            .iter()
                            .map(|s| index.get(s.as_str()).copied().unwrap_or(0)),
                    )
                    .collect()
            }
            CategoricalEncoding::Hashed { buckets, .. } => std::iter::once(0)
                .chain(
                    v.values
                        .iter()
                        .map(|s| 1 + (fnv(s) % *buckets as u64) as i64),
                )
                .collect(),
        }
    }
}

impl NumericEncoding {
    /// Fitted on the values of the training rows (NaN: missing).
    fn fit(c: &NumericColumn, v: &[f64], parts: &[Part]) -> Self {
        let train = || {
            v.iter()
                .zip(parts)
                .filter(|(_, p)| **p == Part::Train)
                .map(|(x, _)| *x)
        };
        let seen: Vec<f64> = train().filter(|x| !x.is_nan()).collect();
        let missing_in_training = train().any(f64::is_nan);
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
        let shift = if shift.is_finite() { shift } else { 0.0 };
        NumericEncoding {
            column: c.column.clone(),
            shift,
            scale,
            fill: (mean - shift) / scale,
            indicator: c.missing == MissingPolicy::Impute && missing_in_training,
        }
    }

    /// A value scaled (NaN, missing: the fill).
    pub(super) fn scale(&self, x: f64) -> f32 {
        if x.is_nan() {
            self.fill as f32
        } else {
            ((x - self.shift) / self.scale) as f32
        }
    }
}

/// FNV-1a, a stable hash of a value for hash buckets.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl Encoding {
    /// Fitted on the rows whose part is training (numeric values: NaN where missing).
    pub(super) fn fit(
        t: &TableData,
        categorical: &[Interned],
        numeric: &[Vec<f64>],
        parts: &[Part],
    ) -> Self {
        Encoding {
            categorical: t
                .categorical
                .iter()
                .zip(categorical)
                .map(|(c, v)| CategoricalEncoding::fit(c, v, parts))
                .collect(),
            numeric: t
                .numeric
                .iter()
                .zip(numeric)
                .map(|(c, v)| NumericEncoding::fit(c, v, parts))
                .collect(),
        }
    }

    /// Per categorical column, the number of indices (the embedding tables' rows).
    pub fn cardinalities(&self) -> Vec<usize> {
        self.categorical
            .iter()
            .map(CategoricalEncoding::cardinality)
            .collect()
    }

    /// The dense columns: the numeric ones, then `<column>_missing` per indicator.
    pub fn dense_names(&self) -> Vec<String> {
        let numeric = self.numeric.iter().map(|n| n.column.clone());
        let indicators = self
            .numeric
            .iter()
            .filter(|n| n.indicator)
            .map(|n| format!("{}_missing", n.column));
        numeric.chain(indicators).collect()
    }

    /// The encoding was fitted for `t`'s feature columns (same columns, same order, same
    /// kinds); an error names the first column that differs.
    pub fn check_schema(&self, t: &TableData) -> Result<()> {
        let trained: Vec<&str> = self.categorical.iter().map(|c| c.column()).collect();
        let given: Vec<&str> = t.categorical.iter().map(|c| c.column.as_str()).collect();
        same_columns("data.categorical", &trained, &given)?;
        let trained: Vec<&str> = self.numeric.iter().map(|n| n.column.as_str()).collect();
        let given: Vec<&str> = t.numeric.iter().map(|c| c.column.as_str()).collect();
        same_columns("data.numeric", &trained, &given)
    }
}

/// Checks that the columns a config names under `key` are those the model was trained on, in
/// the same order: the first difference is one error naming the key (and the entry).
fn same_columns(key: &str, trained: &[&str], given: &[&str]) -> Result<()> {
    let mismatch = |key: String, message: String| Err(DataError::Schema { key, message });
    if trained.len() != given.len() {
        let (g, t) = (given.len(), trained.len());
        return mismatch(
            key.into(),
            format!("names {g} columns; the model was trained on {t}"),
        );
    }
    match trained.iter().zip(given).position(|(t, g)| t != g) {
        Some(i) => mismatch(
            format!("{key}[{i}].column"),
            format!(
                "is `{}`; the model was trained on `{}` there",
                given[i], trained[i]
            ),
        ),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(trained: &[&str], given: &[&str]) -> String {
        match same_columns("data.numeric", trained, given) {
            Err(e) => e.to_string(),
            Ok(()) => panic!("{given:?} accepted for {trained:?}"),
        }
    }

    /// The same columns in the same order pass; otherwise the error names the key and the
    /// first entry that differs, or the two counts.
    #[test]
    fn columns_unlike_the_trained_ones_are_named() {
        assert!(same_columns("data.numeric", &["age", "price"], &["age", "price"]).is_ok());
        let e = refusal(&["age", "price"], &["age", "cost"]);
        assert!(e.contains("data.numeric[1].column"), "{e}");
        assert!(
            e.contains("is `cost`; the model was trained on `price` there"),
            "{e}"
        );
        let e = refusal(&["age", "price"], &["price", "age"]);
        assert!(e.contains("data.numeric[0].column"), "{e}");
        let e = refusal(&["age", "price"], &["age"]);
        assert!(
            e.contains("names 1 columns; the model was trained on 2"),
            "{e}"
        );
    }
}
