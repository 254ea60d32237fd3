//! The `clean` protocol: one layout fitted on the training file only, applied unchanged to the
//! validation and test rows.

use crate::encode::{codes, column_keys, fit_categories, minmax_fit, Block, CatKind, Encoded};
use crate::error::DataError;
use crate::raw::RawTable;

/// The numeric features, in file order, min-max scaled with training statistics.
pub const CLEAN_NUMERIC: [&str; 8] = [
    "age",
    "wage_per_hour",
    "capital_gains",
    "capital_losses",
    "stock_dividends",
    "num_emp",
    "weeks_worked",
    "year",
];

/// The one-hot encoded columns, in file order: the paper's 28 plus the integer codes
/// own_or_self and vet_benefits.
pub const CLEAN_CATEGORICAL: [&str; 30] = [
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
    "own_or_self",
    "vet_question",
    "vet_benefits",
];

fn cat_kind(column: &str) -> CatKind {
    match column {
        "det_ind_code" | "det_occ_code" | "own_or_self" | "vet_benefits" => CatKind::Int,
        _ => CatKind::Str,
    }
}

pub(crate) fn encode(train: &RawTable, test: &RawTable) -> Result<Encoded, DataError> {
    let mut names: Vec<String> = CLEAN_NUMERIC.iter().map(|s| s.to_string()).collect();
    let mut num_tr = Vec::with_capacity(CLEAN_NUMERIC.len());
    let mut num_te = Vec::with_capacity(CLEAN_NUMERIC.len());
    for col in CLEAN_NUMERIC {
        let x = train.numeric_column(col)?;
        let y = test.numeric_column(col)?;
        let (scale, min) = minmax_fit(&x);
        num_tr.push(
            x.iter()
                .map(|&v| (v * scale + min) as f32)
                .collect::<Vec<f32>>(),
        );
        num_te.push(
            y.iter()
                .map(|&v| (v * scale + min) as f32)
                .collect::<Vec<f32>>(),
        );
    }
    let mut act_tr = Vec::with_capacity(CLEAN_CATEGORICAL.len());
    let mut act_te = Vec::with_capacity(CLEAN_CATEGORICAL.len());
    for col in CLEAN_CATEGORICAL {
        let kind = cat_kind(col);
        let keys_tr = column_keys(train, col, kind, true)?;
        let keys_te = column_keys(test, col, kind, true)?;
        let (cats, codes_tr) = fit_categories(&keys_tr);
        let offset = names.len() as i64;
        names.extend(cats.iter().map(|k| format!("{col}={}", k.label())));
        let to_col = |c: Option<u32>| c.map_or(-1, |c| offset + i64::from(c));
        act_tr.push(
            codes_tr
                .into_iter()
                .map(|c| to_col(Some(c)))
                .collect::<Vec<i64>>(),
        );
        let te: Vec<i64> = codes(&keys_te, &cats).into_iter().map(to_col).collect();
        let unseen = te.iter().filter(|&&a| a < 0).count();
        if unseen > 0 {
            tracing::info!(
                column = col,
                rows = unseen,
                "clean protocol: categories unseen in training map to no one-hot column"
            );
        }
        act_te.push(te);
    }
    Ok(Encoded {
        feature_names: names,
        numeric_cols: (0..CLEAN_NUMERIC.len()).collect(),
        n_cat: CLEAN_CATEGORICAL.len(),
        train: Block::from_columns(train.n_rows(), &num_tr, &act_tr),
        other: Block::from_columns(test.n_rows(), &num_te, &act_te),
    })
}
