//! The experiment layer: one grid config (`configs/*.toml`) from the command line to its
//! results. `adatt run` / `adatt analyze` and the experiment binaries (`experiments/ablation`,
//! `expert_count`, `fusion_levels`, `expert_weights`) are thin wrappers around [`run`] and
//! [`analyze`]: parse [`GridArgs`] and [`TrainArgs`], call, exit with the code.
//!
//! [`run`] loads the config with its overrides and validates it (model configs included,
//! before any data is loaded), then trains its missing runs: as `--jobs` shard processes of
//! this executable (the parent holds the results lock, merges the shards' records and
//! analyses), as one `--shard k/N` slice, or in this process; then writes the analysis.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use adatt_train::{
    consolidate_records, resolve_jobs, resolve_threads, run_shards, ChildArgs, Consolidation,
    DeviceChoice, ExperimentConfig, GridOptions, Overrides, Protocol, Shard,
};

/// Errors of the experiment layer.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// Configuring, loading data, training or recording failed.
    #[error(transparent)]
    Train(#[from] adatt_train::TrainError),
    /// Writing the tables or figures failed.
    #[error(transparent)]
    Analysis(#[from] adatt_analysis::AnalysisError),
    /// A failure with what was being done.
    #[error("{context}")]
    Context {
        /// What was being done, e.g. `running configs/table7.toml`.
        context: String,
        /// The failure.
        #[source]
        source: Box<ExperimentError>,
    },
}

/// Result alias.
pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;

fn context<T, E: Into<ExperimentError>>(
    r: std::result::Result<T, E>,
    what: impl FnOnce() -> String,
) -> Result<T> {
    r.map_err(|e| ExperimentError::Context {
        context: what(),
        source: Box::new(e.into()),
    })
}

/// Which grid, with which overrides.
#[derive(clap::Args, Clone, Debug)]
pub struct GridArgs {
    /// Experiment config (TOML).
    #[arg(long)]
    pub config: PathBuf,
    /// Override the seeds: a count N (seeds 0..N) or a list "0,1,5".
    #[arg(long, env = "ADATT_SEEDS")]
    pub seeds: Option<String>,
    /// Override the data protocol: paper or clean.
    #[arg(long, env = "ADATT_PROTOCOL")]
    pub protocol: Option<Protocol>,
    /// Override the output directory (may be anywhere; a config's own `output_dir` must stay
    /// inside the project).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Intra-op threads (default: config, else all cores).
    #[arg(long, env = "ADATT_THREADS")]
    pub threads: Option<usize>,
    /// Device: cpu, cuda or auto.
    #[arg(long, env = "ADATT_DEVICE")]
    pub device: Option<DeviceChoice>,
    /// Replicas per group.
    #[arg(long, env = "ADATT_REPLICAS")]
    pub replicas: Option<usize>,
}

/// How to train a grid.
#[derive(clap::Args, Clone, Debug)]
pub struct TrainArgs {
    /// Only this slice of the grid: k/N (1-based).
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Skip the analysis step.
    #[arg(long)]
    pub no_analysis: bool,
    /// Train runs recorded as failed or diverged again (a finished retry supersedes them).
    #[arg(long)]
    pub retry_failed: bool,
    /// Shard processes, each with THREADS/JOBS intra-op threads (0 = auto: one per core on
    /// the CPU, 1 on CUDA). Ignored with --shard.
    #[arg(long, env = "ADATT_JOBS", default_value_t = 0)]
    pub jobs: usize,
    /// Internal (shard processes of --jobs): the parent's code revision.
    #[arg(long, hide = true)]
    pub code_revision: Option<String>,
}

impl GridArgs {
    /// The config with the overrides applied and validated (model configs included, before
    /// any data is loaded), and the directory its analysis goes to (a `seeds-…` subdirectory
    /// of the results for a seed override; see `adatt_train::seeds_subdir`).
    pub fn load(&self) -> Result<(ExperimentConfig, PathBuf)> {
        let mut cfg = ExperimentConfig::load(&self.config)?;
        let configured_seeds = cfg.run.seeds.clone();
        let configured_protocol = cfg.data.protocol();
        let o = Overrides::parse(
            self.seeds.as_deref(),
            self.protocol,
            self.threads,
            self.device,
            self.replicas,
        )?;
        o.apply(&mut cfg.data, &mut cfg.run);
        // Another protocol's results go to their own subdirectory (the default output directory
        // names the protocol already).
        if let (true, Some(dir)) = (cfg.data.protocol() != configured_protocol, &cfg.output_dir) {
            cfg.output_dir = Some(dir.join(cfg.data.protocol().to_string()));
        }
        context(cfg.validate(cfg.data.n_tasks()), || {
            format!("config {}", self.config.display())
        })?;
        // An explicit --out may point anywhere (checked after the config's own output_dir).
        if let Some(o) = &self.out {
            cfg.output_dir = Some(o.clone());
        }
        let report = adatt_train::report_dir(&cfg.output_dir(), &configured_seeds, &cfg.run.seeds);
        Ok((cfg, report))
    }

    /// The arguments of shard process `shard`, after `head` (the subcommand of the binary,
    /// if it has one).
    fn child(
        &self,
        t: &TrainArgs,
        head: &[&str],
        revision: Option<String>,
    ) -> (ChildArgs, Vec<String>) {
        let mut argv: Vec<String> = head.iter().map(|s| s.to_string()).collect();
        argv.extend([
            "--config".to_owned(),
            self.config.display().to_string(),
            "--no-analysis".to_owned(),
        ]);
        if let Some(o) = &self.out {
            argv.extend(["--out".to_owned(), o.display().to_string()]);
        }
        let child = ChildArgs {
            seeds: self.seeds.clone(),
            protocol: self.protocol.map(|p| p.to_string()),
            device: self.device.map(|d| d.to_string()),
            replicas: self.replicas,
            code_revision: revision,
            retry_failed: t.retry_failed,
        };
        (child, argv)
    }
}

/// Trains the grid's missing runs (see the module docs), then analyses unless `--no-analysis`.
/// `head` is the argument list that makes this executable run a grid again (`["run"]` for
/// `adatt`, empty for an experiment binary), for its shard processes. Returns the exit code:
/// success, or `EXIT_RUNS_FAILED` when runs failed or diverged.
pub fn run(g: &GridArgs, t: &TrainArgs, head: &[&str]) -> Result<ExitCode> {
    let (cfg, report_dir) = g.load()?;
    let out_dir = cfg.output_dir();
    let device = cfg.run.device.resolve()?;
    let jobs = resolve_jobs(t.jobs, device);
    // Only shard processes started by a parent get --code-revision.
    let is_child = t.code_revision.is_some();
    let revision = t
        .code_revision
        .clone()
        .or_else(adatt_train::manifest::git_revision);
    let running = || format!("running {}", g.config.display());
    let mut code = ExitCode::SUCCESS;
    if t.shard.is_none() && jobs > 1 {
        // The parent: holds the directory, runs the shards, merges, analyses.
        let _lock = adatt_train::lock_results_dir(&out_dir)?;
        let per_job = (resolve_threads(cfg.run.threads) / jobs).max(1);
        adatt_train::term::line(format!(
            "{}: {jobs} shard processes, {per_job} intra-op thread(s) each",
            cfg.name
        ));
        let (child, argv) = g.child(t, head, revision);
        let with_failed = context(
            run_shards(jobs, |s| child.for_shard(argv.clone(), s, per_job)),
            running,
        )?;
        if with_failed > 0 {
            code = ExitCode::from(adatt_train::term::EXIT_RUNS_FAILED);
        }
        match consolidate_records(&out_dir)? {
            Consolidation::Merged(n) => adatt_train::term::line(format!(
                "{}: {n} records in {}",
                cfg.name,
                out_dir.join("runs.jsonl").display()
            )),
            Consolidation::Busy => adatt_train::term::line(format!(
                "{}: another process is using the records; the shard files stay",
                cfg.name
            )),
        }
    } else {
        // One process: the whole grid, or one shard of it.
        let _lock = match t.shard {
            None => Some(adatt_train::lock_results_dir(&out_dir)?),
            Some(_) => None,
        };
        let ds = context(adatt_train::load_data(&cfg.data), || "loading data".into())?;
        let opts = GridOptions {
            out_dir: out_dir.clone(),
            shard: t.shard,
            device,
            threads: resolve_threads(cfg.run.threads),
            replicas: cfg.run.resolve_replicas(device),
            command_line: std::env::args().collect(),
            // A shard started by a parent shares its terminal: per-run lines, no bars.
            progress: !is_child,
            code_revision: revision,
            retry_failed: t.retry_failed,
        };
        let s = context(adatt_train::run_grid(&cfg, &ds, &opts), running)?;
        adatt_train::term::line(format!(
            "{}: {} trained ({} failed, {} diverged) in {:.1} s -> {}",
            cfg.name,
            s.trained,
            s.failed,
            s.diverged,
            s.wall_s,
            s.records.display()
        ));
        code = s.exit_code();
    }
    if !t.no_analysis {
        write_analysis(&cfg, &out_dir, &report_dir)?;
    }
    Ok(code)
}

/// The tables and figures of a grid from its records only (no training).
pub fn analyze(g: &GridArgs) -> Result<()> {
    let (cfg, report_dir) = g.load()?;
    write_analysis(&cfg, &cfg.output_dir(), &report_dir)
}

/// Writes the tables and figures of `cfg` from the records, then prints the short results
/// table.
fn write_analysis(cfg: &ExperimentConfig, records: &Path, report: &Path) -> Result<()> {
    let dirs = adatt_analysis::Dirs { records, report };
    let files = adatt_analysis::analyze(cfg, dirs, &cfg.name, &cfg.description)?;
    for f in &files {
        adatt_train::term::line(format!("wrote {}", f.display()));
    }
    let recs = adatt_train::read_all_records(records)?;
    adatt_train::term::line(adatt_analysis::terminal_table(
        &adatt_analysis::build_report(cfg, &recs),
    ));
    Ok(())
}

/// The command line of an experiment binary: its grid (`--config` defaults to the
/// experiment's own config), how to train it, or only its analysis.
#[derive(clap::Parser, Debug)]
pub struct ExperimentArgs {
    /// The grid and its overrides.
    #[command(flatten)]
    pub grid: GridArgs,
    /// How to train it.
    #[command(flatten)]
    pub train: TrainArgs,
    /// Only write the tables and figures from the records (no training).
    #[arg(long)]
    pub analyze: bool,
}

/// The whole `main` of an experiment binary whose config is `default_config`: set-up, argument
/// parsing (with `about` as the help text), [`run`] or [`analyze`], the exit code.
pub fn experiment_main(about: &'static str, default_config: &'static str) -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    adatt_train::term::init();
    let cmd = ExperimentArgs::command()
        .about(about)
        .mut_arg("config", |a| {
            a.default_value(default_config).required(false)
        });
    let args = match ExperimentArgs::from_arg_matches(&cmd.get_matches()) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    let result = if args.analyze {
        analyze(&args.grid).map(|()| ExitCode::SUCCESS)
    } else {
        run(&args.grid, &args.train, &[])
    };
    adatt_train::term::finish(result.map_err(Box::<dyn std::error::Error + Send + Sync>::from))
}
