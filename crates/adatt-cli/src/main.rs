//! `adatt`: the project's command line.
//!
//! * `adatt data-summary` — rows, features and positive rate per task per split.
//! * `adatt run --config C.toml` — train a grid (resumable, `--shard k/N`), then analyse it.
//! * `adatt analyze --config C.toml` — regenerate tables and figures from the records only.
//! * `adatt weights init|check` and `adatt forward` — weight exchange with the official PyTorch
//!   code (`CentralTaskArch.state_dict()` names) and forward on a safetensors input.
//!
//! Exit codes: 0 success, 1 error (one line on stderr), 3 a grid recorded failed or diverged
//! runs (`--retry-failed` trains them again).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use adatt_data::{load_census, CensusConfig, Protocol};
use adatt_models::{InputSpec, Model, ModelConfig, ModelInput};
use adatt_train::{
    consolidate_records, resolve_jobs, resolve_threads, run_shards, ChildArgs, Consolidation,
    ExperimentConfig, GridOptions, Overrides, Shard,
};
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "adatt",
    version,
    about = "AdaTT reproduction: data, training grids, analysis, weight exchange"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProtocolArg {
    Paper,
    Clean,
    Both,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print rows, features and positive rate per task per split.
    DataSummary {
        /// Which preprocessing protocol(s).
        #[arg(long, value_enum, default_value = "both")]
        protocol: ProtocolArg,
        /// Directory with census-income.{data,test}.gz.
        #[arg(long, default_value = "data/census-income")]
        data_dir: PathBuf,
    },
    /// Train the runs of an experiment config that are not recorded yet, then analyse.
    Run {
        #[command(flatten)]
        common: RunArgs,
        /// Only this slice of the grid: k/N (1-based).
        #[arg(long)]
        shard: Option<Shard>,
        /// Skip the analysis step.
        #[arg(long)]
        no_analysis: bool,
        /// Train runs recorded as failed or diverged again (a finished retry supersedes them).
        #[arg(long)]
        retry_failed: bool,
        /// Shard processes, each with THREADS/JOBS intra-op threads (0 = auto: one per core on
        /// the CPU, 1 on CUDA; 1 on a machine with one core). Ignored with --shard.
        #[arg(long, env = "ADATT_JOBS", default_value_t = 0)]
        jobs: usize,
        /// Internal (shard processes of --jobs): the parent's code revision.
        #[arg(long, hide = true)]
        code_revision: Option<String>,
    },
    /// Regenerate tables and figures from the records (no training).
    Analyze {
        #[command(flatten)]
        common: RunArgs,
    },
    /// Weight exchange with the official PyTorch model code.
    Weights {
        #[command(subcommand)]
        cmd: WeightsCmd,
    },
    /// Run a model's forward on a safetensors input and write the outputs.
    Forward {
        /// Model file (TOML: input_dim, n_tasks, [model]).
        #[arg(long)]
        model: PathBuf,
        /// Weights with the official state_dict names.
        #[arg(long)]
        weights: PathBuf,
        /// safetensors file with an f32 tensor `input` of shape [B, input_dim].
        #[arg(long)]
        input: PathBuf,
        /// Output safetensors (tensor `output`, [B, n_tasks] logits).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum WeightsCmd {
    /// Initialise a model with our seeded init and export it with the official names.
    Init {
        /// Model file (TOML: input_dim, n_tasks, [model]).
        #[arg(long)]
        model: PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output safetensors.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import weights (names and shapes checked), re-export them and confirm the round trip.
    Check {
        /// Model file.
        #[arg(long)]
        model: PathBuf,
        /// Weights.
        #[arg(long)]
        weights: PathBuf,
        /// Optional re-export path.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Experiment config (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Override the seeds: a count N (seeds 0..N) or a list "0,1,5".
    #[arg(long, env = "ADATT_SEEDS")]
    seeds: Option<String>,
    /// Override the data protocol.
    #[arg(long, env = "ADATT_PROTOCOL")]
    protocol: Option<adatt_data::Protocol>,
    /// Override the output directory (may be anywhere; a config's own `output_dir` must stay
    /// inside the project).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Intra-op threads (default: config, else all cores).
    #[arg(long, env = "ADATT_THREADS")]
    threads: Option<usize>,
    /// Device: cpu, cuda or auto.
    #[arg(long, env = "ADATT_DEVICE")]
    device: Option<adatt_train::DeviceChoice>,
    /// Replicas per group.
    #[arg(long, env = "ADATT_REPLICAS")]
    replicas: Option<usize>,
}

impl RunArgs {
    /// The config with the overrides applied and validated (model configs included, before
    /// any data is loaded), and the directory its analysis goes to (a `seeds-…` subdirectory
    /// of the results for a seed override; see `seeds_subdir`).
    fn load(&self) -> Result<(ExperimentConfig, PathBuf)> {
        let mut cfg = ExperimentConfig::load(&self.config)?;
        let configured_seeds = cfg.run.seeds.clone();
        let configured_protocol = cfg.data.protocol();
        let in_config = || format!("config {}", self.config.display());
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
        cfg.validate(cfg.data.n_tasks()).with_context(in_config)?;
        // An explicit --out may point anywhere (checked after the config's own output_dir).
        if let Some(o) = &self.out {
            cfg.output_dir = Some(o.clone());
        }
        let report = adatt_train::report_dir(&cfg.output_dir(), &configured_seeds, &cfg.run.seeds);
        Ok((cfg, report))
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    input_dim: usize,
    n_tasks: usize,
    model: ModelConfig,
}

fn load_model_file(path: &Path) -> Result<(ModelConfig, InputSpec)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let f: ModelFile =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    f.model
        .validate(f.n_tasks)
        .with_context(|| format!("model in {}", path.display()))?;
    let spec = InputSpec {
        n_features: f.input_dim,
        numeric_cols: (0..f.input_dim).collect(),
        n_cat: 0,
        n_tasks: f.n_tasks,
    };
    Ok((f.model, spec))
}

fn main() -> ExitCode {
    adatt_train::term::init();
    let cli = Cli::parse();
    adatt_train::term::finish(run(cli))
}

fn run(cli: Cli) -> Result<ExitCode> {
    let mut code = ExitCode::SUCCESS;
    match cli.cmd {
        Cmd::DataSummary { protocol, data_dir } => {
            let ps: &[Protocol] = match protocol {
                ProtocolArg::Paper => &[Protocol::Paper],
                ProtocolArg::Clean => &[Protocol::Clean],
                ProtocolArg::Both => &[Protocol::Paper, Protocol::Clean],
            };
            for &p in ps {
                let t = std::time::Instant::now();
                let ds = load_census(&CensusConfig {
                    data_dir: data_dir.clone(),
                    protocol: p,
                    split_seed: 1,
                })
                .with_context(|| format!("loading Census-Income from {}", data_dir.display()))?;
                println!(
                    "protocol {p} (loaded in {:.1} s)",
                    t.elapsed().as_secs_f64()
                );
                println!("{}", ds.summary());
            }
        }
        Cmd::Run {
            common,
            shard,
            no_analysis,
            retry_failed,
            jobs,
            code_revision,
        } => {
            let (cfg, report_dir) = common.load()?;
            let out_dir = cfg.output_dir();
            let device = cfg.run.device.resolve()?;
            let jobs = resolve_jobs(jobs, device);
            // Only shard processes started by a parent get --code-revision.
            let is_child = code_revision.is_some();
            let revision = code_revision.or_else(adatt_train::manifest::git_revision);
            if shard.is_none() && jobs > 1 {
                // The parent: holds the directory, runs the shards, merges, analyses.
                let _lock = adatt_train::lock_results_dir(&out_dir)?;
                let per_job = (resolve_threads(cfg.run.threads) / jobs).max(1);
                adatt_train::term::line(format!(
                    "{}: {jobs} shard processes, {per_job} intra-op thread(s) each",
                    cfg.name
                ));
                let child = ChildArgs {
                    seeds: common.seeds.clone(),
                    protocol: common.protocol.map(|p| p.to_string()),
                    device: common.device.map(|d| d.to_string()),
                    replicas: common.replicas,
                    code_revision: revision,
                    retry_failed,
                };
                let mut head = vec!["run".to_owned(), "--config".to_owned()];
                head.push(common.config.display().to_string());
                head.push("--no-analysis".to_owned());
                if let Some(o) = &common.out {
                    head.extend(["--out".to_owned(), o.display().to_string()]);
                }
                let with_failed =
                    run_shards(jobs, |s| child.for_shard(head.clone(), s, per_job))
                        .with_context(|| format!("running {}", common.config.display()))?;
                if with_failed > 0 {
                    code = ExitCode::from(adatt_train::term::EXIT_RUNS_FAILED);
                }
                match consolidate_records(&out_dir)? {
                    Consolidation::Merged(n) => eprintln!(
                        "{}: {n} records in {}",
                        cfg.name,
                        out_dir.join("runs.jsonl").display()
                    ),
                    Consolidation::Busy => eprintln!(
                        "{}: another process is using the records; the shard files stay",
                        cfg.name
                    ),
                }
            } else {
                // One process: the whole grid, or one shard of it.
                let _lock = match shard {
                    None => Some(adatt_train::lock_results_dir(&out_dir)?),
                    Some(_) => None,
                };
                let ds = adatt_train::load_data(&cfg.data).context("loading data")?;
                let opts = GridOptions {
                    out_dir: out_dir.clone(),
                    shard,
                    device,
                    threads: resolve_threads(cfg.run.threads),
                    replicas: cfg.run.resolve_replicas(device),
                    command_line: std::env::args().collect(),
                    // A shard started by a parent shares its terminal: per-run lines, no bars.
                    progress: !is_child,
                    code_revision: revision,
                    retry_failed,
                };
                let s = adatt_train::run_grid(&cfg, &ds, &opts)
                    .with_context(|| format!("running {}", common.config.display()))?;
                eprintln!(
                    "{}: {} trained ({} failed, {} diverged) in {:.1} s -> {}",
                    cfg.name,
                    s.trained,
                    s.failed,
                    s.diverged,
                    s.wall_s,
                    s.records.display()
                );
                code = s.exit_code();
            }
            if !no_analysis {
                analyze(&cfg, &out_dir, &report_dir)?;
            }
        }
        Cmd::Analyze { common } => {
            let (cfg, report_dir) = common.load()?;
            analyze(&cfg, &cfg.output_dir(), &report_dir)?;
        }
        Cmd::Weights { cmd } => match cmd {
            WeightsCmd::Init { model, seed, out } => {
                let (cfg, spec) = load_model_file(&model)?;
                let m = Model::new(&cfg, &spec, &[seed], tch::Device::Cpu)?;
                m.save_replica_safetensors(0, &out)?;
                eprintln!(
                    "{}: {} parameters -> {}",
                    cfg.label(),
                    m.params_per_replica(),
                    out.display()
                );
            }
            WeightsCmd::Check {
                model,
                weights,
                out,
            } => {
                let (cfg, spec) = load_model_file(&model)?;
                let mut m = Model::new(&cfg, &spec, &[0], tch::Device::Cpu)?;
                m.load_replica_safetensors(0, &weights)
                    .with_context(|| format!("importing {}", weights.display()))?;
                let back = m.export_replica(0);
                let orig = tch::Tensor::read_safetensors(&weights)?;
                for (name, t) in &back {
                    let o = orig.iter().find(|(n, _)| n == name).map(|(_, t)| t);
                    match o {
                        Some(o) if o.equal(t) => {}
                        _ => bail!("round trip changed `{name}`"),
                    }
                }
                if let Some(out) = out {
                    m.save_replica_safetensors(0, &out)?;
                }
                eprintln!(
                    "{}: {} tensors, {} parameters, round trip exact",
                    cfg.label(),
                    back.len(),
                    m.params_per_replica()
                );
            }
        },
        Cmd::Forward {
            model,
            weights,
            input,
            out,
        } => {
            let (cfg, spec) = load_model_file(&model)?;
            let mut m = Model::new(&cfg, &spec, &[0], tch::Device::Cpu)?;
            m.load_replica_safetensors(0, &weights)
                .with_context(|| format!("importing {}", weights.display()))?;
            let ts = tch::Tensor::read_safetensors(&input)?;
            let x = ts
                .iter()
                .find(|(n, _)| n == "input")
                .map(|(_, t)| t.to_kind(tch::Kind::Float))
                .with_context(|| format!("{}: no tensor named `input`", input.display()))?;
            if x.dim() != 2 || x.size()[1] != spec.n_features as i64 {
                bail!(
                    "{}: `input` must be [B, {}], got {:?}",
                    input.display(),
                    spec.n_features,
                    x.size()
                );
            }
            let y = tch::no_grad(|| m.forward(&ModelInput::Dense(&x.unsqueeze(0)))).squeeze_dim(0);
            tch::Tensor::write_safetensors(&[("output", &y)], &out)?;
            eprintln!("wrote {} ({:?})", out.display(), y.size());
        }
    }
    Ok(code)
}

/// Writes the tables and figures of `cfg` from the records, then prints the short results
/// table.
fn analyze(cfg: &ExperimentConfig, records: &Path, report: &Path) -> Result<()> {
    let dirs = adatt_analysis::Dirs { records, report };
    let files = adatt_analysis::analyze(cfg, dirs, &cfg.name, &cfg.description)?;
    for f in &files {
        eprintln!("wrote {}", f.display());
    }
    let recs = adatt_train::read_all_records(records)?;
    eprintln!(
        "{}",
        adatt_analysis::terminal_table(&adatt_analysis::build_report(cfg, &recs))
    );
    Ok(())
}
