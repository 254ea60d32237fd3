//! `make bench`: training samples/s per replica, s per replica-epoch, achieved GFLOP/s against
//! the analytic FLOP count of the dense-equivalent model, and peak memory, per architecture and
//! replica count, on CPU and (if present) CUDA; whole runs against a PyTorch peer; the simulator
//! against training. Writes `results/bench/bench.{md,csv}`. What is measured, and how, is
//! `adatt_bench`'s; this binary reads the arguments, answers the hidden arguments of its own
//! child processes, and writes the tables.

use std::path::{Path, PathBuf};

use adatt_bench::run::{self, ChildArgs, Devices};
use adatt_bench::{step, BenchConfig};
use adatt_experiment::overrides::resolve_threads;
use anyhow::{Context, Result};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Bench config.
    #[arg(long, default_value = "configs/bench.toml")]
    config: PathBuf,
    /// Output directory.
    #[arg(long, default_value = "results/bench")]
    out: PathBuf,
    /// Devices of the throughput rows (cuda only where present).
    #[arg(long, value_enum, default_value_t = Devices::Both)]
    devices: Devices,
    /// Intra-op threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Only replica counts up to this (e.g. 10 for a quick run).
    #[arg(long)]
    max_replicas: Option<usize>,
    /// CPU: measure with this many processes at once, each with THREADS/JOBS intra-op threads
    /// (as `table5 --jobs` trains); 0 = one per core. Overrides the config's `jobs` list. CUDA
    /// rows always use one process.
    #[arg(long)]
    jobs: Option<usize>,
    /// Only the simulated-data section (`[simulator]`): printed and written to OUT/simulator.md.
    #[arg(long)]
    simulator_only: bool,
    /// Only the PyTorch peer section (`[peer]`): printed and written to OUT/peer.md.
    #[arg(long)]
    peer_only: bool,
    #[command(flatten)]
    child: ChildArgs,
}

/// Creates `dir` and writes `text` to `dir`/`file`.
fn write_file(dir: &Path, file: &str, text: String) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(file);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Prints one section and writes it, under a title with the host, as `--out`/`file`.
fn write_section(a: &Args, file: &str, title: &str, md: &str) -> Result<()> {
    print!("{md}");
    let host = adatt_spec::manifest::host_description();
    let path = write_file(&a.out, file, format!("# {title}\n\nHost: {host}.\n{md}"))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn main() -> std::process::ExitCode {
    adatt_experiment::term::init();
    let a = Args::parse();
    adatt_experiment::term::finish(run(&a).map(|()| std::process::ExitCode::SUCCESS))
}

fn run(a: &Args) -> Result<()> {
    let cfg = BenchConfig::load(&a.config)?;
    let threads = resolve_threads(a.threads);
    tch::set_num_threads(threads as i32);
    if let Some(child) = a.child.request()? {
        println!("{}", run::child(&cfg, &a.config, child)?);
        return Ok(());
    }
    if a.simulator_only {
        let md = run::simulator_section(&cfg, &a.config, threads)?;
        let title = "Simulated data (bench --simulator-only)";
        return write_section(a, "simulator.md", title, &md);
    }
    if a.peer_only {
        let md = run::peer_section(&cfg, &a.config, threads)?;
        return write_section(a, "peer.md", "PyTorch peer (bench --peer-only)", &md);
    }
    let ds = run::census(&cfg, &a.config)?;
    let job_counts = a.jobs.map_or_else(|| cfg.jobs.clone(), |j| vec![j]);
    let sel = step::Selection {
        config: &a.config,
        devices: &a.devices.present(),
        job_counts: &job_counts,
        max_replicas: a.max_replicas,
        threads,
    };
    let (csv, md) = run::full(&cfg, &ds, &sel)?;
    write_file(&a.out, "bench.csv", csv)?;
    write_file(&a.out, "bench.md", md)?;
    eprintln!("wrote {}/bench.{{md,csv}}", a.out.display());
    Ok(())
}
