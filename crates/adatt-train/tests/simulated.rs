//! The engine on a simulated task group: a one-pass run through the embedding input layer,
//! whose checkpoint curve is recorded, with MSE for the regression task and AUC/NE for the
//! binary ones.

use std::path::Path;

use adatt_train::{load_data, read_all_records, run_grid, ExperimentConfig, GridOptions};
use tch::Device;

const CONFIG: &str = r#"
name = "simtiny"
[data]
source = "simulator"
preset = "group3"
train_rows = 60000
valid_rows = 10000
test_rows = 10000
embedding_dim = 8
[train]
batch_size = 512
epochs = 1
lr = 1e-3
checkpoints = [0.142857, 0.428571]
[run]
seeds = [0, 1]
threads = 1
[[entries]]
name = "AdaTT-sp"
model = { kind = "adatt_sp", task_experts = 1, expert_dims = [[64], [32]], tower = [16] }
"#;

#[test]
fn a_one_pass_run_on_group3_records_its_checkpoints_and_learns() {
    let cfg = ExperimentConfig::from_toml_str(CONFIG, Path::new("sim.toml")).unwrap();
    assert_eq!(cfg.data.n_tasks(), 5);
    assert_eq!(cfg.data.label(), "group3");
    let data = load_data(&cfg.data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = GridOptions {
        out_dir: dir.path().to_owned(),
        shard: None,
        device: Device::Cpu,
        threads: 1,
        replicas: 2,
        command_line: vec![],
        progress: false,
        code_revision: None,
        retry_failed: false,
    };
    let s = run_grid(&cfg, &data, &opts).unwrap();
    assert_eq!((s.trained, s.failed, s.diverged), (2, 0, 0));
    let recs = read_all_records(dir.path()).unwrap();
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert_eq!(r.protocol, "group3");
        assert_eq!(
            r.tasks,
            ["watch_time", "click", "long_view", "like", "dislike"]
        );
        // One pass: one epoch, checkpoints at 1/7 and 3/7 of the stream (60000 rows in batches
        // of 512: steps 17 and 51 of 118).
        assert_eq!(r.epochs.len(), 1);
        let ck: Vec<(f64, u64)> = r
            .checkpoints
            .iter()
            .map(|c| (c.fraction, c.examples))
            .collect();
        assert_eq!(ck, vec![(0.142857, 17 * 512), (0.428571, 51 * 512)]);
        let best = r.best.as_ref().expect("a finished run has a best epoch");
        // watch_time has unit variance: predicting its mean gives an MSE of about 1.
        let mse = best.test[0].loss;
        assert!(best.test[0].auc.is_nan() && mse < 0.95, "MSE {mse}");
        // click (46 % positives) is learned above chance.
        let auc = best.test[1].auc;
        assert!(auc > 0.6, "click AUC {auc}");
    }
    let man = std::fs::read_to_string(dir.path().join("invocation.json")).unwrap();
    assert!(
        man.contains("world seed 1, 60000 train / 10000 valid / 10000 test rows"),
        "{man}"
    );
}

#[test]
fn a_protocol_override_is_refused_for_simulated_data() {
    let cfg = ExperimentConfig::from_toml_str(CONFIG, Path::new("sim.toml")).unwrap();
    let e = cfg
        .data
        .check_protocol_override(Some(adatt_data::Protocol::Clean))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--protocol") && e.contains("simulator preset `group3`"),
        "{e}"
    );
    let bad = CONFIG.replace("preset = \"group3\"", "preset = \"group9\"");
    let e = ExperimentConfig::from_toml_str(&bad, Path::new("sim.toml"))
        .unwrap()
        .validate(0)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("data.preset") && e.contains("unknown preset `group9`"),
        "{e}"
    );
}
