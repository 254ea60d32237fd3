//! `[train] lr_schedule` against PyTorch's schedulers: the learning rate of every update of
//! `torch.optim.Adam` under `LinearLR` and `CosineAnnealingLR` stepped once per update
//! (fixtures/optim/lr_schedule.json, written by scripts/fixtures/lr_schedule.py).

use adatt_spec::{LrSchedule, TrainConfig};

#[derive(serde::Deserialize)]
struct Case {
    kind: String,
    final_factor: f64,
    lr: f64,
    total: usize,
    lrs: Vec<f64>,
}

fn cases() -> Vec<Case> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests");
    let p = format!("{dir}/../../fixtures/optim/lr_schedule.json");
    let text = std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{p}: {e}; run `make fixtures` to generate the PyTorch oracle"));
    serde_json::from_str(&text).expect("fixture parses")
}

#[test]
fn every_update_has_pytorchs_learning_rate() {
    let cs = cases();
    assert_eq!(cs.len(), 8);
    for c in &cs {
        let text = format!(
            "batch_size = 1\nepochs = 1\nlr = {}\nlr_schedule = {{ kind = \"{}\", final_factor = {} }}",
            c.lr, c.kind, c.final_factor
        );
        let cfg: TrainConfig = toml::from_str(&text).expect("config parses");
        cfg.validate(1).expect("valid");
        assert_eq!(c.lrs.len(), c.total);
        for (k, want) in c.lrs.iter().enumerate() {
            let got = cfg.lr * cfg.lr_schedule.factor(k, c.total);
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1e-12),
                "{} to {} over {}: update {k} has lr {got}, PyTorch {want}",
                c.kind,
                c.final_factor,
                c.total
            );
        }
    }
}

#[test]
fn a_constant_schedule_stays_out_of_the_saved_config() {
    let cfg: TrainConfig = toml::from_str("batch_size = 8\nepochs = 1\nlr = 1e-3").unwrap();
    assert_eq!(cfg.lr_schedule, LrSchedule::Constant);
    let saved = toml::to_string(&cfg).unwrap();
    assert!(!saved.contains("lr_schedule"), "{saved}");
}

#[test]
fn a_final_factor_outside_0_1_is_refused_by_name() {
    let cfg: TrainConfig = toml::from_str(
        "batch_size = 8\nepochs = 1\nlr = 1e-3\nlr_schedule = { kind = \"cosine\", final_factor = 1.5 }",
    )
    .unwrap();
    let e = cfg.validate(1).unwrap_err().to_string();
    assert!(
        e.contains("train.lr_schedule.final_factor") && e.contains("1.5"),
        "{e}"
    );
}
