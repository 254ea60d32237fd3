//! `table5`: AdaTT Table 5 on Census-Income. Thin: parse args, load `configs/table5.toml`, run
//! the tuning grid, choose m_s, run the final grid, write the analysis. Resumable at every step.

use std::path::PathBuf;

use adatt_train::{
    consolidate_records, load_data, read_all_records, resolve_jobs, resolve_threads, run_grid,
    run_shards, ExperimentConfig, GridOptions, Overrides, Shard, StudyConfig,
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
    #[arg(long, env = "SEEDS")]
    seeds: Option<String>,
    /// Protocol: paper or clean.
    #[arg(long, env = "PROTOCOL")]
    protocol: Option<String>,
    /// Intra-op threads.
    #[arg(long, env = "THREADS")]
    threads: Option<usize>,
    /// cpu, cuda or auto.
    #[arg(long, env = "DEVICE")]
    device: Option<String>,
    /// Replicas per group.
    #[arg(long, env = "REPLICAS")]
    replicas: Option<usize>,
    /// Only this slice k/N of each grid.
    #[arg(long)]
    shard: Option<Shard>,
    /// Shard processes per grid, each with THREADS/JOBS intra-op threads (0 = auto: one per
    /// core on the CPU, 1 on CUDA). Ignored with --shard.
    #[arg(long, env = "JOBS", default_value_t = 0)]
    jobs: usize,
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
        let mut v = vec![
            "--config".to_owned(),
            self.config.display().to_string(),
            "--phase".to_owned(),
            phase.to_owned(),
            "--shard".to_owned(),
            format!("{}/{}", shard.k, shard.n),
            "--threads".to_owned(),
            threads.to_string(),
        ];
        for (flag, val) in [
            ("--seeds", self.seeds.clone()),
            ("--protocol", self.protocol.clone()),
            ("--device", self.device.clone()),
            ("--replicas", self.replicas.map(|r| r.to_string())),
            ("--code-revision", revision.map(str::to_owned)),
        ] {
            if let Some(val) = val {
                v.extend([flag.to_owned(), val]);
            }
        }
        v
    }
}

/// One grid phase: in this process (`--shard`, or one job), or as `jobs` shard processes.
/// Once the whole grid has run (not a `--shard` slice), its records are merged into one
/// `runs.jsonl`.
fn grid_phase(a: &Args, cfg: &ExperimentConfig, phase: &str, revision: Option<&str>) -> Result<()> {
    let device = cfg.run.device.resolve()?;
    let jobs = resolve_jobs(a.jobs, device);
    if a.shard.is_some() {
        return grid(cfg, a.shard, revision);
    }
    if jobs <= 1 {
        grid(cfg, None, revision)?;
    } else {
        let per_job = (resolve_threads(cfg.run.threads) / jobs).max(1);
        eprintln!(
            "{}: {jobs} shard processes, {per_job} intra-op thread(s) each",
            cfg.name
        );
        run_shards(jobs, |s| a.child(phase, s, per_job, revision))
            .with_context(|| format!("grid {}", cfg.name))?;
    }
    let n = consolidate_records(&cfg.output_dir())
        .with_context(|| format!("merging the records of {}", cfg.name))?;
    eprintln!(
        "{}: {n} records in {}/runs.jsonl",
        cfg.name,
        cfg.output_dir().display()
    );
    Ok(())
}

fn grid(cfg: &ExperimentConfig, shard: Option<Shard>, revision: Option<&str>) -> Result<()> {
    let ds = load_data(&cfg.data).context("loading data")?;
    let device = cfg.run.device.resolve()?;
    let opts = GridOptions {
        out_dir: cfg.output_dir(),
        shard,
        device,
        threads: resolve_threads(cfg.run.threads),
        replicas: cfg.run.resolve_replicas(device),
        command_line: std::env::args().collect(),
        progress: true,
        code_revision: revision.map(str::to_owned),
    };
    let s = run_grid(cfg, &ds, &opts).with_context(|| format!("grid {}", cfg.name))?;
    eprintln!(
        "{}: {} planned, {} already recorded, {} trained ({} failed) in {:.0} s",
        cfg.name, s.planned, s.skipped, s.trained, s.failed, s.wall_s
    );
    Ok(())
}

fn main() -> Result<()> {
    // Before any libtorch or rayon thread exists, so that every worker inherits it.
    adatt_train::runtime::init();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let a = Args::parse();
    let mut study = StudyConfig::load(&a.config)?;
    let configured_seeds = study.run.seeds.clone();
    let o = Overrides::parse(
        a.seeds.as_deref(),
        a.protocol.as_deref(),
        a.threads,
        a.device.as_deref(),
        a.replicas,
    )?;
    o.apply(&mut study.data, &mut study.run);
    let out = study.output_dir();
    // Records are shared; a seed override's tables go to their own subdirectory.
    let report_dir = adatt_train::report_dir(&out, &configured_seeds, &study.run.seeds);
    // Taken once, here: every shard process stamps the same revision on its records.
    let revision = a
        .code_revision
        .clone()
        .or_else(adatt_train::manifest::git_revision);
    let revision = revision.as_deref();

    // One writing invocation per protocol's results (shard processes are its children).
    let _lock = match (a.phase, a.shard) {
        (Phase::All | Phase::Tune, None) => Some(adatt_train::lock_results_dir(&out)?),
        _ => None,
    };
    let tuning = study.tuning_experiment();
    match a.phase {
        Phase::All | Phase::Tune => grid_phase(&a, &tuning, "grid-tune", revision)?,
        Phase::GridTune => return grid(&tuning, a.shard, revision),
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
        return Ok(());
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
    std::fs::write(out.join("tuning.md"), &choices_md)?;
    std::fs::write(
        out.join("tuning.json"),
        serde_json::to_string_pretty(&choices)?,
    )?;
    if a.phase == Phase::GridFinal {
        return grid(&study.final_experiment(&choices), a.shard, revision);
    }
    if a.phase == Phase::Tune {
        eprint!("{choices_md}");
        return Ok(());
    }
    let fin = study.final_experiment(&choices);
    if a.phase == Phase::All {
        grid_phase(&a, &fin, "grid-final", revision)?;
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
    Ok(())
}
