//! End-to-end engine tests on a slice of the real Census data.

use std::path::Path;
use std::sync::OnceLock;

use adatt_analysis::Dirs;
use adatt_data::{CensusConfig, Dataset, Protocol};
use adatt_engine::{train_group, TrainData};
use adatt_experiment::runner::{run_grid, run_grid_with_hook, GridOptions};
use adatt_spec::{
    consolidate_records, read_all_records, Consolidation, ExperimentConfig, RunRecord, Shard,
    SpecError, Status, UnixTime,
};
use adatt_testkit::TINY_GRID;
use tch::Tensor;

fn dataset() -> &'static Dataset {
    static DS: OnceLock<Dataset> = OnceLock::new();
    DS.get_or_init(|| {
        adatt_data::load_census(&CensusConfig {
            data_dir: adatt_testkit::census_dir(),
            protocol: Protocol::Clean,
            split_seed: 1,
        })
        .expect("census loads")
    })
}

fn config() -> ExperimentConfig {
    ExperimentConfig::from_toml_str(TINY_GRID, Path::new("tiny.toml")).expect("config parses")
}

/// The code revision the grids of these tests stamp on their records.
const REVISION: &str = "0123456789ab-test";

fn opts(dir: &Path, shard: Option<Shard>, replicas: usize) -> GridOptions {
    GridOptions {
        out_dir: dir.to_owned(),
        shard,
        device: tch::Device::Cpu,
        threads: 1,
        replicas,
        command_line: vec!["test".into()],
        progress: false,
        code_revision: Some(REVISION.into()),
        retry_failed: false,
        snapshot_every: None,
    }
}

/// Records without the fields that legitimately differ between identical runs (timing).
fn comparable(mut v: Vec<RunRecord>) -> Vec<RunRecord> {
    for r in &mut v {
        r.group_wall_s = 0.0;
        r.finished_at = UnixTime(0.0);
        r.group_replicas = 0;
    }
    v.sort_by(|a, b| a.key.cmp(&b.key));
    v
}

#[test]
fn grid_writes_records_tables_figures_and_is_deterministic() {
    let ds = dataset();
    let cfg = config();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let s = run_grid(&cfg, ds, &opts(a.path(), None, 2)).unwrap();
    assert_eq!((s.planned, s.skipped, s.trained, s.failed), (4, 0, 4, 0));
    run_grid(&cfg, ds, &opts(b.path(), None, 2)).unwrap();
    let ra = comparable(read_all_records(a.path()).unwrap());
    let rb = comparable(read_all_records(b.path()).unwrap());
    assert_eq!(ra.len(), 4);
    assert_eq!(
        ra, rb,
        "same config, seeds and threads must give identical records"
    );
    check_tiny_grid_records(&ra);
    // Different seeds differ.
    assert_ne!(ra[0].outcome.best, ra[1].outcome.best);
    check_sparse_input_trains_the_same_models(&cfg, ds, &ra);
    let summary = check_analysis_against_the_records(&cfg, a.path());
    assert!(a.path().join("config.toml").exists());
    check_a_seed_subset_reports_apart(&cfg, a.path(), &summary);
    check_manifest_compute_and_provenance(a.path());
    check_invocation_manifest(a.path());
}

/// Every record of the tiny grid (2 epochs of 8,192 rows, a checkpoint at 25 %, DWA): finished,
/// its best epoch the one with the best validation sum, the test set evaluated once, every task
/// learnt.
fn check_tiny_grid_records(ra: &[RunRecord]) {
    for r in ra {
        assert_eq!(r.outcome.status, Status::Ok);
        assert_eq!(r.outcome.epochs.len(), 2);
        assert_eq!(r.outcome.checkpoints.len(), 1);
        // 8192 rows / batch 256 = 32 steps per epoch; the 0.25 checkpoint is step 16 of 64.
        assert_eq!(
            (
                r.outcome.checkpoints[0].epoch,
                r.outcome.checkpoints[0].examples
            ),
            (0, 16 * 256)
        );
        assert_eq!(
            (r.outcome.epochs[0].examples, r.outcome.epochs[1].examples),
            (8192, 16384)
        );
        assert_eq!(r.tasks, vec!["education", "income", "never_married"]);
        let best = r.outcome.best.as_ref().unwrap();
        let e = r.outcome.best_epoch.unwrap();
        assert_eq!(
            best.valid, r.outcome.epochs[e].eval.valid,
            "best = the epoch with the best validation sum"
        );
        // The test set is evaluated once, with the best epoch's weights.
        assert!(r.outcome.epochs.iter().all(|p| p.eval.test.is_empty()));
        assert_eq!(best.test.len(), 3);
        let sum = |k: usize| {
            r.outcome.epochs[k]
                .eval
                .valid
                .iter()
                .map(|m| m.auc)
                .sum::<f64>()
        };
        assert!((0..2).all(|k| sum(e) >= sum(k)));
        // Even this tiny run learns every task (never married is the easy one).
        for (t, m) in best.test.iter().enumerate() {
            let floor = if t == 2 { 0.95 } else { 0.75 };
            assert!(
                m.auc > floor && m.auc < 1.0,
                "{} seed {} task {t}: AUC {m:?}",
                r.entry,
                r.seed
            );
        }
        // DWA: weights are 1 for the first epochs.
        assert_eq!(r.outcome.task_weights[0], vec![1.0; 3]);
    }
}

/// The sparse first layer trains the same models as the dense one (same record keys;
/// float-rounding drift only).
fn check_sparse_input_trains_the_same_models(
    cfg: &ExperimentConfig,
    ds: &Dataset,
    ra: &[RunRecord],
) {
    let sp = tempfile::tempdir().unwrap();
    let mut sparse = cfg.clone();
    sparse.run.input = adatt_spec::InputMode::Sparse;
    run_grid(&sparse, ds, &opts(sp.path(), None, 2)).unwrap();
    let rs = comparable(read_all_records(sp.path()).unwrap());
    for (d, s) in ra.iter().zip(&rs) {
        assert_eq!(
            d.key, s.key,
            "the input path is not part of a run's identity"
        );
        for (md, ms) in d
            .outcome
            .best
            .as_ref()
            .unwrap()
            .test
            .iter()
            .zip(&s.outcome.best.as_ref().unwrap().test)
        {
            assert!(
                (md.auc - ms.auc).abs() < 5e-4,
                "{}: dense {} vs sparse {}",
                d.entry,
                md.auc,
                ms.auc
            );
        }
    }
}

/// (entry, task, n, mean test AUC) of each row of a `summary.csv`.
fn summary_cells(csv: &str) -> Vec<(String, String, u64, f64)> {
    csv.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[1].to_owned(),
                f[5].to_owned(),
                f[6].parse().unwrap(),
                f[9].parse().unwrap(),
            )
        })
        .collect()
}

/// The analysis of the grid's records in `dir` writes its tables and figures, and
/// `summary.csv` and `table.md` give the records' n and mean test AUC per cell; returns
/// `summary.csv`.
fn check_analysis_against_the_records(cfg: &ExperimentConfig, dir: &Path) -> String {
    // Analysis writes tables and figures.
    let files = adatt_analysis::analyze(cfg, Dirs::same(dir), "tiny", "")
        .unwrap()
        .files;
    for f in [
        "summary.csv",
        "table.md",
        "comparisons.csv",
        "auc_distributions.png",
        "auc_distributions.svg",
        "training_curves.png",
    ] {
        let p = dir.join(f);
        assert!(files.contains(&p), "{f} not reported");
        assert!(std::fs::metadata(&p).unwrap().len() > 100, "{f} is empty");
    }
    // summary.csv against the records: n and the mean test AUC of every cell.
    let recs = read_all_records(dir).unwrap();
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let got = summary_cells(&summary);
    assert_eq!(got.len(), 2 * 3, "{summary}");
    for (entry, task, n, mean) in &got {
        let t = recs[0].tasks.iter().position(|x| x == task).unwrap();
        let v: Vec<f64> = recs
            .iter()
            .filter(|r| &r.entry == entry)
            .map(|r| r.outcome.best.as_ref().unwrap().test[t].auc)
            .collect();
        let want = v.iter().sum::<f64>() / v.len() as f64;
        assert_eq!(*n, 2, "{entry} {task}");
        assert!(
            (mean - want).abs() < 1e-6,
            "{entry} {task}: {mean} vs {want}"
        );
    }
    let md = std::fs::read_to_string(dir.join("table.md")).unwrap();
    let adatt_income = got
        .iter()
        .find(|c| c.0 == "AdaTT-sp" && c.1 == "income")
        .unwrap()
        .3;
    assert!(
        md.contains("| AdaTT-sp | tiny |")
            && md.contains(&format!("{adatt_income:.4} no CI (n = 2)")),
        "{md}"
    );
    summary
}

/// A seed subset reads the same records but writes its report elsewhere, and leaves the full
/// report (`summary`, its `summary.csv`) as it was.
fn check_a_seed_subset_reports_apart(cfg: &ExperimentConfig, dir: &Path, summary: &str) {
    let recs = read_all_records(dir).unwrap();
    let mut one = cfg.clone();
    one.run.seeds = adatt_spec::Seeds::List(vec![1]);
    let sub_name =
        adatt_experiment::overrides::seeds_subdir(&cfg.run.seeds, &one.run.seeds).unwrap();
    assert_eq!(sub_name, "seeds-1");
    let sub = dir.join(&sub_name);
    adatt_analysis::analyze(
        &one,
        Dirs {
            records: dir,
            report: &sub,
        },
        "tiny",
        "",
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("summary.csv")).unwrap(),
        summary
    );
    let sub_cells = summary_cells(&std::fs::read_to_string(sub.join("summary.csv")).unwrap());
    assert_eq!(sub_cells.len(), 6);
    for (entry, task, n, mean) in &sub_cells {
        let t = recs[0].tasks.iter().position(|x| x == task).unwrap();
        let r = recs
            .iter()
            .find(|r| &r.entry == entry && r.seed == 1)
            .unwrap();
        assert_eq!(*n, 1);
        assert!((mean - r.outcome.best.as_ref().unwrap().test[t].auc).abs() < 1e-6);
    }
    assert!(std::fs::read_to_string(sub.join("config.toml"))
        .unwrap()
        .contains("seeds = [1]"));
}

/// `dir`/`name` as JSON.
fn read_json(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
}

/// manifest.json: the records' compute and provenance. Two replicas per group, so each
/// group's wall time counts once in the process time. The groups ran one after the other, so
/// the wall time is their sum and one run was in progress at a time (`finished_at` has
/// microsecond resolution; whole seconds made this serial grid look parallel).
fn check_manifest_compute_and_provenance(dir: &Path) {
    let prov = read_json(dir, "manifest.json");
    let recs = read_all_records(dir).unwrap();
    let groups: f64 = recs.iter().map(|r| r.group_wall_s).sum::<f64>() / 2.0;
    let stage = &prov["stages"][0];
    assert_eq!(
        (
            stage["runs_planned"].as_u64(),
            stage["runs_ok"].as_u64(),
            stage["runs_missing"].as_u64(),
            prov["complete"].as_bool()
        ),
        (Some(4), Some(4), Some(0), Some(true)),
        "{prov}"
    );
    assert!(groups > 0.0 && (prov["process_s"].as_f64().unwrap() - groups).abs() < 1e-9);
    let wall = prov["wall_s"].as_f64().unwrap();
    assert!((wall - groups).abs() < 1e-5, "{wall} vs {groups}");
    let parallel = stage["parallelism"].as_f64().unwrap();
    assert!((parallel - 1.0).abs() < 1e-6, "serial grid: {parallel}");
    assert!(recs
        .iter()
        .all(|r| r.git_revision.as_deref() == Some(REVISION)));
    assert_eq!(
        stage["code_revisions"][REVISION].as_u64(),
        Some(4),
        "{prov}"
    );
    let machine = format!("{} | Cpu, 1 thread(s)", recs[0].host.as_ref().unwrap());
    assert_eq!(stage["machines"][&machine].as_u64(), Some(4), "{prov}");
    assert_eq!(prov["data_sha256"].as_object().unwrap().len(), 2);
    let md = std::fs::read_to_string(dir.join("table.md")).unwrap();
    assert!(md.contains("## Compute and provenance"), "{md}");
}

/// invocation.json: what the invocation did.
fn check_invocation_manifest(dir: &Path) {
    let man = read_json(dir, "invocation.json");
    assert!(
        man["libtorch_version"]
            .as_str()
            .unwrap()
            .starts_with("2.11.0"),
        "{man}"
    );
    assert_eq!(
        (man["threads"].as_u64(), man["device"].as_str()),
        (Some(1), Some("Cpu"))
    );
    assert_eq!(
        (man["runs_trained"].as_u64(), man["runs_failed"].as_u64()),
        (Some(4), Some(0))
    );
    assert!(
        man["finished_at"].as_u64().is_some() && man["data_sha256"].as_object().unwrap().len() == 2
    );
}

#[test]
fn resume_after_interruption_and_shards_merge_to_the_unsharded_result() {
    let ds = dataset();
    let cfg = config();
    // One replica per group, so the interrupted and sharded runs group seeds exactly like the
    // reference (replica grouping itself is covered, with a tolerance, by the test below).
    let full = tempfile::tempdir().unwrap();
    run_grid(&cfg, ds, &opts(full.path(), None, 1)).unwrap();
    let want = comparable(read_all_records(full.path()).unwrap());

    // Interrupted: only seed 0 finished, and a torn half line was left behind.
    let res = tempfile::tempdir().unwrap();
    let mut first = cfg.clone();
    first.run.seeds = adatt_spec::Seeds::List(vec![0]);
    run_grid(&first, ds, &opts(res.path(), None, 1)).unwrap();
    let f = res.path().join("runs.jsonl");
    let mut text = std::fs::read_to_string(&f).unwrap();
    text.push_str("{\"version\":1,\"key\":\"torn");
    std::fs::write(&f, text).unwrap();
    let s = run_grid(&cfg, ds, &opts(res.path(), None, 1)).unwrap();
    assert_eq!((s.skipped, s.trained), (2, 2));
    assert_eq!(comparable(read_all_records(res.path()).unwrap()), want);
    // Re-running trains nothing.
    let s = run_grid(&cfg, ds, &opts(res.path(), None, 1)).unwrap();
    assert_eq!((s.skipped, s.trained), (4, 0));

    // Shards, each its own records file, merged by the reader.
    let sh = tempfile::tempdir().unwrap();
    for k in 1..=2 {
        let s = run_grid(&cfg, ds, &opts(sh.path(), Some(Shard { k, n: 2 }), 1)).unwrap();
        assert_eq!(s.trained, 2);
    }
    assert!(sh.path().join("runs.shard-1-of-2.jsonl").exists());
    assert_eq!(comparable(read_all_records(sh.path()).unwrap()), want);
    // Consolidation leaves one runs.jsonl with the same records.
    assert_eq!(
        consolidate_records(sh.path()).unwrap(),
        Consolidation::Merged(want.len())
    );
    let left: Vec<String> = std::fs::read_dir(sh.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("runs"))
        .collect();
    assert_eq!(left, ["runs.jsonl"]);
    assert_eq!(comparable(read_all_records(sh.path()).unwrap()), want);
    // Wall time is the union of the runs' intervals, whatever the shard count. Give the four
    // records known intervals: two shards side by side over [100, 125] (runs [100, 110] then
    // [110, 125], and [100, 112]), then, after a pause, one run over [1000, 1008].
    let mut recs = read_all_records(sh.path()).unwrap();
    for (r, (end, wall)) in
        recs.iter_mut()
            .zip([(110, 10.0), (125, 15.0), (112, 12.0), (1008, 8.0)])
    {
        r.finished_at = UnixTime(end as f64);
        r.group_wall_s = wall;
    }
    let lines: String = recs
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    std::fs::write(sh.path().join("runs.jsonl"), lines).unwrap();
    adatt_analysis::analyze(&cfg, Dirs::same(sh.path()), "t", "").unwrap();
    let prov: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sh.path().join("manifest.json")).unwrap())
            .unwrap();
    let stage = &prov["stages"][0];
    let num = |v: &serde_json::Value| v.as_f64().unwrap();
    assert_eq!(
        (
            num(&prov["process_s"]),
            num(&prov["wall_s"]),
            num(&stage["wall_s"]),
            num(&stage["parallelism"])
        ),
        (45.0, 33.0, 33.0, 45.0 / 33.0),
        "{prov}"
    );
    let md = std::fs::read_to_string(sh.path().join("table.md")).unwrap();
    assert!(
        md.contains("| grid | 4 / 4 | 0 | 0.01 | 0.01 | 1.36 |"),
        "{md}"
    );
}

#[test]
fn replicas_equal_separate_runs_and_a_nan_replica_fails_alone() {
    let ds = dataset();
    let cfg = config();
    let data = TrainData::new(
        ds,
        cfg.run.input,
        tch::Device::Cpu,
        cfg.train.max_train_rows,
    );
    let model = &cfg.entries[1].model;
    // Exactness: after 2 steps, 2 replicas trained together equal 2 separate runs to 1e-6.
    // Over a whole run, float rounding differences between the batched (R=2) and unbatched
    // (R=1) kernels are amplified by training; the drift stays below 5e-4 AUC.
    let mut short = cfg.train.clone();
    short.epochs = 1;
    let short_data = TrainData::new(ds, cfg.run.input, tch::Device::Cpu, 512);
    for (data, train, tol) in [(&short_data, &short, 1e-6), (&data, &cfg.train, 5e-4)] {
        let both = train_group(data, model, train, &[3, 4], &mut (), None).unwrap();
        for (i, seed) in [3u64, 4].into_iter().enumerate() {
            let one = train_group(data, model, train, &[seed], &mut (), None).unwrap();
            let (a, b) = (&both.runs[i], &one.runs[0]);
            assert_eq!(a.epochs.len(), b.epochs.len());
            // Every epoch's validation metrics, then the test metrics of the best epoch.
            let (ba, bb) = (a.best.as_ref().unwrap(), b.best.as_ref().unwrap());
            assert_eq!((ba.test.len(), bb.test.len()), (3, 3));
            let per_epoch = a
                .epochs
                .iter()
                .zip(&b.epochs)
                .map(|(x, y)| (&x.eval.valid, &y.eval.valid));
            for (va, vb) in per_epoch.chain([(&ba.test, &bb.test)]) {
                assert_eq!(va.len(), 3);
                for (ma, mb) in va.iter().zip(vb) {
                    assert!(
                        (ma.auc - mb.auc).abs() < tol,
                        "seed {seed}: {} vs {} (tol {tol})",
                        ma.auc,
                        mb.auc
                    );
                    assert!(
                        (ma.loss - mb.loss).abs() < tol,
                        "seed {seed}: {} vs {}",
                        ma.loss,
                        mb.loss
                    );
                }
            }
        }
    }
    let both = train_group(&data, model, &cfg.train, &[3, 4], &mut (), None).unwrap();
    // Inject NaN into replica 0's loss at step 3: replica 0 fails, replica 1 is untouched.
    let mut hook = |_: &adatt_models::Model, step: usize, l: &Tensor| -> Option<Tensor> {
        // NaN added to replica 0 only (0 * NaN would be NaN, so add [NaN, 0]).
        (step == 3).then(|| l + Tensor::from_slice(&[f32::NAN, 0.0]))
    };
    let nan = train_group(&data, model, &cfg.train, &[3, 4], &mut (), Some(&mut hook)).unwrap();
    assert!(
        matches!(nan.runs[0].status, Status::Failed { .. }),
        "{:?}",
        nan.runs[0].status
    );
    assert_eq!(nan.runs[1].status, Status::Ok);
    assert_eq!(
        nan.runs[1].epochs, both.runs[1].epochs,
        "a NaN in replica 0 must not touch replica 1"
    );
}

/// DWA is wired into the loss. As in the framework, the weights are 1 while the epoch that just
/// ended is 0 or 1, so the first three epochs train exactly like equal weighting; the weights of
/// the fourth (in DWA's [0.5, 1.5]) move away from 1 and change the training.
#[test]
fn dwa_weights_apply_from_the_fourth_epoch() {
    let ds = dataset();
    let cfg = config();
    let data = TrainData::new(ds, cfg.run.input, tch::Device::Cpu, 2048);
    let model = &cfg.entries[1].model;
    let mut dwa = cfg.train.clone();
    dwa.epochs = 4;
    assert_eq!(dwa.task_weighting, adatt_spec::TaskWeighting::Dwa);
    let mut equal = dwa.clone();
    equal.task_weighting = adatt_spec::TaskWeighting::Equal;
    let d = &train_group(&data, model, &dwa, &[3], &mut (), None)
        .unwrap()
        .runs[0];
    let e = &train_group(&data, model, &equal, &[3], &mut (), None)
        .unwrap()
        .runs[0];
    assert_eq!(d.epochs[..3], e.epochs[..3]);
    assert_eq!(
        d.task_weights[..3],
        [vec![1.0; 3], vec![1.0; 3], vec![1.0; 3]]
    );
    let w = &d.task_weights[3];
    assert!(
        w.iter().all(|x| (0.5..=1.5).contains(x)) && w.iter().any(|x| (x - 1.0).abs() > 1e-4),
        "{w:?}"
    );
    assert_ne!(d.epochs[3].train_loss, e.epochs[3].train_loss);
}

#[test]
fn a_nan_run_is_recorded_as_failed_and_counted() {
    let ds = dataset();
    let mut cfg = config();
    cfg.entries.truncate(1);
    cfg.analysis.comparisons.clear();
    cfg.train.epochs = 1;
    let dir = tempfile::tempdir().unwrap();
    let mut hook = |seeds: &[u64], step: usize, l: &Tensor| -> Option<Tensor> {
        (step == 1 && seeds.contains(&1)).then(|| l * f64::INFINITY)
    };
    let s = run_grid_with_hook(&cfg, ds, &opts(dir.path(), None, 1), Some(&mut hook)).unwrap();
    assert_eq!((s.trained, s.failed), (2, 1));
    let recs = read_all_records(dir.path()).unwrap();
    let failed: Vec<_> = recs.iter().filter(|r| !r.is_ok()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].seed, 1);
    assert_eq!(
        s.exit_code(),
        std::process::ExitCode::from(adatt_experiment::term::EXIT_RUNS_FAILED)
    );
    let files = adatt_analysis::analyze(&cfg, Dirs::same(dir.path()), "t", "")
        .unwrap()
        .files;
    assert!(!files.is_empty());
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert!(
        row.contains(",1,1,0,"),
        "n=1 ok, failed=1, diverged=0 in: {row}"
    );
    // A plain rerun leaves the failed run alone; --retry-failed trains it again, and the
    // finished retry supersedes the failed record.
    let s = run_grid(&cfg, ds, &opts(dir.path(), None, 1)).unwrap();
    assert_eq!((s.skipped, s.skipped_unfinished, s.trained), (2, 1, 0));
    let retry = GridOptions {
        retry_failed: true,
        ..opts(dir.path(), None, 1)
    };
    let s = run_grid(&cfg, ds, &retry).unwrap();
    assert_eq!((s.skipped, s.trained, s.failed), (1, 1, 0));
    assert_eq!(s.exit_code(), std::process::ExitCode::SUCCESS);
    let recs = read_all_records(dir.path()).unwrap();
    assert!(
        recs.len() == 2 && recs.iter().all(|r| r.is_ok()),
        "{recs:?}"
    );
    adatt_analysis::analyze(&cfg, Dirs::same(dir.path()), "t", "").unwrap();
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains(",2,0,0,"), "n=2 ok after the retry in: {row}");
    // `[analysis] figures` chooses the figures.
    let mut only_curves = cfg.clone();
    only_curves.analysis.figures = vec![adatt_spec::Figure::TrainingCurves];
    let report = dir.path().join("curves-only");
    let dirs = Dirs {
        records: dir.path(),
        report: &report,
    };
    let files = adatt_analysis::analyze(&only_curves, dirs, "t", "")
        .unwrap()
        .files;
    assert!(
        files.contains(&report.join("training_curves.png")),
        "{files:?}"
    );
    assert!(!report.join("auc_distributions.png").exists());
    let err = ExperimentConfig::from_toml_str(
        &TINY_GRID.replace("[analysis]", "[analysis]\nfigures = [\"heatmap\"]"),
        Path::new("bad.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("heatmap") && err.contains("line"), "{err}");
}

/// The lr = 1e6 runs: finite but exploding loss, test AUC 0.5. They are recorded as
/// diverged, counted apart from finished runs and left out of the means.
#[test]
fn diverged_runs_are_recorded_counted_apart_and_not_averaged() {
    let ds = dataset();
    let mut cfg = config();
    cfg.entries.truncate(1);
    cfg.analysis.comparisons.clear();
    cfg.train.epochs = 1;
    cfg.train.lr = 1e6;
    let dir = tempfile::tempdir().unwrap();
    let s = run_grid(&cfg, ds, &opts(dir.path(), None, 1)).unwrap();
    assert_eq!((s.trained, s.failed, s.diverged), (2, 0, 2), "{s:?}");
    assert_eq!(
        s.exit_code(),
        std::process::ExitCode::from(adatt_experiment::term::EXIT_RUNS_FAILED)
    );
    for r in read_all_records(dir.path()).unwrap() {
        match &r.outcome.status {
            Status::Diverged { reason } => assert!(reason.starts_with("diverged: "), "{reason}"),
            other => panic!("seed {}: {other:?}", r.seed),
        }
    }
    adatt_analysis::analyze(&cfg, Dirs::same(dir.path()), "t", "").unwrap();
    let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert!(
        row.contains(",0,0,2,"),
        "n=0, failed=0, diverged=2 in: {row}"
    );
    let md = std::fs::read_to_string(dir.path().join("table.md")).unwrap();
    assert!(md.contains("| – | – | 0 | 0 | 2 |"), "{md}");
}

/// A record's key (config hash + seed) decides which entry it belongs to; the entry name it
/// was recorded under is a label. Swapping two entries' names, or renaming one, must neither
/// retrain nor relabel.
#[test]
fn records_are_selected_by_key_under_renames_and_swaps() {
    let ds = dataset();
    let cfg = config();
    let dir = tempfile::tempdir().unwrap();
    run_grid(&cfg, ds, &opts(dir.path(), None, 2)).unwrap();
    let recs = read_all_records(dir.path()).unwrap();
    // mean test AUC of task 1 over the records of a model kind
    let mean_of = |kind: &str| {
        let v: Vec<f64> = recs
            .iter()
            .filter(|r| r.model_config["kind"] == kind)
            .map(|r| r.outcome.best.as_ref().unwrap().test[1].auc)
            .collect();
        assert_eq!(v.len(), 2);
        (v[0] + v[1]) / 2.0
    };
    let (sb, adatt) = (mean_of("shared_bottom"), mean_of("adatt_sp"));
    // summary.csv rows: entry -> (model label, n, mean test AUC) for task `income`
    let rows = |dir: &Path| -> Vec<(String, String, u64, f64)> {
        std::fs::read_to_string(dir.join("summary.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f[5] == "income")
            .map(|f| {
                (
                    f[1].into(),
                    f[3].into(),
                    f[6].parse().unwrap(),
                    f[9].parse().unwrap(),
                )
            })
            .collect()
    };
    let mut swapped = cfg.clone();
    swapped.entries[0].name = "AdaTT-sp".into();
    swapped.entries[1].name = "SB".into();
    swapped.analysis.comparisons.clear();
    let mut renamed = cfg.clone();
    renamed.entries[0].name = "Shared bottom".into();
    renamed.analysis.comparisons.clear();
    for (c, want) in [
        (&swapped, [("AdaTT-sp", sb), ("SB", adatt)]),
        (&renamed, [("Shared bottom", sb), ("AdaTT-sp", adatt)]),
    ] {
        let s = run_grid(c, ds, &opts(dir.path(), None, 2)).unwrap();
        assert_eq!((s.skipped, s.trained), (4, 0));
        adatt_analysis::analyze(c, Dirs::same(dir.path()), "t", "").unwrap();
        let got = rows(dir.path());
        for (i, (name, mean)) in want.iter().enumerate() {
            let label = c.entries[i].model.label();
            assert_eq!(
                (&got[i].0, &got[i].1, got[i].2),
                (&name.to_string(), &label, 2)
            );
            assert!(
                (got[i].3 - mean).abs() < 1e-6,
                "{name}: {} vs {mean}",
                got[i].3
            );
        }
        let prov: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("manifest.json")).unwrap(),
        )
        .unwrap();
        let per_entry = prov["stages"][0]["mean_run_s"].as_object().unwrap();
        let names: Vec<&str> = per_entry.keys().map(String::as_str).collect();
        let mut want_names: Vec<&str> = want.iter().map(|w| w.0).collect();
        want_names.sort();
        assert_eq!(names, want_names);
    }
}

#[test]
fn bad_configs_are_rejected_with_the_key_and_nothing_is_written() {
    let ds = dataset();
    let parse = |text: &str| ExperimentConfig::from_toml_str(text, Path::new("bad.toml"));
    let err = parse(&TINY_GRID.replace("epochs = 2", "epochs = 2\nlearning_rate = 3")).unwrap_err();
    assert!(
        matches!(err, SpecError::ConfigParse { .. }) && err.to_string().contains("learning_rate"),
        "{err}"
    );
    let err =
        parse(&TINY_GRID.replace("kind = \"shared_bottom\"", "kind = \"mega_moe\"")).unwrap_err();
    assert!(err.to_string().contains("mega_moe"), "{err}");
    for (from, to, key) in [
        ("lr = 5e-3", "lr = -1e-3", "train.lr"),
        ("batch_size = 256", "batch_size = 0", "train.batch_size"),
        ("seeds = [0, 1]", "seeds = [0, 1, 0]", "seed 0 is listed twice"),
        (
            "bottom = [32, 16], tower = [8] }",
            "bottom = [32, 16], tower = [8] }\n[[entries]]\nname = \"SB again\"\nsetting = \"tiny\"\nmodel = { kind = \"shared_bottom\", bottom = [32, 16], tower = [8] }",
            "entries `SB` and `SB again` have the same model",
        ),
    ] {
        assert!(TINY_GRID.contains(from), "{from}");
        let cfg = parse(&TINY_GRID.replace(from, to)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let err = run_grid(&cfg, ds, &opts(&out, None, 1)).unwrap_err();
        assert!(err.to_string().contains(key), "{err}");
        assert!(!out.exists(), "nothing may be written for a bad config");
    }
}

/// Figure 3's weights: with one expert per task, every row of every level's fused weights is a
/// softmax (sum 1) plus the native expert's fixed weight 1, so it sums to 2; the analysis
/// writes the matrices into `table.md` and one heatmap figure per entry.
#[test]
fn recorded_expert_weights_rows_sum_to_two_with_one_expert_per_task() {
    let ds = dataset();
    let mut cfg = config();
    cfg.entries.remove(0);
    cfg.entries[0].model = adatt_models::ModelConfig::AdattSp(adatt_models::AdattSpConfig {
        task_experts: 1,
        expert_dims: vec![vec![16], vec![8]],
        tower: vec![8],
        native: adatt_models::NativeFusion::Learned,
    });
    cfg.analysis.comparisons.clear();
    cfg.train.epochs = 1;
    cfg.train.record_expert_weights = true;
    let dir = tempfile::tempdir().unwrap();
    run_grid(&cfg, ds, &opts(dir.path(), None, 2)).unwrap();
    let recs = read_all_records(dir.path()).unwrap();
    assert_eq!(recs.len(), 2);
    for r in &recs {
        let w = r.outcome.expert_weights.as_ref().expect("weights recorded");
        assert_eq!(w.len(), 2, "two fusion levels");
        for level in w {
            assert_eq!((level.len(), level[0].len()), (3, 3), "3 units × 3 experts");
            for row in level {
                let sum: f64 = row.iter().sum();
                assert!(
                    (sum - 2.0).abs() < 1e-5,
                    "seed {}: row {row:?} sums to {sum}",
                    r.seed
                );
                assert!(row.iter().all(|x| *x > 0.0));
            }
        }
    }
    // The two seeds differ (their own init and data order).
    assert_ne!(
        recs[0].outcome.expert_weights,
        recs[1].outcome.expert_weights
    );
    let files = adatt_analysis::analyze(&cfg, Dirs::same(dir.path()), "t", "")
        .unwrap()
        .files;
    assert!(
        files.contains(&dir.path().join("expert_weights_1.png")),
        "{files:?}"
    );
    let md = std::fs::read_to_string(dir.path().join("table.md")).unwrap();
    assert!(
        md.contains("### AdaTT-sp, fusion level 2 (2 seeds)"),
        "{md}"
    );
    // A model without fused weights is refused with the key.
    let mut bad = cfg.clone();
    bad.entries[0].model =
        adatt_models::ModelConfig::SharedBottom(adatt_models::SharedBottomConfig {
            bottom: vec![8],
            tower: vec![4],
        });
    let err = bad.validate(3).unwrap_err().to_string();
    assert!(err.contains("train.record_expert_weights"), "{err}");
}
