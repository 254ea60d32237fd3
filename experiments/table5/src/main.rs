//! `table5`: AdaTT Table 5 on Census-Income. Thin: parse args, load `configs/table5.toml`, run
//! the tuning grid, choose m_s, run the final grid, write the analysis. Resumable at every step.
//! Exit codes: 0, 1 error, 3 runs recorded as failed or diverged (see `adatt_train::term`).

use std::path::PathBuf;
use std::process::ExitCode;

use adatt_train::{
    consolidate_records, load_data, read_all_records, resolve_jobs, resolve_threads, run_grid,
    run_shards, ChildArgs, Consolidation, ExperimentConfig, GridOptions, Overrides, Shard,
    StudyConfig,
};
use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    /// Tuning, then the final grid, then the analysis.
    All,
    /// Only the tuning grid (and the choice).
    Tune,
    /// Only the analysis, from the records.
    Analyze,
    /// Internal (shard processes of `--jobs`): only the tuning grid.
    #[value(hide = true)]
    GridTune,
    /// Internal (shard processes of `--jobs`): only the final grid (tuning must be complete).
    #[value(hide = true)]
    GridFinal,
}

#[derive(Parser)]
#[command(about = "AdaTT Table 5 (Census-Income), paper beside ours")]
struct Args {
    /// Study config.
    #[arg(long, default_value = "configs/table5.toml")]
    config: PathBuf,
    /// Phase.
    #[arg(long, value_enum, default_value = "all")]
    phase: Phase,
    /// Final seeds: a count N (0..N) or a list "0,1,5".
    #[arg(long, env = "ADATT_SEEDS")]
    seeds: Option<String>,
    /// Protocol: paper or clean.
    #[arg(long, env = "ADATT_PROTOCOL")]
    protocol: Option<adatt_train::Protocol>,
    /// Intra-op threads.
    #[arg(long, env = "ADATT_THREADS")]
    threads: Option<usize>,
    /// cpu, cuda or auto.
    #[arg(long, env = "ADATT_DEVICE")]
    device: Option<adatt_train::DeviceChoice>,
    /// Replicas per group.
    #[arg(long, env = "ADATT_REPLICAS")]
    replicas: Option<usize>,
    /// Only this slice k/N of each grid. The final slice trains only once the whole tuning is
    /// recorded (all slices).
    #[arg(long)]
    shard: Option<Shard>,
    /// Shard processes per grid, each with ADATT_THREADS/ADATT_JOBS intra-op threads (0 = auto:
    /// one per core on the CPU, 1 on CUDA). Ignored with --shard.
    #[arg(long, env = "ADATT_JOBS", default_value_t = 0)]
    jobs: usize,
    /// Train runs recorded as failed or diverged again (a finished retry supersedes them).
    #[arg(long)]
    retry_failed: bool,
    /// Internal: the code revision to stamp on records (shard processes get their parent's).
    #[arg(long, hide = true)]
    code_revision: Option<String>,
}

impl Args {
    /// The arguments of shard process `shard` for `phase`.
    fn child(
        &self,
        phase: &str,
        shard: Shard,
        threads: usize,
        revision: Option<&str>,
    ) -> Vec<String> {
        let head = vec![
            "--config".to_owned(),
            self.config.display().to_string(),
            "--phase".to_owned(),
            phase.to_owned(),
        ];
        ChildArgs {
            seeds: self.seeds.clone(),
            protocol: self.protocol.map(|p| p.to_string()),
            device: self.device.map(|d| d.to_string()),
            replicas: self.replicas,
            code_revision: revision.map(str::to_owned),
            retry_failed: self.retry_failed,
        }
        .for_shard(head, shard, threads)
    }

    /// Whether this process is a shard process started by a parent (`--jobs`).
    fn is_child(&self) -> bool {
        matches!(self.phase, Phase::GridTune | Phase::GridFinal)
    }
}

/// Whether some grid of this invocation recorded failed or diverged runs (exit code 3).
#[derive(Clone, Copy, Default)]
struct Outcome {
    runs_failed: bool,
}

impl Outcome {
    fn add(&mut self, runs_failed: bool) {
        self.runs_failed |= runs_failed;
    }
    fn code(self) -> ExitCode {
        if self.runs_failed {
            ExitCode::from(adatt_train::term::EXIT_RUNS_FAILED)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// One grid phase: in this process (`--shard`, or one job), or as `jobs` shard processes.
/// Once the whole grid has run (not a `--shard` slice), its records are merged into one
/// `runs.jsonl`. Returns whether runs failed or diverged.
fn grid_phase(
    a: &Args,
    cfg: &ExperimentConfig,
    phase: &str,
    revision: Option<&str>,
) -> Result<bool> {
    let device = cfg.run.device.resolve()?;
    let jobs = resolve_jobs(a.jobs, device);
    if a.shard.is_some() {
        return grid(a, cfg, revision);
    }
    let runs_failed = if jobs <= 1 {
        grid(a, cfg, revision)?
    } else {
        let per_job = (resolve_threads(cfg.run.threads) / jobs).max(1);
        adatt_train::term::line(format!(
            "{}: {jobs} shard processes, {per_job} intra-op thread(s) each",
            cfg.name
        ));
        run_shards(jobs, |s| a.child(phase, s, per_job, revision))
            .with_context(|| format!("grid {}", cfg.name))?
            > 0
    };
    let dir = cfg.output_dir();
    match consolidate_records(&dir)
        .with_context(|| format!("merging the records of {}", cfg.name))?
    {
        Consolidation::Merged(n) => {
            eprintln!("{}: {n} records in {}/runs.jsonl", cfg.name, dir.display())
        }
        Consolidation::Busy => eprintln!(
            "{}: another process is using the records in {}; the shard files stay (they are \
             read as they are) and a later run merges them",
            cfg.name,
            dir.display()
        ),
    }
    Ok(runs_failed)
}

/// Trains this process's part of a grid. Returns whether runs failed or diverged.
fn grid(a: &Args, cfg: &ExperimentConfig, revision: Option<&str>) -> Result<bool> {
    let ds = load_data(&cfg.data).context("loading data")?;
    let device = cfg.run.device.resolve()?;
    let opts = GridOptions {
        out_dir: cfg.output_dir(),
        shard: a.shard,
        device,
        threads: resolve_threads(cfg.run.threads),
        replicas: cfg.run.resolve_replicas(device),
        command_line: std::env::args().collect(),
        // Shard processes of a parent share its terminal: only per-run lines, no bars.
        progress: !a.is_child(),
        code_revision: revision.map(str::to_owned),
        retry_failed: a.retry_failed,
    };
    let s = run_grid(cfg, &ds, &opts).with_context(|| format!("grid {}", cfg.name))?;
    adatt_train::term::line(format!(
        "{}: {} trained ({} failed, {} diverged) in {:.0} s",
        cfg.name, s.trained, s.failed, s.diverged, s.wall_s
    ));
    Ok(s.failed + s.diverged > 0)
}

/// Writes `text` to `path` atomically.
fn write(path: &std::path::Path, text: &str) -> Result<()> {
    adatt_train::atomic::write(path, text.as_bytes())?;
    Ok(())
}

fn main() -> ExitCode {
    adatt_train::term::init();
    let a = Args::parse();
    adatt_train::term::finish(run(&a))
}

fn run(a: &Args) -> Result<ExitCode> {
    let mut study = StudyConfig::load(&a.config)?;
    let configured_seeds = study.run.seeds.clone();
    let o = Overrides::parse(
        a.seeds.as_deref(),
        a.protocol,
        a.threads,
        a.device,
        a.replicas,
    )?;
    o.apply(&mut study.data, &mut study.run);
    // Every model config, before the data load.
    study
        .validate(study.data.n_tasks())
        .with_context(|| format!("config {}", a.config.display()))?;
    let out = study.output_dir();
    // Records are shared; a seed override's tables go to their own subdirectory.
    let report_dir = adatt_train::report_dir(&out, &configured_seeds, &study.run.seeds);
    // Taken once, here: every shard process stamps the same revision on its records.
    let revision = a
        .code_revision
        .clone()
        .or_else(adatt_train::manifest::git_revision);
    let revision = revision.as_deref();
    let mut outcome = Outcome::default();

    // One writing invocation per protocol's results (shard processes are its children).
    let _lock = match (a.phase, a.shard) {
        (Phase::All | Phase::Tune, None) => Some(adatt_train::lock_results_dir(&out)?),
        _ => None,
    };
    let tuning = study.tuning_experiment();
    match a.phase {
        Phase::All | Phase::Tune => outcome.add(grid_phase(a, &tuning, "grid-tune", revision)?),
        Phase::GridTune => {
            return Ok(Outcome {
                runs_failed: grid(a, &tuning, revision)?,
            }
            .code())
        }
        Phase::Analyze | Phase::GridFinal => {}
    }
    let tuning_dir = tuning.output_dir();
    let tuning_records = read_all_records(&tuning_dir)?;
    if a.phase == Phase::Analyze && tuning_records.is_empty() {
        eprintln!(
            "protocol {}: no tuning runs recorded in {}, nothing to analyze yet (run `make table5`)",
            study.data.protocol(),
            tuning_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let choices = study
        .choose(&tuning_records)
        .context("choosing m_s from the tuning runs")?;
    let choices_md = StudyConfig::choices_md(&choices);
    let failed: usize = choices.iter().map(|c| c.failed()).sum();
    if failed > 0 {
        eprintln!(
            "warning: {failed} tuning run(s) failed; m_s is chosen from the finished runs \
             (see {})",
            out.join("tuning.md").display()
        );
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    write(&out.join("tuning.md"), &choices_md)?;
    write(
        &out.join("tuning.json"),
        &serde_json::to_string_pretty(&choices)?,
    )?;
    if a.phase == Phase::Tune {
        eprint!("{choices_md}");
        return Ok(outcome.code());
    }
    if matches!(a.phase, Phase::All | Phase::GridFinal) {
        // Never train the final grid with a choice from a partial tuning.
        StudyConfig::require_final(&choices).with_context(|| match a.shard {
            Some(s) => format!(
                "shard {}/{} has trained its part of the tuning; the final grid waits for \
                 the other shards' tuning runs: rerun this command once they are recorded",
                s.k, s.n
            ),
            None => "final grid".to_owned(),
        })?;
    }
    let fin = study.final_experiment(&choices);
    match a.phase {
        Phase::GridFinal => {
            return Ok(Outcome {
                runs_failed: grid(a, &fin, revision)?,
            }
            .code());
        }
        Phase::All => outcome.add(grid_phase(a, &fin, "grid-final", revision)?),
        _ => {}
    }
    if a.shard.is_some() {
        eprintln!(
            "shard done; run `table5 --phase analyze` (or `make figures`) once every shard has \
             finished"
        );
        return Ok(outcome.code());
    }
    let notes = format!(
        "{}\n\nProtocol `{}`. Shared experts m_s tuned on validation (mean validation AUC sum over the tuning seeds):\n\n{}",
        study.description.trim(),
        study.data.protocol(),
        choices_md
    );
    let files = adatt_analysis::analyze_with(
        &fin,
        adatt_analysis::Dirs {
            records: &out,
            report: &report_dir,
        },
        &format!("Table 5 ({} protocol)", study.data.protocol()),
        &notes,
        &[adatt_analysis::StageRef {
            name: "tuning",
            cfg: &tuning,
            dir: &tuning_dir,
            records: &tuning_records,
        }],
    )?;
    for f in files {
        eprintln!("wrote {}", f.display());
    }
    let records = read_all_records(&out)?;
    eprintln!(
        "{}",
        adatt_analysis::terminal_table(&adatt_analysis::build_report(&fin, &records))
    );
    Ok(outcome.code())
}
