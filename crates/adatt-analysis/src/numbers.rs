//! How the tables write numbers: four decimals, signed or not; a 95% CI half-width, or why
//! there is none; a p-value. A number that is not finite is a dash.

/// `x` with four decimals, a dash if it is not finite.
pub(crate) fn f4(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "–".into()
    }
}

/// `x` with its sign and four decimals, a dash if it is not finite.
pub(crate) fn signed4(x: f64) -> String {
    if x.is_finite() {
        format!("{x:+.4}")
    } else {
        "–".into()
    }
}

/// Fewest runs for which a 95% CI is shown: with n = 2 the Student t quantile is 12.7, and the
/// interval (e.g. ± 1.69 on an AUC) says nothing; with n = 1 it is undefined.
pub const MIN_CI_N: usize = 3;

/// A CI half-width as `± 0.0012`, or why there is none.
pub(crate) fn ci_text(ci: f64, n: usize) -> String {
    if n == 0 {
        "–".into()
    } else if n < MIN_CI_N || !ci.is_finite() {
        format!("no CI (n = {n})")
    } else {
        format!("± {}", f4(ci))
    }
}

/// A p-value: four decimals, scientific notation below 1e-4, a dash if it is not finite.
pub(crate) fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "–".into()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}
