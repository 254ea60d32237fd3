//! Test support shared by the workspace's tests (a dev-dependency only): the committed Census
//! data, the head of a tiny config, and a binary run without the caller's `ADATT_*` settings.
//! It depends on no workspace crate, so every crate's tests can use it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The committed Census-Income directory (`data/census-income` at the workspace root) of the
/// checkout whose tests run: found from the run-time `CARGO_MANIFEST_DIR` of the crate under
/// test (every crate sits two levels below the root), so that a test binary built in another
/// checkout sharing the target directory still reads this checkout's data.
pub fn census_dir() -> PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    crate_dir.join("../../data/census-income")
}

/// The head of a tiny experiment config on the `clean` Census protocol: `name`, `[data]` (with
/// `data_dir = census_dir()` when `with_data_dir`; tests that never load data leave it out),
/// `[train]` with one epoch of batch 256 at lr 5e-3 on `max_train_rows` rows plus `train`
/// lines, and `[run]` with the `run` lines. Entries, sweeps and analysis go after it.
pub fn config_head(
    name: &str,
    with_data_dir: bool,
    max_train_rows: usize,
    train: &str,
    run: &str,
) -> String {
    let data_dir = if with_data_dir {
        format!("data_dir = \"{}\"\n", census_dir().display())
    } else {
        String::new()
    };
    format!(
        "name = \"{name}\"\n[data]\nsource = \"census\"\nprotocol = \"clean\"\n{data_dir}\
         [train]\nbatch_size = 256\nepochs = 1\nlr = 5e-3\nmax_train_rows = {max_train_rows}\n\
         {train}\n[run]\n{run}\n"
    )
}

/// A tiny two-entry grid without a data directory (for tests that only parse, validate or
/// train in-process on data they load themselves): shared-bottom and AdaTT-sp (2 experts per
/// task, with paper values), 2 seeds as 2 replicas, DWA weighting, a checkpoint at 25 %, and
/// one comparison.
pub const TINY_GRID: &str = r#"
name = "tiny"
description = "engine test"
[data]
source = "census"
protocol = "clean"
[train]
batch_size = 256
epochs = 2
lr = 5e-3
weight_decay = 0.01
task_weighting = { kind = "dwa" }
checkpoints = [0.25]
max_train_rows = 8192
[run]
seeds = [0, 1]
replicas = 2
threads = 1
[[entries]]
name = "SB"
setting = "tiny"
model = { kind = "shared_bottom", bottom = [32, 16], tower = [8] }
[[entries]]
name = "AdaTT-sp"
setting = "tiny"
model = { kind = "adatt_sp", task_experts = 2, expert_dims = [[16], [8]], tower = [8] }
paper = { education = 0.87, income = 0.92, never_married = 0.97 }
[analysis]
comparisons = [{ a = "AdaTT-sp", b = "SB" }]
"#;

/// `bin` run with no `ADATT_*` variable of the caller's environment (a developer's `SEEDS` or
/// `ADATT_THREADS` must not change a test), in `cwd`, with `ADATT_ALLOW_DIRTY=1`: tests train
/// from a developer's checkout, which often has uncommitted changes (the refusal without it
/// is tested by removing the variable).
pub fn command(bin: impl AsRef<OsStr>, cwd: &Path) -> Command {
    let mut c = Command::new(bin);
    c.current_dir(cwd);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ADATT_") {
            c.env_remove(k);
        }
    }
    c.env("ADATT_ALLOW_DIRTY", "1");
    c
}

/// The names of the entries of `dir`, sorted.
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The records of a `runs.jsonl` file, one JSON value per line.
pub fn records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_census_dir_holds_the_committed_data() {
        assert!(census_dir().join("census-income.data.gz").is_file());
    }

    #[test]
    fn a_command_drops_the_callers_adatt_settings() {
        // Set one in the environment the command would inherit, then ask `env` what it sees.
        std::env::set_var("ADATT_TESTKIT_PROBE", "1");
        let out = command("env", Path::new("/")).output().unwrap();
        let env = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success());
        assert!(!env.contains("ADATT_TESTKIT_PROBE"), "{env}");
        assert!(env.contains("PATH="), "{env}");
    }

    #[test]
    fn the_head_puts_the_given_lines_in_their_tables() {
        let h = config_head(
            "t",
            false,
            2048,
            "record_expert_weights = true",
            "seeds = [0]",
        );
        assert!(h.starts_with("name = \"t\"\n[data]\n"));
        assert!(
            h.contains("max_train_rows = 2048\nrecord_expert_weights = true\n[run]\nseeds = [0]\n"),
            "{h}"
        );
        assert!(!h.contains("data_dir"));
    }
}
