//! `adatt`: the project's command line.
//!
//! * `adatt data-summary` — rows, features and positive rate per task per split.
//! * `adatt run --config C.toml` — train a grid (resumable, `--shard k/N`), then analyse it.
//! * `adatt analyze --config C.toml` — regenerate tables and figures from the records only.
//! * `adatt load-table --config C.toml` — a table config's data read, split, encoded and made
//!   into tensors, without training: rows per split, task rates, vocabularies, seconds and memory.
//! * `adatt predict --run DIR --out preds.parquet` — a run trained on a table predicts on rows
//!   of its schema; `adatt export --run DIR --out DIR2` writes it for PyTorch.
//! * `adatt simulate --preset group3 --rows N --out sample.parquet` — a sample of a simulated
//!   task group (Parquet or CSV) and its statistics beside the configured task relations.
//! * `adatt weights init|check` and `adatt forward` — weight exchange with the official PyTorch
//!   code (`CentralTaskArch.state_dict()` names) and forward on a safetensors input.
//! * `adatt parity --config C.toml --device cuda` — one training step of every entry on CUDA
//!   against the CPU (or, on the CPU, the sparse kernels against the dense path).
//!
//! Exit codes: 0 success, 1 error (one line on stderr), 2 a command-line usage error (clap's
//! message), 3 a grid recorded failed or diverged runs (`--retry-failed` trains them again).
//!
//! Every file a command writes is written whole or not at all (`adatt_spec::atomic`).

mod load_table;
mod predict;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use adatt_data::{load_census, CensusConfig, Protocol};
use adatt_experiment::{GridArgs, TrainArgs};
use adatt_models::{tensor_file, InputSpec, Model, ModelConfig, ModelInput};
use anyhow::{bail, Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

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
        #[arg(long, default_value = adatt_data::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Train the runs of an experiment config that are not recorded yet, then analyse.
    Run {
        #[command(flatten)]
        grid: GridArgs,
        #[command(flatten)]
        train: TrainArgs,
    },
    /// Regenerate tables and figures from the records (no training).
    Analyze {
        #[command(flatten)]
        grid: GridArgs,
    },
    /// Read, split and encode a table config's data and make its tensors, without training:
    /// rows per split, each task's training rate or mean, vocabulary sizes, seconds and peak
    /// memory.
    LoadTable {
        /// An experiment config with `[data] source = "table"`.
        #[arg(long)]
        config: PathBuf,
    },
    /// Predict with a run trained on a table: each row's output per task (probability or
    /// value) beside `--keep` columns, as Parquet or CSV; the trainer's metrics when the rows
    /// have labels.
    Predict(predict::PredictArgs),
    /// Write a run trained on a table for PyTorch: model.safetensors (official names) and
    /// model.json (architecture, inputs, encodings); scripts/pylib/adatt_export.py loads them.
    Export {
        #[command(flatten)]
        run: predict::RunArgs,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a sample of a simulated task group and print its statistics: per task the positive
    /// rate (or mean), the measured label correlations beside the configured relations, and how
    /// concentrated the ids are.
    Simulate {
        /// A preset: group1, group2, group3 or fig3 (configs/sim/).
        #[arg(long, conflicts_with = "spec", required_unless_present = "spec")]
        preset: Option<String>,
        /// Or a simulator config file (TOML, the presets' schema).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Rows to generate.
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// World seed (latents, task directions, calibration).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Which stream.
        #[arg(long, value_enum, default_value = "train")]
        stream: StreamArg,
        /// Output file: .parquet or .csv.
        #[arg(long)]
        out: PathBuf,
    },
    /// Weight exchange with the official PyTorch model code.
    Weights {
        #[command(subcommand)]
        cmd: WeightsCmd,
    },
    /// One training step (forward, losses, backward) of every entry of a Census grid config on
    /// the first training rows, on `--device`/`--input` against the CPU's dense path: prints the
    /// largest differences and fails if one exceeds `--tolerance`.
    Parity {
        /// A Census grid config (its entries, data and `[train]`).
        #[arg(long)]
        config: PathBuf,
        /// Device of the compared step.
        #[arg(long, default_value = "cuda")]
        device: adatt_spec::DeviceChoice,
        /// Input path of the compared step.
        #[arg(long, default_value = "auto")]
        input: adatt_spec::InputMode,
        /// Training rows in the batch (at least 1).
        #[arg(long, default_value_t = 512, value_parser = parse_rows)]
        rows: usize,
        /// Largest absolute difference allowed (outputs, losses, gradients): a finite number >= 0.
        #[arg(long, default_value_t = 1e-4, value_parser = parse_tolerance)]
        tolerance: f64,
        /// Also write the differences as JSON here.
        #[arg(long)]
        out: Option<PathBuf>,
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

#[derive(Clone, Copy, ValueEnum)]
enum StreamArg {
    Train,
    Valid,
    Test,
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

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    input_dim: usize,
    n_tasks: usize,
    model: ModelConfig,
}

/// `--rows`: at least 1.
fn parse_rows(s: &str) -> std::result::Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("the step needs at least 1 row".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// `--tolerance`: a finite number >= 0.
fn parse_tolerance(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(t) if t.is_finite() && t >= 0.0 => Ok(t),
        Ok(_) => Err("the tolerance must be a finite number >= 0".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The tensors of the safetensors file `path`, given as `flag`.
fn read_tensors(path: &Path, flag: &str) -> Result<Vec<(String, tch::Tensor)>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read {flag} {}", path.display()))?;
    tensor_file::from_bytes(&bytes).with_context(|| format!("{flag} {}", path.display()))
}

/// Writes `tensors` as the safetensors file `out`, whole or not at all.
fn write_tensors(tensors: &[(String, tch::Tensor)], out: &Path) -> Result<()> {
    let bytes = tensor_file::to_bytes(tensors)?;
    Ok(adatt_spec::atomic::write(out, &bytes)?)
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

fn simulate(
    preset: Option<&str>,
    spec: Option<&Path>,
    rows: usize,
    seed: u64,
    stream: StreamArg,
    out: &Path,
) -> Result<()> {
    use adatt_data::sim::{presets, sample, SimConfig, SimStats, SimStream, Simulator};
    let format = sample::SampleFormat::of(out)?;
    if rows == 0 {
        bail!("--rows: must be at least 1 (a sample of no rows has no statistics)");
    }
    let (cfg, source) = match (preset, spec) {
        (Some(name), _) => (presets::preset(name)?, format!("preset {name}")),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let source = path.display().to_string();
            (SimConfig::from_toml_str(&text, &source)?, source)
        }
        (None, None) => bail!("give --preset or --spec"),
    };
    cfg.check_memory(rows, "--rows", &source)?;
    let t = std::time::Instant::now();
    let sim = Simulator::named(&cfg, seed, &source)?;
    let setup_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let stream = match stream {
        StreamArg::Train => SimStream::Train,
        StreamArg::Valid => SimStream::Valid,
        StreamArg::Test => SimStream::Test,
    };
    let sampled = sim.rows(stream, 0, rows);
    let gen_s = t.elapsed().as_secs_f64();
    adatt_spec::atomic::write_with(out, |f| sample::write_to(&cfg, &sampled, format, f))?;
    let report = format!(
        "{}\nworld seed {seed}: set-up (latents, calibration on {} rows) {setup_s:.2} s; {rows} \
         rows generated in {gen_s:.2} s ({:.0} rows/s, {} threads) -> {}\n\n{}",
        cfg.description.trim(),
        cfg.calibration_rows,
        rows as f64 / gen_s,
        rayon::current_num_threads(),
        out.display(),
        SimStats::of(&cfg, &sampled).markdown() + &oracle_markdown(&sim, stream, rows)
    );
    // The sample is complete; a reader that stops early (`| head`) is not an error.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), report.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing the statistics to stdout")
        }
        _ => Ok(()),
    }
}

/// The Bayes limit on the sampled rows: per task the best possible prediction's NE (against
/// the configured rate) or MSE, and its AUC.
fn oracle_markdown(
    sim: &adatt_data::sim::Simulator,
    stream: adatt_data::sim::SimStream,
    rows: usize,
) -> String {
    let metrics = adatt_spec::oracle::oracle_metrics(sim, stream, rows);
    let mut s = String::from(
        "\nBayes limit on these rows (the best possible prediction from the ids and dense \
         features):\n\n| task | oracle NE (MSE for regression) | oracle AUC |\n|---|---|---|\n",
    );
    for (task, m) in sim.config().tasks.iter().zip(metrics) {
        let (value, auc) = match task.kind {
            adatt_data::TaskKind::Binary => (m.ne, format!("{:.4}", m.auc)),
            adatt_data::TaskKind::Regression => (m.loss, "–".to_owned()),
        };
        s.push_str(&format!("| {} | {value:.4} | {auc} |\n", task.name));
    }
    s
}

fn main() -> ExitCode {
    adatt_experiment::term::init();
    let cmd = Cli::command();
    let cli = match cmd
        .clone()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => adatt_experiment::exit_on_parse_error(&cmd, e),
    };
    adatt_experiment::term::finish(run(cli))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.cmd {
        Cmd::DataSummary { protocol, data_dir } => data_summary(protocol, &data_dir)?,
        Cmd::Run { grid, train } => {
            return Ok(adatt_experiment::run(&grid, &train, &["run"])?);
        }
        Cmd::Analyze { grid } => adatt_experiment::analyze(&grid)?,
        Cmd::LoadTable { config } => load_table::load_table(&config)?,
        Cmd::Predict(a) => predict::predict(&a)?,
        Cmd::Export { run, out } => predict::export(&run, &out)?,
        Cmd::Simulate {
            preset,
            spec,
            rows,
            seed,
            stream,
            out,
        } => simulate(preset.as_deref(), spec.as_deref(), rows, seed, stream, &out)?,
        Cmd::Weights { cmd } => weights(cmd)?,
        Cmd::Parity {
            config,
            device,
            input,
            rows,
            tolerance,
            out,
        } => return parity(&config, device, input, rows, tolerance, out.as_deref()),
        Cmd::Forward {
            model,
            weights,
            input,
            out,
        } => forward(&model, &weights, &input, &out)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `adatt data-summary`: per protocol asked for, the rows, features and positive rate per task
/// per split of the Census files in `data_dir` (the paper's split seed).
fn data_summary(protocol: ProtocolArg, data_dir: &Path) -> Result<()> {
    let ps: &[Protocol] = match protocol {
        ProtocolArg::Paper => &[Protocol::Paper],
        ProtocolArg::Clean => &[Protocol::Clean],
        ProtocolArg::Both => &[Protocol::Paper, Protocol::Clean],
    };
    for &p in ps {
        let t = std::time::Instant::now();
        let ds = load_census(&CensusConfig {
            data_dir: data_dir.to_owned(),
            protocol: p,
            split_seed: adatt_data::PAPER_SPLIT_SEED,
        })
        .with_context(|| format!("loading Census-Income from {}", data_dir.display()))?;
        println!(
            "protocol {p} (loaded in {:.1} s)",
            t.elapsed().as_secs_f64()
        );
        println!("{}", ds.summary());
    }
    Ok(())
}

/// `adatt weights init|check`.
fn weights(cmd: WeightsCmd) -> Result<()> {
    match cmd {
        WeightsCmd::Init { model, seed, out } => {
            let (cfg, spec) = load_model_file(&model)?;
            let m = Model::new(&cfg, &spec, &[seed], tch::Device::Cpu)?;
            write_tensors(&m.export_replica(0), &out)?;
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
            let orig = read_tensors(&weights, "--weights")?;
            m.import_replica(0, &orig)
                .with_context(|| format!("importing --weights {}", weights.display()))?;
            let back = m.export_replica(0);
            for (name, t) in &back {
                let o = orig.iter().find(|(n, _)| n == name).map(|(_, t)| t);
                match o {
                    Some(o) if o.equal(t) => {}
                    _ => bail!("round trip changed `{name}`"),
                }
            }
            if let Some(out) = out {
                write_tensors(&back, &out)?;
            }
            eprintln!(
                "{}: {} tensors, {} parameters, round trip exact",
                cfg.label(),
                back.len(),
                m.params_per_replica()
            );
        }
    }
    Ok(())
}

/// `adatt forward`: the model's logits on `input`, written to `out`.
fn forward(model: &Path, weights: &Path, input: &Path, out: &Path) -> Result<()> {
    let (cfg, spec) = load_model_file(model)?;
    let mut m = Model::new(&cfg, &spec, &[0], tch::Device::Cpu)?;
    m.import_replica(0, &read_tensors(weights, "--weights")?)
        .with_context(|| format!("importing --weights {}", weights.display()))?;
    let x = read_tensors(input, "--input")?
        .into_iter()
        .find(|(n, _)| n == "input")
        .map(|(_, t)| t.to_kind(tch::Kind::Float))
        .with_context(|| format!("--input {}: no tensor named `input`", input.display()))?;
    if x.dim() != 2 || x.size()[1] != spec.n_features as i64 {
        bail!(
            "--input {}: `input` must be [B, {}], got {:?}",
            input.display(),
            spec.n_features,
            x.size()
        );
    }
    let y = tch::no_grad(|| m.forward(&ModelInput::Dense(&x.unsqueeze(0)))).squeeze_dim(0);
    let size = y.size();
    write_tensors(&[("output".to_owned(), y)], out)?;
    eprintln!("wrote {} ({size:?})", out.display());
    Ok(())
}

fn parity(
    config: &Path,
    device: adatt_spec::DeviceChoice,
    input: adatt_spec::InputMode,
    rows: usize,
    tolerance: f64,
    out: Option<&Path>,
) -> Result<ExitCode> {
    use adatt_engine::parity::{parity, Side};
    let cfg = adatt_spec::ExperimentConfig::load(config)?;
    let census = cfg
        .data
        .census()
        .with_context(|| format!("{}: parity needs Census data", config.display()))?;
    let device = adatt_engine::resolve_device(device)?;
    let ds = load_census(&census)?;
    let reference = Side {
        device: tch::Device::Cpu,
        input: adatt_spec::InputMode::Dense,
    };
    let other = Side { device, input };
    let mut report = Vec::new();
    let mut worst = 0.0f64;
    println!(
        "one training step on {rows} rows: {device:?} {:?} against Cpu Dense (largest |difference|)",
        adatt_engine::resolve_input(input, device)
    );
    for e in &cfg.entries {
        let p = parity(&ds, &e.model, &cfg.train, reference, other, rows)?;
        println!(
            "{:<24} outputs {:.2e}  losses {:.2e}  gradients {:.2e} ({})",
            e.name, p.outputs, p.losses, p.gradients, p.worst_parameter
        );
        worst = worst.max(p.outputs).max(p.losses).max(p.gradients);
        report.push(serde_json::json!({ "entry": e.name, "parity": p }));
    }
    if let Some(out) = out {
        adatt_spec::atomic::write(out, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    if worst > tolerance {
        eprintln!("parity: largest difference {worst:.2e} exceeds the tolerance {tolerance:.0e}");
        return Ok(ExitCode::FAILURE);
    }
    println!("parity: largest difference {worst:.2e}, within {tolerance:.0e}");
    Ok(ExitCode::SUCCESS)
}
