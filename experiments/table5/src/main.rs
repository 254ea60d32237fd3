//! `table5`: AdaTT Table 5 on Census-Income. Thin: `configs/table5.toml` (or `--config`), a
//! two-phase study, through the experiment layer (`adatt_experiment::run_study`): the tuning
//! grid, the choice of m_s on validation, the final grid, the analysis; resumable at every
//! step. Exit codes: 0, 1 error, 3 runs recorded as failed or diverged.

fn main() -> std::process::ExitCode {
    adatt_experiment::study_main(
        "AdaTT Table 5 (Census-Income), paper beside ours (configs/table5.toml)",
        "configs/table5.toml",
    )
}
