//! Every TOML file shipped under `configs/` parses and validates with the schema its binary uses
//! (tests as data: a new config is covered by being added, a stale one fails here, not at the
//! start of a long run). `configs/bench.toml` is the bench binary's own schema and is checked
//! by that crate's unit test.

use std::path::{Path, PathBuf};

use adatt_train::{ExperimentConfig, StudyConfig};

const N_TASKS: usize = 3;

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs")
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// Records must land under `results/` so that `make` targets and the docs find them.
fn assert_under_results(cfg: &ExperimentConfig, file: &Path) {
    let out = cfg.output_dir();
    assert!(
        out.starts_with("results"),
        "{}: output_dir {} is not under results/",
        file.display(),
        out.display()
    );
}

#[test]
fn every_shipped_config_parses_and_validates() {
    let mut files = Vec::new();
    toml_files(&configs_dir(), &mut files);
    files.sort();
    let (mut studies, mut experiments) = (0, 0);
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy();
        if name == "bench.toml" {
            continue;
        }
        if name == "table5.toml" {
            let study = StudyConfig::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let tuning = study.tuning_experiment();
            tuning
                .validate(N_TASKS)
                .unwrap_or_else(|e| panic!("{} (tuning grid): {e}", f.display()));
            assert_under_results(&tuning, f);
            let fin = study.final_experiment(&[]);
            fin.validate(N_TASKS)
                .unwrap_or_else(|e| panic!("{} (final grid): {e}", f.display()));
            assert_under_results(&fin, f);
            studies += 1;
        } else {
            let cfg = ExperimentConfig::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            cfg.validate(N_TASKS)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert_under_results(&cfg, f);
            experiments += 1;
        }
    }
    assert_eq!(studies, 1, "configs/table5.toml not found");
    assert!(
        experiments >= 3,
        "found only {experiments} experiment configs in {}",
        configs_dir().display()
    );
}
