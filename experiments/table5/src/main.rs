//! `table5`: AdaTT Table 5 on Census-Income. Thin: parse args, load `configs/table5.toml`, run
//! the tuning grid, choose m_s, run the final grid, write the analysis. Resumable at every step.

use std::path::PathBuf;

use adatt_train::{
    load_data, read_all_records, resolve_threads, run_grid, ExperimentConfig, GridOptions,
    Overrides, Shard, StudyConfig,
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
}

fn grid(cfg: &ExperimentConfig, shard: Option<Shard>) -> Result<()> {
    let ds = load_data(&cfg.data).context("loading data")?;
    let opts = GridOptions {
        out_dir: cfg.output_dir(),
        shard,
        device: cfg.run.device.resolve()?,
        threads: resolve_threads(cfg.run.threads),
        replicas: cfg.run.replicas,
        command_line: std::env::args().collect(),
        progress: true,
    };
    let s = run_grid(cfg, &ds, &opts).with_context(|| format!("grid {}", cfg.name))?;
    eprintln!(
        "{}: {} planned, {} already recorded, {} trained ({} failed) in {:.0} s",
        cfg.name, s.planned, s.skipped, s.trained, s.failed, s.wall_s
    );
    Ok(())
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let a = Args::parse();
    let mut study = StudyConfig::load(&a.config)?;
    let o = Overrides::parse(
        a.seeds.as_deref(),
        a.protocol.as_deref(),
        a.threads,
        a.device.as_deref(),
        a.replicas,
    )?;
    o.apply(&mut study.data, &mut study.run);
    let out = study.output_dir();

    let tuning = study.tuning_experiment();
    if a.phase != Phase::Analyze {
        grid(&tuning, a.shard)?;
    }
    let tuning_records = read_all_records(&tuning.output_dir())?;
    let choices = study
        .choose(&tuning_records)
        .context("choosing m_s from the tuning runs")?;
    let choices_md = StudyConfig::choices_md(&choices);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("tuning.md"), &choices_md)?;
    std::fs::write(
        out.join("tuning.json"),
        serde_json::to_string_pretty(&choices)?,
    )?;
    if a.phase == Phase::Tune {
        eprint!("{choices_md}");
        return Ok(());
    }
    let fin = study.final_experiment(&choices);
    if a.phase == Phase::All {
        grid(&fin, a.shard)?;
    }
    let notes = format!(
        "{}\n\nProtocol `{}`. Shared experts m_s tuned on validation (mean validation AUC sum over the tuning seeds):\n\n{}",
        study.description.trim(),
        study.data.protocol(),
        choices_md
    );
    let files = adatt_analysis::analyze(
        &fin,
        &out,
        &format!("Table 5 ({} protocol)", study.data.protocol()),
        &notes,
    )?;
    for f in files {
        eprintln!("wrote {}", f.display());
    }
    Ok(())
}
