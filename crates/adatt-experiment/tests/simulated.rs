//! The engine on a simulated task group: a one-pass run through the embedding input layer,
//! whose checkpoint curve is recorded, with MSE for the regression task and AUC/NE for the
//! binary ones.

use std::path::Path;

use adatt_engine::{load_data, LoadedData, TrainData};
use adatt_experiment::runner::{run_grid, GridOptions};
use adatt_spec::{read_all_records, ExperimentConfig};
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

/// One process, one thread, 2 replicas per group, into `dir`.
fn opts(dir: &Path) -> GridOptions {
    GridOptions {
        out_dir: dir.to_owned(),
        shard: None,
        device: Device::Cpu,
        threads: 1,
        replicas: 2,
        command_line: vec![],
        progress: false,
        code_revision: None,
        retry_failed: false,
        snapshot_every: None,
    }
}

#[test]
fn a_one_pass_run_on_group3_records_its_checkpoints_and_learns() {
    let cfg = ExperimentConfig::from_toml_str(CONFIG, Path::new("sim.toml")).unwrap();
    assert_eq!(cfg.data.n_tasks(), 5);
    assert_eq!(cfg.data.label(), "group3");
    let data = load_data(&cfg.data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = opts(dir.path());
    let s = run_grid(&cfg, &data, &opts).unwrap();
    assert_eq!((s.trained, s.failed, s.diverged), (2, 0, 0));
    let recs = read_all_records(dir.path()).unwrap();
    assert_eq!(recs.len(), 2);
    let LoadedData::Simulated(sd) = &data else {
        panic!("simulated data")
    };
    let oracle = sd.oracle_metrics(adatt_data::sim::SimStream::Test, 10_000);
    for r in &recs {
        assert_eq!(r.protocol, "group3");
        assert_eq!(
            r.tasks,
            ["watch_time", "click", "long_view", "like", "dislike"]
        );
        // One pass: one epoch, checkpoints at 1/7 and 3/7 of the stream (60000 rows in batches
        // of 512: steps 17 and 51 of 118).
        assert_eq!(r.outcome.epochs.len(), 1);
        let ck: Vec<(f64, u64)> = r
            .outcome
            .checkpoints
            .iter()
            .map(|c| (c.fraction, c.examples))
            .collect();
        assert_eq!(ck, vec![(0.142857, 17 * 512), (0.428571, 51 * 512)]);
        let best = r
            .outcome
            .best
            .as_ref()
            .expect("a finished run has a best epoch");
        // watch_time has unit variance: predicting its mean gives an MSE of about 1.
        let mse = best.test[0].loss;
        assert!(best.test[0].auc.is_nan() && mse < 0.95, "MSE {mse}");
        // click (46 % positives) is learned above chance.
        let auc = best.test[1].auc;
        assert!(auc > 0.6, "click AUC {auc}");
        // ... and stays above the Bayes limit on the same test rows.
        for k in [1, 2] {
            assert!(
                best.test[k].ne > oracle[k].ne,
                "task {k}: {:?} vs oracle {:?}",
                best.test[k],
                oracle[k]
            );
        }
        assert!(best.test[0].loss > oracle[0].loss);
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
        .check_protocol_override(
            Some(adatt_data::Protocol::Clean),
            "--protocol / ADATT_PROTOCOL",
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--protocol") && e.contains("simulator preset `group3`"),
        "{e}"
    );
    let bad = CONFIG.replace("preset = \"group3\"", "preset = \"group9\"");
    let e = ExperimentConfig::from_toml_str(&bad, Path::new("sim.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sim.toml") && e.contains("unknown preset `group9`; the presets are group1"),
        "{e}"
    );
}

/// Every architecture (and the NativeExpertLF ablation) trains on every preset through the
/// embedding layer: a short pass, every run finished, every task's test metric finite (MSE
/// for a regression task, NE for a binary one), the records' tasks those of the preset.
#[test]
fn every_architecture_trains_on_every_preset() {
    let models = r#"
[[entries]]
name = "Shared-bottom"
model = { kind = "shared_bottom", bottom = [16, 8], tower = [4] }
[[entries]]
name = "ML-MMoE"
model = { kind = "mmoe", experts = 3, expert_dims = [[16], [8]], tower = [4] }
[[entries]]
name = "Cross-stitch"
model = { kind = "cross_stitch", expert_dims = [[16], [8]], tower = [4] }
[[entries]]
name = "PLE"
model = { kind = "ple", task_experts = 1, shared_experts = 1, expert_dims = [[16], [8]], tower = [4] }
[[entries]]
name = "AdaTT-sp"
model = { kind = "adatt_sp", task_experts = 1, expert_dims = [[16], [8]], tower = [4] }
[[entries]]
name = "AdaTT"
model = { kind = "adatt", task_experts = 1, shared_experts = 1, expert_dims = [[16], [8]], tower = [4] }
[[entries]]
name = "AdaTT, NativeExpertLF ablated"
model = { kind = "adatt", task_experts = 1, shared_experts = 1, expert_dims = [[16], [8]], tower = [4], native = "ablated" }
[[entries]]
name = "Single-task"
model = { kind = "single_task", bottom = [16, 8], tower = [4] }
"#;
    for preset in ["group1", "group2", "group3", "fig3"] {
        let text = format!(
            "name = \"all\"\n[data]\nsource = \"simulator\"\npreset = \"{preset}\"\n\
             train_rows = 2048\nvalid_rows = 2000\ntest_rows = 2000\nembedding_dim = 4\n\
             [train]\nbatch_size = 256\nepochs = 1\nlr = 1e-3\n[run]\nseeds = [0, 1]\n\
             threads = 1\n{models}"
        );
        let cfg = ExperimentConfig::from_toml_str(&text, Path::new("all.toml")).unwrap();
        let tasks: Vec<String> = cfg.data.tasks().into_iter().map(|t| t.name).collect();
        cfg.validate(tasks.len()).unwrap();
        let data = load_data(&cfg.data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let opts = opts(dir.path());
        let s = run_grid(&cfg, &data, &opts).unwrap();
        assert_eq!((s.trained, s.failed, s.diverged), (16, 0, 0), "{preset}");
        let recs = read_all_records(dir.path()).unwrap();
        assert_eq!(recs.len(), 16);
        let kinds = cfg.data.tasks();
        for r in &recs {
            assert_eq!(r.tasks, tasks, "{preset}");
            let best = r.outcome.best.as_ref().expect("finished");
            for (k, m) in kinds.iter().zip(&best.test) {
                let v = match k.kind {
                    adatt_data::TaskKind::Regression => m.loss,
                    adatt_data::TaskKind::Binary => m.ne,
                };
                assert!(
                    v.is_finite() && v > 0.0,
                    "{preset} {} {}: {m:?}",
                    r.entry,
                    k.name
                );
            }
        }
    }
}

/// Generated evaluation sets without a positive of a binary task are refused when the data is
/// set up (an AUC would be NaN), naming the key of the set's size; sets with one are accepted.
/// `group1` with 53 validation rows expects 1.007 likes: some worlds draw none. The oracle is a
/// count of the generated labels.
#[test]
fn evaluation_sets_without_both_classes_are_refused_when_generated() {
    let (mut refused, mut accepted) = (0, 0);
    for world_seed in 1..=12 {
        let text = format!(
            "name = \"few\"\n[data]\nsource = \"simulator\"\npreset = \"group1\"\n\
             world_seed = {world_seed}\ntrain_rows = 1024\nvalid_rows = 53\ntest_rows = 20000\n\
             embedding_dim = 4\n[train]\nbatch_size = 512\nepochs = 1\nlr = 1e-3\n[run]\n\
             seeds = [0]\n[[entries]]\nname = \"SB\"\n\
             model = {{ kind = \"shared_bottom\", bottom = [8], tower = [4] }}\n"
        );
        let cfg = ExperimentConfig::from_toml_str(&text, Path::new("few.toml")).unwrap();
        cfg.validate(2).unwrap();
        let data = load_data(&cfg.data).unwrap();
        let LoadedData::Simulated(sd) = &data else {
            panic!("simulated data")
        };
        let rows = sd.sim.rows(adatt_data::sim::SimStream::Valid, 0, 53);
        let likes = (0..53).filter(|i| rows.labels[i * 2 + 1] > 0.5).count();
        match TrainData::simulated(sd, Device::Cpu) {
            Ok(_) => {
                assert!(likes > 0, "world {world_seed}: accepted without a like");
                accepted += 1;
            }
            Err(e) => {
                assert_eq!(
                    likes, 0,
                    "world {world_seed}: refused with {likes} likes: {e}"
                );
                let shown = e.to_string();
                assert!(
                    shown.contains("`data.valid_rows`")
                        && shown
                            .contains("53 generated rows hold no positive example of task `like`"),
                    "{shown}"
                );
                refused += 1;
            }
        }
    }
    assert!(
        refused > 0 && accepted > 0,
        "refused {refused}, accepted {accepted}"
    );
}

/// The Bayes limit of `group3` on 20,000 test rows against what can be said without it:
/// watch_time's oracle MSE is the variance of the noise it cannot see, (std · noise / σ)², with
/// σ the calibration's standardisation (within 4 %, the sampling error of a mean of 20,000
/// squared normals being 1 %); every binary task's oracle beats the constant predictor at its
/// rate (NE < 1) and ranks better than chance.
#[test]
fn the_oracle_leaves_only_the_unseen_noise() {
    let text = CONFIG.replace("test_rows = 10000", "test_rows = 20000");
    let cfg = ExperimentConfig::from_toml_str(&text, Path::new("sim.toml")).unwrap();
    let data = load_data(&cfg.data).unwrap();
    let LoadedData::Simulated(sd) = &data else {
        panic!("simulated data")
    };
    let oracle = sd.oracle_metrics(adatt_data::sim::SimStream::Test, 20_000);
    let model = sd.sim.task_model();
    let sigma = model.standardise[0].1;
    let want = (model.regression[0].1 * model.noise / sigma).powi(2);
    let got = oracle[0].loss;
    assert!((got / want - 1.0).abs() < 0.04, "MSE {got} vs {want}");
    for (k, m) in oracle.iter().enumerate().skip(1) {
        assert!(m.ne > 0.0 && m.ne < 1.0, "task {k}: {m:?}");
        assert!(m.auc > 0.6, "task {k}: {m:?}");
    }
}
