//! Metrics against independent oracles: scikit-learn values (fixtures/metrics/cases.json, written
//! by scripts/fixtures/metrics.py) and hand-computed cases.

use adatt_spec::metrics::{
    binary_entropy, evaluate_many, log_loss, mse, normalized_entropy, roc_auc, MetricKind,
};

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    labels: Vec<f32>,
    scores: Vec<f32>,
    auc: f64,
    log_loss: f64,
}

fn cases() -> Vec<Case> {
    // Run-time CARGO_MANIFEST_DIR: the checkout this test runs for, even if the binary was built
    // in another checkout sharing the target dir.
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests");
    let p = format!("{dir}/../../fixtures/metrics/cases.json");
    let text = std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{p}: {e}; run `make fixtures` to generate the sklearn oracle"));
    serde_json::from_str(&text).expect("fixture parses")
}

#[test]
fn auc_equals_sklearn_to_1e12() {
    let cs = cases();
    assert!(cs.len() >= 8);
    for c in &cs {
        let got = roc_auc(&c.labels, &c.scores);
        assert!(
            (got - c.auc).abs() < 1e-12,
            "{}: ours {got} vs sklearn {}",
            c.name,
            c.auc
        );
    }
}

#[test]
fn log_loss_equals_sklearn_with_the_documented_clamp() {
    for c in &cases() {
        let got = log_loss(&c.labels, &c.scores);
        assert!(
            (got - c.log_loss).abs() < 1e-12 * c.log_loss.max(1.0),
            "{}: {got} vs {}",
            c.name,
            c.log_loss
        );
    }
}

#[test]
fn auc_hand_cases() {
    // 1 positive above 1 of 2 negatives, tie with the other -> (1 + 0.5)/2
    assert_eq!(roc_auc(&[0.0, 1.0, 0.0], &[0.2, 0.5, 0.5]), 0.75);
    assert!(
        roc_auc(&[1.0, 1.0], &[0.1, 0.2]).is_nan(),
        "one class -> NaN"
    );
    assert!(
        roc_auc(&[0.0, 1.0], &[f32::NAN, 0.2]).is_nan(),
        "NaN score -> NaN"
    );
    // -0.0 and 0.0 tie, as in sklearn
    assert_eq!(roc_auc(&[0.0, 1.0], &[0.0, -0.0]), 0.5);
}

#[test]
fn normalized_entropy_hand_computed() {
    // base rate 0.25: H = -(0.25 ln 0.25 + 0.75 ln 0.75) = 0.5623351446188083
    let h = binary_entropy(0.25);
    assert!((h - 0.562_335_144_618_808_3).abs() < 1e-15);
    // predicting the base rate on data with that rate gives NE = 1
    let y = [1.0, 0.0, 0.0, 0.0];
    let p = [0.25f32; 4];
    let ne = normalized_entropy(&y, &p, 0.25);
    assert!((ne - 1.0).abs() < 1e-7, "{ne}");
    // hand: y=[1,0], p=[0.8,0.4]: loss = (-ln 0.8 - ln 0.6)/2 = 0.36698...
    let l = log_loss(&[1.0, 0.0], &[0.8, 0.4]);
    let want = (-(0.8f32 as f64).ln() - (1.0 - 0.4f32 as f64).ln()) / 2.0;
    assert!((l - want).abs() < 1e-15);
    assert!((normalized_entropy(&[1.0, 0.0], &[0.8, 0.4], 0.5) - want / 2f64.ln()).abs() < 1e-15);
    assert!(
        normalized_entropy(&y, &p, 0.0).is_nan(),
        "degenerate base rate -> NaN"
    );
    // clamp: p = 0 for a positive gives -ln(1e-7)
    assert!((log_loss(&[1.0], &[0.0]) - 16.118_095_650_958_32).abs() < 1e-9);
}

#[test]
fn mse_hand_computed() {
    assert_eq!(mse(&[1.0, 2.0, 3.0], &[1.0, 1.0, 5.0]), 5.0 / 3.0);
    assert!(mse(&[], &[]).is_nan());
}

#[test]
fn evaluate_many_matches_single_calls() {
    let labels = vec![1.0, 0.5, 0.0, 1.5, 1.0, 2.5, 0.0, 0.0]; // [4 rows, 2 tasks]
    let out = vec![vec![0.9, 0.4, 0.2, 1.0, 0.7, 2.0, 0.1, 0.5]];
    let m = evaluate_many(
        &out,
        &labels,
        2,
        &[MetricKind::Binary, MetricKind::Regression],
        &[0.5, 0.5],
    );
    assert_eq!(
        m[0][0].auc,
        roc_auc(&[1.0, 0.0, 1.0, 0.0], &[0.9, 0.2, 0.7, 0.1])
    );
    assert_eq!(
        m[0][1].loss,
        mse(&[0.5, 1.5, 2.5, 0.0], &[0.4, 1.0, 2.0, 0.5])
    );
    assert!(m[0][1].auc.is_nan());
}
