//! `baselines`: the paper's Tables 1-4 on the simulated task groups. Thin: a study config
//! (`configs/baselines/group1.toml` for Tables 1 and 2, `group2.toml` for Table 3, `group3.toml`
//! for Table 4; `--config` picks one) through the experiment layer
//! (`adatt_experiment::run_study`): the tuning grid of expert counts on the validation stream,
//! the choice per model, the final grid over seeds paired with Shared-bottom, the analysis;
//! resumable at every step. Exit codes: 0, 1 error, 3 runs recorded as failed or diverged.

fn main() -> std::process::ExitCode {
    adatt_experiment::study_main(
        "AdaTT Tables 1-4 on the simulated task groups (configs/baselines/group1.toml, group2, group3)",
        "configs/baselines/group1.toml",
    )
}
