//! A two-phase study (`adatt_spec::StudyConfig`, e.g. Table 5) from the command line to its
//! results: train the tuning grid, choose each group's config on validation, train the final
//! grid with the choices, analyse. Each phase is resumable; `--jobs` runs each grid as shard
//! processes of this executable (given the grid config as resolved, `--resolved`), `--shard
//! k/N` one slice of each, and the final slice trains only once the whole tuning is recorded.

use std::path::PathBuf;
use std::process::ExitCode;

use adatt_spec::{read_all_records, Choice, StudyConfig};

use crate::args::{GridArgs, TrainArgs};
use crate::grid::{exit_code, print_analysis, train_grid, train_resolved, Participation};
use crate::{context, ExperimentError, Result};

/// Which part of a study to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Phase {
    /// Tuning, then the final grid, then the analysis.
    All,
    /// Only the tuning grid (and the choice).
    Tune,
    /// Only the analysis, from the records.
    Analyze,
}

/// The command line of a study binary.
#[derive(clap::Parser, Debug)]
pub struct StudyArgs {
    /// The study config and its overrides (`--seeds` overrides the final seeds).
    #[command(flatten)]
    pub grid: GridArgs,
    /// How to train its grids.
    #[command(flatten)]
    pub train: TrainArgs,
    /// Which part to run.
    #[arg(long, value_enum, default_value = "all")]
    pub phase: Phase,
}

/// The study config with its overrides, validated before any data is loaded.
struct Loaded {
    study: StudyConfig,
    /// Where the final grid's tables go (a `seeds-…` subdirectory for a seed override).
    report_dir: PathBuf,
}

fn load(g: &GridArgs) -> Result<Loaded> {
    let mut study = StudyConfig::load(&g.config)?;
    let configured_seeds = study.run.seeds.clone();
    g.overrides()?.apply(&mut study.data, &mut study.run);
    context(study.validate(study.data.n_tasks()), || {
        format!("config {}", g.config.display())
    })?;
    if let Some(o) = &g.out {
        study.output_dir = Some(o.clone());
    }
    let report_dir =
        crate::overrides::report_dir(&study.output_dir(), &configured_seeds, &study.run.seeds);
    Ok(Loaded { study, report_dir })
}

/// Runs `a.phase` of the study (see the module docs). Returns the exit code: success, or
/// `EXIT_RUNS_FAILED` when runs failed or diverged.
pub fn run_study(a: &StudyArgs) -> Result<ExitCode> {
    if a.train.resolved {
        return train_resolved(&a.grid, &a.train);
    }
    let Loaded { study, report_dir } = load(&a.grid)?;
    // A device that is not there is refused before any results directory is created.
    if a.phase != Phase::Analyze {
        adatt_engine::resolve_device(study.run.device)?;
    }
    let out = study.output_dir();
    let p = Participation {
        train: &a.train,
        head: &[],
    };
    let tuning = study.tuning_experiment();
    // One writing invocation per study's results (shard processes are its children).
    let _lock = match (a.phase, a.train.shard) {
        (Phase::All | Phase::Tune, None) => Some(adatt_spec::lock_results_dir(&out)?),
        _ => None,
    };
    let mut runs_failed = false;
    if a.phase != Phase::Analyze {
        runs_failed |= train_grid(&tuning, &p)?;
    }
    let tuning_dir = tuning.output_dir();
    let tuning_records = read_all_records(&tuning_dir)?;
    if a.phase == Phase::Analyze && tuning_records.is_empty() {
        crate::term::line(format!(
            "protocol {}: no tuning runs recorded in {}, nothing to analyze yet",
            study.data.label(),
            tuning_dir.display()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let choices = choose(&study, &tuning_dir)?;
    let choices_md = write_choices(&study, &choices)?;
    if a.phase == Phase::Tune {
        eprint!("{choices_md}");
        return Ok(exit_code(runs_failed));
    }
    let final_cfg = study.final_experiment(&choices);
    if a.phase == Phase::All {
        require_final(&choices, &a.train)?;
        runs_failed |= train_grid(&final_cfg, &p)?;
    }
    if a.train.shard.is_some() {
        crate::term::line(
            "shard done; run the analysis (`--phase analyze`, or `make figures`) once every \
             shard has finished",
        );
        return Ok(exit_code(runs_failed));
    }
    if !a.train.no_analysis {
        let notes = format!(
            "{}\n\nProtocol `{}`. {}:\n\n{}",
            study.description.trim(),
            study.data.label(),
            study.tuning.note.trim(),
            choices_md
        );
        let analysis = adatt_analysis::analyze_with(
            &final_cfg,
            adatt_analysis::Dirs {
                records: &out,
                report: &report_dir,
            },
            &format!("{} ({} protocol)", study.title(), study.data.label()),
            &notes,
            &[adatt_analysis::StageRef {
                name: "tuning",
                cfg: &tuning,
                dir: &tuning_dir,
                records: &tuning_records,
            }],
        )?;
        print_analysis(&analysis);
    }
    Ok(exit_code(runs_failed))
}

/// Each group's choice from the tuning records in `dir`.
fn choose(study: &StudyConfig, dir: &std::path::Path) -> Result<Vec<Choice>> {
    let records = read_all_records(dir)?;
    context(study.choose(&records), || {
        "choosing each group's config from the tuning runs".into()
    })
}

/// Writes `tuning.md` and `tuning.json` beside the study's results; returns the markdown.
fn write_choices(study: &StudyConfig, choices: &[Choice]) -> Result<String> {
    let out = study.output_dir();
    let md = StudyConfig::choices_md(choices, study.tuning.criterion);
    let failed: usize = choices.iter().map(|c| c.failed()).sum();
    if failed > 0 {
        crate::term::line(format!(
            "warning: {failed} tuning run(s) failed; the choice is made from the finished runs \
             (see {})",
            out.join("tuning.md").display()
        ));
    }
    let io = |source| {
        ExperimentError::Spec(adatt_spec::SpecError::Io {
            path: out.clone(),
            source,
        })
    };
    std::fs::create_dir_all(&out).map_err(io)?;
    adatt_spec::atomic::write(&out.join("tuning.md"), md.as_bytes())?;
    let json = serde_json::to_string_pretty(choices).expect("choices serialize");
    adatt_spec::atomic::write(&out.join("tuning.json"), json.as_bytes())?;
    Ok(md)
}

/// Refuses to train the final grid on a choice from a partial tuning.
fn require_final(choices: &[Choice], t: &TrainArgs) -> Result<()> {
    context(
        StudyConfig::require_final(choices).map(|_| ()),
        || match t.shard {
            Some(s) => format!(
                "shard {}/{} has trained its part of the tuning; the final grid waits for the \
             other shards' tuning runs: rerun this command once they are recorded",
                s.k, s.n
            ),
            None => "final grid".to_owned(),
        },
    )
}
