//! `table5 --shard k/N` on its own: the final grid never trains with a choice from a partial
//! tuning. Each shard trains its part of the tuning; the final part waits until the whole
//! tuning is recorded.

use std::path::Path;
use std::process::Output;

/// A tiny study: one group with two candidates to tune (2 tuning seeds), one without.
fn study() -> String {
    adatt_testkit::config_head("t5tiny", true, 2048, "", "seeds = [0]\nthreads = 1")
        + r#"
[tuning]
seeds = [10, 11]
[[groups]]
name = "SB"
candidates = [
  { label = "wide", model = { kind = "shared_bottom", bottom = [16, 8], tower = [8] } },
  { label = "narrow", model = { kind = "shared_bottom", bottom = [8, 4], tower = [4] } },
]
[[groups]]
name = "AdaTT-sp"
candidates = [
  { label = "1", model = { kind = "adatt_sp", task_experts = 1, expert_dims = [[8], [4]], tower = [4] } },
]
"#
}

fn table5(cwd: &Path, args: &[&str]) -> Output {
    adatt_testkit::command(env!("CARGO_BIN_EXE_table5"), cwd)
        .args(["--config", "study.toml"])
        .args(args)
        .output()
        .expect("table5 runs")
}

fn lines(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|it| {
            it.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("runs"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap().lines().count())
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_shard_never_trains_the_final_grid_on_a_partial_tuning() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("study.toml"), study()).unwrap();
    // the clean protocol's results go to results/<name>/clean
    let results = d.path().join("results/t5tiny/clean");
    let tuning = results.join("tuning");

    // Shard 1 alone: its 2 of the 4 tuning runs, then a refusal naming what is missing.
    let o = table5(d.path(), &["--shard", "1/2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the tuning is not complete: SB (2 of 4 tuning runs recorded)"),
        "{err}"
    );
    assert_eq!((lines(&tuning), lines(&results)), (2, 0), "{err}");

    // Shard 2 completes the tuning and trains its part of the final grid; shard 1 then its.
    for (k, final_runs) in [("2/2", 1), ("1/2", 2)] {
        let o = table5(d.path(), &["--shard", k]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "shard {k}: {err}");
        assert_eq!((lines(&tuning), lines(&results)), (4, final_runs), "{err}");
    }
    let o = table5(d.path(), &["--phase", "analyze"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let md = std::fs::read_to_string(results.join("tuning.md")).unwrap();
    assert!(!md.contains("provisional"), "{md}");
    assert!(results.join("table.md").exists());
}
