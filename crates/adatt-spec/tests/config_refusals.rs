//! Refused and accepted config inputs, as data: each case edits a valid base config (the shape
//! of the engine test's), parses it with `ExperimentConfig::from_toml_str` and validates it with
//! `validate(3)`. A refusal must be ONE error naming the key and saying what is wrong (refusals while
//! parsing also carry toml's line and column); an acceptance must pass both steps.

use std::path::Path;

use adatt_spec::config::{check_output_dir, check_threads, max_threads};
use adatt_spec::{lock_results_dir, ExperimentConfig, Seeds, SpecError};
use adatt_testkit::TINY_GRID;

const N_TASKS: usize = 3;

/// Where a refusal comes from.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// `SpecError::ConfigValue` with exactly this key.
    Value,
    /// `SpecError::ConfigParse`: toml's line and column, and a message naming the key.
    Parse,
}

struct Refusal {
    /// Replace this text of the base config...
    from: &'static str,
    /// ...by this.
    to: String,
    kind: Kind,
    /// The key: exactly `ConfigValue::key`, or a word of the parse message.
    key: &'static str,
    /// Part of the message.
    fragment: &'static str,
}

fn edit(from: &str, to: &str) -> String {
    assert!(TINY_GRID.contains(from), "base config has no {from:?}");
    TINY_GRID.replacen(from, to, 1)
}

/// A third entry named `name` (TOML), to replace `[analysis]` with (the other two are compared).
fn entry(name: &str) -> String {
    format!(
        "[[entries]]\nname = {name}\nmodel = {{ kind = \"shared_bottom\", bottom = [16], tower = [8] }}\n[analysis]"
    )
}

fn check(text: &str) -> Result<ExperimentConfig, SpecError> {
    let cfg = ExperimentConfig::from_toml_str(text, Path::new("case.toml"))?;
    cfg.validate(N_TASKS)?;
    Ok(cfg)
}

/// Every refusal case, by theme.
fn refusals() -> Vec<Refusal> {
    [adam(), threads(), names(), output_dirs(), seeds()]
        .into_iter()
        .flatten()
        .collect()
}

/// A case that replaces `from` by `to` and expects `kind` at `key` with `fragment`.
fn r(
    from: &'static str,
    to: &str,
    kind: Kind,
    key: &'static str,
    fragment: &'static str,
) -> Refusal {
    Refusal {
        from,
        to: to.to_string(),
        kind,
        key,
        fragment,
    }
}

/// Refusals of Adam settings.
fn adam() -> Vec<Refusal> {
    use Kind::*;
    vec![
        // 1. Adam settings: eps was the only one not checked; betas each name their key.
        r(
            "lr = 5e-3",
            "lr = 5e-3\neps = -1",
            Value,
            "train.eps",
            "must be a positive number, got -1",
        ),
        r(
            "lr = 5e-3",
            "lr = 5e-3\neps = 0",
            Value,
            "train.eps",
            "must be a positive number, got 0",
        ),
        r(
            "lr = 5e-3",
            "lr = 5e-3\neps = nan",
            Value,
            "train.eps",
            "must be a positive number, got NaN",
        ),
        r(
            "lr = 5e-3",
            "lr = 5e-3\neps = inf",
            Value,
            "train.eps",
            "must be a positive number, got inf",
        ),
        r(
            "lr = 5e-3",
            "lr = 5e-3\nbeta1 = 1.0",
            Value,
            "train.beta1",
            "must be in [0, 1), got 1",
        ),
        r(
            "lr = 5e-3",
            "lr = 5e-3\nbeta2 = -0.5",
            Value,
            "train.beta2",
            "must be in [0, 1), got -0.5",
        ),
    ]
}

/// Refusals of the thread count.
fn threads() -> Vec<Refusal> {
    let (cap, _cores) = max_threads();
    use Kind::*;
    vec![
        // 2. Thread count capped at 4 x cores.
        r(
            "threads = 1",
            "threads = 100000",
            Value,
            "run.threads",
            "must be at most",
        ),
        Refusal {
            from: "threads = 1",
            to: format!("threads = {}", cap + 1),
            kind: Value,
            key: "run.threads",
            fragment: "cores of this machine), got",
        },
    ]
}

/// Refusals of experiment and entry names.
fn names() -> Vec<Refusal> {
    use Kind::*;
    vec![
        // 3. The experiment name is a directory under results/; entry names are labels.
        r(
            "name = \"tiny\"",
            "name = \"\"",
            Value,
            "name",
            "it is empty",
        ),
        r(
            "name = \"tiny\"",
            "name = \".\"",
            Value,
            "name",
            "`.` and `..` are not names",
        ),
        r(
            "name = \"tiny\"",
            "name = \"..\"",
            Value,
            "name",
            "`.` and `..` are not names",
        ),
        r(
            "name = \"tiny\"",
            "name = \"../../x\"",
            Value,
            "name",
            "it contains a path separator",
        ),
        r(
            "name = \"tiny\"",
            "name = 'a\\b'",
            Value,
            "name",
            "it contains a path separator",
        ),
        r(
            "name = \"tiny\"",
            "name = \"a\\u0000b\"",
            Value,
            "name",
            "it contains a control character",
        ),
        r(
            "name = \"tiny\"",
            "name = \"a\\nb\"",
            Value,
            "name",
            "it contains a control character",
        ),
        r(
            "[analysis]",
            &entry("\"\""),
            Value,
            "entries.name",
            "must be a non-empty label",
        ),
        r(
            "[analysis]",
            &entry("\"  \""),
            Value,
            "entries.name",
            "must be a non-empty label",
        ),
        r(
            "[analysis]",
            &entry("\"a\\tb\""),
            Value,
            "entries.name",
            "without control characters, got \"a\\tb\"",
        ),
    ]
}

/// Refusals of output_dir.
fn output_dirs() -> Vec<Refusal> {
    use Kind::*;
    vec![
        // 4. A config's output_dir stays inside the project.
        r(
            "description",
            "output_dir = \"/tmp/x\"\ndescription",
            Value,
            "output_dir",
            "must be a relative path",
        ),
        r(
            "description",
            "output_dir = \"../x\"\ndescription",
            Value,
            "output_dir",
            "must not contain `..`",
        ),
        r(
            "description",
            "output_dir = \"results/../../x\"\ndescription",
            Value,
            "output_dir",
            "must not contain `..`",
        ),
        r(
            "description",
            "output_dir = \"\"\ndescription",
            Value,
            "output_dir",
            "must not be empty",
        ),
    ]
}

/// Refusals of seeds.
fn seeds() -> Vec<Refusal> {
    use Kind::*;
    vec![
        // 5. Seeds: what is wrong, not "did not match any variant".
        r(
            "seeds = [0, 1]",
            "seeds = [0, -1]",
            Parse,
            "seeds",
            "seeds must be integers >= 0, got -1",
        ),
        r(
            "seeds = [0, 1]",
            "seeds = [0, 1.5]",
            Parse,
            "seeds",
            "seeds must be integers >= 0, got 1.5",
        ),
        r(
            "seeds = [0, 1]",
            "seeds = \"0-9\"",
            Parse,
            "seeds",
            "expected a list of seeds like [0, 1, 5] or a range like { start = 0, count = 100 }",
        ),
        r(
            "seeds = [0, 1]",
            "seeds = 3",
            Parse,
            "seeds",
            "expected a list of seeds like [0, 1, 5]",
        ),
        r(
            "seeds = [0, 1]",
            "seeds = { start = 0, cnt = 3 }",
            Parse,
            "seeds",
            "unknown key `cnt` in the seeds range",
        ),
        r(
            "seeds = [0, 1]",
            "seeds = { start = 0, count = 0 }",
            Parse,
            "seeds",
            "the seeds range's `count` must be an integer >= 1, got 0",
        ),
        r(
            "seeds = [0, 1]",
            "seeds = { start = -1, count = 3 }",
            Parse,
            "seeds",
            "the seeds range's `start` must be an integer >= 0, got -1",
        ),
        r(
            "seeds = [0, 1]",
            "seeds = { count = 3 }",
            Parse,
            "seeds",
            "the seeds range needs `start`",
        ),
        r(
            "seeds = [0, 1]",
            "seeds = { start = 0, count = -2 }",
            Parse,
            "seeds",
            "the seeds range's `count` must be an integer >= 1, got -2",
        ),
        r(
            "seeds = [0, 1]",
            "seeds = { start = 0, count = \"3\" }",
            Parse,
            "seeds",
            "expected an integer >= 1 for `count` of the seeds range",
        ),
        r(
            "seeds = [0, 1]",
            "seeds = [0, \"a\"]",
            Parse,
            "seeds",
            "expected an integer >= 0 in the list of seeds",
        ),
    ]
}

#[test]
fn refused_inputs_give_one_message_naming_the_key() {
    let mut failures = Vec::new();
    for c in refusals() {
        let text = edit(c.from, &c.to);
        let err = match check(&text) {
            Ok(_) => {
                failures.push(format!("{:?}: accepted", c.to));
                continue;
            }
            Err(e) => e,
        };
        let shown = err.to_string();
        println!("{}\n  -> {shown}\n", c.to);
        let ok = match (&err, c.kind) {
            (SpecError::ConfigValue { key, message }, Kind::Value) => {
                key == c.key && message.contains(c.fragment)
            }
            (SpecError::ConfigParse { message, .. }, Kind::Parse) => {
                message.contains(c.key)
                    && message.contains(c.fragment)
                    && message.contains("line ")
                    && message.contains("column ")
            }
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{:?}: expected {:?} `{}` with {:?}, got: {shown}",
                c.to, c.kind, c.key, c.fragment
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The refusal of a config's `output_dir` names the file that says it.
#[test]
fn an_output_dir_refusal_names_its_file() {
    let text = edit("description", "output_dir = \"/tmp/x\"\ndescription");
    let e = ExperimentConfig::from_toml_str(&text, Path::new("configs/mine.toml")).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.contains("`output_dir`") && shown.contains("(in configs/mine.toml)"),
        "{shown}"
    );
}

#[test]
fn valid_inputs_are_still_accepted() {
    let (cap, cores) = max_threads();
    let cases: Vec<(&str, String)> = vec![
        ("lr = 5e-3", "lr = 5e-3\neps = 1e-6".into()),
        ("lr = 5e-3", "lr = 5e-3\nbeta1 = 0.0\nbeta2 = 0.5".into()),
        ("threads = 1", "threads = 0".into()),
        ("threads = 1", format!("threads = {cores}")),
        ("threads = 1", format!("threads = {cap}")),
        ("name = \"tiny\"", "name = \"tiny-2 (x) [y]\"".into()),
        ("name = \"tiny\"", "name = \"..x\"".into()),
        ("[analysis]", entry("\"PLE (6) [m_s=3]\"")),
        (
            "description",
            "output_dir = \"results/x\"\ndescription".into(),
        ),
        (
            "description",
            "output_dir = \"results/./x\"\ndescription".into(),
        ),
        ("seeds = [0, 1]", "seeds = [0, 1]".into()),
        ("seeds = [0, 1]", "seeds = { start = 5, count = 3 }".into()),
        ("seeds = [0, 1]", "seeds = { count = 3, start = 0 }".into()),
    ];
    for (from, to) in cases {
        let cfg = check(&edit(from, &to)).unwrap_or_else(|e| panic!("{to:?} refused: {e}"));
        // What is accepted also survives the round trip through the saved config.toml.
        let saved = toml::to_string(&cfg).unwrap();
        let again = ExperimentConfig::from_toml_str(&saved, Path::new("config.toml")).unwrap();
        assert_eq!(again, cfg, "{to:?}");
    }
}

#[test]
fn seeds_serialize_as_before_and_a_range_past_u64_max_is_an_error_not_a_panic() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct W {
        seeds: Seeds,
    }
    let list = W {
        seeds: Seeds::List(vec![0, 1, 5]),
    };
    assert_eq!(toml::to_string(&list).unwrap(), "seeds = [0, 1, 5]\n");
    let range = W {
        seeds: Seeds::Range {
            start: 0,
            count: 100,
        },
    };
    assert_eq!(
        toml::to_string(&range).unwrap(),
        "[seeds]\nstart = 0\ncount = 100\n"
    );
    assert_eq!(
        serde_json::to_string(&range.seeds).unwrap(),
        r#"{"start":0,"count":100}"#
    );
    let err = serde_json::from_str::<Seeds>(&format!(r#"{{"start": {}, "count": 1}}"#, u64::MAX))
        .unwrap_err();
    assert!(
        err.to_string().contains("goes past the largest seed"),
        "{err}"
    );
    let r: Seeds = serde_json::from_str(r#"{"start": 3, "count": 2}"#).unwrap();
    assert_eq!(r.to_vec(), vec![3, 4]);
    // Built in code rather than parsed: stops at u64::MAX instead of overflowing.
    let edge = Seeds::Range {
        start: u64::MAX,
        count: 2,
    };
    assert!(edge.to_vec().is_empty());
}

#[test]
fn binaries_can_check_their_overrides_and_the_task_count() {
    let (cap, cores) = max_threads();
    assert_eq!(cap, 4 * cores);
    check_threads(0, "--threads").unwrap();
    check_threads(cap, "--threads").unwrap();
    match check_threads(cap + 1, "--threads") {
        Err(SpecError::ConfigValue { key, message }) => {
            assert_eq!(key, "--threads");
            assert!(message.contains(&format!("at most {cap}")), "{message}");
            assert!(message.contains(&format!("{cores} cores")), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    check_output_dir(Path::new("results/a"), "output_dir").unwrap();
    assert!(check_output_dir(Path::new("/abs"), "output_dir").is_err());
    let cfg = check(TINY_GRID).unwrap();
    assert_eq!(cfg.data.n_tasks(), adatt_data::TASK_NAMES.len());
    assert_eq!(cfg.data.n_tasks(), 3);
}

#[test]
fn an_output_directory_that_cannot_be_created_is_named_with_the_cause() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("plain-file");
    std::fs::write(&file, "not a directory").unwrap();
    for dir in [
        file.join("out"),
        file.join("out").join("deeper"),
        file.clone(),
    ] {
        let err = lock_results_dir(&dir).unwrap_err();
        let shown = err.to_string();
        match &err {
            SpecError::Io { path, .. } => assert_eq!(path, &dir, "{shown}"),
            other => panic!("expected Io, got {other:?}"),
        }
        assert!(!shown.contains(".lock"), "{shown}");
        assert!(shown.contains("cannot create this directory"), "{shown}");
        assert!(
            shown.contains(&format!("{} exists and is not a directory", file.display())),
            "{shown}"
        );
    }
}

/// A simulated `group1` grid (click at 46 %, like at 1.9 %) of 700,000 rows in batches of 512
/// (1368 steps), for the refusals that depend on simulated data.
const SIM_GRID: &str = r#"
name = "sim"
[data]
source = "simulator"
preset = "group1"
train_rows = 700000
valid_rows = 10000
test_rows = 10000
embedding_dim = 4
[train]
batch_size = 512
epochs = 1
lr = 1e-3
checkpoints = [0.25]
[run]
seeds = [0]
[[entries]]
name = "SB"
model = { kind = "shared_bottom", bottom = [8], tower = [4] }
"#;

/// Settings a simulated grid cannot honour are refused, naming the key: a Census-only key, a
/// checkpoint evaluated twice or at the end (with the step it lands on), evaluation sets too
/// small to hold both classes, a relations override of the wrong size.
#[test]
fn simulated_grids_refuse_settings_they_cannot_honour() {
    let cases: [(&str, &str, &str, &str); 9] = [
        (
            "lr = 1e-3",
            "lr = 1e-3\nmax_train_rows = 2000",
            "train.max_train_rows",
            "acts on Census tables only",
        ),
        (
            "checkpoints = [0.25]",
            "checkpoints = [0.25, 0.25]",
            "train.checkpoints",
            "0.25 is listed twice",
        ),
        (
            "checkpoints = [0.25]",
            "checkpoints = [0.0002, 0.0005]",
            "train.checkpoints",
            "both land on step 1 of 1368",
        ),
        (
            "train_rows = 700000",
            "train_rows = 300",
            "train.checkpoints",
            "lands on step 1 of 1",
        ),
        (
            "checkpoints = [0.25]",
            "checkpoints = [0.9999]",
            "train.checkpoints",
            "the end of training",
        ),
        (
            "valid_rows = 10000",
            "valid_rows = 5",
            "data.valid_rows",
            "0.10 expected positives of task `like` (rate 0.019): too few for its AUC and NE; give at least 527 rows",
        ),
        (
            "valid_rows = 10000",
            "valid_rows = 1",
            "data.valid_rows",
            "0.46 expected positives of task `click`",
        ),
        (
            "test_rows = 10000",
            "test_rows = 3",
            "data.test_rows",
            "0.06 expected positives of task `like`",
        ),
        (
            "embedding_dim = 4",
            "embedding_dim = 4\nrelations = [[1.0]]",
            "data.relations",
            "1 rows for the preset's 2 tasks",
        ),
    ];
    let mut failures = Vec::new();
    for (from, to, want_key, fragment) in cases {
        assert!(SIM_GRID.contains(from), "{from}");
        let text = SIM_GRID.replacen(from, to, 1);
        match check(&text) {
            Err(SpecError::ConfigValue { key, message })
                if key == want_key && message.contains(fragment) => {}
            other => failures.push(format!(
                "{to:?}: want {want_key} with {fragment:?}, got {other:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    // The smallest sets the rule accepts: 53 rows expect 1.007 likes.
    let text = SIM_GRID.replacen("valid_rows = 10000", "valid_rows = 53", 1);
    check(&text).unwrap();
}

/// `selection = "mean_valid_ne"` needs an NE for every task: refused with a regression task
/// (group3's watch_time), naming the key and the task; accepted with binary tasks only (group1).
#[test]
fn mean_valid_ne_is_refused_with_a_regression_task() {
    let ne = SIM_GRID.replacen("lr = 1e-3", "lr = 1e-3\nselection = \"mean_valid_ne\"", 1);
    check(&ne).unwrap();
    let text = ne.replacen("preset = \"group1\"", "preset = \"group3\"", 1);
    match check(&text) {
        Err(SpecError::ConfigValue { key, message })
            if key == "train.selection" && message.contains("`watch_time`") => {}
        other => panic!("want train.selection naming watch_time, got {other:?}"),
    }
}

/// `users`, `items` and `relations` replace the preset's; a config without them keeps the
/// preset's world (and its record keys: `committed_records_of_every_experiment_config_are_planned`).
#[test]
fn a_simulated_world_takes_its_size_and_relations_from_the_data_section() {
    let text = SIM_GRID.replacen(
        "embedding_dim = 4",
        "embedding_dim = 4\nusers = 1000\nitems = 400\nrelations = [[1.0, 0.7], [0.7, 1.0]]",
        1,
    );
    let cfg = check(&text).unwrap();
    let sim = cfg.data.sim_config().unwrap();
    assert_eq!((sim.users, sim.items), (1000, 400));
    assert_eq!(sim.relations, vec![vec![1.0, 0.7], vec![0.7, 1.0]]);
    let preset = check(SIM_GRID).unwrap().data.sim_config().unwrap();
    assert_eq!((preset.users, preset.items), (50_000, 20_000));
    assert_eq!(preset.relations, vec![vec![1.0, 0.2], vec![0.2, 1.0]]);
    let e = check(&SIM_GRID.replacen("embedding_dim = 4", "embedding_dim = 4\nusers = 0", 1))
        .unwrap_err();
    assert!(
        matches!(&e, SpecError::ConfigValue { key, .. } if key == "data"),
        "{e}"
    );
    assert!(e.to_string().contains("users"), "{e}");
}
