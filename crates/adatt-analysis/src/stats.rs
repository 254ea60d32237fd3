//! Summary statistics over seeds and paired tests.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean, sample standard deviation and Student-t 95% confidence half-width of n values.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Stat {
    /// Count.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (ddof = 1); NaN for n < 2.
    pub std: f64,
    /// Half-width of the 95% CI of the mean, t(0.975, n−1)·std/√n; NaN for n < 2.
    pub ci95: f64,
}

/// Two-sided Student-t quantile at 0.975 with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// Summarise values (NaNs must be filtered out by the caller).
pub fn summarize(v: &[f64]) -> Stat {
    let n = v.len();
    if n == 0 {
        return Stat {
            n,
            mean: f64::NAN,
            std: f64::NAN,
            ci95: f64::NAN,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Stat {
            n,
            mean,
            std: f64::NAN,
            ci95: f64::NAN,
        };
    }
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    let std = var.sqrt();
    Stat {
        n,
        mean,
        std,
        ci95: t975(n - 1) * std / (n as f64).sqrt(),
    }
}

/// A paired t-test of a − b.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Paired {
    /// Pairs.
    pub n: usize,
    /// Mean of the differences.
    pub mean_diff: f64,
    /// 95% CI half-width of the mean difference.
    pub ci95: f64,
    /// t statistic.
    pub t: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Paired t-test on per-seed differences `a[i] − b[i]`.
pub fn paired_t(a: &[f64], b: &[f64]) -> Paired {
    assert_eq!(a.len(), b.len(), "paired_t needs equal lengths");
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let s = summarize(&d);
    if s.n < 2 {
        return Paired {
            n: s.n,
            mean_diff: s.mean,
            ci95: f64::NAN,
            t: f64::NAN,
            p: f64::NAN,
        };
    }
    let se = s.std / (s.n as f64).sqrt();
    let t = s.mean / se;
    let p = if se == 0.0 {
        if s.mean == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        let dist = StudentsT::new(0.0, 1.0, (s.n - 1) as f64).expect("df >= 1");
        // The lower tail directly: 1 - cdf(|t|) cancels to 0 below about 1e-16.
        2.0 * dist.cdf(-t.abs())
    };
    Paired {
        n: s.n,
        mean_diff: s.mean,
        ci95: s.ci95,
        t,
        p,
    }
}

/// The two-sided p-value of the Wilcoxon signed-rank test of `d` against 0, as
/// `scipy.stats.wilcoxon(d)` (scipy 1.17, defaults) gives it: zeros dropped, tied |d| given
/// their mean rank; for n ≤ 50 the exact distribution of the positive rank sum over the 2^n
/// sign flips (of the ranks as they are, ties included), p = min(1, 2·min(P(T⁺ ≤ t),
/// P(T⁺ ≥ t))); above, the normal approximation with the tie correction and no continuity
/// correction. NaN without a non-zero difference.
pub fn wilcoxon(d: &[f64]) -> f64 {
    let d: Vec<f64> = d.iter().copied().filter(|x| *x != 0.0).collect();
    let n = d.len();
    if n == 0 || d.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    // Doubled mid-ranks of |d| (integers, so that the exact sums can be counted).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| d[a].abs().total_cmp(&d[b].abs()));
    let mut rank2 = vec![0_usize; n];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && d[order[j + 1]].abs() == d[order[i]].abs() {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean, (i + j + 2) / 2; doubled: i + j + 2.
        for &k in &order[i..=j] {
            rank2[k] = i + j + 2;
        }
        ties.push(j - i + 1);
        i = j + 1;
    }
    let t2: usize = (0..n).filter(|&k| d[k] > 0.0).map(|k| rank2[k]).sum();
    if n <= 50 {
        let total2: usize = rank2.iter().sum();
        // counts[s]: sign flips whose doubled positive rank sum is s (exact in f64: 2^50 < 2^53).
        let mut counts = vec![0.0_f64; total2 + 1];
        counts[0] = 1.0;
        for &r in &rank2 {
            for s in (r..=total2).rev() {
                counts[s] += counts[s - r];
            }
        }
        let all = 2_f64.powi(n as i32);
        let le: f64 = counts[..=t2].iter().sum();
        let ge: f64 = counts[t2..].iter().sum();
        (2.0 * le.min(ge) / all).min(1.0)
    } else {
        let nf = n as f64;
        let t = (t2 as f64 / 2.0).min(nf * (nf + 1.0) / 2.0 - t2 as f64 / 2.0);
        let tie: f64 = ties.iter().map(|&c| (c * c * c - c) as f64).sum();
        let var = (nf * (nf + 1.0) * (2.0 * nf + 1.0) - tie / 2.0) / 24.0;
        let z = (t - nf * (nf + 1.0) / 4.0) / var.sqrt();
        2.0 * statrs::distribution::Normal::standard().cdf(-z.abs())
    }
}

/// Spearman's rank correlation of `x` and `y`, as `scipy.stats.spearmanr(x, y).statistic`:
/// the Pearson correlation of their ranks, tied values given their mean rank. NaN when the
/// lengths differ, for fewer than 2 values or when either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.len() != y.len() || x.len() < 2 || x.iter().chain(y).any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let (rx, ry) = (mid_ranks(x), mid_ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// 1-based ranks, tied values sharing their mean rank.
fn mid_ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            ranks[k] = (i + j + 2) as f64 / 2.0;
        }
        i = j + 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against scipy 1.17's `scipy.stats.spearmanr(x, y).statistic`, computed once: without
    /// ties, with ties on both sides, and a constant side.
    #[test]
    fn spearman_matches_scipy() {
        let s = spearman(&[3.0, 1.0, 2.0, 5.0, 4.0], &[10.0, 20.0, 30.0, 40.0, 50.0]);
        assert!((s - 0.6).abs() < 1e-12, "{s}");
        let s = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 1.0, 2.0, 2.0]);
        assert!((s - 0.707_106_781_186_547_7).abs() < 1e-12, "{s}");
        let s = spearman(
            &[0.273, 0.335, 0.452, 0.272, 0.363, 0.427],
            &[0.6, 0.3, 0.6, 0.25, 0.3, 0.25],
        );
        assert!((s - 0.239_045_721_866_878_75).abs() < 1e-12, "{s}");
        assert!(spearman(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
        assert!(spearman(&[1.0], &[1.0]).is_nan());
    }

    #[test]
    fn t_quantiles_match_tables() {
        // Standard t-table values.
        assert!((t975(1) - 12.706_204_736).abs() < 1e-6);
        assert!((t975(9) - 2.262_157_163).abs() < 1e-6);
        assert!((t975(99) - 1.984_216_952).abs() < 1e-6);
    }

    #[test]
    fn summary_and_paired_test_hand_computed() {
        let s = summarize(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert!((s.ci95 - 3.182_446_305 * s.std / 2.0).abs() < 1e-8);
        // scipy.stats.ttest_rel([1,2,3,4,5],[1.1,1.9,3.5,4.2,5.6]) -> t=-2.017991366836466, p=0.11375780482862573
        let p = paired_t(&[1.0, 2.0, 3.0, 4.0, 5.0], &[1.1, 1.9, 3.5, 4.2, 5.6]);
        assert!((p.t - (-2.017_991_366_836_466)).abs() < 1e-12, "{}", p.t);
        assert!((p.p - 0.113_757_804_828_625_73).abs() < 1e-9, "{}", p.p);
        // A far tail: scipy.stats.ttest_rel(range(1, 11), [0.0, 1.01, 1.98, 3.0, 3.99, 5.02, 6.0,
        // 7.01, 7.98, 9.0]) -> t=246.0153457318713, p=1.541511876800506e-18.
        let a: Vec<f64> = (1..=10).map(f64::from).collect();
        let b = [0.0, 1.01, 1.98, 3.0, 3.99, 5.02, 6.0, 7.01, 7.98, 9.0];
        let p = paired_t(&a, &b);
        assert!((p.t / 246.015_345_731_871_3 - 1.0).abs() < 1e-12, "{}", p.t);
        assert!(
            (p.p / 1.541_511_876_800_506e-18 - 1.0).abs() < 1e-6,
            "{}",
            p.p
        );
        assert!(summarize(&[]).mean.is_nan());
        assert!(summarize(&[1.0]).ci95.is_nan());
    }

    /// Against scipy 1.17's `scipy.stats.wilcoxon(d).pvalue` (the venv's), computed once:
    /// exact without ties, exact with tied ranks, a zero dropped, and the normal approximation
    /// above 50 pairs.
    #[test]
    fn wilcoxon_matches_scipy() {
        let n60: Vec<f64> = (0..60)
            .map(|i| f64::from((i * 37) % 23 - 8) / 10.0 + 0.013 * f64::from(i))
            .collect();
        let cases: [(&[f64], f64); 6] = [
            (
                &[0.5, -0.2, 0.9, 1.1, 0.3, -0.4, 0.8, 0.6, 1.4, 0.25],
                0.01953125,
            ),
            (
                &[
                    -0.31, -0.12, -0.45, -0.08, -0.5, -0.22, -0.19, -0.6, -0.05, -0.41,
                ],
                0.001953125,
            ),
            (&[0.1, -0.1, 0.2, 0.3, -0.25, 0.05, 0.15], 0.40625),
            (
                &[
                    0.2, -0.2, 0.2, 0.5, 0.5, -0.1, 0.3, 0.4, 0.2, 0.6, -0.05, 0.7,
                ],
                0.01025390625,
            ),
            (&[0.0, 0.3, -0.1, 0.4, 0.2, 0.5, -0.15, 0.35], 0.078125),
            (&n60, 8.704252796308214e-08),
        ];
        for (d, want) in cases {
            let got = wilcoxon(d);
            assert!(
                (got / want - 1.0).abs() < 1e-9,
                "{d:?}: {got} vs scipy {want}"
            );
        }
        assert!(wilcoxon(&[0.0, 0.0]).is_nan());
    }
}
