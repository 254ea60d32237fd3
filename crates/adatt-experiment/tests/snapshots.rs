//! A one-pass run stopped part-way resumes from its snapshot and ends as the run that was never
//! stopped, bit for bit; snapshots of other code are not resumed from, those of another run or
//! damaged ones are refused naming the file.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;

use adatt_engine::snapshot::SnapshotStore;
use adatt_engine::{load_data, EngineError, LoadedData, TrainData};
use adatt_experiment::runner::{run_grid, run_grid_with_hook, GridOptions};
use adatt_experiment::snapshots::{snapshot_dir, snapshot_path, FileSnapshots};
use adatt_spec::{read_all_records, ExperimentConfig, RunOutcome};
use tch::Device;

const CONFIG: &str = r#"
name = "snap"
[data]
source = "simulator"
preset = "group3"
train_rows = 30000
valid_rows = 4000
test_rows = 4000
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
name = "AdaTT"
model = { kind = "adatt", task_experts = 1, shared_experts = 1, expert_dims = [[32], [16]], tower = [8] }
"#;

fn setup() -> (ExperimentConfig, LoadedData) {
    let cfg = ExperimentConfig::from_toml_str(CONFIG, Path::new("snap.toml")).unwrap();
    let data = load_data(&cfg.data).unwrap();
    (cfg, data)
}

fn opts(dir: &Path, snapshot_every: Option<Duration>) -> GridOptions {
    GridOptions {
        out_dir: dir.to_owned(),
        shard: None,
        device: Device::Cpu,
        threads: 1,
        replicas: 2,
        command_line: vec![],
        progress: false,
        code_revision: Some("rev-a".into()),
        retry_failed: false,
        snapshot_every,
    }
}

/// Outcomes as JSON, every number exact (a regression task's AUC is NaN, written null).
fn json(o: &[RunOutcome]) -> Vec<String> {
    o.iter()
        .map(|o| serde_json::to_string(o).unwrap())
        .collect()
}

/// The records' outcomes, in seed order.
fn outcomes(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = read_all_records(dir).unwrap();
    v.sort_by_key(|r| r.seed);
    json(&v.into_iter().map(|r| r.outcome).collect::<Vec<_>>())
}

/// The process "stops" (a panic out of the loss hook) at step 40 of 59, after both checkpoint
/// evaluations; the grid run again resumes at the last snapshot (one per step) and its records
/// equal those of a run that never stopped and saved nothing.
#[test]
fn a_run_stopped_part_way_resumes_and_ends_as_the_uninterrupted_run() {
    let (cfg, data) = setup();
    let plain = tempfile::tempdir().unwrap();
    run_grid(&cfg, &data, &opts(plain.path(), None)).unwrap();
    let want = outcomes(plain.path());
    assert_eq!(want.len(), 2);
    assert_eq!(
        want[0].matches("\"fraction\"").count(),
        3,
        "two checkpoints, one epoch"
    );

    let dir = tempfile::tempdir().unwrap();
    let every_step = opts(dir.path(), Some(Duration::ZERO));
    let mut stop = |_: &[u64], step: usize, _: &tch::Tensor| -> Option<tch::Tensor> {
        assert!(step < 40, "stopped at step 40");
        None
    };
    let stopped = catch_unwind(AssertUnwindSafe(|| {
        run_grid_with_hook(&cfg, &data, &every_step, Some(&mut stop))
    }));
    assert!(stopped.is_err());
    assert!(read_all_records(dir.path()).unwrap().is_empty());
    let group = adatt_spec::plan::plan(&cfg);
    let snap = snapshot_path(dir.path(), &group);
    assert!(snap.is_file(), "{}", snap.display());

    // Run again: the group trains steps 40 to 58 only.
    let mut trained = Vec::new();
    let mut count = |_: &[u64], step: usize, _: &tch::Tensor| -> Option<tch::Tensor> {
        trained.push(step);
        None
    };
    let s = run_grid_with_hook(&cfg, &data, &every_step, Some(&mut count)).unwrap();
    assert_eq!((s.trained, s.failed), (2, 0));
    assert_eq!(trained, (40..59).collect::<Vec<_>>());
    assert_eq!(outcomes(dir.path()), want);
    // Recorded: the snapshot is gone.
    assert!(!snap.exists());
    assert_eq!(
        std::fs::read_dir(snapshot_dir(dir.path())).unwrap().count(),
        0
    );
}

/// A store holding given bytes, saving nothing.
struct Given {
    bytes: Vec<u8>,
    origin: String,
}

impl SnapshotStore for Given {
    fn every(&self) -> Duration {
        Duration::from_secs(3600)
    }
    fn origin(&self) -> &str {
        &self.origin
    }
    fn load(&mut self) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(Some(self.bytes.clone()))
    }
    fn save(&mut self, _: usize, _: &[u8]) -> Result<(), EngineError> {
        Ok(())
    }
}

/// A store keeping the save after step `at`.
struct KeepAt {
    at: usize,
    kept: Option<Vec<u8>>,
}

impl SnapshotStore for KeepAt {
    fn every(&self) -> Duration {
        Duration::ZERO
    }
    fn origin(&self) -> &str {
        "rev-a"
    }
    fn load(&mut self) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(None)
    }
    fn save(&mut self, step: usize, bytes: &[u8]) -> Result<(), EngineError> {
        if step == self.at {
            self.kept = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// The runs of the group of `seeds` of `cfg`'s entry, trained on `train` with `store`, and the
/// number of steps trained.
fn train_runs(
    train: &TrainData,
    cfg: &ExperimentConfig,
    seeds: &[u64],
    store: Option<&mut dyn SnapshotStore>,
) -> Result<(Vec<RunOutcome>, usize), EngineError> {
    let model = &cfg.entries[0].model;
    let mut steps = Steps(0);
    let (out, _) =
        adatt_engine::train_group_model(train, model, &cfg.train, seeds, &mut steps, None, store)?;
    Ok((out.runs, steps.0))
}

/// Counts the training steps.
struct Steps(usize);

impl adatt_engine::trainer::Progress for Steps {
    fn step(&mut self, _: usize, _: usize, _: usize) {
        self.0 += 1;
    }
}

#[test]
fn a_snapshot_of_other_code_is_not_used_and_one_of_another_run_is_refused() {
    let (cfg, data) = setup();
    let train = TrainData::from_data(
        (&data).into(),
        cfg.run.input,
        Device::Cpu,
        cfg.train.max_train_rows,
    )
    .unwrap();
    let group = |seeds: &[u64], store: Option<&mut dyn SnapshotStore>| {
        train_runs(&train, &cfg, seeds, store)
    };
    let (want, steps) = group(&[0], None).unwrap();
    assert_eq!(steps, 59);
    // Seed 5's state after 20 steps.
    let mut keep = KeepAt { at: 20, kept: None };
    group(&[5], Some(&mut keep)).unwrap();
    let seed5 = keep.kept.expect("saved at step 20");

    // Saved by other code: seed 0 trains from the start.
    let mut other_code = Given {
        bytes: seed5.clone(),
        origin: "rev-b".into(),
    };
    let (got, steps) = group(&[0], Some(&mut other_code)).unwrap();
    assert_eq!((json(&got), steps), (json(&want), 59));

    // Same code, another run (seed 5's state for seed 0): refused, and so are damaged bytes.
    let mut other_run = Given {
        bytes: seed5.clone(),
        origin: "rev-a".into(),
    };
    let e = group(&[0], Some(&mut other_run)).unwrap_err().to_string();
    assert!(e.contains("snapshot: it was saved by another run"), "{e}");
    let mut damaged = Given {
        bytes: seed5[..seed5.len() / 2].to_vec(),
        origin: "rev-a".into(),
    };
    let e = group(&[0], Some(&mut damaged)).unwrap_err().to_string();
    assert!(e.starts_with("snapshot: not a safetensors file"), "{e}");
    // The experiment layer names the file and the way out.
    let file = FileSnapshots {
        path: "results/x/.snapshots/abc-s0.safetensors".into(),
        origin: "rev-a".into(),
        every: Duration::ZERO,
    };
    let e = file
        .name_in(EngineError::Snapshot("not a safetensors file (x)".into()))
        .to_string();
    assert_eq!(
        e,
        "snapshot: results/x/.snapshots/abc-s0.safetensors: not a safetensors file (x) \
         (delete the file to train the group from the start)"
    );
}
