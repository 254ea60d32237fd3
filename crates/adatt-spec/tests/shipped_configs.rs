//! Every TOML file shipped under `configs/` parses and validates with the schema its binary uses
//! (tests as data: a new config is covered by being added, a stale one fails here, not at the
//! start of a long run). `configs/bench.toml` is the bench binary's own schema and is checked
//! by that crate's unit test; `configs/sim/` holds the simulator's presets, checked here against
//! `adatt_data::sim`.

use std::path::{Path, PathBuf};

use adatt_spec::{ExperimentConfig, StudyConfig};

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs")
}

/// The experiment and study configs under `dir` (the simulator presets in `sim/` excepted).
fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "sim") {
                continue;
            }
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// Whether `file` is a study config (`[tuning]` and `[[groups]]`, run by a study binary) rather
/// than a grid config.
fn is_study(file: &Path) -> bool {
    let text = std::fs::read_to_string(file).unwrap();
    let v: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    v.get("groups").is_some()
}

/// Every file in `configs/sim/` is a valid simulator preset that `adatt_data::sim::presets`
/// compiles in (a file added there but not listed would be unreachable by name).
#[test]
fn every_simulator_preset_file_is_valid_and_compiled_in() {
    use adatt_data::sim::{presets, SimConfig};
    let dir = configs_dir().join("sim");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        SimConfig::from_toml_str(&text, &p.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let compiled: presets::Preset = stem
            .parse()
            .unwrap_or_else(|e| panic!("{} is not a presets::Preset: {e}", p.display()));
        assert_eq!(
            compiled.text(),
            text,
            "{}: compiled-in text differs",
            p.display()
        );
        n += 1;
    }
    assert_eq!(n, presets::Preset::ALL.len());
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
        if is_study(f) {
            let study = StudyConfig::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let n_tasks = study.data.n_tasks();
            study
                .validate(n_tasks)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let tuning = study.tuning_experiment();
            tuning
                .validate(n_tasks)
                .unwrap_or_else(|e| panic!("{} (tuning grid): {e}", f.display()));
            assert_under_results(&tuning, f);
            let fin = study.final_experiment(&[]);
            fin.validate(n_tasks)
                .unwrap_or_else(|e| panic!("{} (final grid): {e}", f.display()));
            assert_under_results(&fin, f);
            studies += 1;
        } else {
            let cfg = ExperimentConfig::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            cfg.validate(cfg.data.n_tasks())
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert_under_results(&cfg, f);
            experiments += 1;
        }
    }
    // configs/table5.toml and the three configs/baselines/ studies at least
    assert!(studies >= 4, "found only {studies} study configs");
    assert!(
        experiments >= 3,
        "found only {experiments} experiment configs in {}",
        configs_dir().display()
    );
}

/// The committed Table 5 records are found by the code that plans the grids: every planned key
/// of the complete paper protocol is recorded, every clean record is a planned run, and moving
/// the data directory changes no key (it is not part of a run's identity).
#[test]
fn committed_table5_records_have_the_planned_keys() {
    use adatt_data::Protocol;
    use adatt_spec::{plan, read_all_records, Choice, DataConfig};
    use std::collections::BTreeSet;

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (protocol, complete) in [(Protocol::Paper, true), (Protocol::Clean, false)] {
        let mut study = StudyConfig::load(&configs_dir().join("table5.toml")).unwrap();
        study.data.set_protocol(protocol);
        let dir = root.join(study.output_dir());
        let choices: Vec<Choice> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("tuning.json")).unwrap())
                .unwrap();
        for (grid, dir) in [
            (study.tuning_experiment(), dir.join("tuning")),
            (study.final_experiment(&choices), dir.clone()),
        ] {
            let planned: BTreeSet<String> = plan(&grid).into_iter().map(|p| p.key).collect();
            let recorded: BTreeSet<String> = read_all_records(&dir)
                .unwrap()
                .into_iter()
                .map(|r| r.key)
                .collect();
            assert!(
                recorded.is_subset(&planned),
                "{}: records that no planned run has",
                dir.display()
            );
            // tuning grids are complete in both protocols
            if complete || dir.ends_with("tuning") {
                assert_eq!(recorded, planned, "{}", dir.display());
            } else {
                assert!(!recorded.is_empty(), "{}", dir.display());
            }
            let mut moved = grid.clone();
            let DataConfig::Census(adatt_spec::CensusData { data_dir, .. }) = &mut moved.data
            else {
                unreachable!("configs/table5.toml is a Census study")
            };
            *data_dir = "/elsewhere/census".into();
            let keys: BTreeSet<String> = plan(&moved).into_iter().map(|p| p.key).collect();
            assert_eq!(keys, planned);
        }
    }
}

/// Every record committed under an experiment config's results directory is a run the config
/// plans: editing a config (e.g. rewriting hand-written entries as a `[[sweeps]]`, or renaming
/// entries) must not orphan records. Configs without committed records have nothing to check.
#[test]
fn committed_records_of_every_experiment_config_are_planned() {
    use adatt_spec::{plan, read_all_records};
    use std::collections::BTreeSet;

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    toml_files(&configs_dir(), &mut files);
    let mut checked = 0;
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name == "bench.toml" || is_study(&f) {
            continue;
        }
        let cfg = ExperimentConfig::load(&f).unwrap();
        let dir = root.join(cfg.output_dir());
        let recorded: BTreeSet<String> = read_all_records(&dir)
            .unwrap()
            .into_iter()
            .map(|r| r.key)
            .collect();
        let planned: BTreeSet<String> = plan(&cfg).into_iter().map(|p| p.key).collect();
        let orphans: Vec<&String> = recorded.difference(&planned).collect();
        assert!(
            orphans.is_empty(),
            "{}: {} records in {} that the config does not plan, e.g. {:?}",
            f.display(),
            orphans.len(),
            dir.display(),
            orphans.first()
        );
        checked += usize::from(!recorded.is_empty());
    }
    // income_gap (2) and mlmmoe_gap (1) at least
    assert!(checked >= 3, "only {checked} configs with records");
}

/// Every record committed under a study's results (its tuning grid, and its final grid once
/// `tuning.json` holds the choices) is a run the study plans: a study config edited after its
/// runs began must not orphan them.
#[test]
fn committed_records_of_every_study_are_planned() {
    use adatt_spec::{plan, read_all_records, Choice};
    use std::collections::BTreeSet;

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    toml_files(&configs_dir(), &mut files);
    let mut studies = 0;
    for f in files.into_iter().filter(|f| is_study(f)) {
        let study = StudyConfig::load(&f).unwrap();
        let dir = root.join(study.output_dir());
        let choices: Option<Vec<Choice>> = std::fs::read_to_string(dir.join("tuning.json"))
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap());
        let mut grids = vec![(study.tuning_experiment(), dir.join("tuning"))];
        if let Some(c) = &choices {
            grids.push((study.final_experiment(c), dir.clone()));
        }
        for (grid, dir) in grids {
            let planned: BTreeSet<String> = plan(&grid).into_iter().map(|p| p.key).collect();
            let recorded: BTreeSet<String> = read_all_records(&dir)
                .unwrap()
                .into_iter()
                .map(|r| r.key)
                .collect();
            let orphans: Vec<&String> = recorded.difference(&planned).collect();
            assert!(
                orphans.is_empty(),
                "{}: {} records in {} that the study does not plan, e.g. {:?}",
                f.display(),
                orphans.len(),
                dir.display(),
                orphans.first()
            );
        }
        studies += 1;
    }
    assert!(studies >= 4, "found only {studies} study configs");
}
