//! The `paper` protocol: BorealisAI/MMoEEx-MTL `data_preparation_census`, quirks included.

use crate::encode::{column_keys, fit_categories, minmax_fit, Block, CatKind, Encoded};
use crate::error::DataError;
use crate::raw::RawTable;

/// The 11 non-categorical, non-label columns, in file order: the first 11 features.
pub const PAPER_NUMERIC: [&str; 11] = [
    "age",
    "wage_per_hour",
    "capital_gains",
    "capital_losses",
    "stock_dividends",
    "instance_weight",
    "num_emp",
    "own_or_self",
    "vet_benefits",
    "weeks_worked",
    "year",
];

/// The numeric columns that the framework min-max scales (own_or_self and vet_benefits stay
/// raw integers).
pub const PAPER_SCALED: [&str; 9] = [
    "age",
    "wage_per_hour",
    "capital_gains",
    "capital_losses",
    "stock_dividends",
    "instance_weight",
    "num_emp",
    "weeks_worked",
    "year",
];

/// The 28 one-hot encoded columns, in the framework's order.
pub const PAPER_CATEGORICAL: [&str; 28] = [
    "class_worker",
    "det_ind_code",
    "det_occ_code",
    "hs_college",
    "major_ind_code",
    "major_occ_code",
    "race",
    "hisp_origin",
    "sex",
    "union_member",
    "unemp_reason",
    "full_or_part_emp",
    "tax_filer_stat",
    "region_prev_res",
    "state_prev_res",
    "det_hh_fam_stat",
    "det_hh_summ",
    "mig_chg_msa",
    "mig_chg_reg",
    "mig_move_reg",
    "mig_same",
    "mig_prev_sunbelt",
    "fam_under_18",
    "country_father",
    "country_mother",
    "country_self",
    "citizenship",
    "vet_question",
];

/// The dummy column the framework appends (all zero) to the val/test matrix because the test
/// file lacks that category.
pub const PAPER_APPENDED_COLUMN: &str =
    "det_hh_fam_stat_ Grandchild <18 ever marr not in subfamily";

/// Columns read by pandas as int64 (so their categories sort numerically).
fn cat_kind(column: &str) -> CatKind {
    match column {
        "det_ind_code" | "det_occ_code" => CatKind::Int,
        _ => CatKind::Str,
    }
}

/// One file after the framework's `get_dummies` + `MinMaxScaler` (fitted on that same file).
struct PaperFile {
    names: Vec<String>,
    numeric: Vec<Vec<f32>>,
    active: Vec<Vec<i64>>,
}

fn encode_file(raw: &RawTable) -> Result<PaperFile, DataError> {
    let n = raw.n_rows();
    let mut names: Vec<String> = PAPER_NUMERIC.iter().map(|s| s.to_string()).collect();
    let mut numeric = Vec::with_capacity(PAPER_NUMERIC.len());
    for col in PAPER_NUMERIC {
        let x = raw.numeric_column(col)?;
        let v: Vec<f32> = if PAPER_SCALED.contains(&col) {
            let (scale, min) = minmax_fit(&x);
            x.iter().map(|&v| (v * scale + min) as f32).collect()
        } else {
            x.iter().map(|&v| v as f32).collect()
        };
        numeric.push(v);
    }
    let mut active = Vec::with_capacity(PAPER_CATEGORICAL.len());
    for col in PAPER_CATEGORICAL {
        let keys = column_keys(raw, col, cat_kind(col), false)?;
        let (cats, codes) = fit_categories(&keys);
        let offset = names.len() as i64;
        names.extend(cats.iter().map(|k| format!("{col}_{}", k.label())));
        let a: Vec<i64> = codes.into_iter().map(|c| offset + i64::from(c)).collect();
        debug_assert_eq!(a.len(), n);
        active.push(a);
    }
    Ok(PaperFile {
        names,
        numeric,
        active,
    })
}

/// The val/test column layout that the framework produces from the train layout `names`
/// for the UCI files: the test file lacks the [`PAPER_APPENDED_COLUMN`] category, so its
/// dummies are the train dummies without that column, and the framework appends it last.
/// Columns from that position on hold the train layout's next feature (shifted by one).
pub fn paper_eval_layout(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = names
        .iter()
        .filter(|c| *c != PAPER_APPENDED_COLUMN)
        .cloned()
        .collect();
    out.push(PAPER_APPENDED_COLUMN.to_string());
    out
}

/// The framework's preprocessing of both files.
///
/// The val/test layout is required to be [`paper_eval_layout`] of the train layout (true for
/// the UCI files: the only category difference between them is the appended one); any other
/// category difference is a [`DataError::Layout`], since the framework would then silently
/// mis-align (or, for a width difference, fail on) the columns.
pub(crate) fn encode(train: &RawTable, test: &RawTable) -> Result<Encoded, DataError> {
    let tr = encode_file(train)?;
    let mut te = encode_file(test)?;
    // transformed_other[APPENDED] = 0: a new all-zero last column, or, if the test file has
    // that category, the existing column zeroed in place (no active column for those rows).
    match te.names.iter().position(|c| c == PAPER_APPENDED_COLUMN) {
        None => te.names.push(PAPER_APPENDED_COLUMN.to_string()),
        Some(q) => {
            for col in &mut te.active {
                for a in col.iter_mut() {
                    if *a == q as i64 {
                        *a = -1;
                    }
                }
            }
        }
    }
    let expected = paper_eval_layout(&tr.names);
    if te.names != expected || expected.len() != tr.names.len() {
        let first = expected
            .iter()
            .zip(&te.names)
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(te.names.len()));
        return Err(DataError::Layout {
            message: format!(
                "paper protocol: the one-hot columns of {} ({} features) differ from those \
                 expected from {} ({} features) at column {first}: {:?} vs {:?}",
                test.file(),
                te.names.len(),
                train.file(),
                tr.names.len(),
                te.names.get(first),
                expected.get(first),
            ),
        });
    }
    Ok(Encoded {
        feature_names: tr.names,
        numeric_cols: (0..PAPER_NUMERIC.len()).collect(),
        n_cat: PAPER_CATEGORICAL.len(),
        train: Block::from_columns(train.n_rows(), &tr.numeric, &tr.active),
        other: Block::from_columns(test.n_rows(), &te.numeric, &te.active),
    })
}
