//! Building blocks shared by the two protocols: category fitting, min-max scaling, labels, and
//! assembling a [`Split`] from its sparse parts.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::DataError;
use crate::raw::RawTable;
use crate::Split;

/// How the values of a categorical column are compared and sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CatKind {
    /// Integer codes, sorted numerically (pandas reads these columns as int64).
    Int,
    /// Strings, sorted by codepoint.
    Str,
}

/// A category value: integer codes and strings never mix within one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Key<'a> {
    Int(i64),
    Str(&'a str),
}

impl Key<'_> {
    /// The text pandas puts after `{column}_` in a dummy column's name.
    pub(crate) fn label(&self) -> String {
        match self {
            Key::Int(v) => v.to_string(),
            Key::Str(s) => (*s).to_string(),
        }
    }
}

/// The per-row category keys of a column. `trim` removes the spaces around string values
/// (the clean protocol); without it the raw field text is kept, leading space included
/// (the paper protocol, as pandas reads it).
pub(crate) fn column_keys<'a>(
    raw: &'a RawTable,
    column: &str,
    kind: CatKind,
    trim: bool,
) -> Result<Vec<Key<'a>>, DataError> {
    match kind {
        CatKind::Int => Ok(raw
            .integer_column(column)?
            .into_iter()
            .map(Key::Int)
            .collect()),
        CatKind::Str => Ok(raw
            .column(column)
            .into_iter()
            .map(|v| Key::Str(if trim { v.trim() } else { v }))
            .collect()),
    }
}

/// FNV-1a: a fast hasher for the short category keys (no DoS concern for local files).
#[derive(Default, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// The sorted distinct categories of a column, and every row's position among them.
pub(crate) fn fit_categories<'a>(keys: &[Key<'a>]) -> (Vec<Key<'a>>, Vec<u32>) {
    let mut ids: FnvMap<Key<'a>, u32> = FnvMap::default();
    let mut first_seen: Vec<Key<'a>> = Vec::new();
    let raw: Vec<u32> = keys
        .iter()
        .map(|k| {
            *ids.entry(*k).or_insert_with(|| {
                first_seen.push(*k);
                (first_seen.len() - 1) as u32
            })
        })
        .collect();
    let mut order: Vec<u32> = (0..first_seen.len() as u32).collect();
    order.sort_unstable_by_key(|&i| first_seen[i as usize]);
    let mut rank = vec![0u32; order.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let cats = order.iter().map(|&i| first_seen[i as usize]).collect();
    (cats, raw.into_iter().map(|i| rank[i as usize]).collect())
}

/// For every row, the position of its key in `categories`, or `None` if it is not one of them.
pub(crate) fn codes(keys: &[Key<'_>], categories: &[Key<'_>]) -> Vec<Option<u32>> {
    let index: FnvMap<Key<'_>, u32> = categories
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i as u32))
        .collect();
    keys.iter().map(|k| index.get(k).copied()).collect()
}

/// sklearn `MinMaxScaler` parameters `(scale_, min_)` fitted on `x`: `scale_ = 1 / (max - min)`
/// (1 when the range is 0), `min_ = 0 - min * scale_`; transform is `x * scale_ + min_`.
pub(crate) fn minmax_fit(x: &[f64]) -> (f64, f64) {
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if x.is_empty() {
        return (1.0, 0.0);
    }
    let range = hi - lo;
    let scale = 1.0 / if range == 0.0 { 1.0 } else { range };
    (scale, 0.0 - lo * scale)
}

/// One file encoded in a protocol's layout: numeric values (already scaled) and the active
/// one-hot column of every categorical group, both row-major.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub n_rows: usize,
    /// `[n_rows, n_numeric]`
    pub numeric: Vec<f32>,
    /// `[n_rows, n_cat]`, `-1` for none.
    pub active: Vec<i64>,
}

impl Block {
    /// Assembles column-major numeric columns and per-group active columns into a block.
    pub(crate) fn from_columns(n_rows: usize, numeric: &[Vec<f32>], active: &[Vec<i64>]) -> Block {
        let nn = numeric.len();
        let nc = active.len();
        let mut num = vec![0f32; n_rows * nn];
        for (j, col) in numeric.iter().enumerate() {
            debug_assert_eq!(col.len(), n_rows);
            for (r, v) in col.iter().enumerate() {
                num[r * nn + j] = *v;
            }
        }
        let mut act = vec![-1i64; n_rows * nc];
        for (g, col) in active.iter().enumerate() {
            debug_assert_eq!(col.len(), n_rows);
            for (r, v) in col.iter().enumerate() {
                act[r * nc + g] = *v;
            }
        }
        Block {
            n_rows,
            numeric: num,
            active: act,
        }
    }
}

/// A protocol's output: the layout, and the train file and the test file encoded in it.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub feature_names: Vec<String>,
    pub numeric_cols: Vec<usize>,
    pub n_cat: usize,
    pub train: Block,
    /// The whole test file (split into validation and test afterwards).
    pub other: Block,
}

/// The Census-Income education values counted as "college" by the paper protocol
/// (the framework's fourth string, Prof school, lacks its leading space and never matches).
pub(crate) const COLLEGE_PAPER: [&str; 3] = [
    "Bachelors degree(BA AB BS)",
    "Masters degree(MA MS MEng MEd MSW MBA)",
    "Doctorate degree(PhD EdD)",
];
/// The clean protocol's college degrees: the paper's three plus Prof school.
pub(crate) const COLLEGE_CLEAN: [&str; 4] = [
    "Bachelors degree(BA AB BS)",
    "Masters degree(MA MS MEng MEd MSW MBA)",
    "Doctorate degree(PhD EdD)",
    "Prof school degree (MD DDS DVM LLB JD)",
];

/// The label matrix `[n_rows, 3]` (education, income, never_married) of one file.
pub(crate) fn labels(raw: &RawTable, college: &[&str]) -> Result<Vec<f32>, DataError> {
    let education = raw.column("education");
    let income = raw.column("income_50k");
    let marital = raw.column("marital_stat");
    let n = raw.n_rows();
    let mut out = vec![0f32; n * 3];
    for r in 0..n {
        out[r * 3] = f32::from(u8::from(college.contains(&education[r].trim())));
        out[r * 3 + 1] = match income[r].trim() {
            "50000+." => 1.0,
            "- 50000." => 0.0,
            other => {
                return Err(DataError::UnknownLabel {
                    file: raw.file().to_string(),
                    line: r + 1,
                    column: "income_50k".to_string(),
                    value: other.to_string(),
                })
            }
        };
        out[r * 3 + 2] = f32::from(u8::from(marital[r].trim() == "Never married"));
    }
    Ok(out)
}

/// Builds the split holding rows `rows` (in that order) of an encoded file.
pub(crate) fn assemble(
    block: &Block,
    labels: &[f32],
    n_tasks: usize,
    n_features: usize,
    numeric_cols: &[usize],
    n_cat: usize,
    rows: &[u32],
) -> Split {
    let nn = numeric_cols.len();
    let n = rows.len();
    let mut dense = vec![0f32; n * n_features];
    let mut numeric = Vec::with_capacity(n * nn);
    let mut active = Vec::with_capacity(n * n_cat);
    let mut lab = Vec::with_capacity(n * n_tasks);
    for (i, &src) in rows.iter().enumerate() {
        let src = src as usize;
        assert!(
            src < block.n_rows,
            "row {src} out of range ({} rows)",
            block.n_rows
        );
        let out = &mut dense[i * n_features..(i + 1) * n_features];
        let num = &block.numeric[src * nn..(src + 1) * nn];
        for (c, v) in numeric_cols.iter().zip(num) {
            out[*c] = *v;
        }
        let act = &block.active[src * n_cat..(src + 1) * n_cat];
        for &a in act {
            if a >= 0 {
                out[a as usize] = 1.0;
            }
        }
        numeric.extend_from_slice(num);
        active.extend_from_slice(act);
        lab.extend_from_slice(&labels[src * n_tasks..(src + 1) * n_tasks]);
    }
    Split {
        n_rows: n,
        n_features,
        dense,
        numeric_cols: numeric_cols.to_vec(),
        numeric,
        n_cat,
        active,
        labels: lab,
        source_rows: rows.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minmax_matches_sklearn_formula() {
        let (s, m) = minmax_fit(&[2.0, 4.0, 6.0]);
        assert_eq!(s, 0.25);
        assert_eq!(m, -0.5);
        assert_eq!(6.0 * s + m, 1.0);
        // constant column: scale 1, shifted to 0
        assert_eq!(minmax_fit(&[3.0, 3.0]), (1.0, -3.0));
    }

    #[test]
    fn categories_sort_numerically_and_by_codepoint() {
        let keys = [Key::Int(10), Key::Int(2), Key::Int(10), Key::Int(-1)];
        let (cats, c) = fit_categories(&keys);
        assert_eq!(cats, vec![Key::Int(-1), Key::Int(2), Key::Int(10)]);
        assert_eq!(c, vec![2, 1, 2, 0]);
        let keys = [
            Key::Str(" b"),
            Key::Str(" B"),
            Key::Str(" a"),
            Key::Str(" ?"),
            Key::Str(" b"),
        ];
        let (cats, c) = fit_categories(&keys);
        assert_eq!(
            cats,
            vec![
                Key::Str(" ?"),
                Key::Str(" B"),
                Key::Str(" a"),
                Key::Str(" b")
            ]
        );
        assert_eq!(c, vec![3, 1, 2, 0, 3]);
        assert_eq!(
            codes(&[Key::Str(" a"), Key::Str(" zz")], &cats),
            vec![Some(2), None]
        );
    }
}
