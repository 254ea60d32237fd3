//! Verdicts on claims, the paper's or a user's about their own data (`[[analysis.claims]]`):
//! each claim names the direction of some NE differences; every (row, task) difference is
//! tested against 0 over seeds twice, by the paired t-test and by the Wilcoxon signed-rank test
//! (see [`NeDiffRow`]); each test's p-values of a claim are Holm-adjusted together (one family
//! per claim and test), and each difference replicates, contradicts or leaves the claim
//! unresolved at the claim's `alpha`, by each test. Where the two tests disagree, the verdict
//! says so.

use std::fmt::Write as _;

use adatt_spec::{ExperimentConfig, NeDirection};
use serde::Serialize;

use crate::ne_diff::NeDiffRow;
use crate::numbers::p_value;

/// What one difference says about a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Significant (Holm-adjusted) with the paper's sign.
    Replicated,
    /// Significant (Holm-adjusted) with the other sign.
    Contradicted,
    /// Not significant, or too few seeds.
    NotResolved,
}

/// One NE difference of a claim.
#[derive(Clone, Debug, Serialize)]
pub struct ClaimCell {
    /// The difference (entry against reference, one task).
    pub diff: NeDiffRow,
    /// Its t-test p-value, Holm-adjusted within the claim.
    pub p_holm: f64,
    /// What it says by the t-test.
    pub outcome: Outcome,
    /// Its Wilcoxon signed-rank p-value, Holm-adjusted within the claim.
    pub p_holm_wilcoxon: f64,
    /// What it says by the Wilcoxon test.
    pub outcome_wilcoxon: Outcome,
}

/// Which test a verdict is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    /// The paired t-test.
    T,
    /// The Wilcoxon signed-rank test.
    Wilcoxon,
}

impl Outcome {
    /// What a difference whose mean is `higher` (than the reference) says at Holm-adjusted
    /// `p_holm` about a claim that expects `expect`. NaN (too few seeds) is never significant.
    fn of(p_holm: f64, higher: bool, expect: NeDirection, alpha: f64) -> Outcome {
        match (p_holm < alpha, higher == (expect == NeDirection::Higher)) {
            (false, _) => Outcome::NotResolved,
            (true, true) => Outcome::Replicated,
            (true, false) => Outcome::Contradicted,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Outcome::Replicated => "replicated",
            Outcome::Contradicted => "contradicted",
            Outcome::NotResolved => "not resolved",
        }
    }
}

/// A claim with the verdict of every difference it covers.
#[derive(Clone, Debug, Serialize)]
pub struct ClaimVerdict {
    /// The claim.
    pub claim: String,
    /// What the paper measured.
    pub paper: String,
    /// The direction the paper found.
    pub expect: NeDirection,
    /// Family-wise level.
    pub alpha: f64,
    /// The checkpoint (fraction of the stream) the differences are taken at; `None`: the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
    /// For a claim about how the differences move: the checkpoint they move from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<f64>,
    /// The differences, in row then task order.
    pub cells: Vec<ClaimCell>,
}

/// Holm step-down adjusted p-values, in the input order. NaN p-values (too few seeds) stay
/// NaN and do not count in the family size.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = order.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// The verdicts of `cfg`'s claims, each from its differences (`rows`, one list per claim in
/// claim order, each in row then task order).
pub fn verdicts(cfg: &ExperimentConfig, rows: Vec<Vec<NeDiffRow>>) -> Vec<ClaimVerdict> {
    cfg.analysis
        .claims
        .iter()
        .zip(rows)
        .map(|(c, diffs)| {
            let p: Vec<f64> = diffs.iter().map(|d| d.test.p).collect();
            let pw: Vec<f64> = diffs.iter().map(|d| d.wilcoxon_p).collect();
            let cells = diffs
                .into_iter()
                .zip(holm(&p).into_iter().zip(holm(&pw)))
                .map(|(d, (p_holm, p_holm_wilcoxon))| {
                    let higher = d.test.mean_diff > 0.0;
                    ClaimCell {
                        diff: d,
                        p_holm,
                        outcome: Outcome::of(p_holm, higher, c.expect, c.alpha),
                        p_holm_wilcoxon,
                        outcome_wilcoxon: Outcome::of(p_holm_wilcoxon, higher, c.expect, c.alpha),
                    }
                })
                .collect();
            ClaimVerdict {
                claim: c.claim.clone(),
                paper: c.paper.clone(),
                expect: c.expect,
                alpha: c.alpha,
                at: c.at,
                since: c.since,
                cells,
            }
        })
        .collect()
}

impl ClaimCell {
    /// What the difference says by `test`.
    pub fn outcome_by(&self, test: Test) -> Outcome {
        match test {
            Test::T => self.outcome,
            Test::Wilcoxon => self.outcome_wilcoxon,
        }
    }
}

impl ClaimVerdict {
    fn count(&self, o: Outcome, test: Test) -> usize {
        self.cells
            .iter()
            .filter(|c| c.outcome_by(test) == o)
            .count()
    }

    /// One word for the whole claim by `test`: replicated (every difference), partly
    /// replicated (some, none contradicted), not replicated (some contradicted, none
    /// replicated), mixed (both), not resolved (none significant).
    pub fn word(&self, test: Test) -> &'static str {
        let (r, c) = (
            self.count(Outcome::Replicated, test),
            self.count(Outcome::Contradicted, test),
        );
        match (r, c) {
            (0, 0) => "not resolved",
            (r, 0) if r == self.cells.len() => "replicated",
            (_, 0) => "partly replicated",
            (0, _) => "not replicated (the opposite direction)",
            _ => "mixed",
        }
    }
}

/// The `## Verdicts` section of `table.md` (empty without claims).
pub fn markdown(verdicts: &[ClaimVerdict], tasks: &[String]) -> String {
    if verdicts.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n## Verdicts on the claims\n\nEach claim is a direction of test NE \
         differences. Every difference below is tested against 0 over seeds twice, by the paired \
         t-test and by the Wilcoxon signed-rank test; each test's p-values of one claim are \
         Holm-adjusted together (`t` and `W`: the adjusted p-values). A difference *replicates* \
         the claim when the adjusted p < alpha with the claimed sign, *contradicts* it with the \
         other sign, and leaves it *not resolved* otherwise; where the two tests disagree, the \
         cell and the verdict give both.\n",
    );
    for v in verdicts {
        claim_md(&mut s, v, tasks);
    }
    s
}

/// One claim's heading, counts and table.
fn claim_md(s: &mut String, v: &ClaimVerdict, tasks: &[String]) {
    let expect = match v.expect {
        NeDirection::Lower => "lower NE (better)",
        NeDirection::Higher => "higher NE (worse)",
    };
    let (wt, ww) = (v.word(Test::T), v.word(Test::Wilcoxon));
    if wt == ww {
        writeln!(s, "\n### {}: **{wt}**\n", v.claim).expect("write");
    } else {
        writeln!(
            s,
            "\n### {}: **{wt}** by the t-test, **{ww}** by the Wilcoxon test\n",
            v.claim
        )
        .expect("write");
    }
    if !v.paper.is_empty() {
        writeln!(s, "Paper: {}.", v.paper.trim()).expect("write");
    }
    for (name, test) in [("t-test", Test::T), ("Wilcoxon test", Test::Wilcoxon)] {
        writeln!(
            s,
            "By the {name}: replicated in {} of {} differences, contradicted in {}, not resolved \
             in {}.",
            v.count(Outcome::Replicated, test),
            v.cells.len(),
            v.count(Outcome::Contradicted, test),
            v.count(Outcome::NotResolved, test),
        )
        .expect("write");
    }
    if let Some(floor) = wilcoxon_floor(v) {
        writeln!(s, "{floor}").expect("write");
    }
    writeln!(s, "Expected: {expect} (alpha = {}).", v.alpha).expect("write");
    let measure = window_md(s, v);
    s.push('\n');
    let mut header = String::from("| model | reference |");
    let mut rule = String::from("|---|---|");
    for t in tasks {
        write!(header, " {t}: {measure} (t; W) |").expect("write");
        rule.push_str("---|");
    }
    writeln!(s, "{header}\n{rule}").expect("write");
    for row in v.cells.chunks(tasks.len().max(1)) {
        write!(s, "| {} | {} |", row[0].diff.entry, row[0].diff.reference).expect("write");
        for c in row {
            if c.diff.test.mean_diff.is_nan() {
                // No seed finished on both sides (not trained yet, or failed).
                s.push_str(" – (no paired seeds) |");
                continue;
            }
            let word = if c.outcome == c.outcome_wilcoxon {
                c.outcome.word().to_owned()
            } else {
                format!(
                    "{} by t, {} by W",
                    c.outcome.word(),
                    c.outcome_wilcoxon.word()
                )
            };
            write!(
                s,
                " {:+.3} ({}; {}) {word} |",
                c.diff.test.mean_diff,
                p_value(c.p_holm),
                p_value(c.p_holm_wilcoxon)
            )
            .expect("write");
        }
        s.push('\n');
    }
}

/// A line saying that the Wilcoxon test cannot resolve any difference of the claim, where that
/// is so: with n paired seeds (the fewest of any cell) its two-sided p is at least 2 / 2^n (all
/// n signs alike), so Holm over the claim's m tested differences never goes below m · 2 / 2^n.
fn wilcoxon_floor(v: &ClaimVerdict) -> Option<String> {
    let tested = v.cells.iter().filter(|c| !c.diff.wilcoxon_p.is_nan());
    let m = tested.clone().count();
    let n = tested.map(|c| c.diff.test.n).min()?;
    let floor = m as f64 * 2f64.powi(1 - n.min(1024) as i32);
    (floor >= v.alpha).then(|| {
        let seeds = if n == 1 {
            "1 seed".to_owned()
        } else {
            format!("{n} seeds")
        };
        if m == 1 {
            return format!(
                "With {seeds} the Wilcoxon test cannot resolve this difference: its smallest \
                 two-sided p is 2 / 2^{n} ≥ alpha."
            );
        }
        format!(
            "With {seeds} the Wilcoxon test cannot resolve any of these {m} differences: its \
             smallest two-sided p is 2 / 2^{n}, and {m} times that is {} ≥ alpha.",
            p_value(floor.min(1.0))
        )
    })
}

/// The line saying where a claim's differences are taken (none for the end), and the name of
/// what its cells give.
fn window_md(s: &mut String, v: &ClaimVerdict) -> &'static str {
    let point = |f: Option<f64>| match f {
        Some(f) => format!("the checkpoint after {:.1} % of the stream", 100.0 * f),
        None => "the end".to_owned(),
    };
    match (v.since, v.at) {
        (None, None) => "NE diff %",
        (None, Some(_)) => {
            writeln!(s, "Measured at {}.", point(v.at)).expect("write");
            "NE diff %"
        }
        (Some(_), _) => {
            writeln!(
                s,
                "Measured: how each NE difference moves from {} to {}, per seed, in percentage \
                 points (negative: the difference falls).",
                point(v.since),
                point(v.at)
            )
            .expect("write");
            "change of NE diff, pp"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Oracle: Holm's (1979) step-down adjustment worked by hand for p = [0.01, 0.04, 0.03,
    /// 0.005]: sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06,
    /// max(1·0.04, 0.06) = 0.06 (monotone).
    #[test]
    fn holm_matches_the_step_down_procedure() {
        let got = holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        // capped at 1, NaN left out of the family
        let got = holm(&[0.6, f64::NAN, 0.9]);
        assert!((got[0] - 1.0).abs() < 1e-12 && got[1].is_nan() && (got[2] - 1.0).abs() < 1e-12);
        let got = holm(&[0.02, f64::NAN]);
        assert!((got[0] - 0.02).abs() < 1e-12, "{got:?}");
    }

    fn cfg(claims: &str) -> ExperimentConfig {
        ExperimentConfig::from_toml_str(
            &(adatt_testkit::config_head(
                "t",
                false,
                0,
                "checkpoints = [0.25, 0.5]",
                "seeds = [0, 1, 2]",
            ) + &format!(
                r#"
[[entries]]
name = "ref"
model = {{ kind = "adatt_sp", task_experts = 1, expert_dims = [[8]], tower = [4] }}
[[entries]]
name = "a"
model = {{ kind = "adatt_sp", task_experts = 2, expert_dims = [[8]], tower = [4] }}
[[entries]]
name = "b"
model = {{ kind = "adatt_sp", task_experts = 3, expert_dims = [[8]], tower = [4] }}
[analysis]
{claims}
"#
            )),
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    /// A difference whose t-test p is `p` and whose Wilcoxon p is `p` too.
    fn diff(entry: &str, reference: &str, task: &str, mean: f64, p: f64) -> NeDiffRow {
        diff_w(entry, reference, task, mean, p, p)
    }

    fn diff_w(entry: &str, reference: &str, task: &str, mean: f64, p: f64, pw: f64) -> NeDiffRow {
        NeDiffRow {
            entry: entry.into(),
            reference: reference.into(),
            task: task.into(),
            test: crate::stats::Paired {
                n: 30,
                mean_diff: mean,
                ci95: 0.1,
                t: 0.0,
                p,
            },
            wilcoxon_p: pw,
            paper: None,
        }
    }

    /// Outcomes worked by hand. Claim 1 (lower, every entry against `ref`): five finite p in
    /// the family, Holm-adjusted 0.001 → 0.005, 0.002 → 0.008, 0.004 → 0.012, 0.03 → 0.06,
    /// 0.3 → 0.3; so a/x replicated, a/y (NE up) contradicted, a/z, b/y, b/z (NaN) not
    /// resolved, b/x replicated: mixed; b/z has no paired seeds (its mean is NaN), which its
    /// cell says. Claim 2 (higher, b against a): 0.01 → 0.03,
    /// 0.02 → 0.04, 0.02 → 0.04, all with NE up: replicated by the t-test; its Wilcoxon p of
    /// b/a/z is 0.2 (→ 0.2; 0.01 → 0.03, 0.02 → 0.04), so by that test z is not resolved and the
    /// claim partly replicated, which the heading and the cell say.
    #[test]
    fn verdicts_follow_holm_and_the_expected_sign() {
        let cfg = cfg(r#"reference = "ref"
claims = [
  { claim = "more helps", expect = "lower" },
  { claim = "b worse than a", expect = "higher", rows = [["b", "a"]] },
]"#);
        cfg.validate(3).unwrap();
        let diffs = vec![
            diff("a", "ref", "x", -1.0, 0.001),
            diff("a", "ref", "y", 1.0, 0.002),
            diff("a", "ref", "z", -1.0, 0.3),
            diff("b", "ref", "x", -1.0, 0.004),
            diff("b", "ref", "y", -1.0, 0.03),
            diff("b", "ref", "z", f64::NAN, f64::NAN),
            diff("b", "a", "x", 0.5, 0.01),
            diff("b", "a", "y", 0.5, 0.02),
            diff_w("b", "a", "z", 0.1, 0.02, 0.2),
        ];
        let v = verdicts(&cfg, vec![diffs[..6].to_vec(), diffs[6..].to_vec()]);
        use Outcome::*;
        let outcomes: Vec<Vec<Outcome>> = v
            .iter()
            .map(|c| c.cells.iter().map(|c| c.outcome).collect())
            .collect();
        assert_eq!(
            outcomes,
            vec![
                vec![
                    Replicated,
                    Contradicted,
                    NotResolved,
                    Replicated,
                    NotResolved,
                    NotResolved
                ],
                vec![Replicated; 3],
            ]
        );
        let holm: Vec<f64> = v[0].cells.iter().map(|c| c.p_holm).collect();
        for (g, w) in holm.iter().zip([0.005, 0.008, 0.3, 0.012, 0.06]) {
            assert!((g - w).abs() < 1e-12, "{holm:?}");
        }
        assert_eq!(
            (v[0].word(Test::T), v[1].word(Test::T)),
            ("mixed", "replicated")
        );
        assert_eq!(v[1].word(Test::Wilcoxon), "partly replicated");
        let wz = &v[1].cells[2];
        assert_eq!(
            (wz.outcome_wilcoxon, wz.p_holm_wilcoxon),
            (NotResolved, 0.2)
        );
        let md = markdown(&v, &["x".into(), "y".into(), "z".into()]);
        assert!(md.contains("### more helps: **mixed**\n"), "{md}");
        // 30 seeds: 2 / 2^30 is far below alpha / 5.
        assert!(!md.contains("cannot resolve"), "{md}");
        assert!(
            md.contains(
                "### b worse than a: **replicated** by the t-test, **partly replicated** by the \
                 Wilcoxon test"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "| a | ref | -1.000 (0.0050; 0.0050) replicated | +1.000 (0.0080; 0.0080) \
                 contradicted |"
            ),
            "{md}"
        );
        assert!(
            md.contains("+0.100 (0.0400; 0.2000) replicated by t, not resolved by W |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| b | ref | -1.000 (0.0120; 0.0120) replicated | -1.000 (0.0600; 0.0600) not \
                 resolved | – (no paired seeds) |"
            ),
            "{md}"
        );
    }

    #[test]
    fn claims_naming_unknown_rows_or_lacking_a_reference_are_refused() {
        let e = cfg(r#"claims = [{ claim = "c", expect = "lower", rows = [["a", "nope"]] }]"#)
            .validate(3)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("analysis.claims.rows") && e.contains("nope"),
            "{e}"
        );
        let e = cfg(r#"claims = [{ claim = "c", expect = "lower" }]"#)
            .validate(3)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no analysis.reference"), "{e}");
        let e = cfg(r#"reference = "ref"
claims = [{ claim = "c", expect = "lower", alpha = 1.5 }]"#)
        .validate(3)
        .unwrap_err()
        .to_string();
        assert!(e.contains("alpha"), "{e}");
        for (window, piece) in [
            (
                "at = 0.3",
                "at = 0.3 is not one of train.checkpoints [0.25, 0.5]",
            ),
            (
                "since = 0.75",
                "since = 0.75 is not one of train.checkpoints",
            ),
            (
                "since = 0.5, at = 0.25",
                "since = 0.5 must come before at = 0.25",
            ),
            (
                "since = 0.5, at = 0.5",
                "since = 0.5 must come before at = 0.5",
            ),
        ] {
            let e = cfg(&format!(
                r#"reference = "ref"
claims = [{{ claim = "c", expect = "lower", {window} }}]"#
            ))
            .validate(3)
            .unwrap_err()
            .to_string();
            assert!(e.contains("analysis.claims") && e.contains(piece), "{e}");
        }
        let ok = cfg(r#"reference = "ref"
claims = [{ claim = "c", expect = "lower", since = 0.25, at = 0.5 }]"#);
        ok.validate(3).unwrap();
    }
}
